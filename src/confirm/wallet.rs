//! The wallet rail's answers applied to settlements: the 0210 to a credit, the 0430 to a
//! reversal, and whatever a switch sends that no request waits for (late and unmatched
//! answers). Every one is journaled before it reaches these functions.
//!
//! A 0210 is read through the switch's DE39 table: approved settles, declined is a final
//! rejection, ambiguous (or no answer at all) starts a reversal, never a guess (DESIGN.md
//! decision 6). A late approval after a reversal is a conflict for reconciliation, never a
//! silent overwrite.

use crate::config::{Config, SwitchConfig};
use crate::domain::SettlementState;
use crate::rails::wallet::{self, Answer};
use crate::store::journal::{self, Status};
use crate::store::messages::{self, Outbound};
use crate::store::outbox::{self, Kind};
use crate::store::settlements::{self, Change, Transitioned};
use crate::store::{now_ms, StoreError};
use iso8583::Message;
use sqlx::AnyConnection;

/// What a 0430 (or another answer to a reversal) means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReversalAnswer {
    /// 00: reversed. 25 (original not found): the credit never happened, so the money is where
    /// a reversal would have put it.
    Confirmed(String),
    /// A 0430 with any other code does not confirm the reversal: it is repeated (0421).
    NotConfirmed(String),
    /// Not a 0430 at all.
    Unexpected(String),
}

/// Reads an answer to a reversal.
pub fn reversal_answer(mti: &str, de39: Option<&str>) -> ReversalAnswer {
    let code = de39.unwrap_or("--");
    match (mti, code) {
        ("0430", "00" | "25") => ReversalAnswer::Confirmed(code.to_string()),
        ("0430", _) => ReversalAnswer::NotConfirmed(code.to_string()),
        (other, _) => ReversalAnswer::Unexpected(other.to_string()),
    }
}

/// What applying a 0210 did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CreditApplied {
    /// Approved or declined: the settlement's final state (or a duplicate or conflict).
    Final(Status),
    /// Outcome unknown at the switch: a reversal was stored and queued.
    Reversing,
}

/// The reason a declined credit's settlement records.
pub(super) const DECLINED_REASON: &str = "declined by the switch";

/// Applies the switch's journaled answer (`inbound`) to our `credit`, inside `tx`.
pub async fn apply_credit_answer(
    tx: &mut sqlx::AnyConnection,
    switch: &SwitchConfig,
    credit: &Outbound,
    inbound: i64,
    response: &Message,
) -> Result<CreditApplied, StoreError> {
    let sid = &credit.settlement_id;
    let (to, code) = match wallet::classify(switch, response.get_str(39)) {
        Answer::Approved(code) => (SettlementState::Settled, code),
        Answer::Declined(code) => (SettlementState::Rejected, code),
        Answer::Ambiguous(code) => {
            let why = format!("{} with DE39 {code}: outcome unknown", response.mti());
            start_reversal(tx, switch, credit, &why, Some(inbound)).await?;
            return Ok(CreditApplied::Reversing);
        }
    };
    let cause = format!("{} {code}", response.mti());
    let rejected = to == SettlementState::Rejected;
    let change = Change {
        cause: &cause,
        inbound_id: Some(inbound),
        reason_code: rejected.then_some(code.as_str()),
        reason: rejected.then_some(DECLINED_REASON),
        ..Default::default()
    };
    let status = match settlements::transition(tx, sid, to, &change).await? {
        Transitioned::Moved { .. } => Status::Applied,
        Transitioned::AlreadyThere => Status::Duplicate,
        Transitioned::Illegal(_) => Status::Conflict,
    };
    mark(tx, inbound, status, &cause, credit, response.mti()).await?;
    Ok(CreditApplied::Final(status))
}

/// The credit may or may not have happened: records it as sent, stores the 0420 with its own
/// STAN, and queues the reversal, all inside `tx`.
pub async fn start_reversal(
    tx: &mut sqlx::AnyConnection,
    switch: &SwitchConfig,
    credit: &Outbound,
    why: &str,
    inbound: Option<i64>,
) -> Result<(), StoreError> {
    let sid = &credit.settlement_id;
    tracing::warn!(settlement = %sid, switch = %credit.counterparty, why, "credit outcome unknown: reversing");
    if let Some(inbound) = inbound {
        mark(tx, inbound, Status::Applied, why, credit, "0210").await?;
    }
    let change = Change {
        cause: "dispatch",
        detail: Some(&format!("ambiguous: {why}; reversal queued")),
        inbound_id: inbound,
        ..Default::default()
    };
    // Already past `sent` (an answer came first): nothing to record.
    let _ = settlements::transition(tx, sid, SettlementState::Sent, &change).await?;
    let reversal = wallet::prepare_reversal(tx, switch, credit)
        .await?
        .map_err(|e| StoreError::Corrupt(format!("reversal of {sid}: {e}")))?;
    messages::insert(tx, &reversal).await?;
    outbox::enqueue(tx, Kind::Reverse, sid, now_ms()).await?;
    Ok(())
}

/// Applies the switch's journaled answer (`inbound`) to our `reversal`, inside `tx`. A
/// confirmed reversal makes the settlement `reversed`; any other answer is kept as a conflict
/// and returned, so that the reversal is repeated.
pub async fn apply_reversal_answer(
    tx: &mut sqlx::AnyConnection,
    reversal: &Outbound,
    inbound: i64,
    response: &Message,
) -> Result<ReversalAnswer, StoreError> {
    let answer = reversal_answer(response.mti(), response.get_str(39));
    let ReversalAnswer::Confirmed(code) = &answer else {
        let detail = match &answer {
            ReversalAnswer::Unexpected(mti) => {
                format!("switch answered {mti} to a reversal; expected 0430")
            }
            _ => format!(
                "reversal answered 0430 with DE39 {}: not confirmed",
                response.get_str(39).unwrap_or("--")
            ),
        };
        mark(
            tx,
            inbound,
            Status::Conflict,
            &detail,
            reversal,
            response.mti(),
        )
        .await?;
        return Ok(answer);
    };
    let cause = format!("0430 {code}");
    let change = Change {
        cause: &cause,
        inbound_id: Some(inbound),
        reason_code: Some("REVERSED"),
        reason: Some("outcome unknown at the switch; the credit was reversed"),
        ..Default::default()
    };
    settlements::transition(
        tx,
        &reversal.settlement_id,
        SettlementState::Reversed,
        &change,
    )
    .await?;
    mark(tx, inbound, Status::Applied, &cause, reversal, "0430").await?;
    Ok(answer)
}

async fn mark(
    tx: &mut AnyConnection,
    inbound: i64,
    status: Status,
    detail: &str,
    sent: &Outbound,
    kind: &str,
) -> Result<(), StoreError> {
    journal::mark(
        tx,
        inbound,
        status,
        &journal::Outcome {
            detail: Some(detail),
            settlement_id: Some(sent.settlement_id.as_str()),
            message_kind: Some(kind),
            message_ref: sent.rrn.as_deref(),
        },
    )
    .await
}

/// Applies a switch's answer journaled before a stop (recovery at start): the 0210 or 0430 to
/// the request it answers, matched by STAN and RRN, exactly as if it had arrived in time. An
/// answer that matches nothing, or a request no longer waiting for it, is classified as a late
/// one would be.
pub async fn recover(
    tx: &mut sqlx::AnyConnection,
    config: &Config,
    switch_id: &str,
    entry: &journal::Entry,
) -> Result<(), StoreError> {
    let Some(switch) = config.switch(switch_id) else {
        return reject(
            tx,
            entry.id,
            &format!("switch {switch_id:?} is not configured"),
        )
        .await;
    };
    let decoded = wallet::spec(switch)
        .map_err(|e| e.to_string())
        .and_then(|spec| Message::decode(&spec, &entry.raw).map_err(|e| e.to_string()));
    let response = match decoded {
        Ok(message) => message,
        Err(e) => return reject(tx, entry.id, &format!("recovered at start: {e}")).await,
    };
    let sent = match (response.get_str(11), response.get_str(37)) {
        (Some(stan), Some(rrn)) => messages::find_by_trace(tx, switch_id, stan, rrn).await?,
        _ => None,
    };
    let state = match &sent {
        Some(sent) => settlements::get(tx, &sent.settlement_id)
            .await?
            .map(|r| r.state),
        None => None,
    };
    match (sent, state) {
        (Some(credit), Some(SettlementState::Submitted))
            if credit.kind == wallet::CREDIT && response.mti() == "0210" =>
        {
            apply_credit_answer(tx, switch, &credit, entry.id, &response).await?;
        }
        (Some(reversal), Some(state)) if reversal.kind == wallet::REVERSAL && !state.is_final() => {
            apply_reversal_answer(tx, &reversal, entry.id, &response).await?;
        }
        _ => {
            let (status, detail, settlement) =
                classify_unmatched(tx, switch, &response, true).await?;
            journal::mark(
                tx,
                entry.id,
                status,
                &journal::Outcome {
                    detail: Some(&format!("recovered at start: {detail}")),
                    settlement_id: settlement.as_deref(),
                    message_kind: Some(response.mti()),
                    message_ref: None,
                },
            )
            .await?;
        }
    }
    Ok(())
}

async fn reject(tx: &mut AnyConnection, id: i64, detail: &str) -> Result<(), StoreError> {
    journal::mark(
        tx,
        id,
        Status::Rejected,
        &journal::Outcome {
            detail: Some(detail),
            ..Default::default()
        },
    )
    .await
}

/// What an answer that found no waiting request means: a late approval after a reversal is a
/// break (a conflict for reconciliation), never a silent overwrite (DESIGN.md decision 6).
/// Returns the journal status, a detail and the settlement it concerns.
pub async fn classify_unmatched(
    conn: &mut AnyConnection,
    switch: &SwitchConfig,
    message: &Message,
    late: bool,
) -> Result<(Status, String, Option<String>), StoreError> {
    let (Some(stan), Some(rrn)) = (message.get_str(11), message.get_str(37)) else {
        return Ok((
            Status::Unmatched,
            format!("{} without DE11/DE37", message.mti()),
            None,
        ));
    };
    let Some(sent) = messages::find_by_trace(conn, &switch.id, stan, rrn).await? else {
        return Ok((
            Status::Unmatched,
            format!(
                "{} for STAN {stan} RRN {rrn}: nothing sent with these",
                message.mti()
            ),
            None,
        ));
    };
    let state = settlements::get(conn, &sent.settlement_id)
        .await?
        .map(|r| r.state);
    let answer = wallet::classify(switch, message.get_str(39));
    let (status, detail) = late_answer(message.mti(), state, &answer, late);
    Ok((status, detail, Some(sent.settlement_id.to_string())))
}

/// How an answer that no request waited for is kept, from the settlement's state: pure, so
/// that every case is tested on its own.
pub fn late_answer(
    mti: &str,
    state: Option<SettlementState>,
    answer: &Answer,
    late: bool,
) -> (Status, String) {
    let lateness = if late { "late" } else { "unmatched" };
    match (state, answer) {
        (Some(SettlementState::Reversed), Answer::Approved(code)) if mti == "0210" => (
            Status::Conflict,
            format!("{lateness} approval (DE39 {code}) after the credit was reversed"),
        ),
        (Some(state), Answer::Approved(code)) if mti == "0210" && !state.is_final() => (
            Status::Conflict,
            format!("{lateness} approval (DE39 {code}) while the settlement is {state}, its outcome already treated as unknown"),
        ),
        (Some(state), answer) if state.is_final() => (
            Status::Duplicate,
            format!("{lateness} {mti} ({answer:?}); settlement already {state}"),
        ),
        (state, answer) => (
            Status::Conflict,
            format!(
                "{lateness} {mti} ({answer:?}) while the settlement is {}",
                state.map_or("unknown".into(), |s| s.to_string())
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SettlementState::*;

    #[test]
    fn a_reversal_is_confirmed_by_0430_with_00_or_25_only() {
        assert_eq!(
            reversal_answer("0430", Some("00")),
            ReversalAnswer::Confirmed("00".into())
        );
        assert_eq!(
            reversal_answer("0430", Some("25")),
            ReversalAnswer::Confirmed("25".into())
        );
        assert_eq!(
            reversal_answer("0430", Some("96")),
            ReversalAnswer::NotConfirmed("96".into())
        );
        assert_eq!(
            reversal_answer("0430", None),
            ReversalAnswer::NotConfirmed("--".into())
        );
        assert_eq!(
            reversal_answer("0210", Some("00")),
            ReversalAnswer::Unexpected("0210".into())
        );
    }

    #[test]
    fn late_answers_are_classified_from_the_settlement_state() {
        let approved = Answer::Approved("00".into());
        let declined = Answer::Declined("51".into());
        let (status, detail) = late_answer("0210", Some(Reversed), &approved, true);
        assert_eq!(status, Status::Conflict);
        assert!(detail.contains("after the credit was reversed"), "{detail}");
        let (status, _) = late_answer("0210", Some(Sent), &approved, true);
        assert_eq!(
            status,
            Status::Conflict,
            "approval while a reversal is under way"
        );
        let (status, detail) = late_answer("0210", Some(Settled), &approved, false);
        assert_eq!(status, Status::Duplicate);
        assert!(detail.starts_with("unmatched"), "{detail}");
        let (status, _) = late_answer("0210", Some(Rejected), &declined, true);
        assert_eq!(status, Status::Duplicate);
        let (status, detail) = late_answer("0430", None, &approved, true);
        assert_eq!(status, Status::Conflict);
        assert!(detail.contains("unknown"), "{detail}");
    }
}
