//! Ledger intake: events in (HTTP push or file), canonical settlements out, exactly once.
//!
//! The raw body is journaled before anything else (DESIGN.md decision 7). Each event then
//! becomes a settlement keyed by (ledger, event id) (decision 3): a new key is stored,
//! routed and queued for delivery in one transaction; the same key with the same content
//! answers with the current state; the same key with other content is a conflict. A batch is
//! one transaction (group commit), with a result per event.

pub mod admission;
pub mod event;
mod merged;
mod post;

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

/// A post from `ledger`, its sender authenticated by its signature: the body journaled raw
/// and its events applied in one commit (see `post`). Returns the journal entry's id,
/// whether the body was a batch, and each event's result. A body that is neither an event nor
/// a batch of them within the bound, and one the joint write could not take, is journaled
/// alone and committed first, then handled by [`accept_body`].
pub async fn accept_post(
    store: &Store,
    config: &std::sync::Arc<Config>,
    ledger: &str,
    content_type: Option<&str>,
    body: &[u8],
) -> Result<(i64, bool, Vec<EventResult>), IntakeError> {
    // Validation, routing and rendering run before the body is journaled: should they panic
    // (a defect), the body takes the journal-first path below, kept before anything runs.
    let prepared = shape(config, body).ok().and_then(|(batch, events)| {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let events: Vec<Ready> = events
                .into_iter()
                .map(|value| prepare(config, ledger, value))
                .collect();
            (batch, events)
        }))
        .ok()
    });
    if let Some((batch, events)) = prepared {
        let entry = journal::received(
            Channel::LedgerHttp,
            Some(ledger),
            content_type,
            body,
            journal::AuthenticatedBy::Signature,
        );
        let write = merged::IntakeWrite {
            config: config.clone(),
            ledger: ledger.to_string(),
            inbound_id: 0,
            events,
            reserved: Default::default(),
        };
        match store.write_merged(post::LedgerPost { entry, write }).await {
            Ok((inbound, results)) => return Ok((inbound, batch, results)),
            Err(e) => tracing::warn!(
                error = %e,
                ledger,
                "a ledger post could not be journaled and applied together; journaling it alone first"
            ),
        }
    }
    let inbound = journal::record(
        store,
        Channel::LedgerHttp,
        Some(ledger),
        content_type,
        body,
        journal::AuthenticatedBy::Signature,
    )
    .await?;
    let (batch, results) = accept_body(store, config, ledger, inbound, body).await?;
    Ok((inbound, batch, results))
}

/// A body's events: an object is one event, an array a batch of them (not empty, within
/// `intake.batch_events_max`).
fn shape(config: &Config, body: &[u8]) -> Result<(bool, Vec<serde_json::Value>), IntakeError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| IntakeError::Malformed(e.to_string()))?;
    let (batch, events) = match value {
        serde_json::Value::Array(items) => (true, items),
        v @ serde_json::Value::Object(_) => (false, vec![v]),
        _ => return Err(IntakeError::NotAnEvent),
    };
    if events.is_empty() {
        return Err(IntakeError::EmptyBatch);
    }
    let max = config.intake.batch_events_max;
    if events.len() > max {
        return Err(IntakeError::BatchTooLarge {
            max,
            got: events.len(),
        });
    }
    Ok((batch, events))
}

/// Applies a journaled body (its entry `inbound_id`): returns whether it was a batch, and
/// each event's result. A body `shape` refuses marks its entry rejected with the reason.
pub async fn accept_body(
    store: &Store,
    config: &Config,
    ledger: &str,
    inbound_id: i64,
    body: &[u8],
) -> Result<(bool, Vec<EventResult>), IntakeError> {
    match shape(config, body) {
        Ok((batch, events)) => {
            let results = accept_events(store, config, ledger, inbound_id, events).await?;
            Ok((batch, results))
        }
        Err(error) => {
            reject_whole(store, inbound_id, &error).await?;
            Err(error)
        }
    }
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
/// The transaction is a group commit: concurrent requests share it (on SQLite their rows are
/// written together, see `merged`), and the results are returned only once it is durable.
pub async fn accept_events(
    store: &Store,
    config: &Config,
    ledger: &str,
    inbound_id: i64,
    events: Vec<serde_json::Value>,
) -> Result<Vec<EventResult>, IntakeError> {
    // Parsing, routing and rendering need no store: done here, on the caller's task, so that
    // the group writer only writes.
    let events = events
        .into_iter()
        .map(|value| prepare(config, ledger, value))
        .collect();
    let write = merged::IntakeWrite {
        config: std::sync::Arc::new(config.clone()),
        ledger: ledger.to_string(),
        inbound_id,
        events,
        reserved: Default::default(),
    };
    Ok(store.write_merged(write).await?)
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
    let events = events
        .into_iter()
        .map(|value| prepare(config, ledger, value))
        .collect();
    Ok(apply_ready(tx, config, ledger, inbound_id, events).await?)
}

/// The writes of [`accept_events`] for one request alone, on the group's connection (or the
/// caller's transaction): each event, then the journal entry's status.
async fn apply_ready(
    conn: &mut sqlx::AnyConnection,
    config: &Config,
    ledger: &str,
    inbound_id: i64,
    events: Vec<Ready>,
) -> Result<Vec<EventResult>, StoreError> {
    let mut results = Vec::with_capacity(events.len());
    for ready in events {
        results.push(write_ready(conn, config, ledger, inbound_id, ready).await?);
    }
    let (status, detail) = journal_outcome(&results);
    journal::mark(conn, inbound_id, status, &journal_marked(&results, &detail)).await?;
    Ok(results)
}

/// The journal entry's status after its events, and the detail that counts them.
fn journal_outcome(results: &[EventResult]) -> (journal::Status, String) {
    (journal_status(results), summarise(results))
}

/// What the journal entry records besides its status: the settlement and event of a body
/// that held one event.
fn journal_marked<'a>(results: &'a [EventResult], detail: &'a str) -> journal::Outcome<'a> {
    let single = (results.len() == 1).then(|| &results[0]);
    journal::Outcome {
        detail: Some(detail),
        settlement_id: single.and_then(|r| r.settlement_id.as_deref()),
        message_kind: Some("ledger.event"),
        message_ref: single.and_then(|r| r.event_id.as_deref()),
    }
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

/// One event as far as intake takes it without the store.
pub(crate) enum Ready {
    /// Not a valid event: its answer.
    Invalid(EventResult),
    /// A valid settlement, to insert or compare by key.
    Event(Box<ReadyEvent>),
}

/// A valid event, routed, with its message rendered when the rail needs nothing stored.
pub(crate) struct ReadyEvent {
    event_id: Option<String>,
    settlement: crate::domain::Settlement,
    hash: String,
    route: Option<routing::Route>,
    /// The bank rail's address rule refused it: refused unless its key is stored already
    /// (the same event posted again, from before the rule), which then answers as usual.
    refused: Option<FieldError>,
    /// The rail's message, built without the store (the bank rail), or why it cannot be;
    /// none when the message carries a number from the store (the wallet rail's trace
    /// numbers, see `numbered`) or there is no route.
    offline: Option<Result<Outbound, rails::RailError>>,
    /// On a rail whose message carries a number from the store (the wallet rail's STAN):
    /// whether the message can be built ([`rails::check_numbered`]). The merged intake
    /// takes the numbers of a group's new settlements at once and builds each message then;
    /// one written alone builds it as before, in its transaction.
    numbered: Option<Result<(), rails::RailError>>,
}

impl Ready {
    /// True when writing it needs no decision from the store other than its key and, on the
    /// wallet rail, its trace number (so that it can be written in a merged group, see
    /// [`merged`]).
    fn decided(&self) -> bool {
        match self {
            Ready::Invalid(_) => true,
            Ready::Event(e) => e.refused.is_some() || e.route.is_none() || e.rendered().is_some(),
        }
    }
}

impl ReadyEvent {
    /// Whether its message can be built, when that is known without the store.
    fn rendered(&self) -> Option<bool> {
        match (&self.offline, &self.numbered) {
            (Some(offline), _) => Some(offline.is_ok()),
            (None, Some(numbered)) => Some(numbered.is_ok()),
            (None, None) => None,
        }
    }

    /// Why its message cannot be built, when that is known without the store.
    fn render_error(&self) -> Option<&rails::RailError> {
        match (&self.offline, &self.numbered) {
            (Some(offline), _) => offline.as_ref().err(),
            (None, Some(numbered)) => numbered.as_ref().err(),
            (None, None) => None,
        }
    }
}

/// Parses, checks, routes and (on a rail that needs no store for it) renders one event.
fn prepare(config: &Config, ledger: &str, value: serde_json::Value) -> Ready {
    let event_id = value.get("event_id").and_then(|v| v.as_str()).map(|s| {
        s.chars()
            .take(event::EVENT_ID_CHARS_MAX)
            .collect::<String>()
    });
    let hash = event::content_hash(&value);
    let json = match event::parse_json(value) {
        Ok(json) => json,
        Err(e) => return Ready::Invalid(EventResult::invalid(event_id, e)),
    };
    let settlement = match event::to_settlement(ledger, &json) {
        Ok(s) => s,
        Err(e) => return Ready::Invalid(EventResult::invalid(event_id, e)),
    };
    let route = routing::route(config, &settlement);
    let refused = route
        .as_ref()
        .filter(|r| r.rail == Rail::Bank)
        .and_then(|_| event::check_for_bank(&settlement).err());
    // A refused one is never written, so its message is not built.
    let offline = route
        .as_ref()
        .filter(|_| refused.is_none())
        .and_then(|r| rails::prepare_offline(config, r, &settlement));
    let numbered = route
        .as_ref()
        .filter(|_| refused.is_none() && offline.is_none())
        .and_then(|r| rails::check_numbered(config, r, &settlement));
    Ready::Event(Box::new(ReadyEvent {
        event_id,
        settlement,
        hash,
        route,
        refused,
        offline,
        numbered,
    }))
}

/// Writes one prepared event: a new settlement's row, where intake leaves it, with its audit
/// rows, message and job; or the answer for a key already stored.
async fn write_ready(
    tx: &mut sqlx::AnyConnection,
    config: &Config,
    ledger: &str,
    inbound_id: i64,
    ready: Ready,
) -> Result<EventResult, StoreError> {
    let ReadyEvent {
        event_id,
        settlement,
        hash,
        route,
        refused,
        offline,
        // Written alone, a message that carries a number from the store is built below,
        // in this transaction, with its number.
        numbered: _,
    } = match ready {
        Ready::Invalid(result) => return Ok(result),
        Ready::Event(event) => *event,
    };
    if let Some(error) = refused {
        // A key stored before this rule (the same event posted again) still answers with
        // its current state, or as a conflict; only a new one is refused.
        return Ok(
            match settlements::find_by_event(tx, ledger, &settlement.event_id).await? {
                None => EventResult::invalid(event_id, error),
                Some(record) => known_or_conflict(
                    event_id,
                    &settlement,
                    (record.settlement.id.clone(), record.state),
                    record.content_hash == hash,
                ),
            },
        );
    }
    // A new settlement's row is written once, where intake leaves it (routed and submitted,
    // or refused), with its audit rows in one statement: a duplicate costs the rendering of a
    // message that is then dropped, a new one several statements fewer.
    let now = crate::store::now_ms();
    let refusal = refusal(
        &settlement,
        route.as_ref(),
        offline.as_ref().and_then(|o| o.as_ref().err()),
    );
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
            Ok(created(ledger, event_id, &settlement, state))
        }
    }
}

/// Why a new settlement lands refused, if it does: no route, or a message the rail cannot
/// build.
fn refusal(
    settlement: &crate::domain::Settlement,
    route: Option<&routing::Route>,
    render_error: Option<&rails::RailError>,
) -> Option<String> {
    match (route, render_error) {
        (None, _) => Some(routing::explain_unroutable(settlement)),
        (Some(_), Some(e)) => Some(e.to_string()),
        (Some(_), None) => None,
    }
}

/// The answer for a new settlement now in `state` (and its log line).
fn created(
    ledger: &str,
    event_id: Option<String>,
    settlement: &crate::domain::Settlement,
    state: SettlementState,
) -> EventResult {
    tracing::info!(
        settlement = %settlement.id,
        ledger,
        event_id = %settlement.event_id,
        amount = %settlement.amount,
        creditor_account = %crate::telemetry::mask(account_text(&settlement.creditor.account)),
        %state,
        "settlement received"
    );
    EventResult {
        outcome: Intake::Created,
        event_id,
        settlement_id: Some(settlement.id.to_string()),
        state: Some(state),
        error: None,
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

/// How intake leaves a new settlement, with what its last audit row says.
enum Landed<'a> {
    /// No route: why.
    Unroutable(Option<&'a str>),
    /// Its message stored and its delivery queued: the message's kind and id.
    Submitted(&'a str),
    /// Its message could not be built: why.
    Failed(&'a str),
}

impl Landed<'_> {
    fn state(&self) -> SettlementState {
        match self {
            Landed::Unroutable(_) => SettlementState::Unroutable,
            Landed::Submitted(_) => SettlementState::Submitted,
            Landed::Failed(_) => SettlementState::Failed,
        }
    }
}

/// The audit rows of a new settlement's intake, from `received` to where it lands.
fn intake_steps<'a>(inbound_id: i64, landed: &Landed<'a>) -> Vec<Step<'a>> {
    let step = |from, to, cause, detail| Step {
        from: Some(from),
        to,
        cause,
        detail,
        inbound_id: None,
    };
    let received = Step {
        from: None,
        to: SettlementState::Received,
        cause: "intake",
        detail: None,
        inbound_id: Some(inbound_id),
    };
    let routed = || {
        step(
            SettlementState::Received,
            SettlementState::Routed,
            "routing",
            None,
        )
    };
    match *landed {
        Landed::Unroutable(why) => vec![
            received,
            step(
                SettlementState::Received,
                SettlementState::Unroutable,
                "routing",
                why,
            ),
        ],
        Landed::Submitted(detail) => vec![
            received,
            routed(),
            step(
                SettlementState::Routed,
                SettlementState::Submitted,
                "submit",
                Some(detail),
            ),
        ],
        Landed::Failed(why) => vec![
            received,
            routed(),
            step(
                SettlementState::Routed,
                SettlementState::Failed,
                "submit",
                Some(why),
            ),
        ],
    }
}

/// The audit detail of a submitted message: its kind and id.
fn submitted_detail(outbound: &Outbound) -> String {
    format!("{} {}", outbound.kind, outbound.msg_id)
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
    let Some(route) = route else {
        let landed = Landed::Unroutable(written.refusal);
        let steps = intake_steps(written.inbound_id, &landed);
        settlements::journal_transitions(tx, id, &steps, written.now).await?;
        return Ok(landed.state());
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
    match rendered {
        Ok(outbound) => {
            crate::store::messages::insert(tx, &outbound).await?;
            let detail = submitted_detail(&outbound);
            let landed = Landed::Submitted(&detail);
            let steps = intake_steps(written.inbound_id, &landed);
            settlements::journal_transitions(tx, id, &steps, written.now).await?;
            outbox::enqueue(tx, outbox::Kind::Deliver, id, written.now).await?;
            Ok(landed.state())
        }
        Err(e) => {
            // The settlement was valid but its message is not (a rail rule): a final failure
            // that the ledger hears about, not a silent drop.
            let reason = e.to_string();
            let landed = Landed::Failed(&reason);
            let steps = intake_steps(written.inbound_id, &landed);
            settlements::journal_transitions(tx, id, &steps, written.now).await?;
            Ok(landed.state())
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
