//! The inbound journal (DESIGN.md decision 7): every event, answer, callback and statement is
//! stored raw and unchanged before it is applied: in its own committed transaction, or (a
//! ledger's post, see [`crate::intake::accept_post`]) first in the transaction that applies
//! it, so that the two are durable together. Its status then says what became of it.
//!
//! Each entry says how its sender was authenticated ([`AuthenticatedBy`]). Recovery at start
//! applies only authenticated entries: a forged answer refused before a crash can never be
//! applied after it. What an unauthenticated caller sent is kept bounded ([`record_refused`]:
//! headers, size, SHA-256 and a prefix) and expires ([`expire_refused`]), so that nobody can
//! fill the disk without a key; every authenticated entry is kept whole, for ever.

use super::{now_ms, Store, StoreError};
use sqlx::{AnyConnection, FromRow, Row};

crate::text_enum! {
    /// Where an inbound message came from.
    pub enum Channel {
        /// `POST /v1/ledger/events`.
        LedgerHttp => "ledger-http",
        /// `corridor ingest FILE`.
        LedgerFile => "ledger-file",
        /// The body of a bank's HTTP answer to our send.
        BankResponse => "bank-response",
        /// `POST /v1/banks/{bank}/messages`.
        BankCallback => "bank-callback",
        /// An ISO 8583 switch's answer to our request (re-encoded from the decoded message).
        SwitchResponse => "switch-response",
        /// Anything else a switch sent: late or unmatched answers, requests, undecodable frames.
        SwitchMessage => "switch-message",
        /// `SettlementRequested` logs an EVM ledger's follower read from the chain.
        LedgerEvm => "ledger-evm",
    }
}

crate::text_enum! {
    /// How the sender of a journaled message was authenticated. An entry without one is never
    /// applied, now or by recovery.
    pub enum AuthenticatedBy {
        /// A webhook signature (HMAC-SHA256 over timestamp and body) checked against our secrets.
        Signature => "signature",
        /// The body of a bank's answer on a connection we opened with mutual TLS.
        MutualTls => "mutual-tls",
        /// A message on the configured ISO 8583 link to a switch.
        SwitchLink => "switch-link",
        /// A file an operator handed to the CLI (`corridor ingest`).
        Operator => "operator",
        /// Logs read from the configured chain node, emitted by the contract (which admits
        /// requests from its operator only).
        ChainNode => "chain-node",
    }
}

crate::text_enum! {
    /// What became of an inbound message.
    pub enum Status {
        /// Stored, not yet applied (or the process stopped while applying it).
        Received => "received",
        Applied => "applied",
        /// Refused: malformed, unauthenticated, too large, invalid content.
        Rejected => "rejected",
        /// Already applied before: same key, same content.
        Duplicate => "duplicate",
        /// Same key, other content, or an answer contradicting a final state.
        Conflict => "conflict",
        /// Names nothing we sent.
        Unmatched => "unmatched",
    }
}

/// Stores a raw message from an authenticated sender, whole, and commits; returns its
/// journal id.
pub async fn record(
    store: &Store,
    channel: Channel,
    source: Option<&str>,
    content_type: Option<&str>,
    raw: &[u8],
    authenticated_by: AuthenticatedBy,
) -> Result<i64, StoreError> {
    let entry = received(channel, source, content_type, raw, authenticated_by);
    store.write_merged(entry).await
}

/// A request refused before its sender was authenticated (unknown ledger or bank, bad
/// signature, a body over the limit).
#[derive(Clone, Debug)]
pub struct Refusal<'a> {
    pub channel: Channel,
    pub source: Option<&'a str>,
    pub content_type: Option<&'a str>,
    /// The request's headers as JSON, secrets left out (see [`headers_json`]).
    pub headers: Option<&'a str>,
    /// The body as read (possibly already cut at the body limit).
    pub body: &'a [u8],
    /// How much of the body is kept.
    pub prefix_bytes_max: usize,
    pub reason: &'a str,
}

/// Stores what an operator needs of a refused, unauthenticated request (headers, size,
/// SHA-256 of the body and its first `prefix_bytes_max` bytes), already marked `rejected`,
/// and commits. Such entries expire ([`expire_refused`]).
pub async fn record_refused(store: &Store, refusal: &Refusal<'_>) -> Result<i64, StoreError> {
    let kept = &refusal.body[..refusal.body.len().min(refusal.prefix_bytes_max)];
    insert(
        store,
        &NewEntry {
            channel: refusal.channel,
            source: refusal.source,
            content_type: refusal.content_type,
            kept,
            size_bytes: refusal.body.len(),
            sha256: sha256_hex(refusal.body),
            headers: refusal.headers,
            status: Status::Rejected,
            detail: Some(refusal.reason),
            authenticated_by: None,
        },
    )
    .await
}

struct NewEntry<'a> {
    channel: Channel,
    source: Option<&'a str>,
    content_type: Option<&'a str>,
    kept: &'a [u8],
    size_bytes: usize,
    sha256: String,
    headers: Option<&'a str>,
    status: Status,
    detail: Option<&'a str>,
    authenticated_by: Option<AuthenticatedBy>,
}

/// Inserts in a group commit (see [`super::group`]), merged with the other entries queued
/// meanwhile: returns once the entry is durable.
async fn insert(store: &Store, row: &NewEntry<'_>) -> Result<i64, StoreError> {
    store.write_merged(Insert::new(row)).await
}

/// An authenticated message to journal whole, as [`record`] does, in a write of the
/// caller's (a ledger's post journaled and applied in one commit, see
/// [`crate::intake::accept_post`]).
pub(crate) fn received(
    channel: Channel,
    source: Option<&str>,
    content_type: Option<&str>,
    raw: &[u8],
    authenticated_by: AuthenticatedBy,
) -> Insert {
    Insert::new(&NewEntry {
        channel,
        source,
        content_type,
        kept: raw,
        size_bytes: raw.len(),
        sha256: sha256_hex(raw),
        headers: None,
        status: Status::Received,
        detail: None,
        authenticated_by: Some(authenticated_by),
    })
}

/// Most bytes of raw messages one merged insert of journal entries holds.
pub(crate) const MERGED_BYTES_MAX: usize = 8 << 20;

/// A journal entry waiting in the group writer's queue.
pub(crate) struct Insert {
    now: i64,
    channel: &'static str,
    source: Option<String>,
    content_type: Option<String>,
    kept: Vec<u8>,
    status: &'static str,
    detail: Option<String>,
    authenticated_by: Option<&'static str>,
    size_bytes: i64,
    sha256: String,
    headers: Option<String>,
}

impl Insert {
    fn new(row: &NewEntry<'_>) -> Insert {
        Insert {
            now: now_ms(),
            channel: row.channel.as_str(),
            source: row.source.map(str::to_string),
            content_type: row.content_type.map(str::to_string),
            kept: row.kept.to_vec(),
            status: row.status.as_str(),
            detail: row
                .detail
                .map(|d| d.chars().take(DETAIL_CHARS_MAX).collect()),
            authenticated_by: row.authenticated_by.map(AuthenticatedBy::as_str),
            size_bytes: i64::try_from(row.size_bytes).unwrap_or(i64::MAX),
            sha256: row.sha256.clone(),
            headers: row.headers.map(str::to_string),
        }
    }

    /// Bytes of the raw message the entry keeps.
    pub(crate) fn kept_bytes(&self) -> usize {
        self.kept.len()
    }

    /// The entry as a row of the merged INSERT's JSON (the body as text or hex, see
    /// [`super::merged::blob_text`]).
    fn row(&self, rows: &mut super::merged::JsonArray) {
        let (text, hex) = super::merged::blob_text_or_hex(&self.kept);
        rows.push(&(
            self.now,
            &self.channel,
            &self.source,
            &self.content_type,
            hex,
            &self.status,
            &self.detail,
            &self.authenticated_by,
            self.size_bytes,
            &self.sha256,
            &self.headers,
            text,
        ));
    }
}

impl super::group::Merge for Insert {
    type Output = i64;

    /// Every entry of the group in one statement ([`insert_all`]); when it fails, each
    /// entry is then inserted alone.
    fn write_all<'c>(
        conn: &'c mut AnyConnection,
        items: &'c [Self],
    ) -> futures::future::BoxFuture<'c, Result<Vec<Option<i64>>, StoreError>> {
        Box::pin(async move {
            // The entries that fit the bound on bytes (hex doubles them in the statement);
            // the rest are inserted alone.
            let mut room = MERGED_BYTES_MAX;
            let fit = items
                .iter()
                .take_while(|e| match room.checked_sub(e.kept.len()) {
                    Some(left) => {
                        room = left;
                        true
                    }
                    None => false,
                })
                .count();
            let (items, rest) = items.split_at(fit);
            let ids = insert_all(conn, &items.iter().collect::<Vec<_>>()).await?;
            let alone = rest.iter().map(|_| None);
            Ok(ids.into_iter().map(Some).chain(alone).collect())
        })
    }

    fn write_one(
        self,
        conn: &mut AnyConnection,
    ) -> futures::future::BoxFuture<'_, Result<i64, StoreError>> {
        Box::pin(async move {
            let inserted = sqlx::query(
                "INSERT INTO inbound_journal (received_at_ms, channel, source, content_type, \
                 raw, status, detail, updated_at_ms, authenticated_by, size_bytes, sha256, \
                 headers) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
                 RETURNING id",
            )
            .bind(self.now)
            .bind(self.channel)
            .bind(self.source)
            .bind(self.content_type)
            .bind(self.kept)
            .bind(self.status)
            .bind(self.detail)
            .bind(self.now)
            .bind(self.authenticated_by)
            .bind(self.size_bytes)
            .bind(self.sha256)
            .bind(self.headers)
            .fetch_one(conn)
            .await?;
            Ok(inserted.try_get("id")?)
        })
    }
}

/// Inserts `entries` in one statement and returns their ids, in order. The ids come back in
/// no promised order: they are matched to the entries by their order (each new id is the next
/// one), and each match is checked by the entry's hash, source and channel; a mismatch is an
/// error (the caller's savepoint then rolls the statement back).
pub(crate) async fn insert_all(
    conn: &mut AnyConnection,
    entries: &[&Insert],
) -> Result<Vec<i64>, StoreError> {
    let mut rows = super::merged::JsonArray::default();
    for entry in entries {
        entry.row(&mut rows);
    }
    let f = super::merged::Forms::of(conn);
    let sql = format!(
        "INSERT INTO inbound_journal (received_at_ms, channel, source, content_type, raw, \
         status, detail, updated_at_ms, authenticated_by, size_bytes, sha256, headers) \
         SELECT {at}, value->>1, value->>2, value->>3, {raw}, value->>5, \
         value->>6, {at}, value->>7, {size}, value->>9, value->>10 \
         FROM {rows} RETURNING id, sha256, source, channel",
        at = f.int("value->>0"),
        raw = f.blob("value->>11", "value->>4"),
        size = f.int("value->>8"),
        rows = f.each(1, "j"),
    );
    let mut inserted = sqlx::query(&sql)
        .bind(rows.finish())
        .fetch_all(conn)
        .await?
        .iter()
        .map(|row| {
            let id: i64 = row.try_get("id")?;
            let key: (String, Option<String>, String) = (
                row.try_get("sha256")?,
                row.try_get("source")?,
                row.try_get("channel")?,
            );
            Ok((id, key))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    inserted.sort_by_key(|(id, _)| *id);
    let matched = inserted.len() == entries.len()
        && inserted
            .iter()
            .zip(entries)
            .all(|((_, (sha, source, channel)), e)| {
                *sha == e.sha256 && *source == e.source && channel == e.channel
            });
    if !matched {
        return Err(StoreError::Corrupt(
            "merged journal entries came back out of order".into(),
        ));
    }
    Ok(inserted.into_iter().map(|(id, _)| id).collect())
}

/// Most characters of a journal entry's detail.
pub(crate) const DETAIL_CHARS_MAX: usize = 2000;

/// Most headers, and characters per header value, kept of a refused request.
const HEADERS_KEPT_MAX: usize = 32;
const HEADER_VALUE_CHARS_MAX: usize = 256;

/// A request's headers as a JSON object for the journal: credentials (`authorization`,
/// `cookie`) are left out, and the count and each value are bounded.
pub fn headers_json<'a>(headers: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> String {
    let mut kept = serde_json::Map::new();
    for (name, value) in headers.into_iter().take(HEADERS_KEPT_MAX) {
        if matches!(name, "authorization" | "cookie" | "proxy-authorization") {
            continue;
        }
        let text: String = String::from_utf8_lossy(value)
            .chars()
            .take(HEADER_VALUE_CHARS_MAX)
            .collect();
        kept.insert(name.to_string(), serde_json::Value::String(text));
    }
    serde_json::Value::Object(kept).to_string()
}

/// SHA-256 of a message exactly as received, in lower-case hex.
pub fn sha256_hex(raw: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(raw))
}

/// What applying a journaled message found.
#[derive(Clone, Debug, Default)]
pub struct Outcome<'a> {
    pub detail: Option<&'a str>,
    pub settlement_id: Option<&'a str>,
    pub message_kind: Option<&'a str>,
    pub message_ref: Option<&'a str>,
}

/// Records the status of a journaled message (inside the transaction that applied it, when
/// there is one, so that "applied" and the state change commit together).
pub async fn mark(
    conn: &mut AnyConnection,
    id: i64,
    status: Status,
    outcome: &Outcome<'_>,
) -> Result<(), StoreError> {
    let detail: Option<String> = outcome
        .detail
        .map(|d| d.chars().take(DETAIL_CHARS_MAX).collect());
    sqlx::query(
        "UPDATE inbound_journal SET status = $1, detail = $2, \
         settlement_id = COALESCE($3, settlement_id), message_kind = COALESCE($4, message_kind), \
         message_ref = COALESCE($5, message_ref), updated_at_ms = $6 WHERE id = $7",
    )
    .bind(status.as_str())
    .bind(detail)
    .bind(outcome.settlement_id)
    .bind(outcome.message_kind)
    .bind(outcome.message_ref)
    .bind(now_ms())
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A journal entry as operators (and reconciliation) see it.
#[derive(Clone, Debug, serde::Serialize, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
    pub received_at_ms: i64,
    pub channel: Channel,
    pub source: Option<String>,
    pub status: Status,
    pub detail: Option<String>,
    pub settlement_id: Option<String>,
    pub message_kind: Option<String>,
    pub message_ref: Option<String>,
    /// How the sender was authenticated; `None`: never (the entry is never applied).
    pub authenticated_by: Option<AuthenticatedBy>,
    /// Size of the body as received (for a refused request, more than `raw` may keep).
    pub size_bytes: Option<i64>,
    /// SHA-256 of the body as received, hex.
    pub sha256: Option<String>,
    /// The raw bytes, exactly as received (for a refused request, their first part). Lists
    /// leave them out (they can be large); [`get`] reads them.
    #[serde(skip)]
    #[sqlx(default)]
    pub raw: Vec<u8>,
}

fn entry(row: &sqlx::any::AnyRow) -> Result<Entry, StoreError> {
    Ok(Entry::from_row(row)?)
}

const LIST_COLUMNS: &str = "id, received_at_ms, channel, source, status, detail, settlement_id, \
    message_kind, message_ref, authenticated_by, size_bytes, sha256";
const COLUMNS: &str = "id, received_at_ms, channel, source, status, detail, settlement_id, \
    message_kind, message_ref, authenticated_by, size_bytes, sha256, raw";

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<Entry>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM inbound_journal WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(entry).transpose()
}

/// Newest first, optionally in one status, at most `limit` (capped at 1000).
pub async fn list(
    conn: &mut AnyConnection,
    status: Option<Status>,
    limit: i64,
) -> Result<Vec<Entry>, StoreError> {
    let rows = sqlx::query(&list_sql(status))
        .bind(limit.clamp(1, 1000))
        .fetch_all(conn)
        .await?;
    rows.iter().map(entry).collect()
}

/// The statement of [`list`] (parameter: the limit). The status is written into it, not
/// bound: on PostgreSQL the index on (status, id) holds the entries not applied only
/// (migration 0022), and the planner uses it for a status it can see is not `applied`,
/// never for a parameter.
fn list_sql(status: Option<Status>) -> String {
    match status {
        Some(status) => format!(
            "SELECT {LIST_COLUMNS} FROM inbound_journal WHERE status = '{}' \
             ORDER BY id DESC LIMIT $1",
            status.as_str()
        ),
        None => format!("SELECT {LIST_COLUMNS} FROM inbound_journal ORDER BY id DESC LIMIT $1"),
    }
}

/// Entries per status.
pub async fn count_by_status(conn: &mut AnyConnection) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM inbound_journal GROUP BY status")
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("status")?, row.try_get("n")?)))
        .collect()
}

/// Entries journaled but not applied because the process stopped in between (status
/// `received`), oldest first, at most `limit`: only authenticated ones, raw bytes included.
pub async fn unapplied(conn: &mut AnyConnection, limit: i64) -> Result<Vec<Entry>, StoreError> {
    let rows = sqlx::query(&unapplied_sql())
        .bind(limit)
        .fetch_all(conn)
        .await?;
    rows.iter().map(entry).collect()
}

/// The statement of [`unapplied`] (parameter: the limit), its status written into it (see
/// [`list_sql`]).
fn unapplied_sql() -> String {
    format!(
        "SELECT {COLUMNS} FROM inbound_journal WHERE status = '{}' \
         AND authenticated_by IS NOT NULL ORDER BY id LIMIT $1",
        Status::Received.as_str()
    )
}

/// Marks `rejected` every entry still `received` whose sender was never authenticated (left
/// by a version that journaled before checking): such an entry is never applied. Returns how
/// many there were.
pub async fn reject_unauthenticated(conn: &mut AnyConnection) -> Result<u64, StoreError> {
    let done = sqlx::query(
        "UPDATE inbound_journal SET status = $1, detail = $2, updated_at_ms = $3 \
         WHERE status = $4 AND authenticated_by IS NULL",
    )
    .bind(Status::Rejected.as_str())
    .bind("never authenticated: not applied")
    .bind(now_ms())
    .bind(Status::Received.as_str())
    .execute(conn)
    .await?;
    Ok(done.rows_affected())
}

/// What [`expire_refused`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Expired {
    /// Entries deleted.
    pub deleted: u64,
    /// Bytes still kept of refused, unauthenticated requests.
    pub bytes_kept: i64,
}

/// Rows deleted per statement, so that an expiry never holds the store for long.
const EXPIRE_BATCH_ROWS: i64 = 500;

/// Deletes what was kept of refused, unauthenticated requests received before
/// `received_before_ms`, then the oldest of the rest while they hold more than `bytes_max`.
/// Authenticated entries are never deleted.
pub async fn expire_refused(
    conn: &mut AnyConnection,
    received_before_ms: i64,
    bytes_max: i64,
) -> Result<Expired, StoreError> {
    let mut expired = Expired::default();
    let aged = sqlx::query(
        "DELETE FROM inbound_journal WHERE authenticated_by IS NULL AND status = $1 \
         AND received_at_ms < $2",
    )
    .bind(Status::Rejected.as_str())
    .bind(received_before_ms)
    .execute(&mut *conn)
    .await?;
    expired.deleted += aged.rows_affected();
    loop {
        let row = sqlx::query(
            "SELECT CAST(COALESCE(SUM(LENGTH(raw)), 0) AS BIGINT) AS kept FROM inbound_journal \
             WHERE authenticated_by IS NULL AND status = $1",
        )
        .bind(Status::Rejected.as_str())
        .fetch_one(&mut *conn)
        .await?;
        expired.bytes_kept = row.try_get("kept")?;
        if expired.bytes_kept <= bytes_max {
            return Ok(expired);
        }
        // The oldest entries that together free at least the excess.
        let excess = expired.bytes_kept - bytes_max;
        let oldest = sqlx::query(
            "SELECT id, CAST(LENGTH(raw) AS BIGINT) AS bytes FROM inbound_journal \
             WHERE authenticated_by IS NULL AND status = $1 ORDER BY id LIMIT $2",
        )
        .bind(Status::Rejected.as_str())
        .bind(EXPIRE_BATCH_ROWS)
        .fetch_all(&mut *conn)
        .await?;
        let (mut freed, mut cutoff) = (0i64, None);
        for row in &oldest {
            freed += row.try_get::<i64, _>("bytes")?;
            cutoff = Some(row.try_get::<i64, _>("id")?);
            if freed >= excess {
                break;
            }
        }
        let Some(cutoff) = cutoff else {
            return Ok(expired);
        };
        let oldest = sqlx::query(
            "DELETE FROM inbound_journal WHERE authenticated_by IS NULL AND status = $1 \
             AND id <= $2",
        )
        .bind(Status::Rejected.as_str())
        .bind(cutoff)
        .execute(&mut *conn)
        .await?;
        expired.deleted += oldest.rows_affected();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(source: &str, raw: Vec<u8>) -> Insert {
        Insert {
            now: now_ms(),
            channel: Channel::BankResponse.as_str(),
            source: Some(source.to_string()),
            content_type: None,
            sha256: sha256_hex(&raw),
            size_bytes: raw.len() as i64,
            kept: raw,
            status: Status::Received.as_str(),
            detail: None,
            authenticated_by: Some(AuthenticatedBy::MutualTls.as_str()),
            headers: None,
        }
    }

    /// Entries merged into one insert, and those past its bound on bytes inserted alone, each
    /// get the id of the row holding its own bytes (on PostgreSQL each is inserted alone).
    #[tokio::test]
    async fn merged_entries_each_get_their_own_row() {
        for each in crate::store::testing::each("merged_entries_each_get_their_own_row").await {
            let big = MERGED_BYTES_MAX / 2 + 1;
            let raws: Vec<Vec<u8>> = vec![
                b"first".to_vec(),
                vec![],
                vec![b'a'; big],
                vec![b'b'; big],
                b"last".to_vec(),
            ];
            let items = raws
                .iter()
                .enumerate()
                .map(|(i, raw)| entry(&format!("bank-{i}"), raw.clone()))
                .collect();
            let ids: Vec<i64> = each
                .store
                .group()
                .write_merging(items)
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect();
            let mut conn = each.store.pool().acquire().await.unwrap();
            for (i, (id, raw)) in ids.iter().zip(&raws).enumerate() {
                let stored = get(&mut conn, *id).await.unwrap().unwrap();
                assert_eq!(stored.source.as_deref(), Some(format!("bank-{i}").as_str()));
                assert!(stored.raw == *raw, "entry {i}: other bytes");
                assert_eq!(stored.sha256.as_deref(), Some(sha256_hex(raw).as_str()));
            }
            drop(conn);
            each.finish().await;
        }
    }

    /// On PostgreSQL the journal's index on (status, id) holds the entries not applied and
    /// its index on settlement the entries with one (migration 0022), and every lookup
    /// through them still uses them: the listing of each status but `applied`, the
    /// recovery of entries left `received`, and the lookups by settlement of the chain
    /// ledger and of reconciliation's evidence.
    #[tokio::test]
    async fn journal_lookups_use_their_indexes() {
        let Some(each) = crate::store::testing::postgres_only("journal_indexes").await else {
            return;
        };
        let store = each.store.clone();
        let taken = crate::store::testing::some_taken_in_and_claimed(&store, 10).await;
        let mut conn = store.pool().acquire().await.unwrap();
        let indexes: Vec<String> = sqlx::query_scalar(
            "SELECT indexdef FROM pg_indexes WHERE indexname IN \
             ('inbound_journal_status', 'inbound_journal_settlement') ORDER BY indexname",
        )
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        assert_eq!(indexes.len(), 2, "{indexes:?}");
        assert!(
            indexes[0].ends_with("WHERE (settlement_id IS NOT NULL)"),
            "{indexes:?}"
        );
        assert!(
            indexes[1].ends_with("WHERE (status <> 'applied'::text)"),
            "{indexes:?}"
        );
        let mut statements: Vec<(String, &str)> = [
            Status::Received,
            Status::Rejected,
            Status::Duplicate,
            Status::Conflict,
            Status::Unmatched,
        ]
        .into_iter()
        .map(|status| (list_sql(Some(status)), "inbound_journal_status"))
        .collect();
        statements.push((unapplied_sql(), "inbound_journal_status"));
        // The forms of the chain ledger's and reconciliation's lookups by settlement.
        statements.push((
            "SELECT id, raw FROM inbound_journal WHERE settlement_id = $1 \
             AND status = 'applied' ORDER BY id DESC LIMIT 1"
                .into(),
            "inbound_journal_settlement",
        ));
        statements.push((
            "SELECT id, status FROM inbound_journal WHERE (settlement_id = $1 OR id = 1)".into(),
            "inbound_journal_settlement",
        ));
        for (sql, index) in statements {
            let explain = format!("EXPLAIN {sql}");
            let query = sqlx::query(&explain);
            let query = match sql.contains("settlement_id = $1") {
                true => query.bind(taken[3].0.as_str()),
                false => query.bind(10_i64),
            };
            let plan = crate::store::testing::plan(&mut conn, query).await;
            assert!(plan.contains(index), "{sql}\n{plan}");
        }
        // What an entry became is read as before.
        let applied = list(&mut conn, Some(Status::Applied), 100).await.unwrap();
        assert_eq!(applied.len(), 1, "the one request that carried the events");
        assert!(unapplied(&mut conn, 100).await.unwrap().is_empty());
        drop(conn);
        each.finish().await;
    }
}
