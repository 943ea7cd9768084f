//! Dispatch: the outbox engine (DESIGN.md decision 5). It knows no rail.
//!
//! A worker claims a batch of due rows with a lease and commits, hands each job to the
//! [`Handler`] registered for its kind (and the settlement's rail), and commits the typed
//! [`Outcome`] the handler returns together with the row's new status, only while the worker
//! still holds the lease. Handlers do their network I/O with no transaction open. A failed
//! attempt is retried with exponential backoff up to `attempts_max`, then the row is dead
//! until an operator replays it. Workers poll at their own pace and are woken early when new
//! work is queued.
//!
//! A rail plugs in by registering its handlers ([`Registry::rail`]); the ledger write-back
//! registers for its kind on every rail ([`Registry::every_rail`]).

use crate::config::{Config, DispatchConfig};
use crate::domain::{Rail, SettlementId};
use crate::store::messages::{self, Outbound};
use crate::store::outbox::{self, Job, Kind, Retry};
use crate::store::settlements::{self, Record};
use crate::store::{now_ms, Store, StoreError, Tx};
use futures::future::BoxFuture;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// What a handler made of a job. `effects` are the handler's writes, not yet committed: the
/// engine commits them with the row's new status, or drops (rolls back) them if the lease was
/// lost to another worker meanwhile.
pub enum Outcome {
    /// Finished.
    Done { effects: Option<Tx> },
    /// Finished, with writes the engine runs in a group commit together with the row's
    /// completion (see [`crate::store::group`]): no transaction is open while the handler
    /// works, and many jobs' outcomes share one durable commit.
    DoneWriting { writes: Writes },
    /// Finished: the ledger acknowledged the settlement's write-back, recorded with the row's
    /// completion, merged with the other completions of a group commit
    /// ([`outbox::Completion`]).
    WrittenBack,
    /// Finished, with a typed write ([`crate::store::group::Merge`]) that completes the row
    /// itself (only while the lease holds) together with the handler's writes, merged with the
    /// writes of its type in a group commit. Made by [`Outcome::done_merged`].
    DoneMerged { submit: Submit },
    /// To run again at `due_at_ms` (a periodic job), its attempts kept; `note` says why.
    Reschedule {
        effects: Option<Tx>,
        due_at_ms: i64,
        note: String,
    },
    /// A bound other than attempts was reached: dead at once, for an operator, with `why`.
    GiveUp { why: String },
}

impl Outcome {
    /// Finished, with nothing else to write.
    pub fn done() -> Self {
        Outcome::Done { effects: None }
    }

    /// Finished, with these writes.
    pub fn done_with(effects: Tx) -> Self {
        Outcome::Done {
            effects: Some(effects),
        }
    }

    /// Finished, with `writes` run in a group commit with the row's completion (only while
    /// the lease holds; rolled back otherwise).
    pub fn done_writing<F>(writes: F) -> Self
    where
        F: for<'c> FnOnce(&'c mut sqlx::AnyConnection) -> BoxFuture<'c, Result<(), StoreError>>
            + Send
            + 'static,
    {
        Outcome::DoneWriting {
            writes: Box::new(writes),
        }
    }

    /// Finished, with the typed write `make` builds for the job and its lease's owner: it must
    /// complete the row only while that owner holds the lease (as [`outbox::complete`]) and
    /// answer whether it did.
    pub fn done_merged<M, F>(make: F) -> Self
    where
        M: crate::store::group::Merge<Output = bool>,
        F: FnOnce(Job, String) -> M + Send + 'static,
    {
        Outcome::DoneMerged {
            submit: Box::new(move |store, job, owner| {
                Box::pin(async move { store.write_merged(make(job, owner)).await })
            }),
        }
    }
}

/// Hands a [`Outcome::DoneMerged`] write, built for the job and its lease's owner, to the
/// store; answers whether the lease held (false: nothing was written).
pub type Submit = Box<
    dyn for<'s> FnOnce(&'s Store, Job, String) -> BoxFuture<'s, Result<bool, StoreError>> + Send,
>;

/// A handler's writes, run later on the connection of a group commit.
pub type Writes = Box<
    dyn for<'c> FnOnce(&'c mut sqlx::AnyConnection) -> BoxFuture<'c, Result<(), StoreError>> + Send,
>;

/// Why one attempt at a job did not finish it.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    /// Transport or counterparty trouble: retried with backoff, then dead.
    #[error("{0}")]
    Attempt(String),
    /// Another worker took the row over (our lease ran out): its outcome is that worker's.
    #[error("lease lost to another worker")]
    LeaseLost,
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Configuration does not cover the job (a counterparty or handler is missing).
    #[error("{0}")]
    Config(String),
}

impl From<sqlx::Error> for JobError {
    fn from(e: sqlx::Error) -> Self {
        JobError::Store(e.into())
    }
}

/// Turns a lost lease into an error, so that the caller's transaction is dropped (rolled
/// back) instead of committing a result another worker may be producing too.
pub fn still_mine(held: bool) -> Result<(), JobError> {
    if held {
        Ok(())
    } else {
        Err(JobError::LeaseLost)
    }
}

/// Works one kind of job.
pub trait Handler: Send + Sync {
    /// Does the job for `settlement`. Called with no transaction open; a handler that sends
    /// calls [`Context::about_to_send`] (or [`Context::renew`]) right before the I/O.
    fn handle<'a>(
        &'a self,
        job: &'a Job,
        settlement: &'a Record,
        cx: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<Outcome, JobError>>;

    /// What a person must do when this job went dead (logged with the dead letter).
    fn dead_letter_advice(&self, _job: &Job) -> Option<String> {
        None
    }
}

/// The handlers by job kind and rail.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<(Kind, Option<Rail>), Arc<dyn Handler>>,
}

impl Registry {
    /// `handler` works the jobs of `kinds` for settlements on `rail` (replacing any before).
    pub fn rail(&mut self, rail: Rail, kinds: &[Kind], handler: Arc<dyn Handler>) -> &mut Self {
        for kind in kinds {
            self.handlers.insert((*kind, Some(rail)), handler.clone());
        }
        self
    }

    /// `handler` works the jobs of `kind` whatever the settlement's rail (unless a rail
    /// registered its own).
    pub fn every_rail(&mut self, kind: Kind, handler: Arc<dyn Handler>) -> &mut Self {
        self.handlers.insert((kind, None), handler);
        self
    }

    fn find(&self, kind: Kind, rail: Option<Rail>) -> Option<&Arc<dyn Handler>> {
        rail.and_then(|r| self.handlers.get(&(kind, Some(r))))
            .or_else(|| self.handlers.get(&(kind, None)))
    }
}

/// Wakes idle workers for `jobs` new jobs: one per claim's worth (`batch_rows_max`), at least
/// one. Waking every worker for each ledger post made each of them claim, most finding
/// nothing, and claims were most of the store's transactions.
pub fn wake_for(wake: &Notify, jobs: usize, batch_rows_max: i64) {
    let per_claim = usize::try_from(batch_rows_max).unwrap_or(1).max(1);
    for _ in 0..jobs.div_ceil(per_claim).max(1) {
        wake.notify_one();
    }
}

/// The outbox engine of one instance; shared by its workers.
pub struct Dispatcher {
    pub store: Store,
    pub config: Arc<Config>,
    /// This instance's name in leases (each worker adds `/index`).
    pub owner: String,
    /// Woken when work is queued, so that idle workers start at once.
    pub wake: Arc<Notify>,
    registry: Registry,
    pace: ClaimPace,
}

/// The least time between two claims of an instance's workers, unless the first one filled
/// the room it had (a backlog is claimed without pause): the next claim takes every job
/// queued meanwhile at once. Without it each new job (one every half millisecond at 1,000
/// settlements a second) had a claim of its own: most of the store's transactions on
/// PostgreSQL, and many of the SQLite writer's requests. A job waits at most this long more.
const CLAIM_GATHER: Duration = Duration::from_millis(4);

/// When the instance's workers may start their next claim ([`CLAIM_GATHER`]), on tokio's
/// monotonic clock.
struct ClaimPace {
    start: tokio::time::Instant,
    /// The next turn, in microseconds from `start`.
    next_us: std::sync::atomic::AtomicU64,
}

impl ClaimPace {
    fn new() -> Self {
        ClaimPace {
            start: tokio::time::Instant::now(),
            next_us: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// Waits for a worker's turn to claim: at most one claim starts in each [`CLAIM_GATHER`],
    /// unless the one before filled its room ([`ClaimPace::claimed`]). False: `stop` was
    /// cancelled meanwhile.
    async fn turn(&self, stop: &CancellationToken) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let gather = CLAIM_GATHER.as_micros() as u64;
        loop {
            let next = self.next_us.load(Relaxed);
            let now = self.start.elapsed().as_micros() as u64;
            if next <= now {
                if self
                    .next_us
                    .compare_exchange(next, now + gather, Relaxed, Relaxed)
                    .is_ok()
                {
                    return true;
                }
                continue;
            }
            tokio::select! {
                _ = stop.cancelled() => return false,
                _ = tokio::time::sleep(Duration::from_micros(next - now)) => {}
            }
        }
    }

    /// After a claim: one that filled the room it had may have left due jobs behind, so the
    /// next claim need not wait.
    fn claimed(&self, claimed: usize, room: usize) {
        if claimed >= room {
            self.next_us.store(0, std::sync::atomic::Ordering::Relaxed);
        }
    }
}

/// What a handler gets besides its job: the store, the configuration, and the worker's lease.
pub struct Context<'a> {
    pub store: &'a Store,
    pub config: &'a Config,
    /// The same configuration, shared, for writes that run on the group writer's task.
    pub shared_config: &'a Arc<Config>,
    pub wake: &'a Notify,
    job: &'a Job,
    owner: &'a str,
    /// Taken right before the claim that leased the job: the lease runs at least until
    /// `lease_ms` after it.
    claimed_at: Instant,
    /// The settlement's stored messages, oldest first, when read with the claim (see
    /// [`Prefetched`]); `None`: not read yet.
    messages: Option<&'a [Outbound]>,
    /// Whether `messages` came with their bodies ([`reads_bodies`]); without, a stored
    /// message is read again when asked for.
    message_bodies: bool,
}

impl Context<'_> {
    /// The worker holding the job's lease.
    pub fn owner(&self) -> &str {
        self.owner
    }

    /// The settlement's stored message of `kind` (as [`crate::store::messages::required`]):
    /// read with the claim's others when it could be, else now, on a read-only connection.
    pub async fn stored_message(&self, kind: &str) -> Result<Outbound, JobError> {
        let sid = &self.job.settlement_id;
        match self.messages {
            Some(messages) if self.message_bodies => messages
                .iter()
                .find(|m| m.kind == kind)
                .cloned()
                .ok_or_else(|| {
                    JobError::Store(StoreError::Corrupt(format!(
                        "settlement {sid} has no {kind}"
                    )))
                }),
            _ => Ok(messages::required(&mut *self.read_only().await?, sid, kind).await?),
        }
    }

    /// The UETR of the settlement's first message that has one (as
    /// [`crate::store::messages::uetr`]), read with the claim's others when it could be.
    pub async fn stored_uetr(&self) -> Result<Option<String>, JobError> {
        match self.messages {
            Some(messages) => Ok(messages.iter().find_map(|m| m.uetr.clone())),
            None => {
                Ok(messages::uetr(&mut *self.read_only().await?, &self.job.settlement_id).await?)
            }
        }
    }

    /// A read-only connection ([`Store::reader`]) for what the job reads before its network
    /// I/O (the settlement's stored message, its UETR): committed before the job was claimed,
    /// so it needs no turn on the writer's connection.
    pub async fn read_only(&self) -> Result<sqlx::pool::PoolConnection<sqlx::Any>, JobError> {
        Ok(self
            .store
            .reader()
            .acquire()
            .await
            .map_err(StoreError::from)?)
    }

    /// Extends the lease from now, right before network I/O (it ran from the claim). Fails
    /// with [`JobError::LeaseLost`] when another worker took the row: the caller must not send.
    pub async fn renew(&self, conn: &mut sqlx::AnyConnection) -> Result<(), JobError> {
        still_mine(
            outbox::renew(
                conn,
                self.job,
                self.owner,
                now_ms(),
                self.config.dispatch.lease_ms,
            )
            .await?,
        )
    }

    /// Renews the lease and counts a send of the stored message `msg_id`, so that a crash
    /// from here on leaves "may have been sent".
    pub async fn about_to_send(
        &self,
        conn: &mut sqlx::AnyConnection,
        msg_id: &str,
    ) -> Result<(), JobError> {
        still_mine(
            outbox::renew_and_count_send(
                conn,
                self.job,
                self.owner,
                now_ms(),
                self.config.dispatch.lease_ms,
                msg_id,
            )
            .await?,
        )
    }

    /// [`Context::about_to_send`] in a group commit: call it holding no connection.
    pub async fn about_to_send_grouped(&self, msg_id: &str) -> Result<(), JobError> {
        self.about_to_send_stamped(msg_id, None).await
    }

    /// [`Context::about_to_send_grouped`], with the transmission time the message goes out
    /// with stored in the same commit if the lease holds (the wallet rail's DE7). Merged
    /// with the other sends of the group either way.
    pub async fn about_to_send_stamped(
        &self,
        msg_id: &str,
        transmitted_at: Option<String>,
    ) -> Result<(), JobError> {
        let send = outbox::SendRecord {
            job: self.job.clone(),
            owner: self.owner.to_string(),
            lease_ms: self.config.dispatch.lease_ms,
            msg_id: msg_id.to_string(),
            transmitted_at,
        };
        still_mine(self.store.write_merged(send).await?)
    }

    /// [`Context::renew`] in a group commit, before I/O that takes at most `io_ms`: call it
    /// holding no connection. A lease claimed so recently that it outlasts the I/O by half its
    /// length cannot have run out, so no other worker can hold the row (another instance would
    /// need a clock that far ahead): it is kept as it is, saving a durable commit per job.
    pub async fn renew_grouped_for(&self, io_ms: u64) -> Result<(), JobError> {
        let lease_ms = u64::try_from(self.config.dispatch.lease_ms).unwrap_or(0);
        let elapsed_ms = u64::try_from(self.claimed_at.elapsed().as_millis()).unwrap_or(u64::MAX);
        if elapsed_ms.saturating_add(io_ms) < lease_ms / 2 {
            return Ok(());
        }
        let (job, owner, lease_ms) = (
            self.job.clone(),
            self.owner.to_string(),
            self.config.dispatch.lease_ms,
        );
        let renewed = self
            .store
            .write(move |conn| {
                Box::pin(async move { outbox::renew(conn, &job, &owner, now_ms(), lease_ms).await })
            })
            .await?;
        still_mine(renewed)
    }
}

/// Delay before attempt `attempts + 1`: base × 2^(attempts-1), capped, with ±20 % jitter so
/// that rows failed together do not retry together.
pub fn backoff_ms(config: &DispatchConfig, attempts: i64) -> i64 {
    let exp = (attempts - 1).clamp(0, 30) as u32;
    let raw = config
        .backoff_base_ms
        .saturating_mul(1i64 << exp)
        .min(config.backoff_max_ms);
    let jitter = raw / 5;
    if jitter == 0 {
        return raw;
    }
    raw - jitter + rand::Rng::gen_range(&mut rand::thread_rng(), 0..=2 * jitter)
}

/// What [`Dispatcher::prefetch`] read for one job of a claim.
struct Prefetched {
    /// Boxed, like every record a job carries: a `Record` is over a kilobyte, and a job's
    /// task is moved whole each time it is spawned, stored and finished.
    record: Box<Record>,
    messages: Vec<Outbound>,
    /// Whether `messages` have their bodies: only when a job of the claim for this settlement
    /// sends a stored message ([`reads_bodies`]).
    bodies: bool,
}

/// Whether a job of `kind` may send one of its settlement's stored messages, whose body the
/// claim's read then includes. A kind not listed that asks for one anyway reads it itself
/// ([`Context::stored_message`]): slower, never wrong.
fn reads_bodies(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Deliver | Kind::Resend | Kind::Reverse | Kind::Status
    )
}

impl Dispatcher {
    pub fn new(store: Store, config: Arc<Config>, owner: String, registry: Registry) -> Self {
        Dispatcher {
            store,
            config,
            owner,
            wake: Arc::new(Notify::new()),
            registry,
            pace: ClaimPace::new(),
        }
    }

    /// Runs one worker until `stop` is cancelled, then lets the jobs in hand finish.
    ///
    /// The worker keeps up to `batch_rows_max` jobs in flight and claims again as soon as
    /// half of them are done, so that a slow job never holds up the next claim (no batch
    /// barrier).
    pub async fn run_worker(self: Arc<Self>, index: usize, stop: CancellationToken) {
        let owner = format!("{}/{index}", self.owner);
        let idle = Duration::from_millis(self.config.dispatch.poll_interval_ms);
        let d = &self.config.dispatch;
        let max = usize::try_from(d.batch_rows_max).unwrap_or(1).max(1);
        // Each job is a task of its own, so that it progresses (and gives back any connection
        // it holds) while this loop waits for the next claim. Dropping the set (the worker
        // aborted) aborts them, like a killed process.
        let mut in_flight = tokio::task::JoinSet::new();
        while !stop.is_cancelled() {
            let room = max - in_flight.len();
            let may_claim = room * 2 >= max;
            let mut claimed = 0;
            if may_claim && self.pace.turn(&stop).await {
                let claimed_at = Instant::now();
                match outbox::claim(&self.store, &owner, now_ms(), d.lease_ms, room as i64).await {
                    Ok(jobs) => {
                        claimed = jobs.len();
                        self.pace.claimed(claimed, room);
                        let mut read = self.prefetch(&jobs).await;
                        for job in jobs {
                            let (engine, owner) = (self.clone(), owner.clone());
                            // A second job of the same settlement in the claim reads its own.
                            let record = read.remove(&job.settlement_id);
                            in_flight.spawn(engine.job_task(job, owner, claimed_at, record));
                        }
                    }
                    Err(e) => tracing::error!(error = %e, "outbox claim failed"),
                }
            }
            if claimed > 0 && in_flight.len() * 2 <= max {
                continue;
            }
            if in_flight.is_empty() {
                tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(idle) => {}
                }
            } else if may_claim && claimed == 0 {
                // Room, but nothing due: a job finishing, new work or the poll interval.
                tokio::select! {
                    _ = in_flight.join_next() => {}
                    _ = stop.cancelled() => {}
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(idle) => {}
                }
            } else {
                tokio::select! {
                    _ = in_flight.join_next() => {}
                    _ = stop.cancelled() => {}
                }
            }
        }
        while in_flight.join_next().await.is_some() {}
    }

    /// The task that works one claimed job, kept small (a test holds it to a kilobyte):
    /// tokio moves a task's future whole when it is spawned and again when it finishes and
    /// its output is read, several copies per job, so every settlement record and every store
    /// call's state it holds is boxed instead of carried inline. (It was 8 KB; under callgrind its copies
    /// were about 8 % of the gateway's instructions.)
    async fn job_task(
        self: Arc<Self>,
        job: Job,
        owner: String,
        claimed_at: Instant,
        read: Option<Prefetched>,
    ) {
        self.work(job, &owner, claimed_at, read).await
    }

    /// Claims one batch of due rows and works it; returns how many rows were claimed.
    pub async fn run_once(&self, owner: &str) -> Result<usize, StoreError> {
        let d = &self.config.dispatch;
        let claimed_at = Instant::now();
        let jobs =
            outbox::claim(&self.store, owner, now_ms(), d.lease_ms, d.batch_rows_max).await?;
        let n = jobs.len();
        let mut read = self.prefetch(&jobs).await;
        let work = jobs.into_iter().map(|job| {
            let record = read.remove(&job.settlement_id);
            self.work(job, owner, claimed_at, record)
        });
        futures::future::join_all(work).await;
        Ok(n)
    }

    /// Works the queue until nothing is due (for tests and tools that step the engine);
    /// returns how many rows were claimed in all. At most `rounds_max` batches.
    pub async fn drain(&self, owner: &str, rounds_max: usize) -> Result<usize, StoreError> {
        let mut total = 0;
        for _ in 0..rounds_max {
            let n = self.run_once(owner).await?;
            if n == 0 {
                break;
            }
            total += n;
        }
        Ok(total)
    }

    /// The settlements of a claim's jobs and their stored messages, read in two queries on
    /// the read-only connections instead of one or two per job. Empty when the read fails:
    /// each job then reads its own.
    async fn prefetch(&self, jobs: &[Job]) -> HashMap<SettlementId, Prefetched> {
        let ids: Vec<&SettlementId> = jobs.iter().map(|j| &j.settlement_id).collect();
        let bodies_of: Vec<&SettlementId> = jobs
            .iter()
            .filter(|j| reads_bodies(j.kind))
            .map(|j| &j.settlement_id)
            .collect();
        let read = async {
            let mut conn = self.store.reader().acquire().await?;
            let records = settlements::get_many(&mut conn, &ids).await?;
            let messages = messages::for_settlements(&mut conn, &ids, &bodies_of).await?;
            Ok::<_, StoreError>((records, messages))
        };
        let (records, stored) = match read.await {
            Ok(read) => read,
            Err(e) => {
                tracing::warn!(error = %e, "reading a claim's settlements failed; each job reads its own");
                return HashMap::new();
            }
        };
        let with_bodies: std::collections::HashSet<&SettlementId> =
            bodies_of.iter().copied().collect();
        let mut by_id: HashMap<SettlementId, Prefetched> = records
            .into_iter()
            .map(|record| {
                let prefetched = Prefetched {
                    bodies: with_bodies.contains(&record.settlement.id),
                    record: Box::new(record),
                    messages: Vec::new(),
                };
                (prefetched.record.settlement.id.clone(), prefetched)
            })
            .collect();
        for message in stored {
            if let Some(p) = by_id.get_mut(&message.settlement_id) {
                p.messages.push(message);
            }
        }
        by_id
    }

    /// Works one claimed job; `read` is its settlement and messages when read with the
    /// claim's others.
    async fn work(&self, job: Job, owner: &str, claimed_at: Instant, read: Option<Prefetched>) {
        let (record, stored, message_bodies) = match read {
            Some(p) => (Some(p.record), Some(p.messages), p.bodies),
            None => (None, None, false),
        };
        let handler = match Box::pin(self.handler_for(&job, record)).await {
            Ok(found) => found,
            Err(e) => return Box::pin(self.record_failure(&job, owner, e, None)).await,
        };
        let (handler, record) = handler;
        let cx = Context {
            store: &self.store,
            config: &self.config,
            shared_config: &self.config,
            wake: &self.wake,
            job: &job,
            owner,
            claimed_at,
            messages: stored.as_deref(),
            message_bodies,
        };
        let result = match handler.handle(&job, &record, &cx).await {
            Ok(outcome) => Box::pin(self.commit(&job, owner, outcome)).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {}
            Err(JobError::LeaseLost) => {
                tracing::warn!(job = job.id, kind = %job.kind, settlement = %job.settlement_id, "lease lost; this worker's result was rolled back");
            }
            Err(e) => Box::pin(self.record_failure(&job, owner, e, Some(handler))).await,
        }
    }

    /// The job's settlement and the handler for its kind on the settlement's rail.
    async fn handler_for(
        &self,
        job: &Job,
        record: Option<Box<Record>>,
    ) -> Result<(Arc<dyn Handler>, Box<Record>), JobError> {
        let record = if let Some(record) = record {
            record
        } else {
            let mut conn = self
                .store
                .reader()
                .acquire()
                .await
                .map_err(StoreError::from)?;
            Box::new(job_settlement(&mut conn, &job.settlement_id).await?)
        };
        let handler = self.registry.find(job.kind, record.rail).ok_or_else(|| {
            JobError::Config(format!(
                "no handler for {} jobs on rail {}",
                job.kind,
                record.rail.map_or("(none)", Rail::as_str)
            ))
        })?;
        Ok((handler.clone(), record))
    }

    /// Commits a handler's outcome with the row's new status, if the lease still holds.
    async fn commit(&self, job: &Job, owner: &str, outcome: Outcome) -> Result<(), JobError> {
        match outcome {
            Outcome::Done {
                effects: Some(mut tx),
            } => {
                still_mine(outbox::complete(&mut tx, job, owner).await?)?;
                tx.commit().await?;
            }
            Outcome::Done { effects: None } => {
                still_mine(self.complete_merged(job, owner, false).await?)?;
            }
            Outcome::WrittenBack => {
                still_mine(self.complete_merged(job, owner, true).await?)?;
            }
            Outcome::DoneWriting { writes } => {
                still_mine(self.grouped(job, owner, writes).await?)?;
            }
            Outcome::DoneMerged { submit } => {
                still_mine(submit(&self.store, job.clone(), owner.to_string()).await?)?;
            }
            Outcome::Reschedule {
                effects,
                due_at_ms,
                note,
            } => {
                let mut tx = match effects {
                    Some(tx) => tx,
                    None => self.store.begin().await?,
                };
                still_mine(outbox::reschedule(&mut tx, job, owner, due_at_ms, &note).await?)?;
                tx.commit().await?;
            }
            Outcome::GiveUp { why } => {
                let (job_owned, owner_owned, why_owned) =
                    (job.clone(), owner.to_string(), why.clone());
                let held = self
                    .store
                    .write(move |conn| {
                        Box::pin(async move {
                            outbox::give_up(conn, &job_owned, &owner_owned, &why_owned).await
                        })
                    })
                    .await?;
                still_mine(held)?;
                metrics::counter!("corridor_outbox_dead_total", "kind" => job.kind.as_str())
                    .increment(1);
                tracing::error!(job = job.id, kind = %job.kind, settlement = %job.settlement_id, "{why}");
            }
        }
        self.wake.notify_one();
        Ok(())
    }

    /// Completes `job` (and marks its settlement `written_back`) in a group commit merged with
    /// other completions, if `owner` still holds the lease; false (nothing written) if not.
    async fn complete_merged(
        &self,
        job: &Job,
        owner: &str,
        written_back: bool,
    ) -> Result<bool, StoreError> {
        let completion = outbox::Completion {
            job: job.clone(),
            owner: owner.to_string(),
            written_back,
        };
        self.store.write_merged(completion).await
    }

    /// Completes `job` and runs `writes` in one group commit, if `owner` still holds the
    /// lease; false (nothing written) if it does not.
    async fn grouped(&self, job: &Job, owner: &str, writes: Writes) -> Result<bool, StoreError> {
        let (job, owner) = (job.clone(), owner.to_string());
        self.store
            .write(move |conn| {
                Box::pin(async move {
                    // The lease first: when it is lost nothing has been written yet.
                    if !outbox::complete(conn, &job, &owner).await? {
                        return Ok(false);
                    }
                    writes(conn).await?;
                    Ok(true)
                })
            })
            .await
    }

    /// Records a failed attempt: back to the queue after a backoff, or dead past the bound.
    async fn record_failure(
        &self,
        job: &Job,
        owner: &str,
        error: JobError,
        handler: Option<Arc<dyn Handler>>,
    ) {
        let backoff = backoff_ms(&self.config.dispatch, job.attempts);
        let text = error.to_string();
        let (job_owned, owner_owned, text_owned) = (job.clone(), owner.to_string(), text.clone());
        let attempts_max = self.config.dispatch.attempts_max;
        let recorded = self
            .store
            .write(move |conn| {
                Box::pin(async move {
                    outbox::fail(
                        conn,
                        &job_owned,
                        &owner_owned,
                        &text_owned,
                        attempts_max,
                        backoff,
                        now_ms(),
                    )
                    .await
                })
            })
            .await;
        match recorded {
            Ok(Retry::At(_)) => {
                tracing::warn!(job = job.id, kind = %job.kind, settlement = %job.settlement_id, attempts = job.attempts, error = %text, retry_in_ms = backoff, "outbox attempt failed")
            }
            Ok(Retry::Dead) => {
                metrics::counter!("corridor_outbox_dead_total", "kind" => job.kind.as_str())
                    .increment(1);
                let advice = handler
                    .and_then(|h| h.dead_letter_advice(job))
                    .unwrap_or_else(|| {
                        format!("replay it with `corridor outbox replay {}`", job.id)
                    });
                tracing::error!(job = job.id, kind = %job.kind, settlement = %job.settlement_id, attempts = job.attempts, error = %text, "outbox row is dead: {advice}")
            }
            Ok(Retry::LeaseLost) => tracing::warn!(
                job = job.id,
                "lease lost while failing; another worker owns the row"
            ),
            Err(e) => {
                tracing::error!(job = job.id, error = %e, "could not record a failed attempt; the lease will expire and the row be retried")
            }
        }
    }
}

/// The settlement an outbox row names; a row without one is a corrupt store.
pub async fn job_settlement(
    conn: &mut sqlx::AnyConnection,
    sid: &SettlementId,
) -> Result<Record, StoreError> {
    settlements::get(conn, sid)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("outbox names missing settlement {sid}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One claim in each gathering time; none waits after a claim that filled its room; a
    /// stop ends the wait. On tokio's paused clock, so the waits are exact.
    #[tokio::test(start_paused = true)]
    async fn claims_are_paced_unless_the_last_one_filled_its_room() {
        let (pace, stop) = (ClaimPace::new(), CancellationToken::new());
        let t0 = tokio::time::Instant::now();
        assert!(pace.turn(&stop).await);
        assert_eq!(t0.elapsed(), Duration::ZERO, "the first claim goes at once");
        pace.claimed(3, 16);
        assert!(pace.turn(&stop).await);
        assert_eq!(
            t0.elapsed(),
            CLAIM_GATHER,
            "after one that found fewer, it waits"
        );
        pace.claimed(16, 16);
        assert!(pace.turn(&stop).await);
        assert_eq!(
            t0.elapsed(),
            CLAIM_GATHER,
            "after a full one, it goes at once"
        );
        stop.cancel();
        assert!(!pace.turn(&stop).await, "a stop ends the wait");
        assert_eq!(t0.elapsed(), CLAIM_GATHER);
    }

    /// The most a job's task ([`Dispatcher::job_task`]) may take.
    const JOB_TASK_BYTES_MAX: usize = 1024;

    /// A job's task stays small however its work grows: each settlement record and each
    /// store call it awaits is boxed. Unboxed (as before) it was over 8 KB.
    #[tokio::test]
    async fn a_job_task_is_small_enough_to_move() {
        sqlx::any::install_default_drivers();
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("corridor.db").display());
        let store = Store::connect(&url, 2).await.expect("sqlite store");
        let config = crate::store::testing::config();
        let engine = Arc::new(Dispatcher::new(
            store.clone(),
            config,
            "size".into(),
            Registry::default(),
        ));
        let job = Job {
            id: 1,
            kind: Kind::Deliver,
            settlement_id: SettlementId::new(),
            attempts: 1,
        };
        let task = engine.job_task(job, "size/0".into(), Instant::now(), None);
        let bytes = std::mem::size_of_val(&task);
        assert!(
            bytes <= JOB_TASK_BYTES_MAX,
            "a job's task takes {bytes} bytes, more than {JOB_TASK_BYTES_MAX}"
        );
        drop(task);
        store.close().await;
    }

    /// A claim's read carries the stored messages' bodies only for the jobs that send one;
    /// a job without them that asks for its message anyway gets it, body and all, from the
    /// store, and its UETR from what was read.
    #[tokio::test]
    async fn a_claim_reads_bodies_only_for_the_jobs_that_send_them() {
        for each in crate::store::testing::each("a_claim_reads_bodies_only_for_the_jobs").await {
            let config = crate::store::testing::config();
            let events = vec![
                crate::store::testing::event("claim-bodies-1", "10.00"),
                crate::store::testing::event("claim-bodies-2", "20.00"),
            ];
            let taken =
                crate::store::testing::taken_in_and_claimed(&each.store, &config, events).await;
            let (deliver, other) = (&taken[0].1, &taken[1].1);
            assert_eq!(deliver.kind, Kind::Deliver);
            let writeback = Job {
                kind: Kind::Writeback,
                ..other.clone()
            };
            let engine = Dispatcher::new(
                each.store.clone(),
                config.clone(),
                "bodies".into(),
                Registry::default(),
            );
            let mut read = engine.prefetch(&[deliver.clone(), writeback.clone()]).await;
            let sent = read
                .remove(&deliver.settlement_id)
                .expect("read with the claim");
            let unsent = read
                .remove(&writeback.settlement_id)
                .expect("read with the claim");
            assert!(
                sent.bodies,
                "a deliver job's settlement comes with its bodies"
            );
            assert!(!unsent.bodies, "a write-back's does not");
            assert!(!sent.messages.is_empty() && sent.messages.iter().all(|m| !m.body.is_empty()));
            assert!(
                !unsent.messages.is_empty() && unsent.messages.iter().all(|m| m.body.is_empty())
            );

            let mut conn = each.store.reader().acquire().await.unwrap();
            let stored = messages::required(
                &mut conn,
                &writeback.settlement_id,
                crate::rails::bank::PACS008,
            )
            .await
            .unwrap();
            drop(conn);
            let wake = Notify::new();
            let cx = Context {
                store: &each.store,
                config: &config,
                shared_config: &config,
                wake: &wake,
                job: &writeback,
                owner: "w",
                claimed_at: Instant::now(),
                messages: Some(&unsent.messages),
                message_bodies: unsent.bodies,
            };
            let asked = cx
                .stored_message(crate::rails::bank::PACS008)
                .await
                .unwrap();
            assert_eq!(asked, stored, "read again from the store, body and all");
            assert_eq!(cx.stored_uetr().await.unwrap(), stored.uetr);
            each.finish().await;
        }
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let config = DispatchConfig {
            backoff_base_ms: 1000,
            backoff_max_ms: 10_000,
            ..DispatchConfig::default()
        };
        for _ in 0..50 {
            let first = backoff_ms(&config, 1);
            assert!((800..=1200).contains(&first), "{first}");
            let third = backoff_ms(&config, 3);
            assert!((3200..=4800).contains(&third), "{third}");
            let late = backoff_ms(&config, 40);
            assert!((8000..=12_000).contains(&late), "{late}");
        }
    }
}
