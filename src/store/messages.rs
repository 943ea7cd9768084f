//! Outbound messages with their identifiers. A message is rendered and stored, identifiers
//! and bytes, before its first send (DESIGN.md decision 3); every resend sends these bytes.

use super::{now_ms, StoreError};
use crate::domain::{Rail, SettlementId};
use sqlx::{AnyConnection, Row};

/// A message to send, or sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outbound {
    pub settlement_id: SettlementId,
    pub rail: Rail,
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
    /// ISO 8583: DE11, DE37 and DE7 as sent.
    pub stan: Option<String>,
    pub rrn: Option<String>,
    pub transmitted_at: Option<String>,
}

pub async fn insert(conn: &mut AnyConnection, m: &Outbound) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO outbound_messages (settlement_id, rail, counterparty, kind, msg_id, \
         biz_msg_idr, instr_id, end_to_end_id, tx_id, uetr, body, send_count, stan, rrn, \
         transmitted_at, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12, $13, $14, $15)",
    )
    .bind(m.settlement_id.as_str())
    .bind(m.rail.as_str())
    .bind(&m.counterparty)
    .bind(&m.kind)
    .bind(&m.msg_id)
    .bind(&m.biz_msg_idr)
    .bind(&m.instr_id)
    .bind(&m.end_to_end_id)
    .bind(&m.tx_id)
    .bind(&m.uetr)
    .bind(m.body.clone())
    .bind(&m.stan)
    .bind(&m.rrn)
    .bind(&m.transmitted_at)
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

/// Every column but the body.
macro_rules! columns_but_body {
    () => {
        "settlement_id, rail, counterparty, kind, msg_id, biz_msg_idr, instr_id, end_to_end_id, \
         tx_id, uetr, send_count, stan, rrn, transmitted_at"
    };
}
const COLUMNS: &str = concat!(columns_but_body!(), ", body");

fn from_row(row: &sqlx::any::AnyRow) -> Result<Outbound, StoreError> {
    with_body(row, row.try_get("body")?)
}

fn with_body(row: &sqlx::any::AnyRow, body: Vec<u8>) -> Result<Outbound, StoreError> {
    let sid: String = row.try_get("settlement_id")?;
    Ok(Outbound {
        settlement_id: SettlementId::parse(&sid)
            .ok_or_else(|| StoreError::Corrupt(format!("outbound settlement id {sid:?}")))?,
        rail: {
            let text: String = row.try_get("rail")?;
            Rail::parse(&text)
                .ok_or_else(|| StoreError::Corrupt(format!("outbound message rail {text:?}")))?
        },
        counterparty: row.try_get("counterparty")?,
        kind: row.try_get("kind")?,
        msg_id: row.try_get("msg_id")?,
        biz_msg_idr: row.try_get("biz_msg_idr")?,
        instr_id: row.try_get("instr_id")?,
        end_to_end_id: row.try_get("end_to_end_id")?,
        tx_id: row.try_get("tx_id")?,
        uetr: row.try_get("uetr")?,
        body,
        send_count: row.try_get("send_count")?,
        stan: row.try_get("stan")?,
        rrn: row.try_get("rrn")?,
        transmitted_at: row.try_get("transmitted_at")?,
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

/// The stored messages of the settlements `ids`, oldest first, in one query; the body is read
/// only for the messages of the settlements in `bodies_of`, the others come with an empty
/// `body`. A claim's write-backs need their settlement's UETR, not the pacs.008 or 0200 it
/// was sent with: those bodies, a few kilobytes each, stay in the database instead of being
/// read and copied for nothing.
pub async fn for_settlements(
    conn: &mut AnyConnection,
    ids: &[&SettlementId],
    bodies_of: &[&SettlementId],
) -> Result<Vec<Outbound>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let listed = super::in_json_strings_at(conn, "settlement_id", 1);
    let wanted = super::in_json_strings_at(conn, "settlement_id", 2);
    let rows = sqlx::query(&format!(
        "SELECT {}, CASE WHEN {wanted} THEN body END AS body FROM outbound_messages \
         WHERE {listed} ORDER BY id",
        columns_but_body!()
    ))
    .bind(super::json_ids(ids))
    .bind(super::json_ids(bodies_of))
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|row| {
            let body: Option<Vec<u8>> = row.try_get("body")?;
            with_body(row, body.unwrap_or_default())
        })
        .collect()
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
    if let (Some(msg_id), None) = (msg_id, end_to_end_id) {
        // A group-level status names only the original message; we send one transaction
        // per message, so the MsgId alone identifies it.
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM outbound_messages WHERE msg_id = $1"
        ))
        .bind(msg_id)
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

/// The settlement's message of `kind`, which must be there: a settlement routed to a rail
/// without its stored message is a corrupt store, never a reason to build a new one.
pub async fn required(
    conn: &mut AnyConnection,
    id: &SettlementId,
    kind: &str,
) -> Result<Outbound, StoreError> {
    for_settlement(conn, id, kind)
        .await?
        .ok_or_else(|| StoreError::Corrupt(format!("settlement {id} has no {kind}")))
}

/// Records the DE7 (transmission date and time) a message goes out with, before it is sent.
pub async fn set_transmitted_at(
    conn: &mut AnyConnection,
    msg_id: &str,
    transmitted_at: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE outbound_messages SET transmitted_at = $1 WHERE msg_id = $2")
        .bind(transmitted_at)
        .bind(msg_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Every message stored for the settlement (the payment, a reversal, …), oldest first.
pub async fn all_for_settlement(
    conn: &mut AnyConnection,
    id: &SettlementId,
) -> Result<Vec<Outbound>, StoreError> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM outbound_messages WHERE settlement_id = $1 ORDER BY id"
    ))
    .bind(id.as_str())
    .fetch_all(conn)
    .await?;
    rows.iter().map(from_row).collect()
}

/// The UETR of the settlement's payment, on whichever rail carries one.
pub async fn uetr(
    conn: &mut AnyConnection,
    id: &SettlementId,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query(
        "SELECT uetr FROM outbound_messages WHERE settlement_id = $1 AND uetr IS NOT NULL \
         ORDER BY id LIMIT 1",
    )
    .bind(id.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(row.map(|r| r.try_get("uetr")).transpose()?)
}

/// Finds an ISO 8583 message to `counterparty` by its STAN and RRN (as echoed in answers).
pub async fn find_by_trace(
    conn: &mut AnyConnection,
    counterparty: &str,
    stan: &str,
    rrn: &str,
) -> Result<Option<Outbound>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM outbound_messages WHERE counterparty = $1 AND stan = $2 AND rrn = $3"
    ))
    .bind(counterparty)
    .bind(stan)
    .bind(rrn)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Messages per kind (e.g. how many pacs.008 were ever prepared).
pub async fn count_by_kind(conn: &mut AnyConnection) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = sqlx::query("SELECT kind, COUNT(*) AS n FROM outbound_messages GROUP BY kind")
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("kind")?, row.try_get("n")?)))
        .collect()
}

/// Takes the next STAN for `counterparty` (1 to 999999, then round again), inside the
/// caller's transaction so that it is persisted with the message that uses it.
pub async fn next_stan(conn: &mut AnyConnection, counterparty: &str) -> Result<String, StoreError> {
    trace_counter(conn, counterparty).await?;
    let row = sqlx::query(
        "UPDATE trace_numbers SET next_stan = CASE WHEN next_stan >= 999999 THEN 1 \
         ELSE next_stan + 1 END WHERE counterparty = $1 RETURNING next_stan",
    )
    .bind(counterparty)
    .fetch_one(conn)
    .await?;
    let stan: i64 = row.try_get("next_stan")?;
    Ok(format!("{stan:06}"))
}

/// `counterparty`'s trace number counter, created at 0 (none taken) if it is not there.
async fn trace_counter(conn: &mut AnyConnection, counterparty: &str) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO trace_numbers (counterparty, next_stan) VALUES ($1, 0) \
         ON CONFLICT (counterparty) DO NOTHING",
    )
    .bind(counterparty)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes the next `n` STANs for `counterparty` at once, in order, as `n` calls of
/// [`next_stan`] would (1 to 999999, then round again): two statements whatever `n`.
pub async fn take_stans(
    conn: &mut AnyConnection,
    counterparty: &str,
    n: usize,
) -> Result<Vec<String>, StoreError> {
    const LAST: i64 = 999_999;
    if n == 0 {
        return Ok(Vec::new());
    }
    let count = i64::try_from(n)
        .ok()
        .filter(|n| *n <= LAST)
        .ok_or_else(|| StoreError::Corrupt(format!("{n} trace numbers asked for at once")))?;
    trace_counter(conn, counterparty).await?;
    // The last of the n numbers after the one stored (itself the last taken, 0 at first).
    let row = sqlx::query(
        "UPDATE trace_numbers SET next_stan = (next_stan + $2 - 1) % $3 + 1 \
         WHERE counterparty = $1 RETURNING next_stan",
    )
    .bind(counterparty)
    .bind(count)
    .bind(LAST)
    .fetch_one(conn)
    .await?;
    let last: i64 = row.try_get("next_stan")?;
    // The first is n - 1 before the last, round the range 1..=LAST.
    let first = (last - 1 - (count - 1)).rem_euclid(LAST) + 1;
    Ok((0..count)
        .map(|k| format!("{:06}", (first - 1 + k).rem_euclid(LAST) + 1))
        .collect())
}

/// [`take_stans`] in a transaction of its own, for a group writer before its group's
/// transaction begins (PostgreSQL, see `intake::merged::reserve_stans`): the counter row is
/// locked only for these two statements. Its commit is asynchronous (no WAL flush of its
/// own): every group that uses the numbers commits after it, synchronously, and a flush
/// makes everything before it in the WAL durable, this commit included; if no such group
/// commits, the numbers were never used and losing the count loses nothing.
pub async fn reserve_stans(
    conn: &mut AnyConnection,
    counterparty: &str,
    n: usize,
) -> Result<Vec<String>, StoreError> {
    let mut tx =
        sqlx::Connection::begin_with(conn, "BEGIN; SET LOCAL synchronous_commit = off").await?;
    let numbers = take_stans(&mut tx, counterparty, n).await?;
    tx.commit().await?;
    Ok(numbers)
}

/// Takes back a count made by [`mark_sent`] for a send that provably never left.
pub async fn unmark_sent(conn: &mut AnyConnection, msg_id: &str) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE outbound_messages SET send_count = send_count - 1 WHERE msg_id = $1 AND send_count > 0",
    )
    .bind(msg_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Stores a pacs.028 status request before it is sent (identifiers and bytes).
pub async fn insert_status_request(
    conn: &mut AnyConnection,
    request: &Outbound,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO status_requests (settlement_id, counterparty, msg_id, body, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(request.settlement_id.as_str())
    .bind(&request.counterparty)
    .bind(&request.msg_id)
    .bind(request.body.clone())
    .bind(now_ms())
    .execute(conn)
    .await?;
    Ok(())
}

/// Records what became of a status request (`answered ACSC`, `202`, `404: resent`, ...).
pub async fn set_status_request_outcome(
    conn: &mut AnyConnection,
    msg_id: &str,
    outcome: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE status_requests SET outcome = $1 WHERE msg_id = $2")
        .bind(outcome)
        .bind(msg_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// How many status requests were made about a settlement.
pub async fn status_requests_sent(
    conn: &mut AnyConnection,
    settlement: &SettlementId,
) -> Result<i64, StoreError> {
    let row = sqlx::query("SELECT COUNT(*) AS n FROM status_requests WHERE settlement_id = $1")
        .bind(settlement.as_str())
        .fetch_one(conn)
        .await?;
    Ok(row.try_get("n")?)
}

#[cfg(test)]
mod tests {
    use super::{for_settlement, for_settlements, next_stan, take_stans};
    use crate::store::testing::{self, each};

    /// A claim's read gives every message of its settlements, in the order stored, each as
    /// read alone; the body only for the settlements asked for, the others' empty.
    #[tokio::test]
    async fn bodies_are_read_only_for_the_settlements_asked() {
        for each in each("bodies_are_read_only_for_the_settlements_asked").await {
            let config = testing::config();
            let events = vec![
                testing::event("bodies-1", "10.00"),
                testing::event("bodies-2", "20.00"),
                testing::event("bodies-3", "30.00"),
            ];
            let taken = testing::taken_in_and_claimed(&each.store, &config, events).await;
            let ids: Vec<_> = taken.iter().map(|(sid, _)| sid).collect();
            let mut conn = each.store.reader().acquire().await.unwrap();
            let mut alone = Vec::new();
            for sid in &ids {
                let m = for_settlement(&mut conn, sid, crate::rails::bank::PACS008)
                    .await
                    .unwrap();
                alone.push(m.expect("intake stored a pacs.008"));
            }
            let all = for_settlements(&mut conn, &ids, &ids).await.unwrap();
            assert_eq!(all, alone, "with every body: each message as read alone");
            let some = for_settlements(&mut conn, &ids, &[ids[1]]).await.unwrap();
            assert_eq!(some.len(), 3);
            for (got, full) in some.iter().zip(&alone) {
                assert!(!full.body.is_empty());
                if full.settlement_id == *ids[1] {
                    assert_eq!(got, full, "the settlement asked for has its body");
                } else {
                    assert!(got.body.is_empty(), "{} has no body", got.settlement_id);
                    let with_body = super::Outbound {
                        body: full.body.clone(),
                        ..got.clone()
                    };
                    assert_eq!(&with_body, full, "and everything else");
                }
            }
            let none = for_settlements(&mut conn, &ids, &[]).await.unwrap();
            assert!(none.iter().all(|m| m.body.is_empty()));
            assert!(for_settlements(&mut conn, &[], &ids)
                .await
                .unwrap()
                .is_empty());
            drop(conn);
            each.finish().await;
        }
    }

    /// A block of STANs is the numbers one call at a time would have taken, round the end of
    /// the range included, and leaves the counter where they would have.
    #[tokio::test]
    async fn a_block_of_stans_is_what_one_at_a_time_takes() {
        for each in each("a_block_of_stans_is_what_one_at_a_time_takes").await {
            let mut conn = each.store.pool().acquire().await.unwrap();
            let mut one_by_one = Vec::new();
            for _ in 0..2 {
                one_by_one.push(next_stan(&mut conn, "a").await.unwrap());
            }
            let block = take_stans(&mut conn, "b", 2).await.unwrap();
            assert_eq!(block, one_by_one);
            assert_eq!(block, ["000001", "000002"]);
            sqlx::query("UPDATE trace_numbers SET next_stan = 999997")
                .execute(&mut *conn)
                .await
                .unwrap();
            let mut one_by_one = Vec::new();
            for _ in 0..4 {
                one_by_one.push(next_stan(&mut conn, "a").await.unwrap());
            }
            let block = take_stans(&mut conn, "b", 4).await.unwrap();
            assert_eq!(block, ["999998", "999999", "000001", "000002"]);
            assert_eq!(block, one_by_one);
            assert_eq!(next_stan(&mut conn, "b").await.unwrap(), "000003");
            assert!(take_stans(&mut conn, "b", 0).await.unwrap().is_empty());
            drop(conn);
            each.finish().await;
        }
    }
}
