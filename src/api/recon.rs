//! Reconciliation over HTTP: the breaks (list, filter, sort, one with its evidence, export
//! CSV), their workflow (assign, comment, resolve, reopen), and recon run / status.
//!
//! Roles: a viewer reads; a reviewer also assigns, comments, resolves and reopens; an
//! operator also runs reconciliation and resolves with the codes that move money (`resent`,
//! `refund_requested`). The actor in the audit trail is the token's `name`.

use super::extract::Path;
use super::ops::connection;
use super::{authorize, constant_time_eq, ApiError, AppState};
use crate::config::{Config, Role};
use crate::recon::breaks::{self, Change, Filter};
use crate::recon::{evidence, BreakKind, BreakState, ReconError, Resolution, Severity};
use crate::store::now_ms;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

/// Who is calling: their role and the name the audit trail records.
#[derive(Clone, Debug)]
pub struct Caller {
    pub role: Role,
    pub name: String,
}

/// The configured token equal to `presented`, as a caller (with its place in the list).
pub fn caller_for_token(config: &Config, presented: &[u8]) -> Option<(usize, Caller)> {
    let (i, t) = config
        .server
        .api_tokens
        .iter()
        .enumerate()
        .find(|(_, t)| constant_time_eq(t.token.expose(), presented))?;
    Some((i, caller_at(config, i, t.role)))
}

/// The caller of token number `i` (names default to `role#n`, counting from 1).
pub fn caller_at(config: &Config, i: usize, role: Role) -> Caller {
    let name = config.server.api_tokens[i]
        .name
        .clone()
        .unwrap_or_else(|| format!("{}#{}", role_name(role), i + 1));
    Caller { role, name }
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::Operator => "operator",
        Role::Reviewer => "reviewer",
        Role::Viewer => "viewer",
    }
}

/// [`authorize`], and the caller's name.
fn identify(config: &Config, headers: &HeaderMap, need: Role) -> Result<Caller, ApiError> {
    let (index, role) = super::authenticate(config, headers, need)?;
    Ok(caller_at(config, index, role))
}

impl From<ReconError> for ApiError {
    fn from(e: ReconError) -> Self {
        match e {
            ReconError::NotFound(_) => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string())
            }
            ReconError::Illegal { .. } => {
                ApiError::new(StatusCode::CONFLICT, "illegal_transition", e.to_string())
            }
            ReconError::BadInput(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.to_string())
            }
            ReconError::Forbidden(_) => {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", e.to_string())
            }
            ReconError::Refused(_) => ApiError::new(StatusCode::CONFLICT, "refused", e.to_string()),
            ReconError::Store(e) => ApiError::internal(e),
        }
    }
}

/// The list's query string; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    pub kind: Option<String>,
    pub severity: Option<String>,
    pub state: Option<String>,
    pub all: Option<bool>,
    pub counterparty: Option<String>,
    pub currency: Option<String>,
    pub settlement_id: Option<String>,
    pub min_age_seconds: Option<i64>,
    pub min_amount_minor: Option<i64>,
    pub sort: Option<String>,
    pub limit: Option<i64>,
}

/// Most rows one list request returns (CSV export: `EXPORT_ROWS_MAX`).
const LIST_LIMIT_MAX: i64 = 1000;
const EXPORT_ROWS_MAX: i64 = 100_000;

fn empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl ListQuery {
    /// For the JSON API: a coded filter given empty (`kind=`) is refused with 400, as the
    /// document's enumerations say; the review page's forms send empty for "any" and do not
    /// call this.
    pub fn refuse_empty_codes(self) -> Result<Self, ApiError> {
        for (name, value) in [
            ("kind", &self.kind),
            ("severity", &self.severity),
            ("state", &self.state),
            ("sort", &self.sort),
        ] {
            if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "bad_query",
                    format!("{name} is empty; leave it out for any {name}"),
                ));
            }
        }
        Ok(self)
    }

    /// The filter, refusing unknown kinds, severities, states, sorts and limits with 400.
    pub fn filter(&self, limit_max: i64) -> Result<Filter, ApiError> {
        let bad = |code: &'static str, m: String| ApiError::new(StatusCode::BAD_REQUEST, code, m);
        let limit = match self.limit {
            None => 100.min(limit_max),
            Some(n) if (1..=limit_max).contains(&n) => n,
            Some(n) => {
                return Err(bad(
                    "bad_limit",
                    format!("limit {n} is outside 1..={limit_max}"),
                ))
            }
        };
        Ok(Filter {
            kind: empty(&self.kind)
                .map(str::parse::<BreakKind>)
                .transpose()
                .map_err(|e| bad("bad_kind", e))?,
            severity: empty(&self.severity)
                .map(str::parse::<Severity>)
                .transpose()
                .map_err(|e| bad("bad_severity", e))?,
            state: empty(&self.state)
                .map(str::parse::<BreakState>)
                .transpose()
                .map_err(|e| bad("bad_state", e))?,
            all_states: self.all.unwrap_or(false),
            counterparty: empty(&self.counterparty).map(str::to_string),
            currency: empty(&self.currency).map(str::to_string),
            settlement_id: empty(&self.settlement_id).map(str::to_string),
            min_age_seconds: self.min_age_seconds,
            min_amount_minor: self.min_amount_minor,
            sort: empty(&self.sort)
                .map(str::parse)
                .transpose()
                .map_err(|e| bad("bad_sort", e))?,
            limit,
        })
    }
}

fn query<T: serde::de::DeserializeOwned + Default>(uri: &axum::http::Uri) -> Result<T, ApiError> {
    match uri.query() {
        None => Ok(T::default()),
        Some(q) => serde_urlencoded::from_str(q).map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_query",
                format!("query string: {e}"),
            )
        }),
    }
}

pub async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Json<Value>, ApiError> {
    authorize(&state.config, &headers, Role::Viewer)?;
    let f = query::<ListQuery>(&uri)?
        .refuse_empty_codes()?
        .filter(LIST_LIMIT_MAX)?;
    let mut conn = connection(&state).await?;
    let rows = breaks::list(&mut conn, &f)
        .await
        .map_err(ApiError::internal)?;
    let counts = breaks::counts(&mut conn)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(json!({
        "breaks": rows,
        "unresolved_by_kind": counts.into_iter().collect::<std::collections::BTreeMap<_, _>>(),
    })))
}

pub async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: axum::http::Uri,
) -> Result<Response, ApiError> {
    authorize(&state.config, &headers, Role::Viewer)?;
    let mut q = query::<ListQuery>(&uri)?.refuse_empty_codes()?;
    q.limit = Some(q.limit.unwrap_or(EXPORT_ROWS_MAX));
    let f = q.filter(EXPORT_ROWS_MAX)?;
    let mut conn = connection(&state).await?;
    let rows = breaks::list(&mut conn, &f)
        .await
        .map_err(ApiError::internal)?;
    Ok((
        [
            ("content-type", "text/csv; charset=utf-8"),
            ("content-disposition", "attachment; filename=\"breaks.csv\""),
        ],
        breaks::to_csv(&rows),
    )
        .into_response())
}

pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    authorize(&state.config, &headers, Role::Viewer)?;
    let mut conn = connection(&state).await?;
    let ev = evidence::gather(&mut conn, &state.config, id)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| ApiError::from(ReconError::NotFound(id)))?;
    Ok(Json(serde_json::to_value(ev).map_err(ApiError::internal)?))
}

/// A workflow request's body. Unknown fields are refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChangeBody {
    pub assignee: Option<String>,
    pub resolution: Option<String>,
    pub comment: Option<String>,
}

async fn body(state: &AppState, raw: axum::body::Body) -> Result<ChangeBody, ApiError> {
    let bytes = match super::read_limited(state, raw, 64 * 1024).await? {
        super::Limited::Whole(b, _) => b,
        super::Limited::Truncated(..) => {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "body exceeds 65536 bytes",
            ))
        }
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(ChangeBody::default());
    }
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_json", format!("body: {e}")))
}

async fn change(
    state: &AppState,
    headers: &HeaderMap,
    id: i64,
    raw: axum::body::Body,
    make: fn(&ChangeBody) -> Result<Change, ApiError>,
) -> Result<Json<Value>, ApiError> {
    let caller = identify(&state.config, headers, Role::Reviewer)?;
    let b = body(state, raw).await?;
    let change = make(&b)?;
    let operator = caller.role == Role::Operator;
    let after = breaks::apply_as(
        &state.store,
        id,
        &caller.name,
        operator,
        change,
        b.comment.as_deref(),
    )
    .await?;
    Ok(Json(json!({ "break": after })))
}

pub async fn assign(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    raw: axum::body::Body,
) -> Result<Json<Value>, ApiError> {
    change(&state, &headers, id, raw, |b| {
        let assignee = b.assignee.clone().ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "assignee is required",
            )
        })?;
        Ok(Change::Assign { assignee })
    })
    .await
}

pub async fn comment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    raw: axum::body::Body,
) -> Result<Json<Value>, ApiError> {
    change(&state, &headers, id, raw, |_| Ok(Change::Comment)).await
}

pub async fn resolve(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    raw: axum::body::Body,
) -> Result<Json<Value>, ApiError> {
    change(&state, &headers, id, raw, |b| {
        let code = b.resolution.as_deref().ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "resolution is required",
            )
        })?;
        let resolution: Resolution = code
            .parse()
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_resolution", e))?;
        Ok(Change::Resolve { resolution })
    })
    .await
}

pub async fn reopen(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    raw: axum::body::Body,
) -> Result<Json<Value>, ApiError> {
    change(&state, &headers, id, raw, |_| Ok(Change::Reopen)).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunBody {
    /// YYYY-MM-DD: as at the end of that UTC day.
    as_of: Option<String>,
    dry_run: Option<bool>,
}

pub async fn run(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: axum::body::Body,
) -> Result<Json<Value>, ApiError> {
    let caller = identify(&state.config, &headers, Role::Operator)?;
    let bytes = match super::read_limited(&state, raw, 4096).await? {
        super::Limited::Whole(b, _) => b,
        super::Limited::Truncated(..) => {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "body exceeds 4096 bytes",
            ))
        }
    };
    let b: RunBody = if bytes.iter().all(u8::is_ascii_whitespace) {
        RunBody::default()
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "bad_json", format!("body: {e}")))?
    };
    let as_of_ms = match b.as_of.as_deref() {
        Some(d) => crate::recon::run::as_of_from_date(d)?,
        None => now_ms(),
    };
    let report = crate::recon::run::run(
        &state.store,
        &state.config,
        as_of_ms,
        b.dry_run.unwrap_or(false),
        &caller.name,
    )
    .await?;
    Ok(Json(
        serde_json::to_value(report).map_err(ApiError::internal)?,
    ))
}

pub async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    authorize(&state.config, &headers, Role::Viewer)?;
    let mut conn = connection(&state).await?;
    let s = crate::recon::run::status(&mut conn)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(serde_json::to_value(s).map_err(ApiError::internal)?))
}
