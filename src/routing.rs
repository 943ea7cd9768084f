//! Routing: which rail and counterparty a settlement goes to, from the ordered rules in
//! config (by currency, creditor country, creditor account kind). No rule: `unroutable`.

use crate::config::{Config, RouteConfig};
use crate::domain::Rail;
use crate::domain::Settlement;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub rail: Rail,
    pub counterparty: String,
}

fn matches(rule: &RouteConfig, settlement: &Settlement) -> bool {
    let currency = settlement.amount.currency();
    let country = settlement.creditor.effective_country();
    let kind = settlement.creditor.account.kind();
    (rule.currencies.is_empty() || rule.currencies.contains(&currency))
        && (rule.countries.is_empty()
            || country.as_ref().is_some_and(|c| rule.countries.contains(c)))
        && (rule.account_kinds.is_empty() || rule.account_kinds.contains(&kind))
}

/// The first rule that matches, or None.
pub fn route(config: &Config, settlement: &Settlement) -> Option<Route> {
    config
        .routes
        .iter()
        .find(|rule| matches(rule, settlement))
        .map(|rule| Route {
            rail: rule.rail,
            counterparty: rule.counterparty.clone(),
        })
}

/// Says what an unroutable settlement looked like to the rules, for the operator.
pub fn explain_unroutable(settlement: &Settlement) -> String {
    format!(
        "no route for currency {}, creditor country {}, account kind {:?}",
        settlement.amount.currency(),
        settlement
            .creditor
            .effective_country()
            .map(|c| c.to_string())
            .unwrap_or_else(|| "unknown".into()),
        settlement.creditor.account.kind()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::event;

    const CONFIG: &str = r#"
        [gateway]
        bic = "CORRGB2LXXX"
        [[banks]]
        id = "eu"
        bic = "DEUTDEFFXXX"
        endpoint = "https://127.0.0.1:1/mx"
        ca_file = "ca.pem"
        cert_file = "c.pem"
        key_file = "k.pem"
        [[banks]]
        id = "gb"
        bic = "BARCGB22XXX"
        endpoint = "https://127.0.0.1:2/mx"
        ca_file = "ca.pem"
        cert_file = "c.pem"
        key_file = "k.pem"
        [[routes]]
        currencies = ["GBP"]
        countries = ["GB"]
        rail = "bank"
        counterparty = "gb"
        [[routes]]
        currencies = ["EUR", "GBP"]
        account_kinds = ["iban"]
        rail = "bank"
        counterparty = "eu"
    "#;

    fn settlement(currency: &str, amount: &str, creditor_iban: &str) -> Settlement {
        let value = serde_json::json!({
            "event_id": "e", "type": "settlement.requested", "amount": amount, "currency": currency,
            "debtor": {"name": "A", "account": {"iban": "DE89370400440532013000"}},
            "creditor": {"name": "B", "account": {"iban": creditor_iban}}
        });
        event::to_settlement("l", &event::parse_json(value).unwrap()).unwrap()
    }

    #[test]
    fn first_matching_rule_wins() {
        let config = Config::from_toml(CONFIG, Vec::new()).unwrap();
        let gb = settlement("GBP", "10", "GB29NWBK60161331926819");
        assert_eq!(route(&config, &gb).unwrap().counterparty, "gb");
        let gbp_to_france = settlement("GBP", "10", "FR1420041010050500013M02606");
        assert_eq!(route(&config, &gbp_to_france).unwrap().counterparty, "eu");
        let eur = settlement("EUR", "10", "FR1420041010050500013M02606");
        assert_eq!(route(&config, &eur).unwrap().counterparty, "eu");
        let usd = settlement("USD", "10", "FR1420041010050500013M02606");
        assert_eq!(route(&config, &usd), None);
        assert!(explain_unroutable(&usd).contains("USD"));
    }
}
