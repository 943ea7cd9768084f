//! Write-backs in batches, for a ledger that takes them (`callback_batch_url`): the outcomes
//! of many write-back jobs go in one signed POST, the way the group writer puts many callers'
//! writes in one commit. Each job still waits for its own answer, and is completed (or
//! retried) on it alone.
//!
//! A batcher per ledger takes the outcomes queued while its POSTs are in flight (at most
//! `writeback.batches_in_flight_max` at once, each of at most `writeback.batch_max`
//! outcomes): under light load an outcome goes at once, alone; under load the batches grow.
//!
//! On the wire (schemas/ledger/writeback-batch.schema.json): the body is
//! `{"writebacks": [item, ...]}`, each item a write-back body with its `idempotency_key` (the
//! settlement id, as the single POST's header carries it), signed as a whole like a single
//! write-back. The ledger answers 200 with `{"results": [result, ...]}`, one per item in the
//! same order, each with its `idempotency_key` and a `status`: `recorded`, `duplicate` (it
//! had it: fine) or `refused` (with a `detail`; that job is retried). Any other answer fails
//! every outcome of the batch, and each is retried: the ledger deduplicates by key, so an
//! outcome posted twice is harmless.

use super::{WritebackBody, WritebackError};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, Semaphore};

/// One outcome in a batch.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct BatchItem {
    pub idempotency_key: String,
    #[serde(flatten)]
    pub body: WritebackBody,
}

/// The body of a batch POST.
#[derive(Debug, Serialize, Deserialize)]
pub struct BatchRequest {
    pub writebacks: Vec<BatchItem>,
}

/// The ledger's answer to a batch POST.
#[derive(Debug, Serialize, Deserialize)]
pub struct BatchResponse {
    pub results: Vec<BatchResult>,
}

/// What the ledger made of one outcome of a batch.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct BatchResult {
    pub idempotency_key: String,
    /// `recorded`, `duplicate` or `refused`.
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// An outcome waiting for its batch, with its job's answer channel.
struct Waiting {
    item: BatchItem,
    answer: oneshot::Sender<Result<(), WritebackError>>,
}

/// Where and how a ledger's batches are posted.
struct Target {
    http: reqwest::Client,
    url: String,
    secret: Vec<u8>,
}

/// The batcher of one ledger. Cheap to clone.
#[derive(Clone)]
pub(crate) struct Batcher {
    queue: mpsc::Sender<Waiting>,
    /// How long an outcome may wait for its batch's answer, queueing included.
    deadline: Duration,
}

impl Batcher {
    /// Starts the batcher's task (on the current Tokio runtime).
    pub(crate) fn start(
        http: reqwest::Client,
        url: String,
        secret: Vec<u8>,
        config: &crate::config::WritebackConfig,
    ) -> Self {
        let (queue, waiting) = mpsc::channel(config.batch_max * config.batches_in_flight_max * 2);
        let target = Arc::new(Target { http, url, secret });
        tokio::spawn(run(
            waiting,
            target,
            config.batch_max,
            config.batches_in_flight_max,
        ));
        Batcher {
            queue,
            deadline: Duration::from_millis(config.timeout_ms),
        }
    }

    /// Posts `body` under `key` in the next batch; Ok once the ledger recorded it (or had it).
    /// Fails after `writeback.timeout_ms` in all, so that the job's lease, renewed for that
    /// long, still holds when it completes.
    pub(crate) async fn post(&self, key: &str, body: WritebackBody) -> Result<(), WritebackError> {
        let (answer, answered) = oneshot::channel();
        let item = BatchItem {
            idempotency_key: key.to_string(),
            body,
        };
        let gone = || WritebackError::Post {
            url: "(batch)".into(),
            why: "the batcher stopped".into(),
        };
        let waited = tokio::time::timeout(self.deadline, async {
            self.queue
                .send(Waiting { item, answer })
                .await
                .map_err(|_| gone())?;
            answered.await.map_err(|_| gone())?
        })
        .await;
        waited.unwrap_or_else(|_| {
            Err(WritebackError::Post {
                url: "(batch)".into(),
                why: format!("no answer within {} ms", self.deadline.as_millis()),
            })
        })
    }
}

/// Takes what is queued, up to `batch_max` outcomes, whenever one of the `in_flight_max`
/// POST slots is free, and posts it; ends when every sender is gone.
async fn run(
    mut waiting: mpsc::Receiver<Waiting>,
    target: Arc<Target>,
    batch_max: usize,
    in_flight_max: usize,
) {
    let slots = Arc::new(Semaphore::new(in_flight_max));
    loop {
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let Some(first) = waiting.recv().await else {
            return;
        };
        let mut batch = vec![first];
        while batch.len() < batch_max {
            match waiting.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let target = target.clone();
        tokio::spawn(async move {
            post_batch(&target, batch).await;
            drop(slot);
        });
    }
}

/// Posts one batch and answers each of its outcomes.
async fn post_batch(target: &Target, batch: Vec<Waiting>) {
    let (items, answers): (Vec<BatchItem>, Vec<_>) =
        batch.into_iter().map(|w| (w.item, w.answer)).unzip();
    let keys: Vec<String> = items.iter().map(|i| i.idempotency_key.clone()).collect();
    metrics::histogram!("corridor_writeback_batch_size").record(items.len() as f64);
    let results = match send(target, BatchRequest { writebacks: items }).await {
        Ok(response) => per_item(&keys, response, &target.url),
        Err(why) => {
            tracing::warn!(url = %target.url, outcomes = keys.len(), error = %why, "write-back batch failed; each outcome is retried");
            keys.iter()
                .map(|_| {
                    Err(WritebackError::Post {
                        url: target.url.clone(),
                        why: why.clone(),
                    })
                })
                .collect()
        }
    };
    for (answer, result) in answers.into_iter().zip(results) {
        // A job that gave up waiting is retried on its own: nothing to tell it.
        let _ = answer.send(result);
    }
}

/// The signed POST of one batch; the ledger's answer, read.
async fn send(target: &Target, request: BatchRequest) -> Result<BatchResponse, String> {
    let body = serde_json::to_vec(&request).expect("a write-back batch serialises");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let response = target
        .http
        .post(&target.url)
        .header("content-type", "application/json")
        .header(
            webhook::SIGNATURE_HEADER,
            webhook::sign(&target.secret, now, &body),
        )
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    let text = response.bytes().await.map_err(|e| e.to_string())?;
    if !status.is_success() {
        let snippet = String::from_utf8_lossy(&text[..text.len().min(200)]).into_owned();
        return Err(format!("HTTP {status}: {snippet}"));
    }
    serde_json::from_slice(&text)
        .map_err(|e| format!("the ledger's answer is not a batch result: {e}"))
}

/// Each outcome's result from the ledger's answer: by position, checked by key. An outcome
/// the answer does not account for is failed (and retried).
fn per_item(
    keys: &[String],
    response: BatchResponse,
    url: &str,
) -> Vec<Result<(), WritebackError>> {
    let failed = |why: String| {
        Err(WritebackError::Post {
            url: url.to_string(),
            why,
        })
    };
    let mut results = response.results.into_iter();
    keys.iter()
        .map(|key| match results.next() {
            Some(r) if &r.idempotency_key != key => failed(format!(
                "the ledger answered for {} where {key} was sent",
                r.idempotency_key
            )),
            Some(r) if r.status == "recorded" || r.status == "duplicate" => Ok(()),
            Some(r) => failed(format!(
                "refused by the ledger ({}): {}",
                r.status,
                r.detail.unwrap_or_default()
            )),
            None => failed(format!("the ledger's answer has no result for {key}")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(key: &str, status: &str) -> BatchResult {
        BatchResult {
            idempotency_key: key.into(),
            status: status.into(),
            detail: Some("why".into()),
        }
    }

    /// Recorded and duplicate are fine; refused, another key in its place, or no result at
    /// all fail that outcome alone.
    #[test]
    fn each_outcome_is_judged_by_its_own_result() {
        let keys: Vec<String> = ["a", "b", "c", "d", "e"].map(String::from).to_vec();
        let response = BatchResponse {
            results: vec![
                result("a", "recorded"),
                result("b", "duplicate"),
                result("c", "refused"),
                result("x", "recorded"),
            ],
        };
        let judged: Vec<Option<String>> = per_item(&keys, response, "u")
            .into_iter()
            .map(|r| r.err().map(|e| e.to_string()))
            .collect();
        assert_eq!(judged[0], None);
        assert_eq!(judged[1], None);
        assert!(judged[2]
            .as_deref()
            .unwrap()
            .contains("refused by the ledger (refused): why"));
        assert!(judged[3]
            .as_deref()
            .unwrap()
            .contains("answered for x where d was sent"));
        assert!(judged[4].as_deref().unwrap().contains("no result for e"));
    }

    /// An item is the write-back body, flat, with its key beside the fields.
    #[test]
    fn an_item_is_the_body_with_its_key() {
        let body = WritebackBody {
            settlement_id: "st-1".into(),
            ledger: "l".into(),
            event_id: "e".into(),
            outcome: "settled".into(),
            reason_code: None,
            reason: None,
            uetr: None,
            amount: "1.00".into(),
            currency: "EUR".into(),
            final_at: "2026-12-05T10:00:00Z".into(),
            corrects: None,
            break_id: None,
        };
        let item = BatchItem {
            idempotency_key: "st-1".into(),
            body,
        };
        let json = serde_json::to_value(&item).unwrap();
        assert_eq!(json["idempotency_key"], "st-1");
        assert_eq!(json["settlement_id"], "st-1");
        assert_eq!(json["outcome"], "settled");
        let back: BatchItem = serde_json::from_value(json).unwrap();
        assert_eq!(back, item);
    }
}
