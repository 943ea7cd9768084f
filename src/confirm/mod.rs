//! Confirmations: counterparties' answers applied to settlements, one place per rail.
//!
//! - [`bank`]: a pacs.002 (in the HTTP answer to our send, by callback, or answering a
//!   pacs.028) reduced to status reports, matched by UETR (then MsgId + EndToEndId) and applied.
//! - [`wallet`]: a 0210 to a credit, a 0430 to a reversal, and late or unmatched answers;
//!   [`wallet_answered`] merges a group's 0210s that settle or decline.
//! - [`correction`]: a settled payment that the statement shows returned, corrected once.
//!
//! Every answer reaches these functions already journaled, raw (DESIGN.md decision 7). What
//! was journaled but not applied when the process stopped is applied at start by
//! [`recover_journal`], for every rail and for ledger posts, before any worker runs: only
//! entries whose sender was authenticated when they arrived.

pub mod answered;
pub mod bank;
pub mod correction;
pub mod wallet;
pub mod wallet_answered;

use crate::config::Config;
use crate::store::journal::{self, Channel};
use crate::store::{Store, StoreError};

/// Most journal entries recovered per start; the rest wait for the next start or for
/// reconciliation, and are never lost either way.
const RECOVER_ENTRIES_MAX: i64 = 1000;

/// Applies what was journaled but not applied because the process stopped in between
/// (journal status `received`), oldest first: ledger posts, bank answers and switch answers.
/// Run at start, before the workers: the journal, not the counterparty's goodwill, is what
/// makes an answer count once. Only entries whose sender was authenticated when they arrived
/// are applied; any other still `received` is marked rejected, never applied (DESIGN.md
/// decision 7). Returns how many entries were applied.
pub async fn recover_journal(store: &Store, config: &Config) -> Result<usize, StoreError> {
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
        let Some(source) = entry.source.as_deref() else {
            continue;
        };
        match entry.channel {
            Channel::LedgerHttp | Channel::LedgerFile => {
                // An authenticated post the crash cut off before its answer: the ledger will
                // post it again, and idempotency by key makes either copy count once.
                // Applying it now leaves no pending work in the journal that nobody will do.
                match crate::intake::accept_body(store, config, source, entry.id, &entry.raw).await
                {
                    Ok(_) => {}
                    Err(crate::intake::IntakeError::Store(e)) => return Err(e),
                    // Refused content: the entry is marked rejected with the reason.
                    Err(_) => {}
                }
            }
            // Logs journaled by a follower that stopped before the intake committed: its
            // cursor did not move past them, so it reads them again; applying this copy too
            // would count nothing twice (the key), but the cursor and the chain record go
            // with the follower's copy. Marked, not applied.
            Channel::LedgerEvm => {
                let mut conn = store.pool().acquire().await?;
                journal::mark(
                    &mut conn,
                    entry.id,
                    journal::Status::Duplicate,
                    &journal::Outcome {
                        detail: Some(
                            "not applied: the follower stopped before taking these logs in; \
                             it reads them again from its stored cursor",
                        ),
                        ..Default::default()
                    },
                )
                .await?;
                continue;
            }
            Channel::BankResponse | Channel::BankCallback => {
                let mut tx = store.begin().await?;
                bank::recover(&mut tx, config, source, &entry).await?;
                tx.commit().await?;
            }
            // An answer to our request, or something the switch sent unasked that was not yet
            // classified when the process stopped: matched and applied (or classified) now.
            Channel::SwitchResponse | Channel::SwitchMessage => {
                let mut tx = store.begin().await?;
                wallet::recover(&mut tx, config, source, &entry).await?;
                tx.commit().await?;
            }
        }
        applied += 1;
        crate::crash_point!("recovery.after_entry");
    }
    if applied > 0 {
        tracing::info!(
            applied,
            "journal entries received before a stop were applied at start"
        );
    }
    Ok(applied)
}
