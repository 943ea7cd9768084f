//! The bank rail's answers applied to settlements.
//!
//! A journaled pacs.002 is reduced to [`StatusReport`]s; each is matched to what we sent
//! (UETR first, then original MsgId + EndToEndId) and drives the state machine. A duplicate
//! answer changes nothing; an answer that contradicts a final state is refused by the
//! transition table and kept as a conflict for reconciliation; an answer naming nothing we
//! sent is kept as unmatched. Nothing is dropped.

use super::correction;
use crate::domain::{SettlementId, SettlementState};
use crate::rails::bank::{Reported, StatusReport};
use crate::store::journal::{self, Status};
use crate::store::settlements::{self, Change, Transitioned};
use crate::store::{messages, outbox, StoreError};
use iso20022::types::TransactionStatus;

/// What a transaction status means for the settlement; `None` for a status that says
/// nothing we act on (received, presented, blocked, cancelled, partial, or unknown): kept as
/// a conflict for reconciliation.
pub fn target_state(status: &TransactionStatus) -> Option<SettlementState> {
    use TransactionStatus as T;
    match status {
        // Settlement completed (at the creditor agent / on the creditor's account).
        T::Acsc | T::Accc | T::Acis => Some(SettlementState::Settled),
        // Accepted and in progress; pending is "in progress" too.
        T::Acsp | T::Actc | T::Acwc | T::Accp | T::Acfc | T::Acwp | T::Pdng => {
            Some(SettlementState::Accepted)
        }
        T::Rjct => Some(SettlementState::Rejected),
        _ => None,
    }
}

/// What applying one report did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    Moved {
        settlement_id: String,
        from: SettlementState,
        to: SettlementState,
    },
    Duplicate {
        settlement_id: String,
    },
    Conflict {
        settlement_id: String,
        why: String,
    },
    Unmatched {
        why: String,
    },
}

/// Applies the reports of one journaled message from `counterparty` inside `conn`'s
/// transaction, and marks the journal entry. A report that leaves its settlement in progress
/// (ACSP, PDNG, ...) arms the settlement's status request `status_after_ms` later, however
/// the report came (answer, callback, status answer, recovery at start).
pub async fn apply_reports(
    tx: &mut sqlx::AnyConnection,
    counterparty: &str,
    inbound_id: i64,
    message_kind: &str,
    reports: &[StatusReport],
    status_after_ms: Option<i64>,
) -> Result<Vec<Applied>, StoreError> {
    let mut applied = Vec::with_capacity(reports.len());
    for report in reports {
        let outcome = apply_one(tx, counterparty, inbound_id, report).await?;
        if let (
            Applied::Moved {
                settlement_id,
                to: SettlementState::Sent | SettlementState::Accepted,
                ..
            },
            Some(after_ms),
        ) = (&outcome, status_after_ms)
        {
            if let Some(sid) = SettlementId::parse(settlement_id) {
                outbox::arm_status(tx, &sid, crate::store::now_ms() + after_ms).await?;
            }
        }
        applied.push(outcome);
    }
    // A conflict anywhere in the message wins, so that reconciliation sees it.
    let status = if applied
        .iter()
        .any(|a| matches!(a, Applied::Conflict { .. }))
    {
        Status::Conflict
    } else if applied.iter().any(|a| matches!(a, Applied::Moved { .. })) {
        Status::Applied
    } else if !applied.is_empty()
        && applied
            .iter()
            .all(|a| matches!(a, Applied::Duplicate { .. }))
    {
        Status::Duplicate
    } else {
        Status::Unmatched
    };
    let detail = applied.iter().map(describe).collect::<Vec<_>>().join("; ");
    let first_settlement = applied.iter().find_map(|a| match a {
        Applied::Moved { settlement_id, .. }
        | Applied::Duplicate { settlement_id }
        | Applied::Conflict { settlement_id, .. } => Some(settlement_id.as_str()),
        Applied::Unmatched { .. } => None,
    });
    let reference = reports.first().and_then(|r| r.orgnl_uetr.as_deref());
    journal::mark(
        tx,
        inbound_id,
        status,
        &journal::Outcome {
            detail: Some(if detail.is_empty() {
                "no transaction status in message"
            } else {
                &detail
            }),
            settlement_id: first_settlement,
            message_kind: Some(message_kind),
            message_ref: reference,
        },
    )
    .await?;
    Ok(applied)
}

pub(crate) fn describe(applied: &Applied) -> String {
    match applied {
        Applied::Moved {
            settlement_id,
            from,
            to,
        } => format!("{settlement_id}: {from} -> {to}"),
        Applied::Duplicate { settlement_id } => format!("{settlement_id}: duplicate"),
        Applied::Conflict { settlement_id, why } => format!("{settlement_id}: conflict: {why}"),
        Applied::Unmatched { why } => format!("unmatched: {why}"),
    }
}

async fn apply_one(
    tx: &mut sqlx::AnyConnection,
    counterparty: &str,
    inbound_id: i64,
    report: &StatusReport,
) -> Result<Applied, StoreError> {
    let sent = messages::find_by_reference(
        tx,
        report.orgnl_uetr.as_deref(),
        report.orgnl_msg_id.as_deref(),
        report.orgnl_end_to_end_id.as_deref(),
    )
    .await?;
    let Some(sent) = sent else {
        return Ok(Applied::Unmatched {
            why: format!(
                "no message sent with UETR {:?} / MsgId {:?} + EndToEndId {:?}",
                report.orgnl_uetr, report.orgnl_msg_id, report.orgnl_end_to_end_id
            ),
        });
    };
    let settlement_id = sent.settlement_id.to_string();
    if sent.counterparty != counterparty {
        return Ok(Applied::Unmatched {
            why: format!(
                "{} answered for a message sent to {}",
                counterparty, sent.counterparty
            ),
        });
    }
    let target = match &report.status {
        Reported::Status(status) => target_state(status),
        Reported::Returned => Some(SettlementState::Returned),
    };
    let Some(to) = target else {
        return Ok(Applied::Conflict {
            settlement_id,
            why: format!("unknown transaction status {}", report.status),
        });
    };
    let cause = report.status.to_string();
    let detail = reason_detail(report);
    if to != SettlementState::Sent {
        // The report names a message we sent, so the bank has it. When it overtook our own
        // record of the send (an asynchronous callback before the HTTP answer was written),
        // `sent` is recorded first, so that the audit trail reads the same in either order;
        // a settlement already sent or further on is left as it is.
        let taken = Change {
            cause: "dispatch",
            detail: Some("the bank's report names the message"),
            inbound_id: Some(inbound_id),
            ..Default::default()
        };
        settlements::transition(tx, &sent.settlement_id, SettlementState::Sent, &taken).await?;
    }
    let change = change_for(report, to, &cause, detail.as_deref(), inbound_id);
    Ok(
        match settlements::transition(tx, &sent.settlement_id, to, &change).await? {
            Transitioned::Moved { from } => Applied::Moved {
                settlement_id,
                from,
                to,
            },
            Transitioned::AlreadyThere => Applied::Duplicate { settlement_id },
            Transitioned::Illegal(e) => {
                refused_move(tx, &sent.settlement_id, inbound_id, report, detail, e).await?
            }
        },
    )
}

/// A report the state table refuses: a late "accepted" after "settled" is old news; a return
/// of a payment the bank had settled (and we had written back as settled) corrects the outcome
/// once, with a write-back of its own; anything else is kept as a conflict.
async fn refused_move(
    tx: &mut sqlx::AnyConnection,
    sid: &SettlementId,
    inbound_id: i64,
    report: &StatusReport,
    detail: Option<String>,
    e: crate::domain::TransitionError,
) -> Result<Applied, StoreError> {
    let settlement_id = sid.to_string();
    if e.from != SettlementState::Settled {
        tracing::warn!(settlement = %settlement_id, error = %e, status = %report.status, "answer contradicts settlement state; kept as conflict");
        return Ok(Applied::Conflict {
            settlement_id,
            why: e.to_string(),
        });
    }
    Ok(match (&report.status, e.to) {
        (_, SettlementState::Accepted) => Applied::Duplicate { settlement_id },
        (Reported::Returned, _) => {
            let reason = report.reason_code.as_deref();
            match correction::bank_return_after_settlement(
                tx,
                sid,
                inbound_id,
                reason,
                detail.as_deref(),
            )
            .await?
            {
                correction::Corrected::Returned { .. } => Applied::Moved {
                    settlement_id,
                    from: SettlementState::Settled,
                    to: SettlementState::Returned,
                },
                correction::Corrected::NotSettled(_) => Applied::Duplicate { settlement_id },
            }
        }
        _ => {
            tracing::warn!(settlement = %settlement_id, error = %e, status = %report.status, "answer contradicts settlement state; kept as conflict");
            Applied::Conflict {
                settlement_id,
                why: e.to_string(),
            }
        }
    })
}

/// The reason a report gives, as one line: code and text, either, or none.
pub(crate) fn reason_detail(report: &StatusReport) -> Option<String> {
    match (&report.reason_code, &report.reason_text) {
        (Some(code), Some(text)) => Some(format!("{code}: {text}")),
        (Some(code), None) => Some(code.clone()),
        (None, Some(text)) => Some(text.clone()),
        (None, None) => None,
    }
}

/// The state change a report asks for; a rejection carries its reason code (NARR when the
/// bank gave only a text).
pub(crate) fn change_for<'a>(
    report: &'a StatusReport,
    to: SettlementState,
    cause: &'a str,
    detail: Option<&'a str>,
    inbound_id: i64,
) -> Change<'a> {
    // A rejection or a return carries its reason code (NARR when the bank gave only a text).
    let rejected = matches!(to, SettlementState::Rejected | SettlementState::Returned);
    Change {
        cause,
        detail,
        inbound_id: Some(inbound_id),
        reason_code: if rejected {
            report.reason_code.as_deref().or(Some("NARR"))
        } else {
            None
        },
        reason: if rejected {
            report.reason_text.as_deref()
        } else {
            None
        },
        ..Default::default()
    }
}

/// Applies a bank message journaled before a stop (recovery at start): parsed and applied
/// like a fresh one, or marked rejected when it cannot be read.
pub async fn recover(
    tx: &mut sqlx::AnyConnection,
    config: &crate::config::Config,
    bank: &str,
    entry: &journal::Entry,
) -> Result<(), StoreError> {
    match crate::rails::bank::parse_reports(&entry.raw) {
        Ok((kind, reports)) => {
            let after_ms = config.bank(bank).map(|b| b.status_request_after_ms);
            apply_reports(tx, bank, entry.id, &kind, &reports, after_ms).await?;
        }
        Err(e) => {
            let detail = format!("recovered at start: {e}");
            journal::mark(
                tx,
                entry.id,
                Status::Rejected,
                &journal::Outcome {
                    detail: Some(&detail),
                    ..Default::default()
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// Applies the status reports of a journaled bank answer to the settlement `sid` it answers,
/// inside `conn`'s transaction; an answer that cannot be read stays in the journal, marked
/// rejected. True when a report moved `sid` to a final state (where it stays final), so that
/// the caller need not read its state again.
pub async fn apply_answer(
    tx: &mut sqlx::AnyConnection,
    config: &crate::config::Config,
    sid: &SettlementId,
    bank_id: &str,
    inbound: i64,
    body: &[u8],
) -> Result<bool, StoreError> {
    match crate::rails::bank::parse_reports(body) {
        Ok((kind, reports)) => {
            let after_ms = config.bank(bank_id).map(|b| b.status_request_after_ms);
            let applied = apply_reports(tx, bank_id, inbound, &kind, &reports, after_ms).await?;
            // A final state only ever moves to another final state (settled -> returned).
            Ok(applied.iter().any(|a| {
                matches!(a, Applied::Moved { settlement_id, to, .. }
                    if settlement_id == sid.as_str() && to.is_final())
            }))
        }
        Err(e) => {
            tracing::warn!(settlement = %sid, bank = bank_id, error = %e, "bank answer could not be read; kept in the journal");
            journal::mark(
                tx,
                inbound,
                Status::Rejected,
                &journal::Outcome {
                    detail: Some(&e.to_string()),
                    settlement_id: Some(sid.as_str()),
                    ..Default::default()
                },
            )
            .await?;
            Ok(false)
        }
    }
}

/// `submitted → sent` after the bank took the message, tolerating an answer that already
/// moved the settlement on.
pub async fn mark_sent(
    tx: &mut sqlx::AnyConnection,
    sid: &SettlementId,
    detail: &str,
    inbound_id: Option<i64>,
) -> Result<(), StoreError> {
    let change = Change {
        cause: "dispatch",
        detail: Some(detail),
        inbound_id,
        ..Default::default()
    };
    match settlements::transition(tx, sid, SettlementState::Sent, &change).await? {
        Transitioned::Moved { .. } | Transitioned::AlreadyThere => {}
        // Already past `sent` (an asynchronous answer came first): nothing to record.
        Transitioned::Illegal(_) => {}
    }
    Ok(())
}

/// When a bank has taken the payment but not given a final answer (202, ACSP, PDNG, or an
/// answer we could not read), arms the pacs.028 status request for later.
pub async fn arm_status_if_open(
    tx: &mut sqlx::AnyConnection,
    config: &crate::config::Config,
    sid: &SettlementId,
    bank_id: &str,
) -> Result<(), StoreError> {
    let Some(bank) = config.bank(bank_id) else {
        return Ok(());
    };
    let state = settlements::current_state(tx, sid).await?;
    if matches!(state, SettlementState::Sent | SettlementState::Accepted) {
        outbox::arm_status(
            tx,
            sid,
            crate::store::now_ms() + bank.status_request_after_ms,
        )
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::target_state;
    use crate::domain::SettlementState::*;
    use iso20022::types::TransactionStatus;

    fn status(code: &str) -> TransactionStatus {
        code.parse().unwrap()
    }

    #[test]
    fn each_transaction_status_drives_one_state_or_none() {
        for code in ["ACSC", "ACCC", "ACIS"] {
            assert_eq!(target_state(&status(code)), Some(Settled), "{code}");
        }
        for code in ["ACSP", "ACTC", "ACWC", "ACCP", "ACFC", "ACWP", "PDNG"] {
            assert_eq!(target_state(&status(code)), Some(Accepted), "{code}");
        }
        assert_eq!(target_state(&status("RJCT")), Some(Rejected));
        for code in ["RCVD", "PRES", "BLCK", "CANC", "PATC", "ZZZZ"] {
            assert_eq!(target_state(&status(code)), None, "{code}");
        }
    }

    /// A bank's callback settling the payment with `uetr`.
    fn settled_callback(uetr: &str) -> String {
        format!(
            r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"><FIToFIPmtStsRpt>
<GrpHdr><MsgId>CALLBACK-1</MsgId><CreDtTm>2026-12-05T10:00:00+00:00</CreDtTm></GrpHdr>
<TxInfAndSts><OrgnlUETR>{uetr}</OrgnlUETR><TxSts>ACSC</TxSts></TxInfAndSts>
</FIToFIPmtStsRpt></Document>"#
        )
    }

    /// A report that overtakes our record of the send (an asynchronous callback before the
    /// HTTP answer is written) records `sent` first: the audit trail reads the same in either
    /// order. On SQLite and (when `DATABASE_URL` names a server) on PostgreSQL.
    #[tokio::test]
    async fn a_report_before_our_record_of_the_send_records_sent_first() {
        use super::{apply_reports, mark_sent};
        use crate::domain::SettlementId;
        use crate::store::journal::{self, AuthenticatedBy, Channel};
        use crate::store::testing::{config, event};
        use crate::store::{messages, settlements};
        let config = config();
        for each in
            crate::store::testing::each("a_report_before_our_record_of_the_send_records_sent_first")
                .await
        {
            let store = each.store.clone();
            let inbound = crate::store::testing::journaled(&store).await;
            let created = crate::intake::accept_events(
                &store,
                &config,
                "l",
                inbound,
                vec![event("early", "10.00")],
            )
            .await
            .unwrap();
            let sid = SettlementId::parse(created[0].settlement_id.as_deref().unwrap()).unwrap();
            let mut conn = store.pool().acquire().await.unwrap();
            let message = messages::for_settlement(&mut conn, &sid, "pacs.008.001.08")
                .await
                .unwrap()
                .unwrap();
            drop(conn);
            let body = settled_callback(message.uetr.as_deref().unwrap());
            let answer = journal::record(
                &store,
                Channel::BankCallback,
                Some(&message.counterparty),
                None,
                body.as_bytes(),
                AuthenticatedBy::Signature,
            )
            .await
            .unwrap();
            let (kind, reports) = crate::rails::bank::parse_reports(body.as_bytes()).unwrap();
            let mut tx = store.begin().await.unwrap();
            apply_reports(
                &mut tx,
                &message.counterparty,
                answer,
                &kind,
                &reports,
                None,
            )
            .await
            .unwrap();
            // Our own record of the send comes after it, and is old news.
            mark_sent(&mut tx, &sid, "HTTP 202", None).await.unwrap();
            tx.commit().await.unwrap();
            let mut conn = store.pool().acquire().await.unwrap();
            let path: Vec<String> = settlements::transitions(&mut conn, &sid)
                .await
                .unwrap()
                .into_iter()
                .map(|t| t.to)
                .collect();
            assert_eq!(path, ["received", "routed", "submitted", "sent", "settled"]);
            drop(conn);
            each.finish().await;
        }
    }
}
