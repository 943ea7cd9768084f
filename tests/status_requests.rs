//! pacs.028 status requests over real sockets (DESIGN.md decision 6): a bank that took a
//! payment and went quiet is asked, not guessed; a bank that lost it gets the original again
//! with the same identifiers; a bank that never finishes is left to an operator after the
//! configured number of requests. On SQLite and on PostgreSQL.

mod common;

use common::world::{Options, World};
use common::{event_json, on_each_store};
use corridor::domain::SettlementId;
use corridor::store::{journal, messages, outbox, settlements};
use sim::bank::Behaviour;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

fn quick(behaviour: Behaviour) -> Options {
    Options {
        behaviour,
        status_request_after_ms: 150,
        ..Options::default()
    }
}

async fn path_of(world: &World, event_id: &str) -> Vec<String> {
    let mut conn = world.db.store.pool().acquire().await.unwrap();
    let rows = settlements::list(&mut conn, None, 100).await.unwrap();
    let row = rows
        .iter()
        .find(|r| r.settlement.event_id == event_id)
        .expect("settlement of the event");
    settlements::transitions(&mut conn, &row.settlement.id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.to)
        .collect()
}

async fn status_requests(world: &World) -> Vec<(String, Option<String>)> {
    use sqlx::Row;
    let mut conn = world.db.store.pool().acquire().await.unwrap();
    sqlx::query("SELECT msg_id, outcome FROM status_requests ORDER BY id")
        .fetch_all(&mut *conn)
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get("msg_id"), r.get("outcome")))
        .collect()
}

/// The stored pacs.008 of the settlement made for `event_id`.
async fn sent_for(world: &World, event_id: &str) -> messages::Outbound {
    let mut conn = world.db.store.pool().acquire().await.unwrap();
    let rows = settlements::list(&mut conn, None, 100).await.unwrap();
    let row = rows
        .iter()
        .find(|r| r.settlement.event_id == event_id)
        .expect("settlement of the event");
    let sid: SettlementId = row.settlement.id.clone();
    messages::for_settlement(&mut conn, &sid, "pacs.008.001.08")
        .await
        .unwrap()
        .unwrap()
}

/// Posts a pacs.002 with `status` about `sent` to the gateway's bank callback, signed as the
/// bank signs it.
async fn callback(world: &World, sent: &messages::Outbound, status: &str) {
    let xml = format!(
        r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"><FIToFIPmtStsRpt>
<GrpHdr><MsgId>CB-{status}-{}</MsgId><CreDtTm>2026-11-25T10:00:00+00:00</CreDtTm></GrpHdr>
<TxInfAndSts><OrgnlEndToEndId>{}</OrgnlEndToEndId><OrgnlUETR>{}</OrgnlUETR><TxSts>{status}</TxSts></TxInfAndSts>
</FIToFIPmtStsRpt></Document>"#,
        &sent.msg_id[..8],
        sent.end_to_end_id.as_deref().unwrap(),
        sent.uetr.as_deref().unwrap(),
    );
    let url = world.url(&format!("/v1/banks/{}/messages", corridor::demo::BANK_ID));
    let signature = webhook::sign(
        corridor::demo::BANK_CALLBACK_SECRET.as_bytes(),
        corridor::api::unix_now(),
        xml.as_bytes(),
    );
    let response = world
        .http
        .post(&url)
        .header(webhook::SIGNATURE_HEADER, signature)
        .body(xml)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

async fn outbox_rows(world: &World, status: &str) -> Vec<outbox::OutboxRow> {
    let mut conn = world.db.store.pool().acquire().await.unwrap();
    outbox::list(&mut conn, Some(status.parse().unwrap()), 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == "status")
        .collect()
}

/// Waits for the settlement's status row to go dead (its round used up) and returns it.
async fn dead_status_row(world: &World) -> outbox::OutboxRow {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Some(row) = outbox_rows(world, "dead").await.into_iter().next() {
            return row;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{}: no dead status row",
            world.db.label
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_bank_that_went_quiet_after_202_is_asked_and_its_answer_applied() {
    on_each_store("status_request_after_silence", |db| async move {
        let world = World::start(db, quick(Behaviour::Silent)).await;
        assert_eq!(
            world
                .post(&event_json("evt-quiet", "310.00", "Invoice 7"))
                .await
                .0,
            201
        );
        world.wait_all_final(1, WAIT).await;
        assert_eq!(
            world.outcome("evt-quiet").0,
            "settled",
            "{}",
            world.db.label
        );
        assert_eq!(
            path_of(&world, "evt-quiet").await,
            ["received", "routed", "submitted", "sent", "settled"],
            "{}",
            world.db.label
        );
        let stats = world.bank.stats();
        assert_eq!(stats.status_requests, 1, "{}: {stats:?}", world.db.label);
        assert_eq!(stats.callbacks_sent, 0, "the bank never called back");
        assert_eq!(stats.resends, 0, "asked, not resent: {stats:?}");
        let asked = status_requests(&world).await;
        assert_eq!(asked.len(), 1, "{}", world.db.label);
        assert!(asked[0].0.starts_with('Q'), "{asked:?}");
        assert_eq!(asked[0].1.as_deref(), Some("answered with a status report"));
        // The answer to the status request is journaled raw and applied like any pacs.002.
        let mut conn = world.db.store.pool().acquire().await.unwrap();
        let entries = journal::list(&mut conn, None, 100).await.unwrap();
        assert!(
            entries
                .iter()
                .any(|e| e.status == "applied"
                    && e.message_kind.as_deref() == Some("pacs.002.001.10")),
            "{}: {entries:?}",
            world.db.label
        );
        drop(conn);
        world.finish().await
    })
    .await;
}

#[tokio::test]
async fn a_bank_that_lost_the_payment_gets_the_original_again_with_the_same_identifiers() {
    on_each_store("status_request_unknown_payment", |db| async move {
        // The directive stays on the resend: the bank loses only the first copy of a UETR.
        let world = World::start(db, quick(Behaviour::Accept)).await;
        assert_eq!(
            world
                .post(&event_json("evt-lost", "42.00", "Invoice 8 SIM:LOSE"))
                .await
                .0,
            201
        );
        world.wait_all_final(1, WAIT).await;
        assert_eq!(world.bank.stats().lost, 1, "{}", world.db.label);
        assert_eq!(world.outcome("evt-lost").0, "settled", "{}", world.db.label);
        let stats = world.bank.stats();
        assert_eq!(stats.status_requests, 1, "{}: {stats:?}", world.db.label);
        assert_eq!(stats.distinct_uetrs, 1, "{stats:?}");
        // The copy the bank booked is the original: same MsgId as the lost one.
        let ids: Vec<&Vec<String>> = stats.msg_ids_per_uetr.values().collect();
        assert_eq!(ids[0].len(), 1, "{stats:?}");
        let mut conn = world.db.store.pool().acquire().await.unwrap();
        let rows = settlements::list(&mut conn, None, 10).await.unwrap();
        let sent = corridor::store::messages::for_settlement(
            &mut conn,
            &rows[0].settlement.id,
            "pacs.008.001.08",
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(&ids[0][0], &sent.msg_id, "{}", world.db.label);
        assert_eq!(sent.send_count, 2, "{}: sent, then resent", world.db.label);
        drop(conn);
        let asked = status_requests(&world).await;
        assert_eq!(
            asked[0].1.as_deref(),
            Some("HTTP 404: unknown to the bank; original resent"),
            "{}",
            world.db.label
        );
        world.finish().await
    })
    .await;
}

#[tokio::test]
async fn a_bank_that_never_finishes_is_left_to_an_operator_after_the_bound() {
    on_each_store("status_requests_bounded", |db| async move {
        let options = Options {
            // PDNG at once, the final answer ten minutes later: never within the test.
            behaviour: Behaviour::Pending { delay_ms: 600_000 },
            status_request_after_ms: 100,
            status_requests_max: 3,
            ..Options::default()
        };
        let world = World::start(db, options).await;
        assert_eq!(
            world
                .post(&event_json("evt-slow", "9.99", "Invoice 9"))
                .await
                .0,
            201
        );
        let store = world.db.store.clone();
        let dead = dead_status_row(&world).await;
        let error = dead.last_error.unwrap_or_default();
        assert!(
            error.contains("after 3 status requests") && error.contains("MANUAL"),
            "{error}"
        );
        assert_eq!(world.bank.stats().status_requests, 3, "{}", world.db.label);
        assert_eq!(status_requests(&world).await.len(), 3);
        // Still in progress as far as anyone knows: accepted, not guessed final.
        assert_eq!(
            path_of(&world, "evt-slow").await.last().map(String::as_str),
            Some("accepted"),
            "{}",
            world.db.label
        );
        // An operator's replay starts a new round of three.
        let mut conn = store.pool().acquire().await.unwrap();
        assert!(outbox::replay(&mut conn, dead.id).await.unwrap());
        drop(conn);
        world
            .wait_for("a second round", WAIT, |w| {
                w.bank.stats().status_requests == 6
            })
            .await;
        dead_status_row(&world).await;
        // The final answer comes at last (by callback): the dead row is retired with it.
        let sent = sent_for(&world, "evt-slow").await;
        callback(&world, &sent, "ACSC").await;
        world.wait_all_final(1, WAIT).await;
        assert_eq!(world.outcome("evt-slow").0, "settled");
        assert!(
            outbox_rows(&world, "dead").await.is_empty(),
            "{}",
            world.db.label
        );
        world.finish().await
    })
    .await;
}

#[tokio::test]
async fn an_in_progress_status_by_callback_arms_the_status_request_too() {
    on_each_store("status_request_after_callback", |db| async move {
        // The bank books the payment (ACSC) but never answers the send: the gateway's sends
        // time out and are retried, while an ACSP arrives by callback. From then on the
        // payment is accepted, nobody resends it, and only a status request learns the end.
        let options = Options {
            behaviour: Behaviour::Drop,
            bank_timeout_ms: 300,
            attempts_max: 50,
            status_request_after_ms: 150,
            ..Options::default()
        };
        let world = World::start(db, options).await;
        assert_eq!(
            world
                .post(&event_json("evt-acsp", "12.00", "Invoice 10"))
                .await
                .0,
            201
        );
        world
            .wait_for("the bank to book it", WAIT, |w| {
                w.bank.stats().distinct_uetrs == 1
            })
            .await;
        let sent = sent_for(&world, "evt-acsp").await;
        callback(&world, &sent, "ACSP").await;
        world.wait_all_final(1, WAIT).await;
        assert_eq!(world.outcome("evt-acsp").0, "settled", "{}", world.db.label);
        assert!(
            world.bank.stats().status_requests >= 1,
            "{}",
            world.db.label
        );
        assert_eq!(
            path_of(&world, "evt-acsp").await.last().map(String::as_str),
            Some("settled")
        );
        world.finish().await
    })
    .await;
}

#[tokio::test]
async fn a_payment_the_bank_had_acknowledged_is_not_resent_on_a_404() {
    on_each_store("status_request_404_after_ack", |db| async move {
        let options = Options {
            behaviour: Behaviour::Pending { delay_ms: 600_000 },
            status_request_after_ms: 100,
            status_requests_max: 2,
            ..Options::default()
        };
        let world = World::start(db, options).await;
        assert_eq!(
            world
                .post(&event_json("evt-ack", "5.00", "Invoice 11"))
                .await
                .0,
            201
        );
        world
            .wait_for("the PDNG", WAIT, |w| w.bank.stats().answers_sent == 1)
            .await;
        let sent = sent_for(&world, "evt-ack").await;
        // The bank loses its records; it now answers status requests with 404.
        world
            .wait_for("the first status request", WAIT, |w| {
                w.bank.stats().status_requests >= 1
            })
            .await;
        assert!(world.bank.forget(sent.uetr.as_deref().unwrap()));
        dead_status_row(&world).await;
        // Never resent: the bank saw the payment once; the 404 is recorded, not acted on.
        let stats = world.bank.stats();
        assert_eq!(stats.resends, 0, "{}: {stats:?}", world.db.label);
        assert_eq!(
            stats.distinct_uetrs, 0,
            "forgotten, and not booked again: {stats:?}"
        );
        let asked = status_requests(&world).await;
        assert!(
            asked.iter().any(|(_, o)| o.as_deref()
                == Some("HTTP 404 about a payment the bank had acknowledged: not resent")),
            "{}: {asked:?}",
            world.db.label
        );
        assert_eq!(sent_for(&world, "evt-ack").await.send_count, 1);
        assert_eq!(
            path_of(&world, "evt-ack").await.last().map(String::as_str),
            Some("accepted")
        );
        world.finish().await
    })
    .await;
}
