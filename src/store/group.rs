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
//! merged writes, one more the acknowledged ones ([`Merge::ACKNOWLEDGED`]), and closures
//! commit on their own (see [`GroupWriter::start`]).
//!
//! On SQLite the fsync that makes a group durable runs on a thread of its own (a `Syncer`),
//! after the commit and while the writer goes on with the next group; the group's callers
//! are answered when it returns (see `Durable`). The SQLite writer keeps the pool's one
//! connection across groups while writes keep coming, for at most `HOLD_MAX` at a time.
//!
//! Each request to the database costs two thread switches on SQLite (sqlx runs each
//! connection on a thread of its own) and a round trip on PostgreSQL, so a group's
//! savepoint statements travel with their neighbours (see `At`).

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

    /// Whether a client is waiting on the HTTP request that made this write (an intake's
    /// acknowledgement). On PostgreSQL such writes have a writer of their own, so that an
    /// acknowledgement never waits behind dispatch's groups (see [`GroupWriter::start`]);
    /// on SQLite every write shares the one writer.
    const ACKNOWLEDGED: bool = false;

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

    /// What the group's items of this kind take before its transaction begins, on the
    /// writer's connection and outside any transaction, so that no lock it takes is held
    /// until the group's commit (PostgreSQL's writers would wait on each other's). It cannot
    /// fail the group: what it could not do, [`Merge::write_all`] does in the transaction.
    /// Nothing by default.
    fn before_group<'c>(
        conn: &'c mut AnyConnection,
        items: Vec<&'c mut Self>,
    ) -> BoxFuture<'c, ()> {
        let _ = (conn, items);
        Box::pin(async {})
    }
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
    fn preparer(&self) -> Preparer;
    fn as_any_mut(&mut self) -> &mut (dyn Any + Send);
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send>;
}

/// Runs [`Merge::before_group`] for the queued writes of one [`Merge`] type (each a
/// `Pending<M>` behind `Any`).
type Preparer =
    for<'c> fn(&'c mut AnyConnection, Vec<&'c mut (dyn Any + Send)>) -> BoxFuture<'c, ()>;

/// Runs the queued writes of one [`Merge`] type (each a `Pending<M>` behind `Any`), from
/// where the group's transaction stands.
type Runner =
    for<'c> fn(&'c mut AnyConnection, Vec<Box<dyn Any + Send>>, At) -> BoxFuture<'c, RunAll>;

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
    fn preparer(&self) -> Preparer {
        before_all::<M>
    }
    fn as_any_mut(&mut self) -> &mut (dyn Any + Send) {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send> {
        self
    }
}

fn before_all<'c, M: Merge>(
    conn: &'c mut AnyConnection,
    pending: Vec<&'c mut (dyn Any + Send)>,
) -> BoxFuture<'c, ()> {
    let items = pending
        .into_iter()
        .filter_map(|p| p.downcast_mut::<Pending<M>>())
        .map(|p| &mut p.item)
        .collect();
    M::before_group(conn, items)
}

/// Each merged kind's [`Merge::before_group`] for its writes in `group`, before the group's
/// transaction begins.
async fn before_group(conn: &mut AnyConnection, group: &mut [Request]) {
    let mut kinds: Vec<(TypeId, Preparer, Vec<&mut (dyn Any + Send)>)> = Vec::new();
    for request in group.iter_mut() {
        let Request::Merged(merged) = request else {
            continue;
        };
        let (kind, preparer) = (merged.kind(), merged.preparer());
        let item = merged.as_any_mut();
        match kinds.iter_mut().find(|(k, ..)| *k == kind) {
            Some((_, _, items)) => items.push(item),
            None => kinds.push((kind, preparer, vec![item])),
        }
    }
    for (_, preparer, items) in kinds {
        preparer(&mut *conn, items).await;
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
    /// Where the transaction stands after it.
    at: At,
}

impl RunAll {
    /// Nothing written and nobody answered: the transaction is in doubt, for `why`.
    fn broken(why: String) -> RunAll {
        RunAll {
            ran: Vec::new(),
            alone: Vec::new(),
            broken: Some(why),
            failed: None,
            at: At::Bare,
        }
    }
}

/// Where a group's transaction stands between its steps, so that the statement that ends
/// one step's savepoint travels with the one that opens the next (each request to the
/// connection's thread costs two thread switches on SQLite, a round trip on PostgreSQL).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum At {
    /// This savepoint was opened with the BEGIN, for the group's first step.
    Opened(Savepoint),
    /// No savepoint is open.
    Bare,
    /// The savepoint `m` holds the kept writes of the last merged kind: it is released
    /// with the next opening, or at the end (see [`release_before_commit`]).
    KeptMerged,
    /// The savepoint `w` holds the kept writes of the last closure, released at the end.
    KeptClosure,
}

/// The savepoint each step of a group runs in: `m` for one kind's merged writes, `w` for
/// each closure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Savepoint {
    Merged,
    Closure,
}

/// The request that opens `next` from `at`; none when it is already open.
fn opening(at: At, next: Savepoint) -> Option<&'static str> {
    match (at, next) {
        (At::Opened(open), next) if open == next => None,
        (At::Opened(Savepoint::Merged), _) => Some("RELEASE m; SAVEPOINT w"),
        (At::Opened(Savepoint::Closure), _) => Some("RELEASE w; SAVEPOINT m"),
        (At::Bare, Savepoint::Merged) => Some("SAVEPOINT m"),
        (At::Bare, Savepoint::Closure) => Some(OPEN),
        (At::KeptMerged, Savepoint::Merged) => Some("RELEASE m; SAVEPOINT m"),
        (At::KeptMerged, Savepoint::Closure) => Some("RELEASE m; SAVEPOINT w"),
        (At::KeptClosure, Savepoint::Merged) => Some("RELEASE w; SAVEPOINT m"),
        (At::KeptClosure, Savepoint::Closure) => Some(KEEP_AND_OPEN),
    }
}

/// The request that ends the savepoint left open at `at` before the COMMIT, on PostgreSQL.
/// There a statement that failed inside a caller's write that went on regardless leaves the
/// transaction aborted, and a COMMIT then rolls it back without an error (sqlx does not
/// look at the command tag): the RELEASE fails instead, and everyone is told. On SQLite the
/// COMMIT ends the savepoint itself: a failed statement aborts nothing there, and one that
/// rolled back the whole transaction (a full disk, an I/O error) makes the COMMIT fail.
fn release_before_commit(at: At, dialect: super::Dialect) -> Option<&'static str> {
    match (dialect, at) {
        (super::Dialect::Postgres, At::KeptMerged) => Some("RELEASE m"),
        (super::Dialect::Postgres, At::KeptClosure) => Some("RELEASE w"),
        _ => None,
    }
}

/// The merged writes of one kind inside the savepoint `m` (opened from `at`); on failure
/// each caller alone. When they stand, `m` is left open for the next step to release.
fn run_all<M: Merge>(
    conn: &mut AnyConnection,
    pending: Vec<Box<dyn Any + Send>>,
    at: At,
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
        if let Some(open) = opening(at, Savepoint::Merged) {
            if let Err(e) = savepoint(&mut *conn, open).await {
                return RunAll::broken(format!("SAVEPOINT failed: {e}"));
            }
        }
        let written = M::write_all(conn, &items).await;
        if written.is_err() {
            if let Err(e) = savepoint(&mut *conn, "ROLLBACK TO m; RELEASE m").await {
                return RunAll::broken(format!("savepoint failed: {e}"));
            }
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
                    at: At::Bare,
                };
            }
        };
        let mut run = RunAll {
            ran: Vec::with_capacity(items.len()),
            alone: Vec::new(),
            broken: None,
            failed: None,
            at: At::KeptMerged,
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
    /// PostgreSQL: the queue of the writer that takes the [`Merge::ACKNOWLEDGED`] writes.
    acknowledged: Option<mpsc::Sender<Request>>,
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
    /// One more writer takes the [`Merge::ACKNOWLEDGED`] writes (a ledger's post, whose
    /// caller waits for its 201), so that an acknowledgement waits for its own group and the
    /// one in progress on that writer, never for dispatch's groups: there a group takes about
    /// 10 ms at 1,000 settlements/s, mostly round trips (README, round 19).
    ///
    /// `sqlite_file`: the SQLite database's file, whose WAL a `Syncer` makes durable after
    /// each group (none for PostgreSQL or an in-memory database: each commit is durable as
    /// it returns).
    ///
    /// `pinned`: the SQLite writer's two threads on one CPU (see [`share_a_cpu_with_the_connection`]).
    /// Returns once the SQLite writer has its connection.
    pub async fn start(
        pool: sqlx::AnyPool,
        dialect: super::Dialect,
        sqlite_file: Option<std::path::PathBuf>,
        pinned: bool,
    ) -> Self {
        let (queue, receiver) = mpsc::channel::<Request>(QUEUE_MAX);
        let receiver = std::sync::Arc::new(tokio::sync::Mutex::new(receiver));
        let closures_queued = match dialect {
            super::Dialect::Sqlite => {
                let durable = match sqlite_file {
                    Some(file) => Durable::Synced(Syncer::start(move || sync_wal(&file))),
                    None => Durable::AtCommit,
                };
                let started = write_on_a_thread_of_its_own(pool.clone(), receiver, durable, pinned);
                // Nobody else takes the pool's connection while the writer opens it anew.
                let _ = started.await;
                true
            }
            super::Dialect::Postgres => {
                for _ in 0..PG_WRITERS {
                    tokio::spawn(write_groups(
                        pool.clone(),
                        receiver.clone(),
                        Durable::AtCommit,
                        false,
                    ));
                }
                false
            }
        };
        let acknowledged = (dialect == super::Dialect::Postgres).then(|| {
            let (queue, receiver) = mpsc::channel::<Request>(QUEUE_MAX);
            let receiver = std::sync::Arc::new(tokio::sync::Mutex::new(receiver));
            tokio::spawn(write_groups(
                pool.clone(),
                receiver,
                Durable::AtCommit,
                false,
            ));
            queue
        });
        GroupWriter {
            queue,
            acknowledged,
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
        Self::enqueue(&self.queue, Request::Work(boxed), answer_rx).await
    }

    /// Writes `item` merged with the other writes of its type queued meanwhile (see
    /// [`Merge`]), and returns its answer once the transaction is committed.
    pub async fn write_merged<M: Merge>(&self, item: M) -> Result<M::Output, StoreError> {
        let (answer, answer_rx) = oneshot::channel();
        let queue = match &self.acknowledged {
            Some(queue) if M::ACKNOWLEDGED => queue,
            _ => &self.queue,
        };
        let request = Request::Merged(Box::new(Pending { item, answer }));
        Self::enqueue(queue, request, answer_rx).await
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
        commit_group(&self.pool, group, &mut failed, &Durable::AtCommit).await;
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
        queue: &mpsc::Sender<Request>,
        request: Request,
        answer: oneshot::Receiver<Result<T, StoreError>>,
    ) -> Result<T, StoreError> {
        queue
            .send(request)
            .await
            .map_err(|_| StoreError::GroupCommit("the group writer has stopped".into()))?;
        answer
            .await
            .map_err(|_| StoreError::GroupCommit("the group writer dropped a request".into()))?
    }
}

/// The SQLite writer, on a thread and runtime of its own. Its group is a chain of requests to
/// the connection's thread (savepoints, each kind's statements, the commit), and after each
/// one the writer task must run again to send the next: on the shared runtime it waited
/// each time behind whatever HTTP and dispatch work was ready on the workers, so the one
/// serial path of a SQLite store stood idle between its requests. The thread ends when every
/// sender of the queue is gone (the store dropped).
///
/// The returned receiver hears once the writer is ready to take requests (its connection
/// opened anew on its CPU, when `pinned`: [`share_a_cpu_with_the_connection`]).
fn write_on_a_thread_of_its_own(
    pool: sqlx::AnyPool,
    receiver: std::sync::Arc<tokio::sync::Mutex<mpsc::Receiver<Request>>>,
    durable: Durable,
    pinned: bool,
) -> oneshot::Receiver<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime for the SQLite writer");
    let (started, ready) = oneshot::channel();
    // An in-memory database lives only as long as its connection: never opened anew.
    let pin = pinned && matches!(durable, Durable::Synced(_));
    std::thread::Builder::new()
        .name("corridor-writer".into())
        .spawn(move || {
            no_wakeup_preemption();
            runtime.block_on(async move {
                if pin {
                    share_a_cpu_with_the_connection(&pool).await;
                }
                let _ = started.send(());
                write_groups(pool, receiver, durable, true).await
            });
        })
        .expect("a thread for the SQLite writer");
    ready
}

/// Puts the calling thread (the SQLite writer's) on the last CPU this process may use, then
/// opens the pool's connection anew from it, so that the connection's thread, which sqlx
/// starts from the thread that opens the connection, starts on that CPU too. The pool's
/// connection was opened by whoever connected the store (and ran its migrations); closing
/// it loses nothing, the database being a file. With fewer than two CPUs, or when a step
/// fails, both threads are left to the scheduler (and the failure is in the debug log). A
/// connection opened again later (after a failed commit) is opened from this thread as
/// well, unless a transaction outside the writer takes the pool first.
///
/// Why: a group is a chain of requests from the writer's thread to its connection's thread
/// and of rows and results back, each side waiting for the other. When the two run on
/// different CPUs, each handoff wakes a thread on another CPU, which takes much longer than
/// a wakeup on the same one (an interrupt to the other CPU, on a virtual machine an exit to
/// the host). Flat out on the bench (2 CPUs), both threads on one CPU gave 2-11 % more
/// settlements a second than leaving them to the scheduler, and each on a CPU of its own
/// about a fifth fewer (README, round 15). They never need more than that one CPU between
/// them: one of the two always waits for the other.
async fn share_a_cpu_with_the_connection(pool: &sqlx::AnyPool) {
    let Some((cpu, all)) = cpus::last_of_several() else {
        return;
    };
    if let Err(e) = cpus::set(&[cpu]) {
        tracing::debug!(error = %e, "the SQLite writer stays on every CPU");
        return;
    }
    let reopened = async {
        pool.acquire().await?.close().await?;
        drop(pool.acquire().await?);
        Ok::<(), sqlx::Error>(())
    };
    match reopened.await {
        Ok(()) => tracing::debug!(cpu, "the SQLite writer and its connection share a CPU"),
        Err(e) => {
            tracing::debug!(error = %e, "could not open the SQLite writer's connection on its CPU");
            let _ = cpus::set(&all);
        }
    }
}

/// The calling thread's CPUs (Linux; elsewhere none is ever pinned).
mod cpus {
    /// The last of the calling thread's CPUs, and all of them; none when it has only one.
    #[cfg(target_os = "linux")]
    pub fn last_of_several() -> Option<(usize, Vec<usize>)> {
        let all = get().ok()?;
        (all.len() >= 2).then(|| (*all.last().expect("two or more"), all))
    }

    #[cfg(not(target_os = "linux"))]
    pub fn last_of_several() -> Option<(usize, Vec<usize>)> {
        None
    }

    /// The CPUs the calling thread may run on, in order.
    #[cfg(target_os = "linux")]
    fn get() -> std::io::Result<Vec<usize>> {
        // SAFETY: a zeroed cpu_set_t is an empty set; the call writes at most its size.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok((0..libc::CPU_SETSIZE as usize)
                .filter(|&cpu| libc::CPU_ISSET(cpu, &set))
                .collect())
        }
    }

    /// Lets the calling thread run on `cpus` only.
    #[cfg(target_os = "linux")]
    pub fn set(cpus: &[usize]) -> std::io::Result<()> {
        // SAFETY: as in `get`; CPU_SET is given numbers below CPU_SETSIZE.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            for &cpu in cpus.iter().filter(|&&c| c < libc::CPU_SETSIZE as usize) {
                libc::CPU_SET(cpu, &mut set);
            }
            if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(())
    }

    #[cfg(not(target_os = "linux"))]
    pub fn set(_: &[usize]) -> std::io::Result<()> {
        Ok(())
    }
}

/// Keeps the calling thread (the SQLite writer's) from preempting the thread that wakes it.
///
/// sqlx hands every row and every statement's result from the connection's thread to the
/// writer one at a time. Each one woke the writer, which, as a normal thread, took the CPU
/// from the connection's thread at once: it read that one row, slept again, and the
/// connection's thread went on to the next row. Flat out that was about seven and a half
/// pairs of thread switches per settlement (19,000 a second, counted from `/proc`). As a
/// `SCHED_BATCH` thread it is woken without preempting: it runs on a free core or after the
/// connection's thread has sent the request's last row, and reads the rows it finds
/// (README, round 14). It is still scheduled fairly, by the tick.
fn no_wakeup_preemption() {
    #[cfg(target_os = "linux")]
    {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `param` is a valid `sched_param` for the call; 0 names the calling thread.
        let set = unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &param) };
        if set != 0 {
            tracing::debug!(
                error = %std::io::Error::last_os_error(),
                "the SQLite writer stays a normal thread"
            );
        }
    }
}

/// How long the SQLite writer keeps the pool's one connection while requests keep coming.
/// Taking it from the pool for each group and giving it back cost requests of their own
/// (`synchronous` set back to FULL, the pool's ping of a connection given back); the
/// store's other transactions wait for that connection, so it goes back to the pool after
/// the first group that ends past this, and whenever the queue is empty.
const HOLD_MAX: std::time::Duration = std::time::Duration::from_millis(20);

/// One writer: takes what is queued, writes it as one transaction, answers, repeats. With
/// `hold` (SQLite), it keeps its connection across groups while requests keep coming (see
/// [`HOLD_MAX`]); otherwise it takes one from the pool for each group.
async fn write_groups(
    pool: sqlx::AnyPool,
    receiver: std::sync::Arc<tokio::sync::Mutex<mpsc::Receiver<Request>>>,
    durable: Durable,
    hold: bool,
) {
    let mut group: Vec<Request> = Vec::with_capacity(GROUP_WRITES_MAX);
    let mut held: Option<Held> = None;
    while next_group(&receiver, &mut group, &mut held, &durable).await {
        let (writes, started) = (group.len(), std::time::Instant::now());
        if let Durable::Synced(syncer) = &durable {
            if let Some(why) = syncer.failed() {
                fail_unrun(std::mem::take(&mut group), &why);
                // Not held while nothing can be written: the store's other users get it.
                if let Some(held) = held.take() {
                    held.give_back(&durable).await;
                }
                continue;
            }
        }
        let mut conn = match held.take() {
            Some(held) => held,
            None => match Held::take(&pool, &durable).await {
                Ok(held) => held,
                Err(why) => {
                    fail_unrun(std::mem::take(&mut group), &why);
                    continue;
                }
            },
        };
        let mut failed = Vec::new();
        conn.write(std::mem::take(&mut group), &mut failed, &durable)
            .await;
        if hold && conn.committed && conn.since.elapsed() < HOLD_MAX {
            held = Some(conn);
        } else {
            conn.give_back(&durable).await;
        }
        // Each is logged where it failed; a steady count means a merged statement that never
        // works on this database, and every caller paying for running alone.
        metrics::counter!("corridor_group_merged_fallbacks_total").increment(failed.len() as u64);
        metrics::histogram!("corridor_group_commit_writes").record(writes as f64);
        // The writer's busy time: when the seconds recorded per second of wall time near 1,
        // callers queue behind it (the throughput ceiling on SQLite).
        metrics::histogram!("corridor_group_commit_seconds").record(started.elapsed());
    }
}

/// Takes the next group into `group`. While a connection is `held`, only what is queued
/// already (it is kept for writes that keep coming); otherwise, the held connection given
/// back first, it waits for at least one request. False when every sender is gone.
async fn next_group(
    receiver: &tokio::sync::Mutex<mpsc::Receiver<Request>>,
    group: &mut Vec<Request>,
    held: &mut Option<Held>,
    durable: &Durable,
) -> bool {
    let mut receiver = receiver.lock().await;
    if held.is_some() {
        while group.len() < GROUP_WRITES_MAX {
            match receiver.try_recv() {
                Ok(request) => group.push(request),
                Err(_) => break,
            }
        }
    }
    if !group.is_empty() {
        return true;
    }
    if let Some(held) = held.take() {
        held.give_back(durable).await;
    }
    receiver.recv_many(group, GROUP_WRITES_MAX).await > 0
}

/// A writer's connection, taken from the pool for a group or, on SQLite, for as long as
/// requests keep coming ([`HOLD_MAX`]).
struct Held {
    conn: sqlx::pool::PoolConnection<sqlx::Any>,
    since: std::time::Instant,
    /// Whether the last group written on it committed.
    committed: bool,
}

impl Held {
    /// Takes the pool's connection; for [`Durable::Synced`] commits, with
    /// `synchronous=NORMAL` while the writer holds it.
    async fn take(pool: &sqlx::AnyPool, durable: &Durable) -> Result<Held, String> {
        let mut conn = pool
            .acquire()
            .await
            .map_err(|e| format!("no database connection: {e}"))?;
        if let Durable::Synced(_) = durable {
            sqlx::query(SYNC_LATER)
                .execute(&mut *conn)
                .await
                .map_err(|e| format!("could not set synchronous=NORMAL: {e}"))?;
        }
        Ok(Held {
            conn,
            since: std::time::Instant::now(),
            committed: true,
        })
    }

    /// Writes `group` as one transaction ([`write_group`]) and hands the callers of its
    /// commit to the [`Syncer`], if there is one.
    async fn write(&mut self, group: Vec<Request>, failed: &mut Vec<String>, durable: &Durable) {
        let committed = write_group(&mut self.conn, group, failed, durable).await;
        self.committed = committed.is_some();
        if let (Some(pending), Durable::Synced(syncer)) = (committed, durable) {
            syncer.answer_after_sync(pending);
        }
    }

    /// Gives the connection back to the pool; back at `synchronous=FULL` first, for the
    /// transactions that other callers run on it outside the writer.
    async fn give_back(mut self, durable: &Durable) {
        let Durable::Synced(_) = durable else { return };
        if !self.committed {
            // After a failed COMMIT SQLite may have rolled back on its own, sqlx's own
            // ROLLBACK then fails, and sqlx goes on counting a transaction: every later
            // BEGIN on this connection would fail. The pool opens a fresh one instead (the
            // database is a file; nothing is lost). No setting is worth a request on it.
            self.conn.close_on_drop();
            return;
        }
        if let Err(e) = sqlx::query(SYNC_AT_COMMIT).execute(&mut *self.conn).await {
            tracing::error!(error = %e, "could not set the writer's connection back to synchronous=FULL; closing it");
            self.conn.close_on_drop();
        }
    }
}

/// Writes `group` in one transaction on a connection of its own from `pool` and answers
/// every request once the commit is durable (see [`Durable`]). Why each merged write that
/// fell back to running its callers alone failed goes into `failed`.
#[cfg(test)]
async fn commit_group(
    pool: &sqlx::AnyPool,
    group: Vec<Request>,
    failed: &mut Vec<String>,
    durable: &Durable,
) {
    let mut held = match Held::take(pool, durable).await {
        Ok(held) => held,
        Err(why) => return fail_unrun(group, &why),
    };
    held.write(group, failed, durable).await;
    held.give_back(durable).await;
}

/// The statements of a group on `conn`, up to the commit: what each merged kind takes before
/// the transaction ([`Merge::before_group`]), then in it the merged writes, one kind
/// at a time, then the closures (and the merged writes that run alone) in their order. Each
/// step runs in a savepoint of its own; the request that ends one step's savepoint opens
/// the next one's, the first is opened with the BEGIN, and a last one kept is ended by the
/// COMMIT (on PostgreSQL released just before it). `Some` when the transaction committed:
/// the callers still to answer once the commit is made durable by a [`Syncer`] (none with
/// [`Durable::AtCommit`], where every caller is answered here). `None` when it did not
/// commit; every caller is answered then.
async fn write_group(
    conn: &mut AnyConnection,
    mut group: Vec<Request>,
    failed: &mut Vec<String>,
    durable: &Durable,
) -> Option<Vec<Ran>> {
    before_group(&mut *conn, &mut group).await;
    let first = if group.iter().any(|r| matches!(r, Request::Merged(_))) {
        Savepoint::Merged
    } else {
        Savepoint::Closure
    };
    let begin = begin(super::dialect_of(conn), first);
    let why = match conn.begin_with(begin).await {
        Ok(tx) => return write_begun(tx, At::Opened(first), group, failed, durable).await,
        Err(e) => format!("BEGIN failed: {e}"),
    };
    // A BEGIN that ran without its SAVEPOINT would leave a transaction that nothing ends:
    // end it, if there is one.
    let _ = sqlx::Executor::execute(&mut *conn, "ROLLBACK").await;
    fail_unrun(group, &why);
    None
}

/// [`write_group`] once its transaction has begun, standing `at` (the first step's
/// savepoint open).
async fn write_begun(
    mut tx: sqlx::Transaction<'_, sqlx::Any>,
    mut at: At,
    group: Vec<Request>,
    failed: &mut Vec<String>,
    durable: &Durable,
) -> Option<Vec<Ran>> {
    let (mut works, kinds) = split(group);
    let mut pending = Vec::with_capacity(works.len() + kinds.len());
    for (runner, items) in kinds {
        let run = runner(&mut tx, items, at).await;
        at = run.at;
        pending.extend(run.ran);
        failed.extend(run.failed);
        if let Some(why) = run.broken {
            // The transaction is in doubt: everything in it fails.
            abort(pending, &why);
            let unrun = works.into_iter().chain(run.alone).map(Request::Work);
            fail_unrun(unrun.collect(), &why);
            return None;
        }
        works.extend(run.alone);
    }
    let at = match run_each(&mut tx, works, at, &mut pending).await {
        Ok(at) => at,
        Err(why) => {
            abort(pending, &why);
            return None;
        }
    };
    if let Some(release) = release_before_commit(at, super::dialect_of(&tx)) {
        if let Err(e) = savepoint(&mut tx, release).await {
            abort(pending, &format!("savepoint failed: {e}"));
            return None;
        }
    }
    let committed = tx.commit().await.map_err(|e| format!("COMMIT failed: {e}"));
    crate::crash_point!("group.after_commit");
    match (committed, durable) {
        (Ok(()), Durable::Synced(_)) => Some(pending),
        (committed, _) => {
            let ok = committed.is_ok();
            for ran in pending {
                (ran.answer)(committed.clone());
            }
            ok.then(Vec::new)
        }
    }
}

/// How a group's commit is durable before its callers hear of it.
enum Durable {
    /// As the commit returns: SQLite with `synchronous=FULL`, or PostgreSQL.
    AtCommit,
    /// SQLite: the group commits with `synchronous=NORMAL` (its WAL frames written, not
    /// synced), and the [`Syncer`] answers its callers after an fsync of the WAL that began
    /// after the commit. That is `synchronous=FULL`'s durability (FULL is NORMAL plus that
    /// one sync after each commit), but the writer goes on with the next group during the
    /// sync, and one sync serves every group committed while the last one ran.
    Synced(Syncer),
}

/// The writer's setting while it holds the connection, when a [`Syncer`] makes its commits
/// durable.
const SYNC_LATER: &str = "PRAGMA synchronous=NORMAL";
/// The connection's own setting (`SQLITE_WRITER_PRAGMAS`), restored when the writer gives it
/// back to the pool.
const SYNC_AT_COMMIT: &str = "PRAGMA synchronous=FULL";

/// Answers SQLite groups' callers once an fsync of the WAL, begun after their commit, has
/// returned; on a thread of its own. The first failed sync fails its callers and every
/// later group: after a failed fsync the kernel may have dropped the pages it could not
/// write, so nothing written since can be called durable (PostgreSQL stops for the same
/// reason).
struct Syncer {
    queue: std::sync::mpsc::Sender<Vec<Ran>>,
    failed: std::sync::Arc<std::sync::OnceLock<String>>,
}

impl Syncer {
    /// Starts the thread that runs `sync` for the groups handed to it.
    fn start(mut sync: impl FnMut() -> std::io::Result<()> + Send + 'static) -> Syncer {
        let (queue, committed) = std::sync::mpsc::channel::<Vec<Ran>>();
        let failed = std::sync::Arc::new(std::sync::OnceLock::<String>::new());
        let failure = failed.clone();
        std::thread::Builder::new()
            .name("corridor-wal-sync".into())
            .spawn(move || {
                while let Ok(mut callers) = committed.recv() {
                    // Every group committed before this sync begins is covered by it.
                    while let Ok(more) = committed.try_recv() {
                        callers.extend(more);
                    }
                    let synced = match failure.get() {
                        Some(why) => Err(why.clone()),
                        None => sync().map_err(|e| {
                            let why = format!("fsync of the SQLite WAL failed: {e}");
                            tracing::error!(error = %e, "fsync of the SQLite WAL failed; the store takes no more writes");
                            failure.get_or_init(|| why).clone()
                        }),
                    };
                    metrics::counter!("corridor_wal_syncs_total").increment(1);
                    for ran in callers {
                        (ran.answer)(synced.clone());
                    }
                }
            })
            .expect("a thread for the SQLite WAL syncs");
        Syncer { queue, failed }
    }

    /// Answers `callers` (of a committed group) after the next sync.
    fn answer_after_sync(&self, callers: Vec<Ran>) {
        if let Err(unsent) = self.queue.send(callers) {
            abort(unsent.0, "the WAL sync thread has stopped");
        }
    }

    /// Why the store takes no more writes, after a failed sync.
    fn failed(&self) -> Option<String> {
        self.failed.get().cloned()
    }
}

/// Makes the commits written to the WAL of the SQLite database `file` durable: an fdatasync
/// of `<file>-wal` (any descriptor of the file will do). The WAL is only ever missing when
/// the last connection closed, which checkpoints it into the database file and syncs that
/// file first; that file is synced then, to be sure.
fn sync_wal(file: &std::path::Path) -> std::io::Result<()> {
    let mut wal = file.as_os_str().to_owned();
    wal.push("-wal");
    match std::fs::File::open(&wal) {
        Ok(wal) => wal.sync_data(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::File::open(file)?.sync_data()
        }
        Err(e) => Err(e),
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
/// it left to `pending`; the first savepoint is opened from `at`. The last caller's savepoint,
/// when kept, is left open (see [`At::KeptClosure`]); returns where the transaction stands.
/// Err: a savepoint statement failed and the transaction is in doubt (the closure that saw
/// it has been answered).
async fn run_each(
    conn: &mut AnyConnection,
    works: Vec<Work>,
    at: At,
    pending: &mut Vec<Ran>,
) -> Result<At, String> {
    if works.is_empty() {
        return Ok(at);
    }
    if let Some(open) = opening(at, Savepoint::Closure) {
        if let Err(e) = savepoint(&mut *conn, open).await {
            let why = format!("SAVEPOINT failed: {e}");
            fail_unrun(works.into_iter().map(Request::Work).collect(), &why);
            return Err(why);
        }
    }
    let (count, mut at) = (works.len(), At::Bare);
    let mut works = works.into_iter().enumerate();
    while let Some((i, work)) = works.next() {
        let ran = work(&mut *conn).await;
        // Ending one caller's savepoint opens the next one's in the same request: one round
        // trip to the connection's thread per caller instead of two.
        let last = i + 1 == count;
        let end = match (ran.kept, last) {
            (true, false) => Some(KEEP_AND_OPEN),
            (true, true) => {
                at = At::KeptClosure;
                None
            }
            (false, false) => Some(DROP_AND_OPEN),
            (false, true) => Some(DROP),
        };
        if let Some(end) = end {
            if let Err(e) = savepoint(&mut *conn, end).await {
                let why = format!("savepoint failed: {e}");
                (ran.answer)(Err(why.clone()));
                fail_unrun(works.map(|(_, work)| Request::Work(work)).collect(), &why);
                return Err(why);
            }
        }
        pending.push(ran);
    }
    Ok(at)
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

/// The request that begins a group's transaction with `first`'s savepoint open.
///
/// On PostgreSQL it also keeps the planner from scanning tables and from hash and merge
/// joins for the rest of the transaction. Every statement a group writer runs reaches its
/// rows by key: a list of ids or keys from the group (a JSON array read as a table) joined
/// to a primary key or a unique index. The planner guesses 100 rows for such a list and
/// costs pages as if read from disk, so on a small table (a new store) it chose to hash the
/// list and scan the table, and a prepared statement kept that plan as the table grew: the
/// merged lease updates of completions and sends scanned the whole outbox at every group,
/// 1.3-5 ms a statement where the lookups take about 0.3 ms (README, round 13). With these
/// off, a list is joined row by row through the index whatever the table's size.
fn begin(dialect: super::Dialect, first: Savepoint) -> &'static str {
    match (dialect, first) {
        (super::Dialect::Sqlite, Savepoint::Merged) => "BEGIN; SAVEPOINT m",
        (super::Dialect::Sqlite, Savepoint::Closure) => "BEGIN; SAVEPOINT w",
        (super::Dialect::Postgres, Savepoint::Merged) => concat!(
            "BEGIN; SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; ",
            "SET LOCAL enable_mergejoin = off; SAVEPOINT m"
        ),
        (super::Dialect::Postgres, Savepoint::Closure) => concat!(
            "BEGIN; SET LOCAL enable_seqscan = off; SET LOCAL enable_hashjoin = off; ",
            "SET LOCAL enable_mergejoin = off; SAVEPOINT w"
        ),
    }
}

/// [`begin`] for a group that starts with merged writes, for tests that run merged
/// statements as a group writer does.
#[cfg(test)]
pub(crate) fn begin_merged(dialect: super::Dialect) -> &'static str {
    begin(dialect, Savepoint::Merged)
}

/// Each caller's writes run inside the savepoint `w`, opened before it and ended after it.
const OPEN: &str = "SAVEPOINT w";
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

#[cfg(test)]
mod tests {
    use super::{Ran, Syncer};
    use std::sync::{mpsc, Arc, Mutex};
    use std::time::Duration;

    /// A committed group of one caller, and where its answer arrives.
    fn caller() -> (Vec<Ran>, mpsc::Receiver<Result<(), String>>) {
        let (tx, rx) = mpsc::channel();
        let ran = Ran {
            kept: true,
            answer: Box::new(move |result| {
                let _ = tx.send(result);
            }),
        };
        (vec![ran], rx)
    }

    #[test]
    fn callers_hear_of_their_group_only_after_a_sync_that_began_after_it() {
        // Each sync waits for the test's go-ahead and reports that it began.
        let (began_tx, began) = mpsc::channel::<()>();
        let (go, go_rx) = mpsc::channel::<std::io::Result<()>>();
        let go_rx = Mutex::new(go_rx);
        let syncer = Syncer::start(move || {
            began_tx.send(()).unwrap();
            go_rx.lock().unwrap().recv().unwrap()
        });
        let (first, first_heard) = caller();
        syncer.answer_after_sync(first);
        began.recv().unwrap();
        // Committed while the first sync runs: that sync may not cover it.
        let (second, second_heard) = caller();
        let (third, third_heard) = caller();
        syncer.answer_after_sync(second);
        syncer.answer_after_sync(third);
        let wait = Duration::from_millis(100);
        assert!(
            first_heard.recv_timeout(wait).is_err(),
            "answered before its sync returned"
        );
        go.send(Ok(())).unwrap();
        assert_eq!(first_heard.recv().unwrap(), Ok(()));
        assert!(
            second_heard.recv_timeout(wait).is_err(),
            "answered by an earlier sync"
        );
        // One more sync serves both groups committed meanwhile.
        began.recv().unwrap();
        go.send(Ok(())).unwrap();
        assert_eq!(second_heard.recv().unwrap(), Ok(()));
        assert_eq!(third_heard.recv().unwrap(), Ok(()));
        assert!(syncer.failed().is_none());
    }

    #[test]
    fn a_failed_sync_fails_its_callers_and_every_later_group() {
        let syncs = Arc::new(Mutex::new(0));
        let counted = syncs.clone();
        let syncer = Syncer::start(move || {
            *counted.lock().unwrap() += 1;
            Err(std::io::Error::other("disk gone"))
        });
        let (first, first_heard) = caller();
        syncer.answer_after_sync(first);
        let why = first_heard.recv().unwrap().unwrap_err();
        assert!(why.contains("disk gone"), "{why}");
        assert_eq!(syncer.failed().as_deref(), Some(why.as_str()));
        let (later, later_heard) = caller();
        syncer.answer_after_sync(later);
        assert_eq!(later_heard.recv().unwrap(), Err(why));
        // Not tried again: pages the kernel failed to write may be gone, so a later sync
        // that succeeds would prove nothing.
        assert_eq!(*syncs.lock().unwrap(), 1);
    }

    /// A test write's [`super::Merge::write_one`]: its `write_all` for a group of one.
    fn one_as_a_group<M: super::Merge<Output = ()>>(
        item: M,
        conn: &mut sqlx::AnyConnection,
    ) -> futures::future::BoxFuture<'_, Result<(), crate::store::StoreError>> {
        Box::pin(async move {
            M::write_all(conn, std::slice::from_ref(&item)).await?;
            Ok(())
        })
    }

    /// A merged write that runs on past a statement that failed (as a careless `let _ =`
    /// would), after a write of its own.
    struct RunsOnPastAFailure;

    impl super::Merge for RunsOnPastAFailure {
        type Output = ();

        fn write_all<'c>(
            conn: &'c mut sqlx::AnyConnection,
            items: &'c [Self],
        ) -> futures::future::BoxFuture<'c, Result<Vec<Option<()>>, crate::store::StoreError>>
        {
            Box::pin(async move {
                sqlx::query("INSERT INTO runs_on (x) VALUES (1)")
                    .execute(&mut *conn)
                    .await?;
                let _ = sqlx::query("INSERT INTO no_such_table (x) VALUES (1)")
                    .execute(&mut *conn)
                    .await;
                Ok(items.iter().map(|_| Some(())).collect())
            })
        }

        fn write_one(
            self,
            conn: &mut sqlx::AnyConnection,
        ) -> futures::future::BoxFuture<'_, Result<(), crate::store::StoreError>> {
            one_as_a_group(self, conn)
        }
    }

    /// Whoever hears that their write stands finds it stored. On PostgreSQL the failed
    /// statement aborts the transaction, and a COMMIT would roll it back without an error:
    /// the group must fail its callers instead (on SQLite nothing is aborted and the write
    /// stands).
    #[tokio::test]
    async fn a_group_whose_transaction_was_aborted_tells_its_callers() {
        for each in crate::store::testing::each("group_aborted_transaction").await {
            let store = each.store.clone();
            let postgres = store.dialect() == crate::store::Dialect::Postgres;
            sqlx::query("CREATE TABLE runs_on (x INTEGER)")
                .execute(store.pool())
                .await
                .unwrap();
            let (answers, _) = store
                .group()
                .write_together(vec![RunsOnPastAFailure, RunsOnPastAFailure])
                .await;
            let (stored,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM runs_on")
                .fetch_one(store.pool())
                .await
                .unwrap();
            let told_ok = answers.iter().filter(|a| a.is_ok()).count();
            assert_eq!(told_ok > 0, stored > 0, "postgres {postgres}: {answers:?}");
            assert_eq!(told_ok, if postgres { 0 } else { 2 }, "postgres {postgres}");
            each.finish().await;
        }
    }

    /// A group whose COMMIT fails (here a deferred foreign key) fails its callers, and the
    /// writer goes on with the next group (on a fresh connection, which it takes when a
    /// group did not commit), back at FULL between groups.
    #[tokio::test]
    async fn the_writer_goes_on_after_a_group_that_could_not_commit() {
        let (_dir, store) = file_store().await;
        for sql in [
            "CREATE TABLE parent (id INTEGER PRIMARY KEY)",
            "CREATE TABLE child (p INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)",
        ] {
            sqlx::query(sql).execute(store.pool()).await.unwrap();
        }
        let insert = |sql: &'static str| {
            store.write(move |conn| {
                Box::pin(async move {
                    sqlx::query(sql).execute(&mut *conn).await?;
                    Ok(())
                })
            })
        };
        let refused = insert("INSERT INTO child (p) VALUES (42)").await;
        assert!(
            refused
                .as_ref()
                .is_err_and(|e| e.to_string().contains("COMMIT failed")),
            "{refused:?}"
        );
        insert("INSERT INTO parent (id) VALUES (1)").await.unwrap();
        insert("INSERT INTO child (p) VALUES (1)").await.unwrap();
        let (parents, children): (i64, i64) =
            sqlx::query_as("SELECT (SELECT COUNT(*) FROM parent), (SELECT COUNT(*) FROM child)")
                .fetch_one(store.pool())
                .await
                .unwrap();
        assert_eq!((parents, children), (1, 1));
        assert_eq!(
            synchronous(&store).await,
            2,
            "not FULL after the failed group"
        );
        store.close().await;
    }

    /// A SQLite store in a file of its own (its WAL synced by a [`Syncer`]), and the
    /// directory that holds it while the test runs.
    async fn file_store() -> (tempfile::TempDir, crate::store::Store) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("store.db").display());
        let store = crate::store::Store::connect(&url, 4).await.unwrap();
        (dir, store)
    }

    /// The `synchronous` setting of the pool's connection (2 is FULL), as the store's other
    /// transactions find it.
    async fn synchronous(store: &crate::store::Store) -> i64 {
        let (level,): (i64,) = sqlx::query_as("PRAGMA synchronous")
            .fetch_one(store.pool())
            .await
            .unwrap();
        level
    }

    /// The SQLite writer keeps its connection while writes keep coming, but gives it back
    /// to the pool often enough that a transaction outside the writer is not starved.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_transaction_outside_the_writer_gets_the_connection_under_load() {
        use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
        let (_dir, store) = file_store().await;
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(store.pool())
            .await
            .unwrap();
        let (stop, written) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicU64::new(0)),
        );
        let mut writers = Vec::new();
        for _ in 0..128 {
            let (store, stop, written) = (store.clone(), stop.clone(), written.clone());
            writers.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    store
                        .write(|conn| {
                            Box::pin(async move {
                                sqlx::query("INSERT INTO t (x) VALUES (1)")
                                    .execute(&mut *conn)
                                    .await?;
                                Ok(())
                            })
                        })
                        .await
                        .unwrap();
                    written.fetch_add(1, Ordering::Relaxed);
                }
            }));
        }
        // Writes past a given count within 5 s, polled: the load is on.
        let past = |count: u64| {
            let written = written.clone();
            async move {
                let deadline = std::time::Instant::now() + Duration::from_secs(5);
                while written.load(Ordering::Relaxed) <= count {
                    if std::time::Instant::now() > deadline {
                        return false;
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                true
            }
        };
        assert!(past(0).await, "no group write committed in 5 s");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let before = written.load(Ordering::Relaxed);
        let started = std::time::Instant::now();
        let outside = tokio::time::timeout(Duration::from_secs(5), async {
            let mut tx = store.begin().await?;
            sqlx::query("INSERT INTO t (x) VALUES (2)")
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok::<_, crate::store::StoreError>(())
        })
        .await;
        let waited = started.elapsed();
        let during = written.load(Ordering::Relaxed) - before;
        // The writes go on past the outside transaction: it got the connection from a
        // writer still under load, not from one the load had left idle. (Counting only the
        // writes committed while it waited made this test fail when it got the connection
        // within a millisecond or two, before the next group committed.)
        let kept_coming = past(before).await;
        stop.store(true, Ordering::Relaxed);
        for writer in writers {
            writer.await.unwrap();
        }
        assert!(kept_coming, "the writes did not keep coming");
        outside
            .unwrap_or_else(|_| {
                panic!("starved: no connection in 5 s ({during} group writes meanwhile)")
            })
            .unwrap();
        assert!(waited < Duration::from_secs(1), "waited {waited:?}");
        assert_eq!(
            synchronous(&store).await,
            2,
            "the writer gave its connection back at NORMAL"
        );
        store.close().await;
    }

    #[tokio::test]
    async fn the_writer_connection_keeps_full_sync_between_groups() {
        let (_dir, store) = file_store().await;
        // A group that commits and one whose only caller fails (rolled back).
        for fail in [false, true] {
            let written = store
                .write(move |conn| {
                    Box::pin(async move {
                        sqlx::query("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
                            .execute(&mut *conn)
                            .await?;
                        if fail {
                            return Err(crate::store::StoreError::GroupCommit("no".into()));
                        }
                        Ok(())
                    })
                })
                .await;
            assert_eq!(written.is_err(), fail);
            // Other callers' transactions on the pool's one connection commit with FULL.
            assert_eq!(
                synchronous(&store).await,
                2,
                "synchronous is not FULL after a group"
            );
        }
        store.close().await;
    }

    /// A merged write that reports when its group runs it and holds that group until told.
    struct HoldsItsGroup {
        started: tokio::sync::mpsc::UnboundedSender<()>,
        release: Arc<tokio::sync::Semaphore>,
    }

    impl super::Merge for HoldsItsGroup {
        type Output = ();

        fn write_all<'c>(
            _: &'c mut sqlx::AnyConnection,
            items: &'c [Self],
        ) -> futures::future::BoxFuture<'c, Result<Vec<Option<()>>, crate::store::StoreError>>
        {
            Box::pin(async move {
                for item in items {
                    let _ = item.started.send(());
                    drop(item.release.acquire().await);
                }
                Ok(items.iter().map(|_| Some(())).collect())
            })
        }

        fn write_one(
            self,
            conn: &mut sqlx::AnyConnection,
        ) -> futures::future::BoxFuture<'_, Result<(), crate::store::StoreError>> {
            one_as_a_group(self, conn)
        }
    }

    /// An acknowledged write ([`super::Merge::ACKNOWLEDGED`]): stores a row.
    struct Acked;

    impl super::Merge for Acked {
        type Output = ();
        const ACKNOWLEDGED: bool = true;

        fn write_all<'c>(
            conn: &'c mut sqlx::AnyConnection,
            items: &'c [Self],
        ) -> futures::future::BoxFuture<'c, Result<Vec<Option<()>>, crate::store::StoreError>>
        {
            Box::pin(async move {
                sqlx::query("INSERT INTO acked (x) VALUES (1)")
                    .execute(&mut *conn)
                    .await?;
                Ok(items.iter().map(|_| Some(())).collect())
            })
        }

        fn write_one(
            self,
            conn: &mut sqlx::AnyConnection,
        ) -> futures::future::BoxFuture<'_, Result<(), crate::store::StoreError>> {
            one_as_a_group(self, conn)
        }
    }

    /// On PostgreSQL an acknowledged write commits while every shared writer is held by a
    /// group of its own: its caller (a ledger waiting for its 201) never waits behind
    /// dispatch's writes. On SQLite the one writer takes it after the held group.
    #[tokio::test]
    async fn an_acknowledged_write_does_not_wait_behind_the_other_writers() {
        for each in crate::store::testing::each("acknowledged_write_lane").await {
            let store = each.store.clone();
            let postgres = store.dialect() == crate::store::Dialect::Postgres;
            sqlx::query("CREATE TABLE acked (x INTEGER)")
                .execute(store.pool())
                .await
                .unwrap();
            let release = Arc::new(tokio::sync::Semaphore::new(0));
            let (started, mut running) = tokio::sync::mpsc::unbounded_channel();
            let writers = if postgres { super::PG_WRITERS } else { 1 };
            let mut held = Vec::new();
            // One at a time, each once the last is running: every writer holds a group.
            for _ in 0..writers {
                let (store, started, release) = (store.clone(), started.clone(), release.clone());
                held.push(tokio::spawn(async move {
                    store.write_merged(HoldsItsGroup { started, release }).await
                }));
                running.recv().await.expect("a writer runs the held write");
            }
            let writing = store.clone();
            let acked = tokio::spawn(async move {
                let answer =
                    tokio::time::timeout(Duration::from_secs(5), writing.write_merged(Acked)).await;
                let (rows,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM acked")
                    .fetch_one(writing.pool())
                    .await
                    .unwrap();
                (answer, rows)
            });
            if postgres {
                let (answer, rows) = acked.await.unwrap();
                assert!(
                    matches!(answer, Ok(Ok(()))),
                    "committed while the writers were held: {answer:?}"
                );
                assert_eq!(rows, 1);
                release.add_permits(writers);
            } else {
                tokio::time::sleep(Duration::from_millis(200)).await;
                assert!(!acked.is_finished(), "the one writer is held");
                release.add_permits(writers);
                let (answer, rows) = acked.await.unwrap();
                assert!(matches!(answer, Ok(Ok(()))), "{answer:?}");
                assert_eq!(rows, 1);
            }
            for write in held {
                write.await.unwrap().unwrap();
            }
            each.finish().await;
        }
    }
}
