//! Importing one statement file: hash, keep raw, read (on a blocking thread, one entry at a
//! time) and write (in batches, in one transaction) at once, then check the balances.
//!
//! The reading thread hands the writer chunks of items through a bounded channel, so memory
//! holds a few chunks whatever the file's size, and parsing and writing overlap.

use super::camt::CamtReader;
use super::swift::SwiftReader;
use super::wallet_csv::{WalletCsvConfig, WalletCsvReader};
use super::{detect, BalanceKind, Detected, Format, Header, Item, Line, ReadError, Reader};
use crate::store::{now_ms, Dialect, Store, StoreError};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::collections::BTreeMap;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::mpsc;

crate::text_enum! {
    /// How a statement arrived (`statements.source`).
    pub enum Source {
        /// `corridor statements import FILE`.
        Cli => "cli",
        /// `POST /v1/statements`.
        Upload => "upload",
        /// The watched drop folder.
        Drop => "drop",
    }
}

/// Called now and then during an import with (entries written, bytes read, file size).
pub type Progress = Arc<dyn Fn(u64, u64, u64) + Send + Sync>;

/// How to import.
#[derive(Clone)]
pub struct ImportOptions {
    pub source: Source,
    /// The file's name as it was given (upload, drop) or its path (cli).
    pub file_name: Option<String>,
    /// Where raw files are kept (`<dir>/<sha256>`); `None` keeps none (benchmarks).
    pub raw_dir: Option<PathBuf>,
    /// How to read a wallet operator's CSV.
    pub wallet_csv: WalletCsvConfig,
    /// Largest single entry (XML), in bytes.
    pub entry_bytes_max: usize,
    pub progress: Option<Progress>,
}

impl ImportOptions {
    pub fn new(source: Source) -> Self {
        ImportOptions {
            source,
            file_name: None,
            raw_dir: None,
            wallet_csv: WalletCsvConfig::default(),
            entry_bytes_max: 1024 * 1024,
            progress: None,
        }
    }
}

/// What an import did: what `corridor statements import --json` prints and the upload
/// endpoint answers.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ImportReport {
    /// The statement's id (the earlier one, for a duplicate).
    pub statement: i64,
    pub format: String,
    pub account: String,
    pub statement_id: String,
    pub sequence: Option<String>,
    /// Entries in the statement.
    pub entries: i64,
    /// This file's content or this statement was imported before: nothing changed.
    pub duplicate: bool,
    /// `content` (same SHA-256) or `statement` (same account, statement id and sequence).
    pub duplicate_of: Option<String>,
    /// Opening + credits - debits = closing, per currency; `None` when the file states no
    /// balances.
    pub balance_ok: Option<bool>,
    pub balance_detail: Option<String>,
    pub currency: Option<String>,
    pub opening_minor: Option<i64>,
    pub closing_minor: Option<i64>,
    pub content_sha256: String,
    pub raw_path: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// The file cannot be read as a statement: nothing was imported; the file is kept and the
    /// refusal recorded (`statement_refusals`).
    #[error("{file}: {error} (nothing imported; refusal {refusal})")]
    Malformed {
        file: String,
        format: Option<String>,
        error: ReadError,
        refusal: i64,
        raw_path: Option<String>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        ImportError::Store(StoreError::Database(e))
    }
}

/// Imports the statement file at `path`. See the module documentation.
pub async fn import(
    store: &Store,
    path: &Path,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let io = |source| ImportError::Io {
        path: path.display().to_string(),
        source,
    };
    let owned = path.to_path_buf();
    let (sha, size) = tokio::task::spawn_blocking(move || hash_file(&owned))
        .await
        .map_err(|e| io(std::io::Error::other(e)))?
        .map_err(io)?;
    if let Some(report) = find_content(store, &sha).await? {
        return Ok(duplicate(report, "content"));
    }
    let raw_path = match &options.raw_dir {
        Some(dir) => Some(keep_raw(path, dir, &sha).await.map_err(io)?),
        None => None,
    };
    let (sender, receiver) = mpsc::channel(4);
    let reading = spawn_reader(path.to_path_buf(), options.clone(), sender);
    let file = Written {
        sha: &sha,
        size,
        raw_path: raw_path.as_deref(),
    };
    let written = write(store, receiver, options, &file).await;
    // The reader stops by itself once the writer has dropped the channel.
    let _ = reading.await;
    match written {
        Err(Failure::Read(format, error)) => {
            let refusal = refuse(store, options, &file, &error).await?;
            Err(ImportError::Malformed {
                file: options
                    .file_name
                    .clone()
                    .unwrap_or_else(|| path.display().to_string()),
                format: format.map(|f| f.as_str().to_string()),
                error,
                refusal,
                raw_path,
            })
        }
        Err(Failure::Store(e)) => Err(e.into()),
        Ok(Outcome::Duplicate(report)) => Ok(duplicate(*report, "statement")),
        Ok(Outcome::Imported(id)) => {
            let report = get(store, id).await?;
            report.ok_or_else(|| StoreError::Corrupt(format!("statement {id} not found")).into())
        }
    }
}

fn duplicate(mut report: ImportReport, of: &str) -> ImportReport {
    report.duplicate = true;
    report.duplicate_of = Some(of.to_string());
    report
}

fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// Copies the file to `<dir>/<sha256>` (once: the name is its content), written under a
/// temporary name and renamed, so that a kept file is always whole.
async fn keep_raw(path: &Path, dir: &Path, sha: &str) -> std::io::Result<String> {
    let target = dir.join(sha);
    if tokio::fs::try_exists(&target).await? {
        return Ok(target.display().to_string());
    }
    tokio::fs::create_dir_all(dir).await?;
    let partial = dir.join(format!("{sha}.part"));
    tokio::fs::copy(path, &partial).await?;
    tokio::fs::rename(&partial, &target).await?;
    Ok(target.display().to_string())
}

/// What the reading thread sends.
enum Chunk {
    Items(Vec<Item>, Option<Format>),
    Failed(ReadError, Option<Format>),
    End,
}

const CHUNK_ITEMS: usize = 512;

fn open_reader(path: &Path, options: &ImportOptions) -> Result<Box<dyn Reader>, ReadError> {
    let open_error = |e: std::io::Error| ReadError {
        at: "file".into(),
        message: e.to_string(),
    };
    let mut file = std::fs::File::open(path).map_err(open_error)?;
    let mut head = vec![0u8; 512];
    let n = read_up_to(&mut file, &mut head).map_err(open_error)?;
    head.truncate(n);
    let input =
        BufReader::with_capacity(256 * 1024, std::io::Cursor::new(head.clone()).chain(file));
    Ok(match detect(&head) {
        // A kept file holds each entry's XML: the rows say where instead of copying it.
        Detected::Camt => Box::new(CamtReader::new(
            input,
            options.entry_bytes_max,
            options.raw_dir.is_none(),
        )),
        Detected::Swift => Box::new(SwiftReader::new(input)),
        Detected::Csv => Box::new(WalletCsvReader::new(input, options.wallet_csv.clone())),
    })
}

fn read_up_to(file: &mut std::fs::File, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        let n = file.read(&mut buf[filled..])?;
        if n == 0 {
            break;
        }
        filled += n;
    }
    Ok(filled)
}

fn spawn_reader(
    path: PathBuf,
    options: ImportOptions,
    sender: mpsc::Sender<Chunk>,
) -> tokio::task::JoinHandle<()> {
    tokio::task::spawn_blocking(move || {
        let mut reader = match open_reader(&path, &options) {
            Ok(r) => r,
            Err(e) => {
                let _ = sender.blocking_send(Chunk::Failed(e, None));
                return;
            }
        };
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let mut items = Vec::with_capacity(CHUNK_ITEMS);
        let mut lines = 0u64;
        loop {
            match reader.next_item() {
                Ok(Some(item)) => {
                    lines += u64::from(matches!(item, Item::Line(_)));
                    items.push(item);
                    if items.len() < CHUNK_ITEMS {
                        continue;
                    }
                    let full = std::mem::replace(&mut items, Vec::with_capacity(CHUNK_ITEMS));
                    if sender
                        .blocking_send(Chunk::Items(full, reader.format()))
                        .is_err()
                    {
                        return;
                    }
                    if let Some(progress) = &options.progress {
                        progress(lines, reader.bytes_read(), size);
                    }
                }
                Ok(None) => {
                    let _ = sender.blocking_send(Chunk::Items(items, reader.format()));
                    let _ = sender.blocking_send(Chunk::End);
                    if let Some(progress) = &options.progress {
                        progress(lines, size, size);
                    }
                    return;
                }
                Err(e) => {
                    let _ = sender.blocking_send(Chunk::Failed(e, reader.format()));
                    return;
                }
            }
        }
    })
}

/// The file being imported.
struct Written<'a> {
    sha: &'a str,
    size: u64,
    raw_path: Option<&'a str>,
}

enum Outcome {
    Imported(i64),
    Duplicate(Box<ImportReport>),
}

enum Failure {
    Read(Option<Format>, ReadError),
    Store(StoreError),
}

impl From<sqlx::Error> for Failure {
    fn from(e: sqlx::Error) -> Self {
        Failure::Store(StoreError::Database(e))
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::Store(e)
    }
}

/// Running totals for the balance check, per currency.
#[derive(Default)]
struct Totals {
    opening: BTreeMap<String, i64>,
    closing: BTreeMap<String, i64>,
    /// Booked credits minus booked debits.
    net: BTreeMap<String, i64>,
    entries: i64,
}

impl Totals {
    fn balance(&mut self, b: &super::Balance) {
        let ccy = b.currency.alpha.to_string();
        match b.kind {
            // The first opening stated counts (camt may give OPBD and PRCD); the last closing.
            BalanceKind::Opening => {
                self.opening.entry(ccy).or_insert(b.signed_minor);
            }
            BalanceKind::Closing => {
                self.closing.insert(ccy, b.signed_minor);
            }
        }
    }

    fn line(&mut self, line: &Line) {
        self.entries += 1;
        if line.status == Some(super::EntryStatus::Booked) {
            let signed = if line.credit {
                line.amount_minor
            } else {
                -line.amount_minor
            };
            // Looked up before inserting: the currency is copied once, not once per entry.
            match self.net.get_mut(&line.currency) {
                Some(net) => *net = net.saturating_add(signed),
                None => {
                    self.net.insert(line.currency.clone(), signed);
                }
            }
        }
    }

    /// `(balance_ok, detail)`: `None` when the file states no balances.
    fn check(&self) -> (Option<bool>, Option<String>) {
        if self.opening.is_empty() && self.closing.is_empty() {
            return (None, None);
        }
        let mut currencies: Vec<&String> = self
            .opening
            .keys()
            .chain(self.closing.keys())
            .chain(self.net.keys())
            .collect();
        currencies.sort();
        currencies.dedup();
        let mut problems = Vec::new();
        for ccy in currencies {
            let net = self.net.get(ccy).copied().unwrap_or(0);
            match (self.opening.get(ccy), self.closing.get(ccy)) {
                (Some(open), Some(close)) if open.saturating_add(net) == *close => {}
                (Some(open), Some(close)) => problems.push(format!(
                    "{ccy}: opening {open} + booked entries {net} = {} but closing is {close} (minor units)",
                    open.saturating_add(net)
                )),
                (open, close) => problems.push(format!(
                    "{ccy}: booked entries {net} with {} (minor units)",
                    match (open, close) {
                        (None, None) => "no balances".to_string(),
                        (None, Some(_)) => "no opening balance".to_string(),
                        _ => "no closing balance".to_string(),
                    }
                )),
            }
        }
        if problems.is_empty() {
            (Some(true), None)
        } else {
            (Some(false), Some(problems.join("; ")))
        }
    }
}

async fn write(
    store: &Store,
    mut receiver: mpsc::Receiver<Chunk>,
    options: &ImportOptions,
    file: &Written<'_>,
) -> Result<Outcome, Failure> {
    let mut tx = store.begin().await?;
    let mut statement: Option<i64> = None;
    let mut totals = Totals::default();
    let mut batch: Vec<Line> = Vec::with_capacity(ROWS_PER_INSERT);
    let mut format = None;
    loop {
        let Some(chunk) = receiver.recv().await else {
            let e = ReadError {
                at: "file".into(),
                message: "the reader stopped before the end of the file".into(),
            };
            return Err(Failure::Read(format, e));
        };
        let items = match chunk {
            Chunk::Items(items, f) => {
                format = f.or(format);
                items
            }
            Chunk::Failed(e, f) => return Err(Failure::Read(f.or(format), e)),
            Chunk::End => break,
        };
        for item in items {
            match item {
                Item::Header(h) => {
                    let Some(fmt) = format else {
                        return Err(Failure::Read(None, no_format()));
                    };
                    if let Some(existing) = find_statement(&mut tx, &h).await? {
                        return Ok(Outcome::Duplicate(Box::new(existing)));
                    }
                    statement = Some(insert_statement(&mut tx, &h, fmt, options, file).await?);
                }
                Item::Balance(b) => totals.balance(&b),
                Item::Line(line) => {
                    let Some(id) = statement else {
                        return Err(Failure::Read(format, before_header(&line)));
                    };
                    totals.line(&line);
                    batch.push(line);
                    if batch.len() == ROWS_PER_INSERT {
                        insert_lines(&mut tx, store.dialect(), id, &mut batch).await?;
                    }
                }
            }
        }
    }
    let Some(id) = statement else {
        let e = ReadError {
            at: "file".into(),
            message: "no statement in the file (no report, no :20:, or no rows)".into(),
        };
        return Err(Failure::Read(format, e));
    };
    insert_lines(&mut tx, store.dialect(), id, &mut batch).await?;
    finish_statement(&mut tx, id, &totals).await?;
    tx.commit().await?;
    Ok(Outcome::Imported(id))
}

fn no_format() -> ReadError {
    ReadError {
        at: "file".into(),
        message: "the format could not be told".into(),
    }
}

fn before_header(line: &Line) -> ReadError {
    ReadError {
        at: format!("entry at {}", line.line),
        message: "an entry before the statement's header".into(),
    }
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

async fn find_statement(
    tx: &mut crate::store::Tx,
    h: &Header,
) -> Result<Option<ImportReport>, StoreError> {
    let sql = format!("{SELECT_REPORT} WHERE account = $1 AND statement_id = $2 AND sequence = $3");
    let row = sqlx::query(&sql)
        .bind(&h.account)
        .bind(&h.statement_id)
        .bind(h.sequence.as_deref().unwrap_or(""))
        .fetch_optional(&mut **tx)
        .await?;
    row.map(|r| report_of(&r)).transpose()
}

async fn insert_statement(
    tx: &mut crate::store::Tx,
    h: &Header,
    format: Format,
    options: &ImportOptions,
    file: &Written<'_>,
) -> Result<i64, StoreError> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO statements (format, account, statement_id, sequence, entries, \
         content_sha256, source, file_name, raw_path, size_bytes, created_at, created_at_ms) \
         VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(format.as_str())
    .bind(&h.account)
    .bind(&h.statement_id)
    .bind(h.sequence.as_deref().unwrap_or(""))
    .bind(file.sha)
    .bind(options.source.as_str())
    .bind(options.file_name.as_deref())
    .bind(file.raw_path)
    .bind(i64::try_from(file.size).unwrap_or(i64::MAX))
    .bind(now_rfc3339())
    .bind(now_ms())
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

async fn finish_statement(
    tx: &mut crate::store::Tx,
    id: i64,
    totals: &Totals,
) -> Result<(), StoreError> {
    let (ok, detail) = totals.check();
    let currency = totals
        .opening
        .keys()
        .chain(totals.closing.keys())
        .chain(totals.net.keys())
        .next()
        .cloned();
    let opening = currency
        .as_ref()
        .and_then(|c| totals.opening.get(c).copied());
    let closing = currency
        .as_ref()
        .and_then(|c| totals.closing.get(c).copied());
    sqlx::query(
        "UPDATE statements SET entries = $1, balance_ok = $2, balance_detail = $3, \
         currency = $4, opening_minor = $5, closing_minor = $6 WHERE id = $7",
    )
    .bind(totals.entries)
    .bind(ok)
    .bind(detail)
    .bind(currency)
    .bind(opening)
    .bind(closing)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Rows per multi-row INSERT: 25 parameters each, well under SQLite's 32,766 and
/// PostgreSQL's 65,535.
const ROWS_PER_INSERT: usize = 400;
const ENTRY_COLUMNS: &str = "statement, line, booking_date, value_date, amount_minor, currency, \
    direction, status, reversal, uetr, end_to_end_id, instr_id, tx_id, acct_svcr_ref, msg_id, \
    msisdn, rrn, stan, return_reason, reference, charges_minor, batch_refs, evidence, \
    evidence_at, evidence_bytes";
const ENTRY_COLUMNS_N: usize = 25;

/// The INSERT for `rows` entries. SQLite gets anonymous `?` parameters: it keeps `$N` ones as
/// names and finds each by a linear search, which made a 9,200-parameter statement cost
/// 0.3 s to bind (1,300 entries/s); PostgreSQL needs `$N`.
fn insert_sql(rows: usize, dialect: Dialect) -> String {
    let mut sql = format!("INSERT INTO statement_entries ({ENTRY_COLUMNS}) VALUES ");
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..ENTRY_COLUMNS_N {
            if c > 0 {
                sql.push_str(", ");
            }
            match dialect {
                Dialect::Sqlite => sql.push('?'),
                Dialect::Postgres => {
                    sql.push('$');
                    sql.push_str(&(r * ENTRY_COLUMNS_N + c + 1).to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// Writes `lines` and empties it (the values are moved into the statement, not copied).
async fn insert_lines(
    tx: &mut crate::store::Tx,
    dialect: Dialect,
    statement: i64,
    lines: &mut Vec<Line>,
) -> Result<(), StoreError> {
    static FULL_SQLITE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    static FULL_POSTGRES: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if lines.is_empty() {
        return Ok(());
    }
    let partial;
    let sql = match (lines.len() == ROWS_PER_INSERT, dialect) {
        (true, Dialect::Sqlite) => FULL_SQLITE.get_or_init(|| insert_sql(ROWS_PER_INSERT, dialect)),
        (true, Dialect::Postgres) => {
            FULL_POSTGRES.get_or_init(|| insert_sql(ROWS_PER_INSERT, dialect))
        }
        (false, _) => {
            partial = insert_sql(lines.len(), dialect);
            &partial
        }
    };
    let mut q = sqlx::query(sql);
    for l in lines.drain(..) {
        let direction = l.direction();
        q = q
            .bind(statement)
            .bind(l.line)
            .bind(l.booking_date)
            .bind(l.value_date)
            .bind(l.amount_minor)
            .bind(l.currency)
            .bind(direction)
            .bind(l.status.unwrap_or(super::EntryStatus::Booked).as_str())
            .bind(l.reversal)
            .bind(l.uetr)
            .bind(l.end_to_end_id)
            .bind(l.instr_id)
            .bind(l.tx_id)
            .bind(l.acct_svcr_ref)
            .bind(l.msg_id)
            .bind(l.msisdn)
            .bind(l.rrn)
            .bind(l.stan)
            .bind(l.return_reason)
            .bind(l.reference)
            .bind(l.charges_minor)
            .bind(l.batch_refs)
            .bind(l.evidence)
            .bind(l.evidence_span.map(|(at, _)| at))
            .bind(l.evidence_span.map(|(_, bytes)| bytes));
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

/// Records a refused file (once per content) and returns the refusal's id.
async fn refuse(
    store: &Store,
    options: &ImportOptions,
    file: &Written<'_>,
    error: &ReadError,
) -> Result<i64, StoreError> {
    let mut conn = store.pool().acquire().await?;
    sqlx::query(
        "INSERT INTO statement_refusals (content_sha256, source, file_name, raw_path, \
         size_bytes, error, created_at, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
         ON CONFLICT (content_sha256) DO NOTHING",
    )
    .bind(file.sha)
    .bind(options.source.as_str())
    .bind(options.file_name.as_deref())
    .bind(file.raw_path)
    .bind(i64::try_from(file.size).unwrap_or(i64::MAX))
    .bind(error.to_string())
    .bind(now_rfc3339())
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    let id: i64 = sqlx::query_scalar("SELECT id FROM statement_refusals WHERE content_sha256 = $1")
        .bind(file.sha)
        .fetch_one(&mut *conn)
        .await?;
    Ok(id)
}

/// Booleans are read as numbers: sqlx's Any driver decodes no SQLite BOOLEAN column, and
/// PostgreSQL casts no boolean to BIGINT directly.
const SELECT_REPORT: &str = "SELECT id, format, account, statement_id, sequence, entries, \
    CAST(CASE WHEN balance_ok THEN 1 WHEN NOT balance_ok THEN 0 END AS BIGINT) AS balance_ok, balance_detail, currency, opening_minor, closing_minor, content_sha256, raw_path \
    FROM statements";

fn report_of(r: &sqlx::any::AnyRow) -> Result<ImportReport, StoreError> {
    let sequence: String = r.try_get("sequence")?;
    Ok(ImportReport {
        statement: r.try_get("id")?,
        format: r.try_get("format")?,
        account: r.try_get("account")?,
        statement_id: r.try_get("statement_id")?,
        sequence: (!sequence.is_empty()).then_some(sequence),
        entries: r.try_get("entries")?,
        duplicate: false,
        duplicate_of: None,
        balance_ok: r.try_get::<Option<i64>, _>("balance_ok")?.map(|b| b != 0),
        balance_detail: r.try_get("balance_detail")?,
        currency: r.try_get("currency")?,
        opening_minor: r.try_get("opening_minor")?,
        closing_minor: r.try_get("closing_minor")?,
        content_sha256: r.try_get("content_sha256")?,
        raw_path: r.try_get("raw_path")?,
    })
}

async fn find_content(store: &Store, sha: &str) -> Result<Option<ImportReport>, StoreError> {
    let sql = format!("{SELECT_REPORT} WHERE content_sha256 = $1");
    let row = sqlx::query(&sql)
        .bind(sha)
        .fetch_optional(store.pool())
        .await?;
    row.map(|r| report_of(&r)).transpose()
}

/// One stored statement, as imported.
pub async fn get(store: &Store, id: i64) -> Result<Option<ImportReport>, StoreError> {
    let sql = format!("{SELECT_REPORT} WHERE id = $1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(store.pool())
        .await?;
    row.map(|r| report_of(&r)).transpose()
}

/// Stored statements, newest first, with ids below `before` when given.
pub async fn list(
    store: &Store,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<ImportReport>, StoreError> {
    let sql = format!("{SELECT_REPORT} WHERE id < $1 ORDER BY id DESC LIMIT $2");
    let rows = sqlx::query(&sql)
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit)
        .fetch_all(store.pool())
        .await?;
    rows.iter().map(report_of).collect()
}

/// A stored entry.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct StoredEntry {
    pub id: i64,
    pub line: i64,
    pub booking_date: Option<String>,
    pub value_date: Option<String>,
    pub amount_minor: i64,
    pub currency: String,
    pub direction: String,
    pub status: String,
    pub reversal: bool,
    pub uetr: Option<String>,
    pub end_to_end_id: Option<String>,
    pub instr_id: Option<String>,
    pub tx_id: Option<String>,
    pub acct_svcr_ref: Option<String>,
    pub msg_id: Option<String>,
    pub msisdn: Option<String>,
    pub rrn: Option<String>,
    pub stan: Option<String>,
    pub return_reason: Option<String>,
    pub reference: Option<String>,
    pub charges_minor: Option<i64>,
    pub batch_refs: Option<String>,
    pub evidence: String,
}

/// A page of a statement's entries in file order: those after entry position `after_line`.
/// An entry whose evidence is a span of the kept file is read back from it.
pub async fn entries(
    store: &Store,
    statement: i64,
    after_line: i64,
    limit: i64,
) -> Result<Vec<StoredEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, line, booking_date, value_date, amount_minor, currency, direction, status, \
         CAST(CASE WHEN reversal THEN 1 ELSE 0 END AS BIGINT) AS reversal_n, uetr, end_to_end_id, instr_id, tx_id, \
         acct_svcr_ref, msg_id, msisdn, rrn, stan, return_reason, reference, charges_minor, \
         batch_refs, evidence, evidence_at, evidence_bytes FROM statement_entries \
         WHERE statement = $1 AND line > $2 ORDER BY line, id LIMIT $3",
    )
    .bind(statement)
    .bind(after_line)
    .bind(limit)
    .fetch_all(store.pool())
    .await?;
    let mut spans = Vec::new();
    let mut entries = rows
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let at: Option<i64> = r.try_get("evidence_at")?;
            let bytes: Option<i64> = r.try_get("evidence_bytes")?;
            if let (Some(at), Some(bytes)) = (at, bytes) {
                spans.push((i, at, bytes));
            }
            stored_entry(r)
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    if !spans.is_empty() {
        let raw_path: Option<String> =
            sqlx::query_scalar("SELECT raw_path FROM statements WHERE id = $1")
                .bind(statement)
                .fetch_optional(store.pool())
                .await?
                .flatten();
        let wanted = spans.iter().map(|&(_, at, bytes)| (at, bytes)).collect();
        let texts = tokio::task::spawn_blocking(move || read_spans(raw_path.as_deref(), wanted))
            .await
            .map_err(|e| StoreError::Corrupt(format!("reading evidence: {e}")))?;
        for ((i, _, _), text) in spans.into_iter().zip(texts) {
            entries[i].evidence = text;
        }
    }
    Ok(entries)
}

fn stored_entry(r: &sqlx::any::AnyRow) -> Result<StoredEntry, sqlx::Error> {
    Ok(StoredEntry {
        id: r.try_get("id")?,
        line: r.try_get("line")?,
        booking_date: r.try_get("booking_date")?,
        value_date: r.try_get("value_date")?,
        amount_minor: r.try_get("amount_minor")?,
        currency: r.try_get("currency")?,
        direction: r.try_get("direction")?,
        status: r.try_get("status")?,
        reversal: r.try_get::<i64, _>("reversal_n")? != 0,
        uetr: r.try_get("uetr")?,
        end_to_end_id: r.try_get("end_to_end_id")?,
        instr_id: r.try_get("instr_id")?,
        tx_id: r.try_get("tx_id")?,
        acct_svcr_ref: r.try_get("acct_svcr_ref")?,
        msg_id: r.try_get("msg_id")?,
        msisdn: r.try_get("msisdn")?,
        rrn: r.try_get("rrn")?,
        stan: r.try_get("stan")?,
        return_reason: r.try_get("return_reason")?,
        reference: r.try_get("reference")?,
        charges_minor: r.try_get("charges_minor")?,
        batch_refs: r.try_get("batch_refs")?,
        evidence: r.try_get("evidence")?,
    })
}

/// Each `(offset, length)` of the kept file at `path`, as text. What cannot be read (the file
/// is gone, or shorter than the span) is said in the evidence's place: a page of entries
/// still shows, and says which file to look for.
fn read_spans(path: Option<&str>, spans: Vec<(i64, i64)>) -> Vec<String> {
    use std::io::{Seek, SeekFrom};
    let unavailable = |why: String| format!("(evidence unavailable: {why})");
    let Some(path) = path else {
        let why = unavailable("the statement's file was not kept".into());
        return spans.iter().map(|_| why.clone()).collect();
    };
    let mut file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => {
            let why = unavailable(format!("{path}: {e}"));
            return spans.iter().map(|_| why.clone()).collect();
        }
    };
    spans
        .into_iter()
        .map(|(at, bytes)| {
            let mut buf = vec![0u8; usize::try_from(bytes).unwrap_or(0)];
            let read = file
                .seek(SeekFrom::Start(u64::try_from(at).unwrap_or(0)))
                .and_then(|_| file.read_exact(&mut buf));
            match read {
                Ok(()) => String::from_utf8(buf)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
                Err(e) => unavailable(format!("{path} bytes {at}+{bytes}: {e}")),
            }
        })
        .collect()
}
