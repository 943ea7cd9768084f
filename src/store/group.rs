//! Group commit (DESIGN.md decision 4): the writes of many callers in one transaction.
//!
//! A durable commit costs an fsync (SQLite with `synchronous=FULL`) or a WAL flush
//! (PostgreSQL), and a settlement takes several steps that must each be durable before the
//! next one is acknowledged or sent. Committing each step alone caps the gateway at the disk's
//! commits per second. Here a caller hands its writes to a writer task and waits; the writer
//! takes every request queued meanwhile (up to [`GROUP_WRITES_MAX`]), runs each inside its
//! own savepoint (a failing one is rolled back alone and gets its error; the writer is SQLite
//! only, which takes several statements in one request, so ending one savepoint and opening
//! the next is one round trip), commits once, and
//! only then answers each caller: nobody hears "done" before their writes are durable.
//!
//! The work runs on the connection it is given and must not take another one from the pool
//! (on SQLite there is only one, held by the writer), nor do network I/O: a transaction is
//! never held across the network.

use super::StoreError;
use futures::future::BoxFuture;
use sqlx::{AnyConnection, Connection};
use tokio::sync::{mpsc, oneshot};

/// Most callers' writes in one transaction: bounds the transaction's size and the time the
/// first caller waits behind the last.
pub const GROUP_WRITES_MAX: usize = 512;

/// Requests waiting for a writer; past it callers wait to enqueue (back-pressure).
const QUEUE_MAX: usize = 8192;

/// What a caller's writes tell the writer: whether they stand (kept) or were rolled back,
/// and how to answer the caller once the commit's fate is known.
struct Ran {
    kept: bool,
    answer: Box<dyn FnOnce(Result<(), String>) + Send>,
}

type Work = Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Ran> + Send>;

/// The writer task's queue, or none (each caller commits alone). Cheap to clone.
#[derive(Clone)]
pub struct GroupWriter {
    queue: Option<mpsc::Sender<Work>>,
    pool: sqlx::AnyPool,
}

impl std::fmt::Debug for GroupWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupWriter").finish_non_exhaustive()
    }
}

impl GroupWriter {
    /// Starts `writers` writer tasks over `pool`. With none, each caller's writes commit in a
    /// transaction of their own on a pooled connection: right for PostgreSQL, where many
    /// connections commit at once and the server flushes concurrent commits together, while
    /// one writer task would run every statement of every caller one round trip at a time.
    /// SQLite takes one writer: it has a single connection and one fsync per commit.
    pub fn start(pool: sqlx::AnyPool, writers: usize) -> Self {
        if writers == 0 {
            return GroupWriter { queue: None, pool };
        }
        let (queue, receiver) = mpsc::channel::<Work>(QUEUE_MAX);
        let receiver = std::sync::Arc::new(tokio::sync::Mutex::new(receiver));
        for _ in 0..writers {
            tokio::spawn(write_groups(pool.clone(), receiver.clone()));
        }
        GroupWriter {
            queue: Some(queue),
            pool,
        }
    }

    /// Runs `work` in a group transaction and returns its result once that transaction is
    /// committed. An error from `work` rolls back its own writes only.
    pub async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        let Some(queue) = &self.queue else {
            let mut tx = self.pool.begin().await?;
            let value = work(&mut tx).await?;
            tx.commit().await?;
            crate::crash_point!("group.after_commit");
            return Ok(value);
        };
        let (answer_tx, answer_rx) = oneshot::channel::<Result<T, StoreError>>();
        let boxed: Work = Box::new(move |conn| {
            Box::pin(async move {
                match work(conn).await {
                    Ok(value) => Ran {
                        kept: true,
                        answer: Box::new(move |commit| {
                            let _ = answer_tx
                                .send(commit.map(|()| value).map_err(StoreError::GroupCommit));
                        }),
                    },
                    Err(e) => Ran {
                        kept: false,
                        answer: Box::new(move |_| {
                            let _ = answer_tx.send(Err(e));
                        }),
                    },
                }
            })
        });
        queue
            .send(boxed)
            .await
            .map_err(|_| StoreError::GroupCommit("the group writer has stopped".into()))?;
        answer_rx
            .await
            .map_err(|_| StoreError::GroupCommit("the group writer dropped a request".into()))?
    }
}

/// One writer: takes what is queued, writes it as one transaction, answers, repeats.
async fn write_groups(
    pool: sqlx::AnyPool,
    receiver: std::sync::Arc<tokio::sync::Mutex<mpsc::Receiver<Work>>>,
) {
    let mut group: Vec<Work> = Vec::with_capacity(GROUP_WRITES_MAX);
    loop {
        {
            let mut receiver = receiver.lock().await;
            if receiver.recv_many(&mut group, GROUP_WRITES_MAX).await == 0 {
                return;
            }
        }
        let writes = group.len();
        commit_group(&pool, std::mem::take(&mut group)).await;
        metrics::histogram!("corridor_group_commit_writes").record(writes as f64);
    }
}

/// Writes `group` in one transaction and answers every request.
async fn commit_group(pool: &sqlx::AnyPool, group: Vec<Work>) {
    let mut conn = match pool.acquire().await {
        Ok(conn) => conn,
        Err(e) => {
            let why = format!("no database connection: {e}");
            for work in group {
                // Not run: answer with the failure without touching a connection.
                fail_unrun(work, &why);
            }
            return;
        }
    };
    let mut tx = match conn.begin().await {
        Ok(tx) => tx,
        Err(e) => {
            let why = format!("BEGIN failed: {e}");
            for work in group {
                fail_unrun(work, &why);
            }
            return;
        }
    };
    let mut pending = Vec::with_capacity(group.len());
    if let Err(e) = sqlx::query(OPEN).execute(&mut *tx).await {
        let why = format!("SAVEPOINT failed: {e}");
        for work in group {
            fail_unrun(work, &why);
        }
        return;
    }
    let count = group.len();
    for (i, work) in group.into_iter().enumerate() {
        let ran = work(&mut tx).await;
        // Ending one caller's savepoint opens the next one's in the same request: one round
        // trip to the connection's thread per caller instead of two.
        let last = i + 1 == count;
        let end = match (ran.kept, last) {
            (true, false) => KEEP_AND_OPEN,
            (true, true) => KEEP,
            (false, false) => DROP_AND_OPEN,
            (false, true) => DROP,
        };
        if let Err(e) = sqlx::query(end).execute(&mut *tx).await {
            // The transaction is in doubt: everything in it fails.
            let why = format!("savepoint failed: {e}");
            (ran.answer)(Err(why.clone()));
            abort(pending, &why);
            return;
        }
        pending.push(ran);
    }
    let committed = tx.commit().await.map_err(|e| format!("COMMIT failed: {e}"));
    crate::crash_point!("group.after_commit");
    for ran in pending {
        (ran.answer)(committed.clone());
    }
}

/// Each caller's writes run inside the savepoint `w`, opened before it and ended after it.
const OPEN: &str = "SAVEPOINT w";
const KEEP: &str = "RELEASE w";
const KEEP_AND_OPEN: &str = "RELEASE w; SAVEPOINT w";
const DROP: &str = "ROLLBACK TO w; RELEASE w";
const DROP_AND_OPEN: &str = "ROLLBACK TO w; RELEASE w; SAVEPOINT w";

/// Answers requests already run in a transaction that will not commit.
fn abort(pending: Vec<Ran>, why: &str) {
    for ran in pending {
        (ran.answer)(Err(why.to_string()));
    }
}

/// Answers a request that never ran: its caller gets `why`.
fn fail_unrun(work: Work, why: &str) {
    // The work owns the caller's answer channel; dropping it makes the caller's wait end
    // with "dropped a request". Keep the reason in the log.
    tracing::error!(error = why, "group commit could not run a request");
    drop(work);
}
