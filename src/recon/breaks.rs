//! Breaks and their workflow: open → assigned → resolved, reopened; every step a line in the
//! append-only audit trail (`break_events`, which the store refuses to update or delete),
//! written in the same transaction as the change it records.

use super::{Action, BreakKind, BreakState, ReconError, Resolution, Severity};
use crate::store::{now_ms, Store, StoreError};
use serde::Serialize;
use sqlx::{AnyConnection, Row};

#[derive(Clone, Debug, Serialize)]
pub struct Break {
    pub id: i64,
    pub natural_key: String,
    pub kind: String,
    pub severity: String,
    pub state: String,
    pub assignee: Option<String>,
    pub settlement_id: Option<String>,
    pub counterparty: Option<String>,
    pub currency: Option<String>,
    pub amount_at_risk_minor: i64,
    /// `amount_at_risk_minor` with the currency's exponent.
    pub amount_at_risk: String,
    pub detail: String,
    pub inbound_id: Option<i64>,
    pub statement_id: Option<i64>,
    pub entry_ids: Vec<i64>,
    pub opened_at_ms: i64,
    pub updated_at_ms: i64,
    pub resolved_at_ms: Option<i64>,
    pub resolution: Option<String>,
    /// Seconds since it was opened (until it was resolved).
    pub age_seconds: i64,
}

#[derive(Clone, Debug, Serialize, sqlx::FromRow)]
pub struct Event {
    pub id: i64,
    pub break_id: i64,
    pub actor: String,
    pub action: String,
    pub comment: Option<String>,
    pub at_ms: i64,
}

const COLUMNS: &str = "id, natural_key, kind, severity, state, assignee, settlement_id, \
    counterparty, currency, amount_at_risk_minor, detail, inbound_id, statement_id, entry_ids, \
    opened_at_ms, updated_at_ms, resolved_at_ms, resolution";

fn from_row(row: &sqlx::any::AnyRow, now: i64) -> Result<Break, StoreError> {
    let currency: Option<String> = row.try_get("currency")?;
    let minor: i64 = row.try_get("amount_at_risk_minor")?;
    let entry_ids: Option<String> = row.try_get("entry_ids")?;
    let opened: i64 = row.try_get("opened_at_ms")?;
    let resolved: Option<i64> = row.try_get("resolved_at_ms")?;
    Ok(Break {
        id: row.try_get("id")?,
        natural_key: row.try_get("natural_key")?,
        kind: row.try_get("kind")?,
        severity: row.try_get("severity")?,
        state: row.try_get("state")?,
        assignee: row.try_get("assignee")?,
        settlement_id: row.try_get("settlement_id")?,
        counterparty: row.try_get("counterparty")?,
        amount_at_risk: currency
            .as_deref()
            .map_or_else(|| minor.to_string(), |c| super::format_minor(minor, c)),
        currency,
        amount_at_risk_minor: minor,
        detail: row.try_get("detail")?,
        inbound_id: row.try_get("inbound_id")?,
        statement_id: row.try_get("statement_id")?,
        entry_ids: entry_ids
            .unwrap_or_default()
            .split(',')
            .filter_map(|x| x.parse().ok())
            .collect(),
        opened_at_ms: opened,
        updated_at_ms: row.try_get("updated_at_ms")?,
        resolved_at_ms: resolved,
        resolution: row.try_get("resolution")?,
        age_seconds: (resolved.unwrap_or(now) - opened).max(0) / 1000,
    })
}

crate::text_enum! {
    /// How a list is ordered.
    pub enum Sort {
        /// Oldest first.
        Age => "age",
        /// Largest amount at risk first.
        Amount => "amount",
        /// Worst first.
        Severity => "severity",
        /// Newest first.
        Opened => "opened",
    }
}

/// A list request. `state` None: every unresolved break (open and assigned).
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub kind: Option<BreakKind>,
    pub severity: Option<Severity>,
    pub state: Option<BreakState>,
    pub all_states: bool,
    pub counterparty: Option<String>,
    pub currency: Option<String>,
    pub settlement_id: Option<String>,
    /// Only breaks at least this old.
    pub min_age_seconds: Option<i64>,
    /// Only breaks with at least this much at risk (minor units).
    pub min_amount_minor: Option<i64>,
    pub sort: Option<Sort>,
    pub limit: i64,
}

impl Filter {
    /// The WHERE clause and its text binds (in order); numbers are bound after the texts.
    fn clause(&self, now: i64) -> (String, Vec<String>, Vec<i64>) {
        let mut parts: Vec<String> = Vec::new();
        let mut texts = Vec::new();
        let mut n = 0;
        let mut text = |parts: &mut Vec<String>, col: &str, v: String| {
            n += 1;
            parts.push(format!("{col} = ${n}"));
            texts.push(v);
        };
        if let Some(k) = self.kind {
            text(&mut parts, "kind", k.as_str().into());
        }
        if let Some(s) = self.severity {
            text(&mut parts, "severity", s.as_str().into());
        }
        match self.state {
            Some(s) => text(&mut parts, "state", s.as_str().into()),
            None if !self.all_states => parts.push("state <> 'resolved'".into()),
            None => {}
        }
        if let Some(c) = &self.counterparty {
            text(&mut parts, "counterparty", c.clone());
        }
        if let Some(c) = &self.currency {
            text(&mut parts, "currency", c.clone());
        }
        if let Some(c) = &self.settlement_id {
            text(&mut parts, "settlement_id", c.clone());
        }
        let mut numbers = Vec::new();
        if let Some(age) = self.min_age_seconds {
            numbers.push(now - age.saturating_mul(1000));
            parts.push(format!("opened_at_ms <= ${}", texts.len() + numbers.len()));
        }
        if let Some(min) = self.min_amount_minor {
            numbers.push(min);
            parts.push(format!(
                "amount_at_risk_minor >= ${}",
                texts.len() + numbers.len()
            ));
        }
        let clause = if parts.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", parts.join(" AND "))
        };
        (clause, texts, numbers)
    }
}

pub async fn list(conn: &mut AnyConnection, f: &Filter) -> Result<Vec<Break>, StoreError> {
    let now = now_ms();
    let (clause, texts, numbers) = f.clause(now);
    let order = match f.sort.unwrap_or(Sort::Severity) {
        Sort::Age => "opened_at_ms ASC, id ASC",
        Sort::Amount => "amount_at_risk_minor DESC, id ASC",
        Sort::Severity => {
            "CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 \
             ELSE 3 END, opened_at_ms ASC, id ASC"
        }
        Sort::Opened => "opened_at_ms DESC, id DESC",
    };
    let sql = format!(
        "SELECT {COLUMNS} FROM breaks {clause} ORDER BY {order} LIMIT {}",
        f.limit.clamp(1, 100_000)
    );
    let mut q = sqlx::query(&sql);
    for t in texts {
        q = q.bind(t);
    }
    for n in numbers {
        q = q.bind(n);
    }
    let rows = q.fetch_all(conn).await?;
    rows.iter().map(|r| from_row(r, now)).collect()
}

/// Unresolved breaks per kind (the queue's counts).
pub async fn counts(conn: &mut AnyConnection) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT kind, COUNT(*) AS n FROM breaks WHERE state <> 'resolved' GROUP BY kind \
         ORDER BY kind",
    )
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("kind")?, r.try_get("n")?)))
        .collect()
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<Break>, StoreError> {
    let row = sqlx::query(&format!("SELECT {COLUMNS} FROM breaks WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.as_ref().map(|r| from_row(r, now_ms())).transpose()
}

pub async fn events(conn: &mut AnyConnection, id: i64) -> Result<Vec<Event>, StoreError> {
    Ok(sqlx::query_as::<_, Event>(
        "SELECT id, break_id, actor, action, comment, at_ms FROM break_events \
         WHERE break_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(conn)
    .await?)
}

pub(crate) async fn append_event(
    conn: &mut sqlx::AnyConnection,
    id: i64,
    actor: &str,
    action: Action,
    comment: Option<&str>,
    at_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO break_events (break_id, actor, action, comment, at_ms) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(actor)
    .bind(action.as_str())
    .bind(comment)
    .bind(at_ms)
    .execute(conn)
    .await?;
    Ok(())
}

/// Longest comment kept (a bound, like everything else).
pub const COMMENT_CHARS_MAX: usize = 4000;

/// A change a person makes to a break.
#[derive(Clone, Debug)]
pub enum Change {
    Assign { assignee: String },
    Comment,
    Resolve { resolution: Resolution },
    Reopen,
}

impl Change {
    fn verb(&self) -> &'static str {
        match self {
            Change::Assign { .. } => "assign",
            Change::Comment => "comment",
            Change::Resolve { .. } => "resolve",
            Change::Reopen => "reopen",
        }
    }
}

/// Applies `change` by `actor` with an optional comment, and records it in the audit trail in
/// the same transaction. The break's row is read and updated under a compare-and-set on its
/// state, so that two people resolving at once give one resolution and one refusal.
///
/// A resolution that moves money (`resent`, `refund_requested`) is refused here: only an
/// operator may choose one, through [`apply_as`].
pub async fn apply(
    store: &Store,
    id: i64,
    actor: &str,
    change: Change,
    comment: Option<&str>,
) -> Result<Break, ReconError> {
    apply_as(store, id, actor, false, change, comment).await
}

/// [`apply`] by an actor who may (an operator) or may not move money. A resolution that
/// moves money enqueues its outbox job in the same transaction as the resolution and its
/// audit line (`super::resolve::enqueue`); the break's compare-and-set makes a second
/// resolution a refusal, so the job is enqueued once.
pub async fn apply_as(
    store: &Store,
    id: i64,
    actor: &str,
    may_move_money: bool,
    change: Change,
    comment: Option<&str>,
) -> Result<Break, ReconError> {
    let (actor, comment) = checked_input(actor, &change, comment)?;
    if let Change::Resolve { resolution } = &change {
        if resolution.moves_money() && !may_move_money {
            return Err(ReconError::Forbidden(format!(
                "resolution {resolution} moves money: only an operator may choose it"
            )));
        }
    }
    let now = now_ms();
    let mut tx = store.begin().await?;
    let current = get(&mut tx, id).await?.ok_or(ReconError::NotFound(id))?;
    let state = BreakState::parse(&current.state)
        .ok_or_else(|| StoreError::Corrupt(format!("break {id} state {:?}", current.state)))?;
    let illegal = || ReconError::Illegal {
        id,
        state,
        action: change.verb(),
    };
    let (action, sql, binds) = update_for(&change, state).ok_or_else(illegal)??;
    // The money first: refused, nothing is written (the transaction is dropped).
    let money = match &change {
        Change::Resolve { resolution } if resolution.moves_money() => {
            let request = super::resolve::Requested { actor, comment };
            Some(super::resolve::enqueue(&mut tx, &current, *resolution, request).await?)
        }
        _ => None,
    };
    let mut q = sqlx::query(sql);
    for b in binds {
        q = q.bind(b);
    }
    let done = q
        .bind(now)
        .bind(id)
        .bind(state.as_str())
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() != 1 {
        // Someone else changed it between our read and our write.
        return Err(illegal());
    }
    let text = match (audit_text(&change, comment), money) {
        (Some(t), Some(m)) => Some(format!("{t} ({m})")),
        (t, m) => t.or(m),
    };
    append_event(&mut tx, id, actor, action, text.as_deref(), now).await?;
    let after = get(&mut tx, id).await?.ok_or(ReconError::NotFound(id))?;
    tx.commit().await.map_err(StoreError::from)?;
    tracing::info!(
        break_id = id,
        actor,
        action = action.as_str(),
        "break changed"
    );
    Ok(after)
}

/// The actor and comment of a change, trimmed, or why the change cannot be made whatever the
/// break's state (no actor, a comment too long or missing).
fn checked_input<'a>(
    actor: &'a str,
    change: &Change,
    comment: Option<&'a str>,
) -> Result<(&'a str, Option<&'a str>), ReconError> {
    let actor = actor.trim();
    if actor.is_empty() {
        return Err(ReconError::BadInput("an actor is required".into()));
    }
    let comment = comment.map(str::trim).filter(|c| !c.is_empty());
    if comment.is_some_and(|c| c.chars().count() > COMMENT_CHARS_MAX) {
        return Err(ReconError::BadInput(format!(
            "a comment is at most {COMMENT_CHARS_MAX} characters"
        )));
    }
    if matches!(change, Change::Comment) && comment.is_none() {
        return Err(ReconError::BadInput("the comment is empty".into()));
    }
    Ok((actor, comment))
}

/// The audit action, the compare-and-set UPDATE (its last three parameters are the time, the
/// id and the state read) and its leading binds for `change` from `state`; `None` when the
/// workflow does not allow the change from that state.
#[allow(clippy::type_complexity)]
fn update_for(
    change: &Change,
    state: BreakState,
) -> Option<Result<(Action, &'static str, Vec<Option<String>>), ReconError>> {
    let resolved = state == BreakState::Resolved;
    Some(Ok(match change {
        Change::Assign { assignee } => {
            if resolved {
                return None;
            }
            let assignee = assignee.trim();
            if assignee.is_empty() {
                return Some(Err(ReconError::BadInput("the assignee is empty".into())));
            }
            (
                Action::Assigned,
                "UPDATE breaks SET state = 'assigned', assignee = $1, updated_at_ms = $2 \
                 WHERE id = $3 AND state = $4",
                vec![Some(assignee.to_string())],
            )
        }
        Change::Comment => (
            Action::Commented,
            "UPDATE breaks SET updated_at_ms = $1 WHERE id = $2 AND state = $3",
            vec![],
        ),
        Change::Resolve { resolution } => {
            if resolved {
                return None;
            }
            (
                Action::Resolved,
                "UPDATE breaks SET state = 'resolved', resolution = $1, resolved_at_ms = $2, \
                 updated_at_ms = $2 WHERE id = $3 AND state = $4",
                vec![Some(resolution.as_str().to_string())],
            )
        }
        Change::Reopen => {
            if !resolved {
                return None;
            }
            (
                Action::Reopened,
                "UPDATE breaks SET state = CASE WHEN assignee IS NULL THEN 'open' \
                 ELSE 'assigned' END, resolution = NULL, resolved_at_ms = NULL, \
                 updated_at_ms = $1 WHERE id = $2 AND state = $3",
                vec![],
            )
        }
    }))
}

/// What the audit trail says of a change: to whom it was assigned, the resolution, and the
/// comment.
fn audit_text(change: &Change, comment: Option<&str>) -> Option<String> {
    match change {
        Change::Assign { assignee } => Some(match comment {
            Some(c) => format!("to {}: {c}", assignee.trim()),
            None => format!("to {}", assignee.trim()),
        }),
        Change::Resolve { resolution } => Some(match comment {
            Some(c) => format!("{resolution}: {c}"),
            None => resolution.to_string(),
        }),
        _ => comment.map(str::to_string),
    }
}

/// Quotes a CSV field when it needs it (RFC 4180), and defuses spreadsheet formulas.
pub fn csv_field(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) && value.parse::<f64>().is_err() {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// The breaks as CSV, a header line first.
pub fn to_csv(rows: &[Break]) -> String {
    let mut out = String::from(
        "id,kind,severity,state,assignee,settlement_id,counterparty,currency,\
         amount_at_risk_minor,amount_at_risk,age_seconds,opened_at_ms,resolution,detail\n",
    );
    for b in rows {
        let fields = [
            b.id.to_string(),
            b.kind.clone(),
            b.severity.clone(),
            b.state.clone(),
            b.assignee.clone().unwrap_or_default(),
            b.settlement_id.clone().unwrap_or_default(),
            b.counterparty.clone().unwrap_or_default(),
            b.currency.clone().unwrap_or_default(),
            b.amount_at_risk_minor.to_string(),
            b.amount_at_risk.clone(),
            b.age_seconds.to_string(),
            b.opened_at_ms.to_string(),
            b.resolution.clone().unwrap_or_default(),
            b.detail.clone(),
        ];
        let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(csv_field("-12"), "-12");
    }
}
