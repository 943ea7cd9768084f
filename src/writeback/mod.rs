//! Write-back: every final outcome posted to the ledger's callback, once (DESIGN.md
//! decision 10). It runs as an outbox job (kind `writeback`), enqueued in the same
//! transaction that reaches the final state, so it is retried until the ledger acknowledges
//! and can never be enqueued twice. The ledger deduplicates by the `idempotency-key` header
//! (the settlement id), which makes a retry after a lost acknowledgement harmless.
//!
//! The job dispatches on the ledger's kind: an `http` ledger gets the POST below, an `evm`
//! ledger gets `recordOutcome` on chain ([`crate::ledger::evm::sink`]).
//!
//! Two more jobs post to the same callback, each once per settlement, each under its own
//! idempotency key so that the ledger does not take them for a repeat of the outcome:
//! `correction` (reconciliation found a return on the statement for a settlement written back
//! as settled: `outcome` is the corrected one, `corrects` the one it replaces; key
//! `<settlement>:correction`) and `refund` (an operator resolved a break with
//! `refund_requested`: `outcome` is `refund_requested`, the amount is the break's amount at
//! risk, `break_id` names it; key `<settlement>:refund`). Corridor does not originate payments
//! of its own: money moves only on a ledger event, so a refund is the ledger's to instruct,
//! and it comes back through intake as a settlement like any other.

pub mod batch;

use crate::config::Config;
use crate::store::settlements::Record;
use serde::Serialize;
use std::sync::Arc;
use std::time::Duration;

/// The body posted to a ledger (see schemas/ledger/writeback.schema.json).
#[derive(Debug, Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct WritebackBody {
    pub settlement_id: String,
    pub ledger: String,
    pub event_id: String,
    pub outcome: String,
    pub reason_code: Option<String>,
    pub reason: Option<String>,
    pub uetr: Option<String>,
    pub amount: String,
    pub currency: String,
    pub final_at: String,
    /// On a correction: the outcome written back before, which this one replaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<String>,
    /// On a refund request: the break an operator resolved with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_id: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum WritebackError {
    #[error("settlement {0} is not in a final state")]
    NotFinal(String),
    #[error("ledger {0:?} is not configured")]
    UnknownLedger(String),
    #[error("POST {url}: {why}")]
    Post { url: String, why: String },
}

impl WritebackBody {
    pub fn from_record(record: &Record, uetr: Option<&str>) -> Result<Self, WritebackError> {
        let s = &record.settlement;
        if !record.state.is_final() {
            return Err(WritebackError::NotFinal(s.id.to_string()));
        }
        let final_at_ms = record.final_at_ms.unwrap_or(record.updated_at_ms);
        let final_at =
            time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(final_at_ms) * 1_000_000)
                .ok()
                .and_then(|t| {
                    t.format(&time::format_description::well_known::Rfc3339)
                        .ok()
                })
                .unwrap_or_default();
        Ok(WritebackBody {
            settlement_id: s.id.to_string(),
            ledger: s.ledger.clone(),
            event_id: s.event_id.clone(),
            outcome: record.state.as_str().to_string(),
            reason_code: record.reason_code.clone(),
            reason: record.reason.clone(),
            uetr: uetr.map(str::to_string),
            amount: s.amount.to_decimal_string(),
            currency: s.amount.currency().code().to_string(),
            final_at,
            corrects: None,
            break_id: None,
        })
    }
}

/// Posts write-backs, or records them on chain for an `evm` ledger. Cheap to clone.
#[derive(Clone)]
pub struct Writer {
    http: reqwest::Client,
    config: Arc<Config>,
    /// The sink of each `evm` ledger, by ledger id (shared with the ledgers' followers).
    evm: crate::ledger::evm::sink::Sinks,
    /// The batcher of each ledger with a `callback_batch_url`, started on its first outcome.
    batchers: Arc<std::sync::Mutex<std::collections::HashMap<String, batch::Batcher>>>,
}

impl Writer {
    pub fn new(config: Arc<Config>, evm: crate::ledger::evm::sink::Sinks) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.writeback.timeout_ms))
            .build()
            .expect("an HTTP client with default TLS builds");
        Writer {
            http,
            config,
            evm,
            batchers: Default::default(),
        }
    }

    /// Posts the outcome; Ok once the ledger answered 2xx (or has no callback configured). To
    /// a ledger with a `callback_batch_url`, in a batch with other outcomes ([`batch`]).
    pub async fn post(&self, record: &Record, uetr: Option<&str>) -> Result<(), WritebackError> {
        let body = WritebackBody::from_record(record, uetr)?;
        if let Some(batcher) = self.batcher(&record.settlement.ledger)? {
            return batcher.post(record.settlement.id.as_str(), body).await;
        }
        self.post_body(
            &record.settlement.ledger,
            record.settlement.id.as_str(),
            &body,
        )
        .await
    }

    /// The batcher of `ledger_id`, when it takes batches; started on first use.
    fn batcher(&self, ledger_id: &str) -> Result<Option<batch::Batcher>, WritebackError> {
        let ledger = self
            .config
            .ledger(ledger_id)
            .ok_or_else(|| WritebackError::UnknownLedger(ledger_id.to_string()))?;
        let Some(url) = &ledger.callback_batch_url else {
            return Ok(None);
        };
        let mut batchers = self.batchers.lock().expect("batchers lock");
        let batcher = batchers.entry(ledger_id.to_string()).or_insert_with(|| {
            let secret = ledger.writeback_secret.as_ref().expect(
                "config check: a callback_batch_url has a callback_url and a writeback_secret",
            );
            batch::Batcher::start(
                self.http.clone(),
                url.clone(),
                secret.expose().to_vec(),
                &self.config.writeback,
            )
        });
        Ok(Some(batcher.clone()))
    }

    /// Posts `body` to the ledger's callback under the idempotency key `key`.
    pub async fn post_body(
        &self,
        ledger_id: &str,
        key: &str,
        body: &WritebackBody,
    ) -> Result<(), WritebackError> {
        let ledger = self
            .config
            .ledger(ledger_id)
            .ok_or_else(|| WritebackError::UnknownLedger(ledger_id.to_string()))?;
        let Some(url) = &ledger.callback_url else {
            return Ok(());
        };
        let body = serde_json::to_vec(body).expect("write-back body serialises");
        let secret = ledger
            .writeback_secret
            .as_ref()
            .expect("config check: a callback_url has a writeback_secret");
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let post_err = |why: String| WritebackError::Post {
            url: url.clone(),
            why,
        };
        let response = self
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("idempotency-key", key)
            .header(
                webhook::SIGNATURE_HEADER,
                webhook::sign(secret.expose(), now, &body),
            )
            .body(body)
            .send()
            .await
            .map_err(|e| post_err(e.to_string()))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            let text = response.text().await.unwrap_or_default();
            Err(post_err(format!(
                "HTTP {status}: {}",
                text.chars().take(200).collect::<String>()
            )))
        }
    }
}

impl crate::dispatch::Handler for Writer {
    /// A `writeback` job: posts the final outcome, then records that the ledger has it. A
    /// `correction` or `refund` job: posts the correction or the refund request.
    fn handle<'a>(
        &'a self,
        job: &'a crate::store::outbox::Job,
        record: &'a Record,
        cx: &'a crate::dispatch::Context<'a>,
    ) -> futures::future::BoxFuture<'a, Result<crate::dispatch::Outcome, crate::dispatch::JobError>>
    {
        Box::pin(async move {
            use crate::store::outbox::Kind;
            if matches!(job.kind, Kind::Correction | Kind::Refund) {
                return self.notice(job.kind, record, cx).await;
            }
            if let Some(sink) = self.evm.get(&record.settlement.ledger) {
                return sink.record(record, cx).await;
            }
            let uetr = cx.stored_uetr().await?;
            cx.renew_grouped_for(self.config.writeback.timeout_ms)
                .await?;
            self.post(record, uetr.as_deref())
                .await
                .map_err(|e| crate::dispatch::JobError::Attempt(format!("write-back: {e}")))?;
            crate::crash_point!("writeback.after_send");
            Ok(crate::dispatch::Outcome::WrittenBack)
        })
    }
}

impl Writer {
    /// A `correction` or `refund` job for `record`: builds the body and posts it once.
    async fn notice(
        &self,
        kind: crate::store::outbox::Kind,
        record: &Record,
        cx: &crate::dispatch::Context<'_>,
    ) -> Result<crate::dispatch::Outcome, crate::dispatch::JobError> {
        use crate::dispatch::{JobError, Outcome};
        use crate::store::outbox::Kind;
        let sid = &record.settlement.id;
        if let Some(sink) = self.evm.get(&record.settlement.ledger) {
            // Appended to the outcome on chain (recordCorrection / requestRefund).
            return sink.notice(kind, record, cx).await;
        }
        let (uetr, request) = {
            let mut conn = cx
                .store
                .pool()
                .acquire()
                .await
                .map_err(crate::store::StoreError::from)?;
            let uetr = crate::store::messages::uetr(&mut conn, sid).await?;
            let request = match kind {
                Kind::Refund => crate::recon::resolve::refund_request(&mut conn, sid).await?,
                _ => None,
            };
            (uetr, request)
        };
        let mut body = WritebackBody::from_record(record, uetr.as_deref())
            .map_err(|e| JobError::Config(format!("{kind}: {e}")))?;
        let key = match kind {
            Kind::Refund => {
                let Some(r) = request else {
                    return Ok(Outcome::GiveUp {
                        why: format!(
                            "refund for settlement {sid}: no break resolved with \
                             refund_requested names it"
                        ),
                    });
                };
                body.outcome = "refund_requested".into();
                body.reason_code = Some(r.break_kind);
                body.reason = r.comment;
                body.amount = r.amount;
                body.currency = r.currency;
                body.break_id = Some(r.break_id);
                format!("{sid}:refund")
            }
            _ => {
                body.corrects = Some("settled".into());
                format!("{sid}:correction")
            }
        };
        cx.renew_grouped_for(self.config.writeback.timeout_ms)
            .await?;
        self.post_body(&record.settlement.ledger, &key, &body)
            .await
            .map_err(|e| JobError::Attempt(format!("{kind}: {e}")))?;
        tracing::info!(settlement = %sid, %kind, "posted to the ledger");
        Ok(Outcome::done())
    }
}
