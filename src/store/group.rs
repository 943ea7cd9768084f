//! Group commit (DESIGN.md decision 4): the writes of many callers in one transaction.
//!
//! A durable commit costs an fsync (SQLite with `synchronous=FULL`) or a WAL flush
//! (PostgreSQL), and a settlement takes several steps that must each be durable before the
//! next one is acknowledged or sent. Committing each step alone caps the gateway at the disk's
//! commits per second. Here a caller hands its writes to a writer task and waits; the writer
//! takes every request queued meanwhile (up to [`GROUP_WRITES_MAX`]), runs each inside its
//! own savepoint (a failing one is rolled back alone and gets its error; ending one savepoint
//! and opening the next is one request), commits once, and only then answers each caller:
//! nobody hears "done" before their writes are durable.
//!
//! The work runs on the connection it is given and must not take another one from the pool
//! (on SQLite there is only one, held by the writer), nor do network I/O: a transaction is
//! never held across the network.
//!
//! Besides closures, a caller can hand the writer a typed write ([`Merge`]): the writer runs
//! every queued write of one such type together ([`Merge::write_all`], a few multi-row
//! statements for the whole group instead of a few statements per caller, each a request to
//! the database), inside a savepoint of their own. When those statements fail, the savepoint
//! is rolled back and each caller's write runs alone ([`Merge::write_one`], in its own
//! savepoint as a closure would), so one caller's failure never fails the others. Either way
//! nobody is answered before the commit.
//!
//! On SQLite one writer takes every write; on PostgreSQL [`PG_WRITERS`] writers take the
//! merged writes and closures commit on their own (see [`GroupWriter::start`]).

use super::StoreError;
use futures::future::BoxFuture;
use sqlx::{AnyConnection, Connection};
use std::any::{Any, TypeId};
use tokio::sync::{mpsc, oneshot};

/// Most callers' writes in one transaction: bounds the transaction's size and the time the
/// first caller waits behind the last.
pub const GROUP_WRITES_MAX: usize = 512;

/// Requests waiting for a writer; past it callers wait to enqueue (back-pressure).
const QUEUE_MAX: usize = 8192;

/// Writer tasks on PostgreSQL, each on a connection of the pool: while one commits (a WAL
/// flush), the next group is written.
pub const PG_WRITERS: usize = 2;

/// What a caller's writes tell the writer: whether they stand (kept) or were rolled back,
/// and how to answer the caller once the commit's fate is known.
struct Ran {
    kept: bool,
    answer: Box<dyn FnOnce(Result<(), String>) + Send>,
}

type Work = Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Ran> + Send>;

/// A write of one kind that the writer merges with the others of its kind queued with it.
pub trait Merge: Send + Sized + 'static {
    type Output: Send + 'static;

    /// Writes every item of the group, in few statements; one answer per item, in order.
    /// `None` for an item: nothing of it was written, it is to run alone afterwards. An error
    /// rolls back everything this call wrote, and each item then runs alone.
    fn write_all<'c>(
        conn: &'c mut AnyConnection,
        items: &'c [Self],
    ) -> BoxFuture<'c, Result<Vec<Option<Self::Output>>, StoreError>>;

    /// One item alone, in its own savepoint in a group.
    fn write_one(self, conn: &mut AnyConnection)
        -> BoxFuture<'_, Result<Self::Output, StoreError>>;
}

/// What the writer's queue holds: a closure, or a typed write it may merge.
enum Request {
    Work(Work),
    Merged(Box<dyn Mergeable>),
}

/// A queued [`Merge`] write with its caller's answer channel, its type erased so that
/// requests of any kind share the queue.
trait Mergeable: Send {
    fn kind(&self) -> TypeId;
    fn runner(&self) -> Runner;
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

/// Runs the queued writes of one [`Merge`] type (each a `Pending<M>` behind `Any`).
type Runner = for<'c> fn(&'c mut AnyConnection, Vec<Box<dyn Any + Send>>) -> BoxFuture<'c, RunAll>;

struct Pending<M: Merge> {
    item: M,
    answer: oneshot::Sender<Result<M::Output, StoreError>>,
}

impl<M: Merge> Mergeable for Pending<M> {
    fn kind(&self) -> TypeId {
        TypeId::of::<M>()
    }
    fn runner(&self) -> Runner {
        run_all::<M>
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

/// What running one kind's merged writes left: the callers written (answered after the
/// commit), the ones to run alone, and, if a savepoint statement failed, why the whole
/// transaction is in doubt.
struct RunAll {
    ran: Vec<Ran>,
    alone: Vec<Work>,
    broken: Option<String>,
    /// Why the merged statements failed, when each caller then runs alone.
    failed: Option<String>,
}

impl RunAll {
    /// Nothing written and nobody answered: the transaction is in doubt, for `why`.
    fn broken(why: String) -> RunAll {
        RunAll {
            ran: Vec::new(),
            alone: Vec::new(),
            broken: Some(why),
            failed: None,
        }
    }
}

/// The merged writes of one kind inside the savepoint `m`; on failure each caller alone.
fn run_all<M: Merge>(
    conn: &mut AnyConnection,
    pending: Vec<Box<dyn Any + Send>>,
) -> BoxFuture<'_, RunAll> {
    Box::pin(async move {
        let (items, answers): (Vec<M>, Vec<_>) = pending
            .into_iter()
            .map(|p| {
                let p = p
                    .downcast::<Pending<M>>()
                    .expect("merged requests are grouped by type");
                (p.item, p.answer)
            })
            .unzip();
        let alone_all = |items: Vec<M>, answers: Vec<_>| {
            items
                .into_iter()
                .zip(answers)
                .map(|(item, answer)| alone::<M>(item, answer))
                .collect()
        };
        if let Err(e) = savepoint(&mut *conn, "SAVEPOINT m").await {
            return RunAll::broken(format!("SAVEPOINT failed: {e}"));
        }
        let written = M::write_all(conn, &items).await;
        let end = if written.is_ok() {
            "RELEASE m"
        } else {
            "ROLLBACK TO m; RELEASE m"
        };
        if let Err(e) = savepoint(&mut *conn, end).await {
            return RunAll::broken(format!("savepoint failed: {e}"));
        }
        let outputs = match written {
            Ok(outputs) if outputs.len() == items.len() => outputs,
            Ok(outputs) => {
                // A bug in `write_all`: its writes stand, but nobody's answer can be trusted.
                let why = format!(
                    "a merged write answered {} of {} callers",
                    outputs.len(),
                    items.len()
                );
                return RunAll::broken(why);
            }
            Err(e) => {
                tracing::warn!(error = %e, callers = items.len(), "a merged write failed; each caller's write runs alone");
                return RunAll {
                    ran: Vec::new(),
                    alone: alone_all(items, answers),
                    broken: None,
                    failed: Some(e.to_string()),
                };
            }
        };
        let mut run = RunAll {
            ran: Vec::with_capacity(items.len()),
            alone: Vec::new(),
            broken: None,
            failed: None,
        };
        for ((item, answer), output) in items.into_iter().zip(answers).zip(outputs) {
            match output {
                Some(value) => run.ran.push(kept(value, answer)),
                None => run.alone.push(alone::<M>(item, answer)),
            }
        }
        run
    })
}

/// A merged write that ran alone, as a closure in its own savepoint.
fn alone<M: Merge>(item: M, answer: oneshot::Sender<Result<M::Output, StoreError>>) -> Work {
    Box::new(move |conn| Box::pin(async move { ran(item.write_one(conn).await, answer) }))
}

/// What a caller's writes left, with its answer for when the commit's fate is known.
fn ran<T: Send + 'static>(
    result: Result<T, StoreError>,
    answer: oneshot::Sender<Result<T, StoreError>>,
) -> Ran {
    match result {
        Ok(value) => kept(value, answer),
        Err(e) => Ran {
            kept: false,
            answer: Box::new(move |_| {
                let _ = answer.send(Err(e));
            }),
        },
    }
}

/// Writes that stand: their caller hears `value` once the commit succeeded.
fn kept<T: Send + 'static>(value: T, answer: oneshot::Sender<Result<T, StoreError>>) -> Ran {
    Ran {
        kept: true,
        answer: Box::new(move |commit| {
            let _ = answer.send(commit.map(|()| value).map_err(StoreError::GroupCommit));
        }),
    }
}

/// The writer tasks' queue, or none (each caller commits alone). Cheap to clone.
#[derive(Clone)]
pub struct GroupWriter {
    queue: mpsc::Sender<Request>,
    /// Whether closures ([`GroupWriter::write`]) go through the queue too, or only the
    /// merged writes.
    closures_queued: bool,
    pool: sqlx::AnyPool,
}

impl std::fmt::Debug for GroupWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupWriter").finish_non_exhaustive()
    }
}

impl GroupWriter {
    /// Starts the writer tasks of `dialect`'s database over `pool`.
    ///
    /// SQLite: one writer takes every caller's writes. It has a single connection and one
    /// fsync per commit.
    ///
    /// PostgreSQL: [`PG_WRITERS`] writers take the merged writes ([`GroupWriter::write_merged`]),
    /// which become a few multi-row statements per group instead of several statements per
    /// caller, each a round trip and work for the server. Closures
    /// ([`GroupWriter::write`]) commit in a transaction of their own on a pooled connection:
    /// there many connections commit at once and the server flushes concurrent commits
    /// together, while a writer would run each closure's statements one round trip at a
    /// time, and one closure waiting on a row lock would hold up its whole group.
    pub fn start(pool: sqlx::AnyPool, dialect: super::Dialect) -> Self {
        let (writers, closures_queued) = match dialect {
            super::Dialect::Sqlite => (1, true),
            super::Dialect::Postgres => (PG_WRITERS, false),
        };
        let (queue, receiver) = mpsc::channel::<Request>(QUEUE_MAX);
        let receiver = std::sync::Arc::new(tokio::sync::Mutex::new(receiver));
        for _ in 0..writers {
            tokio::spawn(write_groups(pool.clone(), receiver.clone()));
        }
        GroupWriter {
            queue,
            closures_queued,
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
        if !self.closures_queued {
            let mut tx = self.pool.begin().await?;
            let value = work(&mut tx).await?;
            tx.commit().await?;
            crate::crash_point!("group.after_commit");
            return Ok(value);
        }
        let (answer_tx, answer_rx) = oneshot::channel::<Result<T, StoreError>>();
        let boxed: Work =
            Box::new(move |conn| Box::pin(async move { ran(work(conn).await, answer_tx) }));
        self.enqueue(Request::Work(boxed), answer_rx).await
    }

    /// Writes `item` merged with the other writes of its type queued meanwhile (see
    /// [`Merge`]), and returns its answer once the transaction is committed.
    pub async fn write_merged<M: Merge>(&self, item: M) -> Result<M::Output, StoreError> {
        let (answer, answer_rx) = oneshot::channel();
        self.enqueue(
            Request::Merged(Box::new(Pending { item, answer })),
            answer_rx,
        )
        .await
    }

    /// Writes `items` as one group (merged where they can be) and returns each one's answer:
    /// what concurrent callers that met in one group get, made on purpose for tests. Also
    /// returns why the merged write failed, if it did and each item then ran alone (a test
    /// of the merged path asserts that it did not).
    #[cfg(test)]
    pub(crate) async fn write_together<M: Merge>(
        &self,
        items: Vec<M>,
    ) -> (Vec<Result<M::Output, StoreError>>, Vec<String>) {
        let mut answers = Vec::with_capacity(items.len());
        let (mut group, mut waiting) = (Vec::new(), Vec::new());
        for item in items {
            let (answer, answer_rx) = oneshot::channel();
            group.push(Request::Merged(Box::new(Pending { item, answer })));
            waiting.push(answer_rx);
        }
        // On SQLite the pool's one connection: taken once the writer task lets go of it.
        let mut failed = Vec::new();
        commit_group(&self.pool, group, &mut failed).await;
        for answer in waiting {
            answers.push(
                answer
                    .await
                    .unwrap_or_else(|_| Err(StoreError::GroupCommit("dropped a request".into()))),
            );
        }
        (answers, failed)
    }

    /// [`GroupWriter::write_together`] for a test of the merged path: fails the test when
    /// the merged write failed and each item ran alone (the answers would be the same).
    #[cfg(test)]
    pub(crate) async fn write_merging<M: Merge>(
        &self,
        items: Vec<M>,
    ) -> Vec<Result<M::Output, StoreError>> {
        let (answers, failed) = self.write_together(items).await;
        assert!(failed.is_empty(), "the merged write failed: {failed:?}");
        answers
    }

    async fn enqueue<T>(
        &self,
        request: Request,
        answer: oneshot::Receiver<Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        self.queue
            .send(request)
            .await
            .map_err(|_| StoreError::GroupCommit("the group writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::GroupCommit("the group writer dropped a request".into()))?
    }
}

/// One writer: takes what is queued, writes it as one transaction, answers, repeats.
async fn write_groups(
    pool: sqlx::AnyPool,
    receiver: std::sync::Arc<tokio::sync::Mutex<mpsc::Receiver<Request>>>,
) {
    let mut group: Vec<Request> = Vec::with_capacity(GROUP_WRITES_MAX);
    loop {
        {
            let mut receiver = receiver.lock().await;
            if receiver.recv_many(&mut group, GROUP_WRITES_MAX).await == 0 {
                return;
            }
        }
        let (writes, started) = (group.len(), std::time::Instant::now());
        let mut failed = Vec::new();
        commit_group(&pool, std::mem::take(&mut group), &mut failed).await;
        // Each is logged where it failed; a steady count means a merged statement that never
        // works on this database, and every caller paying for running alone.
        metrics::counter!("corridor_group_merged_fallbacks_total").increment(failed.len() as u64);
        metrics::histogram!("corridor_group_commit_writes").record(writes as f64);
        // The writer's busy time: when the seconds recorded per second of wall time near 1,
        // callers queue behind it (the throughput ceiling on SQLite).
        metrics::histogram!("corridor_group_commit_seconds").record(started.elapsed());
    }
}

/// Writes `group` in one transaction and answers every request: the merged writes first, one
/// kind at a time, then the closures (and the merged writes that run alone) in their order.
/// Why each merged write that fell back to running its callers alone failed goes into
/// `failed`.
async fn commit_group(pool: &sqlx::AnyPool, group: Vec<Request>, failed: &mut Vec<String>) {
    let mut conn = match pool.acquire().await {
        Ok(conn) => conn,
        Err(e) => return fail_unrun(group, &format!("no database connection: {e}")),
    };
    let mut tx = match conn.begin().await {
        Ok(tx) => tx,
        Err(e) => return fail_unrun(group, &format!("BEGIN failed: {e}")),
    };
    let (mut works, kinds) = split(group);
    let mut pending = Vec::with_capacity(works.len() + kinds.len());
    for (runner, items) in kinds {
        let run = runner(&mut tx, items).await;
        pending.extend(run.ran);
        failed.extend(run.failed);
        if let Some(why) = run.broken {
            // The transaction is in doubt: everything in it fails.
            abort(pending, &why);
            return fail_unrun(
                works
                    .into_iter()
                    .chain(run.alone)
                    .map(Request::Work)
                    .collect(),
                &why,
            );
        }
        works.extend(run.alone);
    }
    if let Err(why) = run_each(&mut tx, works, &mut pending).await {
        return abort(pending, &why);
    }
    let committed = tx.commit().await.map_err(|e| format!("COMMIT failed: {e}"));
    crate::crash_point!("group.after_commit");
    for ran in pending {
        (ran.answer)(committed.clone());
    }
}

/// The closures of a group, and its merged writes by type (each with the function that
/// runs that type's writes), in the order their first request came.
#[allow(clippy::type_complexity)]
fn split(group: Vec<Request>) -> (Vec<Work>, Vec<(Runner, Vec<Box<dyn Any + Send>>)>) {
    let mut works = Vec::with_capacity(group.len());
    let mut kinds: Vec<(TypeId, Runner, Vec<Box<dyn Any + Send>>)> = Vec::new();
    for request in group {
        match request {
            Request::Work(work) => works.push(work),
            Request::Merged(merged) => {
                let kind = merged.kind();
                match kinds.iter_mut().find(|(k, ..)| *k == kind) {
                    Some((_, _, items)) => items.push(merged.into_any()),
                    None => {
                        let runner = merged.runner();
                        kinds.push((kind, runner, vec![merged.into_any()]));
                    }
                }
            }
        }
    }
    let kinds = kinds
        .into_iter()
        .map(|(_, runner, items)| (runner, items))
        .collect();
    (works, kinds)
}

/// Runs each closure in its own savepoint (a failing one is rolled back alone), adding what
/// it left to `pending`. Err: a savepoint statement failed and the transaction is in doubt
/// (the closure that saw it has been answered).
async fn run_each(
    conn: &mut AnyConnection,
    works: Vec<Work>,
    pending: &mut Vec<Ran>,
) -> Result<(), String> {
    if works.is_empty() {
        return Ok(());
    }
    if let Err(e) = savepoint(&mut *conn, OPEN).await {
        let why = format!("SAVEPOINT failed: {e}");
        fail_unrun(works.into_iter().map(Request::Work).collect(), &why);
        return Err(why);
    }
    let count = works.len();
    let mut works = works.into_iter().enumerate();
    while let Some((i, work)) = works.next() {
        let ran = work(&mut *conn).await;
        // Ending one caller's savepoint opens the next one's in the same request: one round
        // trip to the connection's thread per caller instead of two.
        let last = i + 1 == count;
        let end = match (ran.kept, last) {
            (true, false) => KEEP_AND_OPEN,
            (true, true) => KEEP,
            (false, false) => DROP_AND_OPEN,
            (false, true) => DROP,
        };
        if let Err(e) = savepoint(&mut *conn, end).await {
            let why = format!("savepoint failed: {e}");
            (ran.answer)(Err(why.clone()));
            fail_unrun(works.map(|(_, work)| Request::Work(work)).collect(), &why);
            return Err(why);
        }
        pending.push(ran);
    }
    Ok(())
}

/// Runs savepoint statements (one or several): on SQLite as a prepared statement that stays
/// cached; on PostgreSQL, whose prepared statements hold one statement each, as a simple
/// query, which takes several in one round trip.
async fn savepoint(conn: &mut AnyConnection, sql: &'static str) -> Result<(), sqlx::Error> {
    if super::dialect_of(conn) == super::Dialect::Sqlite {
        sqlx::query(sql).execute(conn).await?;
    } else {
        sqlx::Executor::execute(conn, sql).await?;
    }
    Ok(())
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

/// Answers requests that never ran: their callers get "dropped a request".
fn fail_unrun(requests: Vec<Request>, why: &str) {
    if requests.is_empty() {
        return;
    }
    // Each request owns its caller's answer channel; dropping it makes the caller's wait end
    // with "dropped a request". Keep the reason in the log.
    tracing::error!(
        error = why,
        requests = requests.len(),
        "group commit could not run requests"
    );
    drop(requests);
}
