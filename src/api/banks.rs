//! `POST /v1/banks/{bank}/messages`: a bank's asynchronous ISO 20022 messages (pacs.002 …),
//! signed with the bank's callback secret.

use super::{header, unix_now, ApiError, AppState, Arrived, Peer};
use crate::confirm;
use crate::rails::bank;
use crate::store::journal::{AuthenticatedBy, Channel};
use crate::store::StoreError;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;

pub async fn post_message(
    State(state): State<AppState>,
    Path(bank_id): Path<String>,
    peer: Peer,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<serde_json::Value>, ApiError> {
    let max = state.config.intake.body_bytes_max;
    let source: String = bank_id.chars().take(64).collect();
    let arrived = Arrived::read(
        &state,
        peer,
        Channel::BankCallback,
        Some(&source),
        &headers,
        body,
    )
    .await?;
    let refuse_unauthenticated = |status: StatusCode, code: &'static str, message: String| {
        arrived.refuse_unauthenticated(&state, status, code, message)
    };
    if arrived.truncated {
        return Err(refuse_unauthenticated(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("body exceeds {max} bytes"),
        )
        .await);
    }
    let Some(bank_config) = state.config.bank(&bank_id) else {
        return Err(refuse_unauthenticated(
            StatusCode::NOT_FOUND,
            "unknown_bank",
            format!("bank {source:?} is not configured"),
        )
        .await);
    };
    let secrets: Vec<&[u8]> = bank_config
        .callback_secrets
        .iter()
        .map(|s| s.expose())
        .collect();
    if let Err(e) = webhook::verify(
        header(&headers, webhook::SIGNATURE_HEADER),
        &arrived.bytes,
        &secrets,
        unix_now(),
        state.config.intake.signature_window_seconds,
    ) {
        return Err(refuse_unauthenticated(
            StatusCode::UNAUTHORIZED,
            "bad_signature",
            e.to_string(),
        )
        .await);
    }
    let received = arrived.journal(&state, AuthenticatedBy::Signature).await?;
    let (bytes, inbound) = (&received.bytes, received.inbound);
    let refuse = |status: StatusCode, code: &'static str, message: String| {
        received.refuse(status, code, message)
    };
    let (kind, reports) = match bank::parse_reports(bytes) {
        Ok(parsed) => parsed,
        Err(e) => {
            return Err(refuse(StatusCode::BAD_REQUEST, "unreadable_message", e.to_string()).await)
        }
    };
    let applied = async {
        let mut tx = state.store.begin().await?;
        let after_ms = Some(bank_config.status_request_after_ms);
        let applied =
            confirm::bank::apply_reports(&mut tx, &bank_id, inbound, &kind, &reports, after_ms)
                .await?;
        tx.commit().await?;
        Ok::<_, StoreError>(applied)
    }
    .await
    .map_err(ApiError::internal)?;
    state.wake.notify_waiters();
    let summary: Vec<String> = applied.iter().map(|a| format!("{a:?}")).collect();
    Ok(Json(
        serde_json::json!({"journal_id": inbound, "message": kind, "applied": summary}),
    ))
}
