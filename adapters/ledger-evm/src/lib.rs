//! Corridor's EVM ledger adapter: follow a settlement contract's requests, record outcomes.
//!
//! The `Settlement` contract (`contracts/Settlement.sol`) is the ledger: an operator emits
//! `SettlementRequested`, the gateway settles it off chain and calls `recordOutcome` once.
//! This crate is the chain side of that, with no knowledge of the gateway:
//!
//! - [`rpc`]: one HTTP JSON-RPC connection with a deadline on every request.
//! - [`contract`]: the ABI bindings made from the committed ABI, the outcome status codes,
//!   and decoding of the contract's custom errors.
//! - [`follower`]: reads `SettlementRequested` logs in bounded block ranges from a
//!   [`Cursor`](follower::Cursor), releases an event only once it is confirmed, and tells
//!   events withdrawn by a reorg apart from a reorg below the cursor (a conflict).
//! - [`key`]: the gateway's signing key, from a keystore file or a hex environment variable;
//!   it never prints.
//! - [`writer`]: sends `recordOutcome` (and the records appended to an outcome:
//!   `recordCorrection`, `requestRefund`) with nonce, gas and fee management; what it has sent
//!   is a [`PendingTx`](writer::PendingTx) the caller persists, so that after a crash an
//!   outcome is neither lost nor written twice.
//!
//! Amounts stay as the chain states them (units and decimals); scaling to a currency's minor
//! units is the caller's decision.
//!
//! ```no_run
//! use ledger_evm::follower::{Confirmation, Follower, FollowerConfig, Poll};
//! use ledger_evm::key::GatewayKey;
//! use ledger_evm::rpc::{connect, RpcConfig};
//! use ledger_evm::writer::{Outcome, Writer, WriterConfig};
//! use ledger_evm::contract::{Entry, OutcomeStatus};
//!
//! # async fn run(contract: ledger_evm::Address) -> Result<(), Box<dyn std::error::Error>> {
//! let provider = connect(&RpcConfig::new("http://127.0.0.1:8545"))?;
//! let config = FollowerConfig {
//!     contract,
//!     from_block: 0,
//!     confirmation: Confirmation::Blocks(12),
//!     range_blocks_max: 2_000,
//!     ranges_per_poll_max: 10,
//! };
//! let mut follower = Follower::new(provider.clone(), config, None).await?;
//! let writer = Writer::new(provider, GatewayKey::from_env_hex("GATEWAY_KEY")?, WriterConfig::new(contract)).await?;
//! if let Poll::Advanced(advance) = follower.poll().await? {
//!     for request in &advance.released {
//!         // ... settle off chain, then:
//!         let outcome = Outcome {
//!             entry: Entry::Outcome,
//!             amount: Default::default(),
//!             id: request.id,
//!             status: OutcomeStatus::Settled,
//!             reason_code: String::new(),
//!             counterparty_ref: "UETR".into(),
//!             evidence: Default::default(),
//!         };
//!         writer.record(&outcome, |pending| std::fs::write("pending.json", serde_json::to_vec(pending).unwrap())).await?;
//!     }
//!     // persist advance.cursor
//! }
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod anvil;
pub mod contract;
pub mod follower;
pub mod key;
pub mod rpc;
pub mod writer;

pub use alloy::primitives::{Address, B256, U256};
