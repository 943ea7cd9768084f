//! The ledger's side of write-back: an HTTP endpoint that receives final outcomes from the
//! gateway, checks their signature, and records each settlement once however often it is
//! delivered, the way a careful ledger would.
//!
//! It keeps what an end-to-end test needs to judge the gateway: the outcome per event and per
//! settlement, how many deliveries were duplicates, and whether any event got two different
//! settlements (which would be a gateway bug).
//!
//! Besides outcomes it takes two notices from reconciliation, each under its own idempotency
//! key and each recorded once per settlement: a correction (`<settlement>:correction`, a
//! settled payment later returned) and a refund request (`<settlement>:refund`, outcome
//! `refund_requested`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde::{Deserialize, Serialize};
use tokio::sync::{oneshot, Notify};

use super::event::{WriteBack, OUTCOMES, REFUND_REQUESTED};
use super::poster::unix_now;

/// The receiver's path.
pub const WRITEBACK_PATH: &str = "/writeback";

/// The path that takes outcomes in batches (`{"writebacks": [...]}`, answered with one result
/// per outcome).
pub const WRITEBACK_BATCH_PATH: &str = "/writeback/batch";

/// The header carrying the settlement id a delivery is idempotent by.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// The largest write-back body accepted; an outcome is a few hundred bytes, and a batch a few
/// hundred of them.
const BODY_BYTES_MAX: usize = 4 * 1024 * 1024;

/// Settings of the receiver.
#[derive(Clone)]
pub struct WritebackConfig {
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
    /// Secrets accepted (two during a rotation).
    pub secrets: Vec<Vec<u8>>,
    /// Allowed clock skew of the signature, in seconds.
    pub window_s: u64,
}

impl WritebackConfig {
    /// Loopback, a free port, one secret, the default window.
    pub fn new(secret: impl Into<Vec<u8>>) -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            secrets: vec![secret.into()],
            window_s: webhook::WINDOW_SECONDS_DEFAULT,
        }
    }
}

/// Counters of the receiver.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WritebackStats {
    /// Outcomes delivered: every request to the single path, and every outcome of a batch.
    pub deliveries: u64,
    /// Distinct settlements recorded.
    pub recorded: u64,
    /// Deliveries of a settlement already recorded (answered 200, not recorded again).
    pub duplicates: u64,
    /// Duplicates whose content differs from the first delivery (a gateway bug).
    pub conflicting_duplicates: u64,
    /// Refused with 401.
    pub bad_signatures: u64,
    /// Refused with 400 (bad JSON, missing or mismatched idempotency key).
    pub malformed: u64,
    /// Refused with 503 on purpose (see [`WritebackHandle::fail_next`]).
    pub failed_on_purpose: u64,
    /// Corrections and refund requests recorded (each once per settlement).
    pub notices: u64,
    /// Requests to the batch path.
    pub batches: u64,
    /// Outcomes that came in batches (each also counted in `deliveries`).
    pub batched: u64,
    /// The most outcomes one batch held.
    pub largest_batch: u64,
}

#[derive(Default)]
struct Book {
    stats: WritebackStats,
    /// First delivery per settlement id.
    by_settlement: HashMap<String, WriteBack>,
    /// Settlement ids per (ledger, event id), in arrival order.
    by_event: HashMap<(String, String), Vec<String>>,
    /// Settlement ids in arrival order.
    order: Vec<String>,
    /// First correction per settlement id.
    corrections: HashMap<String, WriteBack>,
    /// First refund request per settlement id.
    refunds: HashMap<String, WriteBack>,
    fail_next: u64,
}

/// What a delivery's idempotency key says it is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Notice {
    Outcome,
    Correction,
    Refund,
}

struct Shared {
    config: WritebackConfig,
    book: Mutex<Book>,
    recorded: Notify,
    /// How long a batch's answer is held back, in milliseconds (see
    /// [`WritebackHandle::delay_batch_answers`]).
    batch_delay_ms: std::sync::atomic::AtomicU64,
}

/// A running write-back receiver.
pub struct WritebackHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

/// Starts a receiver.
pub async fn start_writeback(config: WritebackConfig) -> std::io::Result<WritebackHandle> {
    let listener = tokio::net::TcpListener::bind(config.bind).await?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        config,
        book: Mutex::new(Book::default()),
        recorded: Notify::new(),
        batch_delay_ms: Default::default(),
    });
    let app = Router::new()
        .route(WRITEBACK_PATH, post(receive))
        .route(WRITEBACK_BATCH_PATH, post(receive_batch))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_BYTES_MAX))
        .with_state(shared.clone());
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
        if let Err(error) = served {
            tracing::warn!(%error, "write-back receiver stopped");
        }
    });
    Ok(WritebackHandle {
        addr,
        shared,
        shutdown: Some(tx),
        task,
    })
}

async fn receive(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let mut book = shared.book.lock().expect("book lock");
    book.stats.deliveries += 1;
    if let Err(error) = verify(&shared, &headers, &body) {
        book.stats.bad_signatures += 1;
        return (StatusCode::UNAUTHORIZED, error);
    }
    let key = headers
        .get(IDEMPOTENCY_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let outcome = match serde_json::from_slice::<WriteBack>(&body) {
        Ok(outcome) => outcome,
        Err(error) => {
            book.stats.malformed += 1;
            return (
                StatusCode::BAD_REQUEST,
                format!("body is not a write-back: {error}"),
            );
        }
    };
    let answer = book_one(&mut book, key, outcome);
    drop(book);
    shared.recorded.notify_waiters();
    answer
}

/// The signature check a real ledger makes before reading anything.
fn verify(shared: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<(), String> {
    let signature = headers
        .get(webhook::SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok());
    let secrets: Vec<&[u8]> = shared.config.secrets.iter().map(Vec::as_slice).collect();
    webhook::verify(
        signature,
        body,
        &secrets,
        unix_now(),
        shared.config.window_s,
    )
    .map_err(|error| error.to_string())
}

/// One signed outcome checked (outcome, idempotency key, scripted failure) and booked: a
/// notice, a duplicate, or a new outcome. Its answer, as the single POST gives it.
fn book_one(book: &mut Book, key: Option<String>, outcome: WriteBack) -> (StatusCode, String) {
    let notice = match key.as_deref() {
        Some(k) if k == format!("{}:correction", outcome.settlement_id) => Notice::Correction,
        Some(k) if k == format!("{}:refund", outcome.settlement_id) => Notice::Refund,
        _ => Notice::Outcome,
    };
    let known = match notice {
        Notice::Refund => outcome.outcome == REFUND_REQUESTED,
        _ => OUTCOMES.contains(&outcome.outcome.as_str()),
    };
    if !known {
        book.stats.malformed += 1;
        return (
            StatusCode::BAD_REQUEST,
            format!(
                "unknown outcome {:?}; expected one of {OUTCOMES:?}",
                outcome.outcome
            ),
        );
    }
    match key {
        None => {
            book.stats.malformed += 1;
            return (
                StatusCode::BAD_REQUEST,
                format!("missing {IDEMPOTENCY_HEADER} header"),
            );
        }
        Some(key) if key != outcome.settlement_id && notice == Notice::Outcome => {
            book.stats.malformed += 1;
            return (
                StatusCode::BAD_REQUEST,
                format!(
                    "{IDEMPOTENCY_HEADER} {key} differs from settlement_id {}",
                    outcome.settlement_id
                ),
            );
        }
        Some(_) => {}
    }
    if book.fail_next > 0 {
        book.fail_next -= 1;
        book.stats.failed_on_purpose += 1;
        return (StatusCode::SERVICE_UNAVAILABLE, "failing on purpose".into());
    }
    if notice != Notice::Outcome {
        let notes = if notice == Notice::Correction {
            &mut book.corrections
        } else {
            &mut book.refunds
        };
        if notes.contains_key(&outcome.settlement_id) {
            book.stats.duplicates += 1;
            return (StatusCode::OK, DUPLICATE.into());
        }
        notes.insert(outcome.settlement_id.clone(), outcome);
        book.stats.notices += 1;
        return (StatusCode::OK, RECORDED.into());
    }
    book_outcome(book, outcome)
}

/// A well-formed outcome booked: a duplicate (compared with the first), or a new one.
fn book_outcome(book: &mut Book, outcome: WriteBack) -> (StatusCode, String) {
    if let Some(first) = book.by_settlement.get(&outcome.settlement_id) {
        let conflicting = *first != outcome;
        book.stats.duplicates += 1;
        if conflicting {
            book.stats.conflicting_duplicates += 1;
            tracing::warn!(settlement_id = %outcome.settlement_id, "write-back delivered again with other content");
        }
        return (StatusCode::OK, DUPLICATE.into());
    }
    let event_key = (
        outcome.ledger.clone().unwrap_or_default(),
        outcome.event_id.clone(),
    );
    book.by_event
        .entry(event_key)
        .or_default()
        .push(outcome.settlement_id.clone());
    book.order.push(outcome.settlement_id.clone());
    book.by_settlement
        .insert(outcome.settlement_id.clone(), outcome);
    book.stats.recorded += 1;
    (StatusCode::OK, RECORDED.into())
}

const RECORDED: &str = "recorded";
const DUPLICATE: &str = "duplicate";

/// One outcome of a batch: a write-back with its idempotency key beside its fields.
#[derive(Deserialize)]
struct BatchEntry {
    idempotency_key: String,
    #[serde(flatten)]
    outcome: WriteBack,
}

#[derive(Deserialize)]
struct BatchBody {
    writebacks: Vec<BatchEntry>,
}

/// What the receiver made of one outcome of a batch.
#[derive(Serialize)]
struct BatchResult {
    idempotency_key: String,
    /// recorded | duplicate | refused
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<String>,
}

/// A batch of outcomes (POST /writeback/batch): the signature covers the whole body; each
/// outcome is then checked and booked as a single POST would be, and answered in a result of
/// its own, in order (`refused` with the reason where the single POST would not answer 200).
async fn receive_batch(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let results = match book_batch(&shared, &headers, &body) {
        Ok(results) => results,
        Err(refused) => return refused,
    };
    shared.recorded.notify_waiters();
    let delay = shared
        .batch_delay_ms
        .load(std::sync::atomic::Ordering::Relaxed);
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    let answer = serde_json::json!({ "results": results });
    (StatusCode::OK, answer.to_string())
}

/// A batch checked and booked under the lock: one result per outcome, or the refusal of the
/// whole request.
fn book_batch(
    shared: &Shared,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Vec<BatchResult>, (StatusCode, String)> {
    let mut book = shared.book.lock().expect("book lock");
    book.stats.batches += 1;
    if let Err(error) = verify(shared, headers, body) {
        book.stats.bad_signatures += 1;
        return Err((StatusCode::UNAUTHORIZED, error));
    }
    let batch = serde_json::from_slice::<BatchBody>(body).map_err(|error| {
        book.stats.malformed += 1;
        (
            StatusCode::BAD_REQUEST,
            format!("body is not a write-back batch: {error}"),
        )
    })?;
    book.stats.largest_batch = book.stats.largest_batch.max(batch.writebacks.len() as u64);
    let mut results = Vec::with_capacity(batch.writebacks.len());
    for entry in batch.writebacks {
        book.stats.deliveries += 1;
        book.stats.batched += 1;
        let idempotency_key = entry.idempotency_key.clone();
        let (code, text) = book_one(&mut book, Some(entry.idempotency_key), entry.outcome);
        let (status, detail) = match (code, text.as_str()) {
            (StatusCode::OK, RECORDED) => (RECORDED, None),
            (StatusCode::OK, _) => (DUPLICATE, None),
            (code, _) => ("refused", Some(format!("{}: {text}", code.as_u16()))),
        };
        results.push(BatchResult {
            idempotency_key,
            status,
            detail,
        });
    }
    Ok(results)
}

impl WritebackHandle {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL to configure as the ledger's write-back callback.
    pub fn url(&self) -> String {
        format!("http://{}{WRITEBACK_PATH}", self.addr)
    }

    /// The URL to configure as the ledger's `callback_batch_url`.
    pub fn batch_url(&self) -> String {
        format!("http://{}{WRITEBACK_BATCH_PATH}", self.addr)
    }

    pub fn stats(&self) -> WritebackStats {
        self.book().stats.clone()
    }

    /// The first outcome recorded for an event (`ledger` is the write-back's `ledger` field,
    /// empty when it had none).
    pub fn outcome(&self, ledger: &str, event_id: &str) -> Option<WriteBack> {
        let book = self.book();
        let ids = book
            .by_event
            .get(&(ledger.to_string(), event_id.to_string()))?;
        book.by_settlement.get(ids.first()?).cloned()
    }

    /// Every settlement id written back for an event. More than one means the gateway made two
    /// settlements out of one event.
    pub fn settlements_for_event(&self, ledger: &str, event_id: &str) -> Vec<String> {
        self.book()
            .by_event
            .get(&(ledger.to_string(), event_id.to_string()))
            .cloned()
            .unwrap_or_default()
    }

    /// The outcome recorded for a settlement.
    pub fn by_settlement(&self, settlement_id: &str) -> Option<WriteBack> {
        self.book().by_settlement.get(settlement_id).cloned()
    }

    /// The correction recorded for a settlement (a settled payment later returned).
    pub fn correction(&self, settlement_id: &str) -> Option<WriteBack> {
        self.book().corrections.get(settlement_id).cloned()
    }

    /// The refund request recorded for a settlement.
    pub fn refund_request(&self, settlement_id: &str) -> Option<WriteBack> {
        self.book().refunds.get(settlement_id).cloned()
    }

    /// Every recorded outcome, in arrival order.
    pub fn outcomes(&self) -> Vec<WriteBack> {
        let book = self.book();
        book.order
            .iter()
            .filter_map(|id| book.by_settlement.get(id).cloned())
            .collect()
    }

    /// Recorded outcomes counted by `outcome` (settled, rejected, ...).
    pub fn outcome_counts(&self) -> HashMap<String, u64> {
        let mut counts = HashMap::new();
        for outcome in self.book().by_settlement.values() {
            *counts.entry(outcome.outcome.clone()).or_insert(0) += 1;
        }
        counts
    }

    /// Answers the next `count` well-signed outcomes with 503 (in a batch: `refused`, the
    /// batch's other outcomes booked as usual) without recording them, to prove the gateway
    /// retries.
    pub fn fail_next(&self, count: u64) {
        self.book().fail_next = count;
    }

    /// Holds back each batch's answer for `delay` after booking it, as a slow ledger would:
    /// outcomes that come meanwhile queue at the gateway and go in its next batch.
    pub fn delay_batch_answers(&self, delay: Duration) {
        let ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX);
        self.shared
            .batch_delay_ms
            .store(ms, std::sync::atomic::Ordering::Relaxed);
    }

    /// Waits until at least `count` settlements are recorded; false on timeout.
    pub async fn wait_for_recorded(&self, count: u64, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.shared.recorded.notified();
            if self.book().stats.recorded >= count {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.book().stats.recorded >= count;
            }
        }
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }

    fn book(&self) -> std::sync::MutexGuard<'_, Book> {
        self.shared.book.lock().expect("book lock")
    }
}

impl Drop for WritebackHandle {
    fn drop(&mut self) {
        self.task.abort();
    }
}
