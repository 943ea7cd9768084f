//! The ledger event and write-back JSON, as the gateway accepts and sends them.
//!
//! Fields are plain strings on purpose: the simulator must be able to produce *invalid*
//! events (bad IBAN check digits, unknown currencies, too many decimals) to prove that the
//! gateway refuses them at its edge.

use serde::{Deserialize, Serialize};

/// The `type` of a settlement request event.
pub const SETTLEMENT_REQUESTED: &str = "settlement.requested";

/// One settlement event as a ledger posts it to `POST /v1/ledger/events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ledger: Option<String>,
    pub event_id: String,
    #[serde(rename = "type")]
    pub event_type: String,
    /// RFC 3339, UTC.
    pub occurred_at: String,
    pub amount: EventAmount,
    pub currency: String,
    pub debtor: Party,
    pub creditor: Party,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remittance_info: Option<String>,
    /// `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution_date: Option<String>,
}

/// An amount: a decimal string in the currency's unit (`"1234.50"`), or a ledger token amount
/// in base units with its number of decimals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EventAmount {
    Decimal(String),
    Token { units: String, decimals: u32 },
}

/// A debtor or creditor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    pub name: String,
    pub account: Account,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<Agent>,
    /// ISO 3166 alpha-2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    /// A structured postal address; a payment to a bank needs one for both parties.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// A structured postal address: the gateway wants `town_name` and `country` at least; the
/// other parts are optional. Plain strings, so that an event can be made invalid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub building_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub post_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub town_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_sub_division: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
}

/// An account: an IBAN, a wallet phone number, or another identifier with its scheme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Account {
    Iban { iban: String },
    Msisdn { msisdn: String },
    Other { other: String, scheme: String },
}

/// A financial institution, by BIC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agent {
    pub bic: String,
}

/// The final outcome the gateway posts back to the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WriteBack {
    pub settlement_id: String,
    #[serde(default)]
    pub ledger: Option<String>,
    pub event_id: String,
    /// settled | rejected | returned | reversed | failed | unroutable
    pub outcome: String,
    #[serde(default)]
    pub reason_code: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub uetr: Option<String>,
    #[serde(default)]
    pub amount: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub final_at: Option<String>,
    /// On a correction (key `<settlement>:correction`): the outcome it replaces.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrects: Option<String>,
    /// On a refund request (key `<settlement>:refund`): the reconciliation break behind it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_id: Option<i64>,
}

/// The outcome of a refund request (key `<settlement>:refund`), which is not a settlement's
/// outcome but a request to the ledger to pay money back.
pub const REFUND_REQUESTED: &str = "refund_requested";

/// The outcomes a write-back may carry.
pub const OUTCOMES: [&str; 6] = [
    "settled",
    "rejected",
    "returned",
    "reversed",
    "failed",
    "unroutable",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_example_round_trips() {
        let text = r#"{
          "ledger": "demo-ledger", "event_id": "evt-000001", "type": "settlement.requested",
          "occurred_at": "2026-11-25T12:00:00Z", "amount": "1234.50", "currency": "EUR",
          "debtor": {"name": "Acme GmbH", "account": {"iban": "DE89370400440532013000"}, "agent": {"bic": "COBADEFFXXX"},
                     "address": {"street_name": "Friedrichstrasse", "building_number": "123", "post_code": "10117", "town_name": "Berlin", "country": "DE"}},
          "creditor": {"name": "Jane Roe", "account": {"iban": "FR1420041010050500013M02606"}, "agent": {"bic": "BNPAFRPPXXX"}, "country": "FR",
                       "address": {"street_name": "Rue de Rivoli", "building_number": "10", "post_code": "75001", "town_name": "Paris", "country": "FR"}},
          "remittance_info": "Invoice 42", "execution_date": "2026-11-25"
        }"#;
        let event: LedgerEvent = serde_json::from_str(text).unwrap();
        assert_eq!(event.amount, EventAmount::Decimal("1234.50".into()));
        let town = |p: &Party| p.address.as_ref().and_then(|a| a.town_name.clone());
        assert_eq!(town(&event.creditor).as_deref(), Some("Paris"));
        assert_eq!(town(&event.debtor).as_deref(), Some("Berlin"));
        let back: LedgerEvent =
            serde_json::from_str(&serde_json::to_string(&event).unwrap()).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn token_amounts_and_other_accounts_parse() {
        let amount: EventAmount =
            serde_json::from_str(r#"{"units": "1234500000", "decimals": 6}"#).unwrap();
        assert_eq!(
            amount,
            EventAmount::Token {
                units: "1234500000".into(),
                decimals: 6
            }
        );
        let account: Account = serde_json::from_str(r#"{"msisdn": "+639171234567"}"#).unwrap();
        assert!(matches!(account, Account::Msisdn { .. }));
        let account: Account =
            serde_json::from_str(r#"{"other": "123456789", "scheme": "BBAN"}"#).unwrap();
        assert!(matches!(account, Account::Other { .. }));
    }
}
