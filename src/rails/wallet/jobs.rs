//! The wallet rail's outbox jobs: `deliver` (send the stored 0200 on the switch's link and
//! apply the 0210, or start a reversal when the outcome is unknown) and `reverse` (send the
//! stored 0420, repeated as 0421, until a 0430 confirms it). Answers are journaled here, as
//! received, and applied by [`crate::confirm::wallet`].

use super::link::SwitchLink;
use super::{CREDIT, REVERSAL};
use crate::confirm::wallet::{self as confirm, ReversalAnswer};
use crate::confirm::wallet_answered::WalletAnswered;
use crate::dispatch::{Context, Handler, JobError, Outcome};
use crate::domain::SettlementState;
use crate::store::journal::{self, AuthenticatedBy, Channel};
use crate::store::messages::{self, Outbound};
use crate::store::outbox::{Job, Kind};
use crate::store::settlements::Record;
use crate::store::{Store, StoreError};
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The wallet rail's handlers: one persistent link per configured switch.
pub struct WalletJobs {
    links: HashMap<String, SwitchLink>,
}

impl WalletJobs {
    /// The job kinds this rail works.
    pub const KINDS: &'static [Kind] = &[Kind::Deliver, Kind::Reverse];

    pub fn new(links: HashMap<String, SwitchLink>) -> Self {
        WalletJobs { links }
    }

    fn link(&self, message: &Outbound) -> Result<&SwitchLink, JobError> {
        self.links.get(&message.counterparty).ok_or_else(|| {
            JobError::Config(format!("switch {} is not configured", message.counterparty))
        })
    }
}

impl From<iso8583::LinkError> for JobError {
    fn from(e: iso8583::LinkError) -> Self {
        JobError::Attempt(format!("switch link: {e}"))
    }
}

impl Handler for WalletJobs {
    fn handle<'a>(
        &'a self,
        job: &'a Job,
        settlement: &'a Record,
        cx: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<Outcome, JobError>> {
        Box::pin(async move {
            match job.kind {
                Kind::Deliver => self.deliver(settlement, cx).await,
                Kind::Reverse => self.reverse(settlement, cx).await,
                other => Err(JobError::Config(format!(
                    "the wallet rail has no {other} jobs"
                ))),
            }
        })
    }

    fn dead_letter_advice(&self, job: &Job) -> Option<String> {
        (job.kind == Kind::Reverse).then(|| {
            format!(
                "reversal not acknowledged: MANUAL INTERVENTION needed (check the wallet at the switch, then `corridor outbox replay {}`)",
                job.id
            )
        })
    }
}

impl WalletJobs {
    /// Sends the stored 0200 and applies the 0210, or starts a reversal when the outcome is
    /// unknown. A request that never left (link down, busy) is simply retried.
    async fn deliver(&self, record: &Record, cx: &Context<'_>) -> Result<Outcome, JobError> {
        if record.state != SettlementState::Submitted {
            // An answer applied at start (or before a crash) finished it, or a reversal runs.
            return Ok(Outcome::done());
        }
        let sid = &record.settlement.id;
        let credit = cx.stored_message(CREDIT).await?;
        let switch = self.link(&credit)?;
        if credit.send_count > 0 {
            // An earlier attempt may have reached the switch and died with us before its
            // answer was journaled. A second 0200 could credit twice (or be declined as a
            // duplicate while the first stands): the outcome is unknown, so it is reversed.
            let why = "an earlier send's outcome is unknown (the gateway stopped after sending)";
            return reversing(cx, switch, &credit, why).await;
        }
        let (request, de7) = super::for_sending(&switch.spec, &credit, false, now_utc())
            .map_err(|e| StoreError::Corrupt(format!("stored 0200 of {sid}: {e}")))?;
        cx.about_to_send_stamped(&credit.msg_id, Some(de7.clone()))
            .await?;
        crate::crash_point!("wallet.before_send");
        let started = Instant::now();
        let result = switch
            .link
            .request_with_timeout(&request, Duration::from_millis(switch.config.timeout_ms))
            .await;
        crate::crash_point!("wallet.after_send");
        metrics::histogram!("corridor_switch_request_duration_seconds", "switch" => credit.counterparty.clone())
            .record(started.elapsed().as_secs_f64());
        let response = match result {
            Ok(response) => response,
            Err(e) if e.is_ambiguous() => {
                return reversing(cx, switch, &credit, &e.to_string()).await
            }
            Err(e) => {
                // It never left (link down, busy, closed): not a send, so not counted.
                let mut conn = cx.store.pool().acquire().await.map_err(StoreError::from)?;
                messages::unmark_sent(&mut conn, &credit.msg_id).await?;
                return Err(e.into());
            }
        };
        let inbound = journal_answer(cx.store, &credit.counterparty, &response).await?;
        crate::crash_point!("wallet.answer.after_journal");
        let answered = WalletAnswered::to(switch.config.clone(), credit, inbound, response);
        Ok(Outcome::done_merged(answered))
    }

    /// Sends the stored reversal (0421 when repeated) until a 0430 confirms it.
    async fn reverse(&self, record: &Record, cx: &Context<'_>) -> Result<Outcome, JobError> {
        if record.state.is_final() {
            return Ok(Outcome::done());
        }
        let sid = &record.settlement.id;
        let mut conn = cx.store.pool().acquire().await.map_err(StoreError::from)?;
        let reversal = messages::required(&mut conn, sid, REVERSAL).await?;
        let switch = self.link(&reversal)?;
        let repeat = reversal.send_count > 0;
        let (request, de7) = super::for_sending(&switch.spec, &reversal, repeat, now_utc())
            .map_err(|e| StoreError::Corrupt(format!("stored 0420 of {sid}: {e}")))?;
        cx.about_to_send(&mut conn, &reversal.msg_id).await?;
        messages::set_transmitted_at(&mut conn, &reversal.msg_id, &de7).await?;
        drop(conn);
        crate::crash_point!("wallet.reverse.before_send");
        let result = switch
            .link
            .request_with_timeout(&request, Duration::from_millis(switch.config.timeout_ms))
            .await;
        let response = match result {
            Ok(response) => response,
            Err(e) if !e.is_ambiguous() => {
                // It never left (link down, busy, closed): not a send, so the next one is
                // still the first 0420, not a 0421 repeat.
                let mut conn = cx.store.pool().acquire().await.map_err(StoreError::from)?;
                messages::unmark_sent(&mut conn, &reversal.msg_id).await?;
                return Err(e.into());
            }
            Err(e) => return Err(e.into()),
        };
        let inbound = journal_answer(cx.store, &reversal.counterparty, &response).await?;
        crate::crash_point!("wallet.reverse.after_journal");
        let mut tx = cx.store.begin().await?;
        match confirm::apply_reversal_answer(&mut tx, &reversal, inbound, &response).await? {
            ReversalAnswer::Confirmed(_) => Ok(Outcome::done_with(tx)),
            // Kept as a conflict in the journal; the reversal is repeated (0421).
            ReversalAnswer::NotConfirmed(code) => {
                tx.commit().await?;
                Err(JobError::Attempt(format!(
                    "reversal answered 0430 with DE39 {code}: not confirmed"
                )))
            }
            ReversalAnswer::Unexpected(mti) => {
                tx.commit().await?;
                Err(JobError::Attempt(format!(
                    "switch answered {mti} to a reversal; expected 0430"
                )))
            }
        }
    }
}

/// The credit's outcome is unknown: the reversal is stored and queued with this job's end.
async fn reversing(
    cx: &Context<'_>,
    switch: &SwitchLink,
    credit: &Outbound,
    why: &str,
) -> Result<Outcome, JobError> {
    let mut tx = cx.store.begin().await?;
    confirm::start_reversal(&mut tx, &switch.config, credit, why, None).await?;
    Ok(Outcome::done_with(tx))
}

fn now_utc() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// Journals a switch's answer to our request. The link hands over the decoded message, so the
/// bytes kept are its encoding again (the codec round-trips byte for byte).
async fn journal_answer(
    store: &Store,
    switch: &str,
    response: &iso8583::Message,
) -> Result<i64, StoreError> {
    let raw = match response.encode() {
        Ok(raw) => raw,
        Err(e) => format!("(answer could not be re-encoded: {e})").into_bytes(),
    };
    journal::record(
        store,
        Channel::SwitchResponse,
        Some(switch),
        Some("application/iso8583"),
        &raw,
        AuthenticatedBy::SwitchLink,
    )
    .await
}
