//! The outbox with leases (DESIGN.md decision 5).
//!
//! A worker claims due rows and commits the lease before any network I/O; the outcome is
//! recorded afterwards in a new transaction. A row whose lease ran out (its worker died) is
//! due again. Attempts are counted at claim time, so a crash mid-send still uses one up, and
//! past `attempts_max` the row goes to `dead`, from where an operator can replay it.

use super::merged::Forms;
use super::{now_ms, Dialect, Store, StoreError};
use crate::domain::SettlementId;
use sqlx::{AnyConnection, FromRow, Row};

crate::text_enum! {
    /// What an outbox row is for.
    pub enum Kind {
        /// Send the settlement's message to its counterparty.
        Deliver => "deliver",
        /// Post the final outcome back to the ledger.
        Writeback => "writeback",
        /// Undo a send whose outcome is unknown (ISO 8583: 0420, then 0421 repeats).
        Reverse => "reverse",
        /// Ask a counterparty that has not given a final answer for the status (pacs.028),
        /// repeatedly until it does (DESIGN.md decision 6).
        Status => "status",
        /// Send the stored message again, same identifiers (a reconciliation resolution by an
        /// operator: the bank never booked it, or never answered).
        Resend => "resend",
        /// Post a refund request to the ledger that owns the money (a reconciliation
        /// resolution by an operator).
        Refund => "refund",
        /// Post a corrected final outcome to the ledger (reconciliation found a return on the
        /// statement for a settlement written back as settled).
        Correction => "correction",
    }
}

crate::text_enum! {
    /// Where an outbox row stands.
    pub enum Status {
        /// Waiting for `due_at_ms`.
        Pending => "pending",
        /// Claimed by a worker until `lease_until_ms`.
        Leased => "leased",
        /// Finished.
        Done => "done",
        /// Past its attempts (or another bound): waits for an operator's replay.
        Dead => "dead",
    }
}

const PENDING: &str = Status::Pending.as_str();
pub(crate) const LEASED: &str = Status::Leased.as_str();
pub(crate) const DONE: &str = Status::Done.as_str();
const DEAD: &str = Status::Dead.as_str();
const STATUS_KIND: &str = Kind::Status.as_str();

/// A claimed row.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Job {
    pub id: i64,
    pub kind: Kind,
    #[sqlx(try_from = "String")]
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
    sqlx::query(&format!(
        "INSERT INTO outbox (kind, settlement_id, status, attempts, due_at_ms, created_at_ms, \
         updated_at_ms) VALUES ($1, $2, '{PENDING}', 0, $3, $4, $5) \
         ON CONFLICT (kind, settlement_id) DO NOTHING"
    ))
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
    sqlx::query(&format!(
        "INSERT INTO outbox (kind, settlement_id, status, attempts, due_at_ms, created_at_ms, \
         updated_at_ms) VALUES ('{STATUS_KIND}', $1, '{PENDING}', 0, $2, $3, $4) \
         ON CONFLICT (kind, settlement_id) DO UPDATE SET status = '{PENDING}', attempts = 0, \
         due_at_ms = excluded.due_at_ms, last_error = NULL, updated_at_ms = excluded.updated_at_ms \
         WHERE outbox.status = '{DONE}'"
    ))
    .bind(settlement.as_str())
    .bind(due_at_ms)
    .bind(now)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Arms a job of `kind` that a person asked for: a new row, or the finished or dead one of an
/// earlier request put back with a fresh attempt budget. A row still pending or leased is left
/// as it is (the request is already under way). Returns the row's id and whether it was armed
/// now (false: it was already under way).
pub async fn arm_again(
    conn: &mut AnyConnection,
    kind: Kind,
    settlement: &SettlementId,
    due_at_ms: i64,
) -> Result<(i64, bool), StoreError> {
    let rearm = format!(
        "DO UPDATE SET status = '{PENDING}', attempts = 0, due_at_ms = excluded.due_at_ms, \
         last_error = NULL, lease_owner = NULL, lease_until_ms = NULL, \
         updated_at_ms = excluded.updated_at_ms WHERE outbox.status IN ('{DONE}', '{DEAD}')"
    );
    insert_job(conn, kind, settlement, due_at_ms, &rearm).await
}

/// Adds a job of `kind` once per settlement; returns the row's id and whether it is new
/// (false: one was asked for before, and nothing changed).
pub async fn enqueue_once(
    conn: &mut AnyConnection,
    kind: Kind,
    settlement: &SettlementId,
    due_at_ms: i64,
) -> Result<(i64, bool), StoreError> {
    insert_job(conn, kind, settlement, due_at_ms, "DO NOTHING").await
}

/// Inserts a pending job of `kind` for `settlement`, `on_conflict` saying what happens to an
/// existing row; returns the row's id and whether the statement changed a row.
async fn insert_job(
    conn: &mut AnyConnection,
    kind: Kind,
    settlement: &SettlementId,
    due_at_ms: i64,
    on_conflict: &str,
) -> Result<(i64, bool), StoreError> {
    let now = now_ms();
    let changed = sqlx::query(&format!(
        "INSERT INTO outbox (kind, settlement_id, status, attempts, due_at_ms, created_at_ms, \
         updated_at_ms) VALUES ($1, $2, '{PENDING}', 0, $3, $4, $5) \
         ON CONFLICT (kind, settlement_id) {on_conflict}"
    ))
    .bind(kind.as_str())
    .bind(settlement.as_str())
    .bind(due_at_ms)
    .bind(now)
    .bind(now)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    let id: i64 = sqlx::query("SELECT id FROM outbox WHERE kind = $1 AND settlement_id = $2")
        .bind(kind.as_str())
        .bind(settlement.as_str())
        .fetch_one(conn)
        .await?
        .try_get("id")?;
    Ok((id, changed == 1))
}

/// Retires a settlement's waiting (or given-up) status-request job once its outcome is final
/// (a leased one finishes by itself: it finds the settlement final).
pub async fn cancel_status(
    conn: &mut AnyConnection,
    settlement: &SettlementId,
) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "UPDATE outbox SET status = '{DONE}', updated_at_ms = $1 \
         WHERE kind = '{STATUS_KIND}' AND settlement_id = $2 AND status IN ('{PENDING}', '{DEAD}')"
    ))
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
    let changed = sqlx::query(&format!(
        "UPDATE outbox SET status = '{PENDING}', due_at_ms = $1, last_error = $2, \
         lease_owner = NULL, lease_until_ms = NULL, updated_at_ms = $3 \
         WHERE id = $4 AND status = '{LEASED}' AND lease_owner = $5"
    ))
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
    let changed = sqlx::query(&format!(
        "UPDATE outbox SET status = '{DEAD}', last_error = $1, lease_owner = NULL, \
         lease_until_ms = NULL, updated_at_ms = $2 \
         WHERE id = $3 AND status = '{LEASED}' AND lease_owner = $4"
    ))
    .bind(&why)
    .bind(now_ms())
    .bind(job.id)
    .bind(owner)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// On PostgreSQL, the most milliseconds between two claims that look for expired leases (a
/// quarter of the lease when that is shorter): an expired lease is taken over at most this
/// long after it ran out.
pub const EXPIRED_CHECK_MS: i64 = 1000;

/// Claims up to `limit` due rows for `owner` until `now + lease_ms`, and commits.
pub async fn claim(
    store: &Store,
    owner: &str,
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<Job>, StoreError> {
    let expired = match store.dialect() {
        Dialect::Sqlite => true,
        Dialect::Postgres => store.expired_leases_due(now, EXPIRED_CHECK_MS.min(lease_ms / 4)),
    };
    let sql = claim_sql(store.dialect(), expired);
    let owner = owner.to_string();
    let mut jobs = if store.dialect() == Dialect::Postgres {
        // The claim is one statement: a transaction of its own, durable when it returns
        // (before any job is worked), without the BEGIN and COMMIT that `Store::write`
        // sends around a closure on PostgreSQL (two round trips, at each of hundreds of
        // claims a second). No commit is shared there anyway: closures are not grouped.
        let rows = claim_query(&sql, owner, now, lease_ms, limit)
            .fetch_all(store.pool())
            .await?;
        crate::crash_point!("group.after_commit");
        jobs_of(&rows)?
    } else {
        // In a group commit: the claim is durable before any job is worked, and shares its
        // commit with other writers.
        store
            .write(move |conn| {
                Box::pin(async move {
                    let rows = claim_query(&sql, owner, now, lease_ms, limit)
                        .fetch_all(conn)
                        .await?;
                    jobs_of(&rows)
                })
            })
            .await?
    };
    jobs.sort_by_key(|j| j.id);
    Ok(jobs)
}

/// [`claim_sql`]'s statement with its parameters bound.
fn claim_query(
    sql: &str,
    owner: String,
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
    sqlx::query(sql)
        .bind(owner)
        .bind(now + lease_ms)
        .bind(now)
        .bind(now)
        .bind(now)
        .bind(limit)
}

/// The jobs a claim's rows name.
fn jobs_of(rows: &[sqlx::any::AnyRow]) -> Result<Vec<Job>, StoreError> {
    Ok(rows
        .iter()
        .map(Job::from_row)
        .collect::<Result<Vec<_>, _>>()?)
}

/// The statement of a [`claim`] on `dialect` (parameters: owner, lease end, now three times,
/// limit), which looks for expired leases too when `expired` (always on SQLite).
fn claim_sql(dialect: Dialect, expired: bool) -> String {
    // PostgreSQL: concurrent instances skip each other's locked rows, and expired leases (a
    // worker or an instance that stopped) are looked for at most every `EXPIRED_CHECK_MS` (a
    // quarter of the lease when shorter), by one claim of the instance: that part of the scan
    // walks the index entries of every lease taken since the last vacuum, dead ones included,
    // and cost milliseconds at each of hundreds of claims a second. The other claims take due
    // rows only, in the order of the index on (status, due_at_ms). SQLite: one writer, so the
    // UPDATE … WHERE id IN (SELECT …) is atomic as it stands, and a scan of its index sees no
    // dead rows; every claim looks for expired leases.
    let lock = match dialect {
        Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
        Dialect::Sqlite => "",
    };
    let due = format!(
        "SELECT id, due_at_ms FROM outbox WHERE status = '{PENDING}' AND due_at_ms <= $4 \
         ORDER BY due_at_ms, id LIMIT $6 {lock}"
    );
    let claim = format!(
        "UPDATE outbox SET status = '{LEASED}', lease_owner = $1, lease_until_ms = $2, \
         attempts = attempts + 1, updated_at_ms = $3"
    );
    let returning = "RETURNING id, kind, settlement_id, attempts";
    if expired {
        // The due rows and the expired leases are each taken in order up to the limit, and
        // the limit then taken from both. With the two conditions joined by OR, the claim
        // read every due row and sorted them all to keep the first few (SQLite at every
        // claim, PostgreSQL at each look for expired leases: 33 ms with 100,000 due rows,
        // against 0.3 ms), so that its cost grew with the backlog (a bank back after an
        // outage, intake outrunning dispatch). PostgreSQL may lock up to twice the limit for
        // the claim's transaction; the rows left over stay as they were.
        format!(
            "WITH due AS ({due}), \
             expired AS (SELECT id, due_at_ms FROM outbox \
                WHERE status = '{LEASED}' AND lease_until_ms <= $5 \
                ORDER BY due_at_ms, id LIMIT $6 {lock}) \
             {claim} WHERE id IN (SELECT id FROM \
                (SELECT * FROM due UNION ALL SELECT * FROM expired) AS claimable \
                ORDER BY due_at_ms, id LIMIT $6) {returning}"
        )
    } else {
        format!("{claim} WHERE id IN (SELECT id FROM ({due}) AS due) {returning}")
    }
}

/// Marks a job done, if `owner` still holds its lease. Returns false if the lease was lost
/// (another worker took the row over); the caller then leaves the outcome to that worker.
pub async fn complete(
    conn: &mut AnyConnection,
    job: &Job,
    owner: &str,
) -> Result<bool, StoreError> {
    let done = sqlx::query(&format!(
        "UPDATE outbox SET status = '{DONE}', lease_owner = NULL, lease_until_ms = NULL, \
         last_error = NULL, updated_at_ms = $1 WHERE id = $2 AND status = '{LEASED}' AND lease_owner = $3"))
    .bind(now_ms())
    .bind(job.id)
    .bind(owner)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(done == 1)
}

/// A job's completion waiting in the group writer's queue ([`super::group::Merge`]): the row
/// done if `owner` still holds its lease (as [`complete`]), and then, for a write-back the
/// ledger acknowledged, the settlement marked written back (as
/// [`super::settlements::mark_written_back`]). Answers whether the lease held (false: nothing
/// was written). A group's completions are two statements in all.
pub struct Completion {
    pub job: Job,
    pub owner: String,
    pub written_back: bool,
}

impl super::group::Merge for Completion {
    type Output = bool;

    fn write_all<'c>(
        conn: &'c mut AnyConnection,
        items: &'c [Self],
    ) -> futures::future::BoxFuture<'c, Result<Vec<Option<bool>>, StoreError>> {
        Box::pin(async move {
            let now = now_ms();
            let leases = items.iter().map(|c| serde_json::json!([c.job.id, c.owner]));
            let set = format!(
                "status = '{DONE}', lease_owner = NULL, lease_until_ms = NULL, last_error = NULL"
            );
            let held = leases_held(&mut *conn, &set, now, leases).await?;
            let written_back: Vec<&str> = items
                .iter()
                .filter(|c| c.written_back && held.contains(&c.job.id))
                .map(|c| c.job.settlement_id.as_str())
                .collect();
            if !written_back.is_empty() {
                let sql = format!(
                    "UPDATE settlements SET written_back_at_ms = $1 \
                     WHERE id IN (SELECT value FROM {}) AND written_back_at_ms IS NULL",
                    Forms::of(conn).each_text(2, "j")
                );
                sqlx::query(&sql)
                    .bind(now)
                    .bind(serde_json::json!(written_back).to_string())
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(items
                .iter()
                .map(|c| Some(held.contains(&c.job.id)))
                .collect())
        })
    }

    fn write_one(
        self,
        conn: &mut AnyConnection,
    ) -> futures::future::BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(async move {
            // The lease first: when it is lost nothing has been written.
            if !complete(conn, &self.job, &self.owner).await? {
                return Ok(false);
            }
            if self.written_back {
                super::settlements::mark_written_back(conn, &self.job.settlement_id).await?;
            }
            Ok(true)
        })
    }
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
    let renewed = sqlx::query(&format!(
        "UPDATE outbox SET lease_until_ms = $1, updated_at_ms = $2 \
         WHERE id = $3 AND status = '{LEASED}' AND lease_owner = $4"
    ))
    .bind(now + lease_ms)
    .bind(now)
    .bind(job.id)
    .bind(owner)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(renewed == 1)
}

/// [`renew`], and when the lease held, counts a send of the stored message `msg_id` (as
/// [`super::messages::mark_sent`]) in the same request to the database. False when the lease
/// was lost: nothing was written, and the caller must not send.
pub async fn renew_and_count_send(
    conn: &mut AnyConnection,
    job: &Job,
    owner: &str,
    now: i64,
    lease_ms: i64,
    msg_id: &str,
) -> Result<bool, StoreError> {
    let sqlite = super::dialect_of(conn) == Dialect::Sqlite;
    let sql = if sqlite {
        format!(
            "UPDATE outbox SET lease_until_ms = $1, updated_at_ms = $2 \
             WHERE id = $3 AND status = '{LEASED}' AND lease_owner = $4; \
             UPDATE outbound_messages SET send_count = send_count + 1, \
             first_sent_at_ms = COALESCE(first_sent_at_ms, $2), last_sent_at_ms = $2 \
             WHERE msg_id = $5 AND changes() = 1"
        )
    } else {
        format!(
            "WITH renewed AS (UPDATE outbox SET lease_until_ms = $1, updated_at_ms = $2 \
             WHERE id = $3 AND status = '{LEASED}' AND lease_owner = $4 RETURNING id), \
             counted AS (UPDATE outbound_messages SET send_count = send_count + 1, \
             first_sent_at_ms = COALESCE(first_sent_at_ms, $2), last_sent_at_ms = $2 \
             WHERE msg_id = $5 AND EXISTS (SELECT 1 FROM renewed) RETURNING 1) \
             SELECT COUNT(*) AS renewed FROM renewed"
        )
    };
    let query = sqlx::query(&sql)
        .bind(now + lease_ms)
        .bind(now)
        .bind(job.id)
        .bind(owner)
        .bind(msg_id);
    if sqlite {
        // The lease row, then the message row only if the lease row changed.
        Ok(query.execute(conn).await?.rows_affected() >= 1)
    } else {
        let renewed: i64 = query.fetch_one(conn).await?.try_get("renewed")?;
        Ok(renewed == 1)
    }
}

/// Sets `set` (SQL over the outbox row and `v.value`, its entry of `leases`, written in the
/// forms of the connection's database) on each row of `leases` (`[job id, owner, …]`) whose lease
/// `owner` still holds, in one statement; returns the ids of those rows.
async fn leases_held(
    conn: &mut AnyConnection,
    set: &str,
    now: i64,
    leases: impl Iterator<Item = serde_json::Value>,
) -> Result<std::collections::HashSet<i64>, StoreError> {
    let leases = serde_json::Value::Array(leases.collect()).to_string();
    let f = Forms::of(conn);
    sqlx::query(&format!(
        // The status unindexed: each row is looked up by its id from the list, instead of by
        // scanning every leased row ([`Forms::unindexed`]).
        "UPDATE outbox SET {set}, updated_at_ms = $1 FROM {rows} \
         WHERE outbox.id = {id} AND {status} = '{LEASED}' \
         AND outbox.lease_owner = v.value->>1 RETURNING outbox.id AS job",
        rows = f.each(2, "v"),
        id = f.int("v.value->>0"),
        status = f.unindexed("outbox.status"),
    ))
    .bind(now)
    .bind(leases)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|row| Ok(row.try_get::<i64, _>("job")?))
    .collect()
}

/// A send about to happen, waiting in the group writer's queue ([`super::group::Merge`]):
/// `owner`'s lease renewed for `lease_ms` from the write, and if it held, a send of the stored
/// message `msg_id` counted (as [`renew_and_count_send`]). Answers whether the lease held
/// (false: nothing was written, and the caller must not send). A group's sends are two
/// statements in all.
pub struct SendRecord {
    pub job: Job,
    pub owner: String,
    pub lease_ms: i64,
    pub msg_id: String,
    /// The transmission time the message goes out with, stored with the send if the lease
    /// held (the wallet rail's DE7, as [`super::messages::set_transmitted_at`]).
    pub transmitted_at: Option<String>,
}

impl super::group::Merge for SendRecord {
    type Output = bool;

    fn write_all<'c>(
        conn: &'c mut AnyConnection,
        items: &'c [Self],
    ) -> futures::future::BoxFuture<'c, Result<Vec<Option<bool>>, StoreError>> {
        Box::pin(async move {
            let now = now_ms();
            let leases = items
                .iter()
                .map(|r| serde_json::json!([r.job.id, r.owner, now + r.lease_ms]));
            let until = format!("lease_until_ms = {}", Forms::of(conn).int("v.value->>2"));
            let held = leases_held(&mut *conn, &until, now, leases).await?;
            let sent: Vec<&str> = items
                .iter()
                .filter(|r| held.contains(&r.job.id))
                .map(|r| r.msg_id.as_str())
                .collect();
            if !sent.is_empty() {
                // A message named twice (two jobs sending it) is counted twice, as alone.
                // The list is counted by message first and then joined to the messages by
                // key: counting it again for each message made the statement quadratic in
                // the group's size.
                let rows = Forms::of(conn).each_text(2, "j");
                let sql = format!(
                    "UPDATE outbound_messages SET send_count = send_count + c.n, \
                     first_sent_at_ms = COALESCE(first_sent_at_ms, $1), last_sent_at_ms = $1 \
                     FROM (SELECT value AS msg_id, COUNT(*) AS n FROM {rows} GROUP BY value) AS c \
                     WHERE outbound_messages.msg_id = c.msg_id"
                );
                sqlx::query(&sql)
                    .bind(now)
                    .bind(serde_json::json!(sent).to_string())
                    .execute(&mut *conn)
                    .await?;
            }
            stamp_transmitted(&mut *conn, items, &held).await?;
            Ok(items
                .iter()
                .map(|r| Some(held.contains(&r.job.id)))
                .collect())
        })
    }

    fn write_one(
        self,
        conn: &mut AnyConnection,
    ) -> futures::future::BoxFuture<'_, Result<bool, StoreError>> {
        Box::pin(async move {
            let held = renew_and_count_send(
                conn,
                &self.job,
                &self.owner,
                now_ms(),
                self.lease_ms,
                &self.msg_id,
            )
            .await?;
            if let (true, Some(at)) = (held, &self.transmitted_at) {
                super::messages::set_transmitted_at(conn, &self.msg_id, at).await?;
            }
            Ok(held)
        })
    }
}

/// The transmission times of the sends of `items` whose lease held, in one statement (the
/// last one given for a message, as one after the other).
async fn stamp_transmitted(
    conn: &mut AnyConnection,
    items: &[SendRecord],
    held: &std::collections::HashSet<i64>,
) -> Result<(), StoreError> {
    let mut stamps: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
    for item in items.iter().filter(|r| held.contains(&r.job.id)) {
        if let Some(at) = &item.transmitted_at {
            stamps.insert(&item.msg_id, at);
        }
    }
    if stamps.is_empty() {
        return Ok(());
    }
    let rows: Vec<serde_json::Value> = stamps
        .into_iter()
        .map(|(msg_id, at)| serde_json::json!([msg_id, at]))
        .collect();
    let sql = format!(
        "UPDATE outbound_messages SET transmitted_at = v.value->>1 FROM {rows} \
         WHERE outbound_messages.msg_id = v.value->>0",
        rows = Forms::of(conn).each(1, "v"),
    );
    sqlx::query(&sql)
        .bind(serde_json::Value::Array(rows).to_string())
        .execute(conn)
        .await?;
    Ok(())
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
        (DEAD, now, Retry::Dead)
    } else {
        (PENDING, now + backoff_ms, Retry::At(now + backoff_ms))
    };
    let error: String = error.chars().take(1000).collect();
    let changed = sqlx::query(&format!(
        "UPDATE outbox SET status = $1, due_at_ms = $2, last_error = $3, lease_owner = NULL, \
         lease_until_ms = NULL, updated_at_ms = $4 \
         WHERE id = $5 AND status = '{LEASED}' AND lease_owner = $6"
    ))
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
    let changed = sqlx::query(&format!(
        "UPDATE outbox SET status = '{PENDING}', attempts = 0, due_at_ms = $1, updated_at_ms = $2, \
         lease_owner = NULL, lease_until_ms = NULL WHERE id = $3 AND status IN ('{DEAD}', '{PENDING}')"))
    .bind(now)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(changed == 1)
}

/// A row as operators see it.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct OutboxRow {
    pub id: i64,
    pub kind: Kind,
    pub settlement_id: String,
    pub status: Status,
    pub attempts: i64,
    pub due_at_ms: i64,
    pub lease_owner: Option<String>,
    pub last_error: Option<String>,
    pub created_at_ms: i64,
}

/// Rows in a status (all when None), oldest first, at most `limit` (capped at 1000).
pub async fn list(
    conn: &mut AnyConnection,
    status: Option<Status>,
    limit: i64,
) -> Result<Vec<OutboxRow>, StoreError> {
    let rows = sqlx::query(&list_sql(status))
        .bind(limit.clamp(1, 1000))
        .fetch_all(conn)
        .await?;
    Ok(rows
        .iter()
        .map(OutboxRow::from_row)
        .collect::<Result<_, _>>()?)
}

/// The statement of [`list`] (parameter: the limit). The status is written into it, not
/// bound: PostgreSQL's index on (status, due_at_ms) holds the rows not done only (migration
/// 0021), and the planner uses it for a status it can see is not `done`, never for a
/// parameter.
fn list_sql(status: Option<Status>) -> String {
    const COLUMNS: &str = "id, kind, settlement_id, status, attempts, due_at_ms, lease_owner, \
                           last_error, created_at_ms";
    match status {
        Some(status) => format!(
            "SELECT {COLUMNS} FROM outbox WHERE status = '{}' ORDER BY id LIMIT $1",
            status.as_str()
        ),
        None => format!("SELECT {COLUMNS} FROM outbox ORDER BY id LIMIT $1"),
    }
}

/// Depth (rows not done) and age of the oldest such row, per kind and status.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct Depth {
    pub kind: Kind,
    pub status: Status,
    pub rows: i64,
    pub oldest_created_at_ms: i64,
}

pub async fn depth(conn: &mut AnyConnection) -> Result<Vec<Depth>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT kind, status, COUNT(*) AS rows, MIN(created_at_ms) AS oldest_created_at_ms \
         FROM outbox WHERE status <> '{DONE}' GROUP BY kind, status"
    ))
    .fetch_all(conn)
    .await?;
    Ok(rows.iter().map(Depth::from_row).collect::<Result<_, _>>()?)
}

/// The due time of the oldest job that is due at `now` and not claimed: how far behind
/// dispatch is ([`crate::intake::admission`]). One step down the index on (status, due_at_ms).
pub async fn oldest_due_ms(conn: &mut AnyConnection, now: i64) -> Result<Option<i64>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT MIN(due_at_ms) AS due FROM outbox WHERE status = '{PENDING}' AND due_at_ms <= $1"
    ))
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(row.try_get("due")?)
}

/// True when nothing is pending or leased (dead rows do not count: they wait for a person).
pub async fn is_idle(conn: &mut AnyConnection) -> Result<bool, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT COUNT(*) AS n FROM outbox WHERE status IN ('{PENDING}', '{LEASED}')"
    ))
    .fetch_one(conn)
    .await?;
    let n: i64 = row.try_get("n")?;
    Ok(n == 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::testing;

    /// On PostgreSQL the index on (status, due_at_ms) holds the jobs not done (migration
    /// 0021), so a completion adds no entry to it, and every statement here that reads jobs
    /// by status still goes through it: both claims, and the listing of each status but
    /// `done`.
    #[tokio::test]
    async fn jobs_not_done_are_read_through_their_index() {
        let Some(each) = testing::postgres_only("index_of_jobs_not_done").await else {
            return;
        };
        let store = each.store.clone();
        let taken = testing::some_taken_in_and_claimed(&store, 20).await;
        let pool = store.pool().clone();
        let mut conn = pool.acquire().await.unwrap();
        for (_, job) in &taken[..10] {
            assert!(complete(&mut conn, job, "w").await.unwrap());
        }
        let definition: String =
            sqlx::query_scalar("SELECT indexdef FROM pg_indexes WHERE indexname = 'outbox_due'")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
        assert!(
            definition.ends_with("WHERE (status <> 'done'::text)"),
            "{definition}"
        );
        let claims = [false, true].map(|expired| claim_sql(Dialect::Postgres, expired));
        for sql in claims {
            let explain = format!("EXPLAIN {sql}");
            let claim = claim_query(&explain, "w".into(), now_ms(), 60_000, 10);
            let plan = testing::plan(&mut conn, claim).await;
            assert!(plan.contains("outbox_due"), "{sql}\n{plan}");
        }
        for status in [Status::Pending, Status::Leased, Status::Dead] {
            let explain = format!("EXPLAIN {}", list_sql(Some(status)));
            let plan = testing::plan(&mut conn, sqlx::query(&explain).bind(10_i64)).await;
            assert!(plan.contains("outbox_due"), "{status:?}\n{plan}");
        }
        // The listing still finds what it did.
        let leased = list(&mut conn, Some(Status::Leased), 100).await.unwrap();
        let done = list(&mut conn, Some(Status::Done), 100).await.unwrap();
        assert_eq!((leased.len(), done.len()), (10, 10));
        drop(conn);
        each.finish().await;
    }
}
