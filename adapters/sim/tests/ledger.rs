//! The simulated ledger over real sockets: the poster signs what it posts, and the write-back
//! receiver checks signatures and records each settlement once.

use std::time::Duration;

use sim::ledger::{
    iban, start_writeback, Account, GeneratorConfig, LedgerPoster, LedgerSim, Mix, PosterConfig,
    WriteBack, WritebackConfig,
};

const SECRET: &[u8] = b"writeback-secret";

fn outcome(settlement_id: &str, event_id: &str, outcome: &str) -> WriteBack {
    WriteBack {
        settlement_id: settlement_id.to_string(),
        ledger: Some("demo-ledger".to_string()),
        event_id: event_id.to_string(),
        outcome: outcome.to_string(),
        reason_code: None,
        reason: None,
        uetr: Some("eb6305c9-1f7f-49de-aed0-16487c27b42d".to_string()),
        amount: Some("1234.50".to_string()),
        currency: Some("EUR".to_string()),
        final_at: Some("2026-11-25T12:00:03Z".to_string()),
        corrects: None,
        break_id: None,
    }
}

async fn deliver(
    client: &reqwest::Client,
    url: &str,
    key: Option<&str>,
    body: &[u8],
    secret: &[u8],
) -> (u16, String) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .header(webhook::SIGNATURE_HEADER, webhook::sign(secret, now, body))
        .body(body.to_vec());
    if let Some(key) = key {
        request = request.header("idempotency-key", key);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

#[tokio::test]
async fn writeback_receiver_records_once_and_counts_duplicates() {
    let receiver = start_writeback(WritebackConfig::new(SECRET)).await.unwrap();
    let client = reqwest::Client::new();
    let url = receiver.url();
    let first = serde_json::to_vec(&outcome("st_1", "evt-000001", "settled")).unwrap();
    let second = serde_json::to_vec(&outcome("st_2", "evt-000002", "rejected")).unwrap();

    assert_eq!(
        deliver(&client, &url, Some("st_1"), &first, SECRET).await.0,
        200
    );
    assert_eq!(
        deliver(&client, &url, Some("st_1"), &first, SECRET).await.0,
        200
    );
    assert_eq!(
        deliver(&client, &url, Some("st_1"), &first, SECRET).await.0,
        200
    );
    assert_eq!(
        deliver(&client, &url, Some("st_2"), &second, SECRET)
            .await
            .0,
        200
    );

    let stats = receiver.stats();
    assert_eq!(stats.deliveries, 4);
    assert_eq!(stats.recorded, 2);
    assert_eq!(stats.duplicates, 2);
    assert_eq!(stats.conflicting_duplicates, 0);
    assert_eq!(
        receiver
            .outcome("demo-ledger", "evt-000001")
            .unwrap()
            .outcome,
        "settled"
    );
    assert_eq!(
        receiver.by_settlement("st_2").unwrap().event_id,
        "evt-000002"
    );
    assert_eq!(
        receiver.settlements_for_event("demo-ledger", "evt-000001"),
        vec!["st_1".to_string()]
    );
    assert_eq!(receiver.outcome_counts().get("rejected"), Some(&1));
    assert!(
        receiver
            .wait_for_recorded(2, Duration::from_millis(10))
            .await
    );
    assert!(
        !receiver
            .wait_for_recorded(3, Duration::from_millis(50))
            .await
    );
    receiver.shutdown().await;
}

#[tokio::test]
async fn writeback_receiver_refuses_bad_signatures_and_keys() {
    let receiver = start_writeback(WritebackConfig::new(SECRET)).await.unwrap();
    let client = reqwest::Client::new();
    let url = receiver.url();
    let body = serde_json::to_vec(&outcome("st_1", "evt-000001", "settled")).unwrap();

    // Signed with another secret.
    let (status, text) = deliver(&client, &url, Some("st_1"), &body, b"wrong").await;
    assert_eq!(status, 401, "{text}");
    // No signature at all.
    let response = client
        .post(&url)
        .header("idempotency-key", "st_1")
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    // Signed, but the body was changed after signing.
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let response = client
        .post(&url)
        .header("idempotency-key", "st_1")
        .header(webhook::SIGNATURE_HEADER, webhook::sign(SECRET, now, &body))
        .body(tampered)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 401);
    // Well signed but without, or with another, idempotency key.
    assert_eq!(deliver(&client, &url, None, &body, SECRET).await.0, 400);
    assert_eq!(
        deliver(&client, &url, Some("st_9"), &body, SECRET).await.0,
        400
    );
    // Well signed, but an outcome the contract does not have.
    let odd = serde_json::to_vec(&outcome("st_1", "evt-000001", "maybe")).unwrap();
    assert_eq!(
        deliver(&client, &url, Some("st_1"), &odd, SECRET).await.0,
        400
    );

    let stats = receiver.stats();
    assert_eq!(stats.bad_signatures, 3);
    assert_eq!(stats.malformed, 3);
    assert_eq!(stats.recorded, 0);
    assert!(receiver.outcome("demo-ledger", "evt-000001").is_none());
    receiver.shutdown().await;
}

#[tokio::test]
async fn writeback_receiver_can_fail_on_purpose_then_record() {
    let receiver = start_writeback(WritebackConfig::new(SECRET)).await.unwrap();
    let client = reqwest::Client::new();
    let body = serde_json::to_vec(&outcome("st_1", "evt-000001", "settled")).unwrap();
    receiver.fail_next(2);
    for expected in [503, 503, 200, 200] {
        let (status, _) = deliver(&client, &receiver.url(), Some("st_1"), &body, SECRET).await;
        assert_eq!(status, expected);
    }
    let stats = receiver.stats();
    assert_eq!(
        (stats.failed_on_purpose, stats.recorded, stats.duplicates),
        (2, 1, 1)
    );
}

#[tokio::test]
async fn writeback_receiver_notices_a_duplicate_with_other_content() {
    let receiver = start_writeback(WritebackConfig::new(SECRET)).await.unwrap();
    let client = reqwest::Client::new();
    let settled = serde_json::to_vec(&outcome("st_1", "evt-000001", "settled")).unwrap();
    let failed = serde_json::to_vec(&outcome("st_1", "evt-000001", "failed")).unwrap();
    deliver(&client, &receiver.url(), Some("st_1"), &settled, SECRET).await;
    deliver(&client, &receiver.url(), Some("st_1"), &failed, SECRET).await;
    assert_eq!(receiver.stats().conflicting_duplicates, 1);
    // The first delivery stands.
    assert_eq!(receiver.by_settlement("st_1").unwrap().outcome, "settled");
}

/// A stand-in for the gateway's intake that checks what the poster sends.
#[tokio::test]
async fn poster_signs_single_events_and_batches() {
    use axum::body::Bytes;
    use axum::http::HeaderMap;
    use std::sync::{Arc, Mutex};

    let seen: Arc<Mutex<Vec<(String, serde_json::Value)>>> = Arc::default();
    let recorder = seen.clone();
    let app = axum::Router::new().route(
        "/v1/ledger/events",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let recorder = recorder.clone();
            async move {
                let signature = headers
                    .get(webhook::SIGNATURE_HEADER)
                    .and_then(|v| v.to_str().ok());
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                if webhook::verify(signature, &body, &[b"ledger-secret".as_slice()], now, 300)
                    .is_err()
                {
                    return (axum::http::StatusCode::UNAUTHORIZED, "bad signature");
                }
                let ledger = headers["x-corridor-ledger"].to_str().unwrap().to_string();
                let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
                recorder.lock().unwrap().push((ledger, json));
                (axum::http::StatusCode::ACCEPTED, "queued")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let events: Vec<_> = LedgerSim::new(GeneratorConfig::new("demo-ledger", 4))
        .take(3)
        .into_iter()
        .map(|g| g.event)
        .collect();
    let config = PosterConfig {
        gateway_base: format!("http://{addr}/"),
        ledger: "demo-ledger".into(),
        secret: b"ledger-secret".to_vec(),
        tls: None,
        timeout_ms: 5_000,
    };
    let poster = LedgerPoster::new(config.clone()).unwrap();
    let single = poster.post_one(&events[0]).await.unwrap();
    assert_eq!((single.status, single.body.as_str()), (202, "queued"));
    let batch = poster.post_batch(&events).await.unwrap();
    assert_eq!(batch.status, 202);
    let each = poster.post_each(&events[1..]).await;
    assert!(each.iter().all(|r| r.as_ref().unwrap().status == 202));

    let wrong = LedgerPoster::new(PosterConfig {
        secret: b"other".to_vec(),
        ..config
    })
    .unwrap();
    assert_eq!(wrong.post_one(&events[0]).await.unwrap().status, 401);

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 4);
    assert!(seen.iter().all(|(ledger, _)| ledger == "demo-ledger"));
    assert_eq!(seen[0].1, serde_json::to_value(&events[0]).unwrap());
    assert_eq!(seen[1].1.as_array().unwrap().len(), 3);
}

#[test]
fn generated_ibans_pass_mod_97_and_the_gateways_iban_parser() {
    let mix = Mix::default();
    let generated = LedgerSim::new(GeneratorConfig {
        mix,
        ..GeneratorConfig::new("demo-ledger", 11)
    })
    .take(3000);
    let mut checked = 0;
    for item in generated {
        if matches!(item.kind, sim::ledger::EventKind::Invalid(_)) {
            continue;
        }
        for party in [&item.event.debtor, &item.event.creditor] {
            if let Account::Iban { iban: text } = &party.account {
                assert!(iban::is_valid(text), "{text}");
                // The crate the gateway parses IBANs with also checks each country's layout.
                let parsed: ::iban::Iban = text.parse().unwrap_or_else(|e| panic!("{text}: {e:?}"));
                assert_eq!(::iban::IbanLike::electronic_str(&parsed), text);
                checked += 1;
            }
        }
    }
    assert!(checked > 5000, "{checked}");
}
