//! Reconciliation: statements imported from banks and wallet operators, matched against what
//! the ledger asked, what was sent and what was confirmed.

pub mod statements;
