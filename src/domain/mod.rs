//! The canonical vocabulary: money, identifiers and the settlement itself.
//!
//! Everything here is parsed at the edge (DESIGN.md decision 2): a value of these types is
//! valid by construction, so code past intake never re-checks shape.

mod address;
mod ids;
mod money;
mod settlement;
mod state;
mod text_enum;

pub use address::{AddressPart, PostalAddress, TOWN_NAME_CHARS_MAX};
pub use ids::{Bic, CountryCode, Iban, Lei, Msisdn, Uetr};
pub use money::{Amount, Currency};
pub use settlement::{Account, AccountKind, Party, Settlement, SettlementId};
pub use state::{SettlementState, TransitionError};
pub use text_enum::Rail;

/// Why a value was refused at the edge. The message names what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("unknown currency {0:?} (not an active ISO 4217 code)")]
    UnknownCurrency(String),
    #[error("amount {value:?} is not a plain decimal number (digits with an optional '.')")]
    AmountSyntax { value: String },
    #[error("amount {value:?} has more decimals than {currency} allows ({exponent}); it would be rounded, so it is refused")]
    PrecisionLoss {
        value: String,
        currency: &'static str,
        exponent: u8,
    },
    #[error("amount {value:?} is too large")]
    AmountOverflow { value: String },
    #[error("amount must be greater than zero")]
    AmountNotPositive,
    #[error("token decimals {0} is outside 0..=36")]
    TokenDecimals(u32),
    #[error("{kind} {value:?} is invalid: {why}")]
    Identifier {
        kind: &'static str,
        value: String,
        why: &'static str,
    },
}

pub(crate) fn invalid(kind: &'static str, value: &str, why: &'static str) -> DomainError {
    DomainError::Identifier {
        kind,
        // Identifiers can be account numbers: keep only a masked form in the error.
        value: crate::telemetry::mask(value),
        why,
    }
}
