//! Rails: how a canonical settlement goes on the wire and how answers come back.
//!
//! Each rail has a mapping (canonical ⇄ wire, pure) and a transport. Today: the ISO 20022
//! bank rail ([`bank`]).

pub mod bank;

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

/// Assigns a settlement's outbound identifiers and renders its message, ready to store.
pub fn prepare(
    config: &Config,
    route: &Route,
    settlement: &Settlement,
) -> Result<Outbound, RailError> {
    match route.rail {
        RailKind::Iso20022 => {
            let bank = config
                .bank(&route.counterparty)
                .ok_or_else(|| RailError::UnknownCounterparty(route.counterparty.clone()))?;
            bank::prepare(&config.gateway.bic, bank, settlement)
        }
    }
}
