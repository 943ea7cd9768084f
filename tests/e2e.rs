//! End to end over real sockets: ledger → gateway → bank (HTTPS, mutual TLS) → gateway →
//! ledger, on SQLite and on PostgreSQL. Each test checks that every ledger event ends with
//! exactly one final outcome and one write-back, and that the bank saw one UETR per settlement.

mod common;

use common::world::{Options, World, OPERATOR_TOKEN};
use common::{event_json, on_each_store};
use corridor::domain::SettlementId;
use corridor::store::{journal, messages, settlements};
use sim::bank::Behaviour;
use std::collections::HashSet;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(30);

/// One UETR per settlement at the bank, and one MsgId per UETR however often it was sent.
fn assert_bank_saw_one_uetr_each(world: &World, settlements: usize) {
    let stats = world.bank.stats();
    assert_eq!(
        stats.distinct_uetrs, settlements,
        "{}: {stats:?}",
        world.db.label
    );
    for (uetr, ids) in &stats.msg_ids_per_uetr {
        let distinct: HashSet<_> = ids.iter().collect();
        assert_eq!(
            distinct.len(),
            1,
            "{}: UETR {uetr} sent with MsgIds {ids:?}",
            world.db.label
        );
    }
}

#[tokio::test]
async fn happy_path_reject_and_duplicate_events() {
    on_each_store("happy_path_reject_and_duplicate_events", |db| async move {
        // The bank answers in the HTTP response: the test steps the engine, no waiting.
        let options = Options {
            workers: false,
            ..Options::default()
        };
        let world = World::start(db, options).await;
        let (status, body) = world
            .post(&event_json("evt-ok", "1234.50", "Invoice 1"))
            .await;
        assert_eq!(status, 201, "{body}");
        let first_id = body["settlement_id"].as_str().unwrap().to_string();
        let (status, body) = world
            .post(&event_json("evt-rj", "10.00", "SIM:REJECT:AC04"))
            .await;
        assert_eq!(status, 201, "{body}");

        // The same event again: 200 with the same settlement; other content: 409.
        let (status, body) = world
            .post(&event_json("evt-ok", "1234.50", "Invoice 1"))
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["settlement_id"], first_id.as_str());
        let (status, body) = world
            .post(&event_json("evt-ok", "1234.51", "Invoice 1"))
            .await;
        assert_eq!(status, 409, "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("other content"),
            "{body}"
        );

        world.step_all_final(2).await;
        assert_eq!(world.outcome("evt-ok"), ("settled".into(), None));
        assert_eq!(
            world.outcome("evt-rj"),
            ("rejected".into(), Some("AC04".into()))
        );
        assert_bank_saw_one_uetr_each(&world, 2);
        // A bank that offers HTTP/1.1 only is spoken to in it.
        let stats = world.bank.stats();
        assert_eq!(stats.connections_http2, 0, "{stats:?}");
        assert!(stats.connections_http1 >= 1, "{stats:?}");
        let w = world
            .ledger
            .outcome(corridor::demo::LEDGER, "evt-ok")
            .unwrap();
        assert_eq!(w.amount.as_deref(), Some("1234.50"));

        // The audit trail of the settled one, and the identifiers the bank saw.
        let mut conn = world.db.store.pool().acquire().await.unwrap();
        let sid = SettlementId::parse(&first_id).unwrap();
        let path: Vec<String> = settlements::transitions(&mut conn, &sid)
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.to)
            .collect();
        assert_eq!(
            path,
            ["received", "routed", "submitted", "sent", "settled"],
            "{}",
            world.db.label
        );
        let sent = messages::for_settlement(&mut conn, &sid, "pacs.008.001.08")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(sent.end_to_end_id.as_deref(), Some(first_id.as_str()));
        assert!(
            world.bank.stats().msg_ids_per_uetr[sent.uetr.as_deref().unwrap()]
                .contains(&sent.msg_id)
        );
        drop(conn);
        world.finish().await
    })
    .await;
}

#[tokio::test]
async fn bank_answering_twice_changes_nothing() {
    on_each_store("bank_answering_twice_changes_nothing", |db| async move {
        let world = World::start(db, Options::default()).await;
        assert_eq!(
            world
                .post(&event_json("evt-2x", "50.00", "SIM:TWICE"))
                .await
                .0,
            201
        );
        world.wait_all_final(1, WAIT).await;
        world
            .wait_for("the second answer", WAIT, |w| {
                w.bank.stats().callbacks_sent >= 1
            })
            .await;
        // The copy is journaled as a duplicate and does not write back again.
        let mut seen = false;
        for _ in 0..200 {
            let mut conn = world.db.store.pool().acquire().await.unwrap();
            let dups = journal::list(&mut conn, Some(journal::Status::Duplicate), 10)
                .await
                .unwrap();
            if dups.iter().any(|e| e.channel == "bank-callback") {
                seen = true;
                break;
            }
            drop(conn);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            seen,
            "{}: second pacs.002 journaled as duplicate",
            world.db.label
        );
        assert_eq!(world.outcome("evt-2x").0, "settled");
        assert_eq!(
            world.ledger.stats().deliveries,
            1,
            "{}: one write-back",
            world.db.label
        );
        assert_bank_saw_one_uetr_each(&world, 1);
        world.finish().await
    })
    .await;
}

#[tokio::test]
async fn late_answer_is_resent_with_the_same_identifiers() {
    on_each_store("late_answer_is_resent", |db| async move {
        let options = Options {
            bank_timeout_ms: 300,
            ..Options::default()
        };
        let world = World::start(db, options).await;
        assert_eq!(
            world
                .post(&event_json("evt-late", "75.00", "SIM:LATE:1200"))
                .await
                .0,
            201
        );
        world.wait_all_final(1, WAIT).await;
        assert_eq!(world.outcome("evt-late").0, "settled");
        let stats = world.bank.stats();
        assert_eq!(stats.resends, 1, "{}: {stats:?}", world.db.label);
        assert_bank_saw_one_uetr_each(&world, 1);
        let mut conn = world.db.store.pool().acquire().await.unwrap();
        let rows = settlements::list(&mut conn, None, 10).await.unwrap();
        let sent = messages::for_settlement(&mut conn, &rows[0].settlement.id, "pacs.008.001.08")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(sent.send_count, 2, "{}", world.db.label);
        drop(conn);
        world.finish().await
    })
    .await;
}

#[tokio::test]
async fn asynchronous_and_pending_answers_arrive_by_callback() {
    on_each_store("asynchronous_and_pending_answers", |db| async move {
        let world = World::start(
            db,
            Options {
                behaviour: Behaviour::AcceptAsync { delay_ms: 50 },
                ..Options::default()
            },
        )
        .await;
        assert_eq!(
            world
                .post(&event_json("evt-async", "20.00", "Invoice"))
                .await
                .0,
            201
        );
        assert_eq!(
            world
                .post(&event_json("evt-pdng", "21.00", "SIM:PENDING:100"))
                .await
                .0,
            201
        );
        world.wait_all_final(2, WAIT).await;
        assert_eq!(world.outcome("evt-async").0, "settled");
        assert_eq!(world.outcome("evt-pdng").0, "settled");
        let mut conn = world.db.store.pool().acquire().await.unwrap();
        let rows = settlements::list(&mut conn, None, 10).await.unwrap();
        for row in rows {
            let path: Vec<String> = settlements::transitions(&mut conn, &row.settlement.id)
                .await
                .unwrap()
                .into_iter()
                .map(|t| t.to)
                .collect();
            let expected: &[&str] = if row.settlement.event_id == "evt-pdng" {
                &[
                    "received",
                    "routed",
                    "submitted",
                    "sent",
                    "accepted",
                    "settled",
                ]
            } else {
                &["received", "routed", "submitted", "sent", "settled"]
            };
            assert_eq!(path, expected, "{}", world.db.label);
        }
        drop(conn);
        world.finish().await
    })
    .await;
}

#[tokio::test]
async fn gateway_killed_between_send_and_answer_resumes_without_double_payment() {
    on_each_store("gateway_killed_between_send_and_answer", |db| async move {
        // The lease outlives one send (config check), and both are short so that the
        // restarted instance takes the row over quickly.
        let options = Options {
            lease_ms: 500,
            bank_timeout_ms: 450,
            switch_timeout_ms: 450,
            ..Options::default()
        };
        let mut world = World::start(db, options).await;
        assert_eq!(
            world
                .post(&event_json("evt-crash", "999.99", "SIM:LATE:1500"))
                .await
                .0,
            201
        );
        // The bank has the message and is about to answer: the gateway dies now.
        world
            .wait_for("the bank to receive the pacs.008", WAIT, |w| {
                w.bank.stats().messages_received >= 1
            })
            .await;
        world.crash_and_restart().await;
        world.wait_all_final(1, WAIT).await;
        assert_eq!(world.outcome("evt-crash").0, "settled");
        assert_eq!(world.ledger.stats().recorded, 1);
        let stats = world.bank.stats();
        assert!(
            stats.messages_received >= 2,
            "{}: resent after the restart: {stats:?}",
            world.db.label
        );
        assert_bank_saw_one_uetr_each(&world, 1);
        world.finish().await
    })
    .await;
}

#[tokio::test]
async fn dead_letter_then_operator_replay() {
    on_each_store("dead_letter_then_operator_replay", |db| async move {
        let options = Options {
            bank_timeout_ms: 200,
            attempts_max: 2,
            behaviour: Behaviour::Drop,
            ..Options::default()
        };
        let world = World::start(db, options).await;
        assert_eq!(
            world
                .post(&event_json("evt-dead", "5.00", "Invoice"))
                .await
                .0,
            201
        );
        let mut dead_id = None;
        for _ in 0..500 {
            let mut conn = world.db.store.pool().acquire().await.unwrap();
            let dead = corridor::store::outbox::list(
                &mut conn,
                Some(corridor::store::outbox::Status::Dead),
                10,
            )
            .await
            .unwrap();
            drop(conn);
            if let Some(row) = dead.first() {
                assert!(
                    row.last_error
                        .as_deref()
                        .unwrap_or("")
                        .contains("no answer"),
                    "{row:?}"
                );
                dead_id = Some(row.id);
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let dead_id = dead_id.expect("row goes dead after two attempts");
        assert_eq!(
            world.ledger.stats().recorded,
            0,
            "an ambiguous send is not guessed"
        );
        // The bank recovers; an operator replays the row through the API.
        world.bank.set_default(Behaviour::Accept);
        let url = world.url(&format!("/v1/outbox/{dead_id}/replay"));
        let refused = world.http.post(&url).send().await.unwrap();
        assert_eq!(refused.status(), 401);
        let replayed = world
            .http
            .post(&url)
            .bearer_auth(OPERATOR_TOKEN)
            .send()
            .await
            .unwrap();
        assert_eq!(replayed.status(), 200, "{}", replayed.text().await.unwrap());
        world.wait_all_final(1, WAIT).await;
        assert_eq!(world.outcome("evt-dead").0, "settled");
        assert_bank_saw_one_uetr_each(&world, 1);
        world.finish().await
    })
    .await;
}

#[tokio::test]
async fn unroutable_settlement_is_final_and_written_back() {
    on_each_store("unroutable_settlement", |db| async move {
        let options = Options {
            workers: false,
            ..Options::default()
        };
        let world = World::start(db, options).await;
        // No route takes ZAR.
        let mut event = event_json("evt-zar", "500.00", "school fees");
        event["currency"] = "ZAR".into();
        event["creditor"]["account"] =
            serde_json::json!({"other": "62001234567", "scheme": "BBAN"});
        let (status, body) = world.post(&event).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["state"], "unroutable");
        world.step_all_final(1).await;
        assert_eq!(
            world.outcome("evt-zar"),
            ("unroutable".into(), Some("NOROUTE".into()))
        );
        assert_eq!(world.bank.stats().messages_received, 0);
        world.finish().await
    })
    .await;
}

/// The gateway offers HTTP/2 and HTTP/1.1 and speaks what the bank picks: to a bank that
/// offers HTTP/2, every message goes over HTTP/2 (settlements sent at once share its
/// connections as streams), with the same outcomes as over HTTP/1.1 (the other tests' bank
/// offers HTTP/1.1 only, and `happy_path_reject_and_duplicate_events` checks it was used).
#[tokio::test]
async fn a_bank_that_offers_http2_is_spoken_to_in_http2() {
    on_each_store("bank_http2", |db| async move {
        let options = Options {
            bank_http2: true,
            ..Options::default()
        };
        let world = World::start(db, options).await;
        let posts = (0..24).map(|i| {
            let memo = if i % 6 == 5 {
                "SIM:REJECT:AC04"
            } else {
                "Invoice"
            };
            event_json(&format!("evt-h2-{i}"), &format!("{}.25", 10 + i), memo)
        });
        let posts: Vec<_> = posts.collect();
        for (status, body) in futures::future::join_all(posts.iter().map(|e| world.post(e))).await {
            assert_eq!(status, 201, "{body}");
        }
        world.wait_all_final(24, WAIT).await;
        for i in 0..24 {
            let (state, _) = world.outcome(&format!("evt-h2-{i}"));
            let expected = if i % 6 == 5 { "rejected" } else { "settled" };
            assert_eq!(state, expected, "{}: evt-h2-{i}", world.db.label);
        }
        let stats = world.bank.stats();
        assert!(stats.connections_http2 >= 1, "{stats:?}");
        assert_eq!(stats.connections_http1, 0, "{stats:?}");
        assert_eq!(stats.messages_received, 24, "{stats:?}");
        assert_bank_saw_one_uetr_each(&world, 24);
        world.finish().await
    })
    .await;
}

/// A ledger that takes outcomes in batches (`callback_batch_url`) gets them in batches: a
/// slow answer makes the outcomes that come meanwhile queue and go together in the next
/// batch. An outcome the ledger refuses inside a batch is retried on its own account, and
/// every event ends with exactly one outcome at the ledger and its settlement written back.
#[tokio::test]
async fn outcomes_go_in_batches_to_a_ledger_that_takes_them() {
    on_each_store("ledger_batches", |db| async move {
        let options = Options {
            ledger_batches: true,
            extra_env: vec![("CORRIDOR__WRITEBACK__BATCHES_IN_FLIGHT_MAX", "1".into())],
            ..Options::default()
        };
        let world = World::start(db, options).await;
        world.ledger.delay_batch_answers(Duration::from_millis(300));
        world.ledger.fail_next(3);
        let n = 30;
        let posts: Vec<_> = (0..n)
            .map(|i| {
                let memo = if i % 5 == 4 {
                    "SIM:REJECT:AC04"
                } else {
                    "Invoice"
                };
                event_json(&format!("evt-wb-{i}"), &format!("{}.10", 20 + i), memo)
            })
            .collect();
        for (status, body) in futures::future::join_all(posts.iter().map(|e| world.post(e))).await {
            assert_eq!(status, 201, "{body}");
        }
        world.wait_all_final(n as i64, WAIT).await;
        let stats = world.ledger.stats();
        assert_eq!(stats.recorded, n, "{stats:?}");
        assert_eq!(
            stats.failed_on_purpose, 3,
            "refused in a batch, then retried: {stats:?}"
        );
        assert_eq!(stats.conflicting_duplicates, 0, "{stats:?}");
        assert_eq!(
            stats.deliveries, stats.batched,
            "no outcome posted alone: {stats:?}"
        );
        assert!(
            stats.largest_batch >= 2,
            "outcomes queued behind a slow answer go together: {stats:?}"
        );
        assert!(stats.batches < n, "{stats:?}");
        for i in 0..n {
            let (outcome, _) = world.outcome(&format!("evt-wb-{i}"));
            let expected = if i % 5 == 4 { "rejected" } else { "settled" };
            assert_eq!(outcome, expected, "evt-wb-{i}");
        }
        assert_bank_saw_one_uetr_each(&world, n as usize);
        world.finish().await
    })
    .await;
}

#[tokio::test]
async fn a_batch_is_answered_per_event() {
    on_each_store("a_batch_is_answered_per_event", |db| async move {
        let options = Options {
            workers: false,
            ..Options::default()
        };
        let world = World::start(db, options).await;
        let mut bad = event_json("evt-b3", "1.001", "x");
        bad["currency"] = "EUR".into();
        let batch = serde_json::json!([
            event_json("evt-b1", "1.00", "a"),
            event_json("evt-b2", "2.00", "b"),
            bad,
            event_json("evt-b1", "1.00", "a")
        ]);
        let outcome = world
            .poster
            .post_raw(serde_json::to_vec(&batch).unwrap())
            .await
            .unwrap();
        assert_eq!(outcome.status, 200);
        let body = outcome.json().unwrap();
        let statuses: Vec<u64> = body["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["status"].as_u64().unwrap())
            .collect();
        assert_eq!(statuses, [201, 201, 422, 200], "{body}");
        assert_eq!(body["results"][2]["error"]["field"], "amount");
        world.step_all_final(2).await;
        world.finish().await
    })
    .await;
}

#[tokio::test]
async fn a_group_status_rejection_applies_to_its_only_transaction() {
    on_each_store("group_status_rejection", |db| async move {
        // The bank takes the message (202) and answers much later; meanwhile it sends a
        // pacs.002 with only a group status naming our MsgId.
        let options = Options { behaviour: Behaviour::AcceptAsync { delay_ms: 60_000 }, ..Options::default() };
        let world = World::start(db, options).await;
        let (_, body) = world.post(&event_json("evt-grp", "30.00", "Invoice")).await;
        let sid = SettlementId::parse(body["settlement_id"].as_str().unwrap()).unwrap();
        world.wait_for("the bank to take the message", WAIT, |w| w.bank.stats().messages_received >= 1).await;
        let mut conn = world.db.store.pool().acquire().await.unwrap();
        let sent = messages::for_settlement(&mut conn, &sid, "pacs.008.001.08").await.unwrap().unwrap();
        drop(conn);
        let xml = format!(
            r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"><FIToFIPmtStsRpt>
<GrpHdr><MsgId>GRP-1</MsgId><CreDtTm>2026-11-25T10:00:00+00:00</CreDtTm></GrpHdr>
<OrgnlGrpInfAndSts><OrgnlMsgId>{}</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId><GrpSts>RJCT</GrpSts>
<StsRsnInf><Rsn><Cd>FF01</Cd></Rsn></StsRsnInf></OrgnlGrpInfAndSts>
</FIToFIPmtStsRpt></Document>"#,
            sent.msg_id
        );
        let url = world.url(&format!("/v1/banks/{}/messages", corridor::demo::BANK_ID));
        let signature = webhook::sign(corridor::demo::BANK_CALLBACK_SECRET.as_bytes(), corridor::api::unix_now(), xml.as_bytes());
        let response = world.http.post(&url).header(webhook::SIGNATURE_HEADER, signature).body(xml).send().await.unwrap();
        assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
        world.wait_all_final(1, WAIT).await;
        assert_eq!(world.outcome("evt-grp"), ("rejected".into(), Some("FF01".into())));
        world.finish().await
    })
    .await;
}

/// A pacs.004 from the bank: for a payment still in progress it ends the settlement
/// `returned` with the return reason; for one already settled (and written back as settled)
/// it corrects the outcome to `returned` once, with a correction write-back of its own; the
/// same pacs.004 again changes nothing.
#[tokio::test]
async fn a_pacs004_returns_a_payment_and_corrects_a_settled_one_once() {
    on_each_store("pacs004_return", |db| async move {
        let world = World::start(db, Options::default()).await;
        let (_, body) = world.post(&event_json("evt-ret", "41.00", "Invoice 9")).await;
        let sid = SettlementId::parse(body["settlement_id"].as_str().unwrap()).unwrap();
        world.wait_all_final(1, WAIT).await;
        assert_eq!(world.outcome("evt-ret").0, "settled");
        world.bank_returns(&sid, 2).await;
        world
            .wait_for("the correction write-back", WAIT, |w| w.ledger.correction(sid.as_str()).is_some())
            .await;
        let mut conn = world.db.store.pool().acquire().await.unwrap();
        let record = settlements::get(&mut conn, &sid).await.unwrap().unwrap();
        assert_eq!(record.state.as_str(), "returned");
        assert_eq!(record.reason_code.as_deref(), Some("AC04"));
        let entries = journal::list(&mut conn, None, 50).await.unwrap();
        let returns: Vec<_> = entries
            .iter()
            .filter(|e| e.message_kind.as_deref() == Some("pacs.004.001.09"))
            .map(|e| e.status)
            .collect();
        assert_eq!(returns, vec![journal::Status::Duplicate, journal::Status::Applied], "{entries:?}");
        let corrections: i64 = sqlx::Row::try_get(
            &sqlx::query("SELECT COUNT(*) AS n FROM settlement_transitions WHERE settlement_id = $1 AND cause = 'pacs.004 return (correction)'")
                .bind(sid.as_str())
                .fetch_one(&mut *conn)
                .await
                .unwrap(),
            "n",
        )
        .unwrap();
        assert_eq!(corrections, 1);
        drop(conn);
        let correction = world.ledger.correction(sid.as_str()).unwrap();
        assert_eq!(correction.outcome, "returned");
        // The first outcome stays what the ledger was told: settled, once.
        assert_eq!(world.outcome("evt-ret").0, "settled");
        world.finish().await
    })
    .await;
}
