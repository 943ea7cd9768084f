//! Confirmations: counterparties' answers applied to settlements.
//!
//! A journaled pacs.002 is reduced to [`StatusReport`]s; each is matched to what we sent
//! (UETR first, then original MsgId + EndToEndId) and drives the state machine. A duplicate
//! answer changes nothing; an answer that contradicts a final state is refused by the
//! transition table and kept as a conflict for reconciliation; an answer naming nothing we
//! sent is kept as unmatched. Nothing is dropped.

use crate::domain::SettlementState;
use crate::rails::bank::StatusReport;
use crate::store::journal::{self, Channel, Status};
use crate::store::settlements::{self, Change, Transitioned};
use crate::store::{messages, StoreError};
use sqlx::AnyConnection;

/// What a transaction status code means for the settlement.
pub fn target_state(status: &str) -> Option<SettlementState> {
    match status {
        // Settlement completed (at the creditor agent / on the creditor's account).
        "ACSC" | "ACCC" => Some(SettlementState::Settled),
        // Accepted and in progress; pending is "in progress" too.
        "ACSP" | "ACTC" | "ACWC" | "ACCP" | "ACFC" | "ACWP" | "PDNG" => {
            Some(SettlementState::Accepted)
        }
        "RJCT" => Some(SettlementState::Rejected),
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
    conn: &mut AnyConnection,
    counterparty: &str,
    inbound_id: i64,
    message_kind: &str,
    reports: &[StatusReport],
    status_after_ms: Option<i64>,
) -> Result<Vec<Applied>, StoreError> {
    let mut applied = Vec::with_capacity(reports.len());
    for report in reports {
        let outcome = apply_one(conn, counterparty, inbound_id, report).await?;
        if let (
            Applied::Moved {
                settlement_id,
                to: SettlementState::Sent | SettlementState::Accepted,
                ..
            },
            Some(after_ms),
        ) = (&outcome, status_after_ms)
        {
            if let Some(sid) = crate::domain::SettlementId::parse(settlement_id) {
                crate::store::outbox::arm_status(conn, &sid, crate::store::now_ms() + after_ms)
                    .await?;
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
        conn,
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

fn describe(applied: &Applied) -> String {
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
    conn: &mut AnyConnection,
    counterparty: &str,
    inbound_id: i64,
    report: &StatusReport,
) -> Result<Applied, StoreError> {
    let sent = messages::find_by_reference(
        conn,
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
    let Some(to) = target_state(&report.status) else {
        return Ok(Applied::Conflict {
            settlement_id,
            why: format!("unknown transaction status {:?}", report.status),
        });
    };
    let cause = format!("pacs.002 {}", report.status);
    let detail = match (&report.reason_code, &report.reason_text) {
        (Some(code), Some(text)) => Some(format!("{code}: {text}")),
        (Some(code), None) => Some(code.clone()),
        (None, Some(text)) => Some(text.clone()),
        (None, None) => None,
    };
    let rejected = to == SettlementState::Rejected;
    let change = Change {
        cause: &cause,
        detail: detail.as_deref(),
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
    };
    Ok(
        match settlements::transition(conn, &sent.settlement_id, to, &change).await? {
            Transitioned::Moved { from } => Applied::Moved {
                settlement_id,
                from,
                to,
            },
            Transitioned::AlreadyThere => Applied::Duplicate { settlement_id },
            Transitioned::Illegal(e) => {
                // Late "accepted" after "settled" is old news, not a conflict.
                if e.from == SettlementState::Settled && e.to == SettlementState::Accepted {
                    Applied::Duplicate { settlement_id }
                } else {
                    tracing::warn!(settlement = %settlement_id, error = %e, status = %report.status, "answer contradicts settlement state; kept as conflict");
                    Applied::Conflict {
                        settlement_id,
                        why: e.to_string(),
                    }
                }
            }
        },
    )
}

/// Most journal entries recovered per start; the rest wait for the next start or for
/// reconciliation, and are never lost either way.
const RECOVER_ENTRIES_MAX: i64 = 1000;

/// Applies bank messages that were journaled but not applied because the process stopped in
/// between (journal status `received`). Run at start, before the workers: the journal, not
/// the bank's goodwill, is what makes an answer count once. Only entries whose sender was
/// authenticated when they arrived are applied; any other still `received` is marked
/// rejected, never applied (DESIGN.md decision 7).
pub async fn recover_journal(
    store: &crate::store::Store,
    config: &crate::config::Config,
) -> Result<usize, StoreError> {
    let pending = {
        let mut conn = store.pool().acquire().await?;
        let refused = journal::reject_unauthenticated(&mut conn).await?;
        if refused > 0 {
            tracing::warn!(
                refused,
                "journal entries never authenticated were left unapplied; marked rejected"
            );
        }
        journal::unapplied(&mut conn, RECOVER_ENTRIES_MAX).await?
    };
    let mut applied = 0;
    for entry in pending {
        let is_ledger = entry.channel == Channel::LedgerHttp.as_str()
            || entry.channel == Channel::LedgerFile.as_str();
        let is_bank = entry.channel == Channel::BankResponse.as_str()
            || entry.channel == Channel::BankCallback.as_str();
        if let (true, Some(ledger)) = (is_ledger, entry.source.as_deref()) {
            // An authenticated post the crash cut off before its answer: the ledger will post
            // it again, and idempotency by key makes either copy count once. Applying it now
            // means the journal holds no pending work that nobody will do.
            match crate::intake::accept_body(store, config, ledger, entry.id, &entry.raw).await {
                Ok(_) => applied += 1,
                Err(crate::intake::IntakeError::Store(e)) => return Err(e),
                // Refused content: the entry is marked rejected with the reason.
                Err(_) => {}
            }
            continue;
        }
        let (true, Some(bank)) = (is_bank, entry.source.as_deref()) else {
            continue;
        };
        let mut tx = store.begin().await?;
        match crate::rails::bank::parse_reports(&entry.raw) {
            Ok((kind, reports)) => {
                let after_ms = config.bank(bank).map(|b| b.status_request_after_ms);
                apply_reports(&mut tx, bank, entry.id, &kind, &reports, after_ms).await?;
                applied += 1;
            }
            Err(e) => {
                let detail = format!("recovered at start: {e}");
                journal::mark(
                    &mut tx,
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
        tx.commit().await?;
    }
    if applied > 0 {
        tracing::info!(
            applied,
            "ledger events and bank messages journaled before a stop were applied at start"
        );
    }
    Ok(applied)
}
