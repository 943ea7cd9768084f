//! A real anvil per test, on a free port, and the contract deployed on it.
//!
//! The binary comes from `ANVIL_BIN`, else the npm package installed by `npm ci` in
//! `adapters/ledger-evm`, else `anvil` on `PATH`. Without one a test prints
//! `SKIPPED [anvil] <test>` and passes, unless `CORRIDOR_REQUIRE_ANVIL=1` (CI), where it fails.
#![allow(dead_code)]

use std::io::Write as _;
use std::net::TcpListener as StdListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider as _;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use ledger_evm::contract::{self, Settlement};
use ledger_evm::key::GatewayKey;
use ledger_evm::rpc::{self, Provider, RpcConfig};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A test-only key (never used outside tests): the gateway's account, funded by anvil.
pub const GATEWAY_KEY_HEX: &str =
    "0x1111111111111111111111111111111111111111111111111111111111111111";

pub use ledger_evm::anvil::Anvil;

/// Starts anvil with `args`, or returns `None` after printing why the test is skipped (a
/// failure instead with `CORRIDOR_REQUIRE_ANVIL=1`).
pub async fn start_anvil(test: &str, args: &[&str]) -> Option<Anvil> {
    if ledger_evm::anvil::binary().is_none() {
        if std::env::var("CORRIDOR_REQUIRE_ANVIL").as_deref() == Ok("1") {
            panic!(
                "{test}: CORRIDOR_REQUIRE_ANVIL=1 but {}",
                ledger_evm::anvil::MISSING
            );
        }
        // Straight to the stderr handle: the test harness captures print! of passing tests.
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED [anvil] {test}: {}",
            ledger_evm::anvil::MISSING
        );
        return None;
    }
    match Anvil::start(args).await {
        Ok(anvil) => Some(anvil),
        Err(why) => panic!("{test}: {why}"),
    }
}

pub fn provider(url: &str) -> Provider {
    let mut config = RpcConfig::new(url);
    config.request_timeout_ms = 5_000;
    rpc::connect(&config).expect("provider")
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The contract deployed on an anvil, an operator (anvil's first account) and a gateway key.
pub struct Chain {
    pub anvil: Anvil,
    pub provider: Provider,
    pub operator: Address,
    pub gateway: GatewayKey,
    pub contract: Address,
}

impl Chain {
    pub async fn start(test: &str, args: &[&str]) -> Option<Chain> {
        let anvil = start_anvil(test, args).await?;
        let provider = anvil.provider();
        let accounts = provider.get_accounts().await.unwrap();
        let operator = accounts[0];
        let gateway = GatewayKey::from_hex(GATEWAY_KEY_HEX).unwrap();
        let _: () = provider
            .raw_request(
                "anvil_setBalance".into(),
                (gateway.address(), U256::from(10u128.pow(20))),
            )
            .await
            .unwrap();
        let automine: bool = provider
            .raw_request("anvil_getAutomine".into(), ())
            .await
            .unwrap();
        if !automine {
            set_automine(&provider, true).await;
        }
        let contract =
            contract::deploy_unlocked(&provider, operator, Address::ZERO, gateway.address())
                .await
                .unwrap();
        if !automine {
            set_automine(&provider, false).await;
        }
        Some(Chain {
            anvil,
            provider,
            operator,
            gateway,
            contract,
        })
    }

    /// Sends `requestSettlement` from the operator; returns the transaction hash once it is
    /// in the node's pool (mined at once under automine).
    pub async fn send_request(&self, id: B256, units: u64) -> B256 {
        let call = request_call(id, units);
        let tx = TransactionRequest::default()
            .from(self.operator)
            .to(self.contract)
            .input(call.abi_encode().into());
        *self.provider.send_transaction(tx).await.unwrap().tx_hash()
    }

    /// Sends a request and waits for its receipt (automine); returns its block number.
    pub async fn request(&self, id: B256, units: u64) -> u64 {
        let hash = self.send_request(id, units).await;
        let receipt = self.receipt(hash).await;
        assert!(receipt.status(), "requestSettlement reverted");
        receipt.block_number.unwrap()
    }

    pub async fn receipt(&self, hash: B256) -> alloy::rpc::types::TransactionReceipt {
        for _ in 0..400 {
            if let Some(r) = self.provider.get_transaction_receipt(hash).await.unwrap() {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        panic!("no receipt for {hash}");
    }

    pub async fn mine(&self, blocks: u64) {
        let _: () = self
            .provider
            .raw_request("anvil_mine".into(), (U256::from(blocks),))
            .await
            .unwrap();
    }

    pub async fn head(&self) -> u64 {
        self.provider.get_block_number().await.unwrap()
    }

    /// Replaces the last `depth` blocks with as many empty ones.
    pub async fn reorg(&self, depth: u64) {
        let txs: Vec<serde_json::Value> = Vec::new();
        let _: serde_json::Value = self
            .provider
            .raw_request("anvil_reorg".into(), (depth, txs))
            .await
            .unwrap();
    }
}

pub async fn set_automine(provider: &Provider, on: bool) {
    let _: () = provider
        .raw_request("evm_setAutomine".into(), (on,))
        .await
        .unwrap();
}

pub fn request_call(id: B256, units: u64) -> Settlement::requestSettlementCall {
    Settlement::requestSettlementCall {
        id,
        amount: U256::from(units),
        decimals: 6,
        currency: "USDC".into(),
        debtorRef: "DE89370400440532013000".into(),
        creditorRef: "+639171234567".into(),
    }
}

/// A settlement id for test number `n`.
pub fn id(n: u64) -> B256 {
    B256::from(U256::from(n) + U256::from(0x5e77_u64) * (U256::from(1) << 200))
}

/// A TCP forwarder in front of anvil, to take the endpoint away and bring it back.
pub struct Proxy {
    pub port: u16,
    target: u16,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    listener: Option<JoinHandle<()>>,
}

impl Proxy {
    pub async fn start(target: u16) -> Proxy {
        let mut proxy = Proxy {
            port: free_port(),
            target,
            tasks: Arc::default(),
            listener: None,
        };
        proxy.up().await;
        proxy
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Accepts connections again on the same port.
    pub async fn up(&mut self) {
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

    /// Closes the port and every open connection: the endpoint is gone.
    pub async fn down(&mut self) {
        if let Some(listener) = self.listener.take() {
            listener.abort();
            let _ = listener.await;
        }
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

/// Runs a test body with a deadline, so that a stuck node fails the test instead of hanging.
pub async fn within<F: std::future::Future<Output = ()>>(seconds: u64, body: F) {
    tokio::time::timeout(Duration::from_secs(seconds), body)
        .await
        .expect("test took too long");
}
