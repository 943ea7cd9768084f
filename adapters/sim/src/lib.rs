//! Simulated counterparties that speak the real wire formats over real sockets, for the demo,
//! the end-to-end tests and benchmarks.
//!
//! - [`pki`]: a throw-away CA with a bank server certificate and a gateway client certificate.
//! - [`ledger`]: a ledger that generates and posts settlement events and receives write-backs.
//! - [`bank`]: a correspondent bank over HTTPS with mutual TLS, answering pacs.008 with
//!   pacs.002, scriptable per message (accept, reject, late, twice, drop).
//! - [`switch`]: a wallet switch over ISO 8583.
//! - [`statements`]: camt.053 / camt.054 / MT940 and the wallet settlement CSV written from
//!   the simulators' books, with scripted discrepancies.
//! - [`cli`]: the `corridor sim ...` subcommands.

pub mod bank;
pub mod cli;
pub mod fault;
pub mod ledger;
pub mod pki;
pub mod statements;
pub mod switch;
