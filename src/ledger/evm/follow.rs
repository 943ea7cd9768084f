//! The follower of one EVM ledger, as a gateway task.
//!
//! Each poll of `ledger_evm::Follower` gives the logs released (confirmed) since the cursor.
//! They are journaled raw first (channel `ledger-evm`), then taken in by the shared intake
//! in one transaction that also stores the cursor after the last of them and a row per log
//! (`evm_events`): after a crash the follower starts again from the stored cursor, so no log
//! is missed, and none counts twice (the intake's key is the event id, and the cursor moved
//! with the events or not at all).
//!
//! Reorgs: a reorg shallower than the confirmation depth only withdraws logs that were seen,
//! never acted on (the crate handles it; counted here). A reorg below the cursor makes the
//! follower go back to the newest block whose hash still matches a block it took logs from,
//! mark the logs above it `reorged`, and read again: a log the chain gives back (same key) is
//! `released` again and the intake answers "known". One the chain does not give back by the
//! time the follower is past where the reorg was found is `gone`: withdrawn when nothing was
//! sent for it yet (its delivery is cancelled, the settlement fails with `WITHDRAWN`, and no
//! outcome is written for it), otherwise a conflict for an operator (`ledger status`, the
//! API, `corridor_evm_conflicts_total`).
//!
//! Several instances on one PostgreSQL: a ledger's follower runs in one of them at a time
//! (DESIGN.md decision 14), the one whose session holds the ledger's advisory lock; the others
//! stand by and take over when that session ends (its instance died or stopped).

use super::sink::Sink;
use super::store::{self as evm_store, ConflictKind};
use super::{raw_log, to_event, EvmError, EvmLedgerRef};
use crate::config::Config;
use crate::domain::{SettlementId, SettlementState};
use crate::intake::{self, Intake};
use crate::store::journal::{self, AuthenticatedBy, Channel};
use crate::store::settlements::{self, Change, Transitioned};
use crate::store::{Store, Tx};
use ledger_evm::follower::{Advance, Cursor, Follower, Poll, ReorgBelowCursor, SettlementRequest};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// Blocks holding our logs looked at, newest first, to find where a deep reorg forked.
const FORK_SEARCH_BLOCKS_MAX: i64 = 1_000;

/// What one poll did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PollReport {
    /// Logs released and taken in.
    pub released: usize,
    /// Of those, new settlements.
    pub created: usize,
    /// Of those, refused by the intake (kept in the journal, reported).
    pub invalid: usize,
    /// Seen logs withdrawn by a reorg above the confirmation depth.
    pub withdrawn_unconfirmed: usize,
    /// A reorg below the cursor was found and the follower went back.
    pub reorg_below_cursor: bool,
    /// Logs a deep reorg took away for good: withdrawn (nothing sent yet) ...
    pub withdrawn_after_reorg: usize,
    /// ... or conflicts (already acted on).
    pub conflicts: usize,
    /// The chain's head at this poll.
    pub head: Option<u64>,
    /// Whether every confirmed block has been read.
    pub caught_up: bool,
    /// Another instance follows this ledger (PostgreSQL advisory lock): nothing was read.
    pub standby: bool,
    /// `failed` outcomes of refused instructions recorded on chain in this poll.
    pub refusals_recorded: usize,
}

/// How long to wait after a poll: not at all while a backlog remains, else `idle`. A failed
/// poll is counted and logged (as needing an operator when it is not transient).
fn pause_after(id: &str, polled: Result<PollReport, EvmError>, idle: Duration) -> Duration {
    match polled {
        Ok(report) if !report.caught_up && report.released > 0 => Duration::ZERO,
        Ok(_) => idle,
        Err(e) => {
            metrics::counter!("corridor_evm_follower_errors_total", "ledger" => id.to_string())
                .increment(1);
            if e.is_transient() {
                tracing::warn!(ledger = %id, error = %e, "evm follower: poll failed, will retry");
            } else {
                tracing::error!(ledger = %id, error = %e, "evm follower: poll failed; needs an operator (retrying)");
            }
            idle
        }
    }
}

/// One EVM ledger's follower with the gateway's store and intake.
pub struct Following {
    ledger: EvmLedgerRef,
    store: Store,
    config: Arc<Config>,
    wake: Arc<Notify>,
    follower: Option<Follower>,
    /// The ledger's outcome writer, shared with the write-back jobs: the follower records
    /// the `failed` outcome of instructions the intake refused.
    sink: Arc<Sink>,
    /// PostgreSQL: the session holding this ledger's advisory lock, outside the pool so that
    /// the lock ends with it (a pooled connection would keep it after we let go).
    /// (A mutex only to make the struct `Sync`; it is reached through `&mut self`.)
    owner: tokio::sync::Mutex<Option<sqlx::AnyConnection>>,
    /// While dispatch is too far behind, no further blocks are read (the HTTP intake answers
    /// 503 meanwhile): the chain keeps the events until there is room for them.
    admission: Arc<crate::intake::admission::Admission>,
}

impl Following {
    pub fn new(
        ledger: EvmLedgerRef,
        store: Store,
        config: Arc<Config>,
        wake: Arc<Notify>,
        sink: Arc<Sink>,
        admission: Arc<crate::intake::admission::Admission>,
    ) -> Self {
        Following {
            ledger,
            store,
            config,
            wake,
            follower: None,
            sink,
            owner: tokio::sync::Mutex::new(None),
            admission,
        }
    }

    /// Polls until `stop`: at once again while a backlog remains, else every
    /// `poll_interval_ms`; not at all while dispatch is too far behind. Errors are logged and
    /// the poll retried from the stored cursor.
    pub async fn run(mut self, stop: CancellationToken) {
        let idle = Duration::from_millis(self.ledger.settings.poll_interval_ms);
        let id = self.ledger.id.clone();
        loop {
            let pause = if self.admission.refusal().is_some() {
                metrics::counter!("corridor_evm_follower_paused_total", "ledger" => id.clone())
                    .increment(1);
                idle
            } else {
                let polled = self.poll_once().await;
                pause_after(&id, polled, idle)
            };
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(pause) => {}
            }
        }
    }

    /// One poll: takes in what was released, or goes back after a deep reorg.
    pub async fn poll_once(&mut self) -> Result<PollReport, EvmError> {
        if !self.own().await? {
            self.follower = None;
            return Ok(PollReport {
                standby: true,
                caught_up: true,
                ..Default::default()
            });
        }
        let mut follower = match self.follower.take() {
            Some(f) => f,
            None => self.start_follower().await?,
        };
        let polled = follower.poll().await;
        let result = match polled {
            Ok(Poll::Advanced(advance)) => self.take_in(&follower, advance).await,
            Ok(Poll::ReorgBelowCursor(reorg)) => self.go_back(&mut follower, reorg).await,
            Err(e) => Err(e.into()),
        };
        // After a failed poll the follower's own position may be ahead of the stored one:
        // start again from the store.
        if result.is_ok() {
            self.follower = Some(follower);
        }
        let mut report = result?;
        report.refusals_recorded = self.record_refusals().await;
        Ok(report)
    }

    /// The `failed` outcomes of refused instructions, stepped for at most one poll interval
    /// (the rest go on at the next poll). An error is logged, not returned: the refusals wait
    /// in the store, and following goes on.
    async fn record_refusals(&self) -> usize {
        let budget = Duration::from_millis(self.ledger.settings.poll_interval_ms.min(1_000));
        match self.sink.record_refusals(&self.store, budget).await {
            Ok(n) => n,
            Err(e) => {
                tracing::warn!(ledger = %self.ledger.id, error = %e, "evm follower: recording the outcome of refused instructions failed, will retry");
                0
            }
        }
    }

    /// Whether this instance follows the ledger: always on SQLite (one instance); on
    /// PostgreSQL while its session holds the ledger's advisory lock.
    async fn own(&mut self) -> Result<bool, EvmError> {
        use sqlx::{Connection as _, Row as _};
        if self.store.dialect() != crate::store::Dialect::Postgres {
            return Ok(true);
        }
        let owner = self.owner.get_mut();
        if let Some(conn) = owner.as_mut() {
            if conn.ping().await.is_ok() {
                return Ok(true);
            }
            // The session is gone, and the lock with it: another instance may follow now.
            tracing::warn!(ledger = %self.ledger.id, "evm follower: lost the session holding the ledger's lock");
            *owner = None;
            return Ok(false);
        }
        let mut conn = self
            .store
            .pool()
            .acquire()
            .await
            .map_err(crate::store::StoreError::from)?
            .detach();
        let got: bool = sqlx::query("SELECT pg_try_advisory_lock($1) AS got")
            .bind(lock_key(&self.ledger.id))
            .fetch_one(&mut conn)
            .await
            .map_err(crate::store::StoreError::from)?
            .try_get("got")
            .map_err(crate::store::StoreError::from)?;
        if got {
            tracing::info!(ledger = %self.ledger.id, "evm follower: this instance follows the ledger");
            *owner = Some(conn);
        }
        Ok(got)
    }

    async fn start_follower(&self) -> Result<Follower, EvmError> {
        let stored = {
            let mut conn = self
                .store
                .pool()
                .acquire()
                .await
                .map_err(crate::store::StoreError::from)?;
            evm_store::cursor(&mut conn, &self.ledger.id).await?
        };
        let expected = self.ledger.settings.chain_id;
        let follower = Follower::new(
            self.ledger.provider()?,
            self.ledger.follower_config(),
            stored.as_ref().map(|s| s.cursor),
        )
        .await?;
        for found in [Some(follower.chain_id()), stored.map(|s| s.chain_id)]
            .into_iter()
            .flatten()
        {
            if found != expected {
                return Err(EvmError::ChainId {
                    ledger: self.ledger.id.clone(),
                    expected,
                    found,
                });
            }
        }
        Ok(follower)
    }

    fn ledger_config(&self) -> &crate::config::LedgerConfig {
        self.config
            .ledger(&self.ledger.id)
            .expect("an evm ledger being followed is configured")
    }

    async fn take_in(&self, follower: &Follower, advance: Advance) -> Result<PollReport, EvmError> {
        let id = &self.ledger.id;
        let chain_id = follower.chain_id();
        let mut report = PollReport {
            withdrawn_unconfirmed: advance.withdrawn.len(),
            head: Some(advance.head),
            caught_up: advance.caught_up,
            ..Default::default()
        };
        if !advance.withdrawn.is_empty() {
            metrics::counter!("corridor_evm_reorgs_total", "ledger" => id.clone(), "depth" => "unconfirmed")
                .increment(1);
            tracing::info!(ledger = %id, withdrawn = advance.withdrawn.len(), "evm follower: a reorg above the confirmation depth withdrew logs not yet acted on");
        }
        for chunk in advance
            .released
            .chunks(self.config.intake.batch_events_max.max(1))
        {
            self.take_chunk(chain_id, chunk, advance.head, &mut report)
                .await?;
        }
        let mut tx = self.store.begin().await?;
        match advance.cursor {
            Some(cursor) => {
                evm_store::save_cursor(&mut tx, id, chain_id, Some(&cursor), advance.head).await?;
                if advance.caught_up {
                    self.settle_gone(&mut tx, cursor.block_number, &mut report)
                        .await?;
                }
            }
            None => evm_store::save_head(&mut tx, id, advance.head).await?,
        }
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        let at = advance
            .cursor
            .map_or(self.ledger.settings.start_block, |c| c.block_number);
        metrics::gauge!("corridor_evm_follower_lag_blocks", "ledger" => id.clone())
            .set(advance.head.saturating_sub(at) as f64);
        if report.released > 0 {
            self.wake.notify_waiters();
        }
        Ok(report)
    }

    /// Journals a run of released logs raw, then takes them in with the cursor after the last.
    async fn take_chunk(
        &self,
        chain_id: u64,
        chunk: &[SettlementRequest],
        head: u64,
        report: &mut PollReport,
    ) -> Result<(), EvmError> {
        let id = &self.ledger.id;
        let raw = serde_json::json!({
            "ledger": id,
            "contract": self.ledger.contract.to_string(),
            "logs": chunk.iter().map(raw_log).collect::<Vec<_>>(),
        });
        let bytes = serde_json::to_vec(&raw).expect("JSON values serialise");
        let inbound = journal::record(
            &self.store,
            Channel::LedgerEvm,
            Some(id),
            Some("application/json"),
            &bytes,
            AuthenticatedBy::ChainNode,
        )
        .await?;
        let ledger = self.ledger_config();
        let events = chunk.iter().map(|r| to_event(ledger, r)).collect();
        let mut tx = self.store.begin().await?;
        let results = intake::accept_events_in(&mut tx, &self.config, id, inbound, events).await?;
        for (request, result) in chunk.iter().zip(&results) {
            evm_store::upsert_event(
                &mut tx,
                id,
                request,
                result.settlement_id.as_deref(),
                inbound,
            )
            .await?;
            match result.outcome {
                Intake::Created => report.created += 1,
                Intake::Known => {}
                Intake::Invalid | Intake::Conflict => {
                    report.invalid += 1;
                    let why = result
                        .error
                        .as_ref()
                        .map(|e| e.to_string())
                        .unwrap_or_default();
                    // An instruction on chain waits for an outcome whatever we think of it:
                    // a refused one gets `failed` with the reason. (A conflict is a log read
                    // again with other content for an event id that already has a settlement,
                    // whose outcome that settlement records.)
                    if result.outcome == Intake::Invalid {
                        let field = result.error.as_ref().map(|e| e.field.as_str());
                        evm_store::insert_refusal(
                            &mut tx,
                            id,
                            request,
                            &super::sink::refusal_reason(field),
                            &why,
                            inbound,
                        )
                        .await?;
                    }
                    tracing::warn!(ledger = %id, event_id = %evm_store::event_id(request), journal_id = inbound, error = %why, "evm follower: a log was refused by the intake; kept in the journal");
                }
            }
        }
        let last = chunk.last().expect("chunks are not empty").cursor();
        evm_store::save_cursor(&mut tx, id, chain_id, Some(&last), head).await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        report.released += chunk.len();
        metrics::counter!("corridor_ledger_events_total", "ledger" => id.clone())
            .increment(chunk.len() as u64);
        Ok(())
    }

    async fn go_back(
        &self,
        follower: &mut Follower,
        reorg: ReorgBelowCursor,
    ) -> Result<PollReport, EvmError> {
        let id = &self.ledger.id;
        metrics::counter!("corridor_evm_reorgs_total", "ledger" => id.clone(), "depth" => "below_cursor")
            .increment(1);
        let candidates = {
            let mut conn = self
                .store
                .pool()
                .acquire()
                .await
                .map_err(crate::store::StoreError::from)?;
            evm_store::released_blocks(
                &mut conn,
                id,
                reorg.cursor.block_number,
                FORK_SEARCH_BLOCKS_MAX,
            )
            .await?
        };
        let mut fork: Option<Cursor> = None;
        for (number, hash) in candidates {
            match follower.cursor_at_block(number).await {
                Ok(now) if now.block_hash == hash => {
                    fork = Some(now);
                    break;
                }
                Ok(_) | Err(ledger_evm::follower::FollowerError::MissingBlock { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        let mut tx = self.store.begin().await?;
        let reorged = evm_store::mark_reorged(
            &mut tx,
            id,
            fork.map(|c| c.block_number),
            reorg.cursor.block_number,
        )
        .await?;
        let fork_block = fork.map_or(self.ledger.settings.start_block, |c| c.block_number);
        evm_store::save_cursor(&mut tx, id, follower.chain_id(), fork.as_ref(), fork_block).await?;
        tx.commit().await.map_err(crate::store::StoreError::from)?;
        follower.restart_from(fork);
        tracing::warn!(
            ledger = %id,
            cursor_block = reorg.cursor.block_number,
            fork_block = ?fork.map(|c| c.block_number),
            reorged,
            "evm follower: the chain replaced blocks below the cursor; reading again from the fork"
        );
        Ok(PollReport {
            reorg_below_cursor: true,
            ..Default::default()
        })
    }

    /// Logs a deep reorg took away and the chain did not give back: withdrawn if nothing was
    /// sent for them yet, else a conflict.
    async fn settle_gone(
        &self,
        tx: &mut Tx,
        cursor_block: u64,
        report: &mut PollReport,
    ) -> Result<(), EvmError> {
        let id = &self.ledger.id;
        for gone in evm_store::take_gone(tx, id, cursor_block).await? {
            let withdrawn = match &gone.settlement_id {
                Some(sid) => withdraw(tx, sid).await?,
                // Refused at intake: nothing was done with it but its `failed` outcome, which
                // is not recorded now unless its transaction was already signed.
                None => {
                    evm_store::withdraw_refusal(tx, id, &gone.event_id).await?;
                    true
                }
            };
            if withdrawn {
                report.withdrawn_after_reorg += 1;
                tracing::warn!(ledger = %id, event_id = %gone.event_id, "evm follower: a reorg took away a log before anything was sent for it: withdrawn");
                continue;
            }
            report.conflicts += 1;
            let detail = format!(
                "a reorg below the cursor took away log {} (chain settlement {}, block {}) after \
                 the gateway acted on it; the chain no longer holds this request",
                gone.event_id, gone.request_id, gone.block_number
            );
            tracing::error!(ledger = %id, event_id = %gone.event_id, settlement = ?gone.settlement_id, "evm follower: {detail}");
            evm_store::insert_conflict(
                tx,
                id,
                ConflictKind::Reorg,
                Some(&gone.event_id),
                gone.settlement_id.as_deref(),
                &detail,
            )
            .await?;
        }
        Ok(())
    }
}

/// Cancels the delivery of a settlement nothing was sent for yet (submitted, its delivery
/// row never claimed) and fails it with `WITHDRAWN`; false when it was already acted on.
async fn withdraw(tx: &mut Tx, settlement_id: &str) -> Result<bool, EvmError> {
    let Some(sid) = SettlementId::parse(settlement_id) else {
        return Ok(false);
    };
    let Some(record) = settlements::get(tx, &sid).await? else {
        return Ok(false);
    };
    if record.state != SettlementState::Submitted {
        return Ok(false);
    }
    let cancelled = sqlx::query(
        "UPDATE outbox SET status = 'done', last_error = 'withdrawn: a reorg took the ledger \
         event away', updated_at_ms = $1 WHERE kind = 'deliver' AND settlement_id = $2 \
         AND status = 'pending' AND attempts = 0",
    )
    .bind(crate::store::now_ms())
    .bind(settlement_id)
    .execute(&mut **tx)
    .await
    .map_err(crate::store::StoreError::from)?;
    if cancelled.rows_affected() != 1 {
        return Ok(false);
    }
    let reason = "the ledger event was taken away by a chain reorg before anything was sent";
    match settlements::transition(
        tx,
        &sid,
        SettlementState::Failed,
        &Change {
            cause: "reorg",
            reason_code: Some("WITHDRAWN"),
            reason: Some(reason),
            detail: Some(reason),
            ..Default::default()
        },
    )
    .await?
    {
        Transitioned::Moved { .. } | Transitioned::AlreadyThere => Ok(true),
        Transitioned::Illegal(e) => Err(crate::store::StoreError::Corrupt(format!(
            "settlement {sid} withdrawn after a reorg: {e}"
        ))
        .into()),
    }
}

/// The advisory lock key of a ledger's follower: the first 8 bytes of a SHA-256 of its name.
fn lock_key(ledger: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("corridor evm follower {ledger}").as_bytes());
    i64::from_be_bytes(digest[..8].try_into().expect("8 bytes"))
}
