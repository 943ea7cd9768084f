//! Ledger intake: events in (HTTP push or file), canonical settlements out, exactly once.
//!
//! The raw body is journaled before anything else (DESIGN.md decision 7). Each event then
//! becomes a settlement keyed by (ledger, event id) (decision 3): a new key is stored,
//! routed and queued for delivery in one transaction; the same key with the same content
//! answers with the current state; the same key with other content is a conflict. A batch is
//! one transaction (group commit), with a result per event.

pub mod event;

use crate::config::Config;
use crate::domain::Rail;
use crate::domain::SettlementState;
use crate::rails;
use crate::routing;
use crate::store::journal::{self, Channel};
use crate::store::messages::Outbound;
use crate::store::settlements::{self, Inserted, Landing, Step};
use crate::store::{outbox, Store, StoreError};
pub use event::FieldError;
use serde::Serialize;

/// What became of one event at intake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Intake {
    /// A new settlement.
    Created,
    /// Its key was known with the same content: answered with the current state.
    Known,
    /// Its key was known with other content: refused.
    Conflict,
    /// Not a valid event: refused, with the field named.
    Invalid,
}

impl Intake {
    /// The HTTP status that reports it (the API's and the CLI's word for it).
    pub fn http_status(self) -> u16 {
        match self {
            Intake::Created => 201,
            Intake::Known => 200,
            Intake::Conflict => 409,
            Intake::Invalid => 422,
        }
    }
}

impl std::fmt::Display for Intake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.http_status())
    }
}

impl Serialize for Intake {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u16(self.http_status())
    }
}

/// The result for one event, as the API and the CLI report it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct EventResult {
    /// Written as its HTTP status: 201 created, 200 already known (same content), 409
    /// conflict, 422 invalid.
    #[serde(rename = "status")]
    pub outcome: Intake,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub settlement_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<SettlementState>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<FieldError>,
}

impl EventResult {
    fn invalid(event_id: Option<String>, error: FieldError) -> Self {
        EventResult {
            outcome: Intake::Invalid,
            event_id,
            settlement_id: None,
            state: None,
            error: Some(error),
        }
    }
}

/// Why a whole request was refused (each maps to one 4xx).
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error("body is not JSON: {0}")]
    Malformed(String),
    #[error("a batch holds at most {max} events; this one holds {got}")]
    BatchTooLarge { max: usize, got: usize },
    #[error("a batch must hold at least one event")]
    EmptyBatch,
    #[error("body must be one event object or an array of them")]
    NotAnEvent,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Takes a journaled body of one event or an array of events from `ledger`.
///
/// Returns whether the body was a batch, and one result per event.
pub async fn accept_body(
    store: &Store,
    config: &Config,
    ledger: &str,
    inbound_id: i64,
    body: &[u8],
) -> Result<(bool, Vec<EventResult>), IntakeError> {
    let value: serde_json::Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            let error = IntakeError::Malformed(e.to_string());
            let mut conn = store.pool().acquire().await.map_err(StoreError::from)?;
            journal::mark(
                &mut conn,
                inbound_id,
                journal::Status::Rejected,
                &journal::Outcome {
                    detail: Some(&error.to_string()),
                    ..Default::default()
                },
            )
            .await?;
            return Err(error);
        }
    };
    let (batch, events) = match value {
        serde_json::Value::Array(items) => (true, items),
        v @ serde_json::Value::Object(_) => (false, vec![v]),
        _ => {
            reject_whole(store, inbound_id, &IntakeError::NotAnEvent).await?;
            return Err(IntakeError::NotAnEvent);
        }
    };
    if events.is_empty() {
        reject_whole(store, inbound_id, &IntakeError::EmptyBatch).await?;
        return Err(IntakeError::EmptyBatch);
    }
    let max = config.intake.batch_events_max;
    if events.len() > max {
        let error = IntakeError::BatchTooLarge {
            max,
            got: events.len(),
        };
        reject_whole(store, inbound_id, &error).await?;
        return Err(error);
    }
    let results = accept_events(store, config, ledger, inbound_id, events).await?;
    Ok((batch, results))
}

async fn reject_whole(
    store: &Store,
    inbound_id: i64,
    error: &IntakeError,
) -> Result<(), StoreError> {
    let mut conn = store.pool().acquire().await?;
    journal::mark(
        &mut conn,
        inbound_id,
        journal::Status::Rejected,
        &journal::Outcome {
            detail: Some(&error.to_string()),
            ..Default::default()
        },
    )
    .await
}

/// Applies parsed events in one transaction and marks the journal entry with the outcome.
/// The transaction is a group commit: concurrent requests share it, and the results are
/// returned only once it is durable.
pub async fn accept_events(
    store: &Store,
    config: &Config,
    ledger: &str,
    inbound_id: i64,
    events: Vec<serde_json::Value>,
) -> Result<Vec<EventResult>, IntakeError> {
    // The group writer runs the work on its own task, so it owns what it reads.
    let config = std::sync::Arc::new(config.clone());
    let ledger = ledger.to_string();
    let results = store
        .write(move |conn| {
            Box::pin(async move { apply_events(conn, &config, &ledger, inbound_id, events).await })
        })
        .await?;
    Ok(results)
}

/// [`accept_events`] inside the caller's transaction, which the caller commits: a ledger
/// that keeps its own position (an EVM follower's cursor) writes it in the same transaction,
/// so that its position and the events it covers are stored together or not at all.
pub async fn accept_events_in(
    tx: &mut crate::store::Tx,
    config: &Config,
    ledger: &str,
    inbound_id: i64,
    events: Vec<serde_json::Value>,
) -> Result<Vec<EventResult>, IntakeError> {
    Ok(apply_events(tx, config, ledger, inbound_id, events).await?)
}

/// The writes of [`accept_events`], on the group's connection (or the caller's transaction).
async fn apply_events(
    conn: &mut sqlx::AnyConnection,
    config: &Config,
    ledger: &str,
    inbound_id: i64,
    events: Vec<serde_json::Value>,
) -> Result<Vec<EventResult>, StoreError> {
    let mut results = Vec::with_capacity(events.len());
    for value in events {
        results.push(accept_one(conn, config, ledger, inbound_id, value).await?);
    }
    let status = journal_status(&results);
    let detail = summarise(&results);
    let single = (results.len() == 1)
        .then(|| results[0].settlement_id.as_deref())
        .flatten();
    let event_ref = (results.len() == 1)
        .then(|| results[0].event_id.as_deref())
        .flatten();
    journal::mark(
        conn,
        inbound_id,
        status,
        &journal::Outcome {
            detail: Some(&detail),
            settlement_id: single,
            message_kind: Some("ledger.event"),
            message_ref: event_ref,
        },
    )
    .await?;
    Ok(results)
}

fn journal_status(results: &[EventResult]) -> journal::Status {
    use journal::Status;
    let count = |outcome| results.iter().filter(|r| r.outcome == outcome).count();
    if count(Intake::Created) > 0 {
        Status::Applied
    } else if count(Intake::Conflict) > 0 {
        Status::Conflict
    } else if count(Intake::Known) == results.len() {
        Status::Duplicate
    } else if count(Intake::Known) > 0 {
        Status::Applied
    } else {
        Status::Rejected
    }
}

fn summarise(results: &[EventResult]) -> String {
    let count = |outcome| results.iter().filter(|r| r.outcome == outcome).count();
    let mut detail = format!(
        "{} created, {} known, {} conflict, {} invalid",
        count(Intake::Created),
        count(Intake::Known),
        count(Intake::Conflict),
        count(Intake::Invalid)
    );
    for r in results.iter().filter(|r| r.error.is_some()).take(10) {
        if let Some(e) = &r.error {
            detail.push_str(&format!(
                "; {}: {e}",
                r.event_id.as_deref().unwrap_or("(no id)")
            ));
        }
    }
    detail
}

// Long on purpose: one event's path through intake in order (parse, validate, route, the
// bank rail's address rule, insert or compare by key, submit), every refusal naming its field.
async fn accept_one(
    tx: &mut sqlx::AnyConnection,
    config: &Config,
    ledger: &str,
    inbound_id: i64,
    value: serde_json::Value,
) -> Result<EventResult, StoreError> {
    let event_id = value.get("event_id").and_then(|v| v.as_str()).map(|s| {
        s.chars()
            .take(event::EVENT_ID_CHARS_MAX)
            .collect::<String>()
    });
    let hash = event::content_hash(&value);
    let json = match event::parse_json(value) {
        Ok(json) => json,
        Err(e) => return Ok(EventResult::invalid(event_id, e)),
    };
    let settlement = match event::to_settlement(ledger, &json) {
        Ok(s) => s,
        Err(e) => return Ok(EventResult::invalid(event_id, e)),
    };
    let route = routing::route(config, &settlement);
    if route.as_ref().is_some_and(|r| r.rail == Rail::Bank) {
        if let Err(e) = event::check_for_bank(&settlement) {
            // A key stored before this rule (the same event posted again) still answers
            // with its current state, or as a conflict; only a new one is refused.
            if settlements::find_by_event(tx, ledger, &settlement.event_id)
                .await?
                .is_none()
            {
                return Ok(EventResult::invalid(event_id, e));
            }
        }
    }
    // A new settlement's row is written once, where intake leaves it (routed and submitted,
    // or refused), with its audit rows in one statement: a duplicate costs the rendering of a
    // message that is then dropped, a new one several statements fewer.
    let now = crate::store::now_ms();
    let offline = route
        .as_ref()
        .and_then(|r| rails::prepare_offline(config, r, &settlement));
    // Why the row lands refused, if it does: no route, or a message the rail cannot build.
    let refusal = match (&route, &offline) {
        (None, _) => Some(routing::explain_unroutable(&settlement)),
        (Some(_), Some(Err(e))) => Some(e.to_string()),
        _ => None,
    };
    let rendered = offline.as_ref().map(Result::is_ok);
    let landing = landing(route.as_ref(), rendered, refusal.as_deref());
    match settlements::insert_row(tx, &settlement, &hash, &landing, now).await? {
        Inserted::Existing {
            id,
            state,
            content_hash,
        } => Ok(known_or_conflict(
            event_id,
            &settlement,
            (id, state),
            content_hash == hash,
        )),
        Inserted::Created => {
            let written = Written {
                inbound_id,
                now,
                refusal: refusal.as_deref(),
            };
            let state = route_and_submit(tx, config, &settlement, route, offline, &written).await?;
            tracing::info!(
                settlement = %settlement.id,
                ledger,
                event_id = %settlement.event_id,
                amount = %settlement.amount,
                creditor_account = %crate::telemetry::mask(account_text(&settlement.creditor.account)),
                %state,
                "settlement received"
            );
            Ok(EventResult {
                outcome: Intake::Created,
                event_id,
                settlement_id: Some(settlement.id.to_string()),
                state: Some(state),
                error: None,
            })
        }
    }
}

/// The answer for an event whose key is stored: its settlement's state when the content is the
/// `same`, else a conflict naming the field.
fn known_or_conflict(
    event_id: Option<String>,
    settlement: &crate::domain::Settlement,
    (id, state): (crate::domain::SettlementId, SettlementState),
    same: bool,
) -> EventResult {
    EventResult {
        outcome: if same {
            Intake::Known
        } else {
            Intake::Conflict
        },
        event_id,
        settlement_id: Some(id.to_string()),
        state: Some(state),
        error: (!same).then(|| {
            FieldError::new(
                "event_id",
                format!(
                    "event {} from ledger {} was already received with other content \
                     (settlement {id}); a changed settlement needs a new event id",
                    settlement.event_id, settlement.ledger
                ),
            )
        }),
    }
}

fn account_text(account: &crate::domain::Account) -> &str {
    match account {
        crate::domain::Account::Iban(iban) => iban.as_str(),
        crate::domain::Account::Msisdn(m) => m.as_str(),
        crate::domain::Account::Other { id, .. } => id,
    }
}

/// Where a new settlement's row starts: where intake leaves it when that is known before
/// writing (no route, or a message `rendered` without the store: built or refused), else
/// `received`. `refusal` is the reason of a refused one.
fn landing<'a>(
    route: Option<&'a routing::Route>,
    rendered: Option<bool>,
    refusal: Option<&'a str>,
) -> Landing<'a> {
    let Some(route) = route else {
        return Landing {
            reason_code: Some("NOROUTE"),
            reason: refusal,
            ..Landing::new(SettlementState::Unroutable)
        };
    };
    let routed = |state| Landing {
        rail: Some(route.rail),
        counterparty: Some(&route.counterparty),
        ..Landing::new(state)
    };
    match rendered {
        None => Landing::received(),
        Some(true) => routed(SettlementState::Submitted),
        Some(false) => Landing {
            reason_code: Some("RENDER"),
            reason: refusal,
            ..routed(SettlementState::Failed)
        },
    }
}

/// What the first write of a new settlement already holds.
struct Written<'a> {
    inbound_id: i64,
    now: i64,
    /// Why it was refused at once (no route, or its message could not be built).
    refusal: Option<&'a str>,
}

/// Completes a new settlement's intake after its row is written: renders its message if that
/// needed the store (and moves the row there), then writes the audit rows of every step
/// (received, routed, submitted or refused) in one statement, the message, and its job.
async fn route_and_submit(
    tx: &mut sqlx::AnyConnection,
    config: &Config,
    settlement: &crate::domain::Settlement,
    route: Option<routing::Route>,
    offline: Option<Result<Outbound, rails::RailError>>,
    written: &Written<'_>,
) -> Result<SettlementState, StoreError> {
    let id = &settlement.id;
    let received = Step {
        from: None,
        to: SettlementState::Received,
        cause: "intake",
        detail: None,
        inbound_id: Some(written.inbound_id),
    };
    let Some(route) = route else {
        let unroutable = Step {
            from: Some(SettlementState::Received),
            to: SettlementState::Unroutable,
            cause: "routing",
            detail: written.refusal,
            inbound_id: None,
        };
        settlements::journal_transitions(tx, id, &[received, unroutable], written.now).await?;
        return Ok(SettlementState::Unroutable);
    };
    let rendered = match offline {
        Some(rendered) => rendered,
        None => {
            let rendered = rails::prepare(tx, config, &route, settlement).await?;
            let reason = rendered.as_ref().err().map(ToString::to_string);
            let landing = landing(Some(&route), Some(rendered.is_ok()), reason.as_deref());
            settlements::land(tx, id, &landing, written.now).await?;
            rendered
        }
    };
    let routed = Step {
        from: Some(SettlementState::Received),
        to: SettlementState::Routed,
        cause: "routing",
        detail: None,
        inbound_id: None,
    };
    match rendered {
        Ok(outbound) => {
            crate::store::messages::insert(tx, &outbound).await?;
            let detail = format!("{} {}", outbound.kind, outbound.msg_id);
            let submitted = Step {
                from: Some(SettlementState::Routed),
                to: SettlementState::Submitted,
                cause: "submit",
                detail: Some(&detail),
                inbound_id: None,
            };
            settlements::journal_transitions(tx, id, &[received, routed, submitted], written.now)
                .await?;
            outbox::enqueue(tx, outbox::Kind::Deliver, id, written.now).await?;
            Ok(SettlementState::Submitted)
        }
        Err(e) => {
            // The settlement was valid but its message is not (a rail rule): a final failure
            // that the ledger hears about, not a silent drop.
            let reason = e.to_string();
            let failed = Step {
                from: Some(SettlementState::Routed),
                to: SettlementState::Failed,
                cause: "submit",
                detail: Some(&reason),
                inbound_id: None,
            };
            settlements::journal_transitions(tx, id, &[received, routed, failed], written.now)
                .await?;
            Ok(SettlementState::Failed)
        }
    }
}

/// Journals and applies a body from `ledger` read from a file an operator handed over.
pub async fn journal_and_accept(
    store: &Store,
    config: &Config,
    ledger: &str,
    body: &[u8],
) -> Result<(i64, bool, Vec<EventResult>), IntakeError> {
    let inbound_id = journal::record(
        store,
        Channel::LedgerFile,
        Some(ledger),
        Some("application/json"),
        body,
        journal::AuthenticatedBy::Operator,
    )
    .await?;
    let (batch, results) = accept_body(store, config, ledger, inbound_id, body).await?;
    Ok((inbound_id, batch, results))
}
