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
            pg_upkeep(pool.clone(), std::sync::Arc::downgrade(&alive));
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

/// How often the PostgreSQL store is looked after ([`pg_upkeep`]).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// The least time between two analyses of a table ([`analyze_grown`]): autovacuum's default
/// `autovacuum_naptime`.
const ANALYZED_APART: Duration = Duration::from_secs(60);

/// Looks after a PostgreSQL store every [`UPKEEP_EVERY`] while a clone of the store is alive:
/// vacuums the outbox, and analyzes the tables that changed enough since their last
/// analysis ([`analyze_grown`]). A step that fails is logged once and tried again next time.
///
/// The outbox: each claim and completion leaves a dead row version and dead index entries,
/// and a claim's scan walks past those until a vacuum removes them; autovacuum looks at a
/// database at most once a minute by default, and meanwhile claims grew slower: 30 s flat
/// out gave 761 settlements/s, against 1,125/s with this task.
/// `SKIP_LOCKED`: an instance whose vacuum or analysis finds another one's running leaves
/// it be.
fn pg_upkeep(pool: AnyPool, alive: std::sync::Weak<()>) {
    tokio::spawn(async move {
        let (mut vacuum_failing, mut analyze_failing) = (false, false);
        loop {
            tokio::time::sleep(UPKEEP_EVERY).await;
            if alive.upgrade().is_none() || pool.is_closed() {
                break;
            }
            // Not in a transaction (VACUUM cannot be), as one simple-protocol statement.
            let vacuumed = pool.execute("VACUUM (SKIP_LOCKED) outbox").await.map(drop);
            once_failing(vacuumed, &mut vacuum_failing, "outbox vacuum");
            let analyzed = analyze_grown(&pool, ANALYZED_APART).await;
            once_failing(analyzed, &mut analyze_failing, "analyzing grown tables");
        }
    });
}

/// Logs `result`'s error the first time in a row that `what` fails.
fn once_failing(result: Result<(), impl std::fmt::Display>, failing: &mut bool, what: &str) {
    match result {
        Ok(()) => *failing = false,
        Err(e) => {
            if !*failing {
                tracing::warn!(error = %e, "{what} failed; trying again");
            }
            *failing = true;
        }
    }
}

/// Analyzes each table of the store's schema that has changed, since it was last analyzed,
/// by more than autovacuum's default rule (50 rows and a tenth of its rows).
///
/// Why the store does what autovacuum would: the dispatch workers' reads (a claim's
/// settlements and stored messages, by lists of ids) run as prepared statements, and
/// PostgreSQL keeps the generic plan it chose after a statement's first executions until
/// something invalidates it. On a new store those executions meet nearly empty tables, for
/// which scanning the table is the cheaper plan, and that plan stayed while the table grew:
/// at 1,000 settlements/s over 20 s, 341 of those reads took 4-25 ms each (sequential scans
/// of `settlements` and `outbound_messages`) where a lookup by index takes a fraction of a
/// millisecond, and flat out the rate fell from about 2,100/s over 20 s to 1,730/s over
/// 60 s. An analysis gives the planner the table's real size and invalidates the plans
/// made on the table, so the next execution plans again. Autovacuum does the same, but
/// looks at a database once a minute at most, and may be turned off (it is on the machine
/// these figures come from); where it is on and has just analyzed a table, nothing is left
/// to do here.
///
/// A table analyzed less than `apart` ago (by this or another instance, or by autovacuum)
/// waits: an analysis samples up to 30,000 rows, and while a new store's tables grow by a
/// tenth every few seconds, analyzing at each check took about a tenth of a CPU of the
/// server flat out (ANALYZE of the journal 410 ms, twice in 10 s). Only the first analysis
/// of a table matters to the plans; later ones follow its size.
async fn analyze_grown(pool: &AnyPool, apart: Duration) -> Result<(), sqlx::Error> {
    let grown: Vec<String> = sqlx::query_scalar(
        "SELECT quote_ident(s.relname) FROM pg_stat_user_tables s \
         JOIN pg_class c ON c.oid = s.relid \
         WHERE s.schemaname = current_schema() \
         AND s.n_mod_since_analyze > 50 + 0.1 * GREATEST(c.reltuples, 0) \
         AND COALESCE(GREATEST(s.last_analyze, s.last_autoanalyze), '-infinity') \
             < now() - make_interval(secs => $1) \
         ORDER BY s.relname",
    )
    .bind(apart.as_secs_f64())
    .fetch_all(pool)
    .await?;
    for table in grown {
        pool.execute(format!("ANALYZE (SKIP_LOCKED) {table}").as_str())
            .await?;
        tracing::debug!(%table, "analyzed a grown table");
    }
    Ok(())
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
/// takes it as an array (`= ANY`), which it looks up through `column`'s index once the table
/// is past a few pages: with `IN (subquery)` and stale statistics (a table that grew since
/// its last ANALYZE) its planner took the list for a hundred rows matching hundreds each, and
/// scanned the whole table. A plan made while the table was nearly empty scans it; the
/// store's upkeep analyzes a table as it grows, which makes the planner plan again
/// ([`analyze_grown`]).
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

#[cfg(test)]
mod tests {
    use sqlx::Executor;

    /// The plan `conn`'s prepared statement `q` runs with, as one line.
    async fn plan(conn: &mut sqlx::AnyConnection) -> String {
        let rows: Vec<String> = sqlx::query_scalar("EXPLAIN EXECUTE q('[\"k7\"]')")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
        rows.join(" / ")
    }

    /// What the planner knows of `table`: its rows, and when it was last analyzed.
    async fn known(pool: &sqlx::AnyPool, table: &str) -> (i64, Option<String>) {
        sqlx::query_as(
            "SELECT CAST(c.reltuples AS BIGINT), CAST(s.last_analyze AS TEXT) \
             FROM pg_class c JOIN pg_stat_user_tables s ON s.relid = c.oid \
             WHERE c.relname = $1",
        )
        .bind(table)
        .fetch_one(pool)
        .await
        .unwrap()
    }

    /// Waits until the server counts at least `n` changes of `table` since its last analysis
    /// (a backend reports its changes once it is idle again).
    async fn counted(pool: &sqlx::AnyPool, table: &str, n: i64) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let changed: i64 = sqlx::query_scalar(
                "SELECT n_mod_since_analyze FROM pg_stat_user_tables WHERE relname = $1",
            )
            .bind(table)
            .fetch_one(pool)
            .await
            .unwrap();
            if changed >= n {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{table}: {changed} of {n}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    /// The premise and the mend of [`super::analyze_grown`], on PostgreSQL: a prepared lookup
    /// by a list of keys, planned while its table was known as nearly empty, scans the table
    /// still after it grew; once the grown table is analyzed, the planner plans it again and
    /// looks the keys up through the index.
    #[tokio::test]
    async fn a_grown_table_is_analyzed_and_lookups_planned_again() {
        let Some(each) = super::testing::postgres_only("grown_table_analyzed").await else {
            return;
        };
        let pool = each.store.pool().clone();
        for sql in [
            "CREATE TABLE grown (k TEXT PRIMARY KEY, pad TEXT NOT NULL)",
            "INSERT INTO grown VALUES ('k0', 'x')",
            // The planner knows it as the one row it holds, as a new store's tables are
            // known once their first rows came (a vacuum, an index built, an analysis).
            "ANALYZE grown",
        ] {
            pool.execute(sql).await.unwrap();
        }
        let mut conn = pool.acquire().await.unwrap();
        // The plan a prepared statement keeps after its first executions.
        conn.execute("SET plan_cache_mode = force_generic_plan")
            .await
            .unwrap();
        conn.execute(
            "PREPARE q(text) AS SELECT k FROM grown \
             WHERE k = ANY(ARRAY(SELECT jsonb_array_elements_text($1::jsonb)))",
        )
        .await
        .unwrap();
        let small = plan(&mut conn).await;
        assert!(small.contains("Seq Scan on grown"), "{small}");
        pool.execute(
            "INSERT INTO grown SELECT 'k' || i, repeat('x', 200) \
             FROM generate_series(1, 20000) AS i",
        )
        .await
        .unwrap();
        let stale = plan(&mut conn).await;
        assert!(
            stale.contains("Seq Scan on grown"),
            "kept as it grew: {stale}"
        );
        counted(&pool, "grown", 20_000).await;
        super::analyze_grown(&pool, std::time::Duration::ZERO)
            .await
            .unwrap();
        assert_eq!(known(&pool, "grown").await.0, 20_001);
        let fresh = plan(&mut conn).await;
        assert!(
            fresh.contains("Index") && fresh.contains("grown_pkey"),
            "planned again: {fresh}"
        );
        drop(conn);
        each.finish().await;
    }

    /// [`super::analyze_grown`] follows autovacuum's rule (50 rows and a tenth of the table)
    /// and leaves a table analyzed less than the given time ago.
    #[tokio::test]
    async fn a_table_is_analyzed_past_autovacuums_rule_and_not_too_often() {
        let Some(each) = super::testing::postgres_only("analyzed_not_too_often").await else {
            return;
        };
        let pool = each.store.pool().clone();
        let (zero, minute) = (
            std::time::Duration::ZERO,
            std::time::Duration::from_secs(60),
        );
        for sql in [
            "CREATE TABLE still (k INTEGER)",
            "CREATE TABLE grown (k INTEGER)",
            "INSERT INTO still SELECT i FROM generate_series(1, 10) AS i",
            "INSERT INTO grown SELECT i FROM generate_series(1, 1000) AS i",
        ] {
            pool.execute(sql).await.unwrap();
        }
        counted(&pool, "still", 10).await;
        counted(&pool, "grown", 1000).await;
        super::analyze_grown(&pool, zero).await.unwrap();
        assert_eq!(known(&pool, "grown").await.0, 1000);
        assert_eq!(known(&pool, "still").await.1, None, "ten rows are too few");
        // A tenth more, within the minute: left; past it (here, no wait asked): analyzed.
        pool.execute("INSERT INTO grown SELECT i FROM generate_series(1, 200) AS i")
            .await
            .unwrap();
        counted(&pool, "grown", 200).await;
        super::analyze_grown(&pool, minute).await.unwrap();
        assert_eq!(known(&pool, "grown").await.0, 1000, "analyzed a moment ago");
        super::analyze_grown(&pool, zero).await.unwrap();
        assert_eq!(known(&pool, "grown").await.0, 1200);
        each.finish().await;
    }

    /// On PostgreSQL the tables whose rows are updated after they are written leave room on
    /// each page (migration 0019): a settlement's write-back time and a message's send count,
    /// each set in a transaction of its own, are updated in place (a heap-only tuple: the new
    /// version on the old one's page, no index touched), also where the rows filled whole
    /// pages. Without the room, the pages are full and every such update moves the row.
    #[tokio::test]
    async fn rows_updated_after_they_are_written_stay_on_their_page() {
        let Some(each) = super::testing::postgres_only("room_to_update_in_place").await else {
            return;
        };
        let store = each.store.clone();
        let taken = super::testing::some_taken_in_and_claimed(&store, 40).await;
        let pool = store.pool().clone();
        // Enough rows for several pages of each table, the first ones filled.
        for table in ["settlements", "outbound_messages"] {
            assert!(pages(&pool, table).await >= 4, "{table}");
        }
        let mut moved = Vec::new();
        for (id, _) in &taken {
            let mut conn = pool.acquire().await.unwrap();
            let message = super::messages::required(&mut conn, id, crate::rails::bank::PACS008)
                .await
                .unwrap();
            let rows = [
                ("settlements", "id", id.to_string()),
                ("outbound_messages", "msg_id", message.msg_id.clone()),
            ];
            let mut before = Vec::new();
            for (table, column, key) in &rows {
                before.push(page_of(&pool, table, column, key).await);
            }
            // Each in a transaction of its own, as a send and a write-back are (moments
            // apart, in different groups).
            super::settlements::mark_written_back(&mut conn, id)
                .await
                .unwrap();
            super::messages::mark_sent(&mut conn, &message.msg_id)
                .await
                .unwrap();
            for ((table, column, key), before) in rows.iter().zip(before) {
                if page_of(&pool, table, column, key).await != before {
                    moved.push(format!("{table} {key}"));
                }
            }
        }
        assert!(moved.is_empty(), "moved to another page: {moved:?}");
        each.finish().await;
    }

    /// On PostgreSQL a transition is written into one index, not two (migration 0020): the
    /// primary key is `(settlement_id, id)`, it is the table's only index, and a
    /// settlement's history is read through it, in the order it was written.
    #[tokio::test]
    async fn a_transition_is_written_into_one_index() {
        let Some(each) = super::testing::postgres_only("one_index_for_transitions").await else {
            return;
        };
        let store = each.store.clone();
        let taken = super::testing::some_taken_in_and_claimed(&store, 20).await;
        let pool = store.pool().clone();
        let indexes: Vec<(String, String)> = sqlx::query_as(
            "SELECT CAST(indexname AS TEXT), indexdef FROM pg_indexes \
             WHERE tablename = 'settlement_transitions' ORDER BY indexname",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        let names: Vec<&str> = indexes.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["settlement_transitions_pkey"], "{indexes:?}");
        assert!(
            indexes[0].1.ends_with("(settlement_id, id)"),
            "{}",
            indexes[0].1
        );
        let (id, _) = &taken[7];
        let mut conn = pool.acquire().await.unwrap();
        let history = sqlx::query(
            "EXPLAIN SELECT from_state, to_state FROM settlement_transitions \
             WHERE settlement_id = $1 ORDER BY id",
        );
        let plan = super::testing::plan(&mut conn, history.bind(id.as_str())).await;
        assert!(plan.contains("settlement_transitions_pkey"), "{plan}");
        let history = super::settlements::transitions(&mut conn, id)
            .await
            .unwrap();
        assert!(history.len() >= 2, "{}", history.len());
        for pair in history.windows(2) {
            assert_eq!(pair[1].from.as_deref(), Some(pair[0].to.as_str()));
        }
        drop(conn);
        each.finish().await;
    }

    /// A row version's page (block number): its `ctid` is `(block,item)`.
    const PAGE: &str = "CAST((CAST(CAST(ctid AS TEXT) AS point))[0] AS BIGINT)";

    /// The page of the current version of `table`'s row whose `column` is `key`.
    async fn page_of(pool: &sqlx::AnyPool, table: &str, column: &str, key: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT {PAGE} FROM {table} WHERE {column} = $1"))
            .bind(key)
            .fetch_one(pool)
            .await
            .unwrap()
    }

    /// How many pages `table`'s rows are on.
    async fn pages(pool: &sqlx::AnyPool, table: &str) -> i64 {
        sqlx::query_scalar(&format!("SELECT COUNT(DISTINCT {PAGE}) FROM {table}"))
            .fetch_one(pool)
            .await
            .unwrap()
    }

    /// On PostgreSQL the message bodies are compressed with LZ4 (migration 0018): a journaled
    /// body past TOAST's threshold is stored compressed with it and read back byte for byte.
    #[tokio::test]
    async fn large_bodies_are_compressed_with_lz4_and_read_back_whole() {
        use crate::store::journal::{self, AuthenticatedBy, Channel};
        for each in super::testing::each("lz4_bodies").await {
            let store = each.store.clone();
            let postgres = store.dialect() == super::Dialect::Postgres;
            // A pacs.008-like body of 6 KB: repetitive, as XML is.
            let raw: Vec<u8> = (0..200)
                .flat_map(|i| format!("<Ustrd>line {i:04} of the remittance</Ustrd>").into_bytes())
                .collect();
            let id = journal::record(
                &store,
                Channel::BankResponse,
                Some("b"),
                Some("application/xml"),
                &raw,
                AuthenticatedBy::MutualTls,
            )
            .await
            .unwrap();
            let read: Vec<u8> = sqlx::query_scalar("SELECT raw FROM inbound_journal WHERE id = $1")
                .bind(id)
                .fetch_one(store.pool())
                .await
                .unwrap();
            assert_eq!(read, raw);
            if postgres {
                let method: Option<String> = sqlx::query_scalar(
                    "SELECT pg_column_compression(raw) FROM inbound_journal WHERE id = $1",
                )
                .bind(id)
                .fetch_one(store.pool())
                .await
                .unwrap();
                assert_eq!(method.as_deref(), Some("lz4"));
                for (table, column) in [
                    ("outbound_messages", "body"),
                    ("inbound_journal", "raw"),
                    ("status_requests", "body"),
                ] {
                    let method: String = sqlx::query_scalar(
                        "SELECT CAST(attcompression AS TEXT) FROM pg_attribute \
                         WHERE attrelid = CAST($1 AS regclass) AND attname = $2",
                    )
                    .bind(table)
                    .bind(column)
                    .fetch_one(store.pool())
                    .await
                    .unwrap();
                    assert_eq!(method, "l", "{table}.{column}");
                }
            }
            each.finish().await;
        }
    }
}
