//! Wallet credits through a link that breaks: the fault proxy (`sim::fault`) sits between the
//! gateway and the simulated switch and, from a seed, drops requests, drops replies the switch
//! already applied, resets connections mid-frame, slices frames into single bytes, stalls,
//! duplicates and delays replies past the deadline, and leaves connections half-open. Whatever
//! it does, the invariants hold: every event reaches exactly one final outcome and one
//! write-back, each credit the switch applied is either the settlement's (settled) or undone
//! (reversed), and the gateway's books equal the switch's to the cent.

mod common;

use common::invariants::{self, assert_hold};
use common::world::{Options, World};
use common::{on_each_store, wallet_event};
use sim::fault::{Fault, FaultPlan};
use std::time::Duration;

const EVENTS: usize = 30;

async fn run_with_faults(seed: u64) {
    on_each_store(&format!("faults_switch_{seed}"), |db| async move {
        let world = World::start(
            db,
            Options {
                // Replies delayed past the deadline; stalls shorter than it.
                switch_timeout_ms: 300,
                switch_faults: Some(FaultPlan::every_fault(seed, 60, 450, 100)),
                attempts_max: 30,
                // A half-open connection is found by an unanswered echo: soon, here.
                extra_env: vec![
                    ("CORRIDOR__SWITCHES__0__ECHO_IDLE_MS", "150".into()),
                    ("CORRIDOR__SWITCHES__0__ECHO_TIMEOUT_MS", "300".into()),
                ],
                ..Options::default()
            },
        )
        .await;
        for i in 0..EVENTS {
            // One wallet per settlement, so its balance says what happened to that one alone.
            let msisdn = format!("+6391755{i:05}");
            let amount = format!("{}.{:02}", 10 + i, i);
            let (status, body) = world
                .post(&wallet_event(&format!("f{seed}-{i}"), &amount, &msisdn))
                .await;
            assert_eq!(status, 201, "{body}");
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(40);
        while world.all_final(EVENTS as i64).await.is_err() && std::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if world.all_final(EVENTS as i64).await.is_err() {
            dump_stuck(&world).await;
        }
        world
            .wait_all_final(EVENTS as i64, Duration::from_secs(1))
            .await;

        let mut settled = 0;
        for i in 0..EVENTS {
            let event = format!("f{seed}-{i}");
            // Exactly one write-back (World::outcome asserts it).
            let (outcome, reason) = world.outcome(&event);
            let wallet = format!("6391755{i:05}");
            let amount_minor = ((10 + i) * 100 + i) as i64;
            let balance = world.switch.balance(&wallet);
            match outcome.as_str() {
                "settled" => {
                    settled += 1;
                    assert_eq!(balance, amount_minor, "{event}: credited once");
                }
                "reversed" | "rejected" => {
                    assert_eq!(
                        balance, 0,
                        "{event} ({outcome} {reason:?}): nothing stays credited"
                    )
                }
                other => panic!("{event}: final state {other} ({reason:?})"),
            }
        }
        let records = invariants::all_settlements(&world.db.store).await;
        let posted = (0..EVENTS).map(|i| format!("f{seed}-{i}")).collect();
        let mut violations =
            invariants::one_outcome_each(&records, &world.ledger, corridor::demo::LEDGER, &posted);
        violations.extend(invariants::outbox_finished(&world.db.store).await);
        violations.extend(invariants::journal_dealt_with(&world.db.store).await);
        violations.extend(invariants::switch_books_agree(&records, &world.switch));
        violations.extend(invariants::legal_transitions(&world.db.store, &records).await);
        assert_hold(&format!("{} seed {seed}", world.db.label), &violations);
        let stats = world.switch_proxy.as_ref().unwrap().stats();
        let counters = world.switch.counters();
        println!(
            "{} seed {seed}: {settled}/{EVENTS} settled; faults {:?}; switch {counters:?}",
            world.db.label, stats.applied
        );
        // The run broke something, or it proved nothing.
        assert!(
            stats.applied.values().sum::<u64>() >= 3,
            "too few faults applied: {stats:?}"
        );
        assert!(
            stats
                .applied
                .keys()
                .any(|f| matches!(f, Fault::DropReply | Fault::DelayReply | Fault::HalfOpen)),
            "no reply lost or late: {stats:?}"
        );
        world.finish().await
    })
    .await;
}

#[tokio::test]
async fn wallet_credits_through_a_faulty_link_seed_1() {
    run_with_faults(1).await;
}

#[tokio::test]
async fn wallet_credits_through_a_faulty_link_seed_2() {
    run_with_faults(2).await;
}

/// What a stuck run looks like: each settlement still `sent`, its messages and outbox rows.
async fn dump_stuck(world: &World) {
    use corridor::domain::SettlementState;
    let mut conn = world.db.store.pool().acquire().await.unwrap();
    let stuck = corridor::store::settlements::list(&mut conn, Some(SettlementState::Sent), 100)
        .await
        .unwrap();
    let outbox = corridor::store::outbox::list(&mut conn, None, 1000)
        .await
        .unwrap();
    for s in stuck {
        let msgs = corridor::store::messages::all_for_settlement(&mut conn, &s.settlement.id)
            .await
            .unwrap();
        let rows: Vec<_> = outbox
            .iter()
            .filter(|r| r.settlement_id == s.settlement.id.as_str())
            .collect();
        println!("STUCK {}: {:?}", s.settlement.id.as_str(), s.state);
        for m in msgs {
            println!(
                "   msg {} stan {:?} rrn {:?} sends {}",
                m.kind, m.stan, m.rrn, m.send_count
            );
        }
        for r in rows {
            println!("   row {:?}", r);
        }
    }
}
