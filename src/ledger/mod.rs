//! Ledgers: where settlement events come from, and where final outcomes go.
//!
//! A ledger is a source of events and a sink of outcomes. Both kinds share everything between
//! those two ends: a source hands events of the one ledger event schema to
//! [`crate::intake::accept_events_in`] (validation, token scaling, idempotency by (ledger,
//! event id), routing, the state machine, the outbox), and a sink is called by the one
//! write-back job ([`crate::writeback`], kind `writeback`) once a settlement is final.
//!
//! | kind | source | sink |
//! | --- | --- | --- |
//! | `http` | signed `POST /v1/ledger/events` ([`crate::api`]), files (`corridor ingest`) | a signed POST to `callback_url` |
//! | `evm` | [`evm::follow`]: a `Settlement` contract's logs, confirmed | [`evm::sink`]: `recordOutcome` on chain |

pub mod evm;

pub use crate::config::LedgerKind;
