//! `corridor demo`: the whole flow in one process on the embedded default.
//!
//! A simulated ledger posts a few hundred settlement events (with rejects, late answers,
//! duplicate answers, duplicate and conflicting events, invalid ones) to a gateway on SQLite,
//! which delivers them over HTTPS with mutual TLS to a simulated bank. Half way through, the
//! gateway is killed and started again on the same store. The demo ends with a summary and
//! checks that every ledger event reached exactly one final outcome.
//!
//! `run` needs the simulators (cargo feature `sim`, on by default); the names and the
//! configuration stay in every build, since the tests use them too.

#[cfg(feature = "sim")]
use crate::config::Config;
#[cfg(feature = "sim")]
use crate::domain::SettlementState;
#[cfg(feature = "sim")]
use crate::store::{outbox, settlements, Store};
#[cfg(feature = "sim")]
use anyhow::{bail, Context};
use clap::Args;
#[cfg(feature = "sim")]
use sim::ledger::{EventKind, Expected, GeneratedEvent, GeneratorConfig, LedgerSim, PosterConfig};
#[cfg(feature = "sim")]
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
#[cfg(feature = "sim")]
use std::sync::Arc;
#[cfg(feature = "sim")]
use std::time::{Duration, Instant};

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// How many ledger events to post.
    #[arg(long, default_value_t = 300)]
    pub events: usize,
    /// Where the SQLite file and the generated certificates go (emptied first).
    #[arg(long, default_value = "data/demo")]
    pub data_dir: PathBuf,
    /// Seed of the event generator (same seed, same events).
    #[arg(long, default_value_t = 7)]
    pub seed: u64,
    /// Give up waiting for final outcomes after this long.
    #[arg(long, default_value_t = 120)]
    pub timeout_seconds: u64,
    /// The ledger: `http` (a simulated ledger posting signed events) or `evm` (a local anvil
    /// chain with the Settlement contract; needs `cd adapters/ledger-evm && npm ci`).
    #[arg(long, default_value = "http")]
    pub ledger: crate::config::LedgerKind,
    /// With `--ledger evm`: how many instructions the simulated operator posts on chain.
    #[arg(long, default_value_t = 30)]
    pub instructions: usize,
    /// After the summary, keep the gateway serving (the review page at /review) until Ctrl-C.
    #[arg(long)]
    pub keep_running: bool,
}

pub const LEDGER: &str = "demo-ledger";
pub const LEDGER_SECRET: &str = "demo-ledger-secret";
pub const WRITEBACK_SECRET: &str = "demo-writeback-secret";
pub const BANK_ID: &str = "sim-bank";
pub const BANK_BIC: &str = "SIMBGB2LXXX";
pub const BANK_CALLBACK_SECRET: &str = "demo-bank-callback-secret";
pub const SWITCH_ID: &str = "sim-switch";
/// The demo's reviewer token: signs in to the review page (`/review`).
pub const REVIEW_TOKEN: &str = "demo-review-token";
/// The demo's operator token (may also run reconciliation and replay the outbox).
pub const OPERATOR_TOKEN: &str = "demo-operator-token";

/// The demo's configuration, as a user would write it (printed with `--help` in the README).
pub fn demo_config(
    data_dir: &Path,
    listen: SocketAddr,
    bank_endpoint: &str,
    ledger_callback: &str,
    switch_addr: SocketAddr,
) -> String {
    let pki = data_dir.join("pki");
    format!(
        r#"
[gateway]
bic = "CORRGB2LXXX"

[server]
listen = "{listen}"
api_tokens = [
    {{ token = "{REVIEW_TOKEN}", role = "reviewer", name = "demo-reviewer" }},
    {{ token = "{OPERATOR_TOKEN}", role = "operator", name = "demo-operator" }},
]

[store]
database_url = "sqlite://corridor.db"
data_dir = "{data}"

[dispatch]
workers = 4
lease_ms = 3000
attempts_max = 8
backoff_base_ms = 200
backoff_max_ms = 2000
poll_interval_ms = 100

[[ledgers]]
id = "{LEDGER}"
secrets = ["{LEDGER_SECRET}"]
callback_url = "{ledger_callback}"
writeback_secret = "{WRITEBACK_SECRET}"

[[banks]]
id = "{BANK_ID}"
bic = "{BANK_BIC}"
endpoint = "{bank_endpoint}"
ca_file = "{ca}"
cert_file = "{cert}"
key_file = "{key}"
timeout_ms = 1000
callback_secrets = ["{BANK_CALLBACK_SECRET}"]
status_request_after_ms = 300

[[switches]]
id = "{SWITCH_ID}"
addr = "{switch_addr}"
spec = "mobile-money"
timeout_ms = 1000

[[routes]]
currencies = ["PHP"]
account_kinds = ["msisdn"]
rail = "wallet"
counterparty = "{SWITCH_ID}"

[[routes]]
currencies = ["EUR", "GBP", "USD", "CHF", "JPY", "SEK"]
rail = "bank"
counterparty = "{BANK_ID}"
"#,
        data = data_dir.display(),
        ca = pki.join("ca.pem").display(),
        cert = pki.join("gateway.pem").display(),
        key = pki.join("gateway-key.pem").display(),
    )
}

/// A free loopback port for the gateway, known before the bank (which calls back) starts.
#[cfg(feature = "sim")]
pub fn reserve_port() -> anyhow::Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

// Long on purpose: the demo's script in the order it happens (start the counterparties and
// the gateway, post in batches, kill and restart half way, wait, report), meant to be read
// top to bottom as the walkthrough it is.
#[cfg(feature = "sim")]
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    if args.ledger == crate::config::LedgerKind::Evm {
        return crate::ledger::evm::demo::run(args).await;
    }
    crate::telemetry::init_logs(crate::telemetry::LogFormat::Human, "error");
    crate::telemetry::prometheus();
    let started = Instant::now();
    let dir = &args.data_dir;
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("emptying {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)?;
    let dir = dir.canonicalize()?;

    let pki = sim::pki::DemoPki::generate()?;
    pki.write_to(&dir.join("pki"))?;
    let ledger =
        sim::ledger::start_writeback(sim::ledger::WritebackConfig::new(WRITEBACK_SECRET)).await?;
    let listen = reserve_port()?;
    let mut bank_config = sim::bank::BankConfig::new(pki.bank_server_config()?);
    bank_config.bank_id = BANK_ID.into();
    bank_config.bic = BANK_BIC.into();
    bank_config.callback_base = Some(format!("http://{listen}"));
    bank_config.callback_secret = BANK_CALLBACK_SECRET.as_bytes().to_vec();
    let bank = sim::bank::BankSim::start(bank_config).await?;
    let mut switch_config =
        sim::switch::SwitchConfig::local(iso8583::specs::builtin("mobile-money")?);
    // Wallet trouble: the first credit is never answered (the gateway reverses it), the
    // second is declined for insufficient funds at the switch.
    switch_config.rules = vec![
        sim::switch::Rule {
            when: sim::switch::Match::Any,
            action: sim::switch::Action::NoAnswer,
            times: Some(1),
        },
        sim::switch::Rule {
            when: sim::switch::Match::Any,
            action: sim::switch::Action::Decline("51".into()),
            times: Some(1),
        },
    ];
    let switch = sim::switch::start(switch_config).await?;

    let toml = demo_config(&dir, listen, &bank.mx_url(), &ledger.url(), switch.addr);
    let config_path = dir.join("corridor.toml");
    std::fs::write(&config_path, &toml)?;
    let config = Arc::new(Config::from_toml(&toml, std::env::vars())?);
    let store = Store::open(&config).await?;
    println!("Corridor demo");
    println!("  store   {}", config.database_url());
    println!(
        "  gateway http://{listen}   ledger write-backs {}",
        ledger.url()
    );
    println!(
        "  bank {} (ISO 20022, HTTPS, mutual TLS)   wallet switch {} (ISO 8583, TCP)",
        bank.mx_url(),
        switch.addr
    );

    let mut gateway = crate::gateway::start(config.clone(), store.clone(), true).await?;

    let mut generator_config = GeneratorConfig::new(LEDGER, args.seed);
    // Some settlements pay PHP into mobile wallets: they go over the ISO 8583 rail.
    generator_config.mix.msisdn_share = 0.1;
    let mut generator = LedgerSim::new(generator_config);
    let events = generator.take(args.events);
    let poster = sim::ledger::LedgerPoster::new(PosterConfig {
        gateway_base: format!("http://{listen}"),
        ledger: LEDGER.into(),
        secret: LEDGER_SECRET.as_bytes().to_vec(),
        tls: None,
        timeout_ms: 30_000,
    })?;

    let mut statuses: HashMap<u16, usize> = HashMap::new();
    let half = events.len() / 2;
    let mut posted = 0;
    for (round, chunk) in events.chunks(25).enumerate() {
        if posted >= half && posted - chunk.len() < half {
            // Kill the gateway mid-flight: leases stay held, answers in flight are lost.
            println!("  … killing the gateway with work in flight, and starting it again on the same store");
            gateway.kill().await;
            gateway = crate::gateway::start(config.clone(), store.clone(), true).await?;
        }
        // Alternate batches and single posts, as ledgers do both.
        let plain: Vec<_> = chunk.iter().map(|g| g.event.clone()).collect();
        if round % 2 == 0 {
            let outcome = poster.post_batch(&plain).await?;
            let body = outcome.json().context("batch answer is JSON")?;
            for result in body["results"].as_array().into_iter().flatten() {
                *statuses
                    .entry(result["status"].as_u64().unwrap_or(0) as u16)
                    .or_default() += 1;
            }
        } else {
            for outcome in poster.post_each(&plain).await {
                *statuses.entry(outcome?.status).or_default() += 1;
            }
        }
        posted += chunk.len();
        progress(&store, posted, events.len(), &ledger).await?;
    }

    let deadline = Instant::now() + Duration::from_secs(args.timeout_seconds);
    loop {
        let (finals, total, idle) = completion(&store).await?;
        if finals == total && idle {
            break;
        }
        if Instant::now() > deadline {
            println!("  gave up waiting: {finals}/{total} final, outbox idle: {idle}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        progress(&store, posted, events.len(), &ledger).await?;
    }
    // Give duplicate bank answers still in flight a moment to arrive and be journaled.
    bank.wait_for_callbacks(bank.stats().callbacks_sent, Duration::from_secs(2))
        .await;

    let ok = summary(&store, &events, &statuses, &ledger, &bank, &switch).await?;
    import_statements(&store, &config, &bank, &switch, &dir).await;
    reconcile(&store, &config).await?;
    println!("  took {:.1} s", started.elapsed().as_secs_f64());
    println!(
        "  inspect: corridor settlements list --config {}",
        config_path.display()
    );
    if args.keep_running {
        println!();
        println!("  review page: http://{listen}/review   sign in with the token {REVIEW_TOKEN}");
        println!(
            "  (viewer and operator tokens: see [server] api_tokens in {})",
            config_path.display()
        );
        println!("  serving until Ctrl-C …");
        tokio::signal::ctrl_c().await?;
    }
    gateway.shutdown().await;
    switch.shutdown();
    bank.shutdown().await;
    ledger.shutdown().await;
    store.close().await;
    if !ok {
        bail!("the demo's end-to-end check failed (see above)");
    }
    Ok(())
}

#[cfg(feature = "sim")]
async fn completion(store: &Store) -> anyhow::Result<(i64, i64, bool)> {
    let mut conn = store.pool().acquire().await?;
    let counts = settlements::count_by_state(&mut conn).await?;
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    let finals: i64 = counts
        .iter()
        .filter(|(s, _)| s.is_final())
        .map(|(_, n)| n)
        .sum();
    Ok((finals, total, outbox::is_idle(&mut conn).await?))
}

#[cfg(feature = "sim")]
async fn progress(
    store: &Store,
    posted: usize,
    of: usize,
    ledger: &sim::ledger::WritebackHandle,
) -> anyhow::Result<()> {
    let (finals, total, _) = completion(store).await?;
    println!(
        "  posted {posted:>4}/{of}   settlements {total:>4}   final {finals:>4}   written back {:>4}",
        ledger.stats().recorded
    );
    Ok(())
}

// Long on purpose: the demo's closing report, one independent count after another in the
// order it prints them (states, ledger, bank, switch, journal), each read straight down.
/// The simulated bank's end-of-day camt.053 from its own books, one per currency account (a
/// bank keeps one account, with its own balance, per currency), and the wallet switch's daily
/// settlement CSV, each imported as an operator would (`corridor statements import`). A
/// refusal is printed and the demo goes on: reconciliation then works with what it has.
#[cfg(feature = "sim")]
async fn import_statements(
    store: &Store,
    config: &Config,
    bank: &sim::bank::BankHandle,
    switch: &sim::switch::SwitchHandle,
    dir: &Path,
) {
    println!();
    for (ccy, xml) in bank.statements(&sim::bank::StatementRequest::default()) {
        let name = format!("sim-bank-eod-{ccy}.camt053.xml");
        import_statement(
            store,
            config,
            dir,
            &name,
            &xml,
            &format!("camt.053 ({ccy})"),
        )
        .await;
    }
    let today = time::OffsetDateTime::now_utc().date().to_string();
    let wallet_currencies = config
        .routes
        .iter()
        .filter(|r| r.rail == crate::domain::Rail::Wallet)
        .flat_map(|r| r.currencies.iter().map(|c| c.code().to_string()));
    for ccy in wallet_currencies.collect::<std::collections::BTreeSet<_>>() {
        let csv = switch.settlement_csv(&ccy, &today, &sim::statements::Script::default());
        if csv.lines().count() <= 1 {
            continue; // Nothing credited in this currency: no report.
        }
        let name = format!("sim-switch-settlement-{ccy}-{today}.csv");
        let what = format!("settlement report ({ccy})");
        import_statement(store, config, dir, &name, &csv, &what).await;
    }
}

/// Writes one statement file under `dir/statements` and imports it; prints what happened.
#[cfg(feature = "sim")]
async fn import_statement(
    store: &Store,
    config: &Config,
    dir: &Path,
    name: &str,
    body: &str,
    what: &str,
) {
    use crate::recon::statements::import::{import, ImportOptions, Source};
    let path = dir.join("statements").join(name);
    let written =
        std::fs::create_dir_all(dir.join("statements")).and_then(|()| std::fs::write(&path, body));
    if let Err(e) = written {
        println!("  statement: could not write {}: {e}", path.display());
        return;
    }
    let mut options = ImportOptions::new(Source::Cli);
    options.file_name = Some(path.display().to_string());
    options.raw_dir = Some(config.statements.raw_dir(&config.store));
    match import(store, &path, &options).await {
        Ok(r) => println!(
            "  statement: {what} as {}, {} entries imported, balances add up: {}",
            r.format,
            r.entries,
            r.balance_ok
                .map_or("not stated".to_string(), |b| b.to_string())
        ),
        Err(e) => println!("  statement: {what} was refused: {e}"),
    }
}

/// The closing reconciliation: the four sources (with the bank's statement when it was
/// imported), and a summary of the breaks by type.
#[cfg(feature = "sim")]
async fn reconcile(store: &Store, config: &Config) -> anyhow::Result<()> {
    let report =
        crate::recon::run::run(store, config, crate::store::now_ms(), false, "demo").await?;
    println!();
    println!(
        "  reconciliation: {} settlements, {} statement entries, {} matches; {} breaks",
        report.settlements, report.entries, report.matches, report.breaks_opened
    );
    for (kind, n) in &report.breaks_by_kind {
        println!("    {kind:<24} {n:>4}");
    }
    Ok(())
}

// Long on purpose: the closing report read top to bottom, one count or check after another
// in the order it prints; each part is a few lines of query and print.
#[cfg(feature = "sim")]
async fn summary(
    store: &Store,
    events: &[GeneratedEvent],
    statuses: &HashMap<u16, usize>,
    ledger: &sim::ledger::WritebackHandle,
    bank: &sim::bank::BankHandle,
    switch: &sim::switch::SwitchHandle,
) -> anyhow::Result<bool> {
    let mut conn = store.pool().acquire().await?;
    let counts: BTreeMap<_, _> = settlements::count_by_state(&mut conn)
        .await?
        .into_iter()
        .map(|(s, n)| (s.as_str(), n))
        .collect();
    println!();
    println!("  {:<12} {:>6}", "state", "count");
    for state in SettlementState::ALL {
        if let Some(n) = counts.get(state.as_str()) {
            println!("  {:<12} {:>6}", state.as_str(), n);
        }
    }
    let mut codes: Vec<_> = statuses.iter().collect();
    codes.sort();
    let answers: Vec<String> = codes.iter().map(|(c, n)| format!("{n}×{c}")).collect();
    println!();
    println!(
        "  ledger events posted: {} ({})",
        events.len(),
        answers.join(", ")
    );

    // Each new, valid event must have exactly one write-back, with the outcome it was
    // generated for; nothing else may have been written back.
    let mut missing = 0;
    let mut multiple = 0;
    let mut wrong = 0;
    let mut expected_ids = HashSet::new();
    let mut wallet_expected: BTreeMap<String, i64> = BTreeMap::new();
    for generated in events.iter().filter(|g| g.kind.is_new_settlement()) {
        let id = &generated.event.event_id;
        expected_ids.insert(id.clone());
        let settled_ids = ledger.settlements_for_event(LEDGER, id);
        match settled_ids.len() {
            0 => missing += 1,
            1 => {
                let outcome = ledger
                    .outcome(LEDGER, id)
                    .map(|w| (w.outcome, w.reason_code));
                let to_wallet = matches!(
                    generated.event.creditor.account,
                    sim::ledger::Account::Msisdn { .. }
                );
                let fits = match (generated.kind.expected(), &outcome) {
                    // The switch is scripted to leave one credit unanswered and to decline
                    // one; the balances below check that each landed (or not) to the cent.
                    // The bank's scripted directives do not apply to wallet payments.
                    (_, Some((o, _))) if to_wallet => {
                        ["settled", "reversed", "rejected"].contains(&o.as_str())
                    }
                    (Expected::Settled, Some((o, _))) => o == "settled",
                    (Expected::Rejected { code }, Some((o, c))) => {
                        o == "rejected" && c.as_deref() == Some(code.as_str())
                    }
                    _ => false,
                };
                if to_wallet {
                    if let (Some(w), sim::ledger::Account::Msisdn { msisdn }) = (
                        ledger.outcome(LEDGER, id),
                        &generated.event.creditor.account,
                    ) {
                        if w.outcome == "settled" {
                            let currency = crate::domain::Currency::parse(
                                w.currency.as_deref().unwrap_or(""),
                            )?;
                            let amount = crate::domain::Amount::parse_decimal(
                                w.amount.as_deref().unwrap_or(""),
                                currency,
                            )?;
                            *wallet_expected
                                .entry(msisdn.trim_start_matches('+').to_string())
                                .or_insert(0) += amount.minor();
                        }
                    }
                }
                if !fits {
                    wrong += 1;
                    println!("  ! {id} ({:?}) ended as {outcome:?}", generated.kind);
                }
            }
            _ => multiple += 1,
        }
    }
    let stray = ledger
        .outcomes()
        .iter()
        .filter(|w| !expected_ids.contains(&w.event_id))
        .count();
    let stats = ledger.stats();
    println!(
        "  write-backs: {} recorded, {} repeated deliveries absorbed by the ledger's idempotency key",
        stats.recorded,
        stats.duplicates
    );
    let bank_stats = bank.stats();
    let one_msg_id = bank_stats
        .msg_ids_per_uetr
        .values()
        .all(|ids| ids.iter().collect::<HashSet<_>>().len() == 1);
    println!(
        "  bank: {} messages ({} status requests), {} distinct UETRs, {} resends of a known UETR, one MsgId per UETR: {}",
        bank_stats.messages_received,
        bank_stats.status_requests,
        bank_stats.distinct_uetrs,
        bank_stats.resends,
        if one_msg_id { "yes" } else { "NO" }
    );
    let kinds = crate::store::messages::count_by_kind(&mut conn).await?;
    let prepared = |kind: &str| kinds.iter().find(|(k, _)| k == kind).map_or(0, |(_, n)| *n);
    let sent_to_bank = prepared(crate::rails::bank::PACS008);
    let switch_counters = switch.counters();
    let wallet_credits = prepared(crate::rails::wallet::CREDIT);
    let balances = switch.balances();
    let to_the_cent = wallet_expected
        .iter()
        .all(|(msisdn, minor)| balances.get(msisdn) == Some(minor))
        && balances.values().sum::<i64>() == wallet_expected.values().sum::<i64>();
    let never_twice = switch_counters.credits as i64 <= wallet_credits && to_the_cent;
    println!(
        "  wallet switch: {} credits for {wallet_credits} settlements sent, {} declines, {} reversals; wallet balances equal the settled amounts to the cent: {}",
        switch_counters.credits,
        switch_counters.declines,
        switch_counters.reversals,
        if never_twice { "yes" } else { "NO" }
    );
    let journal = crate::store::journal::count_by_status(&mut conn).await?;
    let journal: Vec<String> = journal.iter().map(|(s, n)| format!("{n} {s}")).collect();
    println!("  inbound journal: {}", journal.join(", "));
    let late_or_twice = events
        .iter()
        .filter(|g| {
            matches!(
                g.kind,
                EventKind::Late { .. }
                    | EventKind::Twice
                    | EventKind::DropFirst
                    | EventKind::Silent
                    | EventKind::Lose
            )
        })
        .count();
    println!(
        "  scripted bank trouble: {late_or_twice} settlements answered late, twice, not at first, or only when asked (pacs.028)"
    );
    let all_good = missing == 0
        && multiple == 0
        && wrong == 0
        && stray == 0
        && one_msg_id
        && bank_stats.distinct_uetrs as i64 == sent_to_bank
        && never_twice;
    println!();
    println!(
        "  every ledger event reached exactly one final outcome: {}",
        if all_good {
            "YES".to_string()
        } else {
            format!("NO ({missing} missing, {multiple} written back twice, {wrong} unexpected, {stray} stray; bank UETRs {} vs {sent_to_bank} sent)", bank_stats.distinct_uetrs)
        }
    );
    Ok(all_good)
}
