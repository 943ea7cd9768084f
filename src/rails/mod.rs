//! Rails: how a canonical settlement goes on the wire and how answers come back.
//!
//! One folder per rail, each with its mapping (canonical ⇄ wire), its transport and its
//! outbox job handlers (`jobs.rs`, registered with the engine in [`register`]); its answers
//! are applied in `confirm/<rail>.rs`:
//!
//! - [`bank`]: ISO 20022 (pacs.008 + head.001, pacs.028) to correspondent banks over HTTPS
//!   with mutual TLS.
//! - [`wallet`]: ISO 8583 (0200 credit, 0420 reversal) to mobile-money switches over a
//!   persistent link ([`wallet::link`]).

pub mod bank;
pub mod wallet;

use crate::config::Config;
use crate::domain::Rail;
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
        Rail::Bank => Ok(match config.bank(&route.counterparty) {
            Some(bank) => bank::prepare(&config.gateway.bic, bank, settlement),
            None => Err(unknown()),
        }),
        Rail::Wallet => match config.switch(&route.counterparty) {
            Some(switch) => wallet::prepare(conn, switch, settlement).await,
            None => Ok(Err(unknown())),
        },
    }
}

/// [`prepare`] for a rail that needs no transaction to render (the bank rail: its
/// identifiers are random); `None` for one that does (the wallet rail takes a STAN from a
/// counter). Lets intake write a new settlement's row once, already routed and submitted.
pub fn prepare_offline(
    config: &Config,
    route: &Route,
    settlement: &Settlement,
) -> Option<Result<Outbound, RailError>> {
    match route.rail {
        Rail::Bank => Some(match config.bank(&route.counterparty) {
            Some(bank) => bank::prepare(&config.gateway.bic, bank, settlement),
            None => Err(RailError::UnknownCounterparty(route.counterparty.clone())),
        }),
        Rail::Wallet => None,
    }
}

/// A trace number in the range of real ones, for [`check_numbered`] to render with.
const STAND_IN_STAN: &str = "000001";

/// For a rail whose message carries a number taken from the store (the wallet rail's STAN):
/// whether the message can be built, learnt without the store by building it with a
/// stand-in number (which fields fail does not depend on it: a STAN is always six digits).
/// `None` on other rails. Lets intake merge such settlements (`intake::merged`), taking
/// their numbers for a whole group at once.
pub fn check_numbered(
    config: &Config,
    route: &Route,
    settlement: &Settlement,
) -> Option<Result<(), RailError>> {
    match route.rail {
        Rail::Bank => None,
        Rail::Wallet => Some(render_numbered(config, route, settlement, STAND_IN_STAN).map(drop)),
    }
}

/// The message of a settlement on a rail whose message carries a number from the store
/// (see [`check_numbered`]), with `number` taken.
pub fn render_numbered(
    config: &Config,
    route: &Route,
    settlement: &Settlement,
    number: &str,
) -> Result<Outbound, RailError> {
    match (route.rail, config.switch(&route.counterparty)) {
        (Rail::Wallet, Some(switch)) => wallet::credit(switch, settlement, number),
        (Rail::Wallet, None) => Err(RailError::UnknownCounterparty(route.counterparty.clone())),
        (Rail::Bank, _) => Err(RailError::Render(format!(
            "the bank rail's messages carry no number from the store (settlement {})",
            settlement.id
        ))),
    }
}

/// What a rail needs at start and could not get.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Bank(#[from] bank::jobs::BankSetupError),
    #[error(transparent)]
    Switch(#[from] wallet::link::LinkSetupError),
}

/// The rails' handlers registered with the engine, and the tasks and links they started.
pub struct Registered {
    pub links: Vec<iso8583::Link>,
    pub tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// Registers every rail's job handlers: one line per rail.
pub fn register(
    registry: &mut crate::dispatch::Registry,
    config: &Config,
    store: &crate::store::Store,
) -> Result<Registered, SetupError> {
    let (links, tasks) = wallet::link::open_all(&config.switches, store)?;
    let link_handles = links.values().map(|l| l.link.clone()).collect();
    registry.rail(
        Rail::Bank,
        bank::jobs::BankJobs::KINDS,
        std::sync::Arc::new(bank::jobs::BankJobs::new(config)?),
    );
    registry.rail(
        Rail::Wallet,
        wallet::jobs::WalletJobs::KINDS,
        std::sync::Arc::new(wallet::jobs::WalletJobs::new(links)),
    );
    Ok(Registered {
        links: link_handles,
        tasks,
    })
}
