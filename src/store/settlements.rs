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
    let now = now_ms();
    let inserted = insert_row(tx, settlement, content_hash, &Landing::received(), now).await?;
    if let Inserted::Created = inserted {
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
    }
    Ok(inserted)
}

/// Where a new settlement stands when its row is first written, and what says why.
#[derive(Clone, Debug)]
pub struct Landing<'a> {
    pub state: SettlementState,
    pub rail: Option<Rail>,
    pub counterparty: Option<&'a str>,
    pub reason_code: Option<&'a str>,
    pub reason: Option<&'a str>,
}

impl Landing<'_> {
    /// Just received: no route yet.
    pub fn received() -> Self {
        Self::new(SettlementState::Received)
    }

    /// In `state`, with nothing else set.
    pub fn new(state: SettlementState) -> Self {
        Landing {
            state,
            rail: None,
            counterparty: None,
            reason_code: None,
            reason: None,
        }
    }
}

/// Inserts a new settlement already in `landing`'s state (intake decided its route and message
/// before writing, so that its row is written once instead of moved step by step), or reports
/// the one already holding its key. The caller writes the transitions that got it there
/// ([`journal_transitions`]).
pub async fn insert_row(
    tx: &mut sqlx::AnyConnection,
    settlement: &Settlement,
    content_hash: &str,
    landing: &Landing<'_>,
    now: i64,
) -> Result<Inserted, StoreError> {
    // Invariant right before the write: a settlement amount is positive (the type says so,
    // this guards against a future constructor that forgets).
    assert!(
        settlement.amount.minor() > 0,
        "settlement amount must be positive"
    );
    let payload = serde_json::to_string(settlement).expect("settlement serialises");
    let final_at = landing.state.is_final().then_some(now);
    let inserted = sqlx::query(
        "INSERT INTO settlements (id, ledger, event_id, content_hash, state, amount_minor, \
         currency, payload, created_at_ms, updated_at_ms, rail, counterparty, reason_code, \
         reason, final_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) \
         ON CONFLICT (ledger, event_id) DO NOTHING",
    )
    .bind(settlement.id.as_str())
    .bind(&settlement.ledger)
    .bind(&settlement.event_id)
    .bind(content_hash)
    .bind(landing.state.as_str())
    .bind(settlement.amount.minor())
    .bind(settlement.amount.currency().code())
    .bind(&payload)
    .bind(now)
    .bind(now)
    .bind(landing.rail.map(Rail::as_str))
    .bind(landing.counterparty)
    .bind(landing.reason_code)
    .bind(landing.reason)
    .bind(final_at)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 1 {
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

/// Moves a settlement written in `received` (its message needed the transaction, for a
/// counter) to where intake leaves it, in one write.
pub async fn land(
    tx: &mut sqlx::AnyConnection,
    id: &SettlementId,
    landing: &Landing<'_>,
    now: i64,
) -> Result<(), StoreError> {
    let final_at = landing.state.is_final().then_some(now);
    let updated = sqlx::query(
        "UPDATE settlements SET state = $1, rail = $2, counterparty = $3, reason_code = $4, \
         reason = $5, final_at_ms = $6, updated_at_ms = $7 WHERE id = $8 AND state = $9",
    )
    .bind(landing.state.as_str())
    .bind(landing.rail.map(Rail::as_str))
    .bind(landing.counterparty)
    .bind(landing.reason_code)
    .bind(landing.reason)
    .bind(final_at)
    .bind(now)
    .bind(id.as_str())
    .bind(SettlementState::Received.as_str())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated != 1 {
        return Err(StoreError::Corrupt(format!(
            "settlement {id} left `received` during its own intake"
        )));
    }
    Ok(())
}

/// One audit row of [`journal_transitions`].
#[derive(Clone, Debug)]
pub struct Step<'a> {
    pub from: Option<SettlementState>,
    pub to: SettlementState,
    pub cause: &'a str,
    pub detail: Option<&'a str>,
    pub inbound_id: Option<i64>,
}

/// Writes the audit rows of several moves of one settlement, in order, in one statement;
/// each move is checked against the transition table first (a refused one is a bug here,
/// never input). A final state also queues the settlement's write-back.
pub async fn journal_transitions(
    tx: &mut sqlx::AnyConnection,
    id: &SettlementId,
    steps: &[Step<'_>],
    at_ms: i64,
) -> Result<(), StoreError> {
    check_steps(id, steps)?;
    let mut sql = String::from(
        "INSERT INTO settlement_transitions (settlement_id, from_state, to_state, cause, detail, \
         inbound_id, at_ms) VALUES ",
    );
    // In order of first use: the id, each step's five values, the time last.
    let at = steps.len() * 5 + 2;
    for i in 0..steps.len() {
        let n = i * 5;
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "($1, ${}, ${}, ${}, ${}, ${}, ${at})",
            n + 2,
            n + 3,
            n + 4,
            n + 5,
            n + 6
        ));
    }
    let mut query = sqlx::query(&sql).bind(id.as_str());
    for step in steps {
        query = query
            .bind(step.from.map(SettlementState::as_str))
            .bind(step.to.as_str())
            .bind(step.cause)
            .bind(step.detail)
            .bind(step.inbound_id);
    }
    let query = query.bind(at_ms);
    query.execute(&mut *tx).await?;
    if steps.last().is_some_and(|s| s.to.is_final()) {
        outbox::enqueue(tx, outbox::Kind::Writeback, id, at_ms).await?;
    }
    Ok(())
}

/// Checks each step of `steps` against the transition table (a refused one is a bug in the
/// caller, never input).
pub(crate) fn check_steps(id: &SettlementId, steps: &[Step<'_>]) -> Result<(), StoreError> {
    for step in steps {
        if let Some(from) = step.from {
            from.check(step.to)
                .map_err(|e| StoreError::Corrupt(format!("settlement {id}: {e}")))?;
        }
    }
    Ok(())
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
    if super::dialect_of(tx) == super::Dialect::Sqlite {
        return move_sqlite(tx, id, to, change).await;
    }
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

/// The settlement's state alone (no payload read).
pub async fn current_state(
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

/// [`transition`] on SQLite, in one request to the connection's thread: the state is read,
/// the audit row written from the row's state if the table allows the move, the row moved if
/// the audit row was written, and on a final state the write-back queued and a waiting status
/// request retired. The single writer connection means nobody moves the row in between.
// `fetch_many` over several statements is deprecated because only SQLite runs them; this is
// the SQLite path, and one request instead of four is the point.
#[allow(deprecated)]
async fn move_sqlite(
    conn: &mut AnyConnection,
    id: &SettlementId,
    to: SettlementState,
    change: &Change<'_>,
) -> Result<Transitioned, StoreError> {
    use futures::TryStreamExt;
    let Some(sql) = move_sqlite_sql(to) else {
        // Nothing moves there (`received`): decided by the state alone.
        let from = current_state(conn, id).await?;
        return Ok(if from == to {
            Transitioned::AlreadyThere
        } else {
            Transitioned::Illegal(TransitionError { from, to })
        });
    };
    let now = now_ms();
    let mut results = sqlx::query(&sql)
        .bind(id.as_str())
        .bind(to.as_str())
        .bind(now)
        .bind(change.cause)
        .bind(change.detail)
        .bind(change.inbound_id)
        .bind(to.is_final().then_some(now))
        .bind(change.reason_code)
        .bind(change.reason)
        .bind(change.rail.map(Rail::as_str))
        .bind(change.counterparty)
        .fetch_many(&mut *conn);
    // Rows changed per statement, in order (the SELECT's count is stale: SQLite reports the
    // last write's there), and the state read first.
    let (mut from, mut changed) = (None, Vec::with_capacity(5));
    while let Some(item) = results.try_next().await? {
        match item {
            sqlx::Either::Left(done) => changed.push(done.rows_affected()),
            sqlx::Either::Right(row) => from = Some(row.try_get::<String, _>("state")?),
        }
    }
    drop(results);
    let text =
        from.ok_or_else(|| StoreError::Corrupt(format!("settlement {id} does not exist")))?;
    let from = SettlementState::parse(&text)
        .ok_or_else(|| StoreError::Corrupt(format!("settlement {id}: state {text:?}")))?;
    if from == to {
        return Ok(Transitioned::AlreadyThere);
    }
    if let Err(illegal) = from.check(to) {
        return Ok(Transitioned::Illegal(illegal));
    }
    // A legal move wrote its audit row and moved the row.
    if changed.get(1..3) != Some(&[1, 1]) {
        return Err(StoreError::Corrupt(format!(
            "settlement {id}: the move {from} -> {to} changed {changed:?} rows"
        )));
    }
    Ok(Transitioned::Moved { from })
}

/// The request of [`move_sqlite`] for a move to `to`; none when no state may move there.
fn move_sqlite_sql(to: SettlementState) -> Option<String> {
    // The states the table lets move to `to`, as SQL literals (constant names, no input).
    let from_any: Vec<String> = SettlementState::ALL
        .into_iter()
        .filter(|from| *from != to && from.check(to).is_ok())
        .map(|from| format!("'{}'", from.as_str()))
        .collect();
    if from_any.is_empty() {
        return None;
    }
    let from_any = from_any.join(", ");
    let mut sql = format!(
        "SELECT state FROM settlements WHERE id = $1; \
         INSERT INTO settlement_transitions (settlement_id, from_state, to_state, cause, detail, \
         inbound_id, at_ms) SELECT id, state, $2, $4, $5, $6, $3 FROM settlements \
         WHERE id = $1 AND state IN ({from_any}); \
         UPDATE settlements SET state = $2, updated_at_ms = $3, \
         final_at_ms = COALESCE($7, final_at_ms), reason_code = COALESCE($8, reason_code), \
         reason = COALESCE($9, reason), rail = COALESCE($10, rail), \
         counterparty = COALESCE($11, counterparty) WHERE id = $1 AND changes() = 1;"
    );
    if to.is_final() {
        sql.push_str(
            " INSERT INTO outbox (kind, settlement_id, status, attempts, due_at_ms, \
             created_at_ms, updated_at_ms) SELECT 'writeback', $1, 'pending', 0, $3, $3, $3 \
             WHERE changes() = 1 ON CONFLICT (kind, settlement_id) DO NOTHING; \
             UPDATE outbox SET status = 'done', updated_at_ms = $3 WHERE kind = 'status' \
             AND settlement_id = $1 AND status IN ('pending', 'dead') \
             AND (SELECT state FROM settlements WHERE id = $1) = $2;",
        );
    }
    Some(sql)
}

/// The guarded write of one checked move on PostgreSQL; false when the state was no longer
/// `from`. The row, its audit row and, on a final state, the write-back job and the retired
/// status request go in one statement of chained CTEs, one round trip instead of four.
async fn try_move(
    conn: &mut AnyConnection,
    id: &SettlementId,
    from: SettlementState,
    to: SettlementState,
    change: &Change<'_>,
) -> Result<bool, StoreError> {
    let now = now_ms();
    let final_at = to.is_final().then_some(now);
    let sql = if to.is_final() {
        format!("WITH {MOVE_POSTGRES}, {FINAL_POSTGRES} SELECT COUNT(*) AS moved FROM moved")
    } else {
        format!("WITH {MOVE_POSTGRES} SELECT COUNT(*) AS moved FROM moved")
    };
    let moved: i64 = sqlx::query(&sql)
        .bind(to.as_str())
        .bind(now)
        .bind(final_at)
        .bind(change.reason_code)
        .bind(change.reason)
        .bind(change.rail.map(Rail::as_str))
        .bind(change.counterparty)
        .bind(id.as_str())
        .bind(from.as_str())
        .bind(change.cause)
        .bind(change.detail)
        .bind(change.inbound_id)
        .fetch_one(&mut *conn)
        .await?
        .try_get("moved")?;
    Ok(moved == 1)
}

/// A move on PostgreSQL: the audit row is written for the row the update returned.
const MOVE_POSTGRES: &str = "moved AS (UPDATE settlements SET state = $1, updated_at_ms = $2, \
    final_at_ms = COALESCE($3, final_at_ms), reason_code = COALESCE($4, reason_code), \
    reason = COALESCE($5, reason), rail = COALESCE($6, rail), \
    counterparty = COALESCE($7, counterparty) WHERE id = $8 AND state = $9 RETURNING id), \
    audit AS (INSERT INTO settlement_transitions (settlement_id, from_state, to_state, cause, \
    detail, inbound_id, at_ms) SELECT id, $9, $1, $10, $11, $12, $2 FROM moved RETURNING 1)";

/// A final state on PostgreSQL: the write-back queued (once per settlement) and a waiting
/// status request retired, for the row moved.
const FINAL_POSTGRES: &str = "writeback AS (INSERT INTO outbox (kind, settlement_id, status, \
    attempts, due_at_ms, created_at_ms, updated_at_ms) \
    SELECT 'writeback', id, 'pending', 0, $2, $2, $2 FROM moved \
    ON CONFLICT (kind, settlement_id) DO NOTHING RETURNING 1), \
    retired AS (UPDATE outbox SET status = 'done', updated_at_ms = $2 WHERE kind = 'status' \
    AND settlement_id IN (SELECT id FROM moved) AND status IN ('pending', 'dead') RETURNING 1)";

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

/// The settlements with these ids (those that exist), in one query.
pub async fn get_many(
    conn: &mut AnyConnection,
    ids: &[&SettlementId],
) -> Result<Vec<Record>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let listed = super::in_json_strings(conn, "id");
    let rows = sqlx::query(&format!("SELECT {COLUMNS} FROM settlements WHERE {listed}"))
        .bind(super::json_ids(ids))
        .fetch_all(conn)
        .await?;
    rows.iter().map(from_row).collect()
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
