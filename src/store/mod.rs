//! The store: one schema over SQLite (embedded default) and PostgreSQL (several instances),
//! through sqlx's `Any` driver so that every query is written once (DESIGN.md decision 4).
//!
//! Queries use `$1, $2, …` placeholders in order of first use, which both dialects read.
//! The few statements that must differ (row claiming, the multi-row statements of [`merged`]
//! that the group writers run) ask the dialect ([`Store::dialect`], `merged::Forms`).
//!
//! SQLite runs in WAL mode and writes through a single connection, so that writers never race
//! for the lock (a few read-only connections serve the hot paths' reads, see
//! [`Store::reader`]). Every commit is synced before anyone hears of it, so an acknowledged
//! settlement survives a power loss: with `synchronous=FULL`, or, for the group writer's
//! commits, by an fsync of the WAL on a thread of its own before the group's callers are
//! answered ([`group`]'s `Durable`). Throughput comes from putting many steps in one
//! transaction and syncing off the writer's path, not from weaker syncs. One difference
//! from FULL: the other connections can read a group's commit during its sync, before it
//! is durable; nothing is acknowledged, sent or written back on such a read alone (each of
//! those follows a write of its own, answered after a later sync that covers it).

pub mod group;
pub mod journal;
pub mod merged;
pub mod messages;
pub mod outbox;
pub mod settlements;
pub mod sqlite_memory;
#[cfg(test)]
pub(crate) mod testing;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("schemas/sql/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("schemas/sql/postgres");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database URL {0:?} is neither sqlite:// nor postgres://")]
    UnsupportedUrl(String),
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A row read back does not hold an invariant: a bug or a hand edit, never user input.
    #[error("stored data is inconsistent: {0}")]
    Corrupt(String),
    /// The group transaction holding these writes did not commit: none of them stand.
    #[error("group commit failed: {0}")]
    GroupCommit(String),
}

pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

#[derive(Clone, Debug)]
pub struct Store {
    pool: AnyPool,
    /// Where the hot paths read (see [`Store::reader`]).
    reader: AnyPool,
    /// Whether `reader` holds connections of its own (a SQLite file), not `pool`'s.
    reads_apart: bool,
    dialect: Dialect,
    group: group::GroupWriter,
    /// Held by every clone: the WAL checkpoint task stops when the last one is gone.
    _alive: std::sync::Arc<()>,
    /// When a claim last looked for expired leases (see [`Store::expired_leases_due`]).
    leases_checked_ms: std::sync::Arc<std::sync::atomic::AtomicI64>,
}

impl Store {
    /// Opens the store `config` names, with its settings: the pool size, and on SQLite the
    /// writer's two threads on one CPU or not (`store.sqlite_writer_pinned`).
    pub async fn open(config: &crate::config::Config) -> Result<Store, StoreError> {
        let url = config.database_url();
        Store::connect_with(
            &url,
            config.store.connections_max,
            config.store.sqlite_writer_pinned,
        )
        .await
    }

    /// Opens (creating if needed) the database at `url` and brings its schema up to date; on
    /// SQLite the writer's threads are left to the scheduler.
    pub async fn connect(url: &str, connections_max: u32) -> Result<Store, StoreError> {
        Store::connect_with(url, connections_max, false).await
    }

    /// [`Store::connect`], and on SQLite with `sqlite_writer_pinned` the group writer's thread
    /// and its connection's thread on one CPU (see `group::share_a_cpu_with_the_connection`).
    pub async fn connect_with(
        url: &str,
        connections_max: u32,
        sqlite_writer_pinned: bool,
    ) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Dialect::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        let pool = match dialect {
            Dialect::Sqlite => {
                let url = sqlite_url_with_create(url)?;
                // The one connection lives as long as the store: the writer opens it on its
                // CPU (`sqlite_writer_pinned`), and whoever opened it again after a
                // lifetime or an idle spell might not.
                pool_options()
                    .max_connections(1)
                    .max_lifetime(None)
                    .idle_timeout(None)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(SQLITE_WRITER_PRAGMAS).await?;
                            Ok(())
                        })
                    })
                    .connect_with(AnyConnectOptions::from_str(&url)?)
                    .await?
            }
            Dialect::Postgres => {
                pool_options()
                    .max_connections(connections_max.max(2))
                    .connect(url)
                    .await?
            }
        };
        match dialect {
            Dialect::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Dialect::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        // SQLite: one writer task groups every caller's writes on its single connection.
        // PostgreSQL: writers group the merged writes; other callers commit on a pooled
        // connection each (see `group::GroupWriter::start`).
        let sqlite_file = match dialect {
            Dialect::Sqlite => sqlite_file(&pool).await?,
            Dialect::Postgres => None,
        };
        let group =
            group::GroupWriter::start(pool.clone(), dialect, sqlite_file, sqlite_writer_pinned)
                .await;
        let readers = match dialect {
            Dialect::Sqlite => sqlite_readers(url).await?,
            Dialect::Postgres => None,
        };
        let reads_apart = readers.is_some();
        let reader = readers.unwrap_or_else(|| pool.clone());
        let alive = std::sync::Arc::new(());
        if dialect == Dialect::Sqlite && !is_memory(url) {
            checkpoints(
                url.to_string(),
                pool.clone(),
                std::sync::Arc::downgrade(&alive),
            );
        }
        if dialect == Dialect::Postgres {
            outbox_vacuums(pool.clone(), std::sync::Arc::downgrade(&alive));
        }
        Ok(Store {
            pool,
            reader,
            reads_apart,
            dialect,
            group,
            _alive: alive,
            leases_checked_ms: std::sync::Arc::new(std::sync::atomic::AtomicI64::new(i64::MIN)),
        })
    }

    /// Whether a claim at `now` also looks for expired leases: when `period_ms` has passed
    /// since the last claim that did (or the clock went back). One caller in a period gets
    /// true.
    pub(crate) fn expired_leases_due(&self, now: i64, period_ms: i64) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        let last = self.leases_checked_ms.load(Relaxed);
        if now >= last && now < last.saturating_add(period_ms) {
            return false;
        }
        self.leases_checked_ms
            .compare_exchange(last, now, Relaxed, Relaxed)
            .is_ok()
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Runs `work` in a transaction (on SQLite a group commit shared with other callers'
    /// writes, see [`group`]); returns once it is durable. `work` must use only the connection
    /// it is given.
    pub async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(
                &'c mut sqlx::AnyConnection,
            ) -> futures::future::BoxFuture<'c, Result<T, StoreError>>
            + Send
            + 'static,
    {
        self.group.write(work).await
    }

    /// Writes `item` in a group commit merged with the other writes of its type queued
    /// meanwhile (see [`group::Merge`]); returns its answer once it is durable.
    pub async fn write_merged<M: group::Merge>(&self, item: M) -> Result<M::Output, StoreError> {
        self.group.write_merged(item).await
    }

    /// The group writer, for tests that make a group on purpose.
    #[cfg(test)]
    pub(crate) fn group(&self) -> &group::GroupWriter {
        &self.group
    }

    /// Connections for reads that need no transaction (a job's settlement and stored message
    /// before its I/O). On SQLite these are connections of their own, read-only: in WAL mode
    /// they read the last commit while the single writer connection carries on with the next
    /// group, instead of queueing behind it. On PostgreSQL (and an in-memory SQLite, which a
    /// second connection cannot see) it is the one pool.
    pub fn reader(&self) -> &AnyPool {
        &self.reader
    }

    /// Whether [`Store::reader`]'s connections are apart from the writer's (a SQLite file):
    /// one of them may then be closed after a long read without losing anything.
    pub fn reads_apart(&self) -> bool {
        self.reads_apart
    }

    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(self.pool.begin().await?)
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.reader.close().await;
        self.pool.close().await;
    }
}

/// How long a pooled connection may have sat idle and still be handed out without a ping.
/// sqlx pings each connection as it comes back to the pool, so one idle for less than this
/// answered a moment ago; pinging it again on the way out cost every transaction and every
/// read a request of its own (a round trip to the server, or two thread switches to a
/// SQLite connection's thread). A connection idle for longer is pinged, and replaced if it
/// does not answer, as before. Connection pools commonly make this trade (HikariCP's
/// "alive bypass window" is also 500 ms).
const PING_WHEN_IDLE_FOR: Duration = Duration::from_millis(500);

/// The options every pool of the store starts from: the acquire timeout, and the ping on
/// acquire only for a connection idle for [`PING_WHEN_IDLE_FOR`] or longer.
fn pool_options() -> AnyPoolOptions {
    AnyPoolOptions::new()
        .acquire_timeout(Duration::from_secs(30))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= PING_WHEN_IDLE_FOR {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

/// Read connections a SQLite reader may hold at once: a job's reads are short, and more than
/// the cores only adds threads (each sqlx SQLite connection runs on a thread of its own).
const SQLITE_READERS_MAX: u32 = 2;

/// The settings of the SQLite writer's connection. WAL with `synchronous=FULL`: a commit is
/// durable when it returns (the group writer's own transactions commit with NORMAL and are
/// synced afterwards, see [`group`]; it sets FULL back before it gives the connection back
/// to the pool). `temp_store`: the savepoints of a group commit journal their pages in
/// memory, not in temporary files (they only serve a rollback inside the transaction;
/// durability is the WAL's). `cache_size` (32 MiB): the hot pages (outbox, indexes) stay
/// cached instead of being read again after each group. `wal_autocheckpoint`: the WAL is
/// checkpointed by a task of its own ([`checkpoints`]), not after the commit of the group that
/// crossed the threshold (which made that group's callers wait for thousands of pages and an
/// fsync of the database file); the writer's own checkpoint at 20,000 pages is the backstop
/// that lets the WAL start over.
const SQLITE_WRITER_PRAGMAS: &str = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; \
    PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000; PRAGMA temp_store=MEMORY; \
    PRAGMA cache_size=-32768; PRAGMA wal_autocheckpoint=20000;";

/// The file of the SQLite database on `pool`; none when it is in memory.
async fn sqlite_file(pool: &AnyPool) -> Result<Option<std::path::PathBuf>, StoreError> {
    let (_, _, file): (i64, String, String) = sqlx::query_as("PRAGMA database_list")
        .fetch_one(pool)
        .await?;
    Ok((!file.is_empty()).then(|| std::path::PathBuf::from(file)))
}

fn is_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

/// How often the WAL of a SQLite store is checkpointed.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Checkpoints the WAL of the SQLite store at `url` every [`CHECKPOINT_EVERY`] on a connection
/// of its own (`PASSIVE`: it copies what it can without waiting for, or blocking, the writer
/// and the readers), until `alive` is gone or the store's `pool` closed. It never creates the
/// file. A failure is logged and tried again; the writer's own checkpoint
/// (`wal_autocheckpoint`) still bounds the WAL meanwhile.
fn checkpoints(url: String, pool: AnyPool, alive: std::sync::Weak<()>) {
    tokio::spawn(async move {
        use sqlx::Connection;
        let mut conn: Option<sqlx::AnyConnection> = None;
        let mut failing = false;
        loop {
            tokio::time::sleep(CHECKPOINT_EVERY).await;
            if alive.upgrade().is_none() || pool.is_closed() {
                break;
            }
            if conn.is_none() {
                conn = sqlx::AnyConnection::connect(&url).await.ok();
            }
            let Some(c) = conn.as_mut() else { continue };
            match sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_optional(&mut *c)
                .await
            {
                Ok(_) => failing = false,
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "WAL checkpoint failed; trying again");
                    }
                    failing = true;
                    conn = None;
                }
            }
        }
        if let Some(c) = conn {
            let _ = c.close().await;
        }
    });
}

/// How often the PostgreSQL outbox is vacuumed ([`outbox_vacuums`]).
const OUTBOX_VACUUM_EVERY: Duration = Duration::from_secs(5);

/// Vacuums the outbox every [`OUTBOX_VACUUM_EVERY`] while a clone of the store is alive
/// (PostgreSQL). Each claim and completion leaves a dead row version and dead index entries,
/// and a claim's scan walks past those until a vacuum removes them; autovacuum looks at a
/// database at most once a minute by default, and meanwhile claims grew slower: 30 s flat
/// out gave 761 settlements/s, against 1,125/s with this task.
/// `SKIP_LOCKED`: an instance whose vacuum finds another one's running leaves it be.
fn outbox_vacuums(pool: AnyPool, alive: std::sync::Weak<()>) {
    tokio::spawn(async move {
        let mut failing = false;
        loop {
            tokio::time::sleep(OUTBOX_VACUUM_EVERY).await;
            if alive.upgrade().is_none() || pool.is_closed() {
                break;
            }
            // Not in a transaction (VACUUM cannot be), as one simple-protocol statement.
            match pool.execute("VACUUM (SKIP_LOCKED) outbox").await {
                Ok(_) => failing = false,
                Err(e) => {
                    if !failing {
                        tracing::warn!(error = %e, "outbox vacuum failed; trying again");
                    }
                    failing = true;
                }
            }
        }
    });
}

/// A pool of read-only connections to the SQLite file at `url` (opened after the writer set WAL
/// mode and migrated the schema); none for an in-memory database.
async fn sqlite_readers(url: &str) -> Result<Option<AnyPool>, StoreError> {
    if is_memory(url) {
        return Ok(None);
    }
    let url = sqlite_url_with_create(url)?;
    let pool = pool_options()
        .max_connections(SQLITE_READERS_MAX)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("PRAGMA query_only=ON; PRAGMA busy_timeout=10000;")
                    .await?;
                Ok(())
            })
        })
        .connect_lazy_with(AnyConnectOptions::from_str(&url)?);
    Ok(Some(pool))
}

/// Adds `mode=rwc` so that a new SQLite file is created, and creates its directory.
fn sqlite_url_with_create(url: &str) -> Result<String, StoreError> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or(path);
    if !path.is_empty() && !path.starts_with(":memory:") {
        if let Some(dir) = std::path::Path::new(path).parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|source| StoreError::DataDir {
                    path: dir.display().to_string(),
                    source,
                })?;
            }
        }
    }
    Ok(if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

/// The database a connection talks to.
pub(crate) fn dialect_of(conn: &sqlx::AnyConnection) -> Dialect {
    if conn.backend_name() == <sqlx::Sqlite as sqlx::Database>::NAME {
        Dialect::Sqlite
    } else {
        Dialect::Postgres
    }
}

/// `column` is one of the strings of a JSON array bound as `$1`, on either database: one
/// parameter whatever the number of ids. SQLite reads the array with `json_each`; PostgreSQL
/// takes it as an array (`= ANY`), which it always looks up through `column`'s index: with
/// `IN (subquery)` and stale statistics (a table that grew since its last ANALYZE) its planner
/// took the list for a hundred rows matching hundreds each, and scanned the whole table.
pub(crate) fn in_json_strings(conn: &sqlx::AnyConnection, column: &str) -> String {
    in_json_strings_at(conn, column, 1)
}

/// As [`in_json_strings`], the array bound as parameter `n`.
pub(crate) fn in_json_strings_at(conn: &sqlx::AnyConnection, column: &str, n: usize) -> String {
    match dialect_of(conn) {
        Dialect::Sqlite => format!("{column} IN (SELECT value FROM json_each(${n}))"),
        Dialect::Postgres => {
            format!("{column} = ANY(ARRAY(SELECT jsonb_array_elements_text(${n}::jsonb)))")
        }
    }
}

/// The ids as the JSON array [`in_json_strings`] reads.
pub(crate) fn json_ids(ids: &[&crate::domain::SettlementId]) -> String {
    let ids: Vec<&str> = ids.iter().map(|id| id.as_str()).collect();
    serde_json::json!(ids).to_string()
}

/// Wall-clock time in unix milliseconds, the unit of every `_ms` column.
pub fn now_ms() -> i64 {
    let now = time::OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

/// Row mapping reads a settlement id column through its parser: a malformed one is a decode
/// error naming the column, never a value that skipped the check.
impl TryFrom<String> for crate::domain::SettlementId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, String> {
        crate::domain::SettlementId::parse(&value)
            .ok_or_else(|| format!("not a settlement id: {value:?}"))
    }
}
