//! The EVM chain as a ledger, end to end on a real anvil: a simulated operator posts
//! instructions to the `Settlement` contract, the gateway follows them, settles them through
//! the simulated bank (HTTPS, ISO 20022) and switch (ISO 8583), and records every outcome on
//! chain. On SQLite and PostgreSQL.
//!
//! After each test: every instruction on chain has exactly one `SettlementOutcome`, and the
//! contract agrees with the store settlement by settlement (status, and evidence = SHA-256 of
//! the confirmation as journaled), which `ledger verify` also says.
//!
//! Without an anvil binary the tests print `SKIPPED [anvil]` and pass, unless
//! `CORRIDOR_REQUIRE_ANVIL=1`.

mod common;

use alloy::providers::Provider as _;
use alloy::rpc::types::Filter;
use alloy::sol_types::{SolCall, SolEvent};
use common::world::{Options, World};
use common::{on_each_store, TestDb};
use corridor::domain::{SettlementId, SettlementState};
use corridor::intake::admission::Admission;
use corridor::ledger::evm::anvil::{self, Anvil, Instruction, Operator};
use corridor::ledger::evm::follow::Following;
use corridor::ledger::evm::{self as evm, status, store as evm_store, EvmLedgerRef};
use corridor::store::{journal, outbox, settlements};
use ledger_evm::contract::{
    Entry, RefundRequested, Settlement, SettlementCorrected, SettlementOutcome,
};
use ledger_evm::{B256, U256};
use sha2::{Digest, Sha256};
use sqlx::Row;
use std::collections::HashMap;
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

const LEDGER: &str = "chain";
const KEY_ENV: &str = "CORRIDOR_CHAIN_TEST_KEY";
const WAIT: Duration = Duration::from_secs(60);
const CHAIN_ID: u64 = 31337;

const BANK_DEBTOR: &str = "DE89370400440532013000";
const BANK_CREDITOR: &str = "FR1420041010050500013M02606";
const WALLET_CREDITOR: &str = "+639171234567";

struct ChainOptions {
    confirmations: u64,
    workers: bool,
    lease_ms: i64,
    resubmit_after_ms: u64,
    range_blocks_max: u64,
    ranges_per_poll_max: u32,
    /// Put a TCP forwarder between the gateway and the node (to take it away).
    proxy: bool,
    /// `finality = "finalized"` instead of `confirmations`.
    finalized: bool,
    /// Extra arguments for anvil.
    anvil_args: &'static [&'static str],
}

impl Default for ChainOptions {
    fn default() -> Self {
        ChainOptions {
            confirmations: 2,
            workers: true,
            lease_ms: 10_000,
            resubmit_after_ms: 60_000,
            range_blocks_max: 100,
            ranges_per_poll_max: 10,
            proxy: false,
            finalized: false,
            anvil_args: &[],
        }
    }
}

struct Chain {
    world: World,
    op: Operator,
    proxy: Option<Proxy>,
    _anvil: Anvil,
}

/// Starts anvil, deploys the contract, and starts the world with an evm ledger on it; `None`
/// (after saying so) without anvil.
async fn start(test: &str, db: TestDb, o: ChainOptions) -> Result<Chain, TestDb> {
    let anvil = match Anvil::start(o.anvil_args).await {
        Ok(anvil) => anvil,
        Err(why) => {
            if std::env::var("CORRIDOR_REQUIRE_ANVIL").as_deref() == Ok("1") {
                panic!("{test}: CORRIDOR_REQUIRE_ANVIL=1 but: {why}");
            }
            let _ = writeln!(std::io::stderr(), "SKIPPED [anvil] {test}: {why}");
            return Err(db);
        }
    };
    std::env::set_var(KEY_ENV, anvil::DEMO_GATEWAY_KEY_HEX);
    let gateway = ledger_evm::key::GatewayKey::from_hex(anvil::DEMO_GATEWAY_KEY_HEX)
        .unwrap()
        .address();
    let op = Operator::deploy(anvil.provider(), gateway).await.unwrap();
    let proxy = if o.proxy {
        Some(Proxy::start(anvil.port).await)
    } else {
        None
    };
    let rpc_url = proxy.as_ref().map_or(anvil.url.clone(), Proxy::url);
    let extra_toml = format!(
        r#"
[[ledgers]]
id = "{LEDGER}"
kind = "evm"
rpc_url = "{rpc_url}"
chain_id = {CHAIN_ID}
contract = "{contract}"
{finality}
start_block = {start}
key_env = "{KEY_ENV}"
poll_interval_ms = 50
rpc_timeout_ms = 2000
range_blocks_max = {range}
ranges_per_poll_max = {ranges}
resubmit_after_ms = {resubmit}

[[ledgers.parties]]
account = "{BANK_DEBTOR}"
name = "Acme GmbH"
bic = "COBADEFFXXX"
address = {{ street_name = "Friedrichstrasse", town_name = "Berlin", country = "DE" }}

[[ledgers.parties]]
account = "{BANK_CREDITOR}"
name = "Jane Roe"
bic = "BNPAFRPPXXX"
country = "FR"
address = {{ street_name = "Rue de Rivoli", town_name = "Paris", country = "FR" }}
"#,
        contract = op.contract,
        finality = if o.finalized {
            "finality = \"finalized\"".to_string()
        } else {
            format!("confirmations = {}", o.confirmations)
        },
        start = op.deployed_in,
        range = o.range_blocks_max,
        ranges = o.ranges_per_poll_max,
        resubmit = o.resubmit_after_ms,
    );
    let world = World::start(
        db,
        Options {
            workers: o.workers,
            lease_ms: o.lease_ms,
            bank_timeout_ms: 1_000,
            extra_toml,
            ..Default::default()
        },
    )
    .await;
    Ok(Chain {
        world,
        op,
        proxy,
        _anvil: anvil,
    })
}

/// An instruction to the bank rail (EUR, IBAN to IBAN) or to a wallet (PHP to an MSISDN).
fn instruction(tag: u64, n: u64, wallet: bool) -> Instruction {
    let (currency, creditor) = if wallet {
        ("PHP", WALLET_CREDITOR)
    } else {
        ("EUR", BANK_CREDITOR)
    };
    Instruction {
        id: anvil::instruction_id(tag, n),
        // 12.34 plus n cents, in a 6-decimal token: exact in the currency's 2 decimals.
        units: U256::from(12_340_000u64 + n * 10_000),
        decimals: 6,
        currency: currency.into(),
        debtor_ref: BANK_DEBTOR.into(),
        creditor_ref: creditor.into(),
    }
}

impl Chain {
    fn label(&self) -> &'static str {
        self.world.db.label
    }

    fn ledger(&self) -> EvmLedgerRef {
        EvmLedgerRef::of(self.world.config.ledger(LEDGER).unwrap())
            .unwrap()
            .unwrap()
    }

    /// A follower stepped by the test (for worlds without background tasks).
    fn following(&self) -> Following {
        self.following_with(Admission::new(0))
    }

    /// [`Chain::following`], pausing while `admission` refuses.
    fn following_with(&self, admission: Arc<Admission>) -> Following {
        let gateway = self.world.gateway.as_ref().unwrap();
        Following::new(
            self.ledger(),
            self.world.db.store.clone(),
            self.world.config.clone(),
            gateway.dispatcher.wake.clone(),
            gateway.evm_sinks[LEDGER].clone(),
            admission,
        )
    }

    async fn drain(&self) {
        let gateway = self.world.gateway.as_ref().unwrap();
        gateway.dispatcher.drain("test-step", 1000).await.unwrap();
    }

    /// Settlement counts by state, whether the outbox is idle, and how many final
    /// settlements are not yet written back.
    async fn standing(&self) -> (HashMap<SettlementState, i64>, bool, i64) {
        let mut conn = self.world.db.store.pool().acquire().await.unwrap();
        let counts = settlements::count_by_state(&mut conn).await.unwrap();
        let idle = outbox::is_idle(&mut conn).await.unwrap();
        let unwritten: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM settlements WHERE written_back_at_ms IS NULL")
                .fetch_one(&mut *conn)
                .await
                .unwrap()
                .try_get("n")
                .unwrap();
        (counts.into_iter().collect(), idle, unwritten)
    }

    /// Waits until `n` settlements exist, all final, written back, and the outbox is idle.
    async fn wait_all_written_back(&self, n: i64) {
        let deadline = Instant::now() + WAIT;
        loop {
            let (counts, idle, unwritten) = self.standing().await;
            let total: i64 = counts.values().sum();
            let finals: i64 = counts
                .iter()
                .filter(|(s, _)| s.is_final())
                .map(|(_, c)| c)
                .sum();
            if total == n && finals == n && idle && unwritten == 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{}: not all written back: {counts:?}, idle {idle}, unwritten {unwritten}",
                self.label()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until `check` holds on the store.
    async fn wait_until<F, Fut>(&self, what: &str, check: F)
    where
        F: Fn(corridor::store::Store) -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + WAIT;
        while !check(self.world.db.store.clone()).await {
            assert!(
                Instant::now() < deadline,
                "{}: timed out waiting for {what}",
                self.label()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// The settlement that came from the chain instruction `id`, with its log's status.
    async fn settlement_of(&self, id: B256) -> Option<(SettlementId, String)> {
        let mut conn = self.world.db.store.pool().acquire().await.unwrap();
        let row = sqlx::query(
            "SELECT settlement_id, status FROM evm_events WHERE ledger = $1 AND request_id = $2",
        )
        .bind(LEDGER)
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await
        .unwrap()?;
        let sid: Option<String> = row.try_get("settlement_id").unwrap();
        Some((
            SettlementId::parse(&sid?).unwrap(),
            row.try_get("status").unwrap(),
        ))
    }

    /// `SettlementOutcome` logs on chain, by settlement id.
    async fn outcome_logs(&self) -> HashMap<B256, usize> {
        let filter = Filter::new()
            .address(self.op.contract)
            .event_signature(SettlementOutcome::SIGNATURE_HASH)
            .from_block(0u64);
        let logs = self.op.provider.get_logs(&filter).await.unwrap();
        let mut count = HashMap::new();
        for log in logs {
            let id = log.topics()[1];
            *count.entry(id).or_insert(0) += 1;
        }
        count
    }

    /// Every instruction in `ids` has exactly one outcome on chain, and the contract agrees
    /// with the store: status, and evidence = SHA-256 of the journaled confirmation; `ledger
    /// verify` says the same. No outcome exists for any other id.
    async fn assert_chain_agrees(&self, ids: &[B256]) {
        self.assert_chain_agrees_with_refusals(ids, &[]).await;
    }

    /// [`Chain::assert_chain_agrees`] for `ids`, and each instruction in `refused` (which the
    /// intake refused) has exactly one outcome: `failed`, reason `INVALID:<field>`, with no
    /// settlement behind it, and the store says it is recorded.
    async fn assert_chain_agrees_with_refusals(&self, ids: &[B256], refused: &[(B256, &str)]) {
        let label = self.label();
        let logs = self.outcome_logs().await;
        for (id, field) in refused {
            assert_eq!(
                logs.get(id),
                Some(&1),
                "{label}: outcome logs of refused {id}: {logs:?}"
            );
            assert!(self.settlement_of(*id).await.is_none(), "{label}: {id}");
            let chain = self
                .op
                .outcome(*id)
                .await
                .unwrap()
                .expect("an outcome on chain");
            assert_eq!(
                chain.status,
                ledger_evm::contract::OutcomeStatus::Failed,
                "{label}: {id}"
            );
            assert_eq!(
                chain.reason_code,
                format!("INVALID:{field}"),
                "{label}: {id}"
            );
            assert_eq!(chain.evidence, B256::ZERO, "{label}: {id}");
            let mut conn = self.world.db.store.pool().acquire().await.unwrap();
            let status: String = sqlx::query(
                "SELECT status FROM evm_refusals WHERE ledger = $1 AND request_id = $2",
            )
            .bind(LEDGER)
            .bind(id.to_string())
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .try_get("status")
            .unwrap();
            assert_eq!(status, "recorded", "{label}: refusal of {id}");
        }
        for id in ids {
            assert_eq!(
                logs.get(id),
                Some(&1),
                "{label}: outcome logs of {id}: {logs:?}"
            );
            let (sid, _) = self
                .settlement_of(*id)
                .await
                .expect("a settlement per instruction");
            let mut conn = self.world.db.store.pool().acquire().await.unwrap();
            let record = settlements::get(&mut conn, &sid).await.unwrap().unwrap();
            let confirmation = evm_store::confirmation(&mut conn, sid.as_str())
                .await
                .unwrap();
            drop(conn);
            let chain = self
                .op
                .outcome(*id)
                .await
                .unwrap()
                .expect("an outcome on chain");
            // A correction appended on chain (settled, then returned) is what the chain says
            // now; it rests on the newest confirmation, and `ledger verify` checks the outcome's.
            let correction = self.entry(Entry::Correction, *id).await;
            let now_on_chain = correction.as_ref().map_or(chain.status, |c| c.status);
            assert_eq!(
                Some(now_on_chain),
                evm::outcome_status(record.state),
                "{label}: {sid}"
            );
            let expected = confirmation.as_ref().map_or(B256::ZERO, |(_, raw)| {
                B256::from_slice(&Sha256::digest(raw))
            });
            let evidence = correction.as_ref().map_or(chain.evidence, |c| c.evidence);
            assert_eq!(evidence, expected, "{label}: evidence of {sid}");
            if record.state == SettlementState::Settled {
                assert!(
                    confirmation.is_some(),
                    "{label}: {sid} settled without a journaled confirmation"
                );
                assert!(!chain.counterparty_ref.is_empty(), "{label}: {sid}");
            }
            let verdict = status::verify(&self.world.db.store, &self.world.config, sid.as_str())
                .await
                .unwrap();
            assert!(
                verdict.ok,
                "{label}: verify {sid}: {:?}",
                verdict.mismatches
            );
        }
        for id in logs.keys() {
            assert!(
                ids.contains(id) || refused.iter().any(|(r, _)| r == id),
                "{label}: an outcome for {id}, which is not an instruction here"
            );
        }
    }

    /// The contract's record `entry` of instruction `id`.
    async fn entry(&self, entry: Entry, id: B256) -> Option<ledger_evm::contract::StoredOutcome> {
        ledger_evm::contract::read_entry(&self.op.provider, self.op.contract, entry, id)
            .await
            .unwrap()
    }

    /// How many logs of `signature` the contract emitted about instruction `id`.
    async fn logs_about(&self, signature: B256, id: B256) -> usize {
        let filter = Filter::new()
            .address(self.op.contract)
            .event_signature(signature)
            .topic1(id)
            .from_block(0u64);
        self.op.provider.get_logs(&filter).await.unwrap().len()
    }

    /// The reconciliation breaks about `sid`: (kind, severity, state, audit lines).
    async fn breaks_of(&self, sid: &str) -> Vec<(String, String, String, i64)> {
        let mut conn = self.world.db.store.pool().acquire().await.unwrap();
        sqlx::query(
            "SELECT b.kind, b.severity, b.state, \
             (SELECT COUNT(*) FROM break_events e WHERE e.break_id = b.id) AS audit \
             FROM breaks b WHERE b.settlement_id = $1 ORDER BY b.id",
        )
        .bind(sid)
        .fetch_all(&mut *conn)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            (
                r.try_get("kind").unwrap(),
                r.try_get("severity").unwrap(),
                r.try_get("state").unwrap(),
                r.try_get("audit").unwrap(),
            )
        })
        .collect()
    }

    async fn conflicts(&self) -> Vec<evm_store::Conflict> {
        let mut conn = self.world.db.store.pool().acquire().await.unwrap();
        evm_store::open_conflicts(&mut conn, LEDGER, 100)
            .await
            .unwrap()
    }

    async fn reorg(&self, depth: u64) {
        let txs: Vec<serde_json::Value> = Vec::new();
        let _: serde_json::Value = self
            .op
            .provider
            .raw_request("anvil_reorg".into(), (depth, txs))
            .await
            .unwrap();
    }

    async fn set_automine(&self, on: bool) {
        let _: () = self
            .op
            .provider
            .raw_request("evm_setAutomine".into(), (on,))
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chain_instructions_settle_end_to_end() {
    on_each_store("chain_instructions_settle_end_to_end", |db| async move {
        let chain = match start(
            "chain_instructions_settle_end_to_end",
            db,
            ChainOptions::default(),
        )
        .await
        {
            Ok(chain) => chain,
            Err(db) => return db,
        };
        let mut ids = Vec::new();
        for n in 0..5 {
            let i = instruction(1, n, n % 2 == 1);
            chain.op.request(&i).await.unwrap();
            ids.push(i.id);
        }
        // One the intake refuses (an unknown currency): kept in the journal, reported, and
        // no settlement.
        let mut bad = instruction(1, 99, false);
        bad.currency = "XYZ".into();
        chain.op.request(&bad).await.unwrap();
        // And one whose token amount would need rounding to fit EUR's two decimals.
        let mut inexact = instruction(1, 98, false);
        inexact.units = U256::from(12_345_678u64);
        chain.op.request(&inexact).await.unwrap();
        chain.op.mine(2).await.unwrap();
        chain.wait_all_written_back(5).await;
        // The two refused instructions get their `failed` outcome from the follower.
        chain
            .wait_until("both refusals recorded on chain", |store| async move {
                let mut conn = store.pool().acquire().await.unwrap();
                let counts = evm_store::refusal_counts(&mut conn, LEDGER).await.unwrap();
                counts == vec![("recorded".to_string(), 2)]
            })
            .await;
        chain
            .assert_chain_agrees_with_refusals(
                &ids,
                &[(bad.id, "currency"), (inexact.id, "amount")],
            )
            .await;

        let label = chain.label();
        let (counts, _, _) = chain.standing().await;
        assert_eq!(
            counts.get(&SettlementState::Settled),
            Some(&5),
            "{label}: {counts:?}"
        );
        assert!(chain.settlement_of(bad.id).await.is_none(), "{label}");
        assert!(chain.settlement_of(inexact.id).await.is_none(), "{label}");
        let mut conn = chain.world.db.store.pool().acquire().await.unwrap();
        let entries = journal::list(&mut conn, None, 100).await.unwrap();
        let evm_entries: Vec<_> = entries
            .iter()
            .filter(|e| e.channel == journal::Channel::LedgerEvm)
            .collect();
        assert!(!evm_entries.is_empty(), "{label}: chain logs are journaled");
        assert!(
            evm_entries.iter().any(|e| e
                .detail
                .as_deref()
                .unwrap_or_default()
                .contains("currency")),
            "{label}: the refused log is reported in the journal: {evm_entries:?}"
        );
        assert!(
            evm_entries
                .iter()
                .any(|e| e.detail.as_deref().unwrap_or_default().contains("amount")),
            "{label}: the inexact amount is refused, not rounded: {evm_entries:?}"
        );
        drop(conn);
        let standing = status::one(&chain.world.db.store, &chain.ledger())
            .await
            .unwrap();
        assert_eq!(standing.outcome_txs_pending, 0, "{label}: {standing:?}");
        assert_eq!(
            standing.refusals,
            status::Refusals {
                recorded: 2,
                ..Default::default()
            },
            "{label}"
        );
        assert!(standing.conflicts.is_empty(), "{label}: {standing:?}");
        assert!(
            standing.lag_blocks.unwrap() <= 2 + 1,
            "{label}: {standing:?}"
        );
        let metrics = chain
            .world
            .http
            .get(chain.world.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let gas = metrics
            .lines()
            .find(|l| l.starts_with("corridor_evm_gas_used_total{ledger=\"chain\"}"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok());
        assert!(
            gas.is_some_and(|g| g > 0.0),
            "{label}: gas spent is counted"
        );
        // The chain's ledger takes no events by HTTP.
        let refused = chain
            .world
            .http
            .post(chain.world.url("/v1/ledger/events"))
            .header("x-corridor-ledger", LEDGER)
            .body(common::event_json("evt-1", "10.00", "x").to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status().as_u16(), 401, "{label}");
        assert!(
            refused.text().await.unwrap().contains("evm ledger"),
            "{label}"
        );
        cli_status_and_verify(&chain, ids[0]).await;
        chain.world.finish().await
    })
    .await;
}

/// `corridor ledger status` and `corridor ledger verify` as an operator runs them: a match,
/// then a journaled confirmation that no longer hashes to the evidence on chain.
async fn cli_status_and_verify(chain: &Chain, id: B256) {
    let label = chain.label();
    let dir = tempfile::tempdir().unwrap();
    let mut config = (*chain.world.config).clone();
    config.store.database_url = chain.world.db.url.clone();
    let path = dir.path().join("corridor.toml");
    std::fs::write(&path, toml::to_string(&config).unwrap()).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_corridor"))
            .args(args)
            .arg("--config")
            .arg(&path)
            .env(KEY_ENV, anvil::DEMO_GATEWAY_KEY_HEX)
            .output()
            .unwrap()
    };
    let out = run(&["ledger", "status", "--json"]);
    assert!(
        out.status.success(),
        "{label}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let evm = all
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["ledger"] == LEDGER)
        .unwrap();
    assert_eq!(evm["kind"], "evm", "{label}: {all}");
    assert_eq!(evm["outcome_txs_pending"], 0, "{label}: {all}");
    assert!(evm["cursor_block"].as_u64().is_some(), "{label}: {all}");
    let out = run(&["ledger", "status"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("lag") && text.contains("cursor block"),
        "{label}: {text}"
    );

    let (sid, _) = chain.settlement_of(id).await.unwrap();
    let out = run(&["ledger", "verify", sid.as_str()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{label}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("verdict: MATCH"), "{label}: {text}");

    // The journaled confirmation altered: the evidence on chain no longer matches it.
    let mut conn = chain.world.db.store.pool().acquire().await.unwrap();
    let (entry, _) = evm_store::confirmation(&mut conn, sid.as_str())
        .await
        .unwrap()
        .unwrap();
    sqlx::query("UPDATE inbound_journal SET raw = $1 WHERE id = $2")
        .bind(b"<Document>altered</Document>".to_vec())
        .bind(entry)
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    let out = run(&["ledger", "verify", sid.as_str()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{label}: {text}");
    assert!(
        text.contains("verdict: MISMATCH") && text.contains("evidence"),
        "{label}: {text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chain_reorg_before_and_after_the_confirmation_depth() {
    on_each_store(
        "chain_reorg_before_and_after_the_confirmation_depth",
        |db| async move {
            let options = ChainOptions {
                confirmations: 3,
                workers: false,
                ..Default::default()
            };
            let chain = match start(
                "chain_reorg_before_and_after_the_confirmation_depth",
                db,
                options,
            )
            .await
            {
                Ok(chain) => chain,
                Err(db) => return db,
            };
            let label = chain.label();
            let mut follower = chain.following();

            // Above the depth: seen, never released, then taken away: withdrawn, nothing done.
            let shallow = instruction(2, 0, true);
            chain.op.request(&shallow).await.unwrap();
            let report = follower.poll_once().await.unwrap();
            assert_eq!(report.released, 0, "{label}: {report:?}");
            chain.reorg(1).await;
            chain.op.mine(3).await.unwrap();
            let report = follower.poll_once().await.unwrap();
            assert_eq!(report.withdrawn_unconfirmed, 1, "{label}: {report:?}");
            assert_eq!(report.released, 0, "{label}: {report:?}");
            assert!(chain.settlement_of(shallow.id).await.is_none(), "{label}");

            // Below the depth, acted on: settled and written on chain, then the reorg takes the
            // request away: a conflict for an operator.
            let settled = instruction(2, 1, true);
            chain.op.request(&settled).await.unwrap();
            chain.op.mine(2).await.unwrap();
            let report = follower.poll_once().await.unwrap();
            assert_eq!(
                (report.released, report.created),
                (1, 1),
                "{label}: {report:?}"
            );
            chain.drain().await;
            chain.op.mine(1).await.unwrap();
            chain.drain().await;
            let (sid, _) = chain.settlement_of(settled.id).await.unwrap();
            assert!(
                chain.op.outcome(settled.id).await.unwrap().is_some(),
                "{label}"
            );

            // Below the depth, not acted on: released and queued, no delivery attempted yet.
            let queued = instruction(2, 2, false);
            let queued_block = chain.op.request(&queued).await.unwrap();
            chain.op.mine(2).await.unwrap();
            let report = follower.poll_once().await.unwrap();
            assert_eq!(report.created, 1, "{label}: {report:?}");
            let (queued_sid, _) = chain.settlement_of(queued.id).await.unwrap();

            let head = chain.op.provider.get_block_number().await.unwrap();
            let settled_block = {
                let mut conn = chain.world.db.store.pool().acquire().await.unwrap();
                let row =
                    sqlx::query("SELECT block_number FROM evm_events WHERE settlement_id = $1")
                        .bind(sid.as_str())
                        .fetch_one(&mut *conn)
                        .await
                        .unwrap();
                row.try_get::<i64, _>("block_number").unwrap() as u64
            };
            assert!(settled_block < queued_block);
            chain.reorg(head - settled_block + 1).await;
            chain.op.mine(4).await.unwrap();
            let report = follower.poll_once().await.unwrap();
            assert!(report.reorg_below_cursor, "{label}: {report:?}");
            let mut gone = (0, 0);
            for _ in 0..10 {
                let report = follower.poll_once().await.unwrap();
                gone.0 += report.withdrawn_after_reorg;
                gone.1 += report.conflicts;
                if report.caught_up && gone != (0, 0) {
                    break;
                }
            }
            assert_eq!(gone, (1, 1), "{label}: one withdrawn, one conflict");
            let conflicts = chain.conflicts().await;
            assert_eq!(conflicts.len(), 1, "{label}: {conflicts:?}");
            assert_eq!(conflicts[0].settlement_id.as_deref(), Some(sid.as_str()));
            assert_eq!(conflicts[0].kind, evm_store::ConflictKind::Reorg);
            // And a break for the reconciliation team, once.
            let critical = (
                "status_conflict".to_string(),
                "critical".to_string(),
                "open".to_string(),
                1,
            );
            assert_eq!(
                chain.breaks_of(sid.as_str()).await,
                vec![critical],
                "{label}"
            );
            let standing = status::one(&chain.world.db.store, &chain.ledger())
                .await
                .unwrap();
            assert_eq!(
                standing.conflicts.len(),
                1,
                "{label}: ledger status shows it"
            );
            let api: serde_json::Value = chain
                .world
                .http
                .get(chain.world.url("/v1/ledgers"))
                .bearer_auth(common::world::OPERATOR_TOKEN)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let shown = api["ledgers"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["ledger"] == LEDGER)
                .unwrap();
            assert_eq!(shown["conflicts"][0]["kind"], "reorg", "{label}: {api}");
            assert_eq!(
                shown["conflicts"][0]["settlement_id"],
                sid.as_str(),
                "{label}: {api}"
            );
            let metrics = chain
                .world
                .http
                .get(chain.world.url("/metrics"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            for name in [
                "corridor_evm_reorgs_total",
                "corridor_evm_conflicts_open{ledger=\"chain\"} 1",
                "corridor_evm_outcome_txs_pending",
                "corridor_evm_follower_lag_blocks",
            ] {
                assert!(metrics.contains(name), "{label}: {name} not in /metrics");
            }

            // The withdrawn one failed with WITHDRAWN; its write-back writes nothing on chain.
            chain.drain().await;
            let mut conn = chain.world.db.store.pool().acquire().await.unwrap();
            let record = settlements::get(&mut conn, &queued_sid)
                .await
                .unwrap()
                .unwrap();
            drop(conn);
            assert_eq!(record.state, SettlementState::Failed, "{label}");
            assert_eq!(record.reason_code.as_deref(), Some("WITHDRAWN"), "{label}");
            assert!(record.written_back_at_ms.is_some(), "{label}");
            assert_eq!(
                chain.world.bank.stats().distinct_uetrs,
                0,
                "{label}: nothing reached the bank"
            );
            // The chain no longer holds either request, nor any outcome.
            assert!(chain.outcome_logs().await.is_empty(), "{label}");
            chain.world.finish().await
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chain_gateway_killed_mid_range_resumes_exactly() {
    on_each_store(
        "chain_gateway_killed_mid_range_resumes_exactly",
        |db| async move {
            let options = ChainOptions {
                confirmations: 1,
                workers: false,
                range_blocks_max: 2,
                ranges_per_poll_max: 1,
                ..Default::default()
            };
            let mut chain = match start(
                "chain_gateway_killed_mid_range_resumes_exactly",
                db,
                options,
            )
            .await
            {
                Ok(chain) => chain,
                Err(db) => return db,
            };
            let label = chain.label();
            let mut ids = Vec::new();
            for n in 0..6 {
                let i = instruction(3, n, n % 3 == 0);
                chain.op.request(&i).await.unwrap();
                ids.push(i.id);
            }
            // One poll takes two blocks: part of the range, then the process dies.
            let mut follower = chain.following();
            let report = follower.poll_once().await.unwrap();
            assert!(
                report.released >= 1 && report.released < 6,
                "{label}: {report:?}"
            );
            let taken = report.released;
            drop(follower);
            let stored = {
                let mut conn = chain.world.db.store.pool().acquire().await.unwrap();
                evm_store::cursor(&mut conn, LEDGER).await.unwrap().unwrap()
            };
            // A journal entry the dead follower wrote without taking it in: not applied again.
            let orphan = journal::record(
                &chain.world.db.store,
                journal::Channel::LedgerEvm,
                Some(LEDGER),
                Some("application/json"),
                b"{\"logs\":[]}",
                journal::AuthenticatedBy::ChainNode,
            )
            .await
            .unwrap();
            chain.world.crash_and_restart().await;
            chain.wait_all_written_back(6).await;
            chain.assert_chain_agrees(&ids).await;
            let mut conn = chain.world.db.store.pool().acquire().await.unwrap();
            let entry = journal::get(&mut conn, orphan).await.unwrap().unwrap();
            assert_eq!(entry.status, journal::Status::Duplicate, "{label}");
            let after = evm_store::cursor(&mut conn, LEDGER).await.unwrap().unwrap();
            assert!(
                after.cursor.block_number > stored.cursor.block_number,
                "{label}"
            );
            // Each log taken in once: as many rows as instructions, all created once.
            let created: i64 = sqlx::query(
                "SELECT COUNT(*) AS n FROM settlement_transitions WHERE to_state = 'received'",
            )
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .try_get("n")
            .unwrap();
            assert_eq!(created, 6, "{label}: {taken} taken before the kill");
            drop(conn);
            chain.world.finish().await
        },
    )
    .await;
}

/// With `finality = "finalized"` an instruction is taken in only once the node's finalized
/// block has reached it (anvil's finalized tag trails the head by two epochs, of two slots
/// here), and then settles end to end like any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chain_finalized_finality_waits_for_the_finalized_tag() {
    on_each_store(
        "chain_finalized_finality_waits_for_the_finalized_tag",
        |db| async move {
            let options = ChainOptions {
                finalized: true,
                workers: false,
                anvil_args: &["--slots-in-an-epoch", "2"],
                ..Default::default()
            };
            let mut chain = match start(
                "chain_finalized_finality_waits_for_the_finalized_tag",
                db,
                options,
            )
            .await
            {
                Ok(chain) => chain,
                Err(db) => return db,
            };
            let label = chain.label();
            let i = instruction(8, 1, false);
            let block = chain.op.request(&i).await.unwrap();
            let mut follower = chain.following();
            let mut polls = 0;
            loop {
                let report = follower.poll_once().await.unwrap();
                let finalized = chain
                    .op
                    .provider
                    .get_block_by_number(alloy::eips::BlockNumberOrTag::Finalized)
                    .await
                    .unwrap()
                    .map(|b| b.header.number);
                if finalized.is_some_and(|f| f >= block) {
                    assert_eq!(
                        report.created, 1,
                        "{label}: released once finalized: {report:?}"
                    );
                    break;
                }
                assert_eq!(
                    report.released, 0,
                    "{label}: released before finalized: {report:?}"
                );
                assert!(chain.settlement_of(i.id).await.is_none(), "{label}");
                chain.op.mine(1).await.unwrap();
                polls += 1;
                assert!(polls < 12, "{label}: never finalized");
            }
            assert!(
                polls >= 3,
                "{label}: the finalized tag trails the head ({polls} blocks)"
            );
            drop(follower);
            // The background tasks take it from here.
            chain.world.crash_and_restart().await;
            chain.wait_all_written_back(1).await;
            chain.assert_chain_agrees(&[i.id]).await;
            chain.world.finish().await
        },
    )
    .await;
}

/// An instruction the intake refuses still gets exactly one outcome on chain: `failed`, with
/// the field named. The gateway dies after its transaction was stored and broadcast but
/// before it was mined; the next process finishes that same transaction, signs no second.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chain_refused_instruction_gets_one_failed_outcome_across_a_restart() {
    on_each_store(
        "chain_refused_instruction_gets_one_failed_outcome_across_a_restart",
        |db| async move {
            let options = ChainOptions {
                confirmations: 1,
                workers: false,
                ..Default::default()
            };
            let mut chain = match start(
                "chain_refused_instruction_gets_one_failed_outcome_across_a_restart",
                db,
                options,
            )
            .await
            {
                Ok(chain) => chain,
                Err(db) => return db,
            };
            let label = chain.label();
            let mut bad = instruction(7, 1, false);
            bad.currency = "XYZ".into();
            chain.op.request(&bad).await.unwrap();
            chain.op.mine(1).await.unwrap();
            // The outcome transaction is sent but never mined by this process.
            chain.set_automine(false).await;
            let mut follower = chain.following();
            let report = follower.poll_once().await.unwrap();
            assert_eq!((report.released, report.invalid), (1, 1), "{label}: {report:?}");
            assert_eq!(report.refusals_recorded, 0, "{label}: {report:?}");
            let (status, signed): (String, Option<String>) = {
                let mut conn = chain.world.db.store.pool().acquire().await.unwrap();
                let row = sqlx::query(
                    "SELECT status, pending FROM evm_refusals WHERE ledger = $1 AND request_id = $2",
                )
                .bind(LEDGER)
                .bind(bad.id.to_string())
                .fetch_one(&mut *conn)
                .await
                .unwrap();
                (row.try_get("status").unwrap(), row.try_get("pending").unwrap())
            };
            assert_eq!(status, "pending", "{label}");
            assert!(signed.is_some(), "{label}: stored before it was broadcast");
            let standing = status::one(&chain.world.db.store, &chain.ledger())
                .await
                .unwrap();
            assert_eq!(standing.outcome_txs_pending, 1, "{label}: {standing:?}");
            assert_eq!(standing.refusals.pending, 1, "{label}: {standing:?}");
            drop(follower);
            assert!(chain.outcome_logs().await.is_empty(), "{label}: not mined yet");

            // A new process (its follower runs in the background) finishes it once mined.
            chain.world.crash_and_restart().await;
            chain.set_automine(true).await;
            chain.op.mine(2).await.unwrap();
            chain
                .wait_until("the refusal recorded on chain", |store| async move {
                    let mut conn = store.pool().acquire().await.unwrap();
                    evm_store::refusal_counts(&mut conn, LEDGER).await.unwrap()
                        == vec![("recorded".to_string(), 1)]
                })
                .await;
            chain
                .assert_chain_agrees_with_refusals(&[], &[(bad.id, "currency")])
                .await;
            // Polled again and again: still the one outcome, and nothing left pending.
            chain.op.mine(3).await.unwrap();
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert_eq!(chain.outcome_logs().await.get(&bad.id), Some(&1), "{label}");
            let standing = status::one(&chain.world.db.store, &chain.ledger())
                .await
                .unwrap();
            assert_eq!(standing.outcome_txs_pending, 0, "{label}: {standing:?}");
            chain.world.finish().await
        },
    )
    .await;
}

/// What reconciliation learns after an outcome is appended on chain, once each: a pacs.004
/// from the bank for a settled payment becomes `recordCorrection` (settled, then returned),
/// and an operator's refund request becomes `requestRefund` with the amount in the
/// request's decimals. The outcome itself is never written over, the same answers again and
/// a new process add nothing, and `ledger verify` agrees.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chain_correction_and_refund_request_are_appended_once() {
    on_each_store("chain_correction_and_refund_request_are_appended_once", |db| async move {
        let options = ChainOptions {
            confirmations: 1,
            ..Default::default()
        };
        let mut chain =
            match start("chain_correction_and_refund_request_are_appended_once", db, options).await {
                Ok(chain) => chain,
                Err(db) => return db,
            };
        let label = chain.label();
        let (returned, refunded) = (instruction(8, 0, false), instruction(8, 1, false));
        chain.op.request(&returned).await.unwrap();
        chain.op.request(&refunded).await.unwrap();
        chain.wait_all_written_back(2).await;
        let (sid, _) = chain.settlement_of(returned.id).await.unwrap();
        let (refund_sid, _) = chain.settlement_of(refunded.id).await.unwrap();
        assert_eq!(chain.entry(Entry::Outcome, returned.id).await.unwrap().status.as_str(), "settled");

        // The bank returns the first payment, twice: one correction on chain.
        chain.world.bank_returns(&sid, 2).await;
        // Whether the stored transaction of `entry` for `sid` is done.
        let entry_done = |sid: String, entry: &'static str| {
            move |store: corridor::store::Store| {
                let sid = sid.clone();
                async move {
                    let mut conn = store.pool().acquire().await.unwrap();
                    sqlx::query("SELECT status FROM evm_notice_txs WHERE settlement_id = $1 AND entry = $2")
                        .bind(sid)
                        .bind(entry)
                        .fetch_optional(&mut *conn)
                        .await
                        .unwrap()
                        .is_some_and(|r| r.try_get::<String, _>("status").unwrap() == "done")
                }
            }
        };
        chain.wait_until("the correction on chain", entry_done(sid.to_string(), "correction")).await;
        let correction = chain.entry(Entry::Correction, returned.id).await.expect("a correction");
        assert_eq!(correction.status.as_str(), "returned", "{label}");
        assert_eq!(correction.reason_code, "AC04", "{label}");
        let outcome = chain.entry(Entry::Outcome, returned.id).await.unwrap();
        assert_eq!(outcome.status.as_str(), "settled", "{label}: the outcome is never written over");

        // An operator resolves a break about the second payment with a refund request.
        let now = corridor::store::now_ms();
        let break_id: i64 = {
            let mut conn = chain.world.db.store.pool().acquire().await.unwrap();
            sqlx::query(
                "INSERT INTO breaks (natural_key, kind, severity, state, settlement_id, currency, \
                 amount_at_risk_minor, detail, opened_at_ms, updated_at_ms) \
                 VALUES ($1, 'duplicate_entry', 'high', 'open', $2, 'EUR', 1235, \
                 'the statement books the payment twice', $3, $3) RETURNING id",
            )
            .bind(format!("test:duplicate:{refund_sid}"))
            .bind(refund_sid.as_str())
            .bind(now)
            .fetch_one(&mut *conn)
            .await
            .unwrap()
            .try_get("id")
            .unwrap()
        };
        let response = chain
            .world
            .http
            .post(chain.world.url(&format!("/v1/breaks/{break_id}/resolve")))
            .bearer_auth(common::world::OPERATOR_TOKEN)
            .json(&serde_json::json!({"resolution": "refund_requested", "comment": "booked twice"}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{label}: {}", response.text().await.unwrap());
        chain.wait_until("the refund request on chain", entry_done(refund_sid.to_string(), "refund")).await;
        let refund = chain.entry(Entry::Refund, refunded.id).await.expect("a refund request");
        // 12.35 EUR in the request's 6 decimals.
        assert_eq!(refund.amount, U256::from(12_350_000u64), "{label}");
        assert_eq!(refund.status.as_str(), "settled", "{label}");
        assert_eq!(refund.reason_code, "duplicate_entry", "{label}");
        assert_eq!(refund.counterparty_ref, format!("break {break_id}"), "{label}");

        // A new process, and the same return again: nothing more on chain.
        chain.world.crash_and_restart().await;
        chain.world.bank_returns(&sid, 1).await;
        chain.op.mine(2).await.unwrap();
        chain.wait_all_written_back(2).await;
        for (signature, id, what) in [
            (SettlementOutcome::SIGNATURE_HASH, returned.id, "outcome"),
            (SettlementCorrected::SIGNATURE_HASH, returned.id, "correction"),
            (SettlementOutcome::SIGNATURE_HASH, refunded.id, "outcome"),
            (RefundRequested::SIGNATURE_HASH, refunded.id, "refund request"),
        ] {
            assert_eq!(chain.logs_about(signature, id).await, 1, "{label}: {what} logs of {id}");
        }
        assert_eq!(chain.logs_about(SettlementCorrected::SIGNATURE_HASH, refunded.id).await, 0, "{label}");
        let mut conn = chain.world.db.store.pool().acquire().await.unwrap();
        let stuck: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM outbox WHERE kind IN ('correction', 'refund') AND status <> 'done'",
        )
        .fetch_one(&mut *conn)
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
        drop(conn);
        assert_eq!(stuck, 0, "{label}: every correction and refund job is done, none dead");
        let verdict = status::verify(&chain.world.db.store, &chain.world.config, sid.as_str())
            .await
            .unwrap();
        assert!(verdict.ok, "{label}: verify {sid}: {:?}", verdict.mismatches);
        assert_eq!(verdict.on_chain_correction.as_deref(), Some("returned"), "{label}");
        chain.assert_chain_agrees(&[returned.id, refunded.id]).await;
        chain.world.finish().await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chain_rpc_endpoint_goes_away_and_comes_back() {
    on_each_store(
        "chain_rpc_endpoint_goes_away_and_comes_back",
        |db| async move {
            let options = ChainOptions {
                confirmations: 1,
                proxy: true,
                ..Default::default()
            };
            let mut chain =
                match start("chain_rpc_endpoint_goes_away_and_comes_back", db, options).await {
                    Ok(chain) => chain,
                    Err(db) => return db,
                };
            let label = chain.label();
            let first = instruction(4, 0, false);
            chain.op.request(&first).await.unwrap();
            chain.wait_all_written_back(1).await;

            chain.proxy.as_mut().unwrap().down().await;
            let second = instruction(4, 1, true);
            chain.op.request(&second).await.unwrap();
            let standing = status::one(&chain.world.db.store, &chain.ledger())
                .await
                .unwrap();
            assert!(
                standing.head_error.is_some(),
                "{label}: the node is away: {standing:?}"
            );
            assert!(chain.settlement_of(second.id).await.is_none(), "{label}");

            chain.proxy.as_mut().unwrap().up().await;
            chain.wait_all_written_back(2).await;
            chain.assert_chain_agrees(&[first.id, second.id]).await;
            chain.world.finish().await
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chain_stuck_outcome_is_replaced_with_a_higher_fee_across_a_restart() {
    on_each_store(
        "chain_stuck_outcome_is_replaced_with_a_higher_fee_across_a_restart",
        |db| async move {
            let options = ChainOptions {
                confirmations: 1,
                lease_ms: 3_000,
                resubmit_after_ms: 300,
                ..Default::default()
            };
            let mut chain = match start(
                "chain_stuck_outcome_is_replaced_with_a_higher_fee_across_a_restart",
                db,
                options,
            )
            .await
            {
                Ok(chain) => chain,
                Err(db) => return db,
            };
            let label = chain.label();
            chain.set_automine(false).await;
            let i = instruction(5, 0, true);
            chain.op.send(&i).await.unwrap();
            chain.op.mine(1).await.unwrap();
            // The outcome transaction is stored and sent, and nothing mines it.
            chain
                .wait_until("a stored outcome transaction", |store| async move {
                    let mut conn = store.pool().acquire().await.unwrap();
                    evm_store::pending_outcome_count(&mut conn, LEDGER)
                        .await
                        .unwrap()
                        == 1
                })
                .await;
            chain.world.crash_and_restart().await;
            // The restarted gateway finds it, and raises its fee (stored before it is sent).
            chain
                .wait_until(
                    "a replacement with a higher fee, stored and sent",
                    |store| {
                        let provider = chain.op.provider.clone();
                        async move {
                            let mut conn = store.pool().acquire().await.unwrap();
                            let pending = evm_store::pending_outcome_txs(&mut conn, LEDGER)
                                .await
                                .unwrap();
                            let Some(replacement) =
                                pending.first().filter(|p| p.versions.len() >= 2)
                            else {
                                return false;
                            };
                            // Stored first, then broadcast: wait until the node has it.
                            let hash = replacement.current().tx_hash;
                            provider
                                .get_transaction_by_hash(hash)
                                .await
                                .unwrap()
                                .is_some()
                        }
                    },
                )
                .await;
            chain.set_automine(true).await;
            chain.op.mine(1).await.unwrap();
            chain.wait_all_written_back(1).await;
            chain.assert_chain_agrees(&[i.id]).await;

            let (sid, _) = chain.settlement_of(i.id).await.unwrap();
            let mut conn = chain.world.db.store.pool().acquire().await.unwrap();
            let (pending, done) = evm_store::outcome_tx(&mut conn, sid.as_str())
                .await
                .unwrap()
                .unwrap();
            assert!(done, "{label}");
            let mined: Option<String> =
                sqlx::query("SELECT tx_hash FROM evm_outcome_txs WHERE settlement_id = $1")
                    .bind(sid.as_str())
                    .fetch_one(&mut *conn)
                    .await
                    .unwrap()
                    .try_get("tx_hash")
                    .unwrap();
            drop(conn);
            let first = &pending.versions[0];
            let last = pending.versions.last().unwrap();
            assert!(
                last.max_fee_per_gas > first.max_fee_per_gas,
                "{label}: {pending:?}"
            );
            {
                let mined = mined.expect("the gateway's own transaction recorded the outcome");
                assert_ne!(
                    mined,
                    first.tx_hash.to_string(),
                    "{label}: the replacement was mined: {:?}",
                    pending
                        .versions
                        .iter()
                        .map(|v| (
                            v.max_fee_per_gas,
                            v.max_priority_fee_per_gas,
                            v.signed_at_unix_ms
                        ))
                        .collect::<Vec<_>>()
                );
            }
            chain.world.finish().await
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chain_duplicate_outcome_is_success_and_another_outcome_a_conflict() {
    on_each_store("chain_duplicate_outcome_is_success_and_another_outcome_a_conflict", |db| async move {
        let options = ChainOptions {
            confirmations: 1,
            ..Default::default()
        };
        let chain = match start("chain_duplicate_outcome_is_success_and_another_outcome_a_conflict", db, options).await {
            Ok(chain) => chain,
            Err(db) => return db,
        };
        let label = chain.label();
        let i = instruction(6, 0, false);
        chain.op.request(&i).await.unwrap();
        chain.wait_all_written_back(1).await;
        let (sid, _) = chain.settlement_of(i.id).await.unwrap();
        let stored = chain.op.outcome(i.id).await.unwrap().unwrap();

        // The contract refuses a second recordOutcome from the gateway.
        let call = Settlement::recordOutcomeCall {
            id: i.id,
            status: stored.status.code(),
            reasonCode: stored.reason_code.clone(),
            counterpartyRef: stored.counterparty_ref.clone(),
            evidence: stored.evidence,
        };
        let gateway = ledger_evm::key::GatewayKey::from_hex(anvil::DEMO_GATEWAY_KEY_HEX)
            .unwrap()
            .address();
        let tx = alloy::rpc::types::TransactionRequest::default()
            .from(gateway)
            .to(chain.op.contract)
            .input(call.abi_encode().into());
        let refused = chain.op.provider.call(tx).await.unwrap_err();
        let reason = ledger_evm::contract::decode_refusal(&refused);
        assert!(
            matches!(reason, Some(ledger_evm::contract::SettlementErrors::OutcomeAlreadyRecorded(_))),
            "{label}: {reason:?}"
        );

        // The write-back job run again (as after a crash before it recorded success): the
        // same outcome on chain is success, and nothing is sent.
        let replay = |reason_code: Option<&'static str>| {
            let store = chain.world.db.store.clone();
            let sid = sid.clone();
            async move {
                let mut conn = store.pool().acquire().await.unwrap();
                sqlx::query("DELETE FROM evm_outcome_txs WHERE settlement_id = $1")
                    .bind(sid.as_str())
                    .execute(&mut *conn)
                    .await
                    .unwrap();
                if let Some(code) = reason_code {
                    sqlx::query("UPDATE settlements SET reason_code = $1 WHERE id = $2")
                        .bind(code)
                        .bind(sid.as_str())
                        .execute(&mut *conn)
                        .await
                        .unwrap();
                }
                sqlx::query(
                    "UPDATE settlements SET written_back_at_ms = NULL WHERE id = $1",
                )
                .bind(sid.as_str())
                .execute(&mut *conn)
                .await
                .unwrap();
                sqlx::query(
                    "UPDATE outbox SET status = 'pending', attempts = 0, due_at_ms = 0 \
                     WHERE kind = 'writeback' AND settlement_id = $1",
                )
                .bind(sid.as_str())
                .execute(&mut *conn)
                .await
                .unwrap();
            }
        };
        replay(None).await;
        chain.world.gateway.as_ref().unwrap().dispatcher.wake.notify_waiters();
        chain.wait_all_written_back(1).await;
        chain.assert_chain_agrees(&[i.id]).await;

        // Another outcome than the one on chain: a conflict, the job dead at once.
        replay(Some("AC04")).await;
        chain.world.gateway.as_ref().unwrap().dispatcher.wake.notify_waiters();
        chain
            .wait_until("the write-back to go dead", |store| {
                let sid = sid.clone();
                async move {
                    let mut conn = store.pool().acquire().await.unwrap();
                    let row = sqlx::query(
                        "SELECT status, attempts FROM outbox WHERE kind = 'writeback' AND settlement_id = $1",
                    )
                    .bind(sid.as_str())
                    .fetch_one(&mut *conn)
                    .await
                    .unwrap();
                    row.try_get::<String, _>("status").unwrap() == "dead"
                }
            })
            .await;
        let conflicts = chain.conflicts().await;
        assert_eq!(conflicts.len(), 1, "{label}: {conflicts:?}");
        assert_eq!(conflicts[0].kind, evm_store::ConflictKind::Outcome);
        let sid = conflicts[0].settlement_id.clone().expect("about a settlement");
        let breaks = chain.breaks_of(&sid).await;
        assert_eq!(breaks.len(), 1, "{label}: {breaks:?}");
        assert_eq!(
            (breaks[0].0.as_str(), breaks[0].1.as_str()),
            ("status_conflict", "critical"),
            "{label}"
        );
        assert_eq!(chain.outcome_logs().await.get(&i.id), Some(&1), "{label}");
        chain.world.finish().await
    })
    .await;
}

/// A TCP forwarder in front of anvil, to take the endpoint away and bring it back.
struct Proxy {
    port: u16,
    target: u16,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    listener: Option<JoinHandle<()>>,
}

impl Proxy {
    async fn start(target: u16) -> Proxy {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut proxy = Proxy {
            port,
            target,
            tasks: Arc::default(),
            listener: None,
        };
        proxy.up().await;
        proxy
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    async fn up(&mut self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        let (target, tasks) = (self.target, self.tasks.clone());
        self.listener = Some(tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    return;
                };
                let task = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", target)).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(task);
            }
        }));
    }

    async fn down(&mut self) {
        if let Some(listener) = self.listener.take() {
            listener.abort();
            let _ = listener.await;
        }
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

/// `corridor demo --ledger evm` runs the whole flow on its own anvil and says YES; without
/// anvil it says in one line how to get it, and fails.
#[test]
fn chain_demo_runs_or_says_how_to_get_anvil() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let demo = |anvil_bin: Option<&str>| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_corridor"));
        command
            .args([
                "demo",
                "--ledger",
                "evm",
                "--instructions",
                "9",
                "--data-dir",
            ])
            .arg(&data);
        if let Some(bin) = anvil_bin {
            command.env("ANVIL_BIN", bin);
        }
        command.output().unwrap()
    };
    let missing = demo(Some("/nonexistent/anvil"));
    let err = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success());
    assert!(err.contains("cd adapters/ledger-evm && npm ci"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");

    if anvil::binary().is_none() {
        if std::env::var("CORRIDOR_REQUIRE_ANVIL").as_deref() == Ok("1") {
            panic!("CORRIDOR_REQUIRE_ANVIL=1 but {}", anvil::MISSING);
        }
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED [anvil] chain_demo_runs_or_says_how_to_get_anvil: {}",
            anvil::MISSING
        );
        return;
    }
    let out = demo(None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("every event reached exactly one final outcome: YES"),
        "{text}"
    );
    assert!(text.contains("1 rejected, 1 reversed, 7 settled"), "{text}");
}

/// Several instances on one PostgreSQL: one follows a ledger, the others stand by and take
/// over when its session ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chain_one_follower_per_ledger_across_instances() {
    let test = "chain_one_follower_per_ledger_across_instances";
    let Some(db) = TestDb::postgres(test).await else {
        return;
    };
    let options = ChainOptions {
        confirmations: 1,
        workers: false,
        ..Default::default()
    };
    let chain = match start(test, db, options).await {
        Ok(chain) => chain,
        Err(db) => return db.finish().await,
    };
    let first = instruction(7, 0, false);
    chain.op.request(&first).await.unwrap();
    let mut a = chain.following();
    let mut b = chain.following();
    let report = a.poll_once().await.unwrap();
    assert!(!report.standby, "{report:?}");
    assert_eq!(report.released, 1, "{report:?}");
    let report = b.poll_once().await.unwrap();
    assert!(report.standby, "{report:?}");
    assert_eq!(report.released, 0, "{report:?}");

    // The owner goes away (its session closes); the other takes over where it stood.
    drop(a);
    let second = instruction(7, 1, false);
    chain.op.request(&second).await.unwrap();
    let deadline = Instant::now() + WAIT;
    let report = loop {
        let report = b.poll_once().await.unwrap();
        if !report.standby {
            break report;
        }
        assert!(Instant::now() < deadline, "the standby never took over");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!((report.released, report.created), (1, 1), "{report:?}");
    assert!(chain.settlement_of(first.id).await.is_some());
    assert!(chain.settlement_of(second.id).await.is_some());
    chain.world.finish().await.finish().await;
}

/// While dispatch is further behind than its bound, the follower reads no further blocks: the
/// chain keeps the instruction, and it is taken in once dispatch has caught up.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chain_follower_pauses_while_dispatch_is_behind() {
    on_each_store("chain_follower_pauses_while_dispatch_is_behind", |db| async move {
        let options = ChainOptions {
            confirmations: 1,
            workers: false,
            ..Default::default()
        };
        let chain = match start("chain_follower_pauses_while_dispatch_is_behind", db, options)
            .await
        {
            Ok(chain) => chain,
            Err(db) => return db,
        };
        let label = chain.label();
        let paused = || {
            let text = corridor::telemetry::prometheus().render();
            text.lines()
                .find(|l| l.starts_with("corridor_evm_follower_paused_total{"))
                .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        let admission = Admission::new(100);
        assert!(admission.record(5_000), "{label}: the door shuts");
        let stop = tokio_util::sync::CancellationToken::new();
        let following = tokio::spawn(chain.following_with(admission.clone()).run(stop.clone()));
        let request = instruction(9, 0, false);
        chain.op.request(&request).await.unwrap();
        chain.op.mine(1).await.unwrap();
        let before = paused();
        // Polls every 50 ms: ten of them would have taken the instruction in.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(paused() > before, "{label}: the follower did not pause");
        assert!(
            chain.settlement_of(request.id).await.is_none(),
            "{label}: taken in while dispatch was behind"
        );

        assert!(admission.record(0), "{label}: the door opens");
        let id = request.id;
        chain
            .wait_until("the instruction taken in", |store| async move {
                let mut conn = store.pool().acquire().await.unwrap();
                sqlx::query("SELECT 1 FROM evm_events WHERE ledger = $1 AND request_id = $2 AND settlement_id IS NOT NULL")
                    .bind(LEDGER)
                    .bind(id.to_string())
                    .fetch_optional(&mut *conn)
                    .await
                    .unwrap()
                    .is_some()
            })
            .await;
        stop.cancel();
        following.await.unwrap();
        chain.world.finish().await
    })
    .await;
}
