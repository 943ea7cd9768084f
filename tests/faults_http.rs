//! Bank payments and write-backs through links that break: the fault proxy (`sim::fault`, in
//! its byte-stream mode) sits between the gateway and the simulated bank's HTTPS endpoint and
//! between the gateway and the ledger's write-back receiver, and from a seed drops requests,
//! drops replies the peer already acted on, resets connections mid-stream, slices, stalls,
//! duplicates and delays replies past the deadline, and leaves connections half-open. The
//! run invariants (`tests/common/invariants.rs`) must hold whatever it did: one final outcome
//! and one write-back per event, the bank booked each payment once under one MsgId, its books
//! equal the gateway's, and states moved only along the table.

mod common;

use common::invariants::{self, assert_hold};
use common::world::{Options, World};
use common::{event_json, on_each_store};
use sim::fault::{Fault, FaultPlan};
use std::collections::HashSet;
use std::time::{Duration, Instant};

const EVENTS: usize = 30;

async fn run_with_faults(seed: u64) {
    on_each_store(&format!("faults_http_{seed}"), |db| async move {
        let world = World::start(
            db,
            Options {
                bank_timeout_ms: 400,
                lease_ms: 1500,
                attempts_max: 60,
                status_request_after_ms: 500,
                status_requests_max: 50,
                // Replies delayed past the bank's deadline; stalls shorter than it.
                bank_faults: Some(FaultPlan::every_fault(seed, 80, 600, 100)),
                ledger_faults: Some(FaultPlan::every_fault(seed ^ 0xFF, 40, 600, 100)),
                extra_env: vec![("CORRIDOR__WRITEBACK__TIMEOUT_MS", "400".into())],
                ..Options::default()
            },
        )
        .await;
        let mut posted = HashSet::new();
        for i in 0..EVENTS {
            let remittance = match i % 5 {
                3 => "SIM:ASYNC:20",
                4 => "SIM:REJECT:AC04",
                _ => "invoice",
            };
            let amount = format!("{}.{:02}", 10 + i, i);
            let event_id = format!("h{seed}-{i}");
            let (status, body) = world
                .post(&event_json(&event_id, &amount, remittance))
                .await;
            assert_eq!(status, 201, "{body}");
            posted.insert(event_id);
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while world.all_final(EVENTS as i64).await.is_err() && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        world
            .wait_all_final(EVENTS as i64, Duration::from_secs(1))
            .await;

        let records = invariants::all_settlements(&world.db.store).await;
        let bank = world.bank.stats();
        let mut violations =
            invariants::one_outcome_each(&records, &world.ledger, corridor::demo::LEDGER, &posted);
        violations.extend(invariants::outbox_finished(&world.db.store).await);
        violations.extend(invariants::journal_dealt_with(&world.db.store).await);
        violations.extend(invariants::bank_applied_once(&world.db.store, &records, &bank).await);
        violations.extend(invariants::bank_books_agree(&records, &bank));
        violations.extend(invariants::legal_transitions(&world.db.store, &records).await);
        assert_hold(&format!("{} seed {seed}", world.db.label), &violations);

        let bank_faults = world.bank_proxy.as_ref().unwrap().stats();
        let ledger_faults = world.ledger_proxy.as_ref().unwrap().stats();
        println!(
            "{} seed {seed}: bank faults {:?}, ledger faults {:?}; bank {} UETRs, {} resends, \
             {} status requests; write-backs {:?}",
            world.db.label,
            bank_faults.applied,
            ledger_faults.applied,
            bank.distinct_uetrs,
            bank.resends,
            bank.status_requests,
            world.ledger.stats()
        );
        // The run broke something on each link, or it proved nothing.
        for (link, stats) in [("bank", &bank_faults), ("ledger", &ledger_faults)] {
            assert!(
                stats.applied.values().sum::<u64>() >= 3,
                "{link}: too few faults applied: {stats:?}"
            );
        }
        assert!(
            bank_faults
                .applied
                .keys()
                .any(|f| matches!(f, Fault::DropReply | Fault::DelayReply | Fault::HalfOpen)),
            "no bank reply lost or late: {bank_faults:?}"
        );
        world.finish().await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bank_payments_and_writebacks_through_faulty_links_seed_1() {
    run_with_faults(1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bank_payments_and_writebacks_through_faulty_links_seed_2() {
    run_with_faults(2).await;
}
