//! Operations: settlements, outbox and journal for people and tools; health and metrics.

use super::extract::{Path, Query};
use super::{authorize, ApiError, AppState};
use crate::config::Role;
use crate::domain::{SettlementId, SettlementState};
use crate::store::journal::{self, Status};
use crate::store::{messages, now_ms, outbox, settlements, StoreError};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use sqlx::pool::PoolConnection;

#[derive(Deserialize)]
pub struct ListQuery {
    state: Option<String>,
    status: Option<String>,
    limit: Option<i64>,
}

/// Most rows one list request returns, as the OpenAPI document says.
const LIST_LIMIT_MAX: i64 = 1000;

impl ListQuery {
    /// The requested page size (default 100), refused outside 1..=1000 rather than clamped.
    fn limit(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(100),
            Some(n) if (1..=LIST_LIMIT_MAX).contains(&n) => Ok(n),
            Some(n) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_limit",
                format!("limit {n} is outside 1..={LIST_LIMIT_MAX}"),
            )),
        }
    }
}

/// A pooled store connection, or 503 when the store does not give one.
pub(super) async fn connection(state: &AppState) -> Result<PoolConnection<sqlx::Any>, ApiError> {
    state
        .store
        .pool()
        .acquire()
        .await
        .map_err(|e| ApiError::internal(StoreError::from(e)))
}

fn settlement_json(r: &settlements::Record) -> Value {
    let s = &r.settlement;
    json!({
        "id": s.id,
        "ledger": s.ledger,
        "event_id": s.event_id,
        "state": r.state,
        "amount": s.amount.to_decimal_string(),
        "currency": s.amount.currency().code(),
        "rail": r.rail,
        "counterparty": r.counterparty,
        "reason_code": r.reason_code,
        "reason": r.reason,
        "created_at_ms": r.created_at_ms,
        "updated_at_ms": r.updated_at_ms,
        "final_at_ms": r.final_at_ms,
        "written_back_at_ms": r.written_back_at_ms,
    })
}

pub async fn list_settlements(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state.config, &headers, Role::Viewer)?;
    let filter = match q.state.as_deref() {
        Some(s) => Some(SettlementState::parse(s).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_state",
                format!("unknown state {s:?}"),
            )
        })?),
        None => None,
    };
    let mut conn = connection(&state).await?;
    let rows = settlements::list(&mut conn, filter, q.limit()?)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(
        json!({"settlements": rows.iter().map(settlement_json).collect::<Vec<_>>()}),
    ))
}

pub async fn get_settlement(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state.config, &headers, Role::Viewer)?;
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("no settlement {id:?}"),
        )
    };
    let sid = SettlementId::parse(&id).ok_or_else(not_found)?;
    let mut conn = connection(&state).await?;
    let record = settlements::get(&mut conn, &sid)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(not_found)?;
    let transitions = settlements::transitions(&mut conn, &sid)
        .await
        .map_err(ApiError::internal)?;
    let messages = messages::all_for_settlement(&mut conn, &sid)
        .await
        .map_err(ApiError::internal)?;
    let views: Vec<Value> = messages.iter().map(message_json).collect();
    let mut body = settlement_json(&record);
    body["transitions"] = json!(transitions);
    // The payment message (the first stored: pacs.008 or 0200), and every message sent.
    body["message"] = views.first().cloned().unwrap_or(Value::Null);
    body["messages"] = json!(views);
    Ok(Json(body))
}

pub async fn list_outbox(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state.config, &headers, Role::Viewer)?;
    let filter = match q.status.as_deref() {
        Some(s) => Some(
            s.parse::<outbox::Status>()
                .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_status", e))?,
        ),
        None => None,
    };
    let mut conn = connection(&state).await?;
    let rows = outbox::list(&mut conn, filter, q.limit()?)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(json!({"outbox": rows})))
}

pub async fn replay_outbox(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state.config, &headers, Role::Operator)?;
    let mut conn = connection(&state).await?;
    if outbox::replay(&mut conn, id)
        .await
        .map_err(ApiError::internal)?
    {
        state.wake.notify_waiters();
        tracing::info!(outbox = id, "outbox row replayed by operator");
        Ok(Json(json!({"replayed": id})))
    } else {
        Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_replayable",
            format!("outbox row {id} does not exist or is not dead/pending"),
        ))
    }
}

pub async fn list_journal(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state.config, &headers, Role::Viewer)?;
    let filter = match q.status.as_deref() {
        Some(s) => Some(Status::parse(s).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_status",
                format!("unknown journal status {s:?}"),
            )
        })?),
        None => None,
    };
    let mut conn = connection(&state).await?;
    let rows = journal::list(&mut conn, filter, q.limit()?)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(json!({"journal": rows})))
}

pub async fn journal_raw(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    authorize(&state.config, &headers, Role::Reviewer)?;
    let mut conn = connection(&state).await?;
    let entry = journal::get(&mut conn, id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no journal entry {id}"),
            )
        })?;
    Ok(([("content-type", "application/octet-stream")], entry.raw).into_response())
}

/// Per-state counts, journal counts and outbox depth in one document (the demo's summary).
pub async fn summary(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state.config, &headers, Role::Viewer)?;
    let mut conn = connection(&state).await?;
    let states = settlements::count_by_state(&mut conn)
        .await
        .map_err(ApiError::internal)?;
    let journal = journal::count_by_status(&mut conn)
        .await
        .map_err(ApiError::internal)?;
    let depth = outbox::depth(&mut conn).await.map_err(ApiError::internal)?;
    Ok(Json(json!({
        "settlements": states.iter().map(|(s, n)| (s.as_str().to_string(), json!(n))).collect::<serde_json::Map<_, _>>(),
        "journal": journal.into_iter().map(|(s, n)| (s, json!(n))).collect::<serde_json::Map<_, _>>(),
        "outbox": depth,
    })))
}

/// Every ledger's standing (`corridor ledger status`): for an evm ledger its cursor, the
/// chain's head, the lag, pending outcome transactions and open conflicts.
pub async fn ledgers(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state.config, &headers, Role::Viewer)?;
    let all = crate::ledger::evm::status::all(&state.store, &state.config)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(json!({ "ledgers": all })))
}

pub async fn healthz() -> &'static str {
    "ok\n"
}

pub async fn readyz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready\n").into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("store unavailable: {e}\n"),
        )
            .into_response(),
    }
}

/// Prometheus text. Gauges that describe stored state are read from the store at scrape
/// time, so every instance reports the same truth.
pub async fn metrics(State(state): State<AppState>) -> Result<Response, ApiError> {
    let mut conn = connection(&state).await?;
    let states = settlements::count_by_state(&mut conn)
        .await
        .map_err(ApiError::internal)?;
    for s in SettlementState::ALL {
        let n = states
            .iter()
            .find(|(x, _)| *x == s)
            .map(|(_, n)| *n)
            .unwrap_or(0);
        metrics::gauge!("corridor_settlements", "state" => s.as_str()).set(n as f64);
    }
    let now = now_ms();
    let depth = outbox::depth(&mut conn).await.map_err(ApiError::internal)?;
    for &kind in outbox::Kind::ALL {
        for &status in outbox::Status::ALL {
            if status == outbox::Status::Done {
                continue;
            }
            let row = depth.iter().find(|d| d.kind == kind && d.status == status);
            let (kind, status) = (kind.as_str(), status.as_str());
            metrics::gauge!("corridor_outbox_rows", "kind" => kind, "status" => status)
                .set(row.map_or(0.0, |d| d.rows as f64));
            metrics::gauge!("corridor_outbox_oldest_age_seconds", "kind" => kind, "status" => status)
                .set(row.map_or(0.0, |d| (now - d.oldest_created_at_ms) as f64 / 1000.0));
        }
    }
    for ledger in crate::ledger::evm::ledgers(&state.config).unwrap_or_default() {
        crate::ledger::evm::status::publish_gauges(&mut conn, &ledger.id)
            .await
            .map_err(ApiError::internal)?;
    }
    let text = crate::telemetry::prometheus().render();
    Ok(([("content-type", "text/plain; version=0.0.4")], text).into_response())
}

pub async fn openapi() -> Response {
    static DOCUMENT: std::sync::LazyLock<String> =
        std::sync::LazyLock::new(|| openapi_document().to_string());
    ([("content-type", "application/json")], DOCUMENT.as_str()).into_response()
}

/// The OpenAPI document served at `/openapi.json`: `schemas/openapi.json` with the ledger
/// event's JSON Schema (`schemas/ledger/settlement-event.schema.json`, the one source of truth
/// for it) placed in its components: the event as `Event`, each of its `$defs` as
/// `Event<Name>`, and the references between them rewritten to point there, so that every
/// `$ref` in the document resolves inside it.
pub fn openapi_document() -> Value {
    let mut doc: Value = serde_json::from_str(include_str!("../../schemas/openapi.json"))
        .expect("schemas/openapi.json is JSON (checked by tests)");
    let mut event: Value = serde_json::from_str(include_str!(
        "../../schemas/ledger/settlement-event.schema.json"
    ))
    .expect("the event schema is JSON (checked by tests)");
    let component = |def: &str| {
        let mut name = String::from("Event");
        let mut chars = def.chars();
        if let Some(first) = chars.next() {
            name.extend(first.to_uppercase());
            name.extend(chars);
        }
        name
    };
    let mut schemas = Vec::new();
    if let Some(object) = event.as_object_mut() {
        object.remove("$schema");
        object.remove("$id");
        if let Some(Value::Object(defs)) = object.remove("$defs") {
            schemas.extend(defs.into_iter().map(|(name, s)| (component(&name), s)));
        }
    }
    schemas.push(("Event".to_owned(), event));
    for (name, mut schema) in schemas {
        rewrite_refs(&mut schema, &|reference| {
            reference
                .strip_prefix("#/$defs/")
                .map(|def| format!("#/components/schemas/{}", component(def)))
        });
        doc["components"]["schemas"][name] = schema;
    }
    doc
}

/// Replaces each `$ref` for which `map` gives a new target.
fn rewrite_refs(value: &mut Value, map: &dyn Fn(&str) -> Option<String>) {
    match value {
        Value::Object(object) => {
            for (key, v) in object.iter_mut() {
                match v {
                    Value::String(target) if key == "$ref" => {
                        if let Some(new) = map(target) {
                            *target = new;
                        }
                    }
                    _ => rewrite_refs(v, map),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rewrite_refs(v, map)),
        _ => {}
    }
}

/// A stored message's identifiers, on whichever rail (ISO 8583 ones carry STAN and RRN).
fn message_json(m: &messages::Outbound) -> Value {
    json!({
        "kind": m.kind, "rail": m.rail, "counterparty": m.counterparty, "msg_id": m.msg_id,
        "biz_msg_idr": m.biz_msg_idr, "instr_id": m.instr_id, "end_to_end_id": m.end_to_end_id,
        "tx_id": m.tx_id, "uetr": m.uetr, "stan": m.stan, "rrn": m.rrn,
        "transmitted_at": m.transmitted_at, "send_count": m.send_count,
    })
}
