//! One reconciliation run: the sources read set-wise (a handful of queries, never one per
//! settlement), the engine's plan, and the plan written in one transaction.

use super::engine::{
    self, Answer, Candidate, Entry, ExpectationKind, Inputs, Plan, PlannedExpectation,
    PlannedMatch, Unbalanced,
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
use std::collections::{BTreeMap, HashMap};

/// What a run decided (and, unless dry, wrote).
#[derive(Debug, Serialize)]
pub struct Report {
    /// The run's id; `None` for a dry run.
    pub run: Option<i64>,
    pub dry_run: bool,
    pub as_of_ms: i64,
    /// Where the time went: reading the sources, matching (the engine), writing the plan.
    pub read_ms: u64,
    pub match_ms: u64,
    pub write_ms: u64,
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

/// Runs reconciliation as of `as_of_ms`; `dry_run` plans and writes nothing.
///
/// The statement entries are planned at once (an entry's group may need any other), then the
/// candidates' expectations a slice at a time, each slice written before the next is planned,
/// all in one transaction: the run never holds every match and expectation at once.
pub async fn run(
    store: &Store,
    config: &Config,
    as_of_ms: i64,
    dry_run: bool,
    actor: &str,
) -> Result<Report, ReconError> {
    let started = std::time::Instant::now();
    let inputs = {
        // On a SQLite file the run reads on a read-only connection, closed afterwards. The
        // pool's one writable connection is the group writer's: holding it for the seconds a
        // large read takes stalled every write (at 1,000 settlements/s, ack p99 went from
        // 8 ms to 574 ms when a periodic run fell due), and the run's larger page cache
        // stayed with it (a bigger cache makes each of the writer's commits scan more).
        // (`reader` is the one pool on PostgreSQL and for an in-memory SQLite.)
        let apart = store.reads_apart();
        let mut conn = store.reader().acquire().await.map_err(StoreError::from)?;
        if apart {
            // A run walks every settlement, message and entry and their indexes; with SQLite's
            // default 2 MiB page cache it re-reads the same pages from the OS over and over.
            // 64 MiB, as the statement import asks, bounds what this connection may cache.
            sqlx::query("PRAGMA cache_size = -65536")
                .execute(&mut *conn)
                .await
                .map_err(StoreError::from)?;
        }
        let read = read_inputs(&mut conn).await;
        if apart {
            // Its cache goes with it; the pool opens another when it needs one.
            let _ = conn.close().await;
        }
        read?
    };
    let read_ms = started.elapsed().as_millis() as u64;
    let mut clock = Split::default();
    let mut staged = clock.matching(|| engine::Staged::new(&inputs, &config.recon, as_of_ms));
    let mut writer = match dry_run {
        true => None,
        false => Some(
            clock
                .writing_async(Writer::begin(store, as_of_ms, actor))
                .await?,
        ),
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
    let mut report = Report::new(&inputs, &plan, &counted, as_of_ms, dry_run);
    report.read_ms = read_ms;
    if let Some(w) = writer {
        let (run, opened) = clock.writing_async(w.finish(&plan, &counted)).await?;
        report.run = Some(run);
        report.breaks_opened = opened;
        metrics::counter!("corridor_recon_breaks_opened_total").increment(opened as u64);
        // Outcomes the run established (a return on the statement for a settled settlement):
        // applied once, after its breaks are written, in transactions of their own.
        report.corrections = super::resolve::apply_statement_returns(store, actor).await?;
    }
    report.match_ms = clock.match_ms();
    report.write_ms = clock.write_ms();
    report.breaks = plan.breaks;
    report.returns = plan.returns;
    Ok(report)
}

impl Report {
    /// What was planned; the times and what writing found are filled in by the caller.
    fn new(
        inputs: &Inputs,
        plan: &Plan<'_>,
        counted: &Counted,
        as_of_ms: i64,
        dry_run: bool,
    ) -> Self {
        let mut breaks_by_kind = BTreeMap::new();
        for b in &plan.breaks {
            *breaks_by_kind
                .entry(b.kind.as_str().to_string())
                .or_default() += 1;
        }
        Report {
            run: None,
            dry_run,
            as_of_ms,
            read_ms: 0,
            match_ms: 0,
            write_ms: 0,
            settlements: inputs.candidates.len(),
            entries: inputs.entries.len(),
            matches: counted.matches,
            statement_entries_matched: counted.statement_entries,
            expectations: counted.expectations,
            breaks_opened: plan.breaks.len(),
            breaks_by_kind,
            breaks: Vec::new(),
            returns: Vec::new(),
            corrections: 0,
        }
    }
}

/// Candidates whose expectations are planned, and written, per step: large enough that a
/// step's INSERTs are full batches, small enough that a step's rows are a few MiB.
const CANDIDATES_PER_STEP: usize = 50_000;

/// Where a run's time goes once the sources are read: planning or writing (they alternate).
#[derive(Default)]
struct Split {
    matching: std::time::Duration,
    writing: std::time::Duration,
}

impl Split {
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

async fn read_inputs(conn: &mut AnyConnection) -> Result<Inputs, StoreError> {
    let mut inputs = Inputs {
        candidates: candidates(conn).await?,
        entries: entries(conn).await?,
        answers: answers(conn).await?,
        unbalanced: unbalanced(conn).await?,
        ..Default::default()
    };
    for row in sqlx::query("SELECT natural_key FROM breaks")
        .fetch_all(&mut *conn)
        .await?
    {
        inputs.existing_keys.insert(row.try_get("natural_key")?);
    }
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
    for row in sqlx::query("SELECT settlement_id, kind, met_at_ms FROM recon_expectations")
        .fetch_all(&mut *conn)
        .await?
    {
        let kind: String = row.try_get("kind")?;
        let kind = ExpectationKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("expectation kind {kind:?}")))?;
        let met: Option<i64> = row.try_get("met_at_ms")?;
        inputs
            .expectations
            .insert((row.try_get("settlement_id")?, kind), met.is_some());
    }
    Ok(inputs)
}

/// Settlements whose payment message (the first stored) went out.
async fn candidates(conn: &mut AnyConnection) -> Result<Vec<Candidate>, StoreError> {
    let mut rows = sqlx::query(
        "SELECT s.id, s.state, s.amount_minor, s.currency, s.counterparty, s.final_at_ms, \
         m.id AS message_id, m.uetr, m.end_to_end_id, m.instr_id, m.stan, m.rrn, \
         m.first_sent_at_ms, \
         (SELECT EXISTS (SELECT 1 FROM recon_matches r WHERE r.source = 'statement' \
             AND r.settlement_id = s.id)) AS statement_matched, \
         (SELECT MAX(j.id) FROM inbound_journal j WHERE j.settlement_id = s.id \
             AND j.status = 'applied' AND j.channel NOT IN ('ledger-http', 'ledger-file')) \
             AS applied_answer \
         FROM settlements s JOIN outbound_messages m ON m.id = \
             (SELECT MIN(x.id) FROM outbound_messages x WHERE x.settlement_id = s.id) \
         WHERE m.first_sent_at_ms IS NOT NULL ORDER BY s.created_at_ms, s.id",
    )
    .fetch(conn);
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
    async fn begin(store: &Store, as_of_ms: i64, actor: &'s str) -> Result<Self, ReconError> {
        let dialect = store.dialect();
        let now = now_ms();
        let mut tx = store.begin().await?;
        let run: i64 = sqlx::query(
            "INSERT INTO recon_runs (actor, as_of_ms, started_at_ms) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(actor)
        .bind(as_of_ms)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        Ok(Writer {
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
                " ON CONFLICT (settlement_id, kind) DO UPDATE \
                 SET met_at_ms = COALESCE(recon_expectations.met_at_ms, excluded.met_at_ms)",
                4,
            ),
        })
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

    /// The returns, the breaks and their audit rows, the run's totals; commits. Returns the
    /// run's id and how many breaks were opened (a break another run opened meanwhile is not
    /// opened twice: its key is unique).
    async fn finish(
        mut self,
        plan: &Plan<'_>,
        counted: &Counted,
    ) -> Result<(i64, usize), ReconError> {
        for r in &plan.returns {
            returned(&mut self.tx, r, self.run).await?;
        }
        let opened = self.breaks(&plan.breaks).await?;
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
        sqlx::query(
            "UPDATE recon_runs SET finished_at_ms = $1, matches = $2, breaks_opened = $3, \
             expectations_met = $4 WHERE id = $5",
        )
        .bind(now_ms())
        .bind(counted.matches as i64)
        .bind(opened.len() as i64)
        .bind(counted.expectations_met as i64)
        .bind(self.run)
        .execute(&mut *self.tx)
        .await?;
        self.tx.commit().await.map_err(StoreError::from)?;
        Ok((self.run, opened.len()))
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
        match run(&store, &config, now_ms(), false, "recon").await {
            Ok(r) if r.breaks_opened > 0 => {
                tracing::info!(run = ?r.run, breaks = r.breaks_opened, "reconciliation opened breaks")
            }
            Ok(_) => {}
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
