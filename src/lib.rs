//! Corridor: a settlement gateway between a ledger and the financial world.
//!
//! The modules, in the order a settlement flows through them (see DESIGN.md):
//!
//! - [`domain`]: money, identifiers, the canonical settlement and its state machine.
//! - [`config`]: the TOML configuration with environment overrides.
//! - [`store`]: SQLite / PostgreSQL: settlements, transitions, outbox, journals, messages.
//! - [`intake`]: ledger events (HTTP and files) validated into settlements, exactly once.
//! - [`routing`]: which rail and counterparty a settlement goes to.
//! - [`rails`]: one folder per rail (mapping, transport, job handlers): `bank` (ISO 20022 to
//!   correspondent banks) and `wallet` (ISO 8583 to mobile-money switches).
//! - [`dispatch`]: the outbox engine (leases, retries, backoff, dead letters); knows no rail.
//! - [`confirm`]: answers from counterparties applied to settlements, one file per rail, and
//!   the journal recovered at start.
//! - [`writeback`]: final outcomes posted back to the ledger, once.
//! - [`ledger`]: the kinds of ledger (HTTP, EVM chain): a source of events and a sink of
//!   outcomes each, around the shared intake and write-back.
//! - [`recon`]: reconciliation of the four sources, typed breaks and their review workflow.
//! - [`api`]: the HTTP API (intake, bank callbacks, operations, health, metrics).
//! - [`gateway`]: wires the parts into a running instance.
//! - [`cli`] and [`demo`]: the `corridor` command and its one-command demo.
//! - [`telemetry`]: logs, metrics and masking.
//! - [`crash`]: crash points for the crash harness (debug builds only).

pub mod domain;

pub mod config;
pub mod store;

pub mod intake;
pub mod routing;

pub mod rails;

pub mod dispatch;

pub mod confirm;

pub mod writeback;

pub mod ledger;
pub mod recon;

pub mod api;
pub mod gateway;
pub mod memory;

/// `corridor bench`: the whole flow under load, with the gateway as a child process.
pub mod bench;
pub mod cli;
pub mod demo;
pub mod telemetry;

pub mod crash;
