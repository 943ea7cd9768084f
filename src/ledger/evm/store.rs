//! The EVM ledger's rows: the follower's cursor, the logs taken in, conflicts for an operator,
//! and the outcome transactions stored before they are sent (migration 0008_chain).

use crate::store::{now_ms, StoreError};
use ledger_evm::contract::Entry;
use ledger_evm::follower::{Cursor, SettlementRequest};
use ledger_evm::writer::PendingTx;
use ledger_evm::B256;
use sqlx::{AnyConnection, Row};

/// The stored cursor of `ledger`, with the chain id it was read on and the last head seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCursor {
    pub chain_id: u64,
    pub cursor: Cursor,
    pub head_block: Option<u64>,
    pub updated_at_ms: i64,
}

fn hash(text: &str) -> Result<B256, StoreError> {
    text.parse()
        .map_err(|_| StoreError::Corrupt(format!("not a 32-byte hash: {text:?}")))
}

fn u64_of(value: i64, what: &str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{what}: negative ({value})")))
}

fn i64_of(value: u64) -> i64 {
    // Block numbers, nonces and log indexes stay far below 2^63 on any chain.
    i64::try_from(value).expect("a block number, nonce or log index fits in i64")
}

pub async fn cursor(
    conn: &mut AnyConnection,
    ledger: &str,
) -> Result<Option<StoredCursor>, StoreError> {
    let row = sqlx::query(
        "SELECT chain_id, block_number, block_hash, log_index, head_block, updated_at_ms \
         FROM evm_cursors WHERE ledger = $1",
    )
    .bind(ledger)
    .fetch_optional(conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let log_index: Option<i64> = row.try_get("log_index")?;
    let head_block: Option<i64> = row.try_get("head_block")?;
    Ok(Some(StoredCursor {
        chain_id: u64_of(row.try_get("chain_id")?, "evm_cursors.chain_id")?,
        cursor: Cursor {
            block_number: u64_of(row.try_get("block_number")?, "evm_cursors.block_number")?,
            block_hash: hash(&row.try_get::<String, _>("block_hash")?)?,
            log_index: log_index
                .map(|i| u64_of(i, "evm_cursors.log_index"))
                .transpose()?,
        },
        head_block: head_block
            .map(|h| u64_of(h, "evm_cursors.head_block"))
            .transpose()?,
        updated_at_ms: row.try_get("updated_at_ms")?,
    }))
}

/// Stores where the follower stands (`None`: back to the start block) and the head it saw.
pub async fn save_cursor(
    conn: &mut AnyConnection,
    ledger: &str,
    chain_id: u64,
    cursor: Option<&Cursor>,
    head_block: u64,
) -> Result<(), StoreError> {
    let Some(cursor) = cursor else {
        sqlx::query("DELETE FROM evm_cursors WHERE ledger = $1")
            .bind(ledger)
            .execute(conn)
            .await?;
        return Ok(());
    };
    sqlx::query(
        "INSERT INTO evm_cursors (ledger, chain_id, block_number, block_hash, log_index, \
         head_block, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (ledger) DO UPDATE SET chain_id = $2, block_number = $3, block_hash = $4, \
         log_index = $5, head_block = $6, updated_at_ms = $7",
    )
    .bind(ledger)
    .bind(i64_of(chain_id))
    .bind(i64_of(cursor.block_number))
    .bind(cursor.block_hash.to_string())
    .bind(cursor.log_index.map(i64_of))
    .bind(i64_of(head_block))
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

/// Records the head seen at a poll that moved nothing (for the lag in `ledger status`).
pub async fn save_head(
    conn: &mut AnyConnection,
    ledger: &str,
    head_block: u64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE evm_cursors SET head_block = $1, updated_at_ms = $2 WHERE ledger = $3")
        .bind(i64_of(head_block))
        .bind(now_ms())
        .bind(ledger)
        .execute(conn)
        .await?;
    Ok(())
}

/// The event id of a chain log: `evm:<chain id>:<tx hash>:<log index>`.
pub fn event_id(request: &SettlementRequest) -> String {
    format!(
        "evm:{}:{}:{}",
        request.key.chain_id, request.key.tx_hash, request.key.log_index
    )
}

/// Records a released log (again: a log read again after a reorg is `released` once more).
pub async fn upsert_event(
    conn: &mut AnyConnection,
    ledger: &str,
    request: &SettlementRequest,
    settlement_id: Option<&str>,
    inbound_id: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO evm_events (ledger, event_id, chain_id, tx_hash, log_index, block_number, \
         block_hash, request_id, settlement_id, status, inbound_id, updated_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'released', $10, $11) \
         ON CONFLICT (ledger, event_id) DO UPDATE SET block_number = $6, block_hash = $7, \
         status = 'released', reorged_below = NULL, \
         settlement_id = COALESCE(evm_events.settlement_id, $9), updated_at_ms = $11",
    )
    .bind(ledger)
    .bind(event_id(request))
    .bind(i64_of(request.key.chain_id))
    .bind(request.key.tx_hash.to_string())
    .bind(i64_of(request.key.log_index))
    .bind(i64_of(request.block_number))
    .bind(request.block_hash.to_string())
    .bind(request.id.to_string())
    .bind(settlement_id)
    .bind(inbound_id)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

/// The distinct blocks (number, hash) holding released logs at or below `block`, newest first.
pub async fn released_blocks(
    conn: &mut AnyConnection,
    ledger: &str,
    block: u64,
    limit: i64,
) -> Result<Vec<(u64, B256)>, StoreError> {
    let rows = sqlx::query(
        "SELECT DISTINCT block_number, block_hash FROM evm_events \
         WHERE ledger = $1 AND status = 'released' AND block_number <= $2 \
         ORDER BY block_number DESC LIMIT $3",
    )
    .bind(ledger)
    .bind(i64_of(block))
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                u64_of(r.try_get("block_number")?, "evm_events.block_number")?,
                hash(&r.try_get::<String, _>("block_hash")?)?,
            ))
        })
        .collect()
}

/// Marks the released logs above `fork_block` as undone by a reorg below `cursor_block`;
/// returns how many.
pub async fn mark_reorged(
    conn: &mut AnyConnection,
    ledger: &str,
    fork_block: Option<u64>,
    cursor_block: u64,
) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE evm_events SET status = 'reorged', reorged_below = $1, updated_at_ms = $2 \
         WHERE ledger = $3 AND status = 'released' AND block_number > $4",
    )
    .bind(i64_of(cursor_block))
    .bind(now_ms())
    .bind(ledger)
    .bind(fork_block.map_or(-1, i64_of))
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// A log that a reorg took away and that the chain did not give back.
#[derive(Clone, Debug)]
pub struct GoneEvent {
    pub event_id: String,
    pub settlement_id: Option<String>,
    pub request_id: String,
    pub block_number: u64,
}

/// The logs still `reorged` once the follower is back at or past the block the reorg was
/// found below: gone from the chain. Marks them `gone` and returns them.
pub async fn take_gone(
    conn: &mut AnyConnection,
    ledger: &str,
    cursor_block: u64,
) -> Result<Vec<GoneEvent>, StoreError> {
    let rows = sqlx::query(
        "SELECT event_id, settlement_id, request_id, block_number FROM evm_events \
         WHERE ledger = $1 AND status = 'reorged' AND reorged_below <= $2",
    )
    .bind(ledger)
    .bind(i64_of(cursor_block))
    .fetch_all(&mut *conn)
    .await?;
    let mut gone = Vec::with_capacity(rows.len());
    for r in rows {
        let event = GoneEvent {
            event_id: r.try_get("event_id")?,
            settlement_id: r.try_get("settlement_id")?,
            request_id: r.try_get("request_id")?,
            block_number: u64_of(r.try_get("block_number")?, "evm_events.block_number")?,
        };
        sqlx::query(
            "UPDATE evm_events SET status = 'gone', updated_at_ms = $1 \
             WHERE ledger = $2 AND event_id = $3",
        )
        .bind(now_ms())
        .bind(ledger)
        .bind(&event.event_id)
        .execute(&mut *conn)
        .await?;
        gone.push(event);
    }
    Ok(gone)
}

/// The contract's settlement id (bytes32) of the log that created `settlement_id`, with its
/// ledger; `None` when the settlement did not come from a chain.
pub async fn request_of(
    conn: &mut AnyConnection,
    settlement_id: &str,
) -> Result<Option<(String, B256, String)>, StoreError> {
    let row = sqlx::query(
        "SELECT ledger, request_id, status FROM evm_events WHERE settlement_id = $1 \
         ORDER BY updated_at_ms DESC LIMIT 1",
    )
    .bind(settlement_id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok((
            r.try_get::<String, _>("ledger")?,
            hash(&r.try_get::<String, _>("request_id")?)?,
            r.try_get::<String, _>("status")?,
        ))
    })
    .transpose()
}

crate::text_enum! {
    /// What an EVM conflict is about.
    pub enum ConflictKind {
        /// A log already acted on was taken away by a reorg below the cursor.
        Reorg => "reorg",
        /// The chain holds another outcome than ours for a settlement.
        Outcome => "outcome",
    }
}

/// A conflict row, as `ledger status` and the API show it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Conflict {
    pub id: i64,
    pub ledger: String,
    pub kind: ConflictKind,
    pub event_id: Option<String>,
    pub settlement_id: Option<String>,
    pub detail: String,
    pub status: String,
    pub detected_at_ms: i64,
}

pub async fn insert_conflict(
    conn: &mut AnyConnection,
    ledger: &str,
    kind: ConflictKind,
    event_id: Option<&str>,
    settlement_id: Option<&str>,
    detail: &str,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO evm_conflicts (ledger, kind, event_id, settlement_id, detail, status, \
         detected_at_ms) VALUES ($1, $2, $3, $4, $5, 'open', $6)",
    )
    .bind(ledger)
    .bind(kind)
    .bind(event_id)
    .bind(settlement_id)
    .bind(detail)
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    metrics::counter!("corridor_evm_conflicts_total", "ledger" => ledger.to_string(), "kind" => kind.as_str())
        .increment(1);
    if let Some(settlement_id) = settlement_id {
        conflict_break(conn, ledger, kind, event_id, settlement_id, detail).await?;
    }
    Ok(())
}

/// A conflict about a settlement is also a reconciliation break (`status_conflict`,
/// critical): the chain and the gateway disagree about its outcome (a reorg took away an
/// instruction already paid, or the chain holds another outcome). Opened in the conflict's
/// transaction, once per settlement and kind of conflict, with its audit line.
async fn conflict_break(
    conn: &mut AnyConnection,
    ledger: &str,
    kind: ConflictKind,
    event_id: Option<&str>,
    settlement_id: &str,
    detail: &str,
) -> Result<(), StoreError> {
    let settlement =
        sqlx::query("SELECT amount_minor, currency, counterparty FROM settlements WHERE id = $1")
            .bind(settlement_id)
            .fetch_optional(&mut *conn)
            .await?;
    let (amount, currency, counterparty) = match &settlement {
        Some(r) => (
            r.try_get::<i64, _>("amount_minor")?,
            Some(r.try_get::<String, _>("currency")?),
            r.try_get::<Option<String>, _>("counterparty")?,
        ),
        None => (0, None, None),
    };
    let text = match kind {
        ConflictKind::Reorg => format!(
            "chain ledger {ledger}: the instruction (event {}) is no longer on chain, but the \
             gateway acted on it: {detail}",
            event_id.unwrap_or("-")
        ),
        ConflictKind::Outcome => {
            format!("chain ledger {ledger}: the chain holds another outcome than ours: {detail}")
        }
    };
    let now = now_ms();
    let id: Option<i64> = sqlx::query(
        "INSERT INTO breaks (natural_key, kind, severity, state, settlement_id, counterparty, \
         currency, amount_at_risk_minor, detail, opened_at_ms, updated_at_ms) \
         VALUES ($1, 'status_conflict', 'critical', 'open', $2, $3, $4, $5, $6, $7, $7) \
         ON CONFLICT (natural_key) DO NOTHING RETURNING id",
    )
    .bind(format!("status_conflict:evm_{kind}:{settlement_id}"))
    .bind(settlement_id)
    .bind(counterparty)
    .bind(currency)
    .bind(amount)
    .bind(&text)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await?
    .map(|r| r.try_get("id"))
    .transpose()?;
    if let Some(id) = id {
        let actor = format!("ledger:{ledger}");
        crate::recon::breaks::append_event(
            conn,
            id,
            &actor,
            crate::recon::Action::Opened,
            Some(&text),
            now,
        )
        .await?;
    }
    Ok(())
}

/// Open conflicts of `ledger`, oldest first, at most `limit`.
pub async fn open_conflicts(
    conn: &mut AnyConnection,
    ledger: &str,
    limit: i64,
) -> Result<Vec<Conflict>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, ledger, kind, event_id, settlement_id, detail, status, detected_at_ms \
         FROM evm_conflicts WHERE ledger = $1 AND status = 'open' ORDER BY id LIMIT $2",
    )
    .bind(ledger)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Conflict {
                id: r.try_get("id")?,
                ledger: r.try_get("ledger")?,
                kind: r.try_get("kind")?,
                event_id: r.try_get("event_id")?,
                settlement_id: r.try_get("settlement_id")?,
                detail: r.try_get("detail")?,
                status: r.try_get("status")?,
                detected_at_ms: r.try_get("detected_at_ms")?,
            })
        })
        .collect()
}

/// The table and key condition of the stored transaction of `entry` for a settlement
/// (`$1` the settlement, `$2` the entry where the table holds several): outcomes in
/// `evm_outcome_txs`, corrections and refund requests in `evm_notice_txs` (migration 0014).
fn tx_slot(entry: Entry) -> (&'static str, &'static str) {
    match entry {
        Entry::Outcome => ("evm_outcome_txs", "settlement_id = $1"),
        Entry::Correction | Entry::Refund => {
            ("evm_notice_txs", "settlement_id = $1 AND entry = $2")
        }
    }
}

/// Binds the entry's name where its table holds several entries per settlement.
fn bind_entry<'q>(
    query: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    entry: Entry,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    match entry {
        Entry::Outcome => query,
        Entry::Correction | Entry::Refund => query.bind(entry_name(entry)),
    }
}

fn entry_name(entry: Entry) -> &'static str {
    match entry {
        Entry::Outcome => "outcome",
        Entry::Correction => "correction",
        Entry::Refund => "refund",
    }
}

/// The stored outcome transaction of a settlement: its `PendingTx` and whether it is done.
pub async fn outcome_tx(
    conn: &mut AnyConnection,
    settlement_id: &str,
) -> Result<Option<(PendingTx, bool)>, StoreError> {
    entry_tx(conn, Entry::Outcome, settlement_id).await
}

/// The stored transaction of `entry` (outcome, correction, refund request) of a settlement:
/// its `PendingTx` and whether it is done.
pub async fn entry_tx(
    conn: &mut AnyConnection,
    entry: Entry,
    settlement_id: &str,
) -> Result<Option<(PendingTx, bool)>, StoreError> {
    let (table, key) = tx_slot(entry);
    let sql = format!("SELECT pending, status FROM {table} WHERE {key}");
    let row = bind_entry(sqlx::query(&sql).bind(settlement_id), entry)
        .fetch_optional(conn)
        .await?;
    row.map(|r| {
        let text: String = r.try_get("pending")?;
        let status: String = r.try_get("status")?;
        let pending = serde_json::from_str(&text)
            .map_err(|e| StoreError::Corrupt(format!("{table} {settlement_id}: pending: {e}")))?;
        Ok((pending, status == "done"))
    })
    .transpose()
}

/// Every outcome transaction of `ledger` not yet done (to resume nonces after a start).
pub async fn pending_outcome_txs(
    conn: &mut AnyConnection,
    ledger: &str,
) -> Result<Vec<PendingTx>, StoreError> {
    let rows = sqlx::query(
        "SELECT pending FROM evm_outcome_txs WHERE ledger = $1 AND status = 'pending' \
         UNION ALL SELECT pending FROM evm_notice_txs WHERE ledger = $1 AND status = 'pending' \
         UNION ALL SELECT pending FROM evm_refusals \
         WHERE ledger = $1 AND status = 'pending' AND pending IS NOT NULL",
    )
    .bind(ledger)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let text: String = r.try_get("pending")?;
            serde_json::from_str(&text)
                .map_err(|e| StoreError::Corrupt(format!("evm_outcome_txs: pending: {e}")))
        })
        .collect()
}

/// How many outcome transactions of `ledger` are not done.
pub async fn pending_outcome_count(
    conn: &mut AnyConnection,
    ledger: &str,
) -> Result<i64, StoreError> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM evm_outcome_txs WHERE ledger = $1 AND status = 'pending') \
         + (SELECT COUNT(*) FROM evm_notice_txs WHERE ledger = $1 AND status = 'pending') \
         + (SELECT COUNT(*) FROM evm_refusals WHERE ledger = $1 AND status = 'pending') AS n",
    )
    .bind(ledger)
    .fetch_one(conn)
    .await?;
    Ok(row.try_get("n")?)
}

/// Stores (or replaces, after a fee bump) the pending transaction of `entry` for a
/// settlement.
pub async fn save_entry_tx(
    conn: &mut AnyConnection,
    entry: Entry,
    ledger: &str,
    settlement_id: &str,
    pending: &PendingTx,
) -> Result<(), StoreError> {
    let text = serde_json::to_string(pending).expect("a PendingTx serialises");
    let (table, key_columns, key_values) = match entry {
        Entry::Outcome => ("evm_outcome_txs", "settlement_id", "$1"),
        Entry::Correction | Entry::Refund => ("evm_notice_txs", "settlement_id, entry", "$1, $6"),
    };
    let sql = format!(
        "INSERT INTO {table} ({key_columns}, ledger, nonce, pending, status, created_at_ms, \
         updated_at_ms) VALUES ({key_values}, $2, $3, $4, 'pending', $5, $5) \
         ON CONFLICT ({key_columns}) DO UPDATE SET nonce = $3, pending = $4, updated_at_ms = $5"
    );
    let query = sqlx::query(&sql)
        .bind(settlement_id)
        .bind(ledger)
        .bind(i64_of(pending.nonce))
        .bind(text)
        .bind(now_ms());
    bind_entry(query, entry).execute(conn).await?;
    Ok(())
}

/// Marks the transaction of `entry` done, with the mined version and its gas when ours was
/// mined.
pub async fn finish_entry_tx(
    conn: &mut AnyConnection,
    entry: Entry,
    settlement_id: &str,
    mined: Option<(B256, u64, u64)>,
) -> Result<(), StoreError> {
    let (table, key) = tx_slot(entry);
    let key = key.replace("$1", "$5").replace("$2", "$6");
    let sql = format!(
        "UPDATE {table} SET status = 'done', tx_hash = $1, block_number = $2, gas_used = $3, \
         updated_at_ms = $4 WHERE {key}"
    );
    let query = sqlx::query(&sql)
        .bind(mined.map(|m| m.0.to_string()))
        .bind(mined.map(|m| i64_of(m.1)))
        .bind(mined.map(|m| i64_of(m.2)))
        .bind(now_ms())
        .bind(settlement_id);
    bind_entry(query, entry).execute(conn).await?;
    Ok(())
}

/// The journaled confirmation that made a settlement final: the newest applied answer from
/// its counterparty (pacs.002, 0210 or 0430), raw, with its journal id. `None` when the
/// settlement never reached a counterparty (unroutable, failed before sending).
pub async fn confirmation(
    conn: &mut AnyConnection,
    settlement_id: &str,
) -> Result<Option<(i64, Vec<u8>)>, StoreError> {
    let row = sqlx::query(
        "SELECT id, raw FROM inbound_journal WHERE settlement_id = $1 AND status = 'applied' \
         AND channel IN ('bank-response', 'bank-callback', 'switch-response', 'switch-message') \
         ORDER BY id DESC LIMIT 1",
    )
    .bind(settlement_id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| Ok((r.try_get("id")?, r.try_get("raw")?)))
        .transpose()
}

/// Every applied answer from a settlement's counterparty, raw, oldest first (see
/// [`confirmation`] for the channels).
pub async fn confirmations(
    conn: &mut AnyConnection,
    settlement_id: &str,
) -> Result<Vec<Vec<u8>>, StoreError> {
    let rows = sqlx::query(
        "SELECT raw FROM inbound_journal WHERE settlement_id = $1 AND status = 'applied' \
         AND channel IN ('bank-response', 'bank-callback', 'switch-response', 'switch-message') \
         ORDER BY id",
    )
    .bind(settlement_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(|r| Ok(r.try_get("raw")?)).collect()
}

/// The counterparty's reference for a settlement: the UETR on the bank rail, the RRN on the
/// wallet rail; empty when nothing was sent.
pub async fn counterparty_ref(
    conn: &mut AnyConnection,
    settlement_id: &str,
) -> Result<String, StoreError> {
    let row = sqlx::query(
        "SELECT uetr, rrn FROM outbound_messages WHERE settlement_id = $1 ORDER BY id LIMIT 1",
    )
    .bind(settlement_id)
    .fetch_optional(conn)
    .await?;
    Ok(match row {
        Some(r) => {
            let uetr: Option<String> = r.try_get("uetr")?;
            let rrn: Option<String> = r.try_get("rrn")?;
            uetr.or(rrn).unwrap_or_default()
        }
        None => String::new(),
    })
}

/// A chain instruction the intake refused, waiting for (or holding) its `failed` outcome on
/// chain (migration 0011_chain_refusals).
#[derive(Clone, Debug)]
pub struct Refusal {
    pub event_id: String,
    pub request_id: B256,
    pub reason_code: String,
    pub detail: String,
    /// The outcome transaction, once signed and stored (before it was first broadcast).
    pub pending: Option<PendingTx>,
}

/// Records a refused log for its on-chain outcome, in the intake's transaction; a log read
/// again (after a restart or a reorg) keeps its first row.
pub async fn insert_refusal(
    conn: &mut AnyConnection,
    ledger: &str,
    request: &SettlementRequest,
    reason_code: &str,
    detail: &str,
    inbound_id: i64,
) -> Result<(), StoreError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO evm_refusals (ledger, event_id, request_id, reason_code, detail, inbound_id, \
         status, created_at_ms, updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $7) \
         ON CONFLICT (ledger, event_id) DO NOTHING",
    )
    .bind(ledger)
    .bind(event_id(request))
    .bind(request.id.to_string())
    .bind(reason_code)
    .bind(detail)
    .bind(inbound_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// The refusals of `ledger` whose outcome is not on chain yet, oldest first, at most `limit`.
pub async fn pending_refusals(
    conn: &mut AnyConnection,
    ledger: &str,
    limit: i64,
) -> Result<Vec<Refusal>, StoreError> {
    let rows = sqlx::query(
        "SELECT event_id, request_id, reason_code, detail, pending FROM evm_refusals \
         WHERE ledger = $1 AND status = 'pending' ORDER BY created_at_ms, event_id LIMIT $2",
    )
    .bind(ledger)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let pending = r
                .try_get::<Option<String>, _>("pending")?
                .map(|text| {
                    serde_json::from_str(&text)
                        .map_err(|e| StoreError::Corrupt(format!("evm_refusals: pending: {e}")))
                })
                .transpose()?;
            Ok(Refusal {
                event_id: r.try_get("event_id")?,
                request_id: hash(&r.try_get::<String, _>("request_id")?)?,
                reason_code: r.try_get("reason_code")?,
                detail: r.try_get("detail")?,
                pending,
            })
        })
        .collect()
}

/// Stores a refusal's outcome transaction (or its fee-bumped replacement) before it is
/// broadcast.
pub async fn save_refusal_tx(
    conn: &mut AnyConnection,
    ledger: &str,
    event_id: &str,
    pending: &PendingTx,
) -> Result<(), StoreError> {
    let text = serde_json::to_string(pending).expect("a PendingTx serialises");
    sqlx::query(
        "UPDATE evm_refusals SET nonce = $1, pending = $2, updated_at_ms = $3 \
         WHERE ledger = $4 AND event_id = $5",
    )
    .bind(i64_of(pending.nonce))
    .bind(text)
    .bind(now_ms())
    .bind(ledger)
    .bind(event_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Ends a refusal: `recorded` (with our mined transaction, if it was ours), `gone` (its log
/// was taken away by a reorg before anything was sent) or `failed` (an operator must look:
/// `detail` says why).
pub async fn finish_refusal(
    conn: &mut AnyConnection,
    ledger: &str,
    event_id: &str,
    status: &str,
    mined: Option<(B256, u64, u64)>,
    detail: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE evm_refusals SET status = $1, tx_hash = COALESCE($2, tx_hash), \
         block_number = COALESCE($3, block_number), gas_used = COALESCE($4, gas_used), \
         detail = COALESCE($5, detail), updated_at_ms = $6 WHERE ledger = $7 AND event_id = $8",
    )
    .bind(status)
    .bind(mined.map(|m| m.0.to_string()))
    .bind(mined.map(|m| i64_of(m.1)))
    .bind(mined.map(|m| i64_of(m.2)))
    .bind(detail)
    .bind(now_ms())
    .bind(ledger)
    .bind(event_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Refusals of `ledger` by status (`pending`, `recorded`, `gone`, `failed`).
pub async fn refusal_counts(
    conn: &mut AnyConnection,
    ledger: &str,
) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT status, COUNT(*) AS n FROM evm_refusals WHERE ledger = $1 GROUP BY status \
         ORDER BY status",
    )
    .bind(ledger)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("status")?, r.try_get("n")?)))
        .collect()
}

/// A refused log that a reorg took away before its outcome transaction was signed: nothing
/// is to be recorded for it any more (`gone`). False when it had none or one was signed.
pub async fn withdraw_refusal(
    conn: &mut AnyConnection,
    ledger: &str,
    event_id: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE evm_refusals SET status = 'gone', updated_at_ms = $1 \
         WHERE ledger = $2 AND event_id = $3 AND status = 'pending' AND pending IS NULL",
    )
    .bind(now_ms())
    .bind(ledger)
    .bind(event_id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() > 0)
}
