//! What `corridor ledger status` and `corridor ledger verify` report, and the API with them.

use super::store as evm_store;
use super::{EvmError, EvmLedgerRef};
use crate::store::settlements;
use crate::store::{Store, StoreError};
use alloy::providers::Provider as _;
use ledger_evm::contract::{Entry, StoredOutcome};
use sha2::{Digest, Sha256};

/// One ledger's standing.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LedgerStatus {
    pub ledger: String,
    pub kind: &'static str,
    pub chain_id: Option<u64>,
    pub contract: Option<String>,
    pub cursor_block: Option<u64>,
    pub cursor_hash: Option<String>,
    pub cursor_log_index: Option<u64>,
    /// The chain's head now (`None`: the node did not answer; see `head_error`).
    pub head_block: Option<u64>,
    pub head_error: Option<String>,
    /// Blocks between the head and the cursor.
    pub lag_blocks: Option<u64>,
    pub outcome_txs_pending: i64,
    /// Instructions the intake refused, by where their `failed` outcome on chain stands.
    pub refusals: Refusals,
    pub conflicts: Vec<evm_store::Conflict>,
}

/// Refused instructions of one ledger by status (`evm_refusals`).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Refusals {
    /// Their `failed` outcome is not final on chain yet.
    pub pending: i64,
    /// Recorded on chain.
    pub recorded: i64,
    /// A reorg took the instruction away before anything was sent.
    pub gone: i64,
    /// Could not be recorded (another outcome on chain, a revert): an operator must look.
    pub failed: i64,
}

impl Refusals {
    fn of(counts: &[(String, i64)]) -> Self {
        let mut r = Refusals::default();
        for (status, n) in counts {
            match status.as_str() {
                "pending" => r.pending = *n,
                "recorded" => r.recorded = *n,
                "gone" => r.gone = *n,
                _ => r.failed += *n,
            }
        }
        r
    }
}

/// The status of every ledger in the configuration (an `http` one has no chain fields).
pub async fn all(
    store: &Store,
    config: &crate::config::Config,
) -> Result<Vec<LedgerStatus>, EvmError> {
    let mut out = Vec::new();
    for ledger in &config.ledgers {
        match EvmLedgerRef::of(ledger)? {
            Some(evm) => out.push(one(store, &evm).await?),
            None => out.push(LedgerStatus {
                ledger: ledger.id.clone(),
                kind: "http",
                chain_id: None,
                contract: None,
                cursor_block: None,
                cursor_hash: None,
                cursor_log_index: None,
                head_block: None,
                head_error: None,
                lag_blocks: None,
                outcome_txs_pending: 0,
                refusals: Refusals::default(),
                conflicts: Vec::new(),
            }),
        }
    }
    Ok(out)
}

/// One EVM ledger's status: from the store, and the head from its node.
pub async fn one(store: &Store, ledger: &EvmLedgerRef) -> Result<LedgerStatus, EvmError> {
    let (cursor, pending, refusals, conflicts) = {
        let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
        (
            evm_store::cursor(&mut conn, &ledger.id).await?,
            evm_store::pending_outcome_count(&mut conn, &ledger.id).await?,
            Refusals::of(&evm_store::refusal_counts(&mut conn, &ledger.id).await?),
            evm_store::open_conflicts(&mut conn, &ledger.id, 100).await?,
        )
    };
    let (head_block, head_error) = match ledger.provider()?.get_block_number().await {
        Ok(head) => (Some(head), None),
        Err(e) => (
            cursor.as_ref().and_then(|c| c.head_block),
            Some(e.to_string()),
        ),
    };
    let cursor_block = cursor.as_ref().map(|c| c.cursor.block_number);
    let lag_blocks =
        head_block.map(|h| h.saturating_sub(cursor_block.unwrap_or(ledger.settings.start_block)));
    Ok(LedgerStatus {
        ledger: ledger.id.clone(),
        kind: "evm",
        chain_id: Some(ledger.settings.chain_id),
        contract: Some(ledger.contract.to_string()),
        cursor_block,
        cursor_hash: cursor.as_ref().map(|c| c.cursor.block_hash.to_string()),
        cursor_log_index: cursor.as_ref().and_then(|c| c.cursor.log_index),
        head_block,
        head_error,
        lag_blocks,
        outcome_txs_pending: pending,
        refusals,
        conflicts,
    })
}

/// What `ledger verify` found for one settlement.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Verdict {
    pub settlement_id: String,
    pub ledger: String,
    pub request_id: String,
    pub state: String,
    /// The outcome on chain (`None`: none recorded yet).
    pub on_chain_status: Option<String>,
    pub on_chain_evidence: Option<String>,
    pub on_chain_reason_code: Option<String>,
    pub on_chain_counterparty_ref: Option<String>,
    /// The correction appended on chain (`returned`, after a settled outcome), if any.
    pub on_chain_correction: Option<String>,
    pub on_chain_correction_evidence: Option<String>,
    /// The status the store's final state maps to (`None`: not final).
    pub store_status: Option<String>,
    /// SHA-256 of the journaled confirmation, recomputed (`None`: none journaled; the
    /// evidence is then all zeros).
    pub journal_id: Option<i64>,
    pub journal_sha256: String,
    /// Every check passed.
    pub ok: bool,
    /// One line per check that failed.
    pub mismatches: Vec<String>,
}

/// Reads the on-chain outcome of `settlement_id` and compares it with the store and with the
/// SHA-256 of the journaled confirmation.
pub async fn verify(
    store: &Store,
    config: &crate::config::Config,
    settlement_id: &str,
) -> Result<Verdict, VerifyError> {
    let sid = crate::domain::SettlementId::parse(settlement_id)
        .ok_or_else(|| VerifyError::NotFound(settlement_id.to_string()))?;
    let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
    let record = settlements::get(&mut conn, &sid)
        .await?
        .ok_or_else(|| VerifyError::NotFound(settlement_id.to_string()))?;
    let (ledger_id, request_id, _) = evm_store::request_of(&mut conn, sid.as_str())
        .await?
        .ok_or_else(|| VerifyError::NotEvm(settlement_id.to_string()))?;
    let confirmation = evm_store::confirmation(&mut conn, sid.as_str()).await?;
    drop(conn);
    let ledger = config
        .ledger(&ledger_id)
        .ok_or_else(|| VerifyError::NotEvm(settlement_id.to_string()))
        .and_then(|l| EvmLedgerRef::of(l).map_err(VerifyError::Evm))?
        .ok_or_else(|| VerifyError::NotEvm(settlement_id.to_string()))?;
    let provider = ledger.provider()?;
    let read =
        |entry| ledger_evm::contract::read_entry(&provider, ledger.contract, entry, request_id);
    let on_chain = read(Entry::Outcome).await.map_err(EvmError::from)?;
    let correction = read(Entry::Correction).await.map_err(EvmError::from)?;
    let sha = |raw: &[u8]| ledger_evm::B256::from_slice(&Sha256::digest(raw));
    let journal_sha = confirmation
        .as_ref()
        .map_or([0u8; 32].into(), |(_, raw)| sha(raw));
    let store_status = super::outcome_status(record.state);
    // What the chain says now: the correction where there is one, else the outcome.
    let effective = correction.as_ref().or(on_chain.as_ref()).map(|c| c.status);
    let mut mismatches = Vec::new();
    match (effective, store_status) {
        (None, _) => {
            mismatches.push("no outcome is recorded on chain for this settlement".to_string())
        }
        (Some(chain), Some(ours)) if chain != ours => mismatches.push(format!(
            "status: chain {chain} vs store {ours} ({})",
            record.state
        )),
        (Some(chain), None) => mismatches.push(format!(
            "status: chain {chain} but the store's settlement is not final ({})",
            record.state
        )),
        _ => {}
    }
    let corrected = (on_chain.as_ref(), correction.as_ref());
    mismatches.extend(evidence_mismatches(store, &sid, corrected, journal_sha).await?);
    Ok(Verdict {
        settlement_id: sid.to_string(),
        ledger: ledger.id.clone(),
        request_id: request_id.to_string(),
        state: record.state.to_string(),
        on_chain_status: on_chain.as_ref().map(|c| c.status.to_string()),
        on_chain_evidence: on_chain.as_ref().map(|c| c.evidence.to_string()),
        on_chain_reason_code: on_chain.as_ref().map(|c| c.reason_code.clone()),
        on_chain_counterparty_ref: on_chain.as_ref().map(|c| c.counterparty_ref.clone()),
        on_chain_correction: correction.as_ref().map(|c| c.status.to_string()),
        on_chain_correction_evidence: correction.as_ref().map(|c| c.evidence.to_string()),
        store_status: store_status.map(|s| s.to_string()),
        journal_id: confirmation.map(|(id, _)| id),
        journal_sha256: journal_sha.to_string(),
        ok: mismatches.is_empty(),
        mismatches,
    })
}

/// The evidence on chain against the journal: an outcome alone rests on the newest
/// confirmation; once corrected, the correction does, and the outcome on an older one (a
/// pacs.004 after the pacs.002): any applied answer of the settlement's.
async fn evidence_mismatches(
    store: &Store,
    sid: &crate::domain::SettlementId,
    (outcome, correction): (Option<&StoredOutcome>, Option<&StoredOutcome>),
    journal_sha: ledger_evm::B256,
) -> Result<Vec<String>, VerifyError> {
    let mut mismatches = Vec::new();
    match (outcome, correction) {
        (Some(chain), None) if chain.evidence != journal_sha => mismatches.push(format!(
            "evidence: chain {} vs SHA-256 of the journaled confirmation {}",
            chain.evidence, journal_sha
        )),
        (Some(chain), Some(corrected)) => {
            let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
            let answers = evm_store::confirmations(&mut conn, sid.as_str()).await?;
            let sha = |raw: &[u8]| ledger_evm::B256::from_slice(&Sha256::digest(raw));
            if !answers.iter().any(|raw| sha(raw) == chain.evidence) {
                mismatches.push(format!(
                    "evidence: chain {} is the SHA-256 of no journaled confirmation",
                    chain.evidence
                ));
            }
            if corrected.evidence != journal_sha {
                mismatches.push(format!(
                    "correction evidence: chain {} vs SHA-256 of the journaled confirmation {}",
                    corrected.evidence, journal_sha
                ));
            }
        }
        _ => {}
    }
    Ok(mismatches)
}

#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("no settlement {0}")]
    NotFound(String),
    #[error("settlement {0} did not come from an evm ledger: nothing on chain to verify")]
    NotEvm(String),
    #[error(transparent)]
    Evm(#[from] EvmError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Sets the stored-state gauges of one evm ledger (at scrape time, so that every instance
/// reports the store's truth): outcome transactions pending, open conflicts, and the lag
/// between the last head the follower saw and its cursor.
pub async fn publish_gauges(
    conn: &mut sqlx::AnyConnection,
    ledger: &str,
) -> Result<(), StoreError> {
    let pending = evm_store::pending_outcome_count(conn, ledger).await?;
    metrics::gauge!("corridor_evm_outcome_txs_pending", "ledger" => ledger.to_string())
        .set(pending as f64);
    let conflicts = evm_store::open_conflicts(conn, ledger, 10_000).await?.len();
    metrics::gauge!("corridor_evm_conflicts_open", "ledger" => ledger.to_string())
        .set(conflicts as f64);
    if let Some(cursor) = evm_store::cursor(conn, ledger).await? {
        let lag = cursor
            .head_block
            .map_or(0, |h| h.saturating_sub(cursor.cursor.block_number));
        metrics::gauge!("corridor_evm_follower_lag_blocks", "ledger" => ledger.to_string())
            .set(lag as f64);
    }
    Ok(())
}
