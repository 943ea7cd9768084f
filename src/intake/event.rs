//! The ledger event as it arrives (schemas/ledger/settlement-event.schema.json), and its
//! conversion into a canonical [`Settlement`]. Every refusal names the field.

use crate::domain::{
    Account, AddressPart, Amount, Bic, CountryCode, Currency, DomainError, Iban, Lei, Msisdn,
    Party, PostalAddress, Settlement, SettlementId, TOWN_NAME_CHARS_MAX,
};
use serde::Deserialize;

/// Most characters of an event id; longer ids are refused.
pub const EVENT_ID_CHARS_MAX: usize = 128;
const NAME_CHARS_MAX: usize = 140;
const REMITTANCE_CHARS_MAX: usize = 140;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventJson {
    #[serde(default)]
    pub ledger: Option<String>,
    pub event_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub occurred_at: Option<String>,
    pub amount: AmountJson,
    pub currency: String,
    pub debtor: PartyJson,
    pub creditor: PartyJson,
    #[serde(default)]
    pub remittance_info: Option<String>,
    #[serde(default)]
    pub execution_date: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum AmountJson {
    Decimal(String),
    Token(TokenAmountJson),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenAmountJson {
    pub units: String,
    pub decimals: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyJson {
    pub name: String,
    pub account: AccountJson,
    #[serde(default)]
    pub agent: Option<AgentJson>,
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub lei: Option<String>,
    #[serde(default)]
    pub address: Option<AddressJson>,
}

/// A structured postal address: `town_name` and `country` at least, the other parts optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AddressJson {
    #[serde(default)]
    pub department: Option<String>,
    #[serde(default)]
    pub sub_department: Option<String>,
    #[serde(default)]
    pub street_name: Option<String>,
    #[serde(default)]
    pub building_number: Option<String>,
    #[serde(default)]
    pub building_name: Option<String>,
    #[serde(default)]
    pub floor: Option<String>,
    #[serde(default)]
    pub post_box: Option<String>,
    #[serde(default)]
    pub room: Option<String>,
    #[serde(default)]
    pub post_code: Option<String>,
    #[serde(default)]
    pub town_name: Option<String>,
    #[serde(default)]
    pub town_location_name: Option<String>,
    #[serde(default)]
    pub district_name: Option<String>,
    #[serde(default)]
    pub country_sub_division: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
}

impl AddressJson {
    fn part(&self, part: AddressPart) -> Option<&str> {
        match part {
            AddressPart::Department => &self.department,
            AddressPart::SubDepartment => &self.sub_department,
            AddressPart::StreetName => &self.street_name,
            AddressPart::BuildingNumber => &self.building_number,
            AddressPart::BuildingName => &self.building_name,
            AddressPart::Floor => &self.floor,
            AddressPart::PostBox => &self.post_box,
            AddressPart::Room => &self.room,
            AddressPart::PostCode => &self.post_code,
            AddressPart::TownLocationName => &self.town_location_name,
            AddressPart::DistrictName => &self.district_name,
            AddressPart::CountrySubDivision => &self.country_sub_division,
        }
        .as_deref()
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountJson {
    #[serde(default)]
    pub iban: Option<String>,
    #[serde(default)]
    pub msisdn: Option<String>,
    #[serde(default)]
    pub other: Option<String>,
    #[serde(default)]
    pub scheme: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentJson {
    pub bic: String,
}

/// A refused event: which field, and why.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize)]
#[error("{field}: {message}")]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

fn at(field: &str) -> impl Fn(DomainError) -> FieldError + '_ {
    move |e| FieldError::new(field, e.to_string())
}

/// Reads one event from JSON, naming the path of any shape error.
pub fn parse_json(value: serde_json::Value) -> Result<EventJson, FieldError> {
    // serde would also read a struct written as an array of its fields by position: an event
    // and every object in it must be objects, with named fields (the event has no arrays).
    if !value.is_object() {
        return Err(FieldError::new(
            "(event)",
            "an event is a JSON object with named fields",
        ));
    }
    if let Some(path) = first_array(&value, "") {
        return Err(FieldError::new(
            path,
            "an array is not accepted here: write an object with named fields",
        ));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "(event)".to_string()
        } else {
            path
        };
        FieldError::new(field, e.into_inner().to_string())
    })
}

/// The path of the first array inside `value`, if any.
fn first_array(value: &serde_json::Value, path: &str) -> Option<String> {
    match value {
        serde_json::Value::Array(_) => Some(if path.is_empty() {
            "(event)".to_string()
        } else {
            path.to_string()
        }),
        serde_json::Value::Object(map) => map.iter().find_map(|(key, inner)| {
            let here = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            first_array(inner, &here)
        }),
        _ => None,
    }
}

fn text(field: &str, value: &str, max: usize) -> Result<String, FieldError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if trimmed.chars().count() > max {
        return Err(FieldError::new(
            field,
            format!("longer than {max} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(FieldError::new(field, "contains control characters"));
    }
    Ok(trimmed.to_string())
}

/// What a refusal of a missing town or country says.
const ADDRESS_MINIMUM: &str =
    "required: a structured address has at least town_name and country (CBPR+)";

fn address(prefix: &str, json: &AddressJson) -> Result<PostalAddress, FieldError> {
    let f = |name: &str| format!("{prefix}.address.{name}");
    let town_name = json
        .town_name
        .as_deref()
        .ok_or_else(|| FieldError::new(f("town_name"), ADDRESS_MINIMUM))?;
    let town_name = text(&f("town_name"), town_name, TOWN_NAME_CHARS_MAX)?;
    let country = json
        .country
        .as_deref()
        .ok_or_else(|| FieldError::new(f("country"), ADDRESS_MINIMUM))?;
    let country = CountryCode::parse(country).map_err(at(&f("country")))?;
    let mut out = PostalAddress::new(town_name, country);
    for part in AddressPart::ALL {
        let value = json
            .part(part)
            .map(|v| text(&f(part.json_name()), v, part.chars_max()))
            .transpose()?;
        out.set_part(part, value);
    }
    Ok(out)
}

fn party(prefix: &str, json: &PartyJson) -> Result<Party, FieldError> {
    let f = |name: &str| format!("{prefix}.{name}");
    let name = text(&f("name"), &json.name, NAME_CHARS_MAX)?;
    let a = &json.account;
    let given = [a.iban.is_some(), a.msisdn.is_some(), a.other.is_some()]
        .iter()
        .filter(|x| **x)
        .count();
    if given != 1 {
        return Err(FieldError::new(
            f("account"),
            "give exactly one of iban, msisdn, other",
        ));
    }
    if a.scheme.is_some() && a.other.is_none() {
        return Err(FieldError::new(
            f("account.scheme"),
            "only goes with account.other",
        ));
    }
    let account = if let Some(iban) = &a.iban {
        Account::Iban(Iban::parse(iban).map_err(at(&f("account.iban")))?)
    } else if let Some(msisdn) = &a.msisdn {
        Account::Msisdn(Msisdn::parse(msisdn).map_err(at(&f("account.msisdn")))?)
    } else {
        let other = a.other.as_deref().unwrap_or_default();
        Account::Other {
            id: text(&f("account.other"), other, 34)?,
            scheme: a
                .scheme
                .as_deref()
                .map(|s| text(&f("account.scheme"), s, 35))
                .transpose()?,
        }
    };
    let address = json
        .address
        .as_ref()
        .map(|a| address(prefix, a))
        .transpose()?;
    let country = json
        .country
        .as_deref()
        .map(|c| CountryCode::parse(c).map_err(at(&f("country"))))
        .transpose()?;
    if let (Some(country), Some(address)) = (&country, &address) {
        if *country != address.country {
            // One party, two countries: one of them is a mistake, and routing (which reads
            // `country`) would disagree with what the bank is told (the address).
            return Err(FieldError::new(
                f("address.country"),
                format!(
                    "{} differs from {prefix}.country {country}",
                    address.country
                ),
            ));
        }
    }
    Ok(Party {
        name,
        account,
        agent: json
            .agent
            .as_ref()
            .map(|agent| Bic::parse(&agent.bic).map_err(at(&f("agent.bic"))))
            .transpose()?,
        country,
        lei: json
            .lei
            .as_deref()
            .map(|l| Lei::parse(l).map_err(at(&f("lei"))))
            .transpose()?,
        address,
    })
}

/// What a settlement routed to a bank (ISO 20022, CBPR+) needs beyond a valid event: a
/// structured address for both parties, and names and address parts that still fit their
/// elements once written in the CBPR+ character set (`ß` becomes `ss`). Refused at intake,
/// with the field, rather than failed at rendering.
pub fn check_for_bank(settlement: &Settlement) -> Result<(), FieldError> {
    use crate::rails::bank::to_cbpr_text;
    let fits = |field: String, value: &str, max: usize| {
        let chars = to_cbpr_text(value).chars().count();
        if chars > max {
            Err(FieldError::new(
                field,
                format!(
                    "{chars} characters once written in the CBPR+ character set; at most {max}"
                ),
            ))
        } else {
            Ok(())
        }
    };
    for (prefix, party) in [
        ("debtor", &settlement.debtor),
        ("creditor", &settlement.creditor),
    ] {
        fits(format!("{prefix}.name"), &party.name, NAME_CHARS_MAX)?;
        let Some(address) = &party.address else {
            return Err(FieldError::new(
                format!("{prefix}.address.town_name"),
                "required for a payment to a bank: no address given; CBPR+ needs a structured \
                 address with at least town_name and country",
            ));
        };
        let field = |name: &str| format!("{prefix}.address.{name}");
        fits(field("town_name"), &address.town_name, TOWN_NAME_CHARS_MAX)?;
        for part in AddressPart::ALL {
            if let Some(value) = address.part(part) {
                fits(field(part.json_name()), value, part.chars_max())?;
            }
        }
    }
    if let Some(info) = &settlement.remittance_info {
        fits("remittance_info".into(), info, REMITTANCE_CHARS_MAX)?;
    }
    Ok(())
}

/// Checks an event and builds the canonical settlement. `ledger` is the authenticated sender.
pub fn to_settlement(ledger: &str, json: &EventJson) -> Result<Settlement, FieldError> {
    if let Some(claimed) = &json.ledger {
        if claimed != ledger {
            return Err(FieldError::new(
                "ledger",
                format!("event names ledger {claimed:?} but was sent by {ledger:?}"),
            ));
        }
    }
    let event_id = &json.event_id;
    if event_id.is_empty()
        || event_id.len() > EVENT_ID_CHARS_MAX
        || !event_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._:-/".contains(&b))
    {
        return Err(FieldError::new(
            "event_id",
            format!("1 to {EVENT_ID_CHARS_MAX} characters of A-Z a-z 0-9 . _ : - /"),
        ));
    }
    if json.kind != "settlement.requested" {
        return Err(FieldError::new(
            "type",
            format!(
                "unknown event type {:?}; expected settlement.requested",
                json.kind
            ),
        ));
    }
    if let Some(occurred_at) = &json.occurred_at {
        time::OffsetDateTime::parse(occurred_at, &time::format_description::well_known::Rfc3339)
            .map_err(|_| FieldError::new("occurred_at", "not an RFC 3339 date-time with offset"))?;
    }
    let currency = Currency::parse(&json.currency).map_err(at("currency"))?;
    let amount = match &json.amount {
        AmountJson::Decimal(text) => Amount::parse_decimal(text, currency),
        AmountJson::Token(token) => {
            Amount::from_token_units(&token.units, token.decimals, currency)
        }
    }
    .map_err(at("amount"))?;
    let debtor = party("debtor", &json.debtor)?;
    let creditor = party("creditor", &json.creditor)?;
    let remittance_info = json
        .remittance_info
        .as_deref()
        .map(|r| text("remittance_info", r, REMITTANCE_CHARS_MAX))
        .transpose()?;
    let execution_date = json
        .execution_date
        .as_deref()
        .map(|d| {
            let format = time::macros::format_description!("[year]-[month]-[day]");
            time::Date::parse(d, format)
                .map(|_| d.to_string())
                .map_err(|_| FieldError::new("execution_date", "not a YYYY-MM-DD calendar date"))
        })
        .transpose()?;
    Ok(Settlement {
        id: SettlementId::new(),
        ledger: ledger.to_string(),
        event_id: event_id.clone(),
        amount,
        debtor,
        creditor,
        remittance_info,
        execution_date,
    })
}

/// A hash of the event's content that ignores key order and white space, so that a ledger
/// re-posting the same event is recognised however it serialises it. Stored with each
/// settlement: the canonical form must never change, or a re-post of an event stored before
/// would no longer be recognised.
pub fn content_hash(value: &serde_json::Value) -> String {
    use sha2::{Digest, Sha256};
    let mut canonical = Vec::with_capacity(1024);
    write_canonical(value, &mut canonical);
    hex::encode(Sha256::digest(&canonical))
}

/// The canonical form: objects with their keys in order, no white space, each key and leaf
/// as serde_json writes it (compact). Written straight into `out`, with no string per key or
/// leaf.
fn write_canonical(value: &serde_json::Value, out: &mut Vec<u8>) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            // serde_json's map keeps its keys in order already; sorted here all the same, so
            // the form does not hang on that crate's features.
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(out, key);
                out.push(b':');
                write_canonical(item, out);
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_canonical(item, out);
            }
            out.push(b']');
        }
        leaf => write_json(out, leaf),
    }
}

/// `value` as serde_json writes it, compact.
fn write_json(out: &mut Vec<u8>, value: &impl serde::Serialize) {
    serde_json::to_writer(out, value).expect("a JSON key or leaf is written to memory");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn sample() -> serde_json::Value {
        json!({
            "ledger": "l1",
            "event_id": "evt-1",
            "type": "settlement.requested",
            "occurred_at": "2026-11-25T12:00:00Z",
            "amount": "1234.50",
            "currency": "EUR",
            "debtor": {"name": "Acme GmbH", "account": {"iban": "DE89370400440532013000"},
                       "agent": {"bic": "COBADEFFXXX"},
                       "address": {"street_name": "Friedrichstraße", "building_number": "123",
                                   "post_code": "10117", "town_name": "Berlin", "country": "DE"}},
            "creditor": {"name": "Jane Roe", "account": {"iban": "FR1420041010050500013M02606"},
                         "agent": {"bic": "BNPAFRPPXXX"}, "country": "FR",
                         "address": {"street_name": "Rue de Rivoli", "building_number": "10",
                                     "post_code": "75001", "town_name": "Paris", "country": "FR"}},
            "remittance_info": "Invoice 42",
            "execution_date": "2026-11-25"
        })
    }

    fn refuse(mutate: impl FnOnce(&mut serde_json::Value)) -> FieldError {
        let mut value = sample();
        mutate(&mut value);
        match parse_json(value) {
            Err(e) => e,
            Ok(json) => to_settlement("l1", &json).unwrap_err(),
        }
    }

    #[test]
    fn a_good_event_becomes_a_settlement() {
        let json = parse_json(sample()).unwrap();
        let s = to_settlement("l1", &json).unwrap();
        assert_eq!(s.amount.minor(), 123_450);
        assert_eq!(s.creditor.effective_country().unwrap().as_str(), "FR");
        assert_eq!(s.event_id, "evt-1");
    }

    #[test]
    fn each_refusal_names_its_field() {
        type Mutation = Box<dyn FnOnce(&mut serde_json::Value)>;
        let cases: Vec<(&str, Mutation)> = vec![
            ("currency", Box::new(|v| v["currency"] = json!("XYZ"))),
            ("amount", Box::new(|v| v["amount"] = json!("10.001"))),
            (
                "amount",
                Box::new(|v| v["amount"] = json!({"units": "1234567", "decimals": 6})),
            ),
            (
                "creditor.account.iban",
                Box::new(|v| {
                    v["creditor"]["account"]["iban"] = json!("FR1520041010050500013M02606")
                }),
            ),
            (
                "debtor.agent.bic",
                Box::new(|v| v["debtor"]["agent"]["bic"] = json!("NOTABIC")),
            ),
            (
                "creditor.account",
                Box::new(|v| v["creditor"]["account"] = json!({})),
            ),
            ("ledger", Box::new(|v| v["ledger"] = json!("someone-else"))),
            (
                "type",
                Box::new(|v| v["type"] = json!("settlement.cancelled")),
            ),
            ("event_id", Box::new(|v| v["event_id"] = json!("has space"))),
            (
                "execution_date",
                Box::new(|v| v["execution_date"] = json!("2026-02-30")),
            ),
            (
                "occurred_at",
                Box::new(|v| v["occurred_at"] = json!("yesterday")),
            ),
            (
                "debtor.name",
                Box::new(|v| v["debtor"]["name"] = json!("  ")),
            ),
            (
                "creditor.country",
                Box::new(|v| v["creditor"]["country"] = json!("ZZ")),
            ),
            (
                "creditor.address.town_name",
                Box::new(|v| {
                    v["creditor"]["address"]
                        .as_object_mut()
                        .unwrap()
                        .remove("town_name");
                }),
            ),
            (
                "debtor.address.country",
                Box::new(|v| {
                    v["debtor"]["address"]
                        .as_object_mut()
                        .unwrap()
                        .remove("country");
                }),
            ),
            (
                "debtor.address.country",
                Box::new(|v| v["debtor"]["address"]["country"] = json!("ZZ")),
            ),
            (
                "creditor.address.country",
                Box::new(|v| v["creditor"]["address"]["country"] = json!("BE")),
            ),
            (
                "creditor.address.post_code",
                Box::new(|v| v["creditor"]["address"]["post_code"] = json!("12345678901234567")),
            ),
            (
                "creditor.address.street_name",
                Box::new(|v| v["creditor"]["address"]["street_name"] = json!(" ")),
            ),
            (
                "debtor.address.town_name",
                Box::new(|v| v["debtor"]["address"]["town_name"] = json!("T".repeat(36))),
            ),
            (
                "creditor.address.floor",
                Box::new(|v| v["creditor"]["address"]["floor"] = json!(3)),
            ),
        ];
        for (field, mutate) in cases {
            let err = refuse(mutate);
            assert_eq!(err.field, field, "{err}");
        }
        let err = refuse(|v| v["surprise"] = json!(1));
        assert!(err.message.contains("surprise"), "{err}");
        let err = refuse(|v| v["creditor"]["address"]["town"] = json!("Paris"));
        assert_eq!(err.field, "creditor.address.town", "{err}");
        assert!(err.message.contains("town_name"), "{err}");
        let err = refuse(|v| v["debtor"]["account"]["iban"] = json!(5));
        assert_eq!(err.field, "debtor.account.iban", "{err}");
        let err = refuse(|v| {
            v.as_object_mut().unwrap().remove("event_id");
        });
        assert!(err.message.contains("event_id"), "{err}");
    }

    #[test]
    fn fields_by_position_are_refused_everywhere() {
        // serde reads a struct from an array of its fields: an outside caller must not.
        let event = json!([null, "evt-2", "settlement.requested", null, "11.00", "EUR"]);
        let err = parse_json(event).unwrap_err();
        assert_eq!(err.field, "(event)", "{err}");
        let mut v = sample();
        v["debtor"] = json!(["Acme GmbH", {"iban": "DE89370400440532013000"}]);
        let err = parse_json(v).unwrap_err();
        assert_eq!(err.field, "debtor", "{err}");
        let mut v = sample();
        v["creditor"]["account"] = json!(["FR1420041010050500013M02606"]);
        let err = parse_json(v).unwrap_err();
        assert_eq!(err.field, "creditor.account", "{err}");
    }

    #[test]
    fn addresses_are_read_part_by_part() {
        let mut value = sample();
        value["creditor"]["address"] = json!({
            "department": "Accounts", "sub_department": "Payables", "street_name": "Rue de Rivoli",
            "building_number": "10", "building_name": "Le Louvre", "floor": "3",
            "post_box": "BP 12", "room": "301", "post_code": "75001", "town_name": " Paris ",
            "town_location_name": "1er", "district_name": "Louvre",
            "country_sub_division": "Ile-de-France", "country": "FR"
        });
        let s = to_settlement("l1", &parse_json(value).unwrap()).unwrap();
        let address = s.creditor.address.as_ref().unwrap();
        assert_eq!(address.town_name, "Paris", "trimmed");
        assert_eq!(address.country.as_str(), "FR");
        let parts: Vec<Option<&str>> = AddressPart::ALL
            .into_iter()
            .map(|p| address.part(p))
            .collect();
        assert_eq!(
            parts,
            [
                Some("Accounts"),
                Some("Payables"),
                Some("Rue de Rivoli"),
                Some("10"),
                Some("Le Louvre"),
                Some("3"),
                Some("BP 12"),
                Some("301"),
                Some("75001"),
                Some("1er"),
                Some("Louvre"),
                Some("Ile-de-France"),
            ]
        );
        // Routing reads the address's country when the party names none.
        let mut value = sample();
        value["creditor"].as_object_mut().unwrap().remove("country");
        value["creditor"]["account"] = json!({"other": "123"});
        value["creditor"].as_object_mut().unwrap().remove("agent");
        let s = to_settlement("l1", &parse_json(value).unwrap()).unwrap();
        assert_eq!(s.creditor.effective_country().unwrap().as_str(), "FR");
    }

    #[test]
    fn a_payment_to_a_bank_needs_both_addresses() {
        let good = to_settlement("l1", &parse_json(sample()).unwrap()).unwrap();
        assert_eq!(check_for_bank(&good), Ok(()));
        // An event without addresses is still a valid event (a wallet payment needs none)...
        let mut value = sample();
        value["creditor"].as_object_mut().unwrap().remove("address");
        let s = to_settlement("l1", &parse_json(value).unwrap()).unwrap();
        // ...but not one a bank can be sent: the missing field is named.
        let err = check_for_bank(&s).unwrap_err();
        assert_eq!(err.field, "creditor.address.town_name", "{err}");
        let mut value = sample();
        value["debtor"].as_object_mut().unwrap().remove("address");
        let s = to_settlement("l1", &parse_json(value).unwrap()).unwrap();
        assert_eq!(
            check_for_bank(&s).unwrap_err().field,
            "debtor.address.town_name"
        );
        // A text that fits as given but not once written in the CBPR+ set (ß is ss).
        let mut value = sample();
        value["debtor"]["address"]["town_name"] = json!(format!("{}ß", "T".repeat(34)));
        let s = to_settlement("l1", &parse_json(value).unwrap()).unwrap();
        let err = check_for_bank(&s).unwrap_err();
        assert_eq!(err.field, "debtor.address.town_name", "{err}");
        assert!(err.message.contains("36 characters"), "{err}");
    }

    /// The canonical form as it was first written (a string per key and leaf): the one the
    /// stored hashes were made with.
    fn canonical_as_first_written(value: &serde_json::Value, out: &mut String) {
        use serde_json::Value;
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, key) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push(':');
                    canonical_as_first_written(&map[key], out);
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    canonical_as_first_written(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }

    #[test]
    fn the_canonical_form_is_the_one_stored_hashes_were_made_with() {
        let mut tricky = sample();
        tricky["remittance_info"] = json!("quote \" back\\slash \u{7} tab\t née 東京 😀 </x>");
        tricky["nested"] = json!({"z": [], "a": {}, "m": [null, true, false, -0.5, 1e300, 12345678901234567890u64, -42, "é"], "": "empty key", "A": 1});
        let cases = [
            sample(),
            tricky,
            json!(null),
            json!([]),
            json!({}),
            json!("only a string"),
            json!([1, [2, [3, {"b": 1, "a": 2}]]]),
        ];
        for case in cases {
            let mut expected = String::new();
            canonical_as_first_written(&case, &mut expected);
            let mut got = Vec::new();
            write_canonical(&case, &mut got);
            assert_eq!(String::from_utf8(got).unwrap(), expected, "{case}");
            use sha2::{Digest, Sha256};
            assert_eq!(
                content_hash(&case),
                hex::encode(Sha256::digest(expected.as_bytes()))
            );
        }
    }

    #[test]
    fn content_hash_ignores_key_order_not_values() {
        let a = sample();
        let reordered: serde_json::Value =
            serde_json::from_str(&serde_json::to_string_pretty(&a).unwrap()).unwrap();
        assert_eq!(content_hash(&a), content_hash(&reordered));
        let text = r#"{"b":1,"a":{"y":2,"x":[1,2]}}"#;
        let other = r#"{ "a" : {"x":[1,2],"y":2}, "b":1 }"#;
        assert_eq!(
            content_hash(&serde_json::from_str(text).unwrap()),
            content_hash(&serde_json::from_str(other).unwrap())
        );
        let mut changed = sample();
        changed["amount"] = json!("1234.51");
        assert_ne!(content_hash(&a), content_hash(&changed));
    }
}
