//! Dispatch: outbox workers (DESIGN.md decision 5).
//!
//! A worker claims a batch of due rows with a lease and commits, then does the network I/O
//! with no transaction open, then records each outcome in a short transaction. Transport
//! failures are retried with exponential backoff up to `attempts_max`, then the row is
//! dead until an operator replays it. Workers poll at their own pace and are woken early
//! when intake queues new work.

use crate::config::{Config, DispatchConfig};
use crate::confirm;
use crate::domain::SettlementState;
use crate::rails::bank::{self, BankClient, BankReply};
use crate::rails::switch_link::SwitchLink;
use crate::rails::wallet;
use crate::store::journal::{self, Channel};
use crate::store::outbox::{self, Job, Kind, Retry};
use crate::store::settlements::{self, Change, Transitioned};
use crate::store::{messages, now_ms, Store, StoreError};
use crate::writeback::Writer;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Everything a worker needs; shared by all workers of an instance.
pub struct Dispatcher {
    pub store: Store,
    pub config: Arc<Config>,
    pub banks: HashMap<String, BankClient>,
    pub switches: HashMap<String, SwitchLink>,
    pub writer: Writer,
    pub owner: String,
    pub wake: Arc<Notify>,
}

/// Why one job could not be finished this time; retried unless it is a bug.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Send(#[from] bank::SendError),
    #[error("switch link: {0}")]
    Link(#[from] iso8583::LinkError),
    #[error("switch answered {0} to a reversal; expected 0430")]
    UnexpectedAnswer(String),
    #[error("reversal answered 0430 with DE39 {0}: not confirmed")]
    ReversalNotConfirmed(String),
    /// Another worker took the row over (our lease ran out): its outcome is that worker's.
    #[error("lease lost to another worker")]
    LeaseLost,
    #[error("write-back: {0}")]
    Writeback(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Config(String),
}

/// Delay before attempt `attempts + 1`: base × 2^(attempts-1), capped, with ±20 % jitter so
/// that rows failed together do not retry together.
pub fn backoff_ms(config: &DispatchConfig, attempts: i64) -> i64 {
    let exp = (attempts - 1).clamp(0, 30) as u32;
    let raw = config
        .backoff_base_ms
        .saturating_mul(1i64 << exp)
        .min(config.backoff_max_ms);
    let jitter = raw / 5;
    if jitter == 0 {
        return raw;
    }
    raw - jitter + rand::Rng::gen_range(&mut rand::thread_rng(), 0..=2 * jitter)
}

impl Dispatcher {
    /// A connection from the pool, for one short step (never held across network I/O).
    async fn conn(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, StoreError> {
        Ok(self.store.pool().acquire().await?)
    }

    /// Runs one worker until `stop` is cancelled.
    pub async fn run_worker(self: Arc<Self>, index: usize, stop: CancellationToken) {
        let owner = format!("{}/{index}", self.owner);
        let idle = Duration::from_millis(self.config.dispatch.poll_interval_ms);
        loop {
            if stop.is_cancelled() {
                return;
            }
            let worked = match self.run_once(&owner).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %e, "outbox claim failed");
                    0
                }
            };
            if worked == 0 {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(idle) => {}
                }
            }
        }
    }

    /// Claims one batch and works it; returns how many rows were claimed.
    pub async fn run_once(&self, owner: &str) -> Result<usize, StoreError> {
        let d = &self.config.dispatch;
        let jobs =
            outbox::claim(&self.store, owner, now_ms(), d.lease_ms, d.batch_rows_max).await?;
        let n = jobs.len();
        let work = jobs.into_iter().map(|job| self.work(job, owner));
        futures::future::join_all(work).await;
        Ok(n)
    }

    async fn work(&self, job: Job, owner: &str) {
        let result = match job.kind {
            Kind::Deliver => self.deliver(&job, owner).await,
            Kind::Writeback => self.write_back(&job, owner).await,
            Kind::Reverse => self.reverse(&job, owner).await,
            Kind::Status => self.status(&job, owner).await,
        };
        if let Err(JobError::LeaseLost) = result {
            tracing::warn!(job = job.id, kind = job.kind.as_str(), settlement = %job.settlement_id, "lease lost; this worker's result was rolled back");
            return;
        }
        if let Err(error) = result {
            let backoff = backoff_ms(&self.config.dispatch, job.attempts);
            let text = error.to_string();
            let recorded = async {
                let mut conn = self.store.pool().acquire().await?;
                outbox::fail(
                    &mut conn,
                    &job,
                    owner,
                    &text,
                    self.config.dispatch.attempts_max,
                    backoff,
                    now_ms(),
                )
                .await
            }
            .await;
            match recorded {
                Ok(Retry::At(_)) => {
                    tracing::warn!(job = job.id, kind = job.kind.as_str(), settlement = %job.settlement_id, attempts = job.attempts, error = %text, retry_in_ms = backoff, "outbox attempt failed")
                }
                Ok(Retry::Dead) if job.kind == Kind::Reverse => {
                    metrics::counter!("corridor_outbox_dead_total", "kind" => job.kind.as_str())
                        .increment(1);
                    tracing::error!(job = job.id, settlement = %job.settlement_id, attempts = job.attempts, error = %text, "reversal not acknowledged: MANUAL INTERVENTION needed (check the wallet at the switch, then `corridor outbox replay {}`)", job.id)
                }
                Ok(Retry::Dead) => {
                    metrics::counter!("corridor_outbox_dead_total", "kind" => job.kind.as_str())
                        .increment(1);

                    tracing::error!(job = job.id, kind = job.kind.as_str(), settlement = %job.settlement_id, attempts = job.attempts, error = %text, "outbox row is dead; replay it with `corridor outbox replay {}`", job.id)
                }
                Ok(Retry::LeaseLost) => tracing::warn!(
                    job = job.id,
                    "lease lost while failing; another worker owns the row"
                ),
                Err(e) => {
                    tracing::error!(job = job.id, error = %e, "could not record a failed attempt; the lease will expire and the row be retried")
                }
            }
        }
    }

    async fn deliver(&self, job: &Job, owner: &str) -> Result<(), JobError> {
        let sid = &job.settlement_id;
        let mut conn = self.conn().await?;
        let record = job_settlement(&mut conn, sid).await?;
        if record.state != SettlementState::Submitted {
            // An asynchronous answer overtook us, or a previous attempt got through before a
            // crash: the bank has it, and there is nothing to send.
            outbox::complete(&mut conn, job, owner).await?;
            return Ok(());
        }
        if record.rail.as_deref() == Some("iso8583") {
            drop(conn);
            return self.deliver_wallet(job, owner).await;
        }
        let message = messages::for_settlement(&mut conn, sid, bank::PACS008)
            .await?
            .ok_or_else(|| {
                StoreError::Corrupt(format!("settlement {sid} has no {}", bank::PACS008))
            })?;
        let client = self.banks.get(&message.counterparty).ok_or_else(|| {
            JobError::Config(format!("bank {} is not configured", message.counterparty))
        })?;
        self.about_to_send(&mut conn, job, owner, &message.msg_id)
            .await?;
        drop(conn);

        let started = Instant::now();
        let reply = client.send(&message).await;
        metrics::histogram!("corridor_bank_request_duration_seconds", "bank" => message.counterparty.clone())
            .record(started.elapsed().as_secs_f64());
        let reply = reply?;
        self.apply_reply(job, owner, &message, reply).await
    }

    async fn apply_reply(
        &self,
        job: &Job,
        owner: &str,
        message: &messages::Outbound,
        reply: BankReply,
    ) -> Result<(), JobError> {
        let sid = &message.settlement_id;
        let bank_id = message.counterparty.as_str();
        match reply {
            BankReply::Accepted => {
                let mut tx = self.store.begin().await?;
                mark_sent_state(&mut tx, sid, "HTTP 202: answer to follow", None).await?;
                self.arm_status_if_open(&mut tx, sid, bank_id).await?;
                still_mine(outbox::complete(&mut tx, job, owner).await?)?;
                tx.commit().await.map_err(StoreError::from)?;
            }
            BankReply::Answer { body, content_type } => {
                let inbound = journal::record(
                    &self.store,
                    Channel::BankResponse,
                    Some(bank_id),
                    content_type.as_deref(),
                    &body,
                    journal::AuthenticatedBy::MutualTls,
                )
                .await?;
                let mut tx = self.store.begin().await?;
                mark_sent_state(&mut tx, sid, "HTTP 200 with answer", Some(inbound)).await?;
                apply_journaled_answer(&mut tx, &self.config, sid, bank_id, inbound, &body).await?;
                self.arm_status_if_open(&mut tx, sid, bank_id).await?;
                still_mine(outbox::complete(&mut tx, job, owner).await?)?;
                tx.commit().await.map_err(StoreError::from)?;
            }
            BankReply::Refused { status, body } => {
                let inbound = journal::record(
                    &self.store,
                    Channel::BankResponse,
                    Some(bank_id),
                    None,
                    &body,
                    journal::AuthenticatedBy::MutualTls,
                )
                .await?;
                let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
                // A refusal is final only for a first send the bank read and refused. On a
                // resend the bank may hold the first copy (a 409 "duplicate" says so), and
                // 401/403 are about us, not the payment: retried, never guessed as failed.
                let resend = message.send_count > 0;
                let is_final = !resend && !matches!(status, 401 | 403 | 409);
                let reason = if is_final {
                    format!("bank refused the message: HTTP {status}: {text}")
                } else {
                    format!("HTTP {status} (resend: {resend}): not final, retried: {text}")
                };
                let mut tx = self.store.begin().await?;
                journal::mark(
                    &mut tx,
                    inbound,
                    journal::Status::Applied,
                    &journal::Outcome {
                        detail: Some(&reason),
                        settlement_id: Some(sid.as_str()),
                        message_kind: Some("http-refusal"),
                        ..Default::default()
                    },
                )
                .await?;
                if !is_final {
                    tx.commit().await.map_err(StoreError::from)?;
                    return Err(bank::SendError::Server { status, text }.into());
                }
                let change = Change {
                    cause: "dispatch",
                    detail: Some(&reason),
                    inbound_id: Some(inbound),
                    reason_code: Some("HTTP"),
                    reason: Some(&reason),
                    ..Default::default()
                };
                settlements::transition(&mut tx, sid, SettlementState::Failed, &change).await?;
                still_mine(outbox::complete(&mut tx, job, owner).await?)?;
                tx.commit().await.map_err(StoreError::from)?;
            }
        }
        self.wake.notify_one();
        Ok(())
    }

    /// When a bank has taken the payment but not given a final answer (202, ACSP, PDNG, or an
    /// answer we could not read), arms the pacs.028 status request for later.
    async fn arm_status_if_open(
        &self,
        conn: &mut sqlx::AnyConnection,
        sid: &crate::domain::SettlementId,
        bank_id: &str,
    ) -> Result<(), JobError> {
        let Some(bank) = self.config.bank(bank_id) else {
            return Ok(());
        };
        let state = settlements::get(conn, sid).await?.map(|r| r.state);
        if matches!(
            state,
            Some(SettlementState::Sent | SettlementState::Accepted)
        ) {
            outbox::arm_status(conn, sid, now_ms() + bank.status_request_after_ms).await?;
        }
        Ok(())
    }

    /// A settlement the bank has not finished with: asks with a pacs.028 and applies the
    /// pacs.002 it answers with. A bank that does not know the payment (404) while it is only
    /// `sent` gets the original pacs.008 again, same identifiers (it dedupes by UETR). Repeats
    /// every `status_request_after_ms` until the outcome is final; a round is at most
    /// `status_requests_max` requests (the row's attempts: a request that got no answer counts
    /// too), after which the row is dead for an operator, and a replay starts a new round
    /// (DESIGN.md decision 6).
    async fn status(&self, job: &Job, owner: &str) -> Result<(), JobError> {
        let sid = &job.settlement_id;
        let mut conn = self.conn().await?;
        let record = job_settlement(&mut conn, sid).await?;
        if !matches!(
            record.state,
            SettlementState::Sent | SettlementState::Accepted
        ) {
            // The answer came (final), or the payment was never sent: nothing to ask.
            outbox::complete(&mut conn, job, owner).await?;
            return Ok(());
        }
        let original = messages::for_settlement(&mut conn, sid, bank::PACS008)
            .await?
            .ok_or_else(|| {
                StoreError::Corrupt(format!("settlement {sid} has no {}", bank::PACS008))
            })?;
        let bank_id = original.counterparty.clone();
        let config = self
            .config
            .bank(&bank_id)
            .ok_or_else(|| JobError::Config(format!("bank {bank_id} is not configured")))?;
        let client = self
            .banks
            .get(&bank_id)
            .ok_or_else(|| JobError::Config(format!("bank {bank_id} is not configured")))?;
        // Claims of this round before this one: each made (or tried) one request.
        let asked = job.attempts - 1;
        if asked >= config.status_requests_max {
            let why = format!(
                "no final status after {asked} status requests (pacs.028) about UETR {}: MANUAL INTERVENTION: ask the bank, then `corridor outbox replay {}` for another round",
                original.uetr.as_deref().unwrap_or("-"),
                job.id
            );
            still_mine(outbox::give_up(&mut conn, job, owner, &why).await?)?;
            metrics::counter!("corridor_outbox_dead_total", "kind" => job.kind.as_str())
                .increment(1);
            tracing::error!(job = job.id, settlement = %sid, bank = %bank_id, "{why}");
            return Ok(());
        }
        let request = bank::status_request(&self.config.gateway.bic, config, &original)
            .map_err(|e| JobError::Config(format!("status request for {sid}: {e}")))?;
        still_mine(
            outbox::renew(
                &mut conn,
                job,
                owner,
                now_ms(),
                self.config.dispatch.lease_ms,
            )
            .await?,
        )?;
        messages::insert_status_request(&mut conn, &request).await?;
        drop(conn);
        metrics::counter!("corridor_status_requests_total", "bank" => bank_id.clone()).increment(1);
        tracing::info!(settlement = %sid, bank = %bank_id, msg_id = %request.msg_id, uetr = ?original.uetr, "asking the bank for the payment's status (pacs.028)");

        let outcome = match client.send(&request).await {
            Err(e) => format!("no answer: {e}"),
            Ok(BankReply::Answer { body, content_type }) => {
                self.apply_answer(sid, &bank_id, &body, content_type.as_deref())
                    .await?;
                "answered with a status report".to_string()
            }
            Ok(BankReply::Accepted) => "202: the answer follows".to_string(),
            Ok(BankReply::Refused { status, body }) if matches!(status, 404 | 410) => {
                self.unknown_to_the_bank(job, owner, &original, client, status, &body)
                    .await?
            }
            Ok(BankReply::Refused { status, body }) => {
                self.journal_refusal(sid, &bank_id, status, &body, "status request refused")
                    .await?;
                format!("HTTP {status}: refused: {}", bank::snippet(&body))
            }
        };

        let mut tx = self.store.begin().await?;
        messages::set_status_request_outcome(&mut tx, &request.msg_id, &outcome).await?;
        let state = settlements::get(&mut tx, sid).await?.map(|r| r.state);
        if state.is_some_and(|s| s.is_final()) {
            still_mine(outbox::complete(&mut tx, job, owner).await?)?;
        } else {
            let due = now_ms() + config.status_request_after_ms;
            let note = format!(
                "status request {} of at most {}: {outcome}",
                asked + 1,
                config.status_requests_max
            );
            still_mine(outbox::reschedule(&mut tx, job, owner, due, &note).await?)?;
        }
        tx.commit().await.map_err(StoreError::from)?;
        self.wake.notify_one();
        Ok(())
    }

    /// The bank answered a status request with 404/410: it does not know the payment. Only a
    /// payment still `sent` (never acknowledged with a status) gets the original pacs.008 again,
    /// same identifiers; one the bank had acknowledged (ACSP, PDNG) is not resent on a 404,
    /// which may as well come from a wrong endpoint: that is for an operator. Returns the
    /// outcome to record.
    async fn unknown_to_the_bank(
        &self,
        job: &Job,
        owner: &str,
        original: &messages::Outbound,
        client: &BankClient,
        status: u16,
        body: &[u8],
    ) -> Result<String, JobError> {
        let sid = &original.settlement_id;
        let bank_id = original.counterparty.as_str();
        let mut conn = self.conn().await?;
        let state = settlements::get(&mut conn, sid).await?.map(|r| r.state);
        if state != Some(SettlementState::Sent) {
            drop(conn);
            self.journal_refusal(
                sid,
                bank_id,
                status,
                body,
                "status request: the bank does not know a payment it had acknowledged; not resent",
            )
            .await?;
            tracing::error!(settlement = %sid, bank = bank_id, uetr = ?original.uetr, state = ?state, "the bank answers a status request with HTTP {status} about a payment it had acknowledged: not resent; MANUAL INTERVENTION: check with the bank");
            return Ok(format!(
                "HTTP {status} about a payment the bank had acknowledged: not resent"
            ));
        }
        drop(conn);
        self.journal_refusal(
            sid,
            bank_id,
            status,
            body,
            "status request: the bank does not know the payment; the original is sent again",
        )
        .await?;
        tracing::warn!(settlement = %sid, bank = bank_id, uetr = ?original.uetr, "the bank does not know the payment; sending the original pacs.008 again (same identifiers)");
        let mut conn = self.conn().await?;
        self.about_to_send(&mut conn, job, owner, &original.msg_id)
            .await?;
        drop(conn);
        Ok(match client.send(original).await {
            Err(e) => format!("HTTP {status}: unknown to the bank; resent, no answer: {e}"),
            Ok(BankReply::Answer { body, content_type }) => {
                self.apply_answer(sid, bank_id, &body, content_type.as_deref())
                    .await?;
                format!("HTTP {status}: unknown to the bank; original resent")
            }
            Ok(BankReply::Accepted) => {
                format!("HTTP {status}: unknown to the bank; original resent (202)")
            }
            Ok(BankReply::Refused {
                status: again,
                body,
            }) => {
                // A resend: the bank may hold the first copy after all; never final from here.
                self.journal_refusal(
                    sid,
                    bank_id,
                    again,
                    &body,
                    "resend after a status request refused",
                )
                .await?;
                format!(
                    "HTTP {status}: unknown to the bank; the resend was refused with HTTP {again}"
                )
            }
        })
    }

    /// Journals a bank's answer and applies the status reports in it (an unreadable answer is
    /// kept and marked rejected).
    async fn apply_answer(
        &self,
        sid: &crate::domain::SettlementId,
        bank_id: &str,
        body: &[u8],
        content_type: Option<&str>,
    ) -> Result<(), JobError> {
        let inbound = journal::record(
            &self.store,
            Channel::BankResponse,
            Some(bank_id),
            content_type,
            body,
            journal::AuthenticatedBy::MutualTls,
        )
        .await?;
        let mut tx = self.store.begin().await?;
        apply_journaled_answer(&mut tx, &self.config, sid, bank_id, inbound, body).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    /// Journals a bank's HTTP refusal (its body, raw) with what the gateway makes of it.
    async fn journal_refusal(
        &self,
        sid: &crate::domain::SettlementId,
        bank_id: &str,
        status: u16,
        body: &[u8],
        meaning: &str,
    ) -> Result<(), JobError> {
        let inbound = journal::record(
            &self.store,
            Channel::BankResponse,
            Some(bank_id),
            None,
            body,
            journal::AuthenticatedBy::MutualTls,
        )
        .await?;
        let detail = format!("HTTP {status}: {meaning}");
        let mut conn = self.conn().await?;
        journal::mark(
            &mut conn,
            inbound,
            journal::Status::Applied,
            &journal::Outcome {
                detail: Some(&detail),
                settlement_id: Some(sid.as_str()),
                message_kind: Some("http-refusal"),
                ..Default::default()
            },
        )
        .await?;
        Ok(())
    }

    /// Right before a send: renews the lease so that it covers the send (it ran from the
    /// claim), then counts the send, so that a crash from here on leaves "may have been sent".
    async fn about_to_send(
        &self,
        conn: &mut sqlx::AnyConnection,
        job: &Job,
        owner: &str,
        msg_id: &str,
    ) -> Result<(), JobError> {
        still_mine(
            outbox::renew(conn, job, owner, now_ms(), self.config.dispatch.lease_ms).await?,
        )?;
        messages::mark_sent(conn, msg_id).await?;
        Ok(())
    }

    /// Journals a switch's answer to our request. The link hands over the decoded message,
    /// so the bytes kept are its encoding again (the codec round-trips byte for byte).
    async fn journal_switch_answer(
        &self,
        switch: &str,
        response: &iso8583::Message,
    ) -> Result<i64, StoreError> {
        let raw = match response.encode() {
            Ok(raw) => raw,
            Err(e) => format!("(answer could not be re-encoded: {e})").into_bytes(),
        };
        journal::record(
            &self.store,
            Channel::SwitchResponse,
            Some(switch),
            Some("application/iso8583"),
            &raw,
            journal::AuthenticatedBy::SwitchLink,
        )
        .await
    }

    fn switch_for(&self, message: &messages::Outbound) -> Result<&SwitchLink, JobError> {
        self.switches.get(&message.counterparty).ok_or_else(|| {
            JobError::Config(format!("switch {} is not configured", message.counterparty))
        })
    }

    /// Sends the stored 0200 and applies the 0210, or starts a reversal when the outcome is
    /// unknown. A request that never left (link down, busy) is simply retried.
    async fn deliver_wallet(&self, job: &Job, owner: &str) -> Result<(), JobError> {
        let sid = &job.settlement_id;
        let mut conn = self.conn().await?;
        let message = messages::for_settlement(&mut conn, sid, wallet::CREDIT)
            .await?
            .ok_or_else(|| {
                StoreError::Corrupt(format!("settlement {sid} has no {}", wallet::CREDIT))
            })?;
        let switch = self.switch_for(&message)?;
        if message.send_count > 0 {
            // An earlier attempt may have reached the switch and died with us before its
            // answer was applied. A second 0200 could credit twice (or be declined as a
            // duplicate while the first stands): the outcome is unknown, so it is reversed.
            drop(conn);
            let why = "an earlier send's outcome is unknown (the gateway stopped after sending)";
            return self
                .start_reversal(job, owner, &message, switch, why, None)
                .await;
        }
        let request = wallet::for_sending(&switch.spec, &message, false)
            .map_err(|e| StoreError::Corrupt(format!("stored 0200 of {sid}: {e}")))?;
        self.about_to_send(&mut conn, job, owner, &message.msg_id)
            .await?;
        drop(conn);
        let started = Instant::now();
        let result = switch
            .link
            .request_with_timeout(&request, Duration::from_millis(switch.config.timeout_ms))
            .await;
        metrics::histogram!("corridor_switch_request_duration_seconds", "switch" => message.counterparty.clone())
            .record(started.elapsed().as_secs_f64());
        let response = match result {
            Ok(response) => response,
            Err(e) if e.is_ambiguous() => {
                return self
                    .start_reversal(job, owner, &message, switch, &e.to_string(), None)
                    .await;
            }
            Err(e) => {
                // It never left (link down, busy, closed): not a send, so not counted.
                let mut conn = self.conn().await?;
                messages::unmark_sent(&mut conn, &message.msg_id).await?;
                return Err(e.into());
            }
        };

        let inbound = self
            .journal_switch_answer(&message.counterparty, &response)
            .await?;
        let answer = wallet::classify(&switch.config, response.get_str(39));
        let (to, code) = match &answer {
            wallet::Answer::Approved(code) => (SettlementState::Settled, code),
            wallet::Answer::Declined(code) => (SettlementState::Rejected, code),
            wallet::Answer::Ambiguous(code) => {
                let why = format!("{} with DE39 {code}: outcome unknown", response.mti());
                return self
                    .start_reversal(job, owner, &message, switch, &why, Some(inbound))
                    .await;
            }
        };
        let cause = format!("{} {code}", response.mti());
        let rejected = to == SettlementState::Rejected;
        let mut tx = self.store.begin().await?;
        let change = Change {
            cause: &cause,
            inbound_id: Some(inbound),
            reason_code: rejected.then_some(code.as_str()),
            reason: rejected.then_some("declined by the switch"),
            ..Default::default()
        };
        let applied = settlements::transition(&mut tx, sid, to, &change).await?;
        let status = match applied {
            Transitioned::Moved { .. } => journal::Status::Applied,
            Transitioned::AlreadyThere => journal::Status::Duplicate,
            Transitioned::Illegal(_) => journal::Status::Conflict,
        };
        journal::mark(
            &mut tx,
            inbound,
            status,
            &journal::Outcome {
                detail: Some(&cause),
                settlement_id: Some(sid.as_str()),
                message_kind: Some(response.mti()),
                message_ref: message.rrn.as_deref(),
            },
        )
        .await?;
        still_mine(outbox::complete(&mut tx, job, owner).await?)?;
        tx.commit().await.map_err(StoreError::from)?;
        self.wake.notify_one();
        Ok(())
    }

    /// The credit may or may not have happened: record it as sent, store the 0420 with its
    /// own STAN, and queue the reversal, all in one transaction.
    async fn start_reversal(
        &self,
        job: &Job,
        owner: &str,
        credit: &messages::Outbound,
        switch: &SwitchLink,
        why: &str,
        inbound_id: Option<i64>,
    ) -> Result<(), JobError> {
        let sid = &job.settlement_id;
        tracing::warn!(settlement = %sid, switch = %credit.counterparty, why, "credit outcome unknown: reversing");
        let mut tx = self.store.begin().await?;
        if let Some(inbound) = inbound_id {
            journal::mark(
                &mut tx,
                inbound,
                journal::Status::Applied,
                &journal::Outcome {
                    detail: Some(why),
                    settlement_id: Some(sid.as_str()),
                    message_kind: Some("0210"),
                    message_ref: credit.rrn.as_deref(),
                },
            )
            .await?;
        }
        mark_sent_state(
            &mut tx,
            sid,
            &format!("ambiguous: {why}; reversal queued"),
            inbound_id,
        )
        .await?;
        let reversal = wallet::prepare_reversal(&mut tx, &switch.config, credit)
            .await?
            .map_err(|e| StoreError::Corrupt(format!("reversal of {sid}: {e}")))?;
        messages::insert(&mut tx, &reversal).await?;
        outbox::enqueue(&mut tx, Kind::Reverse, sid, now_ms()).await?;
        still_mine(outbox::complete(&mut tx, job, owner).await?)?;
        tx.commit().await.map_err(StoreError::from)?;
        self.wake.notify_one();
        Ok(())
    }

    /// Sends the stored reversal (0421 when repeated) until a 0430 comes back.
    async fn reverse(&self, job: &Job, owner: &str) -> Result<(), JobError> {
        let sid = &job.settlement_id;
        let mut conn = self.conn().await?;
        let record = job_settlement(&mut conn, sid).await?;
        if record.state.is_final() {
            outbox::complete(&mut conn, job, owner).await?;
            return Ok(());
        }
        let message = messages::for_settlement(&mut conn, sid, wallet::REVERSAL)
            .await?
            .ok_or_else(|| {
                StoreError::Corrupt(format!("settlement {sid} has no {}", wallet::REVERSAL))
            })?;
        let switch = self.switch_for(&message)?;
        let request = wallet::for_sending(&switch.spec, &message, message.send_count > 0)
            .map_err(|e| StoreError::Corrupt(format!("stored 0420 of {sid}: {e}")))?;
        self.about_to_send(&mut conn, job, owner, &message.msg_id)
            .await?;
        drop(conn);
        let response = switch
            .link
            .request_with_timeout(&request, Duration::from_millis(switch.config.timeout_ms))
            .await?;
        let inbound = self
            .journal_switch_answer(&message.counterparty, &response)
            .await?;
        let code = response.get_str(39).unwrap_or("--").to_string();
        // 00: reversed. 25 (original not found): the credit never happened, so the money is
        // where a reversal would have put it. Anything else does not confirm the reversal:
        // it is repeated (0421) until the attempt bound, then waits for a person.
        let refusal = if response.mti() != "0430" {
            Some(JobError::UnexpectedAnswer(response.mti().to_string()))
        } else if code != "00" && code != "25" {
            Some(JobError::ReversalNotConfirmed(code.clone()))
        } else {
            None
        };
        if let Some(error) = refusal {
            let mut conn = self
                .store
                .pool()
                .acquire()
                .await
                .map_err(StoreError::from)?;
            let detail = error.to_string();
            journal::mark(
                &mut conn,
                inbound,
                journal::Status::Conflict,
                &journal::Outcome {
                    detail: Some(&detail),
                    settlement_id: Some(sid.as_str()),
                    message_kind: Some(response.mti()),
                    message_ref: message.rrn.as_deref(),
                },
            )
            .await?;
            return Err(error);
        }
        let cause = format!("0430 {code}");

        let mut tx = self.store.begin().await?;
        let change = Change {
            cause: &cause,
            inbound_id: Some(inbound),
            reason_code: Some("REVERSED"),
            reason: Some("outcome unknown at the switch; the credit was reversed"),
            ..Default::default()
        };
        settlements::transition(&mut tx, sid, SettlementState::Reversed, &change).await?;
        journal::mark(
            &mut tx,
            inbound,
            journal::Status::Applied,
            &journal::Outcome {
                detail: Some(&cause),
                settlement_id: Some(sid.as_str()),
                message_kind: Some("0430"),
                message_ref: message.rrn.as_deref(),
            },
        )
        .await?;
        still_mine(outbox::complete(&mut tx, job, owner).await?)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    async fn write_back(&self, job: &Job, owner: &str) -> Result<(), JobError> {
        let mut conn = self.conn().await?;
        let record = job_settlement(&mut conn, &job.settlement_id).await?;
        let uetr = messages::for_settlement(&mut conn, &job.settlement_id, bank::PACS008)
            .await?
            .and_then(|m| m.uetr);
        still_mine(
            outbox::renew(
                &mut conn,
                job,
                owner,
                now_ms(),
                self.config.dispatch.lease_ms,
            )
            .await?,
        )?;
        drop(conn);
        self.writer
            .post(&record, uetr.as_deref())
            .await
            .map_err(|e| JobError::Writeback(e.to_string()))?;
        let mut tx = self.store.begin().await?;
        settlements::mark_written_back(&mut tx, &job.settlement_id).await?;
        still_mine(outbox::complete(&mut tx, job, owner).await?)?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }
}

/// Turns a lost lease into an error, so that the caller's transaction is dropped (rolled
/// back) instead of committing a result another worker may be producing too.
fn still_mine(held: bool) -> Result<(), JobError> {
    if held {
        Ok(())
    } else {
        Err(JobError::LeaseLost)
    }
}

/// `submitted → sent`, tolerating an answer that already moved the settlement on.
/// The settlement an outbox row names; a row without one is a corrupt store.
async fn job_settlement(
    conn: &mut sqlx::AnyConnection,
    sid: &crate::domain::SettlementId,
) -> Result<settlements::Record, StoreError> {
    settlements::get(conn, sid)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("outbox names missing settlement {sid}")))
}

/// Applies the status reports of a journaled bank answer inside `conn`'s transaction; an answer
/// that cannot be read stays in the journal, marked rejected.
async fn apply_journaled_answer(
    conn: &mut sqlx::AnyConnection,
    config: &Config,
    sid: &crate::domain::SettlementId,
    bank_id: &str,
    inbound: i64,
    body: &[u8],
) -> Result<(), StoreError> {
    match bank::parse_reports(body) {
        Ok((kind, reports)) => {
            let after_ms = config.bank(bank_id).map(|b| b.status_request_after_ms);
            confirm::apply_reports(conn, bank_id, inbound, &kind, &reports, after_ms).await?;
        }
        Err(e) => {
            tracing::warn!(settlement = %sid, bank = bank_id, error = %e, "bank answer could not be read; kept in the journal");
            journal::mark(
                conn,
                inbound,
                journal::Status::Rejected,
                &journal::Outcome {
                    detail: Some(&e.to_string()),
                    settlement_id: Some(sid.as_str()),
                    ..Default::default()
                },
            )
            .await?;
        }
    }
    Ok(())
}

async fn mark_sent_state(
    conn: &mut sqlx::AnyConnection,
    sid: &crate::domain::SettlementId,
    detail: &str,
    inbound_id: Option<i64>,
) -> Result<(), StoreError> {
    let change = Change {
        cause: "dispatch",
        detail: Some(detail),
        inbound_id,
        ..Default::default()
    };
    match settlements::transition(conn, sid, SettlementState::Sent, &change).await? {
        Transitioned::Moved { .. } | Transitioned::AlreadyThere => {}
        // Already past `sent` (an asynchronous answer came first): nothing to record.
        Transitioned::Illegal(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let config = DispatchConfig {
            backoff_base_ms: 1000,
            backoff_max_ms: 10_000,
            ..DispatchConfig::default()
        };
        for _ in 0..50 {
            let first = backoff_ms(&config, 1);
            assert!((800..=1200).contains(&first), "{first}");
            let third = backoff_ms(&config, 3);
            assert!((3200..=4800).contains(&third), "{third}");
            let late = backoff_ms(&config, 40);
            assert!((8000..=12_000).contains(&late), "{late}");
        }
    }
}
