//! The outbox with leases (DESIGN.md decision 5).
//!
//! A worker claims due rows and commits the lease before any network I/O; the outcome is
//! recorded afterwards in a new transaction. A row whose lease ran out (its worker died) is
//! due again. Attempts are counted at claim time, so a crash mid-send still uses one up, and
//! past `attempts_max` the row goes to `dead`, from where an operator can replay it.

use super::{now_ms, Dialect, Store, StoreError};
use crate::domain::SettlementId;
use sqlx::{AnyConnection, Row};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Send the settlement's message to its counterparty.
    Deliver,
    /// Post the final outcome back to the ledger.
    Writeback,
    /// Reverse an ISO 8583 credit whose outcome is unknown (0420, then 0421 repeats).
    Reverse,
    /// Ask a bank that has not given a final answer for the payment's status (pacs.028),
    /// repeatedly until it does (DESIGN.md decision 6).
    Status,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Deliver => "deliver",
            Kind::Writeback => "writeback",
            Kind::Reverse => "reverse",
            Kind::Status => "status",
        }
    }
    fn parse(value: &str) -> Option<Self> {
        match value {
            "deliver" => Some(Kind::Deliver),
            "writeback" => Some(Kind::Writeback),
            "reverse" => Some(Kind::Reverse),
            "status" => Some(Kind::Status),
            _ => None,
        }
    }
}

/// A claimed row.
#[derive(Clone, Debug)]
pub struct Job {
    pub id: i64,
    pub kind: Kind,
    pub settlement_id: SettlementId,
    /// Including this one.
    pub attempts: i64,
}

/// Adds a job; a second job of the same kind for the same settlement is a no-op, which is
/// what makes a write-back happen once however often a final state is reached.
pub async fn enqueue(
    conn: &mut AnyConnection,
    kind: Kind,
    settlement: &SettlementId,
    due_at_ms: i64,
) -> Result<(), StoreError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO outbox (kind, settlement_id, status, attempts, due_at_ms, created_at_ms, \
         updated_at_ms) VALUES ($1, $2, 'pending', 0, $3, $4, $5) \
         ON CONFLICT (kind, settlement_id) DO NOTHING",
    )
    .bind(kind.as_str())
    .bind(settlement.as_str())
    .bind(due_at_ms)
    .bind(now)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Arms the settlement's status-request job for `due_at_ms`: a new row, or the finished one
/// of an earlier round put back (a payment can go quiet again after a resend). A row still
/// pending or leased is left as it is.
pub async fn arm_status(
    conn: &mut AnyConnection,
    settlement: &SettlementId,
    due_at_ms: i64,
) -> Result<(), StoreError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO outbox (kind, settlement_id, status, attempts, due_at_ms, created_at_ms, \
         updated_at_ms) VALUES ('status', $1, 'pending', 0, $2, $3, $4) \
         ON CONFLICT (kind, settlement_id) DO UPDATE SET status = 'pending', attempts = 0, \
         due_at_ms = excluded.due_at_ms, last_error = NULL, updated_at_ms = excluded.updated_at_ms \
         WHERE outbox.status = 'done'",
    )
    .bind(settlement.as_str())
    .bind(due_at_ms)
    .bind(now)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Retires a settlement's waiting (or given-up) status-request job once its outcome is final
/// (a leased one finishes by itself: it finds the settlement final).
pub async fn cancel_status(
    conn: &mut AnyConnection,
    settlement: &SettlementId,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbox SET status = 'done', updated_at_ms = $1 \
         WHERE kind = 'status' AND settlement_id = $2 AND status IN ('pending', 'dead')",
    )
    .bind(now_ms())
    .bind(settlement.as_str())
    .execute(conn)
    .await?;
    Ok(())
}

/// Puts `owner`'s job back in the queue for `due_at_ms`, its attempts kept (a periodic job
/// counts its rounds with them). False if the lease was lost.
pub async fn reschedule(
    conn: &mut AnyConnection,
    job: &Job,
    owner: &str,
    due_at_ms: i64,
    note: &str,
) -> Result<bool, StoreError> {
    let note: String = note.chars().take(1000).collect();
    let changed = sqlx::query(
        "UPDATE outbox SET status = 'pending', due_at_ms = $1, last_error = $2, \
         lease_owner = NULL, lease_until_ms = NULL, updated_at_ms = $3 \
         WHERE id = $4 AND status = 'leased' AND lease_owner = $5",
    )
    .bind(due_at_ms)
    .bind(&note)
    .bind(now_ms())
    .bind(job.id)
    .bind(owner)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// Sends `owner`'s job to `dead` at once with `why` (a bound other than attempts was reached);
/// an operator can replay it. False if the lease was lost.
pub async fn give_up(
    conn: &mut AnyConnection,
    job: &Job,
    owner: &str,
    why: &str,
) -> Result<bool, StoreError> {
    let why: String = why.chars().take(1000).collect();
    let changed = sqlx::query(
        "UPDATE outbox SET status = 'dead', last_error = $1, lease_owner = NULL, \
         lease_until_ms = NULL, updated_at_ms = $2 \
         WHERE id = $3 AND status = 'leased' AND lease_owner = $4",
    )
    .bind(&why)
    .bind(now_ms())
    .bind(job.id)
    .bind(owner)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// Claims up to `limit` due rows for `owner` until `now + lease_ms`, and commits.
pub async fn claim(
    store: &Store,
    owner: &str,
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<Job>, StoreError> {
    // PostgreSQL: concurrent instances skip each other's locked rows. SQLite: one writer, so
    // the UPDATE … WHERE id IN (SELECT …) is atomic as it stands.
    let lock = match store.dialect() {
        Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
        Dialect::Sqlite => "",
    };
    let sql = format!(
        "UPDATE outbox SET status = 'leased', lease_owner = $1, lease_until_ms = $2, \
         attempts = attempts + 1, updated_at_ms = $3 \
         WHERE id IN (SELECT id FROM outbox \
            WHERE (status = 'pending' AND due_at_ms <= $4) \
               OR (status = 'leased' AND lease_until_ms <= $5) \
            ORDER BY due_at_ms, id LIMIT $6 {lock}) \
         RETURNING id, kind, settlement_id, attempts"
    );
    let mut tx = store.begin().await?;
    let rows = sqlx::query(&sql)
        .bind(owner)
        .bind(now + lease_ms)
        .bind(now)
        .bind(now)
        .bind(now)
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    let mut jobs = Vec::with_capacity(rows.len());
    for row in rows {
        let kind: String = row.try_get("kind")?;
        let sid: String = row.try_get("settlement_id")?;
        jobs.push(Job {
            id: row.try_get("id")?,
            kind: Kind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("outbox kind {kind:?}")))?,
            settlement_id: SettlementId::parse(&sid)
                .ok_or_else(|| StoreError::Corrupt(format!("outbox settlement {sid:?}")))?,
            attempts: row.try_get("attempts")?,
        });
    }
    jobs.sort_by_key(|j| j.id);
    Ok(jobs)
}

/// Marks a job done, if `owner` still holds its lease. Returns false if the lease was lost
/// (another worker took the row over); the caller then leaves the outcome to that worker.
pub async fn complete(
    conn: &mut AnyConnection,
    job: &Job,
    owner: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE outbox SET status = 'done', lease_owner = NULL, lease_until_ms = NULL, \
         last_error = NULL, updated_at_ms = $1 WHERE id = $2 AND status = 'leased' AND lease_owner = $3",
    )
    .bind(now_ms())
    .bind(job.id)
    .bind(owner)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// Extends `owner`'s lease on `job` from `now`, right before network I/O. False when the lease
/// was lost: the caller must not send.
pub async fn renew(
    conn: &mut AnyConnection,
    job: &Job,
    owner: &str,
    now: i64,
    lease_ms: i64,
) -> Result<bool, StoreError> {
    let renewed = sqlx::query(
        "UPDATE outbox SET lease_until_ms = $1, updated_at_ms = $2 \
         WHERE id = $3 AND status = 'leased' AND lease_owner = $4",
    )
    .bind(now + lease_ms)
    .bind(now)
    .bind(job.id)
    .bind(owner)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(renewed == 1)
}

/// What became of a failed attempt.

#[derive(Debug, PartialEq, Eq)]
pub enum Retry {
    At(i64),
    Dead,
    LeaseLost,
}

/// Records a failed attempt: back to `pending` after a backoff, or `dead` past the bound.
pub async fn fail(
    conn: &mut AnyConnection,
    job: &Job,
    owner: &str,
    error: &str,
    attempts_max: i64,
    backoff_ms: i64,
    now: i64,
) -> Result<Retry, StoreError> {
    let (status, due, outcome) = if job.attempts >= attempts_max {
        ("dead", now, Retry::Dead)
    } else {
        ("pending", now + backoff_ms, Retry::At(now + backoff_ms))
    };
    let error: String = error.chars().take(1000).collect();
    let changed = sqlx::query(
        "UPDATE outbox SET status = $1, due_at_ms = $2, last_error = $3, lease_owner = NULL, \
         lease_until_ms = NULL, updated_at_ms = $4 \
         WHERE id = $5 AND status = 'leased' AND lease_owner = $6",
    )
    .bind(status)
    .bind(due)
    .bind(&error)
    .bind(now)
    .bind(job.id)
    .bind(owner)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(if changed == 1 {
        outcome
    } else {
        Retry::LeaseLost
    })
}

/// Puts a dead (or pending) row back in the queue now, with a fresh attempt budget.
/// Returns false if there is no such row or it is done.
pub async fn replay(conn: &mut AnyConnection, id: i64) -> Result<bool, StoreError> {
    let now = now_ms();
    let changed = sqlx::query(
        "UPDATE outbox SET status = 'pending', attempts = 0, due_at_ms = $1, updated_at_ms = $2, \
         lease_owner = NULL, lease_until_ms = NULL WHERE id = $3 AND status IN ('dead', 'pending')",
    )
    .bind(now)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// A row as operators see it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct OutboxRow {
    pub id: i64,
    pub kind: String,
    pub settlement_id: String,
    pub status: String,
    pub attempts: i64,
    pub due_at_ms: i64,
    pub lease_owner: Option<String>,
    pub last_error: Option<String>,
    pub created_at_ms: i64,
}

/// Rows in a status (all when None), oldest first, at most `limit` (capped at 1000).
pub async fn list(
    conn: &mut AnyConnection,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<OutboxRow>, StoreError> {
    let limit = limit.clamp(1, 1000);
    const COLUMNS: &str = "id, kind, settlement_id, status, attempts, due_at_ms, lease_owner, \
                           last_error, created_at_ms";
    let rows = match status {
        Some(status) => {
            sqlx::query(&format!(
                "SELECT {COLUMNS} FROM outbox WHERE status = $1 ORDER BY id LIMIT $2"
            ))
            .bind(status)
            .bind(limit)
            .fetch_all(conn)
            .await?
        }
        None => {
            sqlx::query(&format!(
                "SELECT {COLUMNS} FROM outbox ORDER BY id LIMIT $1"
            ))
            .bind(limit)
            .fetch_all(conn)
            .await?
        }
    };
    rows.iter()
        .map(|row| {
            Ok(OutboxRow {
                id: row.try_get("id")?,
                kind: row.try_get("kind")?,
                settlement_id: row.try_get("settlement_id")?,
                status: row.try_get("status")?,
                attempts: row.try_get("attempts")?,
                due_at_ms: row.try_get("due_at_ms")?,
                lease_owner: row.try_get("lease_owner")?,
                last_error: row.try_get("last_error")?,
                created_at_ms: row.try_get("created_at_ms")?,
            })
        })
        .collect()
}

/// Depth (rows not done) and age of the oldest such row, per kind and status.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Depth {
    pub kind: String,
    pub status: String,
    pub rows: i64,
    pub oldest_created_at_ms: i64,
}

pub async fn depth(conn: &mut AnyConnection) -> Result<Vec<Depth>, StoreError> {
    let rows = sqlx::query(
        "SELECT kind, status, COUNT(*) AS n, MIN(created_at_ms) AS oldest FROM outbox \
         WHERE status <> 'done' GROUP BY kind, status",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(Depth {
                kind: row.try_get("kind")?,
                status: row.try_get("status")?,
                rows: row.try_get("n")?,
                oldest_created_at_ms: row.try_get("oldest")?,
            })
        })
        .collect()
}

/// True when nothing is pending or leased (dead rows do not count: they wait for a person).
pub async fn is_idle(conn: &mut AnyConnection) -> Result<bool, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'leased')")
        .fetch_one(conn)
        .await?;
    let n: i64 = row.try_get("n")?;
    Ok(n == 0)
}
