//! Settlements and their transition journal. Every state change goes through
//! [`transition`], which checks the one transition table, writes the audit row, and on a
//! final state enqueues the write-back in the same transaction.

use super::{now_ms, outbox, StoreError};
use crate::domain::{Rail, Settlement, SettlementId, SettlementState, TransitionError};
use sqlx::{AnyConnection, Row};

/// A settlement row as stored.
#[derive(Clone, Debug)]
pub struct Record {
    pub settlement: Settlement,
    pub state: SettlementState,
    pub content_hash: String,
    pub rail: Option<Rail>,
    pub counterparty: Option<String>,
    pub reason_code: Option<String>,
    pub reason: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub final_at_ms: Option<i64>,
    pub written_back_at_ms: Option<i64>,
}

/// What inserting a new event found.
#[derive(Debug)]
pub enum Inserted {
    Created,
    /// The (ledger, event id) key was already there.
    Existing {
        id: SettlementId,
        state: SettlementState,
        content_hash: String,
    },
}

const COLUMNS: &str = "id, state, content_hash, rail, counterparty, reason_code, reason, payload, \
    amount_minor, currency, created_at_ms, updated_at_ms, final_at_ms, written_back_at_ms";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Record, StoreError> {
    let id: String = row.try_get("id")?;
    let state_text: String = row.try_get("state")?;
    let state = SettlementState::parse(&state_text).ok_or_else(|| {
        StoreError::Corrupt(format!("settlement {id}: unknown state {state_text:?}"))
    })?;
    let payload: String = row.try_get("payload")?;
    let settlement: Settlement = serde_json::from_str(&payload)
        .map_err(|e| StoreError::Corrupt(format!("settlement {id}: payload: {e}")))?;
    // Read-back invariants: the indexed columns agree with the payload.
    let amount_minor: i64 = row.try_get("amount_minor")?;
    let currency: String = row.try_get("currency")?;
    if settlement.id.as_str() != id
        || settlement.amount.minor() != amount_minor
        || settlement.amount.currency().code() != currency
    {
        return Err(StoreError::Corrupt(format!(
            "settlement {id}: columns disagree with payload"
        )));
    }
    Ok(Record {
        settlement,
        state,
        content_hash: row.try_get("content_hash")?,
        rail: row
            .try_get::<Option<String>, _>("rail")?
            .map(|text| {
                Rail::parse(&text)
                    .ok_or_else(|| StoreError::Corrupt(format!("settlement {id}: rail {text:?}")))
            })
            .transpose()?,
        counterparty: row.try_get("counterparty")?,
        reason_code: row.try_get("reason_code")?,
        reason: row.try_get("reason")?,
        created_at_ms: row.try_get("created_at_ms")?,
        updated_at_ms: row.try_get("updated_at_ms")?,
        final_at_ms: row.try_get("final_at_ms")?,
        written_back_at_ms: row.try_get("written_back_at_ms")?,
    })
}

/// Inserts a new settlement in `received`, or reports the one already holding its key.
pub async fn insert_received(
    tx: &mut sqlx::AnyConnection,
    settlement: &Settlement,
    content_hash: &str,
    cause: &str,
    inbound_id: Option<i64>,
) -> Result<Inserted, StoreError> {
    // Invariant right before the write: a settlement amount is positive (the type says so,
    // this guards against a future constructor that forgets).
    assert!(
        settlement.amount.minor() > 0,
        "settlement amount must be positive"
    );
    let now = now_ms();
    let payload = serde_json::to_string(settlement).expect("settlement serialises");
    let inserted = sqlx::query(
        "INSERT INTO settlements (id, ledger, event_id, content_hash, state, amount_minor, \
         currency, payload, created_at_ms, updated_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         ON CONFLICT (ledger, event_id) DO NOTHING",
    )
    .bind(settlement.id.as_str())
    .bind(&settlement.ledger)
    .bind(&settlement.event_id)
    .bind(content_hash)
    .bind(SettlementState::Received.as_str())
    .bind(settlement.amount.minor())
    .bind(settlement.amount.currency().code())
    .bind(&payload)
    .bind(now)
    .bind(now)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 1 {
        journal_transition(
            tx,
            &settlement.id,
            None,
            SettlementState::Received,
            cause,
            None,
            inbound_id,
            now,
        )
        .await?;
        return Ok(Inserted::Created);
    }
    let row = sqlx::query(
        "SELECT id, state, content_hash FROM settlements WHERE ledger = $1 AND event_id = $2",
    )
    .bind(&settlement.ledger)
    .bind(&settlement.event_id)
    .fetch_one(&mut *tx)
    .await?;
    let id: String = row.try_get("id")?;
    let state: String = row.try_get("state")?;
    Ok(Inserted::Existing {
        id: SettlementId::parse(&id)
            .ok_or_else(|| StoreError::Corrupt(format!("bad settlement id {id:?}")))?,
        state: SettlementState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("settlement {id}: state {state:?}")))?,
        content_hash: row.try_get("content_hash")?,
    })
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn journal_transition(
    conn: &mut AnyConnection,
    id: &SettlementId,
    from: Option<SettlementState>,
    to: SettlementState,
    cause: &str,
    detail: Option<&str>,
    inbound_id: Option<i64>,
    at_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO settlement_transitions (settlement_id, from_state, to_state, cause, detail, \
         inbound_id, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id.as_str())
    .bind(from.map(SettlementState::as_str))
    .bind(to.as_str())
    .bind(cause)
    .bind(detail)
    .bind(inbound_id)
    .bind(at_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// One requested state change with its audit data.
#[derive(Clone, Debug, Default)]
pub struct Change<'a> {
    /// Why: `intake`, `routing`, `dispatch`, `pacs.002 ACSC`, `operator`, …
    pub cause: &'a str,
    pub detail: Option<&'a str>,
    pub inbound_id: Option<i64>,
    pub reason_code: Option<&'a str>,
    pub reason: Option<&'a str>,
    /// Set with `routed`.
    pub rail: Option<Rail>,
    pub counterparty: Option<&'a str>,
}

/// What a transition did.
#[derive(Debug, PartialEq, Eq)]
pub enum Transitioned {
    Moved {
        from: SettlementState,
    },
    /// Already in the target state: nothing written (a duplicate answer).
    AlreadyThere,
    Illegal(TransitionError),
}

/// Moves a settlement to `to` inside the caller's transaction, if the table allows it.
pub async fn transition(
    tx: &mut sqlx::AnyConnection,
    id: &SettlementId,
    to: SettlementState,
    change: &Change<'_>,
) -> Result<Transitioned, StoreError> {
    // A concurrent mover (on PostgreSQL, another transaction that committed between our read
    // and our update) makes the guarded UPDATE match nothing: read again and decide again.
    // Each retry sees a newer state; the table is finite and acyclic, so few are ever needed.
    const RETRIES_MAX: usize = 8;
    for _ in 0..RETRIES_MAX {
        let from = current_state(tx, id).await?;
        if from == to {
            return Ok(Transitioned::AlreadyThere);
        }
        if let Err(illegal) = from.check(to) {
            return Ok(Transitioned::Illegal(illegal));
        }
        if try_move(tx, id, from, to, change).await? {
            return Ok(Transitioned::Moved { from });
        }
    }
    Err(StoreError::Corrupt(format!(
        "settlement {id} kept changing state under a transition to {to}"
    )))
}

async fn current_state(
    conn: &mut AnyConnection,
    id: &SettlementId,
) -> Result<SettlementState, StoreError> {
    let row = sqlx::query("SELECT state FROM settlements WHERE id = $1")
        .bind(id.as_str())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("settlement {id} does not exist")))?;
    let text: String = row.try_get("state")?;
    SettlementState::parse(&text)
        .ok_or_else(|| StoreError::Corrupt(format!("settlement {id}: state {text:?}")))
}

/// The guarded write of one checked move; false when the state was no longer `from`.
async fn try_move(
    conn: &mut AnyConnection,
    id: &SettlementId,
    from: SettlementState,
    to: SettlementState,
    change: &Change<'_>,
) -> Result<bool, StoreError> {
    let now = now_ms();
    let final_at = to.is_final().then_some(now);
    let updated = sqlx::query(
        "UPDATE settlements SET state = $1, updated_at_ms = $2, \
         final_at_ms = COALESCE($3, final_at_ms), \
         reason_code = COALESCE($4, reason_code), reason = COALESCE($5, reason), \
         rail = COALESCE($6, rail), counterparty = COALESCE($7, counterparty) \
         WHERE id = $8 AND state = $9",
    )
    .bind(to.as_str())
    .bind(now)
    .bind(final_at)
    .bind(change.reason_code)
    .bind(change.reason)
    .bind(change.rail.map(Rail::as_str))
    .bind(change.counterparty)
    .bind(id.as_str())
    .bind(from.as_str())
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if updated != 1 {
        return Ok(false);
    }
    journal_transition(
        conn,
        id,
        Some(from),
        to,
        change.cause,
        change.detail,
        change.inbound_id,
        now,
    )
    .await?;
    if to.is_final() {
        outbox::enqueue(conn, outbox::Kind::Writeback, id, now).await?;
        outbox::cancel_status(conn, id).await?;
    }
    Ok(true)
}

pub async fn get(
    conn: &mut AnyConnection,
    id: &SettlementId,
) -> Result<Option<Record>, StoreError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM settlements WHERE id = $1"))
        .bind(id.as_str())
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn find_by_event(
    conn: &mut AnyConnection,
    ledger: &str,
    event_id: &str,
) -> Result<Option<Record>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM settlements WHERE ledger = $1 AND event_id = $2"
    ))
    .bind(ledger)
    .bind(event_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Newest first, optionally in one state; `limit` is capped at 1000.
pub async fn list(
    conn: &mut AnyConnection,
    state: Option<SettlementState>,
    limit: i64,
) -> Result<Vec<Record>, StoreError> {
    let limit = limit.clamp(1, 1000);
    let rows = match state {
        Some(state) => {
            sqlx::query(&format!(
                "SELECT {COLUMNS} FROM settlements WHERE state = $1 \
                 ORDER BY created_at_ms DESC, id LIMIT $2"
            ))
            .bind(state.as_str())
            .bind(limit)
            .fetch_all(conn)
            .await?
        }
        None => {
            sqlx::query(&format!(
                "SELECT {COLUMNS} FROM settlements ORDER BY created_at_ms DESC, id LIMIT $1"
            ))
            .bind(limit)
            .fetch_all(conn)
            .await?
        }
    };
    rows.iter().map(from_row).collect()
}

/// Settlements per state.
pub async fn count_by_state(
    conn: &mut AnyConnection,
) -> Result<Vec<(SettlementState, i64)>, StoreError> {
    let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM settlements GROUP BY state")
        .fetch_all(conn)
        .await?;
    let mut out = Vec::new();
    for row in rows {
        let state: String = row.try_get("state")?;
        let n: i64 = row.try_get("n")?;
        let state = SettlementState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("unknown state {state:?}")))?;
        out.push((state, n));
    }
    Ok(out)
}

/// One audit row.
#[derive(Clone, Debug, serde::Serialize)]
pub struct TransitionRow {
    pub from: Option<String>,
    pub to: String,
    pub cause: String,
    pub detail: Option<String>,
    pub inbound_id: Option<i64>,
    pub at_ms: i64,
}

pub async fn transitions(
    conn: &mut AnyConnection,
    id: &SettlementId,
) -> Result<Vec<TransitionRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT from_state, to_state, cause, detail, inbound_id, at_ms \
         FROM settlement_transitions WHERE settlement_id = $1 ORDER BY id",
    )
    .bind(id.as_str())
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(TransitionRow {
                from: row.try_get("from_state")?,
                to: row.try_get("to_state")?,
                cause: row.try_get("cause")?,
                detail: row.try_get("detail")?,
                inbound_id: row.try_get("inbound_id")?,
                at_ms: row.try_get("at_ms")?,
            })
        })
        .collect()
}

/// Records that the ledger acknowledged the write-back.
pub async fn mark_written_back(
    conn: &mut AnyConnection,
    id: &SettlementId,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE settlements SET written_back_at_ms = $1 WHERE id = $2 AND written_back_at_ms IS NULL")
        .bind(now_ms())
        .bind(id.as_str())
        .execute(conn)
        .await?;
    Ok(())
}
