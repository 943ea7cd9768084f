//! Write-back: every final outcome posted to the ledger's callback, once (DESIGN.md
//! decision 10). It runs as an outbox job (kind `writeback`), enqueued in the same
//! transaction that reaches the final state, so it is retried until the ledger acknowledges
//! and can never be enqueued twice. The ledger deduplicates by the `idempotency-key` header
//! (the settlement id), which makes a retry after a lost acknowledgement harmless.
//!
//! The job dispatches on the ledger's kind: an `http` ledger gets the POST below, an `evm`
//! ledger gets `recordOutcome` on chain ([`crate::ledger::evm::sink`]).

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
        })
    }
}

/// Posts write-backs, or records them on chain for an `evm` ledger. Cheap to clone.
#[derive(Clone)]
pub struct Writer {
    http: reqwest::Client,
    config: Arc<Config>,
    /// The sink of each `evm` ledger, by ledger id.
    evm: Arc<std::collections::HashMap<String, crate::ledger::evm::sink::Sink>>,
}

impl Writer {
    pub fn new(config: Arc<Config>) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_millis(config.writeback.timeout_ms))
            .build()
            .expect("an HTTP client with default TLS builds");
        // The configuration was checked at load: every evm ledger's settings are valid.
        let evm = crate::ledger::evm::ledgers(&config)
            .unwrap_or_default()
            .into_iter()
            .map(|l| (l.id.clone(), crate::ledger::evm::sink::Sink::new(l)))
            .collect();
        Writer {
            http,
            config,
            evm: Arc::new(evm),
        }
    }

    /// Posts the outcome; Ok once the ledger answered 2xx (or has no callback configured).
    pub async fn post(&self, record: &Record, uetr: Option<&str>) -> Result<(), WritebackError> {
        let ledger_id = &record.settlement.ledger;
        let ledger = self
            .config
            .ledger(ledger_id)
            .ok_or_else(|| WritebackError::UnknownLedger(ledger_id.clone()))?;
        let Some(url) = &ledger.callback_url else {
            return Ok(());
        };
        let body = serde_json::to_vec(&WritebackBody::from_record(record, uetr)?)
            .expect("write-back body serialises");
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
            .header("idempotency-key", record.settlement.id.as_str())
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
    /// A `writeback` job: posts the final outcome, then records that the ledger has it.
    fn handle<'a>(
        &'a self,
        _job: &'a crate::store::outbox::Job,
        record: &'a Record,
        cx: &'a crate::dispatch::Context<'a>,
    ) -> futures::future::BoxFuture<'a, Result<crate::dispatch::Outcome, crate::dispatch::JobError>>
    {
        Box::pin(async move {
            if let Some(sink) = self.evm.get(&record.settlement.ledger) {
                return sink.record(record, cx).await;
            }
            let sid = &record.settlement.id;
            let uetr = {
                let mut conn = cx
                    .store
                    .pool()
                    .acquire()
                    .await
                    .map_err(crate::store::StoreError::from)?;
                crate::store::messages::uetr(&mut conn, sid).await?
            };
            cx.renew_grouped().await?;
            self.post(record, uetr.as_deref())
                .await
                .map_err(|e| crate::dispatch::JobError::Attempt(format!("write-back: {e}")))?;
            crate::crash_point!("writeback.after_send");
            let sid = sid.clone();
            Ok(crate::dispatch::Outcome::done_writing(move |tx| {
                Box::pin(
                    async move { crate::store::settlements::mark_written_back(tx, &sid).await },
                )
            }))
        })
    }
}
