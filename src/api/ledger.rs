//! `POST /v1/ledger/events`: one event or an array of them, signed by the ledger.

use super::{header, unix_now, ApiError, AppState, Arrived, Peer};
use crate::intake::{self, IntakeError};
use crate::store::journal::{AuthenticatedBy, Channel};
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
    let max = state.config.intake.body_bytes_max;
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
    let refuse = |status: StatusCode, code: &'static str, message: String| {
        arrived.refuse_unauthenticated(&state, status, code, message)
    };
    if arrived.truncated {
        return Err(refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("body exceeds {max} bytes"),
        )
        .await);
    }
    let Some(ledger_id) = claimed.clone() else {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "unknown_ledger",
            format!("send the {LEDGER_HEADER} header naming your ledger"),
        )
        .await);
    };
    let Some(ledger) = state.config.ledger(&ledger_id) else {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "unknown_ledger",
            format!("ledger {ledger_id:?} is not configured"),
        )
        .await);
    };
    let secrets: Vec<&[u8]> = ledger.secrets.iter().map(|s| s.expose()).collect();
    if let Err(e) = webhook::verify(
        header(&headers, webhook::SIGNATURE_HEADER),
        &arrived.bytes,
        &secrets,
        unix_now(),
        state.config.intake.signature_window_seconds,
    ) {
        return Err(refuse(StatusCode::UNAUTHORIZED, "bad_signature", e.to_string()).await);
    }
    let received = arrived.journal(&state, AuthenticatedBy::Signature).await?;
    let (bytes, inbound) = (&received.bytes, received.inbound);
    match intake::accept_body(&state.store, &state.config, &ledger_id, inbound, bytes).await {
        Ok((batch, results)) => {
            state.wake.notify_waiters();
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
                let status = StatusCode::from_u16(result.status).unwrap_or(StatusCode::OK);
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
        Err(e) => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_an_event",
            e.to_string(),
        )),
    }
}
