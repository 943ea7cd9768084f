//! The canonical settlement: what a ledger asked for, in our own typed terms.

use super::{Amount, Bic, CountryCode, Iban, Lei, Msisdn, PostalAddress};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Our identifier for a settlement: `st-` and 32 hex digits (35 characters of the SWIFT x set, so it also fits
/// ISO 20022's Max35Text and serves as the EndToEndId).
///
/// The digits are a UUID version 7: a millisecond timestamp first, then random bits, so ids
/// made later sort later. Every index keyed by a settlement (its own, its transitions, its
/// outbox rows and stored messages, the journal's link) then takes a group's new entries on
/// the few pages at its end, instead of one page each scattered over the whole index: on
/// SQLite that is fewer pages written to the WAL per commit and checkpointed after it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SettlementId(String);

impl SettlementId {
    pub fn new() -> Self {
        SettlementId(format!("st-{}", uuid::Uuid::now_v7().simple()))
    }

    /// Reads an id from the store or an API path; only the shape is checked.
    pub fn parse(value: &str) -> Option<Self> {
        let hex = value.strip_prefix("st-")?;
        (hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| SettlementId(value.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for SettlementId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for SettlementId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where money lands: a bank account by IBAN, a mobile wallet by MSISDN, or another scheme.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Account {
    Iban(Iban),
    Msisdn(Msisdn),
    Other { id: String, scheme: Option<String> },
}

/// The kind of an account, as routing rules name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    Iban,
    Msisdn,
    Other,
}

impl Account {
    pub fn kind(&self) -> AccountKind {
        match self {
            Account::Iban(_) => AccountKind::Iban,
            Account::Msisdn(_) => AccountKind::Msisdn,
            Account::Other { .. } => AccountKind::Other,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub name: String,
    pub account: Account,
    pub agent: Option<Bic>,
    /// The country routing rules see (the event's `country`); the address's country is the
    /// one rendered in messages.
    pub country: Option<CountryCode>,
    pub lei: Option<Lei>,
    /// Settlements stored before addresses were carried read as `None`.
    #[serde(default)]
    pub address: Option<PostalAddress>,
}

impl Party {
    /// The party's country: as given, else its address's, else from its IBAN, else from its
    /// agent's BIC.
    pub fn effective_country(&self) -> Option<CountryCode> {
        self.country
            .clone()
            .or_else(|| self.address.as_ref().map(|a| a.country.clone()))
            .or_else(|| match &self.account {
                Account::Iban(iban) => Some(iban.country()),
                _ => None,
            })
            .or_else(|| self.agent.as_ref().map(Bic::country))
    }
}

/// A settlement as the gateway understands it, independent of rail and wire format.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settlement {
    pub id: SettlementId,
    pub ledger: String,
    pub event_id: String,
    #[serde(with = "amount_serde")]
    pub amount: Amount,
    pub debtor: Party,
    pub creditor: Party,
    pub remittance_info: Option<String>,
    /// `YYYY-MM-DD`, already checked to be a calendar date.
    pub execution_date: Option<String>,
}

/// Stored as `{"minor": 123450, "currency": "EUR"}` so that no float is ever involved.
mod amount_serde {
    use crate::domain::{Amount, Currency};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Stored {
        minor: i64,
        currency: String,
    }

    pub fn serialize<S: Serializer>(amount: &Amount, s: S) -> Result<S::Ok, S::Error> {
        Stored {
            minor: amount.minor(),
            currency: amount.currency().code().to_string(),
        }
        .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Amount, D::Error> {
        let stored = Stored::deserialize(d)?;
        let currency = Currency::parse(&stored.currency).map_err(serde::de::Error::custom)?;
        Amount::from_minor(stored.minor, currency).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::SettlementId;

    #[test]
    fn ids_made_later_sort_later() {
        let ids: Vec<SettlementId> = (0..2_000).map(|_| SettlementId::new()).collect();
        for pair in ids.windows(2) {
            assert!(pair[0].as_str() < pair[1].as_str(), "{pair:?}");
        }
        assert!(ids
            .iter()
            .all(|id| SettlementId::parse(id.as_str()).is_some()));
    }
}
