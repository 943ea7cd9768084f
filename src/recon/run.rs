//! One reconciliation run: the sources read set-wise (a handful of queries, never one per
//! settlement), the engine's plan, and the plan written in one transaction.

use super::engine::{
    self, Answer, Candidate, Entry, Inputs, PlannedExpectation, PlannedMatch, Unbalanced,
};
use super::text::{Interner, Text};
use super::{Action, ReconError};
use crate::config::Config;
use crate::domain::SettlementId;
use crate::domain::SettlementState;
use crate::store::{now_ms, settlements, Dialect, Store, StoreError, Tx};
use futures::TryStreamExt;
use serde::Serialize;
use sqlx::{AnyConnection, Row};
use std::collections::{BTreeMap, HashMap, HashSet};

/// What a run decided (and, unless dry, wrote).
#[derive(Debug, Serialize)]
pub struct Report {
    /// The run's id; `None` for a dry run.
    pub run: Option<i64>,
    pub dry_run: bool,
    pub as_of_ms: i64,
    /// Which settlements the run read ([`Scope`]).
    pub scope: Scope,
    /// Where the time went: reading the sources, matching (the engine), writing the plan.
    pub read_ms: u64,
    pub match_ms: u64,
    pub write_ms: u64,
    /// Time a periodic run paused between slices, leaving the database to live traffic.
    pub paused_ms: u64,
    /// Settlements read (every dispatched one, or the open ones: see `scope`).
    pub settlements: usize,
    pub entries: usize,
    pub matches: usize,
    pub statement_entries_matched: usize,
    pub expectations: usize,
    pub breaks_opened: usize,
    pub breaks_by_kind: BTreeMap<String, usize>,
    /// The breaks this run opens (or would open), in full.
    pub breaks: Vec<engine::PlannedBreak>,
    /// Settlements a return on the statement moves to `returned` (or would).
    pub returns: Vec<engine::PlannedReturn>,
    /// Settled settlements the statement shows returned, corrected by this run (each once).
    pub corrections: usize,
}

/// What a run is asked: as of when, by whom, whether to write.
struct Ask<'a> {
    store: &'a Store,
    config: &'a Config,
    as_of_ms: i64,
    dry_run: bool,
    actor: &'a str,
    /// [`calendar_of`] the configuration.
    calendar: String,
    /// Settlements per slice of a piecewise run ([`SETTLEMENTS_PER_SLICE`]).
    slice: usize,
    /// The most of its time the run spends working, in percent: a piecewise run pauses
    /// after each slice for the rest ([`Pace`]). 100 for a run asked for.
    busy_percent: u32,
}

/// Runs reconciliation as of `as_of_ms`; `dry_run` plans and writes nothing.
///
/// With statement entries of ours to reconcile, the run is whole: an entry may join any
/// settlement, so every settlement is read; the entries are planned at once, then the
/// expectations a slice at a time, each slice written before the next is planned, all in
/// one transaction. Without, each settlement's decisions are its own and the run is
/// piecewise ([`piecewise`]): only the settlements whose decisions can still change
/// ([`Scope`]), read, planned and committed a slice at a time.
pub async fn run(
    store: &Store,
    config: &Config,
    as_of_ms: i64,
    dry_run: bool,
    actor: &str,
) -> Result<Report, ReconError> {
    run_paced(store, config, as_of_ms, dry_run, actor, 100).await
}

/// [`run`], working at most `busy_percent` of its time (a periodic run, see [`Pace`]).
async fn run_paced(
    store: &Store,
    config: &Config,
    as_of_ms: i64,
    dry_run: bool,
    actor: &str,
    busy_percent: u32,
) -> Result<Report, ReconError> {
    let ask = Ask {
        store,
        config,
        as_of_ms,
        dry_run,
        actor,
        calendar: calendar_of(config),
        slice: SETTLEMENTS_PER_SLICE,
        busy_percent,
    };
    run_asked(&ask).await
}

async fn run_asked(ask: &Ask<'_>) -> Result<Report, ReconError> {
    let (store, config) = (ask.store, ask.config);
    let started = std::time::Instant::now();
    // On a SQLite file the run reads on a read-only connection, closed afterwards. The pool's
    // one writable connection is the group writer's: holding it for the seconds a large read
    // takes stalled every write (at 1,000 settlements/s, ack p99 went from 8 ms to 574 ms
    // when a periodic run fell due), and the run's larger page cache stayed with it (a bigger
    // cache makes each of the writer's commits scan more). (`reader` is the one pool on
    // PostgreSQL and for an in-memory SQLite.)
    let apart = store.reads_apart();
    let mut conn = store.reader().acquire().await.map_err(StoreError::from)?;
    let read = read_start(&mut conn, config, &ask.calendar, apart).await;
    // Given back before planning and writing: on an in-memory SQLite it is the pool's one
    // connection, which writing needs; on a file its cache goes with it (the pool opens
    // another connection when it needs one).
    if apart {
        let _ = conn.close().await;
    } else {
        drop(conn);
    }
    match read? {
        Start::Whole(inputs) => whole(ask, &inputs, started.elapsed()).await,
        Start::Piecewise { scope, entries } => piecewise(ask, scope, entries, started).await,
    }
}

/// How a run goes on once the statement entries are read.
enum Start {
    /// Entries of ours wait: every source, read.
    Whole(Inputs),
    /// None does: the scope to read, and how many entries were read (none of ours).
    Piecewise { scope: Scope, entries: usize },
}

/// Reads the statement entries, and everything else when one of them is ours.
async fn read_start(
    conn: &mut AnyConnection,
    config: &Config,
    calendar: &str,
    apart: bool,
) -> Result<Start, StoreError> {
    if apart {
        // A whole run walks every settlement, message and entry and their indexes; with
        // SQLite's default 2 MiB page cache it re-reads the same pages from the OS over and
        // over. 64 MiB, as the statement import asks, bounds what this connection may cache.
        sqlx::query("PRAGMA cache_size = -65536")
            .execute(&mut *conn)
            .await?;
    }
    let entries = entries(conn).await?;
    if entries.iter().any(|e| engine::ours(&config.recon, e)) {
        return Ok(Start::Whole(read_whole(conn, entries).await?));
    }
    Ok(Start::Piecewise {
        scope: scope_of(conn, calendar).await?,
        entries: entries.len(),
    })
}

/// A whole run: `inputs` holds every source; planned and written in one transaction.
async fn whole(
    ask: &Ask<'_>,
    inputs: &Inputs,
    read: std::time::Duration,
) -> Result<Report, ReconError> {
    let mut clock = Split {
        reading: read,
        ..Default::default()
    };
    let mut staged =
        clock.matching(|| engine::Staged::new(inputs, &ask.config.recon, ask.as_of_ms));
    let mut writer = match ask.dry_run {
        true => None,
        false => Some(clock.writing_async(Writer::begin(ask)).await?),
    };
    let mut counted = Counted::default();
    loop {
        let (matches, expectations) = staged.take();
        counted.add(&matches, &expectations);
        if let Some(w) = writer.as_mut() {
            clock.writing_async(w.rows(&matches, &expectations)).await?;
        }
        drop((matches, expectations));
        if !clock.matching(|| staged.expectations_next(CANDIDATES_PER_STEP)) {
            break;
        }
    }
    let plan = clock.matching(|| staged.finish());
    let mut report = Report::new(ask, Scope::All);
    report.settlements = inputs.candidates.len();
    report.entries = inputs.entries.len();
    if let Some(mut w) = writer {
        let (run, opened) = clock
            .writing_async(async {
                for r in &plan.returns {
                    returned(&mut w.tx, r, w.run).await?;
                }
                let opened = w.open(&plan.breaks).await?;
                w.close(&counted, opened).await.map(|run| (run, opened))
            })
            .await?;
        report.run = Some(run);
        report.breaks_opened = opened;
    }
    report.returns = plan.returns;
    report.finish(ask, plan.breaks, &counted, &clock).await
}

/// Settlements read, planned and committed per slice of a piecewise run: each commit holds
/// the writer's connection (SQLite's one writable connection, which the group writer uses)
/// for a few milliseconds, and the run holds a slice's rows, not every settlement's.
const SETTLEMENTS_PER_SLICE: usize = 500;

/// A piecewise run: no statement entry of ours waits, so each settlement's decisions are its
/// own. The settlements of `scope` are read, planned and written a slice at a time, each
/// slice committed on its own; then the answers and the balances. A run cut short leaves
/// whole slices: each decision has its natural key, and a settlement whose decisions were
/// not all recorded is open to the next run (its row in `recon_runs` stays unfinished,
/// which makes the next run read every settlement).
async fn piecewise(
    ask: &Ask<'_>,
    scope: Scope,
    entries: usize,
    started: std::time::Instant,
) -> Result<Report, ReconError> {
    // Each read takes a reader connection for its own time only: the run's writes may need
    // it (an in-memory SQLite has one connection), and the gateway's reads share the rest.
    let reader = ask.store.reader();
    let (ids, keys) = {
        let mut conn = reader.acquire().await.map_err(StoreError::from)?;
        let ids = settlement_ids(&mut conn, scope, ask.as_of_ms).await?;
        (ids, existing_keys(&mut conn).await?)
    };
    let mut done = Progress {
        keys,
        clock: Split {
            reading: started.elapsed(),
            ..Default::default()
        },
        ..Default::default()
    };
    // The run's row is committed first; each slice, and the end, write in a transaction of
    // their own, begun when the slice is planned: a transaction open while the next slice is
    // read would keep SQLite's one writable connection from the group writer (and, on an
    // in-memory SQLite, from the read itself).
    let run = match ask.dry_run {
        true => None,
        false => Some(
            done.clock
                .writing_async(async { Writer::begin(ask).await?.commit().await })
                .await?,
        ),
    };
    let mut pace = Pace::new(ask.busy_percent);
    for slice in ids.chunks(ask.slice.max(1)) {
        pace.work(done.slice(ask, run, slice)).await?;
    }
    let read = async {
        let mut conn = reader.acquire().await.map_err(StoreError::from)?;
        Ok::<_, StoreError>((answers(&mut conn).await?, unbalanced(&mut conn).await?))
    };
    let (answers, unbalanced) = done.clock.reading_async(read).await?;
    let inputs = Inputs {
        answers,
        unbalanced,
        existing_keys: std::mem::take(&mut done.keys),
        ..Default::default()
    };
    let plan = done
        .clock
        .matching(|| engine::plan(&inputs, &ask.config.recon, ask.as_of_ms));
    let mut report = Report::new(ask, scope);
    report.entries = entries;
    report.settlements = done.settlements;
    report.paused_ms = u64::try_from(pace.paused.as_millis()).unwrap_or(u64::MAX);
    if let Some(run) = run {
        let write = async {
            let mut w = Writer::resume(ask, run).await?;
            done.opened += w.open(&plan.breaks).await?;
            w.close(&done.counted, done.opened).await
        };
        report.run = Some(done.clock.writing_async(write).await?);
        report.breaks_opened = done.opened;
    }
    done.breaks.extend(plan.breaks);
    report
        .finish(ask, done.breaks, &done.counted, &done.clock)
        .await
}

/// Where a piecewise run stands between slices.
#[derive(Default)]
struct Progress {
    /// Every break's natural key: those that existed, and those raised so far.
    keys: HashSet<String>,
    clock: Split,
    counted: Counted,
    /// Settlements read, breaks opened (written), breaks planned.
    settlements: usize,
    opened: usize,
    breaks: Vec<engine::PlannedBreak>,
}

/// How a periodic run leaves the database and the cores to live traffic: after each step it
/// pauses so that it works at most `busy_percent` of its time. Working flat out, a periodic
/// run on PostgreSQL kept a server process busy for its whole length (about 12 s for 60,000
/// settlements); at 1,000 settlements/s on two cores intake→final p99 was 224 ms without
/// reconciliation, 251-616 ms with runs flat out and 215-246 ms with them at 25 % (README,
/// round 20).
struct Pace {
    busy_percent: u32,
    paused: std::time::Duration,
}

impl Pace {
    fn new(busy_percent: u32) -> Self {
        Pace {
            busy_percent: busy_percent.clamp(1, 100),
            paused: std::time::Duration::ZERO,
        }
    }

    /// Runs `step`, then pauses for its share of idle time.
    async fn work<T>(&mut self, step: impl std::future::Future<Output = T>) -> T {
        let began = std::time::Instant::now();
        let out = step.await;
        let pause = Self::pause_after(began.elapsed(), self.busy_percent);
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
            self.paused += pause;
        }
        out
    }

    /// How long to pause after `worked`, for the run to be busy `busy_percent` of the time.
    fn pause_after(worked: std::time::Duration, busy_percent: u32) -> std::time::Duration {
        worked * (100 - busy_percent) / busy_percent
    }
}

impl Progress {
    /// Reads, plans and (as run `run`) commits the settlements `ids`.
    async fn slice(
        &mut self,
        ask: &Ask<'_>,
        run: Option<i64>,
        ids: &[Text],
    ) -> Result<(), ReconError> {
        let read = async {
            let mut conn = ask
                .store
                .reader()
                .acquire()
                .await
                .map_err(StoreError::from)?;
            candidates(&mut conn, Some(ids)).await
        };
        let inputs = Inputs {
            candidates: self.clock.reading_async(read).await?,
            existing_keys: std::mem::take(&mut self.keys),
            ..Default::default()
        };
        self.settlements += inputs.candidates.len();
        let planned = {
            let plan = self
                .clock
                .matching(|| engine::plan(&inputs, &ask.config.recon, ask.as_of_ms));
            self.counted.add(&plan.matches, &plan.expectations);
            if let Some(run) = run {
                let write = async {
                    let mut w = Writer::resume(ask, run).await?;
                    w.rows(&plan.matches, &plan.expectations).await?;
                    let n = w.open(&plan.breaks).await?;
                    w.commit().await.map(|_| n)
                };
                self.opened += self.clock.writing_async(write).await?;
            }
            plan.breaks
        };
        self.keys = inputs.existing_keys;
        self.keys
            .extend(planned.iter().map(|b| b.natural_key.clone()));
        self.breaks.extend(planned);
        Ok(())
    }
}

impl Report {
    /// The natural keys of the breaks the run opened (or, dry, would open), sorted.
    pub fn break_keys(&self) -> Vec<&str> {
        let mut keys: Vec<&str> = self.breaks.iter().map(|b| b.natural_key.as_str()).collect();
        keys.sort_unstable();
        keys
    }

    /// An empty report of `ask`, read in `scope`; the counts are the caller's to fill.
    fn new(ask: &Ask<'_>, scope: Scope) -> Self {
        Report {
            run: None,
            dry_run: ask.dry_run,
            as_of_ms: ask.as_of_ms,
            scope,
            read_ms: 0,
            match_ms: 0,
            write_ms: 0,
            paused_ms: 0,
            settlements: 0,
            entries: 0,
            matches: 0,
            statement_entries_matched: 0,
            expectations: 0,
            breaks_opened: 0,
            breaks_by_kind: BTreeMap::new(),
            breaks: Vec::new(),
            returns: Vec::new(),
            corrections: 0,
        }
    }

    /// The breaks planned, the counts and the times; then, unless dry, the corrections the
    /// run established (a return on the statement for a settled settlement): applied once,
    /// after its breaks are written, in transactions of their own.
    async fn finish(
        mut self,
        ask: &Ask<'_>,
        breaks: Vec<engine::PlannedBreak>,
        counted: &Counted,
        clock: &Split,
    ) -> Result<Self, ReconError> {
        for b in &breaks {
            *self
                .breaks_by_kind
                .entry(b.kind.as_str().to_string())
                .or_default() += 1;
        }
        if self.run.is_none() {
            self.breaks_opened = breaks.len();
        } else {
            metrics::counter!("corridor_recon_breaks_opened_total")
                .increment(self.breaks_opened as u64);
            self.corrections =
                super::resolve::apply_statement_returns(ask.store, ask.actor).await?;
        }
        self.breaks = breaks;
        self.matches = counted.matches;
        self.statement_entries_matched = counted.statement_entries;
        self.expectations = counted.expectations;
        self.read_ms = clock.reading.as_millis() as u64;
        self.match_ms = clock.match_ms();
        self.write_ms = clock.write_ms();
        Ok(self)
    }
}

/// Candidates whose expectations are planned, and written, per step: large enough that a
/// step's INSERTs are full batches, small enough that a step's rows are a few MiB.
const CANDIDATES_PER_STEP: usize = 50_000;

/// Where a run's time goes: reading the sources, planning, writing (a piecewise run
/// alternates all three, a whole one reads first).
#[derive(Default)]
struct Split {
    reading: std::time::Duration,
    matching: std::time::Duration,
    writing: std::time::Duration,
}

impl Split {
    async fn reading_async<T>(&mut self, work: impl std::future::Future<Output = T>) -> T {
        let t = std::time::Instant::now();
        let out = work.await;
        self.reading += t.elapsed();
        out
    }

    fn matching<T>(&mut self, work: impl FnOnce() -> T) -> T {
        let t = std::time::Instant::now();
        let out = work();
        self.matching += t.elapsed();
        out
    }

    async fn writing_async<T>(&mut self, work: impl std::future::Future<Output = T>) -> T {
        let t = std::time::Instant::now();
        let out = work.await;
        self.writing += t.elapsed();
        out
    }

    fn match_ms(&self) -> u64 {
        self.matching.as_millis() as u64
    }

    fn write_ms(&self) -> u64 {
        self.writing.as_millis() as u64
    }
}

/// What the run's report counts of the rows written (and dropped) step by step.
#[derive(Default)]
struct Counted {
    matches: usize,
    /// Distinct statement entries joined (a batch entry joins several settlements).
    statement_entries: usize,
    expectations: usize,
    expectations_met: usize,
}

impl Counted {
    fn add(&mut self, matches: &[PlannedMatch<'_>], expectations: &[PlannedExpectation<'_>]) {
        self.matches += matches.len();
        // Every statement match is planned in the first step, so distinct within it is
        // distinct in the run.
        let mut entries: Vec<i64> = matches
            .iter()
            .filter(|m| m.source == engine::Source::Statement)
            .map(|m| m.source_id)
            .collect();
        entries.sort_unstable();
        entries.dedup();
        self.statement_entries += entries.len();
        self.expectations += expectations.len();
        self.expectations_met += expectations
            .iter()
            .filter(|e| e.met_at_ms.is_some())
            .count();
    }
}

/// Which settlements a run reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// Every dispatched settlement: a statement entry to reconcile may join any of them, and
    /// the calendar may have moved any due day.
    All,
    /// Only the settlements whose decisions can still change: those whose final answer is
    /// not recorded yet, and those settled whose statement entry is recorded overdue without
    /// its `missing_on_statement` break. Taken when no statement entry of ours waits and the
    /// calendar is the one the last run recorded: for every other settlement a run over all
    /// of them decides nothing, so both plan the same. A periodic run then reads what
    /// changed since the last one, not the whole history.
    Open,
}

/// The calendar that sets a statement expectation's due day (business days and holidays),
/// as each run records it: an open-scope run relies on the due days recorded, so a run under
/// another calendar than the last one reads every settlement (and records the new due days).
fn calendar_of(config: &Config) -> String {
    serde_json::json!({
        "statement_business_days": config.recon.statement_business_days,
        "holidays": config.recon.holidays,
    })
    .to_string()
}

/// Every source of a whole run, besides the statement entries already read.
async fn read_whole(conn: &mut AnyConnection, entries: Vec<Entry>) -> Result<Inputs, StoreError> {
    let mut inputs = Inputs {
        candidates: candidates(conn, None).await?,
        entries,
        answers: answers(conn).await?,
        unbalanced: unbalanced(conn).await?,
        existing_keys: existing_keys(conn).await?,
        ..Default::default()
    };
    for row in sqlx::query(
        "SELECT e.acct_svcr_ref FROM statement_entries e JOIN recon_matches m \
         ON m.source = 'statement' AND m.source_id = e.id WHERE e.acct_svcr_ref IS NOT NULL",
    )
    .fetch_all(&mut *conn)
    .await?
    {
        inputs
            .seen_acct_svcr_refs
            .insert(row.try_get("acct_svcr_ref")?);
    }
    Ok(inputs)
}

/// The natural key of every break ever raised: what no run raises again.
async fn existing_keys(conn: &mut AnyConnection) -> Result<HashSet<String>, StoreError> {
    let mut keys = HashSet::new();
    let mut rows = sqlx::query("SELECT natural_key FROM breaks").fetch(conn);
    while let Some(row) = rows.try_next().await? {
        keys.insert(row.try_get("natural_key")?);
    }
    Ok(keys)
}

/// [`Scope::Open`] when the last run finished under `calendar`. A run under another
/// calendar, or one unfinished (cut short, or still going on another instance), may have
/// recorded other due days than `calendar` gives.
async fn scope_of(conn: &mut AnyConnection, calendar: &str) -> Result<Scope, StoreError> {
    let last =
        sqlx::query("SELECT calendar, finished_at_ms FROM recon_runs ORDER BY id DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await?;
    let Some(last) = last else {
        return Ok(Scope::All);
    };
    let recorded: Option<String> = last.try_get("calendar")?;
    let finished: Option<i64> = last.try_get("finished_at_ms")?;
    Ok(match (recorded, finished) {
        (Some(recorded), Some(_)) if recorded == calendar => Scope::Open,
        _ => Scope::All,
    })
}

/// The ids of the settlements a piecewise run reads, in id order (ids are time-ordered):
/// every one, or the open ones. The open ones are found through indexes: a scan of the
/// settlements' ids (the primary key's index, not their rows) probing each one's recorded
/// confirmation, and the range of unmet expectations due before `as_of_ms`
/// (`recon_expectations_due`).
async fn settlement_ids(
    conn: &mut AnyConnection,
    scope: Scope,
    as_of_ms: i64,
) -> Result<Vec<Text>, StoreError> {
    let query = match scope {
        Scope::All => sqlx::query("SELECT id FROM settlements ORDER BY id"),
        Scope::Open => sqlx::query(
            "SELECT id FROM (SELECT o.id FROM settlements o WHERE NOT EXISTS \
                 (SELECT 1 FROM recon_expectations x WHERE x.settlement_id = o.id \
                 AND x.kind = 'confirmation' AND x.met_at_ms IS NOT NULL) \
             UNION ALL SELECT x.settlement_id AS id FROM recon_expectations x \
                 WHERE x.met_at_ms IS NULL AND x.due_at_ms < $1 AND x.kind = 'statement' \
                 AND NOT EXISTS (SELECT 1 FROM breaks b \
                     WHERE b.natural_key = 'missing_on_statement:' || x.settlement_id)) open \
             ORDER BY id",
        )
        .bind(as_of_ms),
    };
    let mut rows = query.fetch(conn);
    let mut ids = Vec::new();
    while let Some(row) = rows.try_next().await? {
        ids.push(text(&row, "id")?);
    }
    // The two parts of the open ones do not meet (a statement expectation is recorded with
    // a met confirmation), but a settlement is read once whatever they hold.
    ids.dedup();
    Ok(ids)
}

/// Settlements whose payment message (the first stored) went out, with what earlier runs
/// recorded of their expectations: every one, or those of `ids`.
async fn candidates(
    conn: &mut AnyConnection,
    ids: Option<&[Text]>,
) -> Result<Vec<Candidate>, StoreError> {
    let listed = match ids {
        None => String::new(),
        Some(_) => format!("AND {} ", crate::store::in_json_strings_at(conn, "s.id", 1)),
    };
    // Each settlement's own rows are looked up by settlement alone, whatever the planner
    // knows of the tables (PostgreSQL after they grew without an ANALYZE: autovacuum off, or
    // behind). A bare MIN or MAX of the primary key it answered by walking that key's index
    // in order until a row of the settlement came up, most of the journal for each one: 19 s
    // for 500 settlements among 92,000. Hence `MIN(x.id + 0)`, the journal's conditions
    // inside its MAX (as a WHERE they drew in the index on status, which matches most of
    // it), the message joined on its settlement too, and the expectations as scalar
    // lookups by their primary key (joined, they were scanned once per settlement).
    let sql = format!(
        "SELECT s.id, s.state, s.amount_minor, s.currency, s.counterparty, s.final_at_ms, \
         m.id AS message_id, m.uetr, m.end_to_end_id, m.instr_id, m.stan, m.rrn, \
         m.first_sent_at_ms, \
         (SELECT EXISTS (SELECT 1 FROM recon_matches r WHERE r.source = 'statement' \
             AND r.settlement_id = s.id)) AS statement_matched, \
         (SELECT MAX(CASE WHEN j.status = 'applied' \
             AND j.channel NOT IN ('ledger-http', 'ledger-file') THEN j.id END) \
             FROM inbound_journal j WHERE j.settlement_id = s.id) AS applied_answer, \
         (SELECT CAST(CASE WHEN x.met_at_ms IS NULL THEN 0 ELSE 1 END AS BIGINT) \
             FROM recon_expectations x WHERE x.settlement_id = s.id \
             AND x.kind = 'confirmation') AS confirmation_recorded, \
         (SELECT CAST(CASE WHEN x.met_at_ms IS NULL THEN 0 ELSE 1 END AS BIGINT) \
             FROM recon_expectations x WHERE x.settlement_id = s.id \
             AND x.kind = 'statement') AS statement_recorded, \
         (SELECT x.due_at_ms FROM recon_expectations x WHERE x.settlement_id = s.id \
             AND x.kind = 'statement') AS statement_due_ms \
         FROM settlements s JOIN outbound_messages m ON m.settlement_id = s.id AND m.id = \
             (SELECT MIN(x.id + 0) FROM outbound_messages x WHERE x.settlement_id = s.id) \
         WHERE m.first_sent_at_ms IS NOT NULL {listed}ORDER BY s.created_at_ms, s.id"
    );
    let mut query = sqlx::query(&sql);
    if let Some(ids) = ids {
        let ids: Vec<&str> = ids.iter().map(Text::as_str).collect();
        query = query.bind(serde_json::json!(ids).to_string());
    }
    let mut rows = query.fetch(conn);
    // Row by row: a million rows held at once beside what is built from them would double
    // the run's peak memory.
    let mut out = Vec::new();
    let mut shared = Interner::default();
    while let Some(row) = rows.try_next().await? {
        out.push(candidate(&row, &mut shared)?);
    }
    Ok(out)
}

fn candidate(row: &sqlx::any::AnyRow, shared: &mut Interner) -> Result<Candidate, StoreError> {
    let state: String = row.try_get("state")?;
    let matched: bool = match row.try_get::<bool, _>("statement_matched") {
        Ok(b) => b,
        Err(_) => row.try_get::<i64, _>("statement_matched")? != 0,
    };
    let counterparty: Option<String> = row.try_get("counterparty")?;
    Ok(Candidate {
        id: text(row, "id")?,
        state: SettlementState::parse(&state)
            .ok_or_else(|| StoreError::Corrupt(format!("settlement state {state:?}")))?,
        amount_minor: row.try_get("amount_minor")?,
        currency: shared.get(&row.try_get::<String, _>("currency")?),
        counterparty: shared.get(counterparty.as_deref().unwrap_or_default()),
        message_id: row.try_get("message_id")?,
        uetr: optional(row, "uetr")?,
        end_to_end_id: optional(row, "end_to_end_id")?,
        instr_id: optional(row, "instr_id")?,
        stan: optional(row, "stan")?,
        rrn: optional(row, "rrn")?,
        first_sent_at_ms: row.try_get("first_sent_at_ms")?,
        final_at_ms: row.try_get("final_at_ms")?,
        statement_matched: matched,
        applied_answer: row.try_get("applied_answer")?,
        recorded: engine::Recorded {
            confirmation: row
                .try_get::<Option<i64>, _>("confirmation_recorded")?
                .map(|met| met != 0),
            statement: row
                .try_get::<Option<i64>, _>("statement_recorded")?
                .map(|met| met != 0),
            statement_due_ms: row.try_get("statement_due_ms")?,
        },
    })
}

fn text(row: &sqlx::any::AnyRow, column: &str) -> Result<Text, sqlx::Error> {
    Ok(row.try_get::<String, _>(column)?.into())
}

fn optional(row: &sqlx::any::AnyRow, column: &str) -> Result<Option<Text>, sqlx::Error> {
    Ok(row.try_get::<Option<String>, _>(column)?.map(Text::from))
}

/// Booked entries no run has decided on: not joined to a settlement, not raised as a break.
async fn entries(conn: &mut AnyConnection) -> Result<Vec<Entry>, StoreError> {
    let decided: std::collections::HashSet<i64> = sqlx::query(
        "SELECT entry_ids FROM breaks WHERE entry_ids IS NOT NULL \
         AND kind IN ('unexpected_entry', 'duplicate_entry')",
    )
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .filter_map(|r| r.try_get::<String, _>("entry_ids").ok())
    .flat_map(|ids| {
        ids.split(',')
            .filter_map(|x| x.parse::<i64>().ok())
            .collect::<Vec<_>>()
    })
    .collect();
    let mut rows = sqlx::query(
        "SELECT e.id, e.statement, s.account, e.value_date, e.booking_date, e.amount_minor, \
         e.currency, CAST(CASE WHEN e.reversal THEN 1 ELSE 0 END AS BIGINT) AS reversal, e.return_reason, \
         e.uetr, e.end_to_end_id, e.instr_id, e.acct_svcr_ref, e.stan, e.rrn, e.reference, \
         e.charges_minor \
         FROM statement_entries e JOIN statements s ON s.id = e.statement \
         WHERE e.status = 'booked' \
         AND NOT EXISTS (SELECT 1 FROM recon_matches m WHERE m.source = 'statement' \
             AND m.source_id = e.id) \
         ORDER BY e.id",
    )
    .fetch(&mut *conn);
    let mut out = Vec::new();
    let mut shared = Interner::default();
    while let Some(row) = rows.try_next().await? {
        let id: i64 = row.try_get("id")?;
        if decided.contains(&id) {
            continue;
        }
        let value: Option<String> = row.try_get("value_date")?;
        let booking: Option<String> = row.try_get("booking_date")?;
        out.push(Entry {
            id,
            statement: row.try_get("statement")?,
            account: shared.get(&row.try_get::<String, _>("account")?),
            value_date: value.or(booking).as_deref().and_then(engine::parse_date),
            amount_minor: row.try_get("amount_minor")?,
            currency: shared.get(&row.try_get::<String, _>("currency")?),
            reversal: row.try_get::<i64, _>("reversal")? != 0,
            return_reason: optional(&row, "return_reason")?,
            uetr: optional(&row, "uetr")?,
            end_to_end_id: optional(&row, "end_to_end_id")?,
            instr_id: optional(&row, "instr_id")?,
            acct_svcr_ref: optional(&row, "acct_svcr_ref")?,
            stan: optional(&row, "stan")?,
            rrn: optional(&row, "rrn")?,
            reference: optional(&row, "reference")?,
            charges_minor: row.try_get("charges_minor")?,
        });
    }
    Ok(out)
}

/// Answers the confirm step marked duplicate or conflicting, with their settlement. A
/// repeated answer that came after an operator resent the payment (a `resend` job armed
/// before it arrived) is the bank answering the resend, which is expected: no break.
async fn answers(conn: &mut AnyConnection) -> Result<Vec<Answer>, StoreError> {
    let rows = sqlx::query(
        "SELECT j.id, j.status, j.detail, j.settlement_id, s.counterparty, s.currency, \
         s.amount_minor FROM inbound_journal j JOIN settlements s ON s.id = j.settlement_id \
         WHERE j.status IN ('duplicate', 'conflict') \
         AND j.channel NOT IN ('ledger-http', 'ledger-file') \
         AND NOT (j.status = 'duplicate' AND EXISTS (SELECT 1 FROM outbox o \
             WHERE o.settlement_id = j.settlement_id AND o.kind = 'resend' \
             AND o.created_at_ms <= j.received_at_ms)) ORDER BY j.id",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            let status: String = row.try_get("status")?;
            Ok(Answer {
                inbound_id: row.try_get("id")?,
                settlement_id: row.try_get("settlement_id")?,
                conflict: status == "conflict",
                detail: row.try_get("detail")?,
                counterparty: row.try_get("counterparty")?,
                currency: row.try_get("currency")?,
                amount_minor: row.try_get("amount_minor")?,
            })
        })
        .collect()
}

/// Statements the import found not to add up, with the gap.
async fn unbalanced(conn: &mut AnyConnection) -> Result<Vec<Unbalanced>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.id, s.account, s.statement_id, COALESCE(s.currency, '') AS currency, s.opening_minor, s.closing_minor, \
         CAST(COALESCE((SELECT SUM(CASE WHEN e.direction = 'credit' THEN e.amount_minor \
             ELSE -e.amount_minor END) FROM statement_entries e WHERE e.statement = s.id \
             AND e.status = 'booked'), 0) AS BIGINT) AS net \
         FROM statements s WHERE CASE WHEN s.balance_ok IS NULL THEN 1 WHEN s.balance_ok THEN 1 \
         ELSE 0 END = 0 ORDER BY s.id",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            let opening: Option<i64> = row.try_get("opening_minor")?;
            let closing: Option<i64> = row.try_get("closing_minor")?;
            let net: i64 = row.try_get("net")?;
            Ok(Unbalanced {
                statement: row.try_get("id")?,
                account: row.try_get("account")?,
                statement_ref: row.try_get("statement_id")?,
                currency: row.try_get("currency")?,
                gap_minor: closing.unwrap_or(0) - opening.unwrap_or(0) - net,
            })
        })
        .collect()
}

/// Writes a run's plan in one transaction, in multi-row statements: a run over a million
/// settlements writes millions of matches and expectations, and one round trip per row would
/// dominate the run.
struct Writer<'s> {
    tx: Tx,
    run: i64,
    now: i64,
    actor: &'s str,
    dialect: Dialect,
    matches: Batched,
    expectations: Batched,
}

impl<'s> Writer<'s> {
    /// Opens the transaction and the run's row.
    async fn begin(ask: &Ask<'s>) -> Result<Self, ReconError> {
        let mut tx = ask.store.begin().await?;
        let run: i64 = sqlx::query(
            "INSERT INTO recon_runs (actor, as_of_ms, started_at_ms, calendar) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(ask.actor)
        .bind(ask.as_of_ms)
        .bind(now_ms())
        .bind(&ask.calendar)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        Ok(Self::with(ask, tx, run))
    }

    /// A transaction of its own for run `run`, begun by an earlier writer (a piecewise run's
    /// next slice).
    async fn resume(ask: &Ask<'s>, run: i64) -> Result<Self, ReconError> {
        Ok(Self::with(ask, ask.store.begin().await?, run))
    }

    fn with(ask: &Ask<'s>, tx: Tx, run: i64) -> Self {
        let dialect = ask.store.dialect();
        let (now, actor) = (now_ms(), ask.actor);
        Writer {
            tx,
            run,
            now,
            actor,
            dialect,
            matches: Batched::new(
                dialect,
                "INSERT INTO recon_matches (run, group_key, settlement_id, source, source_id, \
                 rule, cardinality, at_ms) VALUES ",
                " ON CONFLICT (source, source_id, settlement_id) DO NOTHING",
                8,
            ),
            expectations: Batched::new(
                dialect,
                "INSERT INTO recon_expectations (settlement_id, kind, due_at_ms, met_at_ms) VALUES ",
                // An unmet expectation takes the due time planned now (the calendar may
                // have changed since it was recorded); a met one keeps both.
                " ON CONFLICT (settlement_id, kind) DO UPDATE \
                 SET met_at_ms = COALESCE(recon_expectations.met_at_ms, excluded.met_at_ms), \
                 due_at_ms = CASE WHEN recon_expectations.met_at_ms IS NULL \
                 THEN excluded.due_at_ms ELSE recon_expectations.due_at_ms END",
                4,
            ),
        }
    }

    /// Commits what was written; the run's id.
    async fn commit(self) -> Result<i64, ReconError> {
        self.tx.commit().await.map_err(StoreError::from)?;
        Ok(self.run)
    }

    /// One step's matches and expectations.
    async fn rows(
        &mut self,
        matches: &[PlannedMatch<'_>],
        expectations: &[PlannedExpectation<'_>],
    ) -> Result<(), ReconError> {
        for chunk in matches.chunks(ROWS_PER_INSERT) {
            let mut q = sqlx::query(self.matches.get(chunk.len()));
            for m in chunk {
                q = q
                    .bind(self.run)
                    .bind(m.group_key().to_string())
                    .bind(m.settlement_id)
                    .bind(m.source.as_str())
                    .bind(m.source_id)
                    .bind(m.rule)
                    .bind(m.cardinality)
                    .bind(self.now);
            }
            q.execute(&mut *self.tx).await?;
        }
        for chunk in expectations.chunks(ROWS_PER_INSERT) {
            let mut q = sqlx::query(self.expectations.get(chunk.len()));
            for e in chunk {
                q = q
                    .bind(e.settlement_id)
                    .bind(e.kind)
                    .bind(e.due_at_ms)
                    .bind(e.met_at_ms);
            }
            q.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    /// Opens `breaks` (a key that exists is skipped: another run opened it meanwhile), each
    /// with its `opened` audit row; how many were opened.
    async fn open(&mut self, breaks: &[engine::PlannedBreak]) -> Result<usize, ReconError> {
        let opened = self.breaks(breaks).await?;
        let mut sql = Batched::new(
            self.dialect,
            "INSERT INTO break_events (break_id, actor, action, comment, at_ms) VALUES ",
            "",
            5,
        );
        for chunk in opened.chunks(ROWS_PER_INSERT) {
            let mut q = sqlx::query(sql.get(chunk.len()));
            for (id, detail) in chunk {
                q = q
                    .bind(*id)
                    .bind(self.actor)
                    .bind(Action::Opened.as_str())
                    .bind(Some(*detail))
                    .bind(self.now);
            }
            q.execute(&mut *self.tx).await?;
        }
        Ok(opened.len())
    }

    /// The run's totals (`opened`: breaks opened), and the commit; the run's id.
    async fn close(mut self, counted: &Counted, opened: usize) -> Result<i64, ReconError> {
        sqlx::query(
            "UPDATE recon_runs SET finished_at_ms = $1, matches = $2, breaks_opened = $3, \
             expectations_met = $4 WHERE id = $5",
        )
        .bind(now_ms())
        .bind(counted.matches as i64)
        .bind(opened as i64)
        .bind(counted.expectations_met as i64)
        .bind(self.run)
        .execute(&mut *self.tx)
        .await?;
        self.commit().await
    }

    /// Breaks, many per statement too; the ids of those opened (a key that exists is skipped)
    /// come back with their keys, in no promised order: each with its detail, for its
    /// `opened` audit row.
    async fn breaks<'p>(
        &mut self,
        breaks: &'p [engine::PlannedBreak],
    ) -> Result<Vec<(i64, &'p str)>, ReconError> {
        let mut opened = Vec::new();
        let mut sql = Batched::new(
            self.dialect,
            "INSERT INTO breaks (natural_key, kind, severity, state, settlement_id, counterparty, \
             currency, amount_at_risk_minor, detail, inbound_id, statement_id, entry_ids, run, \
             opened_at_ms, updated_at_ms) VALUES ",
            " ON CONFLICT (natural_key) DO NOTHING RETURNING id, natural_key",
            15,
        );
        for chunk in breaks.chunks(BREAKS_PER_INSERT) {
            let mut q = sqlx::query(sql.get(chunk.len()));
            for b in chunk {
                let entry_ids = (!b.entry_ids.is_empty()).then(|| {
                    b.entry_ids
                        .iter()
                        .map(i64::to_string)
                        .collect::<Vec<_>>()
                        .join(",")
                });
                q = q
                    .bind(&b.natural_key)
                    .bind(b.kind.as_str())
                    .bind(b.kind.severity().as_str())
                    .bind("open")
                    .bind(&b.settlement_id)
                    .bind(&b.counterparty)
                    .bind(&b.currency)
                    .bind(b.amount_at_risk_minor)
                    .bind(&b.detail)
                    .bind(b.inbound_id)
                    .bind(b.statement_id)
                    .bind(entry_ids)
                    .bind(self.run)
                    .bind(self.now)
                    .bind(self.now);
            }
            let mut ids: HashMap<String, i64> = HashMap::new();
            for row in q.fetch_all(&mut *self.tx).await? {
                ids.insert(row.try_get("natural_key")?, row.try_get("id")?);
            }
            opened.extend(
                chunk
                    .iter()
                    .filter_map(|b| ids.get(&b.natural_key).map(|id| (*id, b.detail.as_str()))),
            );
        }
        Ok(opened)
    }
}

/// Rows per multi-row INSERT (8 columns: 4,000 bind parameters, under both databases' limits).
const ROWS_PER_INSERT: usize = 500;
/// Breaks have 15 columns: 3,000 parameters.
const BREAKS_PER_INSERT: usize = 200;

/// One multi-row INSERT's text for a given number of rows, the full-batch one built once.
/// SQLite gets anonymous `?` parameters: it keeps `$N` ones as names and looks each up by a
/// linear search when binding, which made a 4,000-parameter statement quadratic to bind (a
/// run over 100,000 settlements spent 38 s writing); PostgreSQL needs `$N`.
struct Batched {
    dialect: Dialect,
    head: &'static str,
    tail: &'static str,
    cols: usize,
    full: Option<(usize, String)>,
    partial: String,
}

impl Batched {
    fn new(dialect: Dialect, head: &'static str, tail: &'static str, cols: usize) -> Self {
        Batched {
            dialect,
            head,
            tail,
            cols,
            full: None,
            partial: String::new(),
        }
    }

    fn get(&mut self, rows: usize) -> &str {
        if self.full.as_ref().is_some_and(|(n, _)| *n == rows) {
            return &self.full.as_ref().expect("checked").1;
        }
        let text = format!(
            "{}{}{}",
            self.head,
            values_list(self.dialect, rows, self.cols),
            self.tail
        );
        if self.full.is_none() {
            self.full = Some((rows, text));
            &self.full.as_ref().expect("set").1
        } else {
            self.partial = text;
            &self.partial
        }
    }
}

/// `(?, ?, …), (?, …)` (SQLite) or `($1, $2, …), ($n, …)` (PostgreSQL) for `rows` rows of
/// `cols` values.
fn values_list(dialect: Dialect, rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 6);
    for r in 0..rows {
        out.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..cols {
            if c > 0 {
                out.push_str(", ");
            }
            match dialect {
                Dialect::Sqlite => out.push('?'),
                Dialect::Postgres => {
                    out.push('$');
                    out.push_str(&(r * cols + c + 1).to_string());
                }
            }
        }
        out.push(')');
    }
    out
}

/// A return found on the statement for a settlement still waiting for its answer: the
/// settlement moves to `returned` through the one state machine, which enqueues its
/// write-back (once: the outbox holds one write-back per settlement). A settlement that
/// moved meanwhile is left as it is; the entry stays joined to it for the reviewer.
async fn returned(tx: &mut Tx, r: &engine::PlannedReturn, run: i64) -> Result<(), ReconError> {
    let Some(sid) = SettlementId::parse(&r.settlement_id) else {
        return Err(StoreError::Corrupt(format!("settlement id {:?}", r.settlement_id)).into());
    };
    let detail = format!(
        "return booked on statement entry {} (recon run {run})",
        r.entry_id
    );
    let change = settlements::Change {
        cause: "statement return",
        detail: Some(&detail),
        reason_code: r.reason_code.as_deref(),
        reason: Some("returned, as the account statement shows"),
        ..Default::default()
    };
    match settlements::transition(tx, &sid, SettlementState::Returned, &change).await? {
        settlements::Transitioned::Moved { from } => {
            tracing::info!(settlement = %sid, %from, entry = r.entry_id, "a statement return settled the outcome")
        }
        other => {
            tracing::warn!(settlement = %sid, ?other, "a statement return found the settlement moved on")
        }
    }
    Ok(())
}

/// Where reconciliation stands: the last run, expectations, open breaks per kind.
#[derive(Debug, Serialize)]
pub struct Status {
    pub last_run: Option<LastRun>,
    pub expectations_pending: i64,
    pub expectations_overdue: i64,
    pub expectations_met: i64,
    pub breaks_unresolved_by_kind: BTreeMap<String, i64>,
    pub breaks_resolved: i64,
}

#[derive(Debug, Serialize, sqlx::FromRow)]
pub struct LastRun {
    pub id: i64,
    pub actor: String,
    pub as_of_ms: i64,
    pub started_at_ms: i64,
    pub finished_at_ms: Option<i64>,
    pub matches: i64,
    pub breaks_opened: i64,
}

pub async fn status(conn: &mut AnyConnection) -> Result<Status, StoreError> {
    let last_run = sqlx::query_as::<_, LastRun>(
        "SELECT id, actor, as_of_ms, started_at_ms, finished_at_ms, matches, breaks_opened \
         FROM recon_runs ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await?;
    let now = now_ms();
    let row = sqlx::query(
        "SELECT \
         CAST(COALESCE(SUM(CASE WHEN met_at_ms IS NULL AND due_at_ms >= $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS pending, \
         CAST(COALESCE(SUM(CASE WHEN met_at_ms IS NULL AND due_at_ms < $1 THEN 1 ELSE 0 END), 0) AS BIGINT) AS overdue, \
         CAST(COALESCE(SUM(CASE WHEN met_at_ms IS NOT NULL THEN 1 ELSE 0 END), 0) AS BIGINT) AS met \
         FROM recon_expectations",
    )
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    let mut by_kind = BTreeMap::new();
    let mut resolved = 0;
    for r in sqlx::query("SELECT kind, state, COUNT(*) AS n FROM breaks GROUP BY kind, state")
        .fetch_all(&mut *conn)
        .await?
    {
        let n: i64 = r.try_get("n")?;
        let state: String = r.try_get("state")?;
        if state == "resolved" {
            resolved += n;
        } else {
            *by_kind.entry(r.try_get::<String, _>("kind")?).or_default() += n;
        }
    }
    Ok(Status {
        last_run,
        expectations_pending: row.try_get("pending")?,
        expectations_overdue: row.try_get("overdue")?,
        expectations_met: row.try_get("met")?,
        breaks_unresolved_by_kind: by_kind,
        breaks_resolved: resolved,
    })
}

/// Runs reconciliation every `recon.interval_ms` until `stop` (the gateway's task). A run
/// that fails is logged and tried again at the next period.
pub async fn periodic(
    store: Store,
    config: std::sync::Arc<Config>,
    stop: tokio_util::sync::CancellationToken,
) {
    let every = std::time::Duration::from_millis(config.recon.interval_ms.max(1000));
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        let busy = config.recon.periodic_busy_percent;
        match run_paced(&store, &config, now_ms(), false, "recon", busy).await {
            Ok(r) => tracing::info!(
                run = ?r.run,
                scope = ?r.scope,
                settlements = r.settlements,
                entries = r.entries,
                breaks = r.breaks_opened,
                read_ms = r.read_ms,
                match_ms = r.match_ms,
                write_ms = r.write_ms,
                paused_ms = r.paused_ms,
                "reconciliation run"
            ),
            Err(e) => tracing::warn!(error = %e, "reconciliation run failed"),
        }
    }
}

/// Parses `--as-of DATE` (`YYYY-MM-DD`: as at the end of that UTC day).
pub fn as_of_from_date(text: &str) -> Result<i64, ReconError> {
    engine::parse_date(text)
        .filter(|_| text.len() == 10)
        .map(engine::end_of_day_ms)
        .ok_or_else(|| ReconError::BadInput(format!("--as-of {text:?} is not a date YYYY-MM-DD")))
}

#[cfg(test)]
mod tests {
    use crate::store::testing;

    /// Settlements taken in and marked sent long ago (first send ten days before now); the
    /// first `settled` of them settled then. What the bank answered does not matter here.
    async fn sent_long_ago(store: &crate::store::Store, n: usize, settled: usize) {
        let config = testing::config();
        let events = (0..n)
            .map(|i| testing::event(&format!("recon-slice-{i}"), "10.00"))
            .collect();
        let taken = testing::taken_in_and_claimed(store, &config, events).await;
        let long_ago = crate::store::now_ms() - 10 * 86_400_000;
        for (i, (sid, _)) in taken.iter().enumerate() {
            sqlx::query(
                "UPDATE outbound_messages SET first_sent_at_ms = $1 WHERE settlement_id = $2",
            )
            .bind(long_ago)
            .bind(sid.as_str())
            .execute(store.pool())
            .await
            .unwrap();
            let (state, final_at) = match i < settled {
                true => ("settled", Some(long_ago + 1_000)),
                false => ("sent", None),
            };
            sqlx::query("UPDATE settlements SET state = $1, final_at_ms = $2 WHERE id = $3")
                .bind(state)
                .bind(final_at)
                .bind(sid.as_str())
                .execute(store.pool())
                .await
                .unwrap();
        }
    }

    /// A piecewise run in slices of two decides what it decides in one slice, and writes
    /// each slice's decisions: the next run finds nothing left but the settlements in flight.
    /// Also on an in-memory SQLite, whose one connection both reads and writes.
    #[tokio::test]
    async fn a_run_in_slices_decides_as_in_one() {
        for each in testing::each("a_run_in_slices_decides_as_in_one").await {
            slices_decide_as_one(&each.store).await;
            each.finish().await;
        }
        let memory = crate::store::Store::connect("sqlite::memory:", 4)
            .await
            .unwrap();
        let run = slices_decide_as_one(&memory);
        tokio::time::timeout(std::time::Duration::from_secs(30), run)
            .await
            .expect("a run on the one connection of an in-memory store finishes");
    }

    async fn slices_decide_as_one(store: &crate::store::Store) {
        sent_long_ago(store, 5, 3).await;
        let config = testing::config();
        let ask = |slice: usize, dry_run: bool| super::Ask {
            store,
            config: &config,
            as_of_ms: crate::store::now_ms(),
            dry_run,
            actor: "t",
            calendar: super::calendar_of(&config),
            slice,
            busy_percent: 100,
        };
        let one = super::run_asked(&ask(1_000, true)).await.unwrap();
        let sliced = super::run_asked(&ask(2, true)).await.unwrap();
        assert_eq!(one.settlements, 5);
        let counts = |r: &super::Report| (r.settlements, r.matches, r.expectations);
        assert_eq!(counts(&sliced), counts(&one));
        assert_eq!(sliced.break_keys(), one.break_keys());
        // Three overdue statement entries, two confirmations past the SLA.
        let kinds = &one.breaks_by_kind;
        assert_eq!(
            (kinds["missing_on_statement"], kinds["missing_confirmation"]),
            (3, 2)
        );
        // Written as a periodic run, pausing between slices: the same decisions.
        let paced = super::Ask {
            busy_percent: 50,
            ..ask(2, false)
        };
        let written = super::run_asked(&paced).await.unwrap();
        assert_eq!(written.break_keys(), one.break_keys());
        assert_eq!(written.breaks_opened, 5);
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM recon_expectations")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(rows, 3 * 2 + 2, "every slice's expectations are written");
        let next = super::run_asked(&ask(2, true)).await.unwrap();
        assert_eq!(next.scope, super::Scope::Open);
        assert_eq!(
            (next.settlements, next.expectations, next.breaks.len()),
            (2, 0, 0)
        );
    }

    /// A periodic run's [`super::Pace`]: after each step it pauses so that it works at most
    /// its share of the time; at 100 % it never pauses.
    #[tokio::test]
    async fn a_paced_run_pauses_for_its_share_of_idle_time() {
        use std::time::{Duration, Instant};
        // A step of at least 20 ms that says how long it took.
        let step = || async {
            let began = Instant::now();
            tokio::time::sleep(Duration::from_millis(20)).await;
            began.elapsed()
        };
        for (busy, idle_per_busy) in [(50, 1), (25, 3)] {
            let mut pace = super::Pace::new(busy);
            let began = Instant::now();
            let mut worked = Duration::ZERO;
            for _ in 0..3 {
                worked += pace.work(step()).await;
            }
            assert!(
                pace.paused >= worked * idle_per_busy,
                "{busy} %: paused {:?} after working {worked:?}",
                pace.paused
            );
            assert!(began.elapsed() >= worked + pace.paused);
        }
        let mut flat_out = super::Pace::new(100);
        flat_out.work(step()).await;
        assert!(flat_out.paused.is_zero());
    }

    /// A run reads without the writer's connection: with it held (on SQLite the pool's only
    /// writable one, which the group writer uses), a dry run still completes, and the held
    /// connection's page cache is as it was.
    #[tokio::test]
    async fn a_run_reads_without_the_writers_connection() {
        for each in testing::each("a_run_reads_without_the_writers_connection").await {
            let config = testing::config();
            let events = vec![testing::event("recon-read-1", "10.00")];
            testing::taken_in_and_claimed(&each.store, &config, events).await;
            let sqlite = each.store.dialect() == crate::store::Dialect::Sqlite;
            let mut writer = each.store.pool().acquire().await.unwrap();
            let cache_before: Option<i64> = if sqlite {
                Some(
                    sqlx::query_scalar("PRAGMA cache_size")
                        .fetch_one(&mut *writer)
                        .await
                        .unwrap(),
                )
            } else {
                None
            };
            let run = super::run(&each.store, &config, crate::store::now_ms(), true, "t");
            let report = tokio::time::timeout(std::time::Duration::from_secs(10), run)
                .await
                .expect("the run finishes while the writer's connection is held")
                .unwrap();
            assert!(report.run.is_none(), "a dry run writes nothing");
            if sqlite {
                let cache_after: i64 = sqlx::query_scalar("PRAGMA cache_size")
                    .fetch_one(&mut *writer)
                    .await
                    .unwrap();
                assert_eq!(Some(cache_after), cache_before);
            }
            drop(writer);
            each.finish().await;
        }
    }
}
