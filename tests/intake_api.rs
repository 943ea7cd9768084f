//! Bad input at the HTTP edge: each is a clear 4xx naming the problem, and every request is
//! kept, raw, in the inbound journal. Also health, readiness and metrics.

mod common;

use common::world::{Options, World};
use common::{event_json, on_each_store};
use corridor::store::journal;
use serde_json::Value;

async fn journal_entries(world: &World) -> Vec<journal::Entry> {
    let mut conn = world.db.store.pool().acquire().await.unwrap();
    journal::list(&mut conn, None, 1000).await.unwrap()
}

async fn signed(world: &World, body: Vec<u8>) -> (u16, Value) {
    let outcome = world.poster.post_raw(body).await.unwrap();
    (outcome.status, outcome.json().unwrap_or(Value::Null))
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_is_journaled() {
    on_each_store("bad_input_gets_a_clear_4xx", |db| async move {
        let world = World::start(db, Options::default()).await;
        let mut sent: Vec<Vec<u8>> = Vec::new();

        let malformed = b"{\"event_id\": \"e1\", ".to_vec();
        let (status, body) = signed(&world, malformed.clone()).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["code"], "malformed_json");
        sent.push(malformed);

        let mutations: Vec<(&str, &str, Value)> = vec![
            ("currency", "currency", Value::from("XYZ")),
            ("amount", "amount", Value::from("10.001")),
            ("creditor.account.iban", "creditor", serde_json::json!({"name": "B", "account": {"iban": "FR1520041010050500013M02606"}})),
            ("debtor.agent.bic", "debtor", serde_json::json!({"name": "A", "account": {"iban": "DE89370400440532013000"}, "agent": {"bic": "DEUTXXFF"}})),
            // A payment routed to a bank (CBPR+) needs a structured address with a town and a
            // country for both parties: without one, or without a town, it is refused here.
            ("creditor.address.town_name", "creditor", serde_json::json!({"name": "B", "account": {"iban": "FR1420041010050500013M02606"}})),
            ("creditor.address.town_name", "creditor", serde_json::json!({"name": "B", "account": {"iban": "FR1420041010050500013M02606"}, "address": {"street_name": "Rue de Rivoli", "country": "FR"}})),
            ("debtor.address.country", "debtor", serde_json::json!({"name": "A", "account": {"iban": "DE89370400440532013000"}, "address": {"town_name": "Berlin"}})),
        ];
        for (field, key, value) in mutations {
            let mut event = event_json(&format!("evt-bad-{key}"), "10.00", "x");
            event[key] = value;
            let raw = serde_json::to_vec(&event).unwrap();
            let (status, body) = signed(&world, raw.clone()).await;
            assert_eq!(status, 422, "{field}: {body}");
            assert_eq!(body["error"]["field"], field, "{body}");
            sent.push(raw);
        }

        // A signature by another secret, and none at all.
        let raw = serde_json::to_vec(&event_json("evt-sig", "1.00", "x")).unwrap();
        let forged = webhook::sign(b"not-the-secret", corridor::api::unix_now(), &raw);
        for header in [Some(forged), None] {
            let mut request = world.http.post(world.url("/v1/ledger/events"))
                .header("x-corridor-ledger", corridor::demo::LEDGER)
                .body(raw.clone());
            if let Some(h) = header {
                request = request.header(webhook::SIGNATURE_HEADER, h);
            }
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 401);
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["error"]["code"], "bad_signature", "{body}");
            sent.push(raw.clone());
        }

        // Larger than intake.body_bytes_max (64 KiB in these tests): 413. The sender is not
        // authenticated, so only its first journal.refused_prefix_bytes are kept.
        let mut oversized = serde_json::to_vec(&event_json("evt-big", "1.00", "x")).unwrap();
        oversized.extend(std::iter::repeat_n(b' ', 70_000));
        let (status, body) = signed(&world, oversized.clone()).await;
        assert_eq!(status, 413, "{body}");
        assert_eq!(body["error"]["code"], "body_too_large");

        let entries = journal_entries(&world).await;
        assert_eq!(entries.len(), sent.len() + 1, "{}: every request journaled", world.db.label);
        for entry in &entries {
            assert!(entry.status == "rejected", "{}: {entry:?}", world.db.label);
            assert!(entry.detail.is_some());
        }
        let mut kept: Vec<Vec<u8>> = Vec::new();
        for entry in &entries {
            let mut conn = world.db.store.pool().acquire().await.unwrap();
            kept.push(journal::get(&mut conn, entry.id).await.unwrap().unwrap().raw);
        }

        let prefix = world.config.journal.refused_prefix_bytes;
        let big = kept.iter().position(|r| r.len() == prefix).expect("the oversized body's prefix");
        assert_eq!(kept.remove(big), oversized[..prefix].to_vec());
        let big_entry = entries.iter().find(|e| e.size_bytes == Some(65_536)).expect("its size");
        assert_eq!(big_entry.sha256.as_deref(), Some(&*journal::sha256_hex(&oversized[..65_536])));
        kept.sort();
        sent.sort();
        assert_eq!(kept, sent, "{}: raw bytes kept exactly", world.db.label);
        world.finish().await
    })
    .await;
}

#[tokio::test]
async fn an_event_stored_before_addresses_were_required_still_answers_with_its_state() {
    on_each_store("stored_before_addresses", |db| async move {
        let world = World::start(db, Options::default()).await;
        // An event a ledger posted before payments to a bank needed addresses, stored then.
        let mut old = event_json("evt-old", "10.00", "x");
        for party in ["debtor", "creditor"] {
            old[party].as_object_mut().unwrap().remove("address");
        }
        let json = corridor::intake::event::parse_json(old.clone()).unwrap();
        let settlement =
            corridor::intake::event::to_settlement(corridor::demo::LEDGER, &json).unwrap();
        let mut tx = world.db.store.begin().await.unwrap();
        let hash = corridor::intake::event::content_hash(&old);
        corridor::store::settlements::insert_received(&mut tx, &settlement, &hash, "test", None)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        // Posted again as it was: the current state, not a 422.
        let (status, body) = world.post(&old).await;
        assert_eq!(status, 200, "{}: {body}", world.db.label);
        assert_eq!(body["settlement_id"], settlement.id.as_str());
        // The same id with other content is still a conflict.
        let mut changed = old.clone();
        changed["amount"] = "11.00".into();
        let (status, body) = world.post(&changed).await;
        assert_eq!(status, 409, "{}: {body}", world.db.label);
        // A new event like it is refused, naming the field.
        let mut new = old.clone();
        new["event_id"] = "evt-new".into();
        let (status, body) = world.post(&new).await;
        assert_eq!(status, 422, "{}: {body}", world.db.label);
        assert_eq!(body["error"]["field"], "debtor.address.town_name");
        world.finish().await
    })
    .await;
}

#[tokio::test]
async fn unknown_ledger_and_bank_callbacks_are_refused_and_kept() {
    on_each_store("unknown_ledger_and_bank_callbacks", |db| async move {
        let world = World::start(db, Options::default()).await;
        let response = world
            .http
            .post(world.url("/v1/ledger/events"))
            .header("x-corridor-ledger", "nobody")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);

        // A bank message with a bad signature, then a signed one naming nothing we sent.
        let pacs002 = std::fs::read_to_string("tests/fixtures/pacs002_unknown_uetr.xml").unwrap();
        let url = world.url(&format!("/v1/banks/{}/messages", corridor::demo::BANK_ID));
        let response = world
            .http
            .post(&url)
            .header(webhook::SIGNATURE_HEADER, "t=1,v1=00")
            .body(pacs002.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        let signature = webhook::sign(
            corridor::demo::BANK_CALLBACK_SECRET.as_bytes(),
            corridor::api::unix_now(),
            pacs002.as_bytes(),
        );
        let response = world
            .http
            .post(&url)
            .header(webhook::SIGNATURE_HEADER, signature)
            .body(pacs002.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let garbage = b"<not-iso/>".to_vec();
        let signature = webhook::sign(
            corridor::demo::BANK_CALLBACK_SECRET.as_bytes(),
            corridor::api::unix_now(),
            &garbage,
        );
        let response = world
            .http
            .post(&url)
            .header(webhook::SIGNATURE_HEADER, signature)
            .body(garbage)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400);
        let unknown_bank = world
            .http
            .post(world.url("/v1/banks/nobody/messages"))
            .body(pacs002)
            .send()
            .await
            .unwrap();
        assert_eq!(unknown_bank.status(), 404);

        let statuses: Vec<String> = journal_entries(&world)
            .await
            .into_iter()
            .rev()
            .map(|e| e.status.to_string())
            .collect();
        assert_eq!(
            statuses,
            ["rejected", "rejected", "unmatched", "rejected", "rejected"],
            "{}",
            world.db.label
        );
        world.finish().await
    })
    .await;
}

#[tokio::test]
async fn health_readiness_and_metrics() {
    let db = common::TestDb::sqlite().await;
    let world = World::start(db, Options::default()).await;
    assert_eq!(world.post(&event_json("evt-m", "3.00", "x")).await.0, 201);
    world
        .wait_all_final(1, std::time::Duration::from_secs(30))
        .await;
    for path in ["/healthz", "/readyz"] {
        assert_eq!(
            world
                .http
                .get(world.url(path))
                .send()
                .await
                .unwrap()
                .status(),
            200,
            "{path}"
        );
    }
    let text = world
        .http
        .get(world.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("corridor_settlements{state=\"settled\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("corridor_outbox_rows{kind=\"deliver\",status=\"dead\"} 0"),
        "{text}"
    );
    assert!(
        text.contains("corridor_bank_request_duration_seconds_bucket{bank=\"sim-bank\""),
        "{text}"
    );
    world.finish().await.finish().await;
}

/// Posts new events once each until one is refused: how many were taken, the refused event
/// and its answer.
async fn post_until_refused(world: &World) -> (i64, Value, sim::ledger::PostOutcome) {
    let mut taken = 0;
    loop {
        let event = event_json(&format!("evt-door-{taken}"), "1.00", "x");
        let body = serde_json::to_vec(&event).unwrap();
        let outcome = world.poster.post_raw(body).await.unwrap();
        match outcome.status {
            201 => taken += 1,
            503 => return (taken, event, outcome),
            other => panic!("{}: {other} {}", world.db.label, outcome.body),
        }
        assert!(
            taken < 100,
            "{}: dispatch never fell behind",
            world.db.label
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// While dispatch is further behind than `intake.dispatch_lag_ms_max`, a new ledger event is
/// answered 503 `overloaded` with `Retry-After`, and nothing of it is stored; a ledger that
/// waits as asked and sends it again gets it in once dispatch has caught up, and everything
/// taken still reaches one final outcome.
#[tokio::test]
async fn new_events_wait_at_the_door_while_dispatch_is_behind() {
    on_each_store("events_wait_at_the_door", |db| async move {
        let world = World::start(
            db,
            Options {
                // One worker, and a bank that does not answer: the worker's first claim hangs
                // for the bank's timeout, and what arrives meanwhile waits in the outbox.
                behaviour: sim::bank::Behaviour::Drop,
                bank_timeout_ms: 3_000,
                extra_env: vec![
                    ("CORRIDOR__DISPATCH__WORKERS", "1".into()),
                    ("CORRIDOR__INTAKE__DISPATCH_LAG_MS_MAX", "200".into()),
                    ("CORRIDOR__INTAKE__DISPATCH_LAG_CHECK_MS", "20".into()),
                ],
                ..Options::default()
            },
        )
        .await;
        let (taken, refused, answer) = post_until_refused(&world).await;
        let body = answer.json().unwrap();
        assert_eq!(body["error"]["code"], "overloaded", "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains("the bound is 200 ms"), "{message}");
        assert_eq!(answer.retry_after, Some(std::time::Duration::from_secs(1)));
        let mut conn = world.db.store.pool().acquire().await.unwrap();
        let states = corridor::store::settlements::count_by_state(&mut conn).await;
        drop(conn);
        let stored: i64 = states.unwrap().iter().map(|(_, n)| n).sum();
        assert_eq!(
            stored, taken,
            "{}: the refused one was stored",
            world.db.label
        );
        assert!(
            !journal_entries(&world)
                .await
                .iter()
                .any(|e| String::from_utf8_lossy(&e.raw)
                    .contains(refused["event_id"].as_str().unwrap())),
            "{}: a refusal at the door is not journaled",
            world.db.label
        );

        // The bank recovers; the worker's hung send times out and is sent again. The ledger
        // waits as asked, sends the event again, and it is taken.
        world.bank.set_default(sim::bank::Behaviour::Accept);
        let admitted = world
            .poster
            .post_admitted(serde_json::to_vec(&refused).unwrap())
            .await
            .unwrap();
        assert_eq!(admitted.status, 201, "{}", admitted.body);
        assert!(
            admitted.waited >= 1,
            "{}: the door was open at once",
            world.db.label
        );
        world
            .wait_all_final(taken + 1, std::time::Duration::from_secs(60))
            .await;
        world.finish().await
    })
    .await;
}
