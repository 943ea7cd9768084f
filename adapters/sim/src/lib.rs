//! Simulated counterparties that speak the real wire formats over real sockets.
//!
//! (Work in progress: the bank, the ledger and the demo PKI land first; the wallet switch
//! follows with the ISO 8583 link.)

pub mod switch;
