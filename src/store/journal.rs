//! The inbound journal (DESIGN.md decision 7): every event, answer, callback and statement is
//! stored raw and unchanged, in its own committed transaction, before it is applied. Its
//! status then says what became of it; nothing that arrived is ever deleted.

use super::{now_ms, Store, StoreError};
use sqlx::{AnyConnection, Row};

/// Where an inbound message came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// `POST /v1/ledger/events`.
    LedgerHttp,
    /// `corridor ingest FILE`.
    LedgerFile,
    /// The body of a bank's HTTP answer to our send.
    BankResponse,
    /// `POST /v1/banks/{bank}/messages`.
    BankCallback,
    /// An ISO 8583 switch's answer to our request (re-encoded from the decoded message).
    SwitchResponse,
    /// Anything else a switch sent: late or unmatched answers, requests, undecodable frames.
    SwitchMessage,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::LedgerHttp => "ledger-http",
            Channel::LedgerFile => "ledger-file",
            Channel::BankResponse => "bank-response",
            Channel::BankCallback => "bank-callback",
            Channel::SwitchResponse => "switch-response",
            Channel::SwitchMessage => "switch-message",
        }
    }
}

/// What became of an inbound message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Stored, not yet applied (or the process stopped while applying it).
    Received,
    Applied,
    /// Refused: malformed, unauthenticated, too large, invalid content.
    Rejected,
    /// Already applied before: same key, same content.
    Duplicate,
    /// Same key, other content, or an answer contradicting a final state.
    Conflict,
    /// Names nothing we sent.
    Unmatched,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Received,
        Status::Applied,
        Status::Rejected,
        Status::Duplicate,
        Status::Conflict,
        Status::Unmatched,
    ];

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Applied => "applied",
            Status::Rejected => "rejected",
            Status::Duplicate => "duplicate",
            Status::Conflict => "conflict",
            Status::Unmatched => "unmatched",
        }
    }
}

/// Stores a raw message and commits; returns its journal id.
pub async fn record(
    store: &Store,
    channel: Channel,
    source: Option<&str>,
    content_type: Option<&str>,
    raw: &[u8],
) -> Result<i64, StoreError> {
    let now = now_ms();
    let row = sqlx::query(
        "INSERT INTO inbound_journal (received_at_ms, channel, source, content_type, raw, status, \
         updated_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(now)
    .bind(channel.as_str())
    .bind(source)
    .bind(content_type)
    .bind(raw.to_vec())
    .bind(Status::Received.as_str())
    .bind(now)
    .fetch_one(store.pool())
    .await?;
    Ok(row.try_get("id")?)
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
    let detail: Option<String> = outcome.detail.map(|d| d.chars().take(2000).collect());
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
#[derive(Clone, Debug, serde::Serialize)]
pub struct Entry {
    pub id: i64,
    pub received_at_ms: i64,
    pub channel: String,
    pub source: Option<String>,
    pub status: String,
    pub detail: Option<String>,
    pub settlement_id: Option<String>,
    pub message_kind: Option<String>,
    pub message_ref: Option<String>,
    /// The raw bytes, exactly as received.
    #[serde(skip)]
    pub raw: Vec<u8>,
}

fn entry(row: &sqlx::any::AnyRow) -> Result<Entry, StoreError> {
    Ok(Entry {
        id: row.try_get("id")?,
        received_at_ms: row.try_get("received_at_ms")?,
        channel: row.try_get("channel")?,
        source: row.try_get("source")?,
        status: row.try_get("status")?,
        detail: row.try_get("detail")?,
        settlement_id: row.try_get("settlement_id")?,
        message_kind: row.try_get("message_kind")?,
        message_ref: row.try_get("message_ref")?,
        // Lists leave the bytes out (they can be large); `get` reads them.
        raw: row.try_get("raw").unwrap_or_default(),
    })
}

const LIST_COLUMNS: &str = "id, received_at_ms, channel, source, status, detail, settlement_id, \
    message_kind, message_ref";
const COLUMNS: &str = "id, received_at_ms, channel, source, status, detail, settlement_id, \
    message_kind, message_ref, raw";

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
    let limit = limit.clamp(1, 1000);
    let rows = match status {
        Some(status) => {
            sqlx::query(&format!(
                "SELECT {LIST_COLUMNS} FROM inbound_journal WHERE status = $1 ORDER BY id DESC LIMIT $2"
            ))
            .bind(status.as_str())
            .bind(limit)
            .fetch_all(conn)
            .await?
        }
        None => {
            sqlx::query(&format!(
                "SELECT {LIST_COLUMNS} FROM inbound_journal ORDER BY id DESC LIMIT $1"
            ))
            .bind(limit)
            .fetch_all(conn)
            .await?
        }
    };
    rows.iter().map(entry).collect()
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
