//! `POST /v1/banks/{bank}/messages`: a bank's asynchronous ISO 20022 messages (pacs.002 …),
//! signed with the bank's callback secret.

use super::extract::Path;
use super::{ApiError, AppState, Arrived, Peer, Signer};
use crate::confirm;
use crate::rails::bank;
use crate::store::journal::Channel;
use crate::store::StoreError;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;

pub async fn post_message(
    State(state): State<AppState>,
    Path(bank_id): Path<String>,
    peer: Peer,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<serde_json::Value>, ApiError> {
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
    let bank_config = state.config.bank(&bank_id);
    let signer = match bank_config {
        Some(bank) => Signer::Known(bank.callback_secrets.iter().map(|s| s.expose()).collect()),
        None => Signer::Unknown {
            status: StatusCode::NOT_FOUND,
            code: "unknown_bank",
            message: format!("bank {source:?} is not configured"),
        },
    };
    let received = arrived
        .authenticate_signed(&state, &headers, signer)
        .await?;
    let bank_config = bank_config.expect("authenticated: the bank is configured");
    crate::crash_point!("bank.callback.after_journal");
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
    // A write-back job for each report that ended a payment.
    crate::dispatch::wake_for(
        &state.wake,
        applied.len(),
        state.config.dispatch.batch_rows_max,
    );
    let summary: Vec<String> = applied.iter().map(|a| format!("{a:?}")).collect();
    Ok(Json(
        serde_json::json!({"journal_id": inbound, "message": kind, "applied": summary}),
    ))
}
