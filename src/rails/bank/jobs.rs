//! The bank rail's outbox jobs: `deliver` (send the stored pacs.008 and apply the answer),
//! `status` (ask with a pacs.028 a bank that took a payment and went quiet) and `resend` (the
//! stored pacs.008 again, same identifiers, when an operator resolves a break with `resent`). Answers are
//! journaled here, as received, and applied by [`crate::confirm::bank`].

use super::{BankClient, BankReply, SendError, PACS008};
use crate::config::Config;
use crate::confirm;
use crate::dispatch::{Context, Handler, JobError, Outcome};
use crate::domain::{SettlementId, SettlementState};
use crate::store::journal::{self, AuthenticatedBy, Channel};
use crate::store::messages::Outbound;
use crate::store::outbox::{Job, Kind};
use crate::store::settlements::{self, Change, Record};
use crate::store::{messages, now_ms, Store, StoreError};
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::time::Instant;

/// The bank rail's handlers: one HTTPS client (mutual TLS) per configured bank.
pub struct BankJobs {
    clients: HashMap<String, BankClient>,
}

impl BankJobs {
    /// The job kinds this rail works.
    pub const KINDS: &'static [Kind] = &[Kind::Deliver, Kind::Status, Kind::Resend];

    /// Builds a client per bank (certificates are read now, so that a bad one stops start).
    pub fn new(config: &Config) -> Result<Self, BankSetupError> {
        let mut clients = HashMap::new();
        for bank in &config.banks {
            let client = BankClient::new(bank).map_err(|source| BankSetupError {
                bank: bank.id.clone(),
                source,
            })?;
            clients.insert(bank.id.clone(), client);
        }
        Ok(BankJobs { clients })
    }

    fn client(&self, bank_id: &str) -> Result<&BankClient, JobError> {
        self.clients
            .get(bank_id)
            .ok_or_else(|| JobError::Config(format!("bank {bank_id} is not configured")))
    }
}

/// A bank whose TLS material could not be loaded.
#[derive(Debug, thiserror::Error)]
#[error("bank {bank}: {source}")]
pub struct BankSetupError {
    pub bank: String,
    pub source: super::TlsSetupError,
}

impl From<SendError> for JobError {
    fn from(e: SendError) -> Self {
        JobError::Attempt(e.to_string())
    }
}

impl Handler for BankJobs {
    fn handle<'a>(
        &'a self,
        job: &'a Job,
        settlement: &'a Record,
        cx: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<Outcome, JobError>> {
        Box::pin(async move {
            match job.kind {
                Kind::Deliver => self.deliver(settlement, cx).await,
                Kind::Status => self.status(job, settlement, cx).await,
                Kind::Resend => self.resend(settlement, cx).await,
                other => Err(JobError::Config(format!(
                    "the bank rail has no {other} jobs"
                ))),
            }
        })
    }
}

/// Whether a bank's HTTP refusal of our send is a final answer about the payment. Only a first
/// send the bank read and refused is: on a resend the bank may hold the first copy (a 409
/// "duplicate" says so), and 401/403/409 are about us, not the payment.
pub fn refusal_is_final(status: u16, resend: bool) -> bool {
    !resend && !matches!(status, 401 | 403 | 409)
}

impl BankJobs {
    /// Sends the stored pacs.008 (the same bytes on every attempt) and applies the answer.
    async fn deliver(&self, record: &Record, cx: &Context<'_>) -> Result<Outcome, JobError> {
        if record.state != SettlementState::Submitted {
            // An asynchronous answer overtook us, or a previous attempt got through before a
            // crash: the bank has it, and there is nothing to send.
            return Ok(Outcome::done());
        }
        let message = cx.stored_message(PACS008).await?;
        self.send_and_apply(&message, cx, false).await
    }

    /// A resend an operator asked for (reconciliation: the bank never booked the payment, or
    /// never answered): the stored pacs.008 again, byte for byte, same MsgId, EndToEndId and
    /// UETR, so that a bank holding the first copy recognises the duplicate instead of paying
    /// twice. Its answer is applied like any other (an ACSC for a settled payment is a
    /// duplicate confirmation); a 409 says the bank has the first copy, which settles it.
    async fn resend(&self, record: &Record, cx: &Context<'_>) -> Result<Outcome, JobError> {
        match record.state {
            // Never sent: the deliver job sends it, once.
            SettlementState::Submitted => return Ok(Outcome::done()),
            SettlementState::Sent | SettlementState::Accepted | SettlementState::Settled => {}
            other => {
                return Ok(Outcome::GiveUp {
                    why: format!(
                        "resend of settlement {} refused: it is {other}, and a payment rejected, \
                         returned or failed is never sent again under the same identifiers",
                        record.settlement.id
                    ),
                })
            }
        }
        let sid = &record.settlement.id;
        let message = cx.stored_message(PACS008).await?;
        tracing::warn!(settlement = %sid, msg_id = %message.msg_id, uetr = ?message.uetr, "resending the stored pacs.008 (same identifiers), as an operator resolved");
        self.send_and_apply(&message, cx, true).await
    }

    /// Sends the stored message (counting the send first) and applies the bank's reply.
    async fn send_and_apply(
        &self,
        message: &Outbound,
        cx: &Context<'_>,
        asked_resend: bool,
    ) -> Result<Outcome, JobError> {
        let sid = &message.settlement_id;
        cx.about_to_send_grouped(&message.msg_id).await?;
        let client = self.client(&message.counterparty)?;
        crate::crash_point!("bank.before_send");
        let started = Instant::now();
        let reply = client.send(message).await;
        crate::crash_point!("bank.after_send");
        metrics::histogram!("corridor_bank_request_duration_seconds", "bank" => message.counterparty.clone())
            .record(started.elapsed().as_secs_f64());
        let reply = reply?;
        let bank_id = message.counterparty.as_str();
        match reply {
            BankReply::Accepted => {
                let (config, sid, bank_id) =
                    (cx.shared_config.clone(), sid.clone(), bank_id.to_string());
                Ok(Outcome::done_writing(move |tx| {
                    Box::pin(async move {
                        confirm::bank::mark_sent(tx, &sid, "HTTP 202: answer to follow", None)
                            .await?;
                        confirm::bank::arm_status_if_open(tx, &config, &sid, &bank_id).await
                    })
                }))
            }
            BankReply::Answer { body, content_type } => {
                let inbound =
                    journal_answer(cx.store, bank_id, content_type.as_deref(), &body).await?;
                crate::crash_point!("bank.answer.after_journal");
                // Applied with the job's completion, merged with the group's other answers.
                let config = cx.shared_config.clone();
                Ok(Outcome::done_merged(confirm::answered::Answered::to(
                    config, message, inbound, body,
                )))
            }
            BankReply::Refused { status: 409, body } if asked_resend => {
                let meaning = "HTTP 409 on a resend: the bank holds the first copy";
                journal_refusal(cx.store, sid, bank_id, &body, meaning).await?;
                Ok(Outcome::done())
            }
            BankReply::Refused { status, body } => self.refused(message, status, &body, cx).await,
        }
    }

    /// The bank refused our send with an HTTP status: a final failure, or retried.
    async fn refused(
        &self,
        message: &Outbound,
        status: u16,
        body: &[u8],
        cx: &Context<'_>,
    ) -> Result<Outcome, JobError> {
        let sid = &message.settlement_id;
        let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
        let resend = message.send_count > 0;
        let is_final = refusal_is_final(status, resend);
        let reason = if is_final {
            format!("bank refused the message: HTTP {status}: {text}")
        } else {
            format!("HTTP {status} (resend: {resend}): not final, retried: {text}")
        };
        let inbound = journal_refusal(cx.store, sid, &message.counterparty, body, &reason).await?;
        if !is_final {
            return Err(SendError::Server { status, text }.into());
        }
        let change = Change {
            cause: "dispatch",
            detail: Some(&reason),
            inbound_id: Some(inbound),
            reason_code: Some("HTTP"),
            reason: Some(&reason),
            ..Default::default()
        };
        let mut tx = cx.store.begin().await?;
        settlements::transition(&mut tx, sid, SettlementState::Failed, &change).await?;
        Ok(Outcome::done_with(tx))
    }

    /// A settlement the bank has not finished with: asks with a pacs.028 and applies the
    /// pacs.002 it answers with. A bank that does not know the payment (404) while it is only
    /// `sent` gets the original pacs.008 again, same identifiers (it dedupes by UETR). Repeats
    /// every `status_request_after_ms` until the outcome is final; a round is at most
    /// `status_requests_max` requests (the row's attempts: a request that got no answer counts
    /// too), after which the row is dead for an operator, and a replay starts a new round
    /// (DESIGN.md decision 6).
    async fn status(
        &self,
        job: &Job,
        record: &Record,
        cx: &Context<'_>,
    ) -> Result<Outcome, JobError> {
        if !matches!(
            record.state,
            SettlementState::Sent | SettlementState::Accepted
        ) {
            // The answer came (final), or the payment was never sent: nothing to ask.
            return Ok(Outcome::done());
        }
        let sid = &record.settlement.id;
        let mut conn = cx.store.pool().acquire().await.map_err(StoreError::from)?;
        let original = messages::required(&mut conn, sid, PACS008).await?;
        let bank_id = original.counterparty.clone();
        let bank = cx
            .config
            .bank(&bank_id)
            .ok_or_else(|| JobError::Config(format!("bank {bank_id} is not configured")))?;
        let client = self.client(&bank_id)?;
        // Claims of this round before this one: each made (or tried) one request.
        let asked = job.attempts - 1;
        if asked >= bank.status_requests_max {
            return Ok(Outcome::GiveUp {
                why: format!(
                    "no final status after {asked} status requests (pacs.028) about UETR {}: MANUAL INTERVENTION: ask the bank, then `corridor outbox replay {}` for another round",
                    original.uetr.as_deref().unwrap_or("-"),
                    job.id
                ),
            });
        }
        let request = super::status_request(&cx.config.gateway.bic, bank, &original)
            .map_err(|e| JobError::Config(format!("status request for {sid}: {e}")))?;
        cx.renew(&mut conn).await?;
        messages::insert_status_request(&mut conn, &request).await?;
        drop(conn);
        metrics::counter!("corridor_status_requests_total", "bank" => bank_id.clone()).increment(1);
        tracing::info!(settlement = %sid, bank = %bank_id, msg_id = %request.msg_id, uetr = ?original.uetr, "asking the bank for the payment's status (pacs.028)");

        let outcome = match client.send(&request).await {
            Err(e) => format!("no answer: {e}"),
            Ok(BankReply::Answer { body, content_type }) => {
                journal_and_apply(cx, sid, &bank_id, &body, content_type.as_deref()).await?;
                "answered with a status report".to_string()
            }
            Ok(BankReply::Accepted) => "202: the answer follows".to_string(),
            Ok(BankReply::Refused { status, body }) if matches!(status, 404 | 410) => {
                self.unknown_to_the_bank(&original, client, status, &body, cx)
                    .await?
            }
            Ok(BankReply::Refused { status, body }) => {
                let meaning = format!("HTTP {status}: status request refused");
                journal_refusal(cx.store, sid, &bank_id, &body, &meaning).await?;
                format!("HTTP {status}: refused: {}", super::snippet(&body))
            }
        };

        let mut tx = cx.store.begin().await?;
        messages::set_status_request_outcome(&mut tx, &request.msg_id, &outcome).await?;
        let state = settlements::get(&mut tx, sid).await?.map(|r| r.state);
        if state.is_some_and(|s| s.is_final()) {
            return Ok(Outcome::done_with(tx));
        }
        Ok(Outcome::Reschedule {
            effects: Some(tx),
            due_at_ms: now_ms() + bank.status_request_after_ms,
            note: format!(
                "status request {} of at most {}: {outcome}",
                asked + 1,
                bank.status_requests_max
            ),
        })
    }

    /// The bank answered a status request with 404/410: it does not know the payment. Only a
    /// payment still `sent` (never acknowledged with a status) gets the original pacs.008 again,
    /// same identifiers; one the bank had acknowledged (ACSP, PDNG) is not resent on a 404,
    /// which may as well come from a wrong endpoint: that is for an operator. Returns the
    /// outcome to record.
    async fn unknown_to_the_bank(
        &self,
        original: &Outbound,
        client: &BankClient,
        status: u16,
        body: &[u8],
        cx: &Context<'_>,
    ) -> Result<String, JobError> {
        let sid = &original.settlement_id;
        let bank_id = original.counterparty.as_str();
        let mut conn = cx.store.pool().acquire().await.map_err(StoreError::from)?;
        let state = settlements::get(&mut conn, sid).await?.map(|r| r.state);
        if state != Some(SettlementState::Sent) {
            drop(conn);
            let meaning = format!("HTTP {status}: status request: the bank does not know a payment it had acknowledged; not resent");
            journal_refusal(cx.store, sid, bank_id, body, &meaning).await?;
            tracing::error!(settlement = %sid, bank = bank_id, uetr = ?original.uetr, state = ?state, "the bank answers a status request with HTTP {status} about a payment it had acknowledged: not resent; MANUAL INTERVENTION: check with the bank");
            return Ok(format!(
                "HTTP {status} about a payment the bank had acknowledged: not resent"
            ));
        }
        tracing::warn!(settlement = %sid, bank = bank_id, uetr = ?original.uetr, "the bank does not know the payment; sending the original pacs.008 again (same identifiers)");
        cx.about_to_send(&mut conn, &original.msg_id).await?;
        drop(conn);
        let meaning = format!("HTTP {status}: status request: the bank does not know the payment; the original is sent again");
        journal_refusal(cx.store, sid, bank_id, body, &meaning).await?;
        Ok(match client.send(original).await {
            Err(e) => format!("HTTP {status}: unknown to the bank; resent, no answer: {e}"),
            Ok(BankReply::Answer { body, content_type }) => {
                journal_and_apply(cx, sid, bank_id, &body, content_type.as_deref()).await?;
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
                let meaning = format!("HTTP {again}: resend after a status request refused");
                journal_refusal(cx.store, sid, bank_id, &body, &meaning).await?;
                format!(
                    "HTTP {status}: unknown to the bank; the resend was refused with HTTP {again}"
                )
            }
        })
    }
}

/// Journals a bank's answer on our mutual-TLS connection, exactly as received.
async fn journal_answer(
    store: &Store,
    bank_id: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<i64, StoreError> {
    journal::record(
        store,
        Channel::BankResponse,
        Some(bank_id),
        content_type,
        body,
        AuthenticatedBy::MutualTls,
    )
    .await
}

/// Journals a bank's answer and applies the status reports in it, committed at once (an
/// unreadable answer is kept and marked rejected).
async fn journal_and_apply(
    cx: &Context<'_>,
    sid: &SettlementId,
    bank_id: &str,
    body: &[u8],
    content_type: Option<&str>,
) -> Result<(), JobError> {
    let inbound = journal_answer(cx.store, bank_id, content_type, body).await?;
    let mut tx = cx.store.begin().await?;
    confirm::bank::apply_answer(&mut tx, cx.config, sid, bank_id, inbound, body).await?;
    tx.commit().await?;
    Ok(())
}

/// Journals a bank's HTTP refusal (its body, raw) with what the gateway makes of it.
async fn journal_refusal(
    store: &Store,
    sid: &SettlementId,
    bank_id: &str,
    body: &[u8],
    meaning: &str,
) -> Result<i64, StoreError> {
    let inbound = journal_answer(store, bank_id, None, body).await?;
    let mut conn = store.pool().acquire().await?;
    journal::mark(
        &mut conn,
        inbound,
        journal::Status::Applied,
        &journal::Outcome {
            detail: Some(meaning),
            settlement_id: Some(sid.as_str()),
            message_kind: Some("http-refusal"),
            ..Default::default()
        },
    )
    .await?;
    Ok(inbound)
}

#[cfg(test)]
mod tests {
    use super::refusal_is_final;

    #[test]
    fn only_a_first_send_refused_for_the_payment_is_final() {
        assert!(refusal_is_final(400, false));
        assert!(refusal_is_final(422, false));
        assert!(
            !refusal_is_final(400, true),
            "a resend: the bank may hold the first copy"
        );
        for status in [401, 403, 409] {
            assert!(!refusal_is_final(status, false), "{status} is about us");
        }
    }
}
