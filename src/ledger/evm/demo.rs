//! `corridor demo --ledger evm`: the whole flow with an EVM chain as the ledger.
//!
//! A local anvil (from the npm package `@foundry-rs/anvil`, or `PATH`) gets the `Settlement`
//! contract; a simulated operator posts instructions to it, some to the bank rail (EUR to an
//! IBAN), some to wallets (PHP to an MSISDN); the gateway follows the contract, settles them
//! through the simulated bank and wallet switch (which declines one credit and leaves one
//! unanswered, so that it is reversed), is killed and started again half way, and records
//! every outcome on chain. The demo then reads the outcomes back from the chain and checks
//! that every instruction reached exactly one final outcome, which agrees with the store and
//! with the SHA-256 of the journaled confirmation.

use super::anvil::{self, Anvil, Instruction, Operator};
use super::status;
use crate::config::Config;
use crate::demo::{
    demo_config, DemoArgs, BANK_BIC, BANK_CALLBACK_SECRET, BANK_ID, WRITEBACK_SECRET,
};
use crate::domain::SettlementState;
use crate::store::{outbox, settlements, Store};
use alloy::providers::Provider as _;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use anyhow::{bail, Context};
use ledger_evm::contract::SettlementOutcome;
use ledger_evm::{B256, U256};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The evm ledger's name in the demo's configuration.
pub const LEDGER: &str = "demo-chain";
/// The environment variable the demo's gateway key is read from.
pub const KEY_ENV: &str = "CORRIDOR_DEMO_GATEWAY_KEY";
const DEBTOR: &str = "DE89370400440532013000";
const BANK_CREDITOR: &str = "FR1420041010050500013M02606";
/// The same IBAN with its check digits changed: the intake refuses it.
const BANK_CREDITOR_BAD_CHECK: &str = "FR1520041010050500013M02606";

/// The `[[ledgers]]` entry of the demo's chain (appended to the demo configuration).
pub fn ledger_toml(rpc_url: &str, chain_id: u64, contract: &str, start_block: u64) -> String {
    format!(
        r#"
[[ledgers]]
id = "{LEDGER}"
kind = "evm"
rpc_url = "{rpc_url}"
chain_id = {chain_id}
contract = "{contract}"
confirmations = 2
start_block = {start_block}
key_env = "{KEY_ENV}"
poll_interval_ms = 100

[[ledgers.parties]]
account = "{DEBTOR}"
name = "Acme GmbH"
bic = "COBADEFFXXX"
address = {{ street_name = "Friedrichstrasse", building_number = "123", post_code = "10117", town_name = "Berlin", country = "DE" }}

[[ledgers.parties]]
account = "{BANK_CREDITOR}"
name = "Jane Roe"
bic = "BNPAFRPPXXX"
country = "FR"
address = {{ street_name = "Rue de Rivoli", building_number = "10", post_code = "75001", town_name = "Paris", country = "FR" }}
"#
    )
}

fn instruction(n: u64) -> Instruction {
    let wallet = n % 3 == 2;
    Instruction {
        id: anvil::instruction_id(0xde70, n),
        // A 6-decimal token: 25.00 plus n cents, exact in the currencies' 2 decimals.
        units: U256::from(25_000_000u64 + n * 10_000),
        decimals: 6,
        currency: if wallet { "PHP" } else { "EUR" }.into(),
        debtor_ref: DEBTOR.into(),
        creditor_ref: if wallet {
            format!("+6391712{:05}", n)
        } else {
            BANK_CREDITOR.into()
        },
    }
}

// Long on purpose: the demo's script in the order it happens (chain, counterparties,
// gateway, instructions with a kill half way, wait, read back, verdict), read top to bottom.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    crate::telemetry::init_logs(crate::telemetry::LogFormat::Human, "error");
    crate::telemetry::prometheus();
    let started = Instant::now();
    let mut chain = match Anvil::start(&[]).await {
        Ok(anvil) => anvil,
        Err(why) => bail!("{why}"),
    };
    let dir = &args.data_dir;
    if dir.exists() {
        std::fs::remove_dir_all(dir).with_context(|| format!("emptying {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir)?;
    let dir = dir.canonicalize()?;
    // The demo's key is a published test key: fine for a throwaway anvil, never for a chain.
    std::env::set_var(KEY_ENV, anvil::DEMO_GATEWAY_KEY_HEX);
    let gateway_address = ledger_evm::key::GatewayKey::from_hex(anvil::DEMO_GATEWAY_KEY_HEX)
        .context("the demo key")?
        .address();
    let operator = Operator::deploy(chain.provider(), gateway_address)
        .await
        .map_err(anyhow::Error::msg)?;
    let chain_id = operator.provider.get_chain_id().await?;

    let pki = sim::pki::DemoPki::generate()?;
    pki.write_to(&dir.join("pki"))?;
    let http_ledger =
        sim::ledger::start_writeback(sim::ledger::WritebackConfig::new(WRITEBACK_SECRET)).await?;
    let listen = crate::demo::reserve_port()?;
    let mut bank_config = sim::bank::BankConfig::new(pki.bank_server_config()?);
    bank_config.bank_id = BANK_ID.into();
    bank_config.bic = BANK_BIC.into();
    bank_config.callback_base = Some(format!("http://{listen}"));
    bank_config.callback_secret = BANK_CALLBACK_SECRET.as_bytes().to_vec();
    let bank = sim::bank::BankSim::start(bank_config).await?;
    let mut switch_config =
        sim::switch::SwitchConfig::local(iso8583::specs::builtin("mobile-money")?);
    switch_config.rules = vec![
        sim::switch::Rule {
            when: sim::switch::Match::Any,
            action: sim::switch::Action::Decline("51".into()),
            times: Some(1),
        },
        sim::switch::Rule {
            when: sim::switch::Match::Any,
            action: sim::switch::Action::NoAnswer,
            times: Some(1),
        },
    ];
    let switch = sim::switch::start(switch_config).await?;
    let toml = format!(
        "{}{}",
        demo_config(
            &dir,
            listen,
            &bank.mx_url(),
            &http_ledger.url(),
            switch.addr
        ),
        ledger_toml(
            &chain.url,
            chain_id,
            &operator.contract.to_string(),
            operator.deployed_in
        )
    );
    let config_path = dir.join("corridor.toml");
    std::fs::write(&config_path, &toml)?;
    let config = Arc::new(Config::from_toml(&toml, std::env::vars())?);
    let store = Store::open(&config).await?;
    println!("Corridor demo: an EVM chain as the ledger");
    println!(
        "  chain   {} (anvil, chain id {chain_id})   contract {}",
        chain.url, operator.contract
    );
    println!("  store   {}", config.database_url());
    println!(
        "  bank {} (ISO 20022, HTTPS, mutual TLS)   wallet switch {} (ISO 8583, TCP)",
        bank.mx_url(),
        switch.addr
    );
    let mut gateway = crate::gateway::start(config.clone(), store.clone(), true).await?;

    let count = args.instructions as u64;
    let mut instructions: Vec<Instruction> = (0..count).map(instruction).collect();
    // And one the intake must refuse: a creditor IBAN whose check digits are wrong. It gets
    // no settlement, and still its one outcome on chain: failed, with the field named.
    let mut refused = instruction(count);
    refused.currency = "EUR".into();
    refused.creditor_ref = BANK_CREDITOR_BAD_CHECK.into();
    instructions.push(refused);
    for (n, i) in instructions.iter().enumerate() {
        if n == instructions.len() / 2 {
            println!("  … killing the gateway with work in flight, and starting it again on the same store");
            gateway.kill().await;
            gateway = crate::gateway::start(config.clone(), store.clone(), true).await?;
        }
        operator.request(i).await.map_err(anyhow::Error::msg)?;
    }
    println!(
        "  operator posted {} instructions ({} to the bank, {} to wallets, and one with a bad IBAN that the gateway must refuse)",
        count + 1,
        instructions.iter().filter(|i| i.currency == "EUR").count() - 1,
        instructions.iter().filter(|i| i.currency == "PHP").count()
    );

    let deadline = Instant::now() + Duration::from_secs(args.timeout_seconds);
    loop {
        // The chain moves on (confirmations), as a real one would.
        operator.mine(1).await.map_err(anyhow::Error::msg)?;
        let (total, finals, recorded, idle) = standing(&store).await?;
        let refusals = refusals_recorded(&store).await?;
        println!("  settlements {total:>4}   final {finals:>4}   recorded on chain {recorded:>4}   refusals recorded {refusals}");
        if total == count as i64 && finals == total && recorded == total && idle && refusals == 1 {
            break;
        }
        if Instant::now() > deadline {
            println!("  gave up waiting after {} s", args.timeout_seconds);
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }

    let ok = read_back(&store, &config, &operator, &instructions).await?;
    if let Some(s) = status::all(&store, &config)
        .await?
        .into_iter()
        .find(|s| s.ledger == LEDGER)
    {
        println!(
            "  ledger status: cursor block {}, head {}, lag {} blocks, {} outcome transactions pending, {} conflicts",
            s.cursor_block.unwrap_or(0),
            s.head_block.unwrap_or(0),
            s.lag_blocks.unwrap_or(0),
            s.outcome_txs_pending,
            s.conflicts.len()
        );
    }
    println!("  took {:.1} s", started.elapsed().as_secs_f64());
    println!(
        "  inspect: corridor ledger status --config {}   (keep {KEY_ENV} set; the chain stops with the demo)",
        config_path.display()
    );
    gateway.shutdown().await;
    switch.shutdown();
    bank.shutdown().await;
    http_ledger.shutdown().await;
    store.close().await;
    chain.kill().await;
    if !ok {
        bail!("the demo's end-to-end check failed (see above)");
    }
    Ok(())
}

async fn refusals_recorded(store: &Store) -> anyhow::Result<i64> {
    let mut conn = store.pool().acquire().await?;
    let counts = super::store::refusal_counts(&mut conn, LEDGER).await?;
    Ok(counts
        .iter()
        .find(|(s, _)| s == "recorded")
        .map_or(0, |(_, n)| *n))
}

async fn standing(store: &Store) -> anyhow::Result<(i64, i64, i64, bool)> {
    let mut conn = store.pool().acquire().await?;
    let counts = settlements::count_by_state(&mut conn).await?;
    let total: i64 = counts.iter().map(|(_, n)| n).sum();
    let finals: i64 = counts
        .iter()
        .filter(|(s, _)| s.is_final())
        .map(|(_, n)| n)
        .sum();
    let recorded: i64 = sqlx::Row::try_get(
        &sqlx::query("SELECT COUNT(*) AS n FROM settlements WHERE written_back_at_ms IS NOT NULL")
            .fetch_one(&mut *conn)
            .await?,
        "n",
    )?;
    Ok((total, finals, recorded, outbox::is_idle(&mut conn).await?))
}

/// Reads every outcome back from the chain and checks it against the store and journal.
// Long on purpose: one pass over the instructions that counts and prints together (the
// first ten shown, each missing, doubled or disagreeing outcome counted); split, the counts
// would travel between the halves.
async fn read_back(
    store: &Store,
    config: &Config,
    operator: &Operator,
    instructions: &[Instruction],
) -> anyhow::Result<bool> {
    let filter = Filter::new()
        .address(operator.contract)
        .event_signature(SettlementOutcome::SIGNATURE_HASH)
        .from_block(0u64);
    let mut logs: HashMap<B256, usize> = HashMap::new();
    for log in operator.provider.get_logs(&filter).await? {
        *logs.entry(log.topics()[1]).or_default() += 1;
    }
    let mut on_chain: BTreeMap<String, usize> = BTreeMap::new();
    let (mut missing, mut twice, mut disagree) = (0, 0, 0);
    println!();
    println!("  outcomes read back from the chain (first ten):");
    for (n, i) in instructions.iter().enumerate() {
        match logs.get(&i.id).copied().unwrap_or(0) {
            0 => missing += 1,
            1 => {}
            _ => twice += 1,
        }
        let Some(outcome) = operator.outcome(i.id).await.map_err(anyhow::Error::msg)? else {
            continue;
        };
        *on_chain.entry(outcome.status.to_string()).or_default() += 1;
        let settlement = settlement_of(store, i.id).await?;
        let agrees = match &settlement {
            Some(sid) => status::verify(store, config, sid).await?.ok,
            // Refused by the intake: `failed`, the field named, and no evidence.
            None => {
                outcome.status == ledger_evm::contract::OutcomeStatus::Failed
                    && outcome.reason_code.starts_with("INVALID")
                    && outcome.evidence == B256::ZERO
            }
        };
        if !agrees {
            disagree += 1;
        }
        if n < 10 || !agrees || settlement.is_none() {
            println!(
                "    …{}  {:<4} {:<10} reason {:<5} ref {:<36} evidence {}…  {}",
                &i.id.to_string()[54..],
                i.currency,
                outcome.status.as_str(),
                outcome.reason_code,
                outcome.counterparty_ref,
                &outcome.evidence.to_string()[..18],
                match (agrees, settlement.is_some()) {
                    (true, true) => "agrees with the store and journal",
                    (true, false) => "refused by the intake: no settlement, one failed outcome",
                    (false, _) => "DISAGREES",
                }
            );
        }
    }
    let counts: Vec<String> = on_chain.iter().map(|(s, n)| format!("{n} {s}")).collect();
    println!("  on chain: {}", counts.join(", "));
    let mut conn = store.pool().acquire().await?;
    let states = settlements::count_by_state(&mut conn).await?;
    let states: Vec<String> = SettlementState::ALL
        .into_iter()
        .filter_map(|s| {
            states
                .iter()
                .find(|(x, _)| *x == s)
                .map(|(_, n)| format!("{n} {s}"))
        })
        .collect();
    println!("  in the store: {}", states.join(", "));
    let good = missing == 0 && twice == 0 && disagree == 0 && logs.len() == instructions.len();
    println!();
    println!(
        "  every event reached exactly one final outcome: {}",
        if good {
            "YES".to_string()
        } else {
            format!("NO ({missing} without an outcome, {twice} with more than one, {disagree} disagreeing with the store)")
        }
    );
    Ok(good)
}

async fn settlement_of(store: &Store, id: B256) -> anyhow::Result<Option<String>> {
    let mut conn = store.pool().acquire().await?;
    let row =
        sqlx::query("SELECT settlement_id FROM evm_events WHERE ledger = $1 AND request_id = $2")
            .bind(LEDGER)
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await?;
    Ok(row.and_then(|r| {
        sqlx::Row::try_get::<Option<String>, _>(&r, "settlement_id")
            .ok()
            .flatten()
    }))
}
