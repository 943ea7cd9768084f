//! The store on both databases: keys, transitions, outbox leases, journal, messages.

mod common;

use common::{on_each_store, settlement, TestDb};
use corridor::domain::SettlementState::{self, *};
use corridor::store::journal::{self, Channel, Status};
use corridor::store::outbox::{self, Kind, Retry};
use corridor::store::settlements::{self, Change, Inserted, Transitioned};
use corridor::store::{messages, now_ms};
use sqlx::Row;

fn change(cause: &str) -> Change<'_> {
    Change {
        cause,
        ..Default::default()
    }
}

async fn walk(db: &TestDb, s: &corridor::domain::Settlement, path: &[SettlementState]) {
    let mut tx = db.store.begin().await.unwrap();
    for to in path {
        let moved = settlements::transition(&mut tx, &s.id, *to, &change("test"))
            .await
            .unwrap();
        assert!(
            matches!(moved, Transitioned::Moved { .. }),
            "{} -> {to}: {moved:?}",
            db.label
        );
    }
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn event_key_is_unique_and_reports_the_existing_row() {
    on_each_store("event_key_is_unique", |db| async move {
        let s = settlement("evt-1");
        let mut tx = db.store.begin().await.unwrap();
        let first = settlements::insert_received(&mut tx, &s, "hash-a", "intake", None)
            .await
            .unwrap();
        assert!(matches!(first, Inserted::Created));
        let mut again = settlement("evt-1");
        again.id = corridor::domain::SettlementId::new();
        match settlements::insert_received(&mut tx, &again, "hash-b", "intake", None)
            .await
            .unwrap()
        {
            Inserted::Existing {
                id,
                state,
                content_hash,
            } => {
                assert_eq!(id, s.id, "{}", db.label);
                assert_eq!(state, Received);
                assert_eq!(content_hash, "hash-a");
            }
            other => panic!("{}: {other:?}", db.label),
        }
        tx.commit().await.unwrap();
        let mut conn = db.store.pool().acquire().await.unwrap();
        let read = settlements::get(&mut conn, &s.id).await.unwrap().unwrap();
        assert_eq!(read.settlement, s, "{}: read back equals written", db.label);
        assert!(settlements::get(&mut conn, &again.id)
            .await
            .unwrap()
            .is_none());
        drop(conn);
        db
    })
    .await;
}

#[tokio::test]
async fn transitions_follow_the_table_and_final_states_enqueue_one_writeback() {
    on_each_store("transitions_follow_the_table", |db| async move {
        let s = settlement("evt-2");
        let mut tx = db.store.begin().await.unwrap();
        settlements::insert_received(&mut tx, &s, "h", "intake", None)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        walk(&db, &s, &[Routed, Submitted, Sent]).await;

        let mut tx = db.store.begin().await.unwrap();
        // Going back is refused and changes nothing.
        let back = settlements::transition(&mut tx, &s.id, Submitted, &change("test"))
            .await
            .unwrap();
        assert!(matches!(back, Transitioned::Illegal(_)), "{}", db.label);
        let settle = Change {
            cause: "pacs.002 ACSC",
            inbound_id: Some(7),
            ..Default::default()
        };
        assert!(matches!(
            settlements::transition(&mut tx, &s.id, Settled, &settle)
                .await
                .unwrap(),
            Transitioned::Moved { from: Sent }
        ));
        assert_eq!(
            settlements::transition(&mut tx, &s.id, Settled, &settle)
                .await
                .unwrap(),
            Transitioned::AlreadyThere
        );
        let reject = settlements::transition(&mut tx, &s.id, Rejected, &change("late RJCT"))
            .await
            .unwrap();
        assert!(matches!(reject, Transitioned::Illegal(_)));
        tx.commit().await.unwrap();

        let mut conn = db.store.pool().acquire().await.unwrap();
        let record = settlements::get(&mut conn, &s.id).await.unwrap().unwrap();
        assert_eq!(record.state, Settled);
        assert!(record.final_at_ms.is_some());
        let audit = settlements::transitions(&mut conn, &s.id).await.unwrap();
        let path: Vec<_> = audit.iter().map(|t| t.to.as_str()).collect();
        assert_eq!(
            path,
            ["received", "routed", "submitted", "sent", "settled"],
            "{}",
            db.label
        );
        assert_eq!(audit.last().unwrap().inbound_id, Some(7));
        let rows = outbox::list(&mut conn, None, 100).await.unwrap();
        let writebacks: Vec<_> = rows.iter().filter(|r| r.kind == "writeback").collect();
        assert_eq!(
            writebacks.len(),
            1,
            "{}: exactly one write-back job",
            db.label
        );
        drop(conn);
        db
    })
    .await;
}

async fn queued(db: &TestDb, event: &str) -> corridor::domain::Settlement {
    let s = settlement(event);
    let mut tx = db.store.begin().await.unwrap();
    settlements::insert_received(&mut tx, &s, "h", "intake", None)
        .await
        .unwrap();
    outbox::enqueue(&mut tx, Kind::Deliver, &s.id, now_ms())
        .await
        .unwrap();
    outbox::enqueue(&mut tx, Kind::Deliver, &s.id, now_ms())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    s
}

#[tokio::test]
async fn leases_exclude_other_workers_until_they_expire() {
    on_each_store("leases_exclude_other_workers", |db| async move {
        let s = queued(&db, "evt-3").await;
        let now = now_ms();
        let jobs = outbox::claim(&db.store, "w1", now, 1000, 10).await.unwrap();
        assert_eq!(jobs.len(), 1, "{}: one row despite two enqueues", db.label);
        assert_eq!(jobs[0].settlement_id, s.id);
        assert_eq!(jobs[0].attempts, 1);
        assert!(outbox::claim(&db.store, "w2", now + 999, 1000, 10)
            .await
            .unwrap()
            .is_empty());
        // w1 died: after its lease ran out, w2 takes the row over, and w1 can no longer finish
        // it. (PostgreSQL looks for expired leases at most every `EXPIRED_CHECK_MS`.)
        let after = now + 1000 + outbox::EXPIRED_CHECK_MS;
        let taken = outbox::claim(&db.store, "w2", after, 1000, 10)
            .await
            .unwrap();
        assert_eq!(taken.len(), 1);
        assert_eq!(taken[0].attempts, 2);
        let mut conn = db.store.pool().acquire().await.unwrap();
        assert!(
            !outbox::complete(&mut conn, &jobs[0], "w1").await.unwrap(),
            "{}: stale owner",
            db.label
        );
        assert!(outbox::complete(&mut conn, &taken[0], "w2").await.unwrap());
        assert!(outbox::is_idle(&mut conn).await.unwrap());
        drop(conn);
        db
    })
    .await;
}

/// A claim takes the earliest due rows first, by due time, whether they are pending or their
/// lease ran out, up to its limit; the next claim takes the rest.
#[tokio::test]
async fn claims_take_due_rows_and_expired_leases_in_due_order() {
    on_each_store("claims_in_due_order", |db| async move {
        let t0 = now_ms() - 1_000_000;
        let mut named = std::collections::HashMap::new();
        let mut enqueue = |jobs: &[(&'static str, i64)]| {
            let store = db.store.clone();
            let jobs: Vec<_> = jobs
                .iter()
                .map(|&(name, due)| {
                    let s = settlement(&format!("order-{name}"));
                    named.insert(s.id.as_str().to_string(), (due, name));
                    (s, due)
                })
                .collect();
            async move {
                let mut tx = store.begin().await.unwrap();
                for (s, due) in jobs {
                    settlements::insert_received(&mut tx, &s, "h", "intake", None)
                        .await
                        .unwrap();
                    outbox::enqueue(&mut tx, Kind::Deliver, &s.id, t0 + due)
                        .await
                        .unwrap();
                }
                tx.commit().await.unwrap();
            }
        };
        // A and B are claimed, and their lease runs out at t0 + 25.
        enqueue(&[("A", 10), ("B", 20)]).await;
        let first = outbox::claim(&db.store, "gone", t0 + 20, 5, 10)
            .await
            .unwrap();
        assert_eq!(first.len(), 2, "{}", db.label);
        enqueue(&[("C", 5), ("D", 15), ("E", 30), ("F", 40)]).await;
        // The jobs' names, in due order.
        let names = |jobs: &[outbox::Job]| -> Vec<&str> {
            let mut due: Vec<(i64, &str)> = jobs
                .iter()
                .map(|j| named[j.settlement_id.as_str()])
                .collect();
            due.sort();
            due.into_iter().map(|(_, name)| name).collect()
        };
        // Later than every due time and every lease (and, on PostgreSQL, than the next look
        // for expired leases).
        let later = t0 + 10_000;
        let next = outbox::claim(&db.store, "w", later, 1000, 4).await.unwrap();
        assert_eq!(names(&next), ["C", "A", "D", "B"], "{}", db.label);
        for job in &next {
            let twice = matches!(named[job.settlement_id.as_str()].1, "A" | "B");
            assert_eq!(job.attempts, if twice { 2 } else { 1 }, "{}", db.label);
        }
        let rest = outbox::claim(&db.store, "w", later, 1000, 4).await.unwrap();
        assert_eq!(names(&rest), ["E", "F"], "{}", db.label);
        db
    })
    .await;
}

#[tokio::test]
async fn failures_back_off_then_go_dead_and_can_be_replayed() {
    on_each_store("failures_back_off_then_dead", |db| async move {
        queued(&db, "evt-4").await;
        // SQLite runs on one connection: take it only between claims.
        let store = db.store.clone();
        let fail = |job: outbox::Job, now: i64| {
            let store = store.clone();
            async move {
                let mut conn = store.pool().acquire().await.unwrap();
                outbox::fail(&mut conn, &job, "w", "timeout", 3, 5_000, now)
                    .await
                    .unwrap()
            }
        };
        let mut now = now_ms();
        for attempt in 1..=3 {
            let jobs = outbox::claim(&db.store, "w", now, 1000, 10).await.unwrap();
            assert_eq!(jobs.len(), 1, "{}: attempt {attempt}", db.label);
            let retry = fail(jobs[0].clone(), now).await;
            if attempt < 3 {
                assert!(matches!(retry, Retry::At(_)));
                // Not due before the backoff has passed.
                assert!(outbox::claim(&db.store, "w", now + 10, 1000, 10)
                    .await
                    .unwrap()
                    .is_empty());
                now += 60_000;
            } else {
                assert_eq!(retry, Retry::Dead);
            }
        }
        assert!(outbox::claim(&db.store, "w", now + 10_000_000, 1000, 10)
            .await
            .unwrap()
            .is_empty());
        let mut conn = db.store.pool().acquire().await.unwrap();
        let dead = outbox::list(&mut conn, Some(outbox::Status::Dead), 10)
            .await
            .unwrap();
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].last_error.as_deref(), Some("timeout"));
        assert!(outbox::replay(&mut conn, dead[0].id).await.unwrap());
        drop(conn);
        let again = outbox::claim(&db.store, "w", now_ms(), 1000, 10)
            .await
            .unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].attempts, 1, "replay gives a fresh budget");
        let mut conn = db.store.pool().acquire().await.unwrap();
        assert!(!outbox::replay(&mut conn, 999_999).await.unwrap());
        drop(conn);
        db
    })
    .await;
}

#[tokio::test]
async fn concurrent_claimers_never_share_a_row() {
    on_each_store("concurrent_claimers", |db| async move {
        for i in 0..40 {
            queued(&db, &format!("evt-c{i}")).await;
        }
        let now = now_ms();
        let claimers = (0..4).map(|w| {
            let store = db.store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let jobs = outbox::claim(&store, &format!("w{w}"), now, 60_000, 3)
                        .await
                        .unwrap();
                    if jobs.is_empty() {
                        return mine;
                    }
                    mine.extend(jobs.into_iter().map(|j| j.id));
                }
            })
        });
        let mut all: Vec<i64> = Vec::new();
        for handle in claimers {
            all.extend(handle.await.unwrap());
        }
        let total = all.len();
        all.sort();
        all.dedup();
        assert_eq!(total, 40, "{}: every row claimed", db.label);
        assert_eq!(all.len(), 40, "{}: no row claimed twice", db.label);
        db
    })
    .await;
}

#[tokio::test]
async fn refused_entries_expire_by_age_and_by_bytes_and_authenticated_ones_never() {
    on_each_store("refused_entries_expire", |db| async move {
        let refuse = |body: &'static [u8]| journal::Refusal {
            channel: Channel::BankCallback,
            source: Some("b1"),
            content_type: None,
            headers: Some("{}"),
            body,
            prefix_bytes_max: 100,
            reason: "bad signature",
        };
        let kept = journal::record(
            &db.store,
            Channel::BankCallback,
            Some("b1"),
            None,
            b"<signed/>",
            journal::AuthenticatedBy::Signature,
        )
        .await
        .unwrap();
        let mut ids = Vec::new();
        for _ in 0..5 {
            ids.push(
                journal::record_refused(&db.store, &refuse(&[b'a'; 300]))
                    .await
                    .unwrap(),
            );
        }
        let mut conn = db.store.pool().acquire().await.unwrap();
        // Each keeps its first 100 bytes: 500 in all. Nothing is old enough yet.
        let none = journal::expire_refused(&mut conn, 0, 10_000).await.unwrap();
        assert_eq!(
            none,
            journal::Expired {
                deleted: 0,
                bytes_kept: 500
            },
            "{}",
            db.label
        );
        // Past the retention age: gone, whatever the budget.
        sqlx::query("UPDATE inbound_journal SET received_at_ms = 5 WHERE id = $1")
            .bind(ids[4])
            .execute(&mut *conn)
            .await
            .unwrap();
        let by_age = journal::expire_refused(&mut conn, 10, 10_000)
            .await
            .unwrap();
        assert_eq!(
            by_age,
            journal::Expired {
                deleted: 1,
                bytes_kept: 400
            },
            "{}",
            db.label
        );
        // Over a 250-byte budget the oldest go first, just enough of them to fit.
        let by_bytes = journal::expire_refused(&mut conn, 10, 250).await.unwrap();
        assert_eq!(
            by_bytes,
            journal::Expired {
                deleted: 2,
                bytes_kept: 200
            },
            "{}",
            db.label
        );
        let gone: Vec<i64> = journal::list(&mut conn, Some(Status::Rejected), 10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(gone, [ids[3], ids[2]], "{}: the two newest stay", db.label);
        let everything = journal::expire_refused(&mut conn, i64::MAX, 0)
            .await
            .unwrap();
        assert_eq!(
            everything,
            journal::Expired {
                deleted: 2,
                bytes_kept: 0
            }
        );
        let left = journal::get(&mut conn, kept).await.unwrap().unwrap();
        assert_eq!(
            left.raw, b"<signed/>",
            "{}: authenticated entries stay",
            db.label
        );
        assert_eq!(
            left.authenticated_by,
            Some(journal::AuthenticatedBy::Signature)
        );
        drop(conn);
        db
    })
    .await;
}

#[tokio::test]
async fn journal_keeps_raw_bytes_exactly() {
    on_each_store("journal_keeps_raw_bytes", |db| async move {
        let raw: Vec<u8> = vec![0, 159, 146, 150, b'<', b'x', b'>', 255];
        let id = journal::record(
            &db.store,
            Channel::BankCallback,
            Some("b1"),
            Some("application/xml"),
            &raw,
            journal::AuthenticatedBy::Signature,
        )
        .await
        .unwrap();
        let mut conn = db.store.pool().acquire().await.unwrap();
        journal::mark(
            &mut conn,
            id,
            Status::Unmatched,
            &journal::Outcome {
                detail: Some("no such UETR"),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let entry = journal::get(&mut conn, id).await.unwrap().unwrap();
        assert_eq!(entry.raw, raw, "{}", db.label);
        assert_eq!(entry.status, "unmatched");
        assert_eq!(entry.channel, "bank-callback");
        let unmatched = journal::list(&mut conn, Some(Status::Unmatched), 10)
            .await
            .unwrap();
        assert_eq!(unmatched.len(), 1);
        drop(conn);
        db
    })
    .await;
}

#[tokio::test]
async fn outbound_identifiers_are_unique_and_findable() {
    on_each_store("outbound_identifiers", |db| async move {
        let s = settlement("evt-5");
        let message = messages::Outbound {
            settlement_id: s.id.clone(),
            rail: corridor::domain::Rail::Bank,
            counterparty: "b1".into(),
            kind: "pacs.008.001.08".into(),
            msg_id: "M1".into(),
            biz_msg_idr: "M1".into(),
            instr_id: Some("I1".into()),
            end_to_end_id: Some(s.id.to_string()),
            tx_id: Some("T1".into()),
            uetr: Some("eb6305c9-1f7f-49de-aed0-16487c27b42d".into()),
            body: b"<xml/>".to_vec(),
            send_count: 0,
            stan: None,
            rrn: None,
            transmitted_at: None,
        };
        let mut tx = db.store.begin().await.unwrap();
        settlements::insert_received(&mut tx, &s, "h", "intake", None)
            .await
            .unwrap();
        messages::insert(&mut tx, &message).await.unwrap();
        tx.commit().await.unwrap();
        let mut conn = db.store.pool().acquire().await.unwrap();
        let by_uetr = messages::find_by_reference(&mut conn, message.uetr.as_deref(), None, None)
            .await
            .unwrap();
        assert_eq!(by_uetr.as_ref(), Some(&message), "{}", db.label);
        let by_ids = messages::find_by_reference(&mut conn, None, Some("M1"), Some(s.id.as_str()))
            .await
            .unwrap();
        assert_eq!(by_ids.as_ref(), Some(&message));
        assert!(
            messages::find_by_reference(&mut conn, Some("other"), Some("M2"), Some("x"))
                .await
                .unwrap()
                .is_none()
        );
        messages::mark_sent(&mut conn, "M1").await.unwrap();
        messages::mark_sent(&mut conn, "M1").await.unwrap();
        let read = messages::for_settlement(&mut conn, &s.id, "pacs.008.001.08")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.send_count, 2);
        // The same UETR can never be stored for a second message.
        let mut dup = message.clone();
        dup.msg_id = "M2".into();
        dup.kind = "other".into();
        assert!(
            messages::insert(&mut conn, &dup).await.is_err(),
            "{}: UETR unique",
            db.label
        );
        drop(conn);
        db
    })
    .await;
}

#[tokio::test]
async fn sqlite_is_durable_on_power_loss() {
    // WAL with synchronous=FULL: an acknowledged commit is on disk (DESIGN.md decision 4).
    let db = TestDb::sqlite().await;
    let mut conn = db.store.pool().acquire().await.unwrap();
    let mode: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let sync: i64 = sqlx::query("PRAGMA synchronous")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    let fk: i64 = sqlx::query("PRAGMA foreign_keys")
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .try_get(0)
        .unwrap();
    assert_eq!(mode, "wal");
    assert_eq!(sync, 2, "FULL");
    assert_eq!(fk, 1);
    drop(conn);
    db.finish().await;
}

#[tokio::test]
async fn concurrent_transitions_on_postgres_both_land_in_order() {
    // Two transactions move one settlement at once (an HTTP answer and a callback): the
    // second waits for the first, then decides again from the state it finds.
    let Some(db) = TestDb::postgres("concurrent_transitions_on_postgres").await else {
        return;
    };
    let s = settlement("evt-race");
    let mut tx = db.store.begin().await.unwrap();
    settlements::insert_received(&mut tx, &s, "h", "intake", None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    walk(&db, &s, &[Routed, Submitted]).await;

    let mut first = db.store.begin().await.unwrap();
    let moved = settlements::transition(&mut first, &s.id, Accepted, &change("pacs.002 ACSP"))
        .await
        .unwrap();
    assert!(matches!(moved, Transitioned::Moved { from: Submitted }));
    let store = db.store.clone();
    let id = s.id.clone();
    let second = tokio::spawn(async move {
        let mut tx = store.begin().await.unwrap();
        let moved = settlements::transition(
            &mut tx,
            &id,
            Settled,
            &Change {
                cause: "pacs.002 ACSC",
                ..Default::default()
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        moved
    });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    first.commit().await.unwrap();
    assert_eq!(
        second.await.unwrap(),
        Transitioned::Moved { from: Accepted }
    );
    let mut conn = db.store.pool().acquire().await.unwrap();
    let path: Vec<String> = settlements::transitions(&mut conn, &s.id)
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.to)
        .collect();
    assert_eq!(
        path,
        ["received", "routed", "submitted", "accepted", "settled"]
    );
    drop(conn);
    db.finish().await;
}

#[test]
fn database_name_is_replaced() {
    assert_eq!(
        common::with_database("postgres://u@127.0.0.1:5432/test", "x"),
        "postgres://u@127.0.0.1:5432/x"
    );
    assert_eq!(
        common::with_database("postgres://127.0.0.1/test?sslmode=disable", "x"),
        "postgres://127.0.0.1/x?sslmode=disable"
    );
    assert_eq!(
        common::with_database("postgres://127.0.0.1", "x"),
        "postgres://127.0.0.1/x"
    );
}

#[tokio::test]
async fn typed_values_migration_keeps_rows_renames_rails_and_checks_values() {
    use corridor::domain::Rail;
    for db in common::EmptyDb::each("typed_values_migration").await {
        sqlx::any::install_default_drivers();
        // The store as the previous version left it: migrations up to 0004, rows with the old
        // rail names.
        let mut before = sqlx::migrate::Migrator::new(std::path::Path::new(db.migrations))
            .await
            .unwrap();
        let old: Vec<_> = before
            .migrations
            .iter()
            .filter(|m| m.version < 5)
            .cloned()
            .collect();
        before.migrations = old.into();
        let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
        before.run(&pool).await.unwrap();
        let s = settlement("evt-migrate");
        let payload = serde_json::to_string(&s).unwrap();
        for sql in [
            "INSERT INTO settlements (id, ledger, event_id, content_hash, state, amount_minor, \
             currency, rail, counterparty, payload, created_at_ms, updated_at_ms) VALUES \
             ($1, 'l', 'evt-migrate', 'h', 'sent', 10000, 'EUR', 'iso8583', 'sw1', $2, 1, 1)",
            "INSERT INTO settlement_transitions (settlement_id, from_state, to_state, cause, at_ms) \
             VALUES ($1, 'submitted', 'sent', 'dispatch', 1)",
            "INSERT INTO outbox (kind, settlement_id, status, attempts, due_at_ms, created_at_ms, \
             updated_at_ms) VALUES ('reverse', $1, 'pending', 0, 1, 1, 1)",
            "INSERT INTO outbound_messages (settlement_id, rail, counterparty, kind, msg_id, \
             biz_msg_idr, body, created_at_ms) VALUES ($1, 'iso8583', 'sw1', 'iso8583.0200', \
             'M1', 'M1', $2, 1)",
        ] {
            let query = sqlx::query(sql).bind(s.id.as_str());
            let query = match sql.contains("$2") {
                true if sql.contains("outbound_messages") => query.bind(b"x".to_vec()),
                true => query.bind(&payload),
                false => query,
            };
            query.execute(&pool).await.unwrap();
        }
        pool.close().await;

        // This version's store: the rest of the migrations run on open.
        let store = corridor::store::Store::connect(&db.url, 4).await.unwrap();
        let mut conn = store.pool().acquire().await.unwrap();
        let record = settlements::get(&mut conn, &s.id).await.unwrap().unwrap();
        assert_eq!(record.rail, Some(Rail::Wallet), "{}", db.label);
        assert_eq!(record.state, Sent);
        let message = messages::for_settlement(&mut conn, &s.id, "iso8583.0200")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(message.rail, Rail::Wallet, "{}", db.label);
        let path = settlements::transitions(&mut conn, &s.id).await.unwrap();
        assert_eq!(path.len(), 1, "{}", db.label);
        let rows = outbox::list(&mut conn, None, 10).await.unwrap();
        assert_eq!(rows.len(), 1, "{}", db.label);

        // Unknown values are refused by the store itself now, and the foreign keys still
        // name the (rebuilt) settlements table.
        for (what, sql) in [
            ("outbox status", "UPDATE outbox SET status = 'paused'"),
            ("outbox kind", "UPDATE outbox SET kind = 'teleport'"),
            ("settlement state", "UPDATE settlements SET state = 'lost'"),
            ("rail", "UPDATE settlements SET rail = 'iso8583'"),
            (
                "journal channel",
                "INSERT INTO inbound_journal (received_at_ms, channel, raw, \
                status, updated_at_ms) VALUES (1, 'pigeon', 'x', 'received', 1)",
            ),
            (
                "foreign key",
                "INSERT INTO outbox (kind, settlement_id, status, attempts, \
                due_at_ms, created_at_ms, updated_at_ms) VALUES ('deliver', \
                'st-00000000000000000000000000000000', 'pending', 0, 1, 1, 1)",
            ),
        ] {
            let refused = sqlx::query(sql).execute(&mut *conn).await;
            assert!(refused.is_err(), "{}: {what} accepted", db.label);
        }
        drop(conn);
        store.close().await;
        db.finish().await;
    }
}

/// PostgreSQL: while the store is open, its outbox is vacuumed every few seconds (claims
/// otherwise walk past the dead entries every claim and completion leaves). SQLite has no
/// such task: nothing to check there.
#[tokio::test]
async fn the_postgresql_outbox_is_vacuumed_while_the_store_is_open() {
    on_each_store("outbox_vacuumed", |db| async move {
        if db.store.dialect() == corridor::store::Dialect::Sqlite {
            return db;
        }
        let vacuums = || async {
            let mut conn = db.store.pool().acquire().await.unwrap();
            sqlx::query("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'outbox'")
                .fetch_one(&mut *conn)
                .await
                .unwrap()
                .get::<i64, _>("vacuum_count")
        };
        assert_eq!(vacuums().await, 0, "a new database has not been vacuumed");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while vacuums().await == 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "no vacuum of the outbox within 20 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        }
        db
    })
    .await;
}
