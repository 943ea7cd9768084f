//! Hardening regressions (issue: no forged answer after a crash, bounded refused input), over
//! real sockets on SQLite and PostgreSQL.

mod common;

use common::world::{Options, World};
use common::{event_json, on_each_store};
use corridor::domain::{SettlementId, SettlementState};
use corridor::store::{journal, messages, settlements};
use sim::bank::Behaviour;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// A pacs.002 for the payment with `uetr`, as a bank would write it, with status `status`.
fn pacs002(msg_id: &str, uetr: &str, status: &str) -> String {
    let reason = if status == "RJCT" {
        "<StsRsnInf><Rsn><Cd>AC04</Cd></Rsn></StsRsnInf>"
    } else {
        ""
    };
    format!(
        r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"><FIToFIPmtStsRpt>
<GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>2026-11-25T10:00:00+00:00</CreDtTm></GrpHdr>
<TxInfAndSts><OrgnlUETR>{uetr}</OrgnlUETR><TxSts>{status}</TxSts>{reason}</TxInfAndSts>
</FIToFIPmtStsRpt></Document>"#
    )
}

async fn state_of(world: &World, sid: &SettlementId) -> SettlementState {
    let mut conn = world.db.store.pool().acquire().await.unwrap();
    settlements::get(&mut conn, sid)
        .await
        .unwrap()
        .unwrap()
        .state
}

/// Posts one event to a bank that takes it (202) and answers only much later; returns the
/// settlement and its UETR once it is `sent`.
async fn a_sent_payment(world: &World, event_id: &str) -> (SettlementId, String) {
    let (status, body) = world.post(&event_json(event_id, "75.00", "Invoice")).await;
    assert_eq!(status, 201, "{body}");
    let sid = SettlementId::parse(body["settlement_id"].as_str().unwrap()).unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while state_of(world, &sid).await != SettlementState::Sent {
        assert!(std::time::Instant::now() < deadline, "never sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut conn = world.db.store.pool().acquire().await.unwrap();
    let sent = messages::for_settlement(&mut conn, &sid, "pacs.008.001.08")
        .await
        .unwrap()
        .unwrap();
    (sid, sent.uetr.unwrap())
}

#[tokio::test]
async fn forged_answers_refused_before_a_crash_are_never_applied_after_it() {
    on_each_store("forged_answers_after_crash", |db| async move {
        let options = Options {
            behaviour: Behaviour::AcceptAsync { delay_ms: 120_000 },
            ..Options::default()
        };
        let mut world = World::start(db, options).await;
        let (sid, uetr) = a_sent_payment(&world, "evt-forged").await;
        let url = world.url(&format!("/v1/banks/{}/messages", corridor::demo::BANK_ID));

        // A flood of unsigned answers, rejections and settlements alike: each refused.
        for i in 0..20 {
            let status = if i % 2 == 0 { "RJCT" } else { "ACSC" };
            let response = world
                .http
                .post(&url)
                .body(pacs002(&format!("FORGED-{i}"), &uetr, status))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 401, "{}", world.db.label);
        }
        // What an older version (which journaled before checking) could leave behind when
        // killed between the two: a forged answer still `received`, never authenticated.
        let forged = pacs002("FORGED-LEFT", &uetr, "RJCT");
        sqlx::query(
            "INSERT INTO inbound_journal (received_at_ms, channel, source, content_type, raw, \
             status, updated_at_ms) VALUES ($1, 'bank-callback', $2, 'application/xml', $3, \
             'received', $1)",
        )
        .bind(corridor::store::now_ms())
        .bind(corridor::demo::BANK_ID)
        .bind(forged.into_bytes())
        .execute(world.db.store.pool())
        .await
        .unwrap();

        // Recovery runs inside the start, before it returns: what it applied is visible now.
        world.crash_and_restart().await;
        assert_eq!(
            state_of(&world, &sid).await,
            SettlementState::Sent,
            "{}: a forged answer moved the payment",
            world.db.label
        );
        assert_eq!(world.ledger.stats().recorded, 0, "{}", world.db.label);
        let mut conn = world.db.store.pool().acquire().await.unwrap();
        let received = journal::list(&mut conn, Some(journal::Status::Received), 100)
            .await
            .unwrap();
        assert!(received.is_empty(), "{}: {received:?}", world.db.label);
        let rejected = journal::list(&mut conn, Some(journal::Status::Rejected), 100)
            .await
            .unwrap();
        assert_eq!(rejected.len(), 21, "{}", world.db.label);
        assert!(rejected.iter().all(|e| e.authenticated_by.is_none()));
        assert!(rejected.iter().all(|e| e.settlement_id.is_none()));
        drop(conn);

        // The bank's own, signed answer still counts, once.
        let genuine = pacs002("GENUINE-1", &uetr, "ACSC");
        let signature = webhook::sign(
            corridor::demo::BANK_CALLBACK_SECRET.as_bytes(),
            corridor::api::unix_now(),
            genuine.as_bytes(),
        );
        let response = world
            .http
            .post(&url)
            .header(webhook::SIGNATURE_HEADER, signature)
            .body(genuine)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        world.wait_all_final(1, WAIT).await;
        assert_eq!(world.outcome("evt-forged").0, "settled");
        world.finish().await
    })
    .await;
}

#[tokio::test]
async fn refused_requests_are_kept_bounded_and_callers_that_keep_failing_are_throttled() {
    on_each_store("refused_requests_bounded", |db| async move {
        let world = World::start(db, Options::default()).await;
        let big = vec![b'x'; 60_000];
        let url = world.url(&format!("/v1/banks/{}/messages", corridor::demo::BANK_ID));
        let response = world
            .http
            .post(&url)
            .header("x-corridor-signature", "t=1,v1=00")
            .header("authorization", "Bearer do-not-keep-me")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
        let mut conn = world.db.store.pool().acquire().await.unwrap();
        let listed = journal::list(&mut conn, Some(journal::Status::Rejected), 10)
            .await
            .unwrap();
        assert_eq!(listed.len(), 1, "{}", world.db.label);
        let entry = journal::get(&mut conn, listed[0].id)
            .await
            .unwrap()
            .unwrap();
        let prefix = world.config.journal.refused_prefix_bytes;
        assert_eq!(entry.raw, big[..prefix], "{}", world.db.label);
        assert_eq!(entry.size_bytes, Some(60_000));
        assert_eq!(entry.sha256.as_deref(), Some(&*journal::sha256_hex(&big)));
        assert!(entry.authenticated_by.is_none());
        let headers: String =
            sqlx::query_scalar::<_, String>("SELECT headers FROM inbound_journal WHERE id = $1")
                .bind(entry.id)
                .fetch_one(&mut *conn)
                .await
                .unwrap();
        assert!(headers.contains("t=1,v1=00"), "{headers}");
        assert!(!headers.contains("do-not-keep-me"), "{headers}");
        drop(conn);

        // The same address failing again and again: past the per-minute limit it gets 429,
        // and nothing more of it is journaled.
        let max = world.config.intake.unauthenticated_failures_per_minute_max as usize;
        let mut statuses = Vec::new();
        for _ in 0..max + 5 {
            let response = world
                .http
                .post(world.url("/v1/banks/no-such-bank/messages"))
                .body("<x/>")
                .send()
                .await
                .unwrap();
            statuses.push(response.status().as_u16());
        }
        assert_eq!(statuses.iter().filter(|s| **s == 404).count(), max - 1);
        assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 6);
        let mut conn = world.db.store.pool().acquire().await.unwrap();
        let kept = journal::list(&mut conn, Some(journal::Status::Rejected), 1000)
            .await
            .unwrap();
        assert_eq!(kept.len(), max, "{}", world.db.label);
        drop(conn);
        world.finish().await
    })
    .await;
}

#[tokio::test]
async fn a_ledger_post_journaled_before_a_crash_is_applied_at_start() {
    on_each_store("ledger_post_recovered", |db| async move {
        let mut world = World::start(db, Options::default()).await;
        // Journaled, authenticated, and cut off before intake committed (as a SIGKILL right
        // after the journal write leaves it).
        let body = serde_json::to_vec(&event_json("evt-cut", "12.00", "Invoice")).unwrap();
        let id = journal::record(
            &world.db.store,
            journal::Channel::LedgerHttp,
            Some(corridor::demo::LEDGER),
            Some("application/json"),
            &body,
            journal::AuthenticatedBy::Signature,
        )
        .await
        .unwrap();
        world.crash_and_restart().await;
        let mut conn = world.db.store.pool().acquire().await.unwrap();
        let entry = journal::get(&mut conn, id).await.unwrap().unwrap();
        assert_eq!(entry.status, "applied", "{}: {entry:?}", world.db.label);
        drop(conn);
        // The ledger's retry of the same post is answered with the settlement it made.
        let (status, answer) = world.post(&event_json("evt-cut", "12.00", "Invoice")).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer["settlement_id"].as_str(),
            entry.settlement_id.as_deref()
        );
        world.wait_all_final(1, WAIT).await;
        assert_eq!(world.outcome("evt-cut").0, "settled");
        world.finish().await
    })
    .await;
}

/// Reads from `stream` until the peer closes it; returns what arrived and how long it took.
async fn until_closed(stream: &mut tokio::net::TcpStream) -> (String, Duration) {
    use tokio::io::AsyncReadExt;
    let started = std::time::Instant::now();
    let mut got = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut got)).await;
    assert!(read.is_ok(), "the server kept the connection open");
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

fn short_timeouts() -> Options {
    Options {
        extra_env: vec![
            ("CORRIDOR__SERVER__HEADER_READ_TIMEOUT_MS", "400".into()),
            ("CORRIDOR__SERVER__IDLE_TIMEOUT_MS", "800".into()),
            ("CORRIDOR__SERVER__BODY_READ_TIMEOUT_MS", "400".into()),
            ("CORRIDOR__SERVER__CONNECTIONS_MAX", "20".into()),
        ],
        ..Options::default()
    }
}

#[tokio::test]
async fn slow_silent_and_stalled_clients_are_cut_off_and_others_are_still_served() {
    use tokio::io::AsyncWriteExt;
    on_each_store("slow_clients_cut_off", |db| async move {
        let world = World::start(db, short_timeouts()).await;
        // Partial headers, then nothing: closed once the header deadline passes.
        let mut partial = tokio::net::TcpStream::connect(world.listen).await.unwrap();
        partial
            .write_all(b"POST /v1/ledger/events HTTP/1.1\r\nHost: x\r\n")
            .await
            .unwrap();
        let (_, took) = until_closed(&mut partial).await;
        assert!(took < Duration::from_secs(5), "{took:?}");
        // Headers promising a body that never comes: 408.
        let mut stalled = tokio::net::TcpStream::connect(world.listen).await.unwrap();
        stalled
            .write_all(
                b"POST /v1/ledger/events HTTP/1.1\r\nHost: x\r\ncontent-length: 1000\r\n\r\n{",
            )
            .await
            .unwrap();
        let (answer, _) = until_closed(&mut stalled).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("body_timeout"), "{answer}");
        // More silent connections than the cap: each is dropped when idle, and a real client
        // is served meanwhile.
        let mut silent = Vec::new();
        for _ in 0..40 {
            silent.push(tokio::net::TcpStream::connect(world.listen).await.unwrap());
        }
        let health = tokio::time::timeout(
            Duration::from_secs(10),
            world.http.get(world.url("/healthz")).send(),
        )
        .await
        .expect("healthz answered while slow connections held the server")
        .unwrap();
        assert_eq!(health.status(), 200);
        for mut stream in silent {
            let (got, _) = until_closed(&mut stream).await;
            assert!(got.is_empty(), "{got}");
        }
        world.finish().await
    })
    .await;
}

#[tokio::test]
async fn bodies_in_flight_are_bounded_in_bytes() {
    on_each_store("bodies_in_flight_bounded", |db| async move {
        let options = Options {
            extra_env: vec![("CORRIDOR__SERVER__BODY_BYTES_IN_FLIGHT_MAX", "4096".into())],
            ..Options::default()
        };
        let world = World::start(db, options).await;
        let url = world.url(&format!("/v1/banks/{}/messages", corridor::demo::BANK_ID));
        let big = world
            .http
            .post(&url)
            .body(vec![b'x'; 10_000])
            .send()
            .await
            .unwrap();
        assert_eq!(big.status(), 503, "{}", world.db.label);
        let body: serde_json::Value = big.json().await.unwrap();
        assert_eq!(body["error"]["code"], "server_busy");
        // The budget came back when that request ended: a small one still gets through (and
        // is refused for its signature, not for lack of memory).
        let small = world.http.post(&url).body("<x/>").send().await.unwrap();
        assert_eq!(small.status(), 401);
        world.finish().await
    })
    .await;
}

#[tokio::test]
async fn unknown_routes_wrong_methods_and_bad_limits_answer_in_json() {
    on_each_store("errors_in_json", |db| async move {
        let world = World::start(db, Options::default()).await;
        let json = |response: reqwest::Response| async move {
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.expect("a JSON body");
            (
                status,
                body["error"]["code"].as_str().unwrap_or("").to_string(),
            )
        };
        let missing = world
            .http
            .get(world.url("/v1/nothing"))
            .send()
            .await
            .unwrap();
        assert_eq!(json(missing).await, (404, "not_found".into()));
        let wrong = world
            .http
            .delete(world.url("/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(json(wrong).await, (405, "method_not_allowed".into()));
        let too_many = world
            .http
            .get(world.url("/v1/journal?limit=1001"))
            .bearer_auth(common::world::OPERATOR_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(json(too_many).await, (400, "bad_limit".into()));
        world.finish().await
    })
    .await;
}
