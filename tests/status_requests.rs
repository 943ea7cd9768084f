//! pacs.028 status requests over real sockets (DESIGN.md decision 6): a bank that took a
//! payment and went quiet is asked, not guessed; a bank that lost it gets the original again
//! with the same identifiers; a bank that never finishes is left to an operator after the
//! configured number of requests. On SQLite and on PostgreSQL.

mod common;

use common::world::{Options, World};
use common::{event_json, on_each_store};
use corridor::store::{journal, outbox, settlements};
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
        let deadline = std::time::Instant::now() + WAIT;
        let dead = loop {
            let mut conn = store.pool().acquire().await.unwrap();
            let rows = outbox::list(&mut conn, Some("dead"), 10).await.unwrap();
            if let Some(row) = rows.into_iter().find(|r| r.kind == "status") {
                break row;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{}: no dead status row",
                world.db.label
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
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
        world.finish().await
    })
    .await;
}
