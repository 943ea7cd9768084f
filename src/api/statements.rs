//! `POST /v1/statements`: a statement file uploaded by a reviewer or an operator, streamed to
//! a file (never held in memory), then imported like `corridor statements import`.

use super::{authorize, header, ApiError, AppState};
use crate::config::Role;
use crate::recon::statements::command::options;
use crate::recon::statements::{import, ImportError, Source};
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use http_body_util::BodyExt;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

/// Removes the uploaded temporary file however the request ends.
struct Incoming(PathBuf);

impl Drop for Incoming {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn too_large(max: u64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("a statement may have at most {max} bytes (statements.upload_bytes_max)"),
    )
}

/// Writes the body to `path`, refusing past `max` bytes; each part of the body must arrive
/// within `server.body_read_timeout_ms` of the one before (a large file may take minutes).
async fn save_body(state: &AppState, body: Body, path: &Path, max: u64) -> Result<(), ApiError> {
    let io = |e: std::io::Error| ApiError::internal(format!("writing an upload: {e}"));
    let mut file = tokio::fs::File::create(path).await.map_err(io)?;
    let mut body = body;
    let mut written = 0u64;
    let idle = std::time::Duration::from_millis(state.config.server.body_read_timeout_ms);
    loop {
        let frame = match tokio::time::timeout(idle, body.frame()).await {
            Err(_) => {
                return Err(ApiError::new(
                    StatusCode::REQUEST_TIMEOUT,
                    "body_timeout",
                    format!("no part of the body arrived for {} ms", idle.as_millis()),
                ))
            }
            Ok(None) => break,
            Ok(Some(frame)) => frame.map_err(|e| {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "body_read",
                    format!("reading the body failed: {e}"),
                )
            })?,
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        written += data.len() as u64;
        if written > max {
            return Err(too_large(max));
        }
        file.write_all(&data).await.map_err(io)?;
    }
    file.flush().await.map_err(io)?;
    file.sync_all().await.map_err(io)?;
    Ok(())
}

pub async fn post_statement(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let role = authorize(&state.config, &headers, Role::Reviewer)?;
    let max = state.config.statements.upload_bytes_max;
    let declared = header(&headers, "content-length").and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(too_large(max));
    }
    let raw_dir = state.config.statements.raw_dir(&state.config.store);
    let incoming_dir = raw_dir.join("incoming");
    tokio::fs::create_dir_all(&incoming_dir)
        .await
        .map_err(|e| ApiError::internal(format!("creating {}: {e}", incoming_dir.display())))?;
    let incoming = Incoming(incoming_dir.join(uuid::Uuid::new_v4().simple().to_string()));
    save_body(&state, body, &incoming.0, max).await?;
    let name = header(&headers, "x-file-name").map(str::to_string);
    let options = options(&state.config, Source::Upload, name);
    match import(&state.store, &incoming.0, &options).await {
        Ok(report) => {
            tracing::info!(
                statement = report.statement,
                entries = report.entries,
                duplicate = report.duplicate,
                ?role,
                "statement uploaded"
            );
            let status = if report.duplicate {
                StatusCode::OK
            } else {
                StatusCode::CREATED
            };
            Ok((status, Json(report)).into_response())
        }
        Err(ImportError::Malformed {
            error,
            refusal,
            format,
            ..
        }) => {
            let body = serde_json::json!({"error": {
                "code": "malformed_statement",
                "message": format!("{error}; nothing imported"),
                "at": error.at,
                "format": format,
                "refusal": refusal,
            }});
            Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response())
        }
        Err(e) => Err(ApiError::internal(e)),
    }
}
