//! Statement rows for reconciliation tests, inserted as the statement import (migration 0006)
//! writes them, so that recon can be tested before and independently of the readers.

use corridor::store::Store;
use sqlx::Row;

pub const ACCOUNT: &str = "DE89370400440532013000";

/// A statement entry as the statement import writes it (only what a test sets).
#[derive(Default, Clone)]
pub struct StatementRow {
    pub amount_minor: i64,
    pub currency: &'static str,
    pub credit: bool,
    pub uetr: Option<String>,
    pub end_to_end_id: Option<String>,
    pub acct_svcr_ref: Option<String>,
    pub return_reason: Option<&'static str>,
    pub reference: Option<&'static str>,
    pub charges_minor: Option<i64>,
}

/// Inserts a statement with its entries; returns the statement id and the entry ids.
pub async fn insert_statement(
    store: &Store,
    statement_ref: &str,
    balance: (i64, i64, bool),
    rows: &[StatementRow],
) -> (i64, Vec<i64>) {
    let mut tx = store.begin().await.unwrap();
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let id: i64 = sqlx::query(
        "INSERT INTO statements (format, account, statement_id, sequence, currency, \
         opening_minor, closing_minor, entries, balance_ok, content_sha256, source, file_name, \
         size_bytes, created_at, created_at_ms) VALUES ('camt.053.001.08', $1, $2, '1', 'EUR', \
         $3, $4, $5, $6, $7, 'cli', 'stmt.xml', 0, $8, $9) RETURNING id",
    )
    .bind(ACCOUNT)
    .bind(statement_ref)
    .bind(balance.0)
    .bind(balance.1)
    .bind(rows.len() as i64)
    .bind(balance.2)
    .bind(format!("sha-{statement_ref}"))
    .bind(&today)
    .bind(corridor::store::now_ms())
    .fetch_one(&mut *tx)
    .await
    .unwrap()
    .get("id");
    let mut ids = Vec::new();
    for (line, r) in rows.iter().enumerate() {
        let eid: i64 = sqlx::query(
            "INSERT INTO statement_entries (statement, line, booking_date, value_date, \
             amount_minor, currency, direction, status, reversal, uetr, end_to_end_id, \
             acct_svcr_ref, return_reason, reference, charges_minor, evidence) \
             VALUES ($1, $2, $3, $3, $4, $5, $6, 'booked', $7, $8, $9, $10, $11, $12, $13, 'test') \
             RETURNING id",
        )
        .bind(id)
        .bind(line as i64 + 1)
        .bind(&today)
        .bind(r.amount_minor)
        .bind(if r.currency.is_empty() {
            "EUR"
        } else {
            r.currency
        })
        .bind(if r.credit { "credit" } else { "debit" })
        .bind(false)
        .bind(r.uetr.clone())
        .bind(r.end_to_end_id.clone())
        .bind(r.acct_svcr_ref.clone())
        .bind(r.return_reason)
        .bind(r.reference)
        .bind(r.charges_minor)
        .fetch_one(&mut *tx)
        .await
        .unwrap()
        .get("id");
        ids.push(eid);
    }
    tx.commit().await.unwrap();
    (id, ids)
}
