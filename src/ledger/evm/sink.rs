//! Final outcomes recorded on chain: the write-back job (kind `writeback`) of a settlement
//! that came from an EVM ledger.
//!
//! The outcome is `recordOutcome(id, status, reasonCode, counterpartyRef, evidence)`, with
//! `evidence` the SHA-256 of the counterparty's confirmation as journaled. The signed
//! transaction (`PendingTx`) is stored and committed before it is first broadcast, and
//! replaced in the store before each fee bump is broadcast: a gateway killed between sending
//! and the receipt finds it at the next attempt, steps it on (re-broadcast if the node lost
//! it), and never signs a second outcome. "Already recorded" with the same outcome is
//! success; another outcome on chain is a conflict for an operator (the job goes dead at
//! once, it is not retried).

use super::store::{self as evm_store, ConflictKind};
use super::{outcome_status, EvmLedgerRef};
use crate::dispatch::{Context, JobError, Outcome as JobOutcome};
use crate::store::settlements::{self, Record};
use crate::store::Store;
use crate::store::StoreError;
use ledger_evm::contract::{Entry, OutcomeStatus};
use ledger_evm::writer::{Outcome, PendingTx, Prepared, RecordedBy, Step, Writer, WriterError};
use ledger_evm::B256;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// Most characters of the reason code and the counterparty reference the contract takes.
const REASON_CODE_BYTES_MAX: usize = 35;
const COUNTERPARTY_REF_BYTES_MAX: usize = 64;

/// Most refused instructions taken per call of [`Sink::record_refusals`].
const REFUSALS_PER_ROUND: i64 = 64;

/// The sink of each `evm` ledger, by ledger id: one per ledger and process, shared by the
/// write-back jobs and the ledger's follower (which records refusals), so that one writer
/// hands out the key's nonces.
pub type Sinks = Arc<HashMap<String, Arc<Sink>>>;

/// A sink for every `evm` ledger of `config` (checked at load: their settings are valid).
pub fn sinks(config: &crate::config::Config) -> Sinks {
    Arc::new(
        super::ledgers(config)
            .unwrap_or_default()
            .into_iter()
            .map(|l| (l.id.clone(), Arc::new(Sink::new(l))))
            .collect(),
    )
}

/// The reason code recorded on chain for an instruction the intake refused: `INVALID`, and
/// the field the intake named when it named one (`INVALID:currency`), within the contract's
/// 35 bytes.
pub fn refusal_reason(field: Option<&str>) -> String {
    match field {
        Some(field) if !field.is_empty() => cut(&format!("INVALID:{field}"), REASON_CODE_BYTES_MAX),
        _ => "INVALID".to_string(),
    }
}

/// One EVM ledger's outcome writer. The chain connection and the key are set up at the first
/// job, so that a gateway starts while its node is down.
pub struct Sink {
    ledger: EvmLedgerRef,
    writer: OnceCell<Writer>,
}

impl Sink {
    pub fn new(ledger: EvmLedgerRef) -> Self {
        Sink {
            ledger,
            writer: OnceCell::new(),
        }
    }

    async fn writer(&self, store: &crate::store::Store) -> Result<&Writer, JobError> {
        self.writer
            .get_or_try_init(|| async {
                let key = self
                    .ledger
                    .key()
                    .map_err(|e| JobError::Config(e.to_string()))?;
                let provider = self
                    .ledger
                    .provider()
                    .map_err(|e| JobError::Config(e.to_string()))?;
                // Signing for another chain than configured would spend on the wrong one.
                use alloy::providers::Provider as _;
                let found = provider
                    .get_chain_id()
                    .await
                    .map_err(|e| JobError::Attempt(format!("evm write-back: eth_chainId: {e}")))?;
                let expected = self.ledger.settings.chain_id;
                if found != expected {
                    return Err(JobError::Config(format!(
                        "ledger {:?}: the node reports chain id {found}, the configuration says {expected}",
                        self.ledger.id
                    )));
                }
                let writer = Writer::new(provider, key, self.ledger.writer_config())
                    .await
                    .map_err(|e| JobError::Attempt(format!("evm write-back: {e}")))?;
                let stored = {
                    let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
                    evm_store::pending_outcome_txs(&mut conn, &self.ledger.id).await?
                };
                writer
                    .resume(&stored)
                    .await
                    .map_err(|e| JobError::Attempt(format!("evm write-back: {e}")))?;
                Ok(writer)
            })
            .await
    }

    /// Records `record`'s final outcome on chain (see the module documentation).
    pub async fn record(&self, record: &Record, cx: &Context<'_>) -> Result<JobOutcome, JobError> {
        let sid = record.settlement.id.as_str();
        let mut conn = cx.store.pool().acquire().await.map_err(StoreError::from)?;
        let Some(request_id) = self.request_id(&mut conn, sid).await? else {
            drop(conn);
            return done(Entry::Outcome, sid, None).await;
        };
        let stored = evm_store::outcome_tx(&mut conn, sid).await?;
        let outcome = outcome_of(&mut conn, record, request_id).await?;
        cx.renew(&mut conn).await?;
        drop(conn);
        let pending = match stored {
            Some((_, true)) => return done(Entry::Outcome, sid, None).await,
            Some((pending, false)) => {
                if pending.outcome != outcome {
                    // The stored transaction is what may be on chain: it is the one to finish.
                    tracing::warn!(settlement = %sid, "evm write-back: the stored outcome transaction differs from the outcome computed now; finishing the stored one");
                }
                pending
            }
            None => return self.send(cx, record, &outcome).await,
        };
        self.drive(cx, record, pending).await
    }

    /// The chain's id of settlement `sid`'s instruction; `None` when a reorg withdrew it (the
    /// chain holds no request to record anything about).
    async fn request_id(
        &self,
        conn: &mut sqlx::AnyConnection,
        sid: &str,
    ) -> Result<Option<B256>, JobError> {
        match evm_store::request_of(conn, sid).await? {
            Some((_, _, status)) if status == "gone" => Ok(None),
            Some((_, request_id, _)) => Ok(Some(request_id)),
            None => Err(JobError::Config(format!(
                "settlement {sid} of evm ledger {:?} has no chain log on record",
                self.ledger.id
            ))),
        }
    }

    /// Prepares `outcome` (an outcome, a correction or a refund request), stores it, then
    /// drives it.
    async fn send(
        &self,
        cx: &Context<'_>,
        record: &Record,
        outcome: &Outcome,
    ) -> Result<JobOutcome, JobError> {
        let sid = record.settlement.id.as_str();
        let writer = self.writer(cx.store).await?;
        let pending = match writer.prepare(outcome).await {
            Ok(Prepared::AlreadyRecorded(_)) => return done(outcome.entry, sid, None).await,
            Ok(Prepared::Send(pending)) => pending,
            Err(e) => return self.failed(cx, record, e).await,
        };
        if let Err(e) = self.persist(cx, sid, &pending).await {
            // Never sent, never stored: its nonce would be a gap holding back every later
            // transaction. Take the count from the chain again.
            let _ = writer.resync_nonce().await;
            return Err(e);
        }
        self.drive(cx, record, pending).await
    }

    /// Stores a `PendingTx` and commits, before anything broadcasts it.
    async fn persist(
        &self,
        cx: &Context<'_>,
        sid: &str,
        pending: &PendingTx,
    ) -> Result<(), JobError> {
        let mut conn = cx.store.pool().acquire().await.map_err(StoreError::from)?;
        cx.renew(&mut conn).await?;
        let entry = pending.outcome.entry;
        evm_store::save_entry_tx(&mut conn, entry, &self.ledger.id, sid, pending).await?;
        publish_pending(&mut conn, &self.ledger.id).await;
        Ok(())
    }

    /// Steps the transaction for at most half a lease; not final by then: the job comes back.
    async fn drive(
        &self,
        cx: &Context<'_>,
        record: &Record,
        mut pending: PendingTx,
    ) -> Result<JobOutcome, JobError> {
        let sid = record.settlement.id.as_str();
        let writer = self.writer(cx.store).await?;
        let budget = Duration::from_millis((cx.config.dispatch.lease_ms / 2).max(1) as u64);
        let pause = Duration::from_millis(self.ledger.settings.poll_interval_ms.clamp(50, 1_000));
        let started = Instant::now();
        loop {
            match writer.step(&pending).await {
                Ok(Step::Done(recorded)) => {
                    return done(pending.outcome.entry, sid, self.mined(recorded.by)).await
                }
                Ok(Step::Persist(next)) => {
                    self.persist(cx, sid, &next).await?;
                    pending = next;
                }
                Ok(Step::Waiting { .. }) => {
                    if started.elapsed() >= budget {
                        return Ok(JobOutcome::Reschedule {
                            effects: None,
                            due_at_ms: crate::store::now_ms() + pause.as_millis() as i64,
                            note: format!(
                                "{} transaction nonce {} not final yet",
                                entry_word(pending.outcome.entry),
                                pending.nonce
                            ),
                        });
                    }
                    tokio::time::sleep(pause).await;
                }
                Err(e) => return self.failed(cx, record, e).await,
            }
        }
    }

    /// The mined transaction (hash, block, gas) when ours recorded the outcome, its gas and fee
    /// counted in the metrics; `None` when the outcome was already on chain.
    fn mined(&self, by: RecordedBy) -> Option<(B256, u64, u64)> {
        let RecordedBy::ThisTransaction {
            tx_hash,
            block_number,
            gas_used,
            fee_wei,
        } = by
        else {
            return None;
        };
        let ledger = self.ledger.id.clone();
        metrics::counter!("corridor_evm_gas_used_total", "ledger" => ledger.clone())
            .increment(gas_used);
        metrics::counter!("corridor_evm_fees_wei_total", "ledger" => ledger)
            .increment(u64::try_from(fee_wei).unwrap_or(u64::MAX));
        Some((tx_hash, block_number, gas_used))
    }

    async fn failed(
        &self,
        cx: &Context<'_>,
        record: &Record,
        error: WriterError,
    ) -> Result<JobOutcome, JobError> {
        if error.is_transient() {
            return Err(JobError::Attempt(format!("evm write-back: {error}")));
        }
        if let WriterError::Conflict { .. } = &error {
            let mut conn = cx.store.pool().acquire().await.map_err(StoreError::from)?;
            evm_store::insert_conflict(
                &mut conn,
                &self.ledger.id,
                ConflictKind::Outcome,
                Some(&record.settlement.event_id),
                Some(record.settlement.id.as_str()),
                &error.to_string(),
            )
            .await?;
        }
        tracing::error!(settlement = %record.settlement.id, error = %error, "evm write-back: needs an operator");
        Ok(JobOutcome::GiveUp {
            why: format!("evm write-back: {error}"),
        })
    }
}

impl Sink {
    /// A `correction` or `refund` job of a settlement from this ledger: appends the
    /// correction (`recordCorrection`: settled, then returned) or the refund request
    /// (`requestRefund`) to the settlement's outcome on chain, once, with its transaction
    /// stored before it is first broadcast, as for outcomes. Waits (the job is retried) while
    /// the outcome itself is not on chain yet; a correction of an outcome recorded `returned`
    /// at once has nothing left to do.
    pub async fn notice(
        &self,
        kind: crate::store::outbox::Kind,
        record: &Record,
        cx: &Context<'_>,
    ) -> Result<JobOutcome, JobError> {
        use crate::store::outbox::Kind;
        let entry = match kind {
            Kind::Correction => Entry::Correction,
            Kind::Refund => Entry::Refund,
            other => return Err(JobError::Config(format!("{other} is not a chain notice"))),
        };
        let sid = record.settlement.id.as_str();
        let mut conn = cx.store.pool().acquire().await.map_err(StoreError::from)?;
        let Some(request_id) = self.request_id(&mut conn, sid).await? else {
            drop(conn);
            return done(entry, sid, None).await;
        };
        match evm_store::entry_tx(&mut conn, entry, sid).await? {
            Some((_, true)) => return done(entry, sid, None).await,
            Some((pending, false)) => {
                cx.renew(&mut conn).await?;
                drop(conn);
                return self.drive(cx, record, pending).await;
            }
            None => {}
        }
        // What the store says, read now: no pooled connection is held across the chain's calls.
        let correction = match entry {
            Entry::Correction => Some(outcome_of(&mut conn, record, request_id).await?),
            _ => None,
        };
        let request =
            crate::recon::resolve::refund_request(&mut conn, &record.settlement.id).await?;
        drop(conn);
        let writer = self.writer(cx.store).await?;
        let attempt = |e: WriterError| JobError::Attempt(format!("evm {kind}: {e}"));
        let Some(on_chain) = writer
            .read(Entry::Outcome, request_id)
            .await
            .map_err(attempt)?
        else {
            return Err(JobError::Attempt(format!(
                "{kind} for settlement {sid}: its outcome is not on chain yet"
            )));
        };
        let outcome = match (correction, on_chain.status) {
            (Some(mut outcome), OutcomeStatus::Settled) => {
                outcome.entry = Entry::Correction;
                outcome.status = OutcomeStatus::Returned;
                outcome
            }
            // Written back after the return was known: the chain was told at once.
            (Some(_), OutcomeStatus::Returned) => return done(entry, sid, None).await,
            (Some(_), other) => {
                return Ok(JobOutcome::GiveUp {
                    why: format!(
                        "correction for settlement {sid}: the chain holds {other}, which \
                         the contract does not let a return correct: investigate"
                    ),
                })
            }
            (None, status) => match refund_of(writer, record, request, request_id, status).await? {
                Ok(outcome) => outcome,
                Err(why) => return Ok(JobOutcome::GiveUp { why }),
            },
        };
        // `send` renews the lease before it stores the transaction.
        self.send(cx, record, &outcome).await
    }

    /// Records the `failed` outcome of instructions this ledger's intake refused (rows of
    /// `evm_refusals`, written with the intake of their logs): each transaction is stored
    /// before it is first broadcast, as for settlements, and stepped for at most `budget`;
    /// what is not final by then goes on at the next call. "Already recorded" with the same
    /// outcome counts as recorded. Returns how many were recorded by this call.
    ///
    /// Called by the ledger's follower task, which runs in one instance at a time.
    pub async fn record_refusals(
        &self,
        store: &Store,
        budget: Duration,
    ) -> Result<usize, JobError> {
        let id = self.ledger.id.as_str();
        let refusals = {
            let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
            evm_store::pending_refusals(&mut conn, id, REFUSALS_PER_ROUND).await?
        };
        if refusals.is_empty() {
            return Ok(0);
        }
        let writer = self.writer(store).await?;
        let mut recorded = 0;
        let mut driving = Vec::with_capacity(refusals.len());
        for refusal in refusals {
            let pending = match refusal.pending.clone() {
                Some(pending) => pending,
                None => {
                    let outcome = Outcome {
                        entry: Entry::Outcome,
                        amount: ledger_evm::U256::ZERO,
                        id: refusal.request_id,
                        status: OutcomeStatus::Failed,
                        reason_code: cut(&refusal.reason_code, REASON_CODE_BYTES_MAX),
                        counterparty_ref: String::new(),
                        evidence: B256::ZERO,
                    };
                    match writer.prepare(&outcome).await {
                        Ok(Prepared::AlreadyRecorded(_)) => {
                            self.end_refusal(store, &refusal.event_id, "recorded", None, None)
                                .await?;
                            recorded += 1;
                            continue;
                        }
                        Ok(Prepared::Send(pending)) => {
                            if let Err(e) = self
                                .persist_refusal(store, &refusal.event_id, &pending)
                                .await
                            {
                                // Never sent: take the nonce count from the chain again.
                                let _ = writer.resync_nonce().await;
                                return Err(e);
                            }
                            pending
                        }
                        Err(e) => {
                            self.refusal_failed(store, &refusal.event_id, e).await?;
                            continue;
                        }
                    }
                }
            };
            driving.push((refusal.event_id, pending));
        }
        let pause = Duration::from_millis(self.ledger.settings.poll_interval_ms.clamp(20, 500));
        let started = Instant::now();
        while !driving.is_empty() {
            let mut waiting = Vec::with_capacity(driving.len());
            for (event_id, pending) in driving {
                match writer.step(&pending).await {
                    Ok(Step::Done(done)) => {
                        let mined = self.mined(done.by);
                        self.end_refusal(store, &event_id, "recorded", mined, None)
                            .await?;
                        recorded += 1;
                    }
                    Ok(Step::Persist(next)) => {
                        self.persist_refusal(store, &event_id, &next).await?;
                        waiting.push((event_id, next));
                    }
                    Ok(Step::Waiting { .. }) => waiting.push((event_id, pending)),
                    Err(e) => self.refusal_failed(store, &event_id, e).await?,
                }
            }
            driving = waiting;
            if driving.is_empty() || started.elapsed() >= budget {
                break;
            }
            tokio::time::sleep(pause).await;
        }
        Ok(recorded)
    }

    async fn persist_refusal(
        &self,
        store: &Store,
        event_id: &str,
        pending: &PendingTx,
    ) -> Result<(), JobError> {
        let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
        evm_store::save_refusal_tx(&mut conn, &self.ledger.id, event_id, pending).await?;
        publish_pending(&mut conn, &self.ledger.id).await;
        Ok(())
    }

    async fn end_refusal(
        &self,
        store: &Store,
        event_id: &str,
        status: &str,
        mined: Option<(B256, u64, u64)>,
        detail: Option<&str>,
    ) -> Result<(), JobError> {
        let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
        evm_store::finish_refusal(&mut conn, &self.ledger.id, event_id, status, mined, detail)
            .await?;
        publish_pending(&mut conn, &self.ledger.id).await;
        Ok(())
    }

    /// A transient error is returned (the next call tries again); any other ends the
    /// refusal `failed` for an operator, with a conflict row when the chain holds another
    /// outcome.
    async fn refusal_failed(
        &self,
        store: &Store,
        event_id: &str,
        error: WriterError,
    ) -> Result<(), JobError> {
        if error.is_transient() {
            return Err(JobError::Attempt(format!("evm refusal outcome: {error}")));
        }
        let detail = format!("recording the refusal on chain: {error}");
        if let WriterError::Conflict { .. } = &error {
            let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
            evm_store::insert_conflict(
                &mut conn,
                &self.ledger.id,
                ConflictKind::Outcome,
                Some(event_id),
                None,
                &error.to_string(),
            )
            .await?;
        }
        tracing::error!(ledger = %self.ledger.id, event_id = %event_id, error = %error, "evm: the outcome of a refused instruction could not be recorded; needs an operator");
        self.end_refusal(store, event_id, "failed", None, Some(&detail))
            .await
    }
}

/// The outcome to record for a final settlement.
pub async fn outcome_of(
    conn: &mut sqlx::AnyConnection,
    record: &Record,
    request_id: B256,
) -> Result<Outcome, JobError> {
    let sid = record.settlement.id.as_str();
    let status = outcome_status(record.state).ok_or_else(|| {
        JobError::Config(format!("settlement {sid} is not final ({})", record.state))
    })?;
    let evidence = evm_store::confirmation(conn, sid)
        .await?
        .map_or(B256::ZERO, |(_, raw)| {
            B256::from_slice(&Sha256::digest(&raw))
        });
    Ok(Outcome {
        entry: Entry::Outcome,
        amount: ledger_evm::U256::ZERO,
        id: request_id,
        status,
        reason_code: cut(
            record.reason_code.as_deref().unwrap_or_default(),
            REASON_CODE_BYTES_MAX,
        ),
        counterparty_ref: cut(
            &evm_store::counterparty_ref(conn, sid).await?,
            COUNTERPARTY_REF_BYTES_MAX,
        ),
        evidence,
    })
}

/// The refund request of `record` as the contract takes it: the amount an operator asked for
/// (minor units of the settlement's currency) rescaled to the request's decimals, exactly;
/// the break's kind as the reason and its id as the reference. `Err` (a reason for the
/// operator) when there is nothing to send.
async fn refund_of(
    writer: &Writer,
    record: &Record,
    request: Option<crate::recon::resolve::RefundRequest>,
    request_id: B256,
    status: OutcomeStatus,
) -> Result<Result<Outcome, String>, JobError> {
    let sid = &record.settlement.id;
    let Some(request) = request else {
        return Ok(Err(format!(
            "refund for settlement {sid}: no break resolved with refund_requested names it"
        )));
    };
    let attempt = |e: WriterError| JobError::Attempt(format!("evm refund: {e}"));
    let Some(on_chain) = writer.request(request_id).await.map_err(attempt)? else {
        return Ok(Err(format!(
            "refund for settlement {sid}: no request on chain"
        )));
    };
    let units = match token_units(request.amount_minor, &request.currency, on_chain.decimals) {
        Ok(units) => units,
        Err(why) => return Ok(Err(format!("refund for settlement {sid}: {why}"))),
    };
    Ok(Ok(Outcome {
        entry: Entry::Refund,
        id: request_id,
        status,
        amount: units,
        reason_code: cut(&request.break_kind, REASON_CODE_BYTES_MAX),
        counterparty_ref: format!("break {}", request.break_id),
        evidence: B256::ZERO,
    }))
}

/// `minor` units of `currency` as integer units with `decimals` decimals, exactly (a
/// rescale that would drop digits is refused, never rounded).
fn token_units(minor: i64, currency: &str, decimals: u8) -> Result<ledger_evm::U256, String> {
    use ledger_evm::U256;
    let exponent = crate::domain::Currency::parse(currency)
        .map_err(|e| format!("currency {currency:?}: {e}"))?
        .exponent();
    let minor = u64::try_from(minor).map_err(|_| format!("amount {minor} is not positive"))?;
    let ten = U256::from(10u8);
    if decimals >= exponent {
        let scale = ten.pow(U256::from(decimals - exponent));
        return Ok(U256::from(minor) * scale);
    }
    let scale = 10u64.pow(u32::from(exponent - decimals));
    if minor % scale != 0 {
        return Err(format!(
            "{minor} minor units of {currency} do not fit the request's {decimals} decimals"
        ));
    }
    Ok(U256::from(minor / scale))
}

/// At most `max` bytes, cut on a character boundary (the contract counts bytes).
fn cut(text: &str, max: usize) -> String {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_string()
}

/// The job's end: the stored transaction of `entry` done and, for an outcome, the settlement
/// written back; in the group commit with the job's completion, as the HTTP write-back does.
async fn done(
    entry: Entry,
    sid: &str,
    mined: Option<(B256, u64, u64)>,
) -> Result<JobOutcome, JobError> {
    let id = crate::domain::SettlementId::parse(sid)
        .ok_or_else(|| StoreError::Corrupt(format!("not a settlement id: {sid}")))?;
    let sid = sid.to_string();
    Ok(JobOutcome::done_writing(move |conn| {
        Box::pin(async move {
            evm_store::finish_entry_tx(conn, entry, &sid, mined).await?;
            if entry == Entry::Outcome {
                settlements::mark_written_back(conn, &id).await?;
            }
            Ok(())
        })
    }))
}

fn entry_word(entry: Entry) -> &'static str {
    match entry {
        Entry::Outcome => "outcome",
        Entry::Correction => "correction",
        Entry::Refund => "refund request",
    }
}

async fn publish_pending(conn: &mut sqlx::AnyConnection, ledger: &str) {
    if let Ok(n) = evm_store::pending_outcome_count(conn, ledger).await {
        metrics::gauge!("corridor_evm_outcome_txs_pending", "ledger" => ledger.to_string())
            .set(n as f64);
    }
}
