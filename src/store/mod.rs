//! The store: one schema over SQLite (embedded default) and PostgreSQL (several instances),
//! through sqlx's `Any` driver so that every query is written once (DESIGN.md decision 4).
//!
//! Queries use `$1, $2, …` placeholders in order of first use, which both dialects read.
//! The few statements that must differ (row claiming) ask [`Store::dialect`]; the multi-row
//! statements of [`merged`] are SQLite's alone, run only by its group writer (PostgreSQL has
//! none, and writes each caller's rows with the statements both dialects share).
//!
//! SQLite runs in WAL mode with `synchronous=FULL`, so an acknowledged settlement survives a
//! power loss, and writes through a single connection, so that writers never race for the
//! lock (a few read-only connections serve the hot paths' reads, see [`Store::reader`]);
//! throughput comes from putting many steps in one transaction, not from weaker syncs.

pub mod group;
pub mod journal;
pub mod merged;
pub mod messages;
pub mod outbox;
pub mod settlements;
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
    dialect: Dialect,
    group: group::GroupWriter,
}

impl Store {
    /// Opens (creating if needed) the database at `url` and brings its schema up to date.
    pub async fn connect(url: &str, connections_max: u32) -> Result<Store, StoreError> {
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
                AnyPoolOptions::new()
                    .max_connections(1)
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // temp_store: the savepoints of a group commit journal their
                            // pages in memory, not in temporary files (they only serve a
                            // rollback inside the transaction; durability is the WAL's).
                            // cache_size (32 MiB) and wal_autocheckpoint (4,000 pages): the
                            // hot pages (outbox, indexes) stay cached and are checkpointed
                            // once per several groups instead of being read and written
                            // again after each.
                            conn.execute(
                                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; \
                                 PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000; \
                                 PRAGMA temp_store=MEMORY; PRAGMA cache_size=-32768; \
                                 PRAGMA wal_autocheckpoint=4000;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(AnyConnectOptions::from_str(&url)?)
                    .await?
            }
            Dialect::Postgres => {
                AnyPoolOptions::new()
                    .max_connections(connections_max.max(2))
                    .acquire_timeout(Duration::from_secs(30))
                    .connect(url)
                    .await?
            }
        };
        match dialect {
            Dialect::Sqlite => SQLITE_MIGRATIONS.run(&pool).await?,
            Dialect::Postgres => POSTGRES_MIGRATIONS.run(&pool).await?,
        }
        // SQLite: one writer task groups every caller's writes on its single connection.
        // PostgreSQL: each caller commits on a pooled connection (see `group::GroupWriter`).
        let writers = match dialect {
            Dialect::Sqlite => 1,
            Dialect::Postgres => 0,
        };
        let group = group::GroupWriter::start(pool.clone(), writers);
        let reader = match dialect {
            Dialect::Sqlite => sqlite_readers(url).await?.unwrap_or_else(|| pool.clone()),
            Dialect::Postgres => pool.clone(),
        };
        Ok(Store {
            pool,
            reader,
            dialect,
            group,
        })
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

/// Read connections a SQLite reader may hold at once: a job's reads are short, and more than
/// the cores only adds threads (each sqlx SQLite connection runs on a thread of its own).
const SQLITE_READERS_MAX: u32 = 2;

/// A pool of read-only connections to the SQLite file at `url` (opened after the writer set WAL
/// mode and migrated the schema); none for an in-memory database.
async fn sqlite_readers(url: &str) -> Result<Option<AnyPool>, StoreError> {
    if url.contains(":memory:") || url.contains("mode=memory") {
        return Ok(None);
    }
    let url = sqlite_url_with_create(url)?;
    let pool = AnyPoolOptions::new()
        .max_connections(SQLITE_READERS_MAX)
        .acquire_timeout(Duration::from_secs(30))
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
