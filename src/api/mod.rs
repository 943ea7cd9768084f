//! The HTTP API (axum on hyper): ledger intake, bank callbacks, operations, health and
//! metrics. Handlers journal, check and store; they never send to a bank (STYLE: run at your
//! own pace), they wake the dispatch workers instead.

mod banks;
pub mod extract;
mod ledger;
mod ops;
pub mod recon;
pub mod review;
pub mod server;
mod statements;

use crate::config::{Config, Role};
use crate::store::journal::{self, AuthenticatedBy, Channel};
use crate::store::Store;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::BodyExt;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub wake: Arc<Notify>,
    /// Authentication failures per caller address (`intake.unauthenticated_failures_per_minute_max`).
    pub throttle: Arc<Throttle>,
    /// Request body bytes that may be held at once (`server.body_bytes_in_flight_max`).
    pub body_budget: Arc<tokio::sync::Semaphore>,
    /// Whether dispatch is too far behind to take new ledger events (`intake.dispatch_lag_ms_max`).
    pub admission: Arc<crate::intake::admission::Admission>,
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
        .route("/v1/ledgers", get(ops::ledgers))
        .route("/v1/statements", post(statements::post_statement))
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(ops::openapi))
        .route("/v1/breaks", get(recon::list))
        .route("/v1/breaks/export", get(recon::export))
        .route("/v1/breaks/{id}", get(recon::show))
        .route("/v1/breaks/{id}/assign", post(recon::assign))
        .route("/v1/breaks/{id}/comment", post(recon::comment))
        .route("/v1/breaks/{id}/resolve", post(recon::resolve))
        .route("/v1/breaks/{id}/reopen", post(recon::reopen))
        .route("/v1/recon/run", post(recon::run))
        .route("/v1/recon/status", get(recon::status))
        .route("/review", get(review::queue))
        .route("/review/login", get(review::login_form).post(review::login))
        .route("/review/logout", post(review::logout))
        .route("/review/breaks/{id}", get(review::one))
        .route("/review/breaks/{id}/{action}", post(review::act))
        .route("/review/assets/review.css", get(review::css))
        .route("/review/assets/review.js", get(review::js))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Bodies are read by the handlers with their own bound, so that an oversized body
        // can still be journaled (truncated) before it is refused.
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no endpoint at {}", uri.path()),
    )
}

async fn method_not_allowed(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!("{method} is not allowed on {}", uri.path()),
    )
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

/// A body read up to a bound: all of it, or the first `max` bytes of a longer one. Either
/// way it holds its share of the in-flight body budget until dropped.
pub enum Limited {
    Whole(Bytes, BodyBudget),
    Truncated(Bytes, BodyBudget),
}

/// Body bytes held against `server.body_bytes_in_flight_max`; released when dropped.
pub struct BodyBudget(Option<tokio::sync::OwnedSemaphorePermit>);

/// Reads a body up to `max` bytes within `server.body_read_timeout_ms` (else 408), taking
/// its bytes from the in-flight budget as they arrive (past it, 503): however many clients
/// send at once, the bodies held in memory stay bounded.
pub async fn read_limited(state: &AppState, body: Body, max: usize) -> Result<Limited, ApiError> {
    let deadline = std::time::Duration::from_millis(state.config.server.body_read_timeout_ms);
    match tokio::time::timeout(deadline, read_within_budget(&state.body_budget, body, max)).await {
        Ok(read) => read,
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "body_timeout",
            format!("the body did not arrive within {} ms", deadline.as_millis()),
        )),
    }
}

async fn read_within_budget(
    budget: &Arc<tokio::sync::Semaphore>,
    body: Body,
    max: usize,
) -> Result<Limited, ApiError> {
    let mut body = body;
    let mut buf = Vec::new();
    let mut held = BodyBudget(None);
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "body_read",
                format!("reading the body failed: {e}"),
            )
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let take = data.len().min(max - buf.len());
        held.take(budget, take)?;
        buf.extend_from_slice(&data[..take]);
        if take < data.len() {
            return Ok(Limited::Truncated(Bytes::from(buf), held));
        }
    }
    Ok(Limited::Whole(Bytes::from(buf), held))
}

impl BodyBudget {
    fn take(&mut self, budget: &Arc<tokio::sync::Semaphore>, bytes: usize) -> Result<(), ApiError> {
        if bytes == 0 {
            return Ok(());
        }
        let busy = || {
            metrics::counter!("corridor_http_body_budget_exhausted_total").increment(1);
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "server_busy",
                "too many request bodies in flight; retry shortly",
            )
        };
        let n = u32::try_from(bytes).map_err(|_| busy())?;
        let permit = budget
            .clone()
            .try_acquire_many_owned(n)
            .map_err(|_| busy())?;
        match &mut self.0 {
            Some(held) => held.merge(permit),
            None => self.0 = Some(permit),
        }
        Ok(())
    }
}

pub fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Checks `Authorization: Bearer …` against the configured tokens for at least `need`.
pub fn authorize(config: &Config, headers: &HeaderMap, need: Role) -> Result<Role, ApiError> {
    authenticate(config, headers, need).map(|(_, role)| role)
}

/// [`authorize`], with the index of the matched token in `server.api_tokens` (whose name the
/// audit trail records).
pub fn authenticate(
    config: &Config,
    headers: &HeaderMap,
    need: Role,
) -> Result<(usize, Role), ApiError> {
    // The scheme is case-insensitive (RFC 9110 section 11.1): "bearer" is "Bearer".
    let presented = header(headers, "authorization")
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthenticated",
                "send Authorization: Bearer <token>",
            )
        })?;
    let (index, role) = config
        .server
        .api_tokens
        .iter()
        .enumerate()
        .find(|(_, t)| constant_time_eq(t.token.expose(), presented.as_bytes()))
        .map(|(i, t)| (i, t.role))
        .ok_or_else(|| {
            ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", "unknown token")
        })?;
    let rank = |r: Role| match r {
        Role::Viewer => 0,
        Role::Reviewer => 1,
        Role::Operator => 2,
    };
    if rank(role) >= rank(need) {
        Ok((index, role))
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

/// A request body read up to `intake.body_bytes_max`, not yet journaled: its sender is
/// authenticated first, so that the journal knows whether to keep it whole.
pub struct Arrived {
    pub bytes: Bytes,
    /// The body was longer than the bound; `bytes` holds its first part.
    pub truncated: bool,
    channel: Channel,
    source: Option<String>,
    content_type: Option<String>,
    headers: String,
    peer: Option<IpAddr>,
    _budget: BodyBudget,
}

impl Arrived {
    /// Reads `body` under the body limit. A caller whose authentication failures went past
    /// the per-minute limit is refused with 429 before its body is read.
    pub async fn read(
        state: &AppState,
        peer: Peer,
        channel: Channel,
        source: Option<&str>,
        headers: &HeaderMap,
        body: Body,
    ) -> Result<Arrived, ApiError> {
        if let Some(ip) = peer.0 {
            if state.throttle.is_over(ip) {
                metrics::counter!("corridor_unauthenticated_throttled_total").increment(1);
                return Err(ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_failures",
                    "too many requests from this address failed authentication; retry in a minute",
                ));
            }
        }
        let (bytes, truncated, budget) =
            match read_limited(state, body, state.config.intake.body_bytes_max).await? {
                Limited::Whole(b, budget) => (b, false, budget),
                Limited::Truncated(b, budget) => (b, true, budget),
            };
        Ok(Arrived {
            bytes,
            truncated,
            channel,
            source: source.map(str::to_string),
            content_type: header(headers, "content-type").map(str::to_string),
            headers: journal::headers_json(
                headers
                    .iter()
                    .map(|(name, value)| (name.as_str(), value.as_bytes())),
            ),
            peer: peer.0,
            _budget: budget,
        })
    }

    /// The sender could not be authenticated: keeps what an operator needs (headers, size,
    /// hash, a prefix), counts the failure against the caller's address, and makes the 4xx.
    pub async fn refuse_unauthenticated(
        &self,
        state: &AppState,
        status: StatusCode,
        code: &'static str,
        message: String,
    ) -> ApiError {
        if let Some(ip) = self.peer {
            state.throttle.count_failure(ip);
        }
        metrics::counter!("corridor_unauthenticated_refused_total", "channel" => self.channel.as_str())
            .increment(1);
        let refusal = journal::Refusal {
            channel: self.channel,
            source: self.source.as_deref(),
            content_type: self.content_type.as_deref(),
            headers: Some(&self.headers),
            body: &self.bytes,
            prefix_bytes_max: state.config.journal.refused_prefix_bytes,
            reason: &message,
        };
        match journal::record_refused(&state.store, &refusal).await {
            Ok(inbound) => {
                tracing::warn!(inbound, code, %message, "unauthenticated request refused")
            }
            Err(e) => {
                tracing::error!(error = %e, code, "could not journal a refused request")
            }
        }
        ApiError::new(status, code, message)
    }

    /// Checks the request's webhook signature against `signer`'s secrets (refusing a body
    /// cut at the limit, an unknown signer and a bad signature, each kept bounded), then
    /// journals the body whole.
    pub async fn authenticate_signed(
        self,
        state: &AppState,
        headers: &HeaderMap,
        signer: Signer<'_>,
    ) -> Result<Journaled, ApiError> {
        self.verify_signed(state, headers, signer).await?;
        self.journal(state, AuthenticatedBy::Signature).await
    }

    /// Checks the request's webhook signature against `signer`'s secrets, as
    /// [`Arrived::authenticate_signed`] does, without journaling the body: for a caller that
    /// journals it in a write of its own.
    pub async fn verify_signed(
        &self,
        state: &AppState,
        headers: &HeaderMap,
        signer: Signer<'_>,
    ) -> Result<(), ApiError> {
        if self.truncated {
            let max = state.config.intake.body_bytes_max;
            let message = format!("body exceeds {max} bytes");
            return Err(self
                .refuse_unauthenticated(
                    state,
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "body_too_large",
                    message,
                )
                .await);
        }
        let secrets = match signer {
            Signer::Known(secrets) => secrets,
            Signer::Unknown {
                status,
                code,
                message,
            } => {
                return Err(self
                    .refuse_unauthenticated(state, status, code, message)
                    .await)
            }
        };
        if let Err(e) = webhook::verify(
            header(headers, webhook::SIGNATURE_HEADER),
            &self.bytes,
            &secrets,
            unix_now(),
            state.config.intake.signature_window_seconds,
        ) {
            let message = e.to_string();
            return Err(self
                .refuse_unauthenticated(state, StatusCode::UNAUTHORIZED, "bad_signature", message)
                .await);
        }
        Ok(())
    }

    /// The request's `content-type`, as the journal keeps it.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The sender is authenticated: journals the body whole, committed, before anything
    /// applies it.
    pub async fn journal(
        self,
        state: &AppState,
        authenticated_by: AuthenticatedBy,
    ) -> Result<Journaled, ApiError> {
        let inbound = journal::record(
            &state.store,
            self.channel,
            self.source.as_deref(),
            self.content_type.as_deref(),
            &self.bytes,
            authenticated_by,
        )
        .await
        .map_err(ApiError::internal)?;
        Ok(Journaled {
            bytes: self.bytes,
            inbound,
            store: state.store.clone(),
            _budget: self._budget,
        })
    }
}

/// Who may have signed a request: the configured party's secrets, or the refusal that says
/// there is no such party.
pub enum Signer<'a> {
    Known(Vec<&'a [u8]>),
    Unknown {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
}

/// A request body from an authenticated sender, in the inbound journal.
pub struct Journaled {
    pub bytes: Bytes,
    pub inbound: i64,
    store: Store,
    _budget: BodyBudget,
}

impl Journaled {
    /// Marks the journal entry rejected with the reason, and makes the 4xx that says it.
    pub async fn refuse(
        &self,
        status: StatusCode,
        code: &'static str,
        message: String,
    ) -> ApiError {
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

/// The address a request came from (when the server was started with connection info).
#[derive(Clone, Copy, Debug)]
pub struct Peer(pub Option<IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<SocketAddr>>()
                .map(|info| info.0.ip()),
        ))
    }
}

/// Per-address count of authentication failures in the current minute. Bounded: past
/// `ADDRESSES_MAX` addresses, finished minutes are forgotten, and if all are current the
/// count starts over (a flood from that many addresses is not something one table stops).
pub struct Throttle {
    per_minute_max: u32,
    seen: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

const ADDRESSES_MAX: usize = 10_000;
const MINUTE: Duration = Duration::from_secs(60);

impl Throttle {
    pub fn new(per_minute_max: u32) -> Self {
        Throttle {
            per_minute_max,
            seen: Mutex::new(HashMap::new()),
        }
    }

    fn is_over(&self, ip: IpAddr) -> bool {
        if self.per_minute_max == 0 {
            return false;
        }
        let seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.get(&ip)
            .is_some_and(|(since, n)| since.elapsed() < MINUTE && *n >= self.per_minute_max)
    }

    fn count_failure(&self, ip: IpAddr) {
        if self.per_minute_max == 0 {
            return;
        }
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if seen.len() >= ADDRESSES_MAX && !seen.contains_key(&ip) {
            seen.retain(|_, (since, _)| since.elapsed() < MINUTE);
            if seen.len() >= ADDRESSES_MAX {
                seen.clear();
            }
        }
        let entry = seen.entry(ip).or_insert((Instant::now(), 0));
        if entry.0.elapsed() >= MINUTE {
            *entry = (Instant::now(), 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}
