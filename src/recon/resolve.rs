//! What a resolution or a reconciliation finding does to money and to settlements (issue 9).
//!
//! - `resent` (an operator only): the settlement's stored pacs.008 goes out again through the
//!   outbox (kind `resend`), byte for byte: same MsgId, EndToEndId and UETR, so that a bank
//!   holding the first copy recognises a duplicate and never pays twice. Only on the bank
//!   rail (the wallet rail never repeats a credit: an unknown outcome there is reversed), only
//!   for a missing confirmation or a payment missing on the statement, and only for a
//!   settlement that was sent (sent, accepted or settled).
//! - `refund_requested` (an operator only): Corridor originates no payment of its own (money
//!   moves on a ledger event), so a refund is asked of the ledger that owns the money: an
//!   outbox job (kind `refund`) posts it to the ledger's callback, once per settlement, with
//!   the break's amount at risk. The refund itself comes back as a ledger event.
//! - a return on the statement for a settlement written back as settled (a critical
//!   `status_conflict` break): the settlement is corrected to `returned` and a correction
//!   write-back queued, once ([`crate::confirm::correction`]); the break stays for the audit.
//!
//! Each is an outbox row enqueued in the transaction that records the resolution (or the
//! finding) in the break's audit trail, so neither happens without the other.

use super::breaks::{self, Break};
use super::{Action, BreakKind, ReconError, Resolution};
use crate::confirm::correction::{self, Corrected};
use crate::domain::{Rail, SettlementId, SettlementState};
use crate::store::outbox::{self, Kind};
use crate::store::{now_ms, settlements, Store, StoreError, Tx};
use sqlx::{AnyConnection, Row};

/// Break kinds a resend may resolve: the bank never answered, or never booked the payment.
const RESEND_KINDS: &[BreakKind] = &[
    BreakKind::MissingConfirmation,
    BreakKind::MissingOnStatement,
];

/// Who asks for a resolution that moves money, and why.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Requested<'a> {
    pub actor: &'a str,
    pub comment: Option<&'a str>,
}

/// Enqueues the outbox job of a resolution that moves money, for break `b`, in `tx` (the
/// transaction that records the resolution); returns what the audit trail adds. Refuses with
/// the reason when the break or its settlement does not allow it.
pub(crate) async fn enqueue(
    tx: &mut Tx,
    b: &Break,
    resolution: Resolution,
    request: Requested<'_>,
) -> Result<String, ReconError> {
    let Some(sid) = b.settlement_id.as_deref() else {
        return refused(
            b,
            format!("{resolution} needs a settlement, and this break names none"),
        );
    };
    let sid = SettlementId::parse(sid)
        .ok_or_else(|| StoreError::Corrupt(format!("break {}: settlement {sid:?}", b.id)))?;
    let Some(record) = settlements::get(tx, &sid).await? else {
        return refused(b, format!("settlement {sid} does not exist"));
    };
    match resolution {
        Resolution::Resent => resend(tx, b, &record).await,
        Resolution::RefundRequested => refund(tx, b, &record, request).await,
        other => Ok(format!("{other} moves no money")),
    }
}

fn refused<T>(b: &Break, why: String) -> Result<T, ReconError> {
    Err(ReconError::Refused(format!("break {}: {why}", b.id)))
}

/// `resent`: the stored pacs.008 again (outbox kind `resend`), for a bank payment that was sent.
async fn resend(
    tx: &mut Tx,
    b: &Break,
    record: &settlements::Record,
) -> Result<String, ReconError> {
    let sid = &record.settlement.id;
    let kind = BreakKind::parse(&b.kind);
    if !kind.is_some_and(|k| RESEND_KINDS.contains(&k)) {
        return refused(
            b,
            format!(
                "a {} is not resolved by a resend (only a missing confirmation or a \
                 payment missing on the statement)",
                b.kind
            ),
        );
    }
    if record.rail != Some(Rail::Bank) {
        return refused(
            b,
            format!(
                "settlement {sid} is not on the bank rail: a wallet credit is never sent \
                 twice (an unknown outcome is reversed instead)"
            ),
        );
    }
    if !matches!(
        record.state,
        SettlementState::Sent | SettlementState::Accepted | SettlementState::Settled
    ) {
        return refused(
            b,
            format!(
                "settlement {sid} is {}: only a payment that was sent is resent",
                record.state
            ),
        );
    }
    let uetr = crate::store::messages::uetr(tx, sid).await?;
    let (job, armed) = outbox::arm_again(tx, Kind::Resend, sid, now_ms()).await?;
    let uetr = uetr.as_deref().unwrap_or("-");
    Ok(if armed {
        format!("resend queued as outbox job {job}: the stored pacs.008, unchanged (UETR {uetr})")
    } else {
        format!("resend already under way as outbox job {job} (UETR {uetr})")
    })
}

/// `refund_requested`: asks the ledger (outbox kind `refund`, once per settlement) to refund
/// the break's amount at risk of a settled payment, kept in `refund_requests`.
async fn refund(
    tx: &mut Tx,
    b: &Break,
    record: &settlements::Record,
    request: Requested<'_>,
) -> Result<String, ReconError> {
    let sid = &record.settlement.id;
    if record.state != SettlementState::Settled {
        return refused(
            b,
            format!(
                "settlement {sid} is {}: only a settled payment is refunded",
                record.state
            ),
        );
    }
    if b.amount_at_risk_minor <= 0 || b.currency.is_none() {
        return refused(b, "no amount at risk to refund".into());
    }
    let now = now_ms();
    let (job, new) = outbox::enqueue_once(tx, Kind::Refund, sid, now).await?;
    if !new {
        return refused(
            b,
            format!(
                "a refund was already requested for settlement {sid} (outbox job {job}); \
                 one per settlement"
            ),
        );
    }
    sqlx::query(
        "INSERT INTO refund_requests (settlement_id, break_id, break_kind, amount_minor, \
         currency, comment, actor, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(sid.as_str())
    .bind(b.id)
    .bind(&b.kind)
    .bind(b.amount_at_risk_minor)
    .bind(b.currency.as_deref())
    .bind(request.comment)
    .bind(request.actor)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(format!(
        "refund request for {} queued to ledger {} as outbox job {job}",
        b.amount_at_risk, record.settlement.ledger
    ))
}

/// A refund request as the ledger receives it.
#[derive(Debug)]
pub struct RefundRequest {
    pub break_id: i64,
    pub break_kind: String,
    /// Decimal, in the currency's exponent (`12.34`).
    pub amount: String,
    /// The same in minor units.
    pub amount_minor: i64,
    pub currency: String,
    pub comment: Option<String>,
}

/// The refund requested for `sid`, as it was asked for.
pub async fn refund_request(
    conn: &mut AnyConnection,
    sid: &SettlementId,
) -> Result<Option<RefundRequest>, StoreError> {
    let row = sqlx::query(
        "SELECT break_id, break_kind, amount_minor, currency, comment FROM refund_requests \
         WHERE settlement_id = $1",
    )
    .bind(sid.as_str())
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let minor: i64 = row.try_get("amount_minor")?;
    let currency: String = row.try_get("currency")?;
    // format_minor prints "12.34 EUR": the ledger gets the number and the code apart.
    let amount = super::format_minor(minor, &currency)
        .split(' ')
        .next()
        .unwrap_or_default()
        .to_string();
    Ok(Some(RefundRequest {
        break_id: row.try_get("break_id")?,
        break_kind: row.try_get("break_kind")?,
        amount,
        amount_minor: minor,
        currency,
        comment: row.try_get("comment")?,
    }))
}

/// Applies the returns that reconciliation found on statements for settlements written back
/// as settled (the `status_conflict:return:<entry>` breaks): each settlement corrected to
/// `returned` with its correction write-back, once, and a line in its break's audit trail.
/// A re-run finds them returned and changes nothing. Returns how many were corrected now.
pub async fn apply_statement_returns(store: &Store, actor: &str) -> Result<usize, ReconError> {
    let pending = {
        let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
        sqlx::query(
            "SELECT b.id, b.natural_key, b.settlement_id FROM breaks b \
             JOIN settlements s ON s.id = b.settlement_id \
             WHERE b.natural_key LIKE 'status_conflict:return:%' AND s.state = 'settled' \
             ORDER BY b.id",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(StoreError::from)?
    };
    let mut corrected = 0;
    for row in pending {
        let (id, key, sid): (i64, String, String) = (
            row.try_get("id").map_err(StoreError::from)?,
            row.try_get("natural_key").map_err(StoreError::from)?,
            row.try_get("settlement_id").map_err(StoreError::from)?,
        );
        let entry_id: i64 = key
            .rsplit(':')
            .next()
            .and_then(|e| e.parse().ok())
            .ok_or_else(|| StoreError::Corrupt(format!("break {id}: key {key:?}")))?;
        let sid = SettlementId::parse(&sid)
            .ok_or_else(|| StoreError::Corrupt(format!("break {id}: settlement {sid:?}")))?;
        let mut tx = store.begin().await?;
        let reason: Option<String> =
            sqlx::query("SELECT return_reason FROM statement_entries WHERE id = $1")
                .bind(entry_id)
                .fetch_optional(&mut *tx)
                .await?
                .map(|r| r.try_get("return_reason"))
                .transpose()?
                .flatten();
        let done = correction::statement_return_after_settlement(
            &mut tx,
            &sid,
            entry_id,
            reason.as_deref(),
        )
        .await?;
        if let Corrected::Returned { job } = done {
            let text = format!(
                "applied: settlement {sid} corrected from settled to returned (statement entry \
                 {entry_id}); correction write-back to the ledger queued as outbox job {job}"
            );
            breaks::append_event(&mut tx, id, actor, Action::Commented, Some(&text), now_ms())
                .await?;
            corrected += 1;
        }
        tx.commit().await.map_err(StoreError::from)?;
    }
    Ok(corrected)
}
