//! Posts ledger events to the gateway the way a ledger would: signed with the ledger's secret,
//! one event per request or a batch as a JSON array. Like a ledger, it sends an event again
//! when the gateway answers 503 with `Retry-After` (dispatch is behind and new events wait),
//! after the wait it names.

use std::sync::Arc;
use std::time::Duration;

use super::event::LedgerEvent;

/// The header naming the ledger that signed the request.
pub const LEDGER_HEADER: &str = "x-corridor-ledger";

/// The gateway's intake path.
pub const EVENTS_PATH: &str = "/v1/ledger/events";

/// The largest answer read from the gateway; a batch answer lists one result per event.
const ANSWER_BYTES_MAX: usize = 16 * 1024 * 1024;

/// Where and how to post.
#[derive(Clone)]
pub struct PosterConfig {
    /// The gateway's base URL, e.g. `http://127.0.0.1:8080` (no trailing slash needed).
    pub gateway_base: String,
    /// Sent as `x-corridor-ledger`.
    pub ledger: String,
    /// The ledger's signing secret.
    pub secret: Vec<u8>,
    /// TLS settings when the gateway is reached over HTTPS.
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// Per-request timeout; also how long [`LedgerPoster::post_one`] and
    /// [`LedgerPoster::post_batch`] keep sending again while the gateway asks them to wait.
    pub timeout_ms: u64,
}

impl std::fmt::Debug for PosterConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PosterConfig")
            .field("gateway_base", &self.gateway_base)
            .field("ledger", &self.ledger)
            .field("secret", &"<redacted>")
            .field("tls", &self.tls.is_some())
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

/// Why a post did not get an HTTP answer.
#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error("building the HTTP client failed: {0}")]
    Client(#[source] reqwest::Error),
    #[error("posting to {url} failed: {source}")]
    Transport {
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("the gateway's answer is larger than {0} bytes")]
    AnswerTooLarge(usize),
    #[error("encoding the events failed: {0}")]
    Encode(#[from] serde_json::Error),
}

/// The gateway's answer to one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostOutcome {
    pub status: u16,
    pub body: String,
    /// The `Retry-After` header in seconds, when the answer had one.
    pub retry_after: Option<Duration>,
    /// How many times the gateway answered 503 with `Retry-After` before this answer (each
    /// followed by a wait and the same body signed again).
    pub waited: u32,
}

impl PostOutcome {
    /// The body as JSON, if it is JSON.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }
}

/// A ledger's HTTP client towards the gateway.
#[derive(Debug, Clone)]
pub struct LedgerPoster {
    client: reqwest::Client,
    config: PosterConfig,
    url: String,
}

impl LedgerPoster {
    pub fn new(config: PosterConfig) -> Result<Self, PostError> {
        let mut builder =
            reqwest::Client::builder().timeout(Duration::from_millis(config.timeout_ms));
        if let Some(tls) = &config.tls {
            builder = builder.use_preconfigured_tls(rustls::ClientConfig::clone(tls));
        }
        let client = builder.build().map_err(PostError::Client)?;
        let url = format!("{}{EVENTS_PATH}", config.gateway_base.trim_end_matches('/'));
        Ok(Self {
            client,
            config,
            url,
        })
    }

    /// Posts one event as a single JSON object, again while the gateway asks to wait.
    pub async fn post_one(&self, event: &LedgerEvent) -> Result<PostOutcome, PostError> {
        self.post_admitted(serde_json::to_vec(event)?).await
    }

    /// Posts `events` as one JSON array; the gateway answers once for the batch. Again while
    /// the gateway asks to wait.
    pub async fn post_batch(&self, events: &[LedgerEvent]) -> Result<PostOutcome, PostError> {
        self.post_admitted(serde_json::to_vec(events)?).await
    }

    /// [`Self::post_raw`], and again, newly signed, after the wait the gateway names each
    /// time it answers 503 with `Retry-After`, until `timeout_ms` has passed; then its last
    /// answer.
    pub async fn post_admitted(&self, body: Vec<u8>) -> Result<PostOutcome, PostError> {
        let give_up = std::time::Instant::now() + Duration::from_millis(self.config.timeout_ms);
        let mut waited = 0;
        loop {
            let outcome = self.post_raw(body.clone()).await?;
            match outcome.retry_after {
                Some(wait)
                    if outcome.status == 503 && std::time::Instant::now() + wait < give_up =>
                {
                    waited += 1;
                    tokio::time::sleep(wait).await;
                }
                _ => return Ok(PostOutcome { waited, ..outcome }),
            }
        }
    }

    /// Posts each event on its own, one after the other, and returns each answer.
    pub async fn post_each(&self, events: &[LedgerEvent]) -> Vec<Result<PostOutcome, PostError>> {
        let mut outcomes = Vec::with_capacity(events.len());
        for event in events {
            outcomes.push(self.post_one(event).await);
        }
        outcomes
    }

    /// Posts `body` as it is, signed, once: for malformed-input tests.
    pub async fn post_raw(&self, body: Vec<u8>) -> Result<PostOutcome, PostError> {
        let signature = webhook::sign(&self.config.secret, unix_now(), &body);
        self.send(body, Some(signature)).await
    }

    /// Posts `body` with the signature header given (or none): for bad-signature tests.
    pub async fn post_with_signature(
        &self,
        body: Vec<u8>,
        signature: Option<String>,
    ) -> Result<PostOutcome, PostError> {
        self.send(body, signature).await
    }

    async fn send(
        &self,
        body: Vec<u8>,
        signature: Option<String>,
    ) -> Result<PostOutcome, PostError> {
        let mut request = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header(LEDGER_HEADER, &self.config.ledger)
            .body(body);
        if let Some(signature) = signature {
            request = request.header(webhook::SIGNATURE_HEADER, signature);
        }
        let transport = |source| PostError::Transport {
            url: self.url.clone(),
            source,
        };
        let mut response = request.send().await.map_err(transport)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > ANSWER_BYTES_MAX {
                return Err(PostError::AnswerTooLarge(ANSWER_BYTES_MAX));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(PostOutcome {
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
            retry_after,
            waited: 0,
        })
    }
}

pub(crate) fn unix_now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}
