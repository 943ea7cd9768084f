//! Multi-row writes for merged group commits ([`super::group::Merge`]): the rows of one table
//! for every caller in a group go as one statement, instead of a statement per row (on SQLite
//! each request to a connection is two thread switches, on PostgreSQL a round trip to the
//! server and a statement for it to run, and either costs more than the row).
//!
//! Each statement takes its rows as one JSON array bound as a single parameter and read as a
//! table (`Forms::each`: SQLite's `json_each`, PostgreSQL's `jsonb_array_elements`), in
//! array order: the statement text is the same whatever the number of rows, so it is prepared
//! once and cached, and no group can reach a limit on parameters. Blobs travel as text or hex
//! (`Forms::blob`). The rows are exactly those the one-row statements write
//! ([`super::settlements::insert_row`], [`super::settlements::journal_transitions`],
//! [`super::messages::insert`], [`super::outbox::enqueue`], [`super::journal::mark`]).
//! Where SQLite takes several statements in one request, PostgreSQL (whose prepared
//! statements hold one each) runs them one after the other in the same transaction.

use super::journal::{Outcome, Status};
use super::messages::Outbound;
use super::outbox::Kind;
use super::settlements::{check_steps, Landing, Step};
use super::{Dialect, StoreError};
use crate::domain::{Rail, Settlement, SettlementId, SettlementState};
use serde_json::{json, Value};
use sqlx::{AnyConnection, Row};
use std::collections::{HashMap, HashSet};

/// A new settlement's row, as [`super::settlements::insert_row`] writes it.
pub struct NewSettlement<'a> {
    pub settlement: &'a Settlement,
    pub content_hash: &'a str,
    pub landing: &'a Landing<'a>,
}

/// Inserts the rows whose (ledger, event id) key is not stored yet, in one statement, and
/// returns the ids of those inserted (a row whose key is taken, by an earlier row of `rows`
/// too, is left out, as `ON CONFLICT DO NOTHING` does for one).
pub async fn insert_settlements(
    conn: &mut AnyConnection,
    rows: &[NewSettlement<'_>],
    now: i64,
) -> Result<HashSet<String>, StoreError> {
    if rows.is_empty() {
        return Ok(HashSet::new());
    }
    let mut json = JsonArray::default();
    for row in rows {
        let s = row.settlement;
        // Invariant right before the write, as for one row.
        assert!(s.amount.minor() > 0, "settlement amount must be positive");
        let payload = serde_json::to_string(s).expect("settlement serialises");
        let landing = row.landing;
        json.push(&(
            s.id.as_str(),
            &s.ledger,
            &s.event_id,
            row.content_hash,
            landing.state.as_str(),
            s.amount.minor(),
            s.amount.currency().code(),
            payload,
            now,
            now,
            landing.rail.map(Rail::as_str),
            landing.counterparty,
            landing.reason_code,
            landing.reason,
            landing.state.is_final().then_some(now),
        ));
    }
    let f = Forms::of(conn);
    let sql = format!(
        "INSERT INTO settlements (id, ledger, event_id, content_hash, state, amount_minor, \
         currency, payload, created_at_ms, updated_at_ms, rail, counterparty, reason_code, \
         reason, final_at_ms) \
         SELECT value->>0, value->>1, value->>2, value->>3, value->>4, {amount}, value->>6, \
         value->>7, {created}, {updated}, value->>10, value->>11, value->>12, value->>13, \
         {final_at} FROM {rows} WHERE true \
         ON CONFLICT (ledger, event_id) DO NOTHING RETURNING id",
        amount = f.int("value->>5"),
        created = f.int("value->>8"),
        updated = f.int("value->>9"),
        final_at = f.int("value->>14"),
        rows = f.each(1, "j"),
    );
    let created = sqlx::query(&sql)
        .bind(json.finish())
        .fetch_all(&mut *conn)
        .await?;
    created
        .iter()
        .map(|row| Ok(row.try_get::<String, _>("id")?))
        .collect()
}

/// The settlement holding a (ledger, event id) key: its id, state and content hash.
pub type Holder = (SettlementId, SettlementState, String);

/// The settlements holding each of `keys` (ledger, event id), in one statement.
pub async fn find_keys(
    conn: &mut AnyConnection,
    keys: &[(&str, &str)],
) -> Result<HashMap<(String, String), Holder>, StoreError> {
    if keys.is_empty() {
        return Ok(HashMap::new());
    }
    let json: Vec<Value> = keys.iter().map(|(l, e)| json!([l, e])).collect();
    let sql = format!(
        "SELECT id, state, content_hash, ledger, event_id FROM settlements \
         WHERE (ledger, event_id) IN (SELECT value->>0, value->>1 FROM {})",
        Forms::of(conn).each(1, "j")
    );
    let rows = sqlx::query(&sql)
        .bind(Value::Array(json).to_string())
        .fetch_all(&mut *conn)
        .await?;
    let mut found = HashMap::with_capacity(rows.len());
    for row in rows {
        let id: String = row.try_get("id")?;
        let state: String = row.try_get("state")?;
        let holder = (
            SettlementId::parse(&id)
                .ok_or_else(|| StoreError::Corrupt(format!("bad settlement id {id:?}")))?,
            SettlementState::parse(&state)
                .ok_or_else(|| StoreError::Corrupt(format!("settlement {id}: state {state:?}")))?,
            row.try_get("content_hash")?,
        );
        found.insert((row.try_get("ledger")?, row.try_get("event_id")?), holder);
    }
    Ok(found)
}

/// Rows for several tables, written by [`Rows::write`] in one request.
#[derive(Default)]
pub struct Rows {
    transitions: JsonArray,
    messages: JsonArray,
    jobs: JsonArray,
    marks: JsonArray,
}

impl Rows {
    /// The audit rows of several moves of one settlement, in order, each checked against the
    /// transition table; a final last state also queues the write-back (as
    /// [`super::settlements::journal_transitions`]).
    pub fn transitions(
        &mut self,
        id: &SettlementId,
        steps: &[Step<'_>],
        at_ms: i64,
    ) -> Result<(), StoreError> {
        check_steps(id, steps)?;
        for step in steps {
            self.transitions.push(&(
                id.as_str(),
                step.from.map(SettlementState::as_str),
                step.to.as_str(),
                step.cause,
                step.detail,
                step.inbound_id,
                at_ms,
            ));
        }
        if steps.last().is_some_and(|s| s.to.is_final()) {
            self.job(Kind::Writeback, id, at_ms, at_ms);
        }
        Ok(())
    }

    /// A stored outbound message, not yet sent (as [`super::messages::insert`]).
    pub fn message(&mut self, m: &Outbound, now: i64) {
        let (text, hex) = blob_text_or_hex(&m.body);
        self.messages.push(&(
            m.settlement_id.as_str(),
            m.rail.as_str(),
            &m.counterparty,
            &m.kind,
            &m.msg_id,
            &m.biz_msg_idr,
            &m.instr_id,
            &m.end_to_end_id,
            &m.tx_id,
            &m.uetr,
            hex,
            &m.stan,
            &m.rrn,
            &m.transmitted_at,
            now,
            text,
        ));
    }

    /// A pending job, once per kind and settlement (as [`super::outbox::enqueue`]).
    pub fn job(&mut self, kind: Kind, settlement: &SettlementId, due_at_ms: i64, now: i64) {
        self.jobs
            .push(&(kind.as_str(), settlement.as_str(), due_at_ms, now));
    }

    /// A journal entry's status (as [`super::journal::mark`]).
    pub fn mark(&mut self, id: i64, status: Status, outcome: &Outcome<'_>, now: i64) {
        let detail: Option<String> = outcome
            .detail
            .map(|d| d.chars().take(super::journal::DETAIL_CHARS_MAX).collect());
        self.marks.push(&(
            id,
            status.as_str(),
            detail,
            outcome.settlement_id,
            outcome.message_kind,
            outcome.message_ref,
            now,
        ));
    }

    /// Writes every row: in one request on SQLite, one statement a table on PostgreSQL
    /// (leaving out the tables without rows).
    pub async fn write(self, conn: &mut AnyConnection) -> Result<(), StoreError> {
        let f = Forms::of(conn);
        let tables = [self.transitions, self.messages, self.jobs, self.marks];
        if f.sqlite() {
            static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            let sql = SQL.get_or_init(|| write_rows(f).join("; "));
            let mut query = sqlx::query(sql);
            for rows in tables {
                query = query.bind(rows.finish());
            }
            query.execute(conn).await?;
            return Ok(());
        }
        static SQL: std::sync::OnceLock<[String; 4]> = std::sync::OnceLock::new();
        for (sql, rows) in SQL.get_or_init(|| write_rows(f)).iter().zip(tables) {
            if !rows.is_empty() {
                sqlx::query(sql)
                    .bind(rows.finish())
                    .execute(&mut *conn)
                    .await?;
            }
        }
        Ok(())
    }
}

/// The statements of [`Rows::write`], one per table, each over its JSON array: on SQLite
/// (one request) the arrays are `$1` to `$4`, on PostgreSQL each statement's own `$1`.
fn write_rows(f: Forms) -> [String; 4] {
    let param = |n: usize| if f.sqlite() { n } else { 1 };
    [
        format!(
            "INSERT INTO settlement_transitions (settlement_id, from_state, to_state, cause, \
             detail, inbound_id, at_ms) SELECT value->>0, value->>1, value->>2, value->>3, \
             value->>4, {inbound}, {at} FROM {rows}",
            inbound = f.int("value->>5"),
            at = f.int("value->>6"),
            rows = f.each(param(1), "j"),
        ),
        format!(
            "INSERT INTO outbound_messages (settlement_id, rail, counterparty, kind, msg_id, \
             biz_msg_idr, instr_id, end_to_end_id, tx_id, uetr, body, send_count, stan, rrn, \
             transmitted_at, created_at_ms) SELECT value->>0, value->>1, value->>2, value->>3, \
             value->>4, value->>5, value->>6, value->>7, value->>8, value->>9, {body}, 0, \
             value->>11, value->>12, value->>13, {created} FROM {rows}",
            body = f.blob("value->>15", "value->>10"),
            created = f.int("value->>14"),
            rows = f.each(param(2), "j"),
        ),
        format!(
            "INSERT INTO outbox (kind, settlement_id, status, attempts, due_at_ms, \
             created_at_ms, updated_at_ms) SELECT value->>0, value->>1, 'pending', 0, {due}, \
             {now}, {now} FROM {rows} WHERE true ON CONFLICT (kind, settlement_id) DO NOTHING",
            due = f.int("value->>2"),
            now = f.int("value->>3"),
            rows = f.each(param(3), "j"),
        ),
        format!(
            "UPDATE inbound_journal SET status = v.value->>1, detail = v.value->>2, \
             settlement_id = COALESCE(v.value->>3, inbound_journal.settlement_id), \
             message_kind = COALESCE(v.value->>4, inbound_journal.message_kind), \
             message_ref = COALESCE(v.value->>5, inbound_journal.message_ref), \
             updated_at_ms = {now} FROM {rows} WHERE inbound_journal.id = {id}",
            now = f.int("v.value->>6"),
            rows = f.each(param(4), "v"),
            id = f.int("v.value->>0"),
        ),
    ]
}

/// The forms a merged statement's pieces take on the database of a connection: the SQL of
/// both is built from them, so that the two cannot drift apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Forms(pub Dialect);

impl Forms {
    pub fn of(conn: &AnyConnection) -> Forms {
        Forms(super::dialect_of(conn))
    }

    pub fn sqlite(self) -> bool {
        self.0 == Dialect::Sqlite
    }

    /// The JSON array bound as parameter `n`, as a table named `alias` with a column `value`
    /// (each element, as JSON) and a column `key` that orders the elements as in the array.
    /// The elements are arrays or objects (rows), never bare strings: `jsonb` would refuse a
    /// string's text ([`Forms::each_text`] reads arrays of strings).
    ///
    /// On SQLite each element becomes binary JSON (`jsonb`) once, in a subquery that
    /// `OFFSET 0` keeps from being merged into the statement. `json_each` gives an array
    /// element as JSON text, converted anew each time `value` is named, and each `->>` looks
    /// that text up or parses it again: a row of sixteen columns cost sixteen conversions of
    /// the whole row, message body included (SQLite's JSON functions were about 5 % of the
    /// gateway's CPU flat out). `->>` reads binary JSON in place.
    pub fn each(self, n: usize, alias: &str) -> String {
        match self.0 {
            Dialect::Sqlite => format!(
                "(SELECT key, jsonb(value) AS value FROM json_each(${n}) LIMIT -1 OFFSET 0) \
                 AS {alias}"
            ),
            Dialect::Postgres => {
                format!("jsonb_array_elements(${n}::jsonb) WITH ORDINALITY AS {alias}(value, key)")
            }
        }
    }

    /// As [`Forms::each`] for an array of strings, `value` being each string as text.
    pub fn each_text(self, n: usize, alias: &str) -> String {
        match self.0 {
            Dialect::Sqlite => format!("json_each(${n}) AS {alias}"),
            Dialect::Postgres => format!(
                "jsonb_array_elements_text(${n}::jsonb) WITH ORDINALITY AS {alias}(value, key)"
            ),
        }
    }

    /// `expr`, a JSON number read with `->>`, as an integer (SQLite reads it as one already;
    /// PostgreSQL's `->>` gives text).
    pub fn int(self, expr: &str) -> String {
        match self.0 {
            Dialect::Sqlite => expr.to_string(),
            Dialect::Postgres => format!("CAST({expr} AS BIGINT)"),
        }
    }

    /// A blob from a merged row that carries it as text (`text`) or as hex (`hex`), the other
    /// being null (see [`blob_text`]).
    pub fn blob(self, text: &str, hex: &str) -> String {
        match self.0 {
            Dialect::Sqlite => format!("COALESCE(CAST({text} AS BLOB), unhex({hex}))"),
            Dialect::Postgres => {
                format!("COALESCE(convert_to({text}, 'UTF8'), decode({hex}, 'hex'))")
            }
        }
    }

    /// A join that keeps the tables in the order written: SQLite's `CROSS JOIN` (which there
    /// takes an `ON` and fixes the order); PostgreSQL's plain `JOIN` (its `CROSS JOIN` takes
    /// no `ON`, and its planner needs no hint).
    pub fn join_in_order(self) -> &'static str {
        match self.0 {
            Dialect::Sqlite => "CROSS JOIN",
            Dialect::Postgres => "JOIN",
        }
    }

    /// A column compared without its index, so that each row is found by its key from the
    /// list rather than by scanning an index on `column` (on status or state: every row in
    /// that status, and on PostgreSQL the dead versions of all that left it since the last
    /// vacuum) once per statement or per entry of the list. SQLite's unary `+`; on
    /// PostgreSQL an expression the index does not cover.
    pub fn unindexed(self, column: &str) -> String {
        match self.0 {
            Dialect::Sqlite => format!("+{column}"),
            Dialect::Postgres => format!("({column} || '')"),
        }
    }
}

/// A blob as the text of a merged row, when it is text: UTF-8 with no control character but
/// tab, line feed and carriage return (the XML, JSON and CSV we store), read back with
/// `CAST(… AS BLOB)`, byte for byte. Half the size of hex, and neither encoded nor decoded.
/// Anything else (an ISO 8583 message) goes as hex ([`blob_text_or_hex`]); a row carries one of
/// the two, the other null, and the statement takes `COALESCE(CAST(text AS BLOB),
/// unhex(hex))`.
pub(crate) fn blob_text(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    let plain = text
        .bytes()
        .all(|b| (b >= 0x20 && b != 0x7f) || matches!(b, b'\t' | b'\n' | b'\r'));
    plain.then_some(text)
}

/// What a row carries of a blob: its text ([`blob_text`]), or else its hex; the other null.
pub(crate) fn blob_text_or_hex(bytes: &[u8]) -> (Option<&str>, Option<String>) {
    match blob_text(bytes) {
        Some(text) => (Some(text), None),
        None => (None, Some(hex::encode(bytes))),
    }
}

/// The rows of one merged statement as the JSON array it binds, each row (a tuple, written as
/// an array) serialised as it is added, with no `serde_json::Value` built in between.
#[derive(Debug, Default)]
pub struct JsonArray(Vec<u8>);

impl JsonArray {
    pub fn push(&mut self, row: &impl serde::Serialize) {
        self.0.push(if self.0.is_empty() { b'[' } else { b',' });
        serde_json::to_writer(&mut self.0, row).expect("a row is written to memory");
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The array's text.
    pub fn finish(mut self) -> String {
        if self.0.is_empty() {
            return "[]".to_string();
        }
        self.0.push(b']');
        String::from_utf8(self.0).expect("serde_json writes UTF-8")
    }
}

#[cfg(test)]
mod blob_tests {
    use super::{blob_text, blob_text_or_hex, JsonArray};
    use sqlx::Row;

    /// A row written as a tuple is the array `json!` made of the same values, and no row is an
    /// empty array.
    #[test]
    fn rows_are_the_arrays_json_made() {
        assert_eq!(JsonArray::default().finish(), "[]");
        let mut rows = JsonArray::default();
        let none: Option<&str> = None;
        rows.push(&("a \"quoted\" \\ M\u{fc}ller\n", none, -7i64, Some(3u32)));
        rows.push(&(i64::MAX, "second", Some("x"), none));
        let expected = serde_json::json!([
            ["a \"quoted\" \\ M\u{fc}ller\n", null, -7, 3],
            [i64::MAX, "second", "x", null],
        ]);
        assert_eq!(rows.finish(), expected.to_string());
    }

    /// Each kind of blob comes back from a merged row byte for byte: XML and JSON as text
    /// (quotes, backslashes, non-ASCII, line ends), anything else as hex (binary, a NUL, an
    /// escape character, invalid UTF-8), through SQLite's own JSON reading.
    #[tokio::test]
    async fn blobs_come_back_byte_for_byte() {
        let blobs: Vec<Vec<u8>> = vec![
            "<Document xmlns=\"urn:x\"><Nm>Zo\u{eb} \"Q\" \\ &amp;</Nm></Document>"
                .as_bytes()
                .to_vec(),
            "{\"name\": \"M\u{fc}ller\", \"memo\": \"a\\tb\"}\r\n\tend"
                .as_bytes()
                .to_vec(),
            Vec::new(),
            vec![0x02, 0x00, 0xff, 0x30, 0x80],
            b"text with a \x1b escape".to_vec(),
            b"nul \x00 inside".to_vec(),
            vec![0xc3, 0x28],
        ];
        let kinds: Vec<bool> = blobs.iter().map(|b| blob_text(b).is_some()).collect();
        assert_eq!(kinds, [true, true, true, false, false, false, false]);
        let mut rows = JsonArray::default();
        for blob in &blobs {
            let (text, hex) = blob_text_or_hex(blob);
            rows.push(&(hex, text));
        }
        sqlx::any::install_default_drivers();
        let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect("sqlite::memory:")
            .await
            .unwrap();
        let back: Vec<Vec<u8>> = sqlx::query(
            "SELECT COALESCE(CAST(value->>1 AS BLOB), unhex(value->>0)) AS b \
             FROM json_each($1) ORDER BY key",
        )
        .bind(rows.finish())
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|row| row.get::<Vec<u8>, _>("b"))
        .collect();
        assert_eq!(back, blobs);
    }
}

#[cfg(test)]
mod tests {
    //! Merged completions and send records: a caller whose lease was lost is answered false
    //! and nothing of it is written, while the others' writes commit; on SQLite in one merged
    //! group, on PostgreSQL each alone.
    use crate::store::outbox::{self, Completion, Job, SendRecord};
    use crate::store::testing::{config, each, event};
    use crate::store::{journal, Store};
    use sqlx::Row;

    /// Three settlements taken in (so each has a message and a deliver job), their jobs
    /// claimed by `w`, the second's lease then taken over by `other`.
    async fn claimed(store: &Store) -> Vec<Job> {
        let config = config();
        for n in 0..3 {
            let inbound = journal::record(
                store,
                journal::Channel::LedgerHttp,
                Some("l"),
                None,
                b"{}",
                journal::AuthenticatedBy::Signature,
            )
            .await
            .unwrap();
            let events = vec![event(&format!("e{n}"), "10.00")];
            crate::intake::accept_events(store, &config, "l", inbound, events)
                .await
                .unwrap();
        }
        let jobs = outbox::claim(store, "w", crate::store::now_ms(), 60_000, 10)
            .await
            .unwrap();
        assert_eq!(jobs.len(), 3);
        sqlx::query("UPDATE outbox SET lease_owner = 'other' WHERE id = $1")
            .bind(jobs[1].id)
            .execute(store.pool())
            .await
            .unwrap();
        jobs
    }

    /// The message id of each job's stored pacs.008.
    async fn msg_ids(store: &Store, jobs: &[Job]) -> Vec<String> {
        let mut conn = store.pool().acquire().await.unwrap();
        let mut ids = Vec::new();
        for job in jobs {
            let sid = &job.settlement_id;
            let m = crate::store::messages::required(&mut conn, sid, "pacs.008.001.08")
                .await
                .unwrap();
            ids.push(m.msg_id);
        }
        ids
    }

    async fn column_i64(store: &Store, sql: &str, key: &str) -> Option<i64> {
        sqlx::query(sql)
            .bind(key)
            .fetch_one(store.pool())
            .await
            .unwrap()
            .try_get(0)
            .unwrap()
    }

    /// Merged sends of `jobs` by `w`, the i-th naming `named[i]`, stamped `transmitted_at`;
    /// whether each lease held.
    async fn send_merged(
        store: &Store,
        jobs: &[Job],
        named: &[&String],
        transmitted_at: Option<&str>,
    ) -> Vec<bool> {
        let sends = jobs
            .iter()
            .zip(named)
            .map(|(job, msg_id)| SendRecord {
                job: job.clone(),
                owner: "w".into(),
                lease_ms: 120_000,
                msg_id: msg_id.to_string(),
                transmitted_at: transmitted_at.map(str::to_string),
            })
            .collect();
        store
            .group()
            .write_merging(sends)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect()
    }

    async fn send_count(store: &Store, msg_id: &str) -> Option<i64> {
        column_i64(
            store,
            "SELECT send_count FROM outbound_messages WHERE msg_id = $1",
            msg_id,
        )
        .await
    }

    /// Each job's status and lease owner, and whether its settlement is written back.
    async fn completed(store: &Store, jobs: &[Job]) -> (Vec<(String, Option<String>)>, Vec<bool>) {
        let mut status = Vec::new();
        let mut written_back = Vec::new();
        for job in jobs {
            let row = sqlx::query("SELECT status, lease_owner FROM outbox WHERE id = $1")
                .bind(job.id)
                .fetch_one(store.pool())
                .await
                .unwrap();
            status.push((
                row.get::<String, _>("status"),
                row.get::<Option<String>, _>("lease_owner"),
            ));
            let back = column_i64(
                store,
                "SELECT written_back_at_ms FROM settlements WHERE id = $1",
                job.settlement_id.as_str(),
            )
            .await;
            written_back.push(back.is_some());
        }
        (status, written_back)
    }

    /// The sequential scans of the tables a send and a completion write that this
    /// connection has not reported yet (its transaction's, and those of its earlier ones
    /// still pending).
    async fn scans(conn: &mut sqlx::AnyConnection) -> i64 {
        sqlx::query(
            "SELECT CAST(COALESCE(SUM(seq_scan), 0) AS BIGINT) FROM pg_stat_xact_user_tables \
             WHERE relname IN ('outbox', 'settlements', 'outbound_messages')",
        )
        .fetch_one(conn)
        .await
        .unwrap()
        .get(0)
    }

    /// On PostgreSQL the merged sends and completions reach their rows by key even on tables
    /// this small, where the planner left to itself hashes the list and scans the table
    /// (README, round 13): in a transaction begun as a group writer begins its own, they scan
    /// no table. SQLite has no such choice to check.
    #[tokio::test]
    async fn merged_lease_writes_scan_no_table_on_postgres() {
        use crate::store::group::{begin_merged, Merge};
        let name = "merged_lease_writes_scan_no_table_on_postgres";
        let Some(each) = crate::store::testing::postgres_only(name).await else {
            return;
        };
        let store = each.store.clone();
        let jobs = claimed(&store).await;
        let sends: Vec<SendRecord> = jobs
            .iter()
            .zip(msg_ids(&store, &jobs).await)
            .map(|(job, msg_id)| SendRecord {
                job: job.clone(),
                owner: "w".into(),
                lease_ms: 120_000,
                msg_id,
                transmitted_at: None,
            })
            .collect();
        let mut conn = store.pool().acquire().await.unwrap();
        let completions: Vec<Completion> = jobs
            .iter()
            .map(|job| Completion {
                job: job.clone(),
                owner: "w".into(),
                written_back: true,
            })
            .collect();
        let begin = begin_merged(store.dialect());
        sqlx::Executor::execute(&mut *conn, begin).await.unwrap();
        let before = scans(&mut conn).await;
        let sent = SendRecord::write_all(&mut conn, &sends).await.unwrap();
        let done = Completion::write_all(&mut conn, &completions)
            .await
            .unwrap();
        let after = scans(&mut conn).await;
        sqlx::Executor::execute(&mut *conn, "ROLLBACK")
            .await
            .unwrap();
        let expected = vec![Some(true), Some(false), Some(true)];
        assert_eq!((sent, done), (expected.clone(), expected));
        assert_eq!(after, before, "merged writes scanned a table");
        drop(conn);
        each.finish().await;
    }

    /// Two sends of a group that name the same message (two jobs sending it) count two sends
    /// of it, as they would one after the other; a send whose lease was lost counts none.
    #[tokio::test]
    async fn a_message_named_by_two_sends_of_a_group_is_counted_twice() {
        for each in each("a_message_named_by_two_sends_of_a_group_is_counted_twice").await {
            let store = each.store.clone();
            let jobs = claimed(&store).await;
            let msg_ids = msg_ids(&store, &jobs).await;
            // The first and third jobs hold their leases, the second's was taken over.
            let named = [&msg_ids[0], &msg_ids[1], &msg_ids[0]];
            let held = send_merged(&store, &jobs, &named, None).await;
            assert_eq!(held, vec![true, false, true], "{:?}", store.dialect());
            for (msg_id, count) in msg_ids.iter().zip([2, 0, 0]) {
                let sent = send_count(&store, msg_id).await;
                assert_eq!(sent, Some(count), "{msg_id} on {:?}", store.dialect());
                let first = column_i64(
                    &store,
                    "SELECT first_sent_at_ms FROM outbound_messages WHERE msg_id = $1",
                    msg_id,
                )
                .await;
                assert_eq!(first.is_some(), count > 0, "{msg_id}");
            }
            each.finish().await;
        }
    }

    #[tokio::test]
    async fn a_lost_lease_is_answered_alone_in_merged_sends_and_completions() {
        for each in each("a_lost_lease_is_answered_alone_in_merged_sends_and_completions").await {
            let store = each.store.clone();
            let jobs = claimed(&store).await;
            let msg_ids = msg_ids(&store, &jobs).await;
            let named: Vec<&String> = msg_ids.iter().collect();
            let held = send_merged(&store, &jobs, &named, Some("1231235959")).await;
            assert_eq!(held, vec![true, false, true], "{:?}", store.dialect());
            for (msg_id, count) in msg_ids.iter().zip([1, 0, 1]) {
                let sent = send_count(&store, msg_id).await;
                assert_eq!(sent, Some(count), "{msg_id}");
                // The transmission time is stored with a send whose lease held, only.
                let stamped: Option<String> =
                    sqlx::query("SELECT transmitted_at FROM outbound_messages WHERE msg_id = $1")
                        .bind(msg_id)
                        .fetch_one(store.pool())
                        .await
                        .unwrap()
                        .get(0);
                let expected = (count == 1).then(|| "1231235959".to_string());
                assert_eq!(stamped, expected, "{msg_id}");
            }
            let completions = jobs
                .iter()
                .enumerate()
                .map(|(i, job)| Completion {
                    job: job.clone(),
                    owner: "w".into(),
                    written_back: i < 2,
                })
                .collect();
            let held: Vec<bool> = store
                .group()
                .write_merging(completions)
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect();
            assert_eq!(held, vec![true, false, true]);
            let (status, written_back) = completed(&store, &jobs).await;
            let done = || ("done".to_string(), None);
            assert_eq!(
                status,
                vec![
                    done(),
                    ("leased".to_string(), Some("other".to_string())),
                    done()
                ]
            );
            // Only the first asked for its write-back to be recorded, and held its lease.
            assert_eq!(written_back, vec![true, false, false]);
            each.finish().await;
        }
    }
}
