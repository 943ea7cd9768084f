//! The HTTP API (axum on hyper): ledger intake, bank callbacks, operations, health and
//! metrics. Handlers journal, check and store; they never send to a bank (STYLE: run at your
//! own pace), they wake the dispatch workers instead.

mod banks;
mod ledger;
mod ops;

use crate::config::{Config, Role};
use crate::store::Store;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::BodyExt;
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub wake: Arc<Notify>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/v1/ledger/events", post(ledger::post_events))
        .route("/v1/banks/{bank}/messages", post(banks::post_message))
        .route("/v1/settlements", get(ops::list_settlements))
        .route("/v1/settlements/{id}", get(ops::get_settlement))
        .route("/v1/outbox", get(ops::list_outbox))
        .route("/v1/outbox/{id}/replay", post(ops::replay_outbox))
        .route("/v1/journal", get(ops::list_journal))
        .route("/v1/journal/{id}/raw", get(ops::journal_raw))
        .route("/v1/summary", get(ops::summary))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        // Bodies are read by the handlers with their own bound, so that an oversized body
        // can still be journaled (truncated) before it is refused.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}

/// A JSON error with a stable code and a sentence for people.
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        // The details go to the log, not to a caller who may not be authenticated.
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            "the store is unavailable; retry later",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

/// A body read up to a bound: all of it, or the first `max` bytes of a longer one.
pub enum Limited {
    Whole(Bytes),
    Truncated(Bytes),
}

pub async fn read_limited(body: Body, max: usize) -> Result<Limited, ApiError> {
    let mut body = body;
    let mut buf = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "body_read",
                format!("reading the body failed: {e}"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            if buf.len() + data.len() > max {
                let room = max - buf.len();
                buf.extend_from_slice(&data[..room]);
                return Ok(Limited::Truncated(Bytes::from(buf)));
            }
            buf.extend_from_slice(&data);
        }
    }
    Ok(Limited::Whole(Bytes::from(buf)))
}

pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Checks `Authorization: Bearer …` against the configured tokens for at least `need`.
pub fn authorize(config: &Config, headers: &HeaderMap, need: Role) -> Result<Role, ApiError> {
    let presented = header(headers, "authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "send Authorization: Bearer <token>",
            )
        })?;
    let role = config
        .server
        .api_tokens
        .iter()
        .find(|t| constant_time_eq(t.token.expose(), presented.as_bytes()))
        .map(|t| t.role)
        .ok_or_else(|| {
            ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "unknown token")
        })?;
    let rank = |r: Role| match r {
        Role::Viewer => 0,
        Role::Reviewer => 1,
        Role::Operator => 2,
    };
    if rank(role) >= rank(need) {
        Ok(role)
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!("needs the {need:?} role"),
        ))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    // Comparing digests keeps the time independent of where the inputs differ and of length.
    let (x, y) = (Sha256::digest(a), Sha256::digest(b));
    x.iter()
        .zip(y.iter())
        .fold(0u8, |acc, (p, q)| acc | (p ^ q))
        == 0
}

pub fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// A request body as received: bounded, and already in the inbound journal.
pub struct Journaled {
    pub bytes: Bytes,
    pub inbound: i64,
    /// The body was longer than the bound; `bytes` holds its first part.
    pub truncated: bool,
    store: Store,
}

impl Journaled {
    /// Reads `body` up to `intake.body_bytes_max` and journals it before anything else looks
    /// at it: whatever happens next, the bytes are kept.
    pub async fn receive(
        state: &AppState,
        channel: crate::store::journal::Channel,
        source: Option<&str>,
        headers: &HeaderMap,
        body: Body,
    ) -> Result<Journaled, ApiError> {
        let (bytes, truncated) =
            match read_limited(body, state.config.intake.body_bytes_max).await? {
                Limited::Whole(b) => (b, false),
                Limited::Truncated(b) => (b, true),
            };
        let inbound = crate::store::journal::record(
            &state.store,
            channel,
            source,
            header(headers, "content-type"),
            &bytes,
        )
        .await
        .map_err(ApiError::internal)?;
        Ok(Journaled {
            bytes,
            inbound,
            truncated,
            store: state.store.clone(),
        })
    }

    /// Marks the journal entry rejected with the reason, and makes the 4xx that says it.
    pub async fn refuse(
        &self,
        status: StatusCode,
        code: &'static str,
        message: String,
    ) -> ApiError {
        use crate::store::journal;
        let outcome = journal::Outcome {
            detail: Some(&message),
            ..Default::default()
        };
        match self.store.pool().acquire().await {
            Ok(mut conn) => {
                if let Err(e) =
                    journal::mark(&mut conn, self.inbound, journal::Status::Rejected, &outcome)
                        .await
                {
                    tracing::error!(error = %e, inbound = self.inbound, "could not mark a refused request in the journal");
                }
            }
            Err(e) => {
                tracing::error!(error = %e, inbound = self.inbound, "could not mark a refused request in the journal")
            }
        }
        tracing::warn!(inbound = self.inbound, code, %message, "request refused");
        ApiError::new(status, code, message)
    }
}
