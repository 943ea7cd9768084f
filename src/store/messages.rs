//! Outbound messages with their identifiers. A message is rendered and stored, identifiers
//! and bytes, before its first send (DESIGN.md decision 3); every resend sends these bytes.

use super::{now_ms, StoreError};
use crate::domain::SettlementId;
use sqlx::{AnyConnection, Row};

/// A message to send, or sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outbound {
    pub settlement_id: SettlementId,
    pub rail: String,
    pub counterparty: String,
    /// Message definition, e.g. `pacs.008.001.08`.
    pub kind: String,
    pub msg_id: String,
    pub biz_msg_idr: String,
    pub instr_id: Option<String>,
    pub end_to_end_id: Option<String>,
    pub tx_id: Option<String>,
    pub uetr: Option<String>,
    pub body: Vec<u8>,
    pub send_count: i64,
}

pub async fn insert(conn: &mut AnyConnection, m: &Outbound) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbound_messages (settlement_id, rail, counterparty, kind, msg_id, \
         biz_msg_idr, instr_id, end_to_end_id, tx_id, uetr, body, send_count, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12)",
    )
    .bind(m.settlement_id.as_str())
    .bind(&m.rail)
    .bind(&m.counterparty)
    .bind(&m.kind)
    .bind(&m.msg_id)
    .bind(&m.biz_msg_idr)
    .bind(&m.instr_id)
    .bind(&m.end_to_end_id)
    .bind(&m.tx_id)
    .bind(&m.uetr)
    .bind(m.body.clone())
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

const COLUMNS: &str = "settlement_id, rail, counterparty, kind, msg_id, biz_msg_idr, instr_id, \
    end_to_end_id, tx_id, uetr, body, send_count";

fn from_row(row: &sqlx::any::AnyRow) -> Result<Outbound, StoreError> {
    let sid: String = row.try_get("settlement_id")?;
    Ok(Outbound {
        settlement_id: SettlementId::parse(&sid)
            .ok_or_else(|| StoreError::Corrupt(format!("outbound settlement id {sid:?}")))?,
        rail: row.try_get("rail")?,
        counterparty: row.try_get("counterparty")?,
        kind: row.try_get("kind")?,
        msg_id: row.try_get("msg_id")?,
        biz_msg_idr: row.try_get("biz_msg_idr")?,
        instr_id: row.try_get("instr_id")?,
        end_to_end_id: row.try_get("end_to_end_id")?,
        tx_id: row.try_get("tx_id")?,
        uetr: row.try_get("uetr")?,
        body: row.try_get("body")?,
        send_count: row.try_get("send_count")?,
    })
}

/// The settlement's message of `kind`.
pub async fn for_settlement(
    conn: &mut AnyConnection,
    id: &SettlementId,
    kind: &str,
) -> Result<Option<Outbound>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM outbound_messages WHERE settlement_id = $1 AND kind = $2"
    ))
    .bind(id.as_str())
    .bind(kind)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Finds what an answer refers to: by UETR first, then by the original MsgId + EndToEndId.
pub async fn find_by_reference(
    conn: &mut AnyConnection,
    uetr: Option<&str>,
    msg_id: Option<&str>,
    end_to_end_id: Option<&str>,
) -> Result<Option<Outbound>, StoreError> {
    if let Some(uetr) = uetr {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM outbound_messages WHERE uetr = $1"
        ))
        .bind(uetr)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            return from_row(&row).map(Some);
        }
    }
    if let (Some(msg_id), Some(e2e)) = (msg_id, end_to_end_id) {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM outbound_messages WHERE msg_id = $1 AND end_to_end_id = $2"
        ))
        .bind(msg_id)
        .bind(e2e)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(row) = row {
            return from_row(&row).map(Some);
        }
    }
    Ok(None)
}

/// Counts a send attempt (made or about to be made).
pub async fn mark_sent(conn: &mut AnyConnection, msg_id: &str) -> Result<(), StoreError> {
    let now = now_ms();
    sqlx::query(
        "UPDATE outbound_messages SET send_count = send_count + 1, \
         first_sent_at_ms = COALESCE(first_sent_at_ms, $1), last_sent_at_ms = $2 WHERE msg_id = $3",
    )
    .bind(now)
    .bind(now)
    .bind(msg_id)
    .execute(conn)
    .await?;
    Ok(())
}
