//! Rails: how a canonical settlement goes on the wire and how answers come back.
//!
//! Each rail has a mapping (canonical ⇄ wire) and a transport: the ISO 20022 bank rail
//! ([`bank`]) and the ISO 8583 wallet rail ([`wallet`], over [`switch_link`]).

pub mod bank;
pub mod switch_link;
pub mod wallet;

use crate::config::{Config, RailKind};
use crate::domain::Settlement;
use crate::routing::Route;
use crate::store::messages::Outbound;

#[derive(Debug, thiserror::Error)]
pub enum RailError {
    #[error("counterparty {0:?} is not configured")]
    UnknownCounterparty(String),
    #[error("message could not be built: {0}")]
    Render(String),
}

/// Assigns a settlement's outbound identifiers and renders its message, ready to store (in
/// the caller's transaction: an ISO 8583 STAN is taken from a counter there). The outer
/// error is the store's; the inner one says the message cannot be built.
pub async fn prepare(
    conn: &mut sqlx::AnyConnection,
    config: &Config,
    route: &Route,
    settlement: &Settlement,
) -> Result<Result<Outbound, RailError>, crate::store::StoreError> {
    let unknown = || RailError::UnknownCounterparty(route.counterparty.clone());
    match route.rail {
        RailKind::Iso20022 => Ok(match config.bank(&route.counterparty) {
            Some(bank) => bank::prepare(&config.gateway.bic, bank, settlement),
            None => Err(unknown()),
        }),
        RailKind::Iso8583 => match config.switch(&route.counterparty) {
            Some(switch) => wallet::prepare(conn, switch, settlement).await,
            None => Ok(Err(unknown())),
        },
    }
}
