//! The review workbench at `/review`: server-rendered HTML, its two assets in the binary, a
//! few keyboard shortcuts in vanilla JS, and no build step.
//!
//! Sign-in takes an API token and sets a session cookie (HttpOnly, SameSite=Strict, Path
//! /review). The cookie is stateless: the token's fingerprint and an expiry under an HMAC
//! with a key made at process start (a restart signs everyone out; a token removed from the
//! configuration ends its sessions at once). Every form carries a CSRF token derived from the
//! session. A viewer sees no form, and the server refuses a viewer's POST anyway.
//! Everything printed goes through [`esc`].

use super::recon::{caller_at, role_name, Caller, ListQuery};
use super::{read_limited, ApiError, AppState, Limited, Peer};
use crate::config::{Config, Role};
use crate::recon::breaks::{self, Change};
use crate::recon::evidence::{self, Evidence, Rendered};
use crate::recon::{BreakKind, BreakState, Resolution, Severity};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::OnceLock;

const CSS: &str = include_str!("review/review.css");
const JS: &str = include_str!("review/review.js");
const COOKIE: &str = "corridor_review";
const SESSION_SECONDS: i64 = 8 * 3600;
/// Largest form body accepted (a comment is at most 4,000 characters).
const FORM_BYTES_MAX: usize = 32 * 1024;

/// HTML-escapes text for element content and quoted attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn key() -> &'static [u8; 32] {
    static KEY: OnceLock<[u8; 32]> = OnceLock::new();
    KEY.get_or_init(rand::random)
}

fn mac(parts: &[&str]) -> Hmac<Sha256> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key()).expect("HMAC takes any key length");
    for p in parts {
        m.update(p.as_bytes());
        m.update(b"\x00");
    }
    m
}

fn fingerprint(token: &[u8]) -> String {
    hex::encode(&Sha256::digest(token)[..16])
}

/// A signed-in reviewer, viewer or operator.
struct Session {
    caller: Caller,
    csrf: String,
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

fn session(config: &Config, headers: &HeaderMap) -> Option<Session> {
    let value = cookie_value(headers)?;
    let mut parts = value.splitn(3, '.');
    let (fp, expiry, tag) = (parts.next()?, parts.next()?, parts.next()?);
    mac(&[fp, expiry])
        .verify_slice(&hex::decode(tag).ok()?)
        .ok()?;
    if expiry.parse::<i64>().ok()? < super::unix_now() {
        return None;
    }
    let (i, token) = config
        .server
        .api_tokens
        .iter()
        .enumerate()
        .find(|(_, t)| fingerprint(t.token.expose()) == fp)?;
    Some(Session {
        caller: caller_at(config, i, token.role),
        csrf: hex::encode(mac(&["csrf", &value]).finalize().into_bytes()),
    })
}

fn may_change(role: Role) -> bool {
    matches!(role, Role::Reviewer | Role::Operator)
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            ("content-type", "text/html; charset=utf-8"),
            ("cache-control", "no-store"),
            ("x-frame-options", "DENY"),
            ("referrer-policy", "same-origin"),
            (
                "content-security-policy",
                "default-src 'none'; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
            ),
        ],
        body,
    )
        .into_response()
}

fn see_other(to: &str) -> Response {
    (StatusCode::SEE_OTHER, [("location", to)]).into_response()
}

fn page(title: &str, s: Option<&Session>, body: &str) -> String {
    let who = match s {
        Some(s) => format!(
            "<span class=\"who\">Signed in as <strong>{}</strong> ({})</span>\
             <form method=\"post\" action=\"/review/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\">Sign out</button></form>",
            esc(&s.caller.name),
            role_name(s.caller.role),
            esc(&s.csrf)
        ),
        None => String::new(),
    };
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Corridor review</title><link rel=\"stylesheet\" href=\"/review/assets/review.css\">\
         <script src=\"/review/assets/review.js\" defer></script></head><body>\
         <header><a href=\"/review\" accesskey=\"q\"><strong>Corridor review</strong></a>{who}</header>\
         <main id=\"main\">{body}</main></body></html>",
        esc(title)
    )
}

fn error_page(status: StatusCode, s: Option<&Session>, message: &str, back: &str) -> Response {
    let body = format!(
        "<h1>{}</h1><p class=\"notice\" role=\"alert\">{}</p><p><a href=\"{}\">Back</a></p>",
        status.as_u16(),
        esc(message),
        esc(back)
    );
    html(status, page("Error", s, &body))
}

pub async fn css() -> Response {
    (
        [
            ("content-type", "text/css; charset=utf-8"),
            ("cache-control", "max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

pub async fn js() -> Response {
    (
        [
            ("content-type", "text/javascript; charset=utf-8"),
            ("cache-control", "max-age=3600"),
        ],
        JS,
    )
        .into_response()
}

pub async fn login_form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if session(&state.config, &headers).is_some() {
        return see_other("/review");
    }
    html(StatusCode::OK, page("Sign in", None, &login_body(None)))
}

fn login_body(problem: Option<&str>) -> String {
    let problem = problem
        .map(|p| format!("<p class=\"notice\" role=\"alert\">{}</p>", esc(p)))
        .unwrap_or_default();
    format!(
        "<h1>Sign in</h1>{problem}<form method=\"post\" action=\"/review/login\" class=\"filters\">\
         <label for=\"token\">API token<input id=\"token\" name=\"token\" type=\"password\" \
         autocomplete=\"current-password\" required autofocus></label>\
         <button type=\"submit\">Sign in</button></form>\
         <p class=\"hint\">Any token of <code>server.api_tokens</code>: viewers read, reviewers \
         also assign, comment and resolve.</p>"
    )
}

async fn form_body(state: &AppState, body: Body) -> Result<HashMap<String, String>, Response> {
    let bytes = match read_limited(state, body, FORM_BYTES_MAX).await {
        Ok(Limited::Whole(b, _)) => b,
        Ok(Limited::Truncated(..)) => {
            return Err(error_page(
                StatusCode::PAYLOAD_TOO_LARGE,
                None,
                "the form is too large",
                "/review",
            ))
        }
        Err(e) => return Err(e.into_response()),
    };
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(&bytes)
        .map(|v| v.into_iter().collect())
        .map_err(|e| {
            error_page(
                StatusCode::BAD_REQUEST,
                None,
                &format!("the form could not be read: {e}"),
                "/review",
            )
        })
}

pub async fn login(State(state): State<AppState>, peer: Peer, body: Body) -> Response {
    if let Some(ip) = peer.0 {
        if state.throttle.is_over(ip) {
            let body = login_body(Some(
                "too many failed sign-ins from this address; wait a minute",
            ));
            return html(StatusCode::TOO_MANY_REQUESTS, page("Sign in", None, &body));
        }
    }
    let form = match form_body(&state, body).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let token = form.get("token").map(|t| t.trim()).unwrap_or("");
    let Some((_, caller)) = super::recon::caller_for_token(&state.config, token.as_bytes()) else {
        if let Some(ip) = peer.0 {
            state.throttle.count_failure(ip);
        }
        return html(
            StatusCode::UNAUTHORIZED,
            page("Sign in", None, &login_body(Some("unknown token"))),
        );
    };
    let fp = fingerprint(token.as_bytes());
    let expiry = (super::unix_now() + SESSION_SECONDS).to_string();
    let tag = hex::encode(mac(&[&fp, &expiry]).finalize().into_bytes());
    let cookie = format!(
        "{COOKIE}={fp}.{expiry}.{tag}; Path=/review; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECONDS}"
    );
    tracing::info!(actor = %caller.name, "signed in to the review page");
    (
        StatusCode::SEE_OTHER,
        [("location", "/review".to_string()), ("set-cookie", cookie)],
    )
        .into_response()
}

pub async fn logout(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    let form = form_body(&state, body).await.unwrap_or_default();
    if let Some(s) = session(&state.config, &headers) {
        if !csrf_ok(&s, &form) {
            return error_page(
                StatusCode::FORBIDDEN,
                Some(&s),
                "the form's CSRF token is missing or wrong",
                "/review",
            );
        }
    }
    let clear = format!("{COOKIE}=; Path=/review; HttpOnly; SameSite=Strict; Max-Age=0");
    (
        StatusCode::SEE_OTHER,
        [
            ("location", "/review/login".to_string()),
            ("set-cookie", clear),
        ],
    )
        .into_response()
}

fn csrf_ok(s: &Session, form: &HashMap<String, String>) -> bool {
    form.get("csrf")
        .is_some_and(|c| super::constant_time_eq(c.as_bytes(), s.csrf.as_bytes()))
}

fn severity_badge(sev: &str) -> String {
    format!("<span class=\"sev-{0}\">{0}</span>", esc(sev))
}

fn options<T: Copy + std::fmt::Display>(all: &[T], chosen: Option<&str>, any: &str) -> String {
    let mut out = format!("<option value=\"\">{}</option>", esc(any));
    for v in all {
        let text = v.to_string();
        let sel = if chosen == Some(text.as_str()) {
            " selected"
        } else {
            ""
        };
        let _ = write!(out, "<option value=\"{0}\"{sel}>{0}</option>", esc(&text));
    }
    out
}

pub async fn queue(State(state): State<AppState>, headers: HeaderMap, uri: Uri) -> Response {
    let Some(s) = session(&state.config, &headers) else {
        return see_other("/review/login");
    };
    let q: ListQuery = match uri.query().map(serde_urlencoded::from_str).transpose() {
        Ok(q) => q.unwrap_or_default(),
        Err(e) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                Some(&s),
                &format!("filter: {e}"),
                "/review",
            )
        }
    };
    let filter = match q.filter(1000) {
        Ok(f) => f,
        Err(e) => {
            return error_page(
                StatusCode::BAD_REQUEST,
                Some(&s),
                &e.message_text(),
                "/review",
            )
        }
    };
    let loaded = async {
        let mut conn = state.store.pool().acquire().await?;
        let rows = breaks::list(&mut conn, &filter).await?;
        let counts = breaks::counts(&mut conn).await?;
        Ok::<_, crate::store::StoreError>((rows, counts))
    };
    let (rows, counts) = match loaded.await {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(error = %e, "review queue");
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                Some(&s),
                "the store is unavailable; retry later",
                "/review",
            );
        }
    };
    html(
        StatusCode::OK,
        page("Queue", Some(&s), &queue_body(&q, &rows, &counts)),
    )
}

fn queue_body(q: &ListQuery, rows: &[breaks::Break], counts: &[(String, i64)]) -> String {
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    let mut b = format!("<h1>Breaks <small>({total} unresolved)</small></h1><ul class=\"counts\" aria-label=\"Unresolved per type\">");
    let all_current = if q.kind.as_deref().unwrap_or("").is_empty() {
        " aria-current=\"true\""
    } else {
        ""
    };
    let _ = write!(
        b,
        "<li><a href=\"/review\"{all_current}>all {total}</a></li>"
    );
    for (kind, n) in counts {
        let current = if q.kind.as_deref() == Some(kind.as_str()) {
            " aria-current=\"true\""
        } else {
            ""
        };
        let label = BreakKind::parse(kind).map_or(kind.as_str(), |k| k.label());
        let _ = write!(
            b,
            "<li><a href=\"/review?kind={}\"{current}>{} <strong>{n}</strong></a></li>",
            esc(kind),
            esc(label)
        );
    }
    b.push_str("</ul>");
    let sorts = ["severity", "age", "amount", "opened"];
    let _ = write!(
        b,
        "<form class=\"filters\" method=\"get\" action=\"/review\" role=\"search\">\
         <label for=\"filter-kind\">Type<select id=\"filter-kind\" name=\"kind\" accesskey=\"f\">{}</select></label>\
         <label for=\"filter-severity\">Severity<select id=\"filter-severity\" name=\"severity\">{}</select></label>\
         <label for=\"filter-state\">State<select id=\"filter-state\" name=\"state\">{}</select></label>\
         <label for=\"filter-counterparty\">Counterparty<input id=\"filter-counterparty\" name=\"counterparty\" value=\"{}\"></label>\
         <label for=\"filter-sort\">Sort<select id=\"filter-sort\" name=\"sort\">{}</select></label>\
         <button type=\"submit\" id=\"filter-apply\">Filter</button></form>",
        options(BreakKind::ALL, q.kind.as_deref(), "any type"),
        options(Severity::ALL, q.severity.as_deref(), "any severity"),
        options(BreakState::ALL, q.state.as_deref(), "unresolved"),
        esc(q.counterparty.as_deref().unwrap_or("")),
        options(&sorts, q.sort.as_deref(), "worst first"),
    );
    if rows.is_empty() {
        b.push_str("<p id=\"empty\">No break matches.</p>");
        return b;
    }
    b.push_str(
        "<table id=\"queue\"><thead><tr><th>#</th><th>Severity</th><th>Type</th><th>State</th>\
         <th>At risk</th><th>Age</th><th>Counterparty</th><th>Settlement</th><th>Assignee</th></tr></thead><tbody>",
    );
    for r in rows {
        let _ = write!(
            b,
            "<tr data-break=\"{id}\"><td><a href=\"/review/breaks/{id}\">#{id}</a></td><td>{}</td><td>{}</td><td>{}</td>\
             <td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            severity_badge(&r.severity),
            esc(BreakKind::parse(&r.kind).map_or(r.kind.as_str(), |k| k.label())),
            esc(&r.state),
            esc(&r.amount_at_risk),
            esc(&age(r.age_seconds)),
            esc(r.counterparty.as_deref().unwrap_or("–")),
            esc(r.settlement_id.as_deref().unwrap_or("–")),
            esc(r.assignee.as_deref().unwrap_or("–")),
            id = r.id,
        );
    }
    b.push_str("</tbody></table>");
    b
}

fn age(seconds: i64) -> String {
    match seconds {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} d", s / 86_400),
    }
}

pub async fn one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let Some(s) = session(&state.config, &headers) else {
        return see_other("/review/login");
    };
    let Ok(id) = id.parse::<i64>() else {
        return error_page(StatusCode::NOT_FOUND, Some(&s), "no such break", "/review");
    };
    let gathered = async {
        let mut conn = state.store.pool().acquire().await?;
        evidence::gather(&mut conn, &state.config, id).await
    };
    match gathered.await {
        Ok(Some(ev)) => html(
            StatusCode::OK,
            page(&format!("Break #{id}"), Some(&s), &break_body(&ev, &s)),
        ),
        Ok(None) => error_page(
            StatusCode::NOT_FOUND,
            Some(&s),
            &format!("no break {id}"),
            "/review",
        ),
        Err(e) => {
            tracing::error!(error = %e, "review break");
            error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                Some(&s),
                "the store is unavailable; retry later",
                "/review",
            )
        }
    }
}

fn rendered(list: &[Rendered], none: &str) -> String {
    if list.is_empty() {
        return format!("<p class=\"hint\">{}</p>", esc(none));
    }
    let mut out = String::new();
    for m in list {
        let _ = write!(out, "<h3>{}</h3><dl class=\"facts\">", esc(&m.title));
        for (k, v) in &m.fields {
            let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
        }
        let _ = write!(
            out,
            "</dl><details open><summary>message</summary><pre>{}</pre></details>",
            esc(&m.text)
        );
    }
    out
}

/// Long on purpose: the break page's HTML written in page order (facts, evidence, forms,
/// audit trail), so that its markup reads as the page does; each part is a few `write!`s.
fn break_body(ev: &Evidence, s: &Session) -> String {
    let b = &ev.brk;
    let label = BreakKind::parse(&b.kind).map_or(b.kind.as_str(), |k| k.label());
    let mut out = format!(
        "<p><a href=\"/review\">← Queue</a></p><h1>Break #{} · {}</h1><dl class=\"facts\" id=\"facts\">\
         <dt>Severity</dt><dd>{}</dd><dt>State</dt><dd id=\"state\">{}</dd><dt>Assignee</dt><dd>{}</dd>\
         <dt>At risk</dt><dd>{}</dd><dt>Age</dt><dd>{}</dd><dt>Counterparty</dt><dd>{}</dd>\
         <dt>Settlement</dt><dd><code>{}</code></dd><dt>Opened</dt><dd>{}</dd><dt>Resolution</dt><dd>{}</dd>\
         <dt>What</dt><dd id=\"detail\">{}</dd></dl>",
        b.id,
        esc(label),
        severity_badge(&b.severity),
        esc(&b.state),
        esc(b.assignee.as_deref().unwrap_or("–")),
        esc(&b.amount_at_risk),
        esc(&age(b.age_seconds)),
        esc(b.counterparty.as_deref().unwrap_or("–")),
        esc(b.settlement_id.as_deref().unwrap_or("–")),
        esc(&evidence::time_text(b.opened_at_ms)),
        esc(b.resolution.as_deref().unwrap_or("–")),
        esc(&b.detail),
    );
    out.push_str("<div class=\"evidence\" id=\"evidence\"><section aria-labelledby=\"ev-ledger\"><h2 id=\"ev-ledger\">Ledger event</h2>");
    match &ev.ledger {
        Some(l) => {
            let _ = write!(
                out,
                "<pre>{}</pre>",
                esc(&serde_json::to_string_pretty(l).unwrap_or_default())
            );
        }
        None => out.push_str("<p class=\"hint\">No settlement is involved.</p>"),
    }
    if !ev.transitions.is_empty() {
        out.push_str("<h3>Transitions</h3><ol>");
        for t in &ev.transitions {
            let _ = write!(
                out,
                "<li>{} → {} <span class=\"hint\">{} {}</span></li>",
                esc(t.from.as_deref().unwrap_or("–")),
                esc(&t.to),
                esc(&t.cause),
                esc(t.detail.as_deref().unwrap_or(""))
            );
        }
        out.push_str("</ol>");
    }
    let _ = write!(
        out,
        "</section><section aria-labelledby=\"ev-sent\"><h2 id=\"ev-sent\">Message sent</h2>{}</section>\
         <section aria-labelledby=\"ev-answers\"><h2 id=\"ev-answers\">Answers</h2>{}</section>\
         <section aria-labelledby=\"ev-statement\"><h2 id=\"ev-statement\">Statement lines</h2>",
        rendered(&ev.messages, "Nothing was sent."),
        rendered(&ev.answers, "No answer in the journal."),
    );
    if ev.statement_lines.is_empty() {
        out.push_str("<p class=\"hint\">No statement line.</p>");
    } else {
        out.push_str("<table><thead><tr><th>Statement</th><th>Line</th><th>Value date</th><th>Amount</th><th>Keys</th><th>Matched</th></tr></thead><tbody>");
        for l in &ev.statement_lines {
            let _ = write!(
                out,
                "<tr><td>{} <span class=\"hint\">{}</span></td><td>{}</td><td>{}</td><td class=\"num\">{} {}</td><td>{}{}</td><td>{}</td></tr>",
                esc(&l.statement_ref),
                esc(&l.account),
                l.line,
                esc(l.value_date.as_deref().unwrap_or("–")),
                esc(&l.direction),
                esc(&l.amount),
                esc(&l.keys),
                l.reference.as_deref().map(|r| format!("<br>ref {}", esc(r))).unwrap_or_default(),
                esc(l.matched_by.as_deref().unwrap_or("no")),
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section></div>");
    if may_change(s.caller.role) {
        out.push_str(&action_forms(
            b.id,
            &b.state,
            &s.csrf,
            s.caller.role == Role::Operator,
        ));
    } else {
        out.push_str(
            "<p class=\"hint\" id=\"read-only\">You are signed in as a viewer: read only.</p>",
        );
    }
    out.push_str("<h2>Audit trail</h2><table id=\"audit\"><thead><tr><th>When</th><th>Who</th><th>What</th><th>Comment</th></tr></thead><tbody>");
    for e in &ev.events {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&evidence::time_text(e.at_ms)),
            esc(&e.actor),
            esc(&e.action),
            esc(e.comment.as_deref().unwrap_or(""))
        );
    }
    out.push_str("</tbody></table>");
    out
}

/// The forms for one break; `operator` adds the resolutions that move money (resend, refund).
fn action_forms(id: i64, state: &str, csrf: &str, operator: bool) -> String {
    let hidden = format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(csrf)
    );
    let mut out = String::from("<h2>Actions</h2><div class=\"actions\">");
    if state == BreakState::Resolved.as_str() {
        let _ = write!(
            out,
            "<form method=\"post\" action=\"/review/breaks/{id}/reopen\" id=\"reopen-form\">{hidden}\
             <label for=\"reopen-comment\">Why reopen<textarea id=\"reopen-comment\" name=\"comment\" rows=\"2\"></textarea></label>\
             <button type=\"submit\">Reopen</button></form>"
        );
    } else {
        let codes: Vec<Resolution> = Resolution::ALL
            .iter()
            .copied()
            .filter(|r| operator || !r.moves_money())
            .collect();
        let hint = if operator {
            "Resent sends the stored message again (same identifiers); refund requested asks \
             the ledger for a refund. Both go through the outbox."
        } else {
            "Resend and refund move money: an operator's."
        };
        let _ = write!(
            out,
            "<form method=\"post\" action=\"/review/breaks/{id}/resolve\" id=\"resolve-form\">{hidden}\
             <label for=\"resolution\">Resolution<select id=\"resolution\" name=\"resolution\" accesskey=\"r\" required>{}</select></label>\
             <label for=\"resolve-comment\">Comment<textarea id=\"resolve-comment\" name=\"comment\" rows=\"2\"></textarea></label>\
             <button type=\"submit\" id=\"resolve-button\">Resolve</button>\
             <span class=\"hint\">{}</span></form>\
             <form method=\"post\" action=\"/review/breaks/{id}/assign\" id=\"assign-form\">{hidden}\
             <label for=\"assignee\">Assign to<input id=\"assignee\" name=\"assignee\" required></label>\
             <button type=\"submit\">Assign</button></form>",
            options(&codes, None, "choose…"),
            esc(hint),
        );
    }
    let _ = write!(
        out,
        "<form method=\"post\" action=\"/review/breaks/{id}/comment\" id=\"comment-form\">{hidden}\
         <label for=\"comment-text\">Comment<textarea id=\"comment-text\" name=\"comment\" rows=\"2\" accesskey=\"c\" required></textarea></label>\
         <button type=\"submit\">Add comment</button></form></div>"
    );
    out
}

pub async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((id, action)): Path<(String, String)>,
    body: Body,
) -> Response {
    let Some(s) = session(&state.config, &headers) else {
        return error_page(
            StatusCode::UNAUTHORIZED,
            None,
            "sign in first",
            "/review/login",
        );
    };
    let back = format!("/review/breaks/{id}");
    if !may_change(s.caller.role) {
        return error_page(
            StatusCode::FORBIDDEN,
            Some(&s),
            "viewers cannot change anything",
            &back,
        );
    }
    let form = match form_body(&state, body).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    if !csrf_ok(&s, &form) {
        return error_page(
            StatusCode::FORBIDDEN,
            Some(&s),
            "the form's CSRF token is missing or wrong",
            &back,
        );
    }
    let Ok(id) = id.parse::<i64>() else {
        return error_page(StatusCode::NOT_FOUND, Some(&s), "no such break", "/review");
    };
    let field = |k: &str| form.get(k).map(String::as_str).unwrap_or("");
    let change = match action.as_str() {
        "assign" => Change::Assign {
            assignee: field("assignee").to_string(),
        },
        "comment" => Change::Comment,
        "reopen" => Change::Reopen,
        "resolve" => match field("resolution").parse::<Resolution>() {
            Ok(resolution) => Change::Resolve { resolution },
            Err(e) => return error_page(StatusCode::BAD_REQUEST, Some(&s), &e, &back),
        },
        other => {
            return error_page(
                StatusCode::NOT_FOUND,
                Some(&s),
                &format!("no action {other:?}"),
                &back,
            )
        }
    };
    let comment = Some(field("comment")).filter(|c| !c.trim().is_empty());
    let operator = s.caller.role == Role::Operator;
    match breaks::apply_as(&state.store, id, &s.caller.name, operator, change, comment).await {
        Ok(_) => see_other(&back),
        Err(e) => {
            // The API's statuses and sentences (a store failure is logged, not shown).
            let error = ApiError::from(e);
            error_page(error.status, Some(&s), &error.message_text(), &back)
        }
    }
}

impl ApiError {
    /// The sentence of an error, for the page.
    pub fn message_text(&self) -> String {
        self.message.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_attributes() {
        assert_eq!(
            esc("<script>alert('x')</script>"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"
        );
        assert_eq!(esc("a \"b\" & c"), "a &quot;b&quot; &amp; c");
        assert_eq!(esc("plain ü"), "plain ü");
    }

    #[test]
    fn a_forged_cookie_is_no_session() {
        let config: Config = toml::from_str(
            "[gateway]\nbic = \"CORRGB2LXXX\"\n[[server.api_tokens]]\ntoken = \"t-reviewer\"\nrole = \"reviewer\"\n",
        )
        .expect("config");
        let fp = fingerprint(b"t-reviewer");
        let expiry = (super::super::unix_now() + 60).to_string();
        let good = hex::encode(mac(&[&fp, &expiry]).finalize().into_bytes());
        let mut headers = HeaderMap::new();
        headers.insert(
            "cookie",
            format!("{COOKIE}={fp}.{expiry}.{good}").parse().unwrap(),
        );
        assert_eq!(
            session(&config, &headers).map(|s| s.caller.name),
            Some("reviewer#1".into())
        );
        let later = (super::super::unix_now() + 999_999).to_string();
        headers.insert(
            "cookie",
            format!("{COOKIE}={fp}.{later}.{good}").parse().unwrap(),
        );
        assert!(
            session(&config, &headers).is_none(),
            "an expiry moved without the key"
        );
        let past = (super::super::unix_now() - 1).to_string();
        let tag = hex::encode(mac(&[&fp, &past]).finalize().into_bytes());
        headers.insert(
            "cookie",
            format!("{COOKIE}={fp}.{past}.{tag}").parse().unwrap(),
        );
        assert!(session(&config, &headers).is_none(), "an expired session");
    }
}
