//! The outbox engine knows no rail: a rail written here, in a few lines, is registered in
//! place of the wallet rail and driven end to end (intake, routing, deliver job, answer,
//! write-back job) by stepping the engine, with no sleeps, on SQLite and PostgreSQL.

mod common;

use common::{event_json, on_each_store};
use corridor::config::Config;
use corridor::dispatch::{Context, Handler, JobError, Outcome};
use corridor::domain::{Rail, SettlementState};
use corridor::store::outbox::{self, Job, Kind};
use corridor::store::settlements::{self, Change, Record};
use futures::future::BoxFuture;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A rail whose counterparty settles everything at once, counting what it was given.
#[derive(Default)]
struct InstantRail {
    delivered: AtomicUsize,
}

impl Handler for InstantRail {
    fn handle<'a>(
        &'a self,
        _job: &'a Job,
        settlement: &'a Record,
        cx: &'a Context<'a>,
    ) -> BoxFuture<'a, Result<Outcome, JobError>> {
        Box::pin(async move {
            self.delivered.fetch_add(1, Ordering::SeqCst);
            let mut tx = cx.store.begin().await?;
            let change = Change {
                cause: "test rail",
                ..Default::default()
            };
            let sid = &settlement.settlement.id;
            settlements::transition(&mut tx, sid, SettlementState::Sent, &change).await?;
            settlements::transition(&mut tx, sid, SettlementState::Settled, &change).await?;
            Ok(Outcome::done_with(tx))
        })
    }
}

const CONFIG: &str = r#"
[gateway]
bic = "CORRGB2LXXX"
[server]
listen = "127.0.0.1:0"
[[ledgers]]
id = "test-ledger"
secrets = ["s"]
[[switches]]
id = "sw"
addr = "127.0.0.1:9"
[[routes]]
currencies = ["PHP"]
rail = "wallet"
counterparty = "sw"
"#;

#[tokio::test]
async fn a_rail_registered_by_a_test_is_driven_through_the_engine() {
    on_each_store("test_rail_through_engine", |db| async move {
        let config = Arc::new(Config::from_toml(CONFIG, Vec::new()).unwrap());
        let rail = Arc::new(InstantRail::default());
        let registered = rail.clone();
        let running = corridor::gateway::start_with(config.clone(), db.store.clone(), false, |r| {
            r.rail(Rail::Wallet, &[Kind::Deliver], registered);
        })
        .await
        .unwrap();
        let mut events = Vec::new();
        for i in 0..3 {
            let mut event = event_json(&format!("evt-{i}"), "5.00", "test");
            event["currency"] = "PHP".into();
            event["creditor"]["account"] = serde_json::json!({"msisdn": "+639170000001"});
            events.push(event);
        }
        let body = serde_json::to_vec(&events).unwrap();
        corridor::intake::journal_and_accept(&db.store, &config, "test-ledger", &body)
            .await
            .unwrap();
        // Deliveries, then the write-backs their final states queued.
        let claimed = running.dispatcher.drain("test-worker", 10).await.unwrap();
        assert_eq!(claimed, 6, "{}: 3 deliveries and 3 write-backs", db.label);
        assert_eq!(rail.delivered.load(Ordering::SeqCst), 3);
        let mut conn = db.store.pool().acquire().await.unwrap();
        let rows = settlements::list(&mut conn, None, 10).await.unwrap();
        assert_eq!(rows.len(), 3);
        for row in rows {
            assert_eq!(row.state, SettlementState::Settled, "{}", db.label);
            assert_eq!(row.rail, Some(Rail::Wallet));
            assert!(row.written_back_at_ms.is_some(), "{}", db.label);
        }
        assert!(outbox::is_idle(&mut conn).await.unwrap());
        drop(conn);
        running.shutdown().await;
        db
    })
    .await;
}
