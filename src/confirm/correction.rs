//! A final outcome corrected by evidence found afterwards: a return booked on the account
//! statement for a payment the bank had settled (and Corridor had written back as settled).
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
    let from = SettlementState::Settled;
    let to = SettlementState::Returned;
    debug_assert!(from.check_correction(to).is_ok());
    let now = now_ms();
    let reason = format!("returned after settlement, as statement entry {entry_id} shows");
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
    let detail = format!(
        "statement entry {entry_id} returns the payment (reason {}); correction of the settled outcome",
        reason_code.unwrap_or("none given")
    );
    journal_transition(
        tx,
        sid,
        Some(from),
        to,
        "statement return (correction)",
        Some(&detail),
        None,
        now,
    )
    .await?;
    let (job, _) = outbox::enqueue_once(tx, Kind::Correction, sid, now).await?;
    tracing::warn!(settlement = %sid, entry = entry_id, job, "a settled payment was returned on the statement: corrected to returned, correction write-back queued");
    Ok(Corrected::Returned { job })
}
