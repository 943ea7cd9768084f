//! A final outcome corrected by evidence found afterwards: a return booked on the account
//! statement, or a pacs.004 from the bank, for a payment the bank had settled (and Corridor
//! had written back as settled).
//!
//! Not a move of the ordinary state machine, where `settled` is a sink: a correction has its
//! own short table ([`SettlementState::check_correction`]), its own journal line (cause
//! `statement return (correction)`), and its own write-back (outbox kind `correction`, one per
//! settlement), because the ledger took the first outcome as final and deduplicates
//! write-backs by settlement.

use crate::domain::{SettlementId, SettlementState};
use crate::store::outbox::{self, Kind};
use crate::store::settlements::journal_transition;
use crate::store::{now_ms, StoreError};
use sqlx::AnyConnection;

/// What a correction did.
#[derive(Debug, PartialEq, Eq)]
pub enum Corrected {
    /// Moved from settled to returned; the correction write-back is outbox job `job`.
    Returned { job: i64 },
    /// The settlement was not settled (any more): nothing changed.
    NotSettled(SettlementState),
}

/// Corrects settled `sid` to returned because statement entry `entry_id` returns it, and
/// queues its correction write-back, in `tx`. Idempotent: once returned, nothing changes.
pub async fn statement_return_after_settlement(
    tx: &mut AnyConnection,
    sid: &SettlementId,
    entry_id: i64,
    reason_code: Option<&str>,
) -> Result<Corrected, StoreError> {
    let correction = Correction {
        reason: format!("returned after settlement, as statement entry {entry_id} shows"),
        cause: "statement return (correction)",
        detail: format!(
            "statement entry {entry_id} returns the payment (reason {}); correction of the settled outcome",
            reason_code.unwrap_or("none given")
        ),
        inbound_id: None,
    };
    correct_to_returned(tx, sid, reason_code, correction).await
}

/// Corrects settled `sid` to returned because the bank sent it back (a pacs.004, journal
/// entry `inbound_id`), and queues its correction write-back, in `tx`. Idempotent.
pub async fn bank_return_after_settlement(
    tx: &mut AnyConnection,
    sid: &SettlementId,
    inbound_id: i64,
    reason_code: Option<&str>,
    reason: Option<&str>,
) -> Result<Corrected, StoreError> {
    let correction = Correction {
        reason: reason
            .map(str::to_string)
            .unwrap_or_else(|| "returned by the bank after settlement (pacs.004)".to_string()),
        cause: "pacs.004 return (correction)",
        detail: format!(
            "the bank returns the payment it had settled (pacs.004, journal entry {inbound_id}, reason {}); correction of the settled outcome",
            reason_code.unwrap_or("none given")
        ),
        inbound_id: Some(inbound_id),
    };
    correct_to_returned(tx, sid, reason_code, correction).await
}

/// Why and on what evidence a settled outcome is corrected.
struct Correction {
    reason: String,
    cause: &'static str,
    detail: String,
    inbound_id: Option<i64>,
}

async fn correct_to_returned(
    tx: &mut AnyConnection,
    sid: &SettlementId,
    reason_code: Option<&str>,
    correction: Correction,
) -> Result<Corrected, StoreError> {
    let from = SettlementState::Settled;
    let to = SettlementState::Returned;
    debug_assert!(from.check_correction(to).is_ok());
    let now = now_ms();
    let Correction {
        reason,
        cause,
        detail,
        inbound_id,
    } = correction;
    // Guarded on the state read by nobody else: the UPDATE itself is the compare-and-set.
    let moved = sqlx::query(
        "UPDATE settlements SET state = $1, updated_at_ms = $2, final_at_ms = $2, \
         reason_code = $3, reason = $4 WHERE id = $5 AND state = $6",
    )
    .bind(to.as_str())
    .bind(now)
    .bind(reason_code.unwrap_or("RTRN"))
    .bind(&reason)
    .bind(sid.as_str())
    .bind(from.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if moved != 1 {
        let state = crate::store::settlements::get(tx, sid)
            .await?
            .map(|r| r.state)
            .ok_or_else(|| StoreError::Corrupt(format!("settlement {sid} does not exist")))?;
        return Ok(Corrected::NotSettled(state));
    }
    journal_transition(
        tx,
        sid,
        Some(from),
        to,
        cause,
        Some(&detail),
        inbound_id,
        now,
    )
    .await?;
    let (job, _) = outbox::enqueue_once(tx, Kind::Correction, sid, now).await?;
    tracing::warn!(settlement = %sid, job, cause, "a settled payment was returned: corrected to returned, correction write-back queued");
    Ok(Corrected::Returned { job })
}
