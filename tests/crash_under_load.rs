//! SIGKILL under load: the gateway binary runs as a child process while ledger clients post
//! events flat out; it is killed at a random moment and started again on the same store. Every
//! event the gateway acknowledged must then reach exactly one final outcome with exactly one
//! write-back, and the bank must have booked one UETR per bank settlement, each with a single
//! MsgId however often it was sent. Runs on SQLite and on PostgreSQL (`DATABASE_URL`).
//! It drives the gateway with `corridor::bench`'s helpers, which come with the simulators.
#![cfg(feature = "sim")]

mod common;

use common::TestDb;
use corridor::bench::{bench_config, clean_generator, reserve_port, GatewayProcess};
use corridor::demo::{BANK_BIC, BANK_CALLBACK_SECRET, BANK_ID, WRITEBACK_SECRET};
use corridor::store::settlements;
use rand::Rng;
use sim::ledger::{LedgerPoster, PosterConfig};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const LEDGER: &str = "crash-ledger";
const CLIENTS: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_events_survive_sigkill_under_load() {
    let db = TestDb::sqlite().await;
    crash_under_load(&db).await;
    db.finish().await;
    if let Some(db) = TestDb::postgres("acknowledged_events_survive_sigkill_under_load").await {
        crash_under_load(&db).await;
        db.finish().await;
    }
}

// Long on purpose: the scenario in order (counterparties, gateway, load, kill, restart, wait,
// the checks), read top to bottom.
async fn crash_under_load(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let pki = sim::pki::DemoPki::generate().unwrap();
    pki.write_to(&dir.path().join("pki")).unwrap();
    let ledger = sim::ledger::start_writeback(sim::ledger::WritebackConfig::new(WRITEBACK_SECRET))
        .await
        .unwrap();
    let listen = reserve_port().unwrap();
    let mut bank_config = sim::bank::BankConfig::new(pki.bank_server_config().unwrap());
    bank_config.bank_id = BANK_ID.into();
    bank_config.bic = BANK_BIC.into();
    bank_config.callback_base = Some(format!("http://{listen}"));
    bank_config.callback_secret = BANK_CALLBACK_SECRET.as_bytes().to_vec();
    let bank = sim::bank::BankSim::start(bank_config).await.unwrap();
    let switch = sim::switch::start(sim::switch::SwitchConfig::local(
        iso8583::specs::builtin("mobile-money").unwrap(),
    ))
    .await
    .unwrap();
    // Short leases (longer than the counterparties' timeouts, as the configuration check
    // demands): the rows the killed process held are taken over soon after the restart.
    let toml = bench_config(
        dir.path(),
        &db.url,
        LEDGER,
        listen,
        &bank.mx_url(),
        &ledger.url(),
        // Outcomes written back in batches: a kill may cut a batch in flight too.
        Some(&ledger.batch_url()),
        switch.addr,
        4,
        "warn",
    )
    .replace("lease_ms = 30000", "lease_ms = 3000")
    .replace("timeout_ms = 5000", "timeout_ms = 1000");
    let config_path = dir.path().join("corridor.toml");
    std::fs::write(&config_path, toml).unwrap();
    let bin = std::path::PathBuf::from(env!("CARGO_BIN_EXE_corridor"));
    let log = dir.path().join("gateway.log");
    let gateway = GatewayProcess::start(&bin, &config_path, &log).unwrap();

    // Clients post until told to stop; a post without an answer (the gateway is down) is
    // tried again, as a ledger does, and only a 201 or 200 counts as acknowledged.
    let poster = LedgerPoster::new(PosterConfig {
        gateway_base: format!("http://{listen}"),
        ledger: LEDGER.into(),
        secret: corridor::bench::LEDGER_SECRET.as_bytes().to_vec(),
        tls: None,
        timeout_ms: 10_000,
    })
    .unwrap();
    let generator = Arc::new(Mutex::new(clean_generator(LEDGER, 11, 0.2)));
    let acknowledged = Arc::new(Mutex::new(HashSet::<String>::new()));
    let stop = tokio_util::sync::CancellationToken::new();
    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        let (poster, generator, acknowledged, stop) = (
            poster.clone(),
            generator.clone(),
            acknowledged.clone(),
            stop.clone(),
        );
        clients.push(tokio::spawn(async move {
            while !stop.is_cancelled() {
                let event = generator.lock().unwrap().next_event().event;
                loop {
                    match poster.post_one(&event).await {
                        Ok(answer) if matches!(answer.status, 200 | 201) => {
                            acknowledged.lock().unwrap().insert(event.event_id.clone());
                            break;
                        }
                        Ok(answer) => panic!("event refused: {} {}", answer.status, answer.body),
                        Err(_) if stop.is_cancelled() => break,
                        Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                    }
                }
            }
        }));
    }

    // Kill at a random moment once some work is in flight.
    let kill_after = Duration::from_millis(rand::thread_rng().gen_range(400..1500));
    tokio::time::sleep(kill_after).await;
    let before_kill = acknowledged.lock().unwrap().len();
    gateway.kill();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let gateway = GatewayProcess::start(&bin, &config_path, &log).unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    stop.cancel();
    for client in clients {
        client.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        before_kill > 0,
        "[{}] nothing was acknowledged before the kill ({kill_after:?}): no load to test",
        db.label
    );

    // Wait (bounded) until every stored settlement is final and written back.
    let deadline = Instant::now() + Duration::from_secs(60);
    let total = loop {
        let mut conn = db.store.pool().acquire().await.unwrap();
        let counts = settlements::count_by_state(&mut conn).await.unwrap();
        drop(conn);
        let total: i64 = counts.iter().map(|(_, n)| n).sum();
        let finals: i64 = counts
            .iter()
            .filter(|(s, _)| s.is_final())
            .map(|(_, n)| n)
            .sum();
        if finals == total && ledger.stats().recorded as i64 == total {
            break total;
        }
        assert!(
            Instant::now() < deadline,
            "[{}] not all final and written back: {counts:?}, {} written back; gateway log: {}",
            db.label,
            ledger.stats().recorded,
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    gateway.stop(Duration::from_secs(10));

    // Every acknowledged event: one settlement, final, written back once, as settled.
    for event_id in &acknowledged {
        let written = ledger.settlements_for_event(LEDGER, event_id);
        assert_eq!(
            written.len(),
            1,
            "[{}] event {event_id}: write-backs for settlements {written:?}",
            db.label
        );
        let outcome = ledger.outcome(LEDGER, event_id).unwrap().outcome;
        assert!(
            ["settled", "reversed"].contains(&outcome.as_str()),
            "[{}] event {event_id} ended {outcome}",
            db.label
        );
    }
    assert!(
        total as usize >= acknowledged.len(),
        "[{}] {total} settlements stored for {} acknowledged events",
        db.label,
        acknowledged.len()
    );
    let stats = ledger.stats();
    assert_eq!(stats.recorded as i64, total, "[{}] write-backs", db.label);
    assert_eq!(stats.conflicting_duplicates, 0, "[{}]", db.label);

    // The bank: one UETR per bank settlement, each with one MsgId (a resend reuses it).
    let mut conn = db.store.pool().acquire().await.unwrap();
    let kinds: HashMap<String, i64> = corridor::store::messages::count_by_kind(&mut conn)
        .await
        .unwrap()
        .into_iter()
        .collect();
    drop(conn);
    let bank_stats = bank.stats();
    let pacs008 = kinds
        .get(corridor::rails::bank::PACS008)
        .copied()
        .unwrap_or(0);
    assert_eq!(
        bank_stats.distinct_uetrs as i64, pacs008,
        "[{}] UETRs at the bank vs bank settlements",
        db.label
    );
    for (uetr, msg_ids) in &bank_stats.msg_ids_per_uetr {
        let distinct: HashSet<_> = msg_ids.iter().collect();
        assert_eq!(distinct.len(), 1, "[{}] UETR {uetr}: {msg_ids:?}", db.label);
    }
    switch.shutdown();
    bank.shutdown().await;
    ledger.shutdown().await;
}
