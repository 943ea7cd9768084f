//! `POST /v1/ledger/events`: one event or an array of them, signed by the ledger.

use super::{header, ApiError, AppState, Arrived, Peer, Signer};
use crate::intake::{self, IntakeError};
use crate::store::journal::Channel;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

pub const LEDGER_HEADER: &str = "x-corridor-ledger";

pub async fn post_events(
    State(state): State<AppState>,
    peer: Peer,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    if let Some(behind) = state.admission.refusal() {
        // Before the body is read: under overload a refusal should cost next to nothing.
        metrics::counter!("corridor_intake_refused_overloaded_total").increment(1);
        let mut refused = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            behind.to_string(),
        )
        .into_response();
        refused.headers_mut().insert(
            axum::http::header::RETRY_AFTER,
            axum::http::HeaderValue::from(intake::admission::RETRY_AFTER_SECONDS),
        );
        return Ok(refused);
    }
    let claimed: Option<String> =
        header(&headers, LEDGER_HEADER).map(|l| l.chars().take(64).collect());
    let arrived = Arrived::read(
        &state,
        peer,
        Channel::LedgerHttp,
        claimed.as_deref(),
        &headers,
        body,
    )
    .await?;
    let signer = signer(&state.config, claimed.as_deref());
    arrived.verify_signed(&state, &headers, signer).await?;
    let ledger_id = claimed.expect("authenticated: the ledger is named");
    let (content_type, bytes) = (arrived.content_type(), &arrived.bytes);
    match intake::accept_post(&state.store, &state.config, &ledger_id, content_type, bytes).await {
        Ok((inbound, batch, results)) => {
            crate::crash_point!("intake.before_ack");
            let batch_rows_max = state.config.dispatch.batch_rows_max;
            crate::dispatch::wake_for(&state.wake, results.len(), batch_rows_max);
            metrics::counter!("corridor_ledger_events_total", "ledger" => ledger_id.clone())
                .increment(results.len() as u64);
            if batch {
                Ok((
                    StatusCode::OK,
                    Json(serde_json::json!({"journal_id": inbound, "results": results})),
                )
                    .into_response())
            } else {
                let result = &results[0];
                let status =
                    StatusCode::from_u16(result.outcome.http_status()).unwrap_or(StatusCode::OK);
                Ok((status, Json(result)).into_response())
            }
        }
        Err(IntakeError::Store(e)) => Err(ApiError::internal(e)),
        Err(e @ IntakeError::Malformed(_)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "malformed_json",
            e.to_string(),
        )),
        Err(e @ IntakeError::BatchTooLarge { .. }) => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "batch_too_large",
            e.to_string(),
        )),
        // The body's shape is wrong (an empty batch, a number): the request, not an event,
        // is refused, with the same error body as any other refused request. 422 stays the
        // answer for one event that is invalid, with its EventResult.
        Err(e @ (IntakeError::EmptyBatch | IntakeError::NotAnEvent)) => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "not_an_event",
            e.to_string(),
        )),
    }
}

/// Who may sign a post that names `claimed`: the ledger's secrets, or why nobody may (no
/// ledger named, an unknown one, or one whose events come from its chain).
fn signer<'a>(config: &'a crate::config::Config, claimed: Option<&str>) -> Signer<'a> {
    let unknown = |message: String| Signer::Unknown {
        status: StatusCode::UNAUTHORIZED,
        code: "unknown_ledger",
        message,
    };
    match (claimed, claimed.and_then(|id| config.ledger(id))) {
        (Some(id), Some(ledger)) if ledger.kind == crate::config::LedgerKind::Evm => unknown(
            format!("ledger {id:?} is an evm ledger: its events come from its chain, not by HTTP"),
        ),
        (_, Some(ledger)) => Signer::Known(ledger.secrets.iter().map(|s| s.expose()).collect()),
        (None, None) => unknown(format!(
            "send the {LEDGER_HEADER} header naming your ledger"
        )),
        (Some(id), None) => unknown(format!("ledger {id:?} is not configured")),
    }
}
