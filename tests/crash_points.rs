//! Crashes at named steps (issue 12): the real `corridor` binary runs as a child process with
//! the simulated bank (HTTPS, mutual TLS, callbacks), wallet switch (ISO 8583) and ledger
//! (signed posts in, write-backs out), and is killed again and again at the crash points of
//! `src/crash.rs`, on SQLite and on PostgreSQL (`DATABASE_URL`).
//!
//! A run is a fresh store and fresh simulators, then cycles: each cycle starts the gateway
//! armed at one crash point and hit count (`CORRIDOR_CRASH_AT`, chosen from a seed, with a
//! bias toward points not reached yet), posts a wave of bank and wallet events (accepted,
//! answered by callback, rejected, approved, left unanswered so that a reversal runs), and
//! waits until the point fires (SIGKILL from inside) or a deadline passes (then the harness
//! SIGKILLs it, at whatever step it was). A tenth of the cycles are armed at random instead
//! (`CORRIDOR_CRASH_RANDOM`: each hit of any point dies with a seeded chance). After a crash that left journaled answers, the next
//! start is also armed in recovery. The ledger's clients retry every post until a gateway
//! acknowledges it. At the end of a run the gateway starts unarmed, finishes every
//! settlement, stops, and the invariants of `tests/common/invariants.rs` are checked, and the
//! gateway's log is scanned for card numbers, IBANs and wallet numbers. Across the runs every
//! crash point must have fired, as the stderr lines of the dying processes say.
//!
//! Sizes: `CRASH_CYCLES` (SQLite, default 200), `CRASH_CYCLES_PG` (PostgreSQL, default 100),
//! `CRASH_CYCLES_PER_RUN` (default 50), `CRASH_SEED` (default 12). Which step a cycle dies at
//! depends on timing too, so a seed repeats the plan, not every crash.
//!
//! The crash points exist only in builds with debug assertions (the dev profile `cargo test`
//! uses); in any other build this test says SKIPPED.
#![cfg(feature = "sim")]

mod common;

use common::invariants::{self, assert_hold};
use common::{event_json, wallet_event, TestDb};
use corridor::bench::{bench_config, reserve_port, LEDGER_SECRET};
use corridor::crash::{FIRED_PREFIX, POINTS};
use corridor::demo::{BANK_BIC, BANK_CALLBACK_SECRET, BANK_ID, WRITEBACK_SECRET};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sim::ledger::{LedgerPoster, PosterConfig};
use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, Read, Seek};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const LEDGER: &str = "crash-ledger";
/// Events posted per cycle.
const WAVE_EVENTS: usize = 6;
/// How long a cycle waits for its crash point before killing the gateway itself.
const CYCLE_DEADLINE: Duration = Duration::from_millis(1500);
/// The most a run's end waits for every settlement to be final and written back.
const DRAIN_DEADLINE: Duration = Duration::from_secs(90);
/// Crash points that leave journaled entries for recovery to apply.
const LEAVES_JOURNAL: &[&str] = &[
    "bank.answer.after_journal",
    "bank.callback.after_journal",
    "wallet.answer.after_journal",
    "wallet.reverse.after_journal",
];
const RECOVERY: &str = "recovery.after_entry";
/// Share of the cycles armed at random (`CORRIDOR_CRASH_RANDOM`) rather than at one point.
const RANDOM_SHARE: f64 = 0.1;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_points_on_sqlite() {
    if skipped_build() {
        return;
    }
    let cycles = env_usize("CRASH_CYCLES", 200);
    crash_runs("sqlite", cycles).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_points_on_postgres() {
    if skipped_build() {
        return;
    }
    if std::env::var("DATABASE_URL").is_err() {
        // TestDb::postgres prints the SKIPPED line.
        assert!(TestDb::postgres("crash_points_on_postgres").await.is_none());
        return;
    }
    let cycles = env_usize("CRASH_CYCLES_PG", 100);
    crash_runs("postgres", cycles).await;
}

fn skipped_build() -> bool {
    if cfg!(debug_assertions) {
        return false;
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED crash points: this build has no debug assertions, so no crash points"
    );
    true
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("{name}={v:?}: not a count"))
        })
        .unwrap_or(default)
}

/// `cycles` crash cycles on `database`, in runs of `CRASH_CYCLES_PER_RUN`, invariants after
/// each run, every crash point fired at least once across them.
async fn crash_runs(database: &'static str, cycles: usize) {
    let per_run = env_usize("CRASH_CYCLES_PER_RUN", 50).max(1);
    let seed = env_usize("CRASH_SEED", 12) as u64;
    let mut rng = StdRng::seed_from_u64(seed ^ u64::from(database == "postgres"));
    let mut tally = Tally::default();
    let started = Instant::now();
    let mut done = 0;
    let mut run = 0;
    while done < cycles {
        let n = per_run.min(cycles - done);
        let db = match database {
            "sqlite" => TestDb::sqlite().await,
            _ => TestDb::postgres(&format!("crash_points_{run}"))
                .await
                .expect("DATABASE_URL is set"),
        };
        one_run(&db, run, n, &mut rng, &mut tally).await;
        db.finish().await;
        done += n;
        run += 1;
    }
    println!(
        "[{database}] seed {seed}: {cycles} cycles in {run} runs, {:.0} s; {} crashes at a \
         point, {} killed by the harness, {} died in recovery; fired: {:?}; armed: {:?}",
        started.elapsed().as_secs_f64(),
        tally.fired.values().sum::<usize>(),
        tally.killed,
        tally.died_at_start,
        tally.fired,
        tally.tried
    );
    let missing: Vec<&str> = POINTS
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| !tally.fired.contains_key(*name))
        .collect();
    // Fewer cycles than three per point cannot be expected to reach them all.
    if cycles >= 3 * POINTS.len() {
        assert!(
            missing.is_empty(),
            "[{database}] crash points never fired in {cycles} cycles: {missing:?}"
        );
    } else if !missing.is_empty() {
        println!("[{database}] not fired in this short run: {missing:?}");
    }
}

/// What the cycles did, across runs.
#[derive(Default)]
struct Tally {
    /// Crash lines per point, read from the dying processes' stderr.
    fired: BTreeMap<String, usize>,
    /// Cycles armed at each point.
    tried: BTreeMap<String, usize>,
    /// Cycles whose point did not fire in time: the harness killed the gateway.
    killed: usize,
    /// Starts that died in recovery, before listening.
    died_at_start: usize,
}

/// The counterparties of one run, and what the ledger's clients posted.
struct Run {
    bank: sim::bank::BankHandle,
    switch: sim::switch::SwitchHandle,
    ledger: sim::ledger::WritebackHandle,
    poster: LedgerPoster,
    acknowledged: Arc<Mutex<HashSet<String>>>,
    /// Answers other than 200/201/5xx: a ledger would not retry them, and none is expected.
    refused: Arc<Mutex<Vec<String>>>,
    posts: Vec<tokio::task::JoinHandle<()>>,
    /// Wallet numbers (digits) the run paid: none may appear in the log.
    wallets: Vec<String>,
    next_event: usize,
}

// Long on purpose: one run in the order it happens (counterparties, configuration, the
// cycles, the drain, the checks), read top to bottom.
async fn one_run(
    db: &TestDb,
    run_index: usize,
    cycles: usize,
    rng: &mut StdRng,
    tally: &mut Tally,
) {
    let label = format!("[{} run {run_index}]", db.label);
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
    // Callbacks outlive a restart or two; the status request covers the rest.
    bank_config.callback_attempts_max = 20;
    bank_config.callback_backoff_ms = 100;
    bank_config.callback_timeout_ms = 2000;
    let bank = sim::bank::BankSim::start(bank_config).await.unwrap();
    let switch = sim::switch::start(sim::switch::SwitchConfig::local(
        iso8583::specs::builtin("mobile-money").unwrap(),
    ))
    .await
    .unwrap();
    let mut toml = bench_config(
        dir.path(),
        &db.url,
        LEDGER,
        listen,
        &bank.mx_url(),
        &ledger.url(),
        None,
        switch.addr,
        2,
        "info",
    );
    // Short leases and timeouts (the lease still longer than every counterparty's timeout,
    // as the configuration check demands): rows a killed process held are taken over soon.
    // Attempts without a practical bound: a row may die with the process many times.
    for (from, to) in [
        ("lease_ms = 30000", "lease_ms = 1500"),
        ("timeout_ms = 5000", "timeout_ms = 500"),
        (
            "status_request_after_ms = 60000",
            "status_request_after_ms = 1000",
        ),
        ("attempts_max = 8", "attempts_max = 1000"),
        ("backoff_base_ms = 200", "backoff_base_ms = 50"),
        ("backoff_max_ms = 2000", "backoff_max_ms = 400"),
    ] {
        assert!(toml.contains(from), "bench_config no longer has {from:?}");
        toml = toml.replace(from, to);
    }
    let config_path = dir.path().join("corridor.toml");
    std::fs::write(&config_path, toml).unwrap();
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_corridor"));
    let log_path = dir.path().join("gateway.log");
    let mut log_offset = 0u64;

    let poster = LedgerPoster::new(PosterConfig {
        gateway_base: format!("http://{listen}"),
        ledger: LEDGER.into(),
        secret: LEDGER_SECRET.as_bytes().to_vec(),
        tls: None,
        timeout_ms: 5_000,
    })
    .unwrap();
    let mut run = Run {
        bank,
        switch,
        ledger,
        poster,
        acknowledged: Arc::default(),
        refused: Arc::default(),
        posts: Vec::new(),
        wallets: Vec::new(),
        next_event: 0,
    };

    let schedulable: Vec<&str> = POINTS
        .iter()
        .map(|(name, _)| *name)
        .filter(|name| *name != RECOVERY)
        .collect();
    let mut recover_next = false;
    for cycle in 0..cycles {
        let point = pick_point(&schedulable, &tally.fired, rng);
        let hit = if point == "group.after_commit" {
            rng.gen_range(1..=40)
        } else {
            rng.gen_range(1..=2)
        };
        let mut arm = Arming {
            at: format!("{point}:{hit}"),
            random: None,
        };
        if rng.gen_bool(RANDOM_SHARE) {
            // Any point, by chance: the crash lands wherever the seed says.
            arm.at.clear();
            arm.random = Some(format!("{}:0.05", rng.gen::<u32>()));
        } else {
            *tally.tried.entry(point.to_string()).or_default() += 1;
        }
        if recover_next {
            arm.at = match arm.at.as_str() {
                "" => format!("{RECOVERY}:1"),
                at => format!("{RECOVERY}:1,{at}"),
            };
        }
        let fired_now = match start(&bin, &config_path, &log_path, &arm).await {
            Started::DiedAtStart => {
                tally.died_at_start += 1;
                read_fired(&log_path, &mut log_offset)
            }
            Started::Up(mut child) => {
                post_wave(&mut run, run_index, cycle, point, rng);
                if !exited_within(&mut child, CYCLE_DEADLINE).await {
                    let _ = child.kill();
                    let _ = child.wait();
                    tally.killed += 1;
                }
                read_fired(&log_path, &mut log_offset)
            }
        };
        assert!(
            fired_now.len() <= 1,
            "{label} cycle {cycle}: one process fired {fired_now:?}"
        );
        // A crash anywhere but in recovery may leave journaled entries; recovery is armed on
        // the next start after half of those that surely do.
        recover_next = match fired_now.first() {
            Some(p) if LEAVES_JOURNAL.contains(&p.as_str()) => rng.gen_bool(0.6),
            Some(_) => false,
            None => rng.gen_bool(0.2),
        };
        for p in fired_now {
            *tally.fired.entry(p).or_default() += 1;
        }
    }

    // The end: an unarmed gateway finishes everything.
    let unarmed = Arming {
        at: String::new(),
        random: None,
    };
    let Started::Up(mut child) = start(&bin, &config_path, &log_path, &unarmed).await else {
        panic!(
            "{label}: the unarmed gateway did not start: {}",
            tail(&log_path)
        );
    };
    let posts = std::mem::take(&mut run.posts);
    let all_posted = tokio::time::timeout(DRAIN_DEADLINE, futures::future::join_all(posts)).await;
    assert!(all_posted.is_ok(), "{label}: posts still unacknowledged");
    let deadline = Instant::now() + DRAIN_DEADLINE;
    loop {
        let seen = drained(db, &run).await;
        if seen.is_empty() {
            break;
        }
        if Instant::now() > deadline {
            panic!(
                "{label}: not finished after {DRAIN_DEADLINE:?}: {}\nlog tail:\n{}",
                seen.join("; "),
                tail(&log_path)
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop(&mut child);
    let leftover = read_fired(&log_path, &mut log_offset);
    assert!(
        leftover.is_empty(),
        "{label}: the unarmed gateway fired {leftover:?}"
    );

    // The invariants.
    let refused = run.refused.lock().unwrap().clone();
    assert!(refused.is_empty(), "{label}: posts refused: {refused:?}");
    let acknowledged = run.acknowledged.lock().unwrap().clone();
    assert_eq!(
        acknowledged.len(),
        run.next_event,
        "{label}: every posted event acknowledged"
    );
    let records = invariants::all_settlements(&db.store).await;
    let bank_stats = run.bank.stats();
    let mut violations = invariants::one_outcome_each(&records, &run.ledger, LEDGER, &acknowledged);
    violations.extend(invariants::outbox_finished(&db.store).await);
    violations.extend(invariants::journal_dealt_with(&db.store).await);
    violations.extend(invariants::bank_applied_once(&db.store, &records, &bank_stats).await);
    violations.extend(invariants::bank_books_agree(&records, &bank_stats));
    violations.extend(invariants::switch_books_agree(&records, &run.switch));
    violations.extend(invariants::legal_transitions(&db.store, &records).await);
    let log = std::fs::read_to_string(&log_path).unwrap();
    violations.extend(
        common::scan::leaks(&log, &run.wallets)
            .into_iter()
            .map(|leak| {
                let what = leak.rsplit(' ').next().unwrap_or(&leak);
                let line = log.lines().find(|l| l.contains(what)).unwrap_or("");
                format!("in the gateway's log: {leak}, in: {line}")
            }),
    );
    assert_hold(&label, &violations);

    let mut outcomes: BTreeMap<String, usize> = BTreeMap::new();
    for r in &records {
        *outcomes.entry(r.state.to_string()).or_default() += 1;
    }
    println!(
        "{label}: {cycles} cycles, {} events: {outcomes:?}; bank {} UETRs ({} resends), \
         switch {:?}",
        records.len(),
        bank_stats.distinct_uetrs,
        bank_stats.resends,
        run.switch.counters()
    );
    run.switch.shutdown();
    run.bank.shutdown().await;
    run.ledger.shutdown().await;
}

/// Half the time a point among those fired least so far, else any: every point is tried
/// often, and those hard to reach more often.
fn pick_point<'a>(
    points: &[&'a str],
    fired: &BTreeMap<String, usize>,
    rng: &mut StdRng,
) -> &'a str {
    if rng.gen_bool(0.5) {
        let count = |p: &str| fired.get(p).copied().unwrap_or(0);
        let least = points.iter().map(|p| count(p)).min().unwrap_or(0);
        let rare: Vec<&str> = points
            .iter()
            .copied()
            .filter(|p| count(p) == least)
            .collect();
        rare[rng.gen_range(0..rare.len())]
    } else {
        points[rng.gen_range(0..points.len())]
    }
}

/// What a bank event asks the simulated bank to do (its remittance directive).
#[derive(Clone, Copy)]
enum EventKind {
    BankAccept,
    BankCallback,
    BankReject,
    WalletApprove,
    /// The switch credits and never answers: the gateway reverses.
    WalletNoAnswer,
}

/// Posts a wave of events, each retried until acknowledged; the first two suit `point`.
fn post_wave(run: &mut Run, run_index: usize, cycle: usize, point: &str, rng: &mut StdRng) {
    let first = if point.starts_with("bank.callback") {
        EventKind::BankCallback
    } else if point.starts_with("bank.") {
        EventKind::BankAccept
    } else if point.starts_with("wallet.reverse") {
        EventKind::WalletNoAnswer
    } else if point.starts_with("wallet.") {
        EventKind::WalletApprove
    } else {
        random_kind(rng)
    };
    for i in 0..WAVE_EVENTS {
        let kind = if i < 2 { first } else { random_kind(rng) };
        let event_id = format!("r{run_index}-c{cycle}-{i}");
        let n = run.next_event;
        run.next_event += 1;
        let cents = rng.gen_range(100..100_000);
        let amount = format!("{}.{:02}", cents / 100, cents % 100);
        let event = match kind {
            EventKind::BankAccept => event_json(&event_id, &amount, "invoice"),
            EventKind::BankCallback => event_json(&event_id, &amount, "SIM:ASYNC:20"),
            EventKind::BankReject => event_json(&event_id, &amount, "SIM:REJECT:AC04"),
            EventKind::WalletApprove | EventKind::WalletNoAnswer => {
                let digits = format!("63917{n:07}");
                if matches!(kind, EventKind::WalletNoAnswer) {
                    run.switch.script(sim::switch::Rule {
                        when: sim::switch::Match::Msisdn(digits.clone()),
                        action: sim::switch::Action::NoAnswer,
                        times: Some(1),
                    });
                }
                run.wallets.push(digits.clone());
                wallet_event(&event_id, &amount, &format!("+{digits}"))
            }
        };
        let (poster, acknowledged, refused) = (
            run.poster.clone(),
            run.acknowledged.clone(),
            run.refused.clone(),
        );
        let body = serde_json::to_vec(&event).unwrap();
        run.posts.push(tokio::spawn(async move {
            loop {
                match poster.post_raw(body.clone()).await {
                    Ok(a) if matches!(a.status, 200 | 201) => {
                        acknowledged.lock().unwrap().insert(event_id);
                        return;
                    }
                    // No answer (the gateway died) or a server error: a ledger tries again.
                    Ok(a) if a.status >= 500 => {}
                    Ok(a) => {
                        refused
                            .lock()
                            .unwrap()
                            .push(format!("{event_id}: {} {}", a.status, a.body));
                        return;
                    }
                    Err(_) => {}
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }));
    }
}

fn random_kind(rng: &mut StdRng) -> EventKind {
    match rng.gen_range(0..100) {
        0..30 => EventKind::BankAccept,
        30..42 => EventKind::BankCallback,
        42..50 => EventKind::BankReject,
        50..85 => EventKind::WalletApprove,
        _ => EventKind::WalletNoAnswer,
    }
}

/// What is not finished yet (empty: every settlement final and written back, the outbox
/// idle, every post acknowledged).
async fn drained(db: &TestDb, run: &Run) -> Vec<String> {
    let mut conn = db.store.pool().acquire().await.unwrap();
    let counts = corridor::store::settlements::count_by_state(&mut conn)
        .await
        .unwrap();
    let idle = corridor::store::outbox::is_idle(&mut conn).await.unwrap();
    drop(conn);
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    let finals: i64 = counts
        .iter()
        .filter(|(s, _)| s.is_final())
        .map(|(_, n)| n)
        .sum();
    let recorded = run.ledger.stats().recorded as i64;
    let mut seen = Vec::new();
    if finals != total {
        seen.push(format!("states {counts:?}"));
    }
    if recorded != total {
        seen.push(format!("{recorded} of {total} written back"));
    }
    if !idle {
        seen.push("outbox busy".into());
    }
    seen
}

enum Started {
    Up(Child),
    /// Exited before listening: a crash point in recovery fired.
    DiedAtStart,
}

/// How a start is armed: `CORRIDOR_CRASH_AT` (empty: not set) and `CORRIDOR_CRASH_RANDOM`.
struct Arming {
    at: String,
    random: Option<String>,
}

/// Starts `corridor serve` armed as `arm` says, its stderr appended to `log`, and waits until
/// it listens or dies.
async fn start(bin: &Path, config: &Path, log: &Path, arm: &Arming) -> Started {
    let stderr = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    let mut command = Command::new(bin);
    command
        .arg("serve")
        .arg("--config")
        .arg(config)
        .env_remove("CORRIDOR_CRASH_AT")
        .env_remove("CORRIDOR_CRASH_RANDOM")
        .stdout(Stdio::piped())
        .stderr(stderr);
    if !arm.at.is_empty() {
        command.env("CORRIDOR_CRASH_AT", &arm.at);
    }
    if let Some(random) = &arm.random {
        command.env("CORRIDOR_CRASH_RANDOM", random);
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Reads every line, so that the child never blocks on a full pipe.
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if line.starts_with("corridor listening on http://") {
                let _ = tx.send(());
            }
        }
    });
    let listening =
        tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(60)).is_ok())
            .await
            .unwrap();
    if listening {
        return Started::Up(child);
    }
    if exited_within(&mut child, Duration::from_secs(5)).await {
        return Started::DiedAtStart;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the gateway neither listened nor died: {}", tail(log));
}

/// Whether `child` exited within `limit`.
async fn exited_within(child: &mut Child, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if child.try_wait().unwrap().is_some() {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// SIGTERM, then SIGKILL after 10 s.
fn stop(child: &mut Child) {
    // SAFETY: kill(2) on our own child's pid; no memory is involved.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGTERM);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// The crash points named by crash lines written to the log since `offset`, which moves on.
fn read_fired(log: &Path, offset: &mut u64) -> Vec<String> {
    let mut file = std::fs::File::open(log).unwrap();
    file.seek(std::io::SeekFrom::Start(*offset)).unwrap();
    let mut text = String::new();
    file.read_to_string(&mut text).unwrap();
    *offset += text.len() as u64;
    assert!(
        !text.contains("names no crash point"),
        "an arming named an unknown crash point: {text}"
    );
    text.lines()
        .filter_map(|line| line.strip_prefix(FIRED_PREFIX))
        .map(|rest| rest.split(" (").next().unwrap_or(rest).to_string())
        .collect()
}

/// The log's last 40 lines.
fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
