//! Asynchronous answers: the bank posts a pacs.002 envelope to the gateway's callback,
//! signed with its secret, retrying transport failures and server errors with backoff.

use std::sync::Arc;
use std::time::Duration;

use super::Shared;

/// Waits `delay_ms`, then delivers `xml` (unless the bank stops first).
pub(crate) fn schedule(
    shared: Arc<Shared>,
    delay_ms: u64,
    xml: Arc<dyn Fn() -> String + Send + Sync>,
) {
    tokio::spawn(async move {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(delay_ms)) => {}
            _ = shared.stopping() => return,
        }
        let _permit = tokio::select! {
            permit = shared.callback_permits.clone().acquire_owned() => permit,
            _ = shared.stopping() => return,
        };
        let body = xml();
        tokio::select! {
            _ = deliver(&shared, body) => {}
            _ = shared.stopping() => {}
        }
    });
}

async fn deliver(shared: &Shared, body: String) {
    let config = &shared.config;
    let Some(base) = &config.callback_base else {
        tracing::warn!("a behaviour needs a callback but no callback base is configured");
        finish(shared, false);
        return;
    };
    let url = format!(
        "{}/v1/banks/{}/messages",
        base.trim_end_matches('/'),
        config.bank_id
    );
    let mut backoff_ms = config.callback_backoff_ms;
    for attempt in 1..=config.callback_attempts_max.max(1) {
        // Signed afresh per attempt so that a retry after a long backoff stays in the window.
        let timestamp = time::OffsetDateTime::now_utc().unix_timestamp();
        let signature = webhook::sign(&config.callback_secret, timestamp, body.as_bytes());
        let sent = shared
            .callback_client
            .post(&url)
            .header("content-type", "application/xml")
            .header(webhook::SIGNATURE_HEADER, signature)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().is_success() => {
                finish(shared, true);
                return;
            }
            Ok(response) if response.status().is_client_error() => {
                // The gateway refused the message itself; sending it again will not help.
                tracing::warn!(%url, status = %response.status(), "callback refused");
                finish(shared, false);
                return;
            }
            Ok(response) => {
                tracing::warn!(%url, attempt, status = %response.status(), "callback failed")
            }
            Err(error) => tracing::warn!(%url, attempt, %error, "callback failed"),
        }
        if attempt < config.callback_attempts_max {
            tokio::time::sleep(Duration::from_millis(backoff_ms)).await;
            backoff_ms = backoff_ms.saturating_mul(2);
        }
    }
    finish(shared, false);
}

fn finish(shared: &Shared, delivered: bool) {
    {
        let mut books = shared.books();
        if delivered {
            books.callbacks_sent += 1;
        } else {
            books.callbacks_failed += 1;
        }
    }
    shared.callback_finished.notify_waiters();
}
