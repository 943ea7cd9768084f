//! Follower and writer throughput on a real anvil (automine).
//!
//! `cargo bench -p corridor-ledger-evm` (needs anvil: `npm ci` in adapters/ledger-evm).
//! Knobs: `BENCH_REQUESTS` (default 100000) requests pre-filled, `BENCH_OUTCOMES` (default
//! 500) outcomes recorded each way, `BENCH_RANGE_BLOCKS` (default 10 blocks, 5,000 logs) per getLogs.
//!
//! Pre-fill: `requestSettlement` from an unlocked anvil account, sent in JSON-RPC batches
//! of 500 with automine off and one `evm_mine` per batch (automine would make a block per
//! transaction, many times slower); automine is back on for the writer. The follower reads them all from
//! block 0 with one confirmation. Peak memory is the process's peak resident set while the
//! follower runs (Linux: reset through /proc/self/clear_refs before it starts).

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use alloy::primitives::B256;
use alloy::providers::Provider as _;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use common::{id, request_call, Chain};
use ledger_evm::contract::OutcomeStatus;
use ledger_evm::follower::{Confirmation, Follower, FollowerConfig, Poll};
use ledger_evm::writer::{Outcome, Prepared, Step, Writer, WriterConfig};

const BATCH: u64 = 500;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass nothing: run only
    // when asked to measure.
    if !std::env::args().any(|a| a == "--bench") {
        println!("throughput: run with `cargo bench -p corridor-ledger-evm`");
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let requests = env("BENCH_REQUESTS", 100_000);
    let outcomes = env("BENCH_OUTCOMES", 500).min(requests);
    let range_blocks = env("BENCH_RANGE_BLOCKS", 10);
    // Full blocks raise the base fee by about 6% a block: the operator needs deep pockets.
    let args = ["--gas-limit", "100000000", "--balance", "1000000000000"];
    let Some(chain) = Chain::start("bench throughput", &args).await else {
        return;
    };

    let started = Instant::now();
    prefill(&chain, requests).await;
    let prefill_s = started.elapsed().as_secs_f64();
    println!(
        "pre-fill: {requests} requests in {prefill_s:.1} s ({:.0}/s)",
        requests as f64 / prefill_s
    );

    let (follow, peak_kib, base_kib) = follow_all(&chain, requests, range_blocks).await;
    println!(
        "follower: {requests} logs in {:.2} s = {:.0} logs/s (range {range_blocks} blocks, {BATCH} logs a block); \
         peak RSS {} MiB while following ({} MiB before)",
        follow.as_secs_f64(),
        requests as f64 / follow.as_secs_f64(),
        peak_kib / 1024,
        base_kib / 1024,
    );

    drop(chain);

    // The writer on a fresh chain holding only the requests it answers: anvil's time per
    // block grows with its state, and that is not the writer's cost.
    let Some(chain) =
        Chain::start("bench throughput (writer)", &["--gas-limit", "100000000"]).await
    else {
        return;
    };
    prefill(&chain, outcomes).await;
    let sequential = record_sequential(&chain, 0..outcomes / 2).await;
    println!(
        "writer, one at a time: {} outcomes confirmed in {:.2} s = {:.0} outcomes/s",
        outcomes / 2,
        sequential.as_secs_f64(),
        (outcomes / 2) as f64 / sequential.as_secs_f64()
    );
    let pipelined = record_pipelined(&chain, outcomes / 2..outcomes, 50).await;
    println!(
        "writer, 50 in flight: {} outcomes confirmed in {:.2} s = {:.0} outcomes/s",
        outcomes - outcomes / 2,
        pipelined.as_secs_f64(),
        (outcomes - outcomes / 2) as f64 / pipelined.as_secs_f64()
    );
}

async fn prefill(chain: &Chain, requests: u64) {
    // A batch needs an owned client; the provider only lends its own.
    let mut config = ledger_evm::rpc::RpcConfig::new(chain.anvil.url.clone());
    config.request_timeout_ms = 300_000;
    let client = ledger_evm::rpc::client(&config).unwrap();
    // One block per batch: anvil's automine makes a block per transaction, far slower.
    common::set_automine(&chain.provider, false).await;
    // Nonces set here: anvil fills a missing nonce per call, and calls of one batch race.
    let nonce = chain
        .provider
        .get_transaction_count(chain.operator)
        .await
        .unwrap();
    let mut n = 0;
    while n < requests {
        let mut batch = client.new_batch();
        let mut waiters = Vec::new();
        for k in n..(n + BATCH).min(requests) {
            let tx = TransactionRequest::default()
                .from(chain.operator)
                .to(chain.contract)
                .gas_limit(300_000)
                .nonce(nonce + k)
                .input(request_call(id(k), 1 + k).abi_encode().into());
            waiters.push(
                batch
                    .add_call::<_, B256>("eth_sendTransaction", &(tx,))
                    .unwrap(),
            );
        }
        batch.send().await.unwrap();
        for waiter in waiters {
            waiter.await.unwrap();
        }
        let _: String = chain
            .provider
            .raw_request("evm_mine".into(), ())
            .await
            .unwrap();
        n += BATCH;
        if n % 10_000 == 0 {
            eprintln!("pre-fill: {n} requests");
        }
    }
    common::set_automine(&chain.provider, true).await;
}

async fn follow_all(chain: &Chain, requests: u64, range_blocks: u64) -> (Duration, u64, u64) {
    let config = FollowerConfig {
        contract: chain.contract,
        from_block: 0,
        confirmation: Confirmation::Blocks(1),
        range_blocks_max: range_blocks,
        ranges_per_poll_max: 10,
    };
    let mut follower = Follower::new(chain.provider.clone(), config, None)
        .await
        .unwrap();
    let base_kib = reset_peak_rss();
    let started = Instant::now();
    let mut released = 0u64;
    loop {
        let Poll::Advanced(advance) = follower.poll().await.unwrap() else {
            panic!("reorg in a bench")
        };
        released += advance.released.len() as u64;
        if advance.caught_up {
            break;
        }
    }
    let elapsed = started.elapsed();
    assert_eq!(released, requests, "every request released once");
    (elapsed, peak_rss_kib(), base_kib)
}

fn outcome(n: u64) -> Outcome {
    Outcome {
        entry: ledger_evm::contract::Entry::Outcome,
        amount: ledger_evm::U256::ZERO,
        id: id(n),
        status: OutcomeStatus::Settled,
        reason_code: "ACSC".into(),
        counterparty_ref: format!("ref-{n}"),
        evidence: B256::repeat_byte(7),
    }
}

async fn writer(chain: &Chain) -> Writer {
    let mut config = WriterConfig::new(chain.contract);
    config.confirmations = 1;
    config.poll_interval_ms = 1;
    Writer::new(chain.provider.clone(), chain.gateway.clone(), config)
        .await
        .unwrap()
}

async fn record_sequential(chain: &Chain, ids: std::ops::Range<u64>) -> Duration {
    let writer = writer(chain).await;
    let started = Instant::now();
    for n in ids {
        writer
            .record(&outcome(n), |_| Ok::<_, String>(()))
            .await
            .unwrap();
    }
    started.elapsed()
}

async fn record_pipelined(chain: &Chain, ids: std::ops::Range<u64>, in_flight: usize) -> Duration {
    let writer = writer(chain).await;
    let ids: Vec<u64> = ids.collect();
    let started = Instant::now();
    for chunk in ids.chunks(in_flight) {
        let mut pending = Vec::new();
        for n in chunk {
            match writer.prepare(&outcome(*n)).await.unwrap() {
                Prepared::Send(p) => pending.push(p),
                Prepared::AlreadyRecorded(_) => panic!("fresh outcome already recorded"),
            }
        }
        for p in &pending {
            writer.step(p).await.unwrap();
        }
        for p in &pending {
            loop {
                match writer.step(p).await.unwrap() {
                    Step::Done(_) => break,
                    Step::Waiting { .. } => tokio::time::sleep(Duration::from_millis(1)).await,
                    Step::Persist(_) => panic!("unexpected replacement"),
                }
            }
        }
    }
    started.elapsed()
}

fn proc_status_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Resets the peak resident set to the current one; returns the current one.
fn reset_peak_rss() -> u64 {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    proc_status_kib("VmRSS:")
}

fn peak_rss_kib() -> u64 {
    proc_status_kib("VmHWM:")
}
