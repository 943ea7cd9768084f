//! Exact money amounts: `i64` minor units plus an ISO 4217 currency.
//!
//! There is no float anywhere: text is read digit by digit into an integer, and a value with more
//! significant decimals than its currency allows is refused, never rounded. Rendering writes
//! exactly the currency's exponent digits (`"1234.50"` EUR, `"1234"` JPY, `"1.234"` KWD).

use std::fmt;

use crate::error::InvalidValue;
use crate::iso4217::{self, Currency};

/// Largest magnitude in minor units: ISO 20022 amounts allow 18 digits in total
/// (`totalDigits="18"`), so anything from 10^18 on could not be written validly.
pub const MINOR_UNITS_MAX: i64 = 999_999_999_999_999_999;

/// An exact, non-negative amount of money in one currency.
///
/// ISO 20022 amount elements are non-negative (`minInclusive="0"`); direction travels in separate
/// elements (`CdtDbtInd`). The value is held as minor units of the currency's exponent
/// ([`Currency::exponent`]).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Amount {
    minor: i64,
    currency: &'static Currency,
}

impl Amount {
    /// An amount of `minor` units of the currency's smallest unit (cents for EUR, yen for JPY,
    /// fils for KWD). Refuses negative values and values of more than 18 digits.
    pub fn from_minor(minor: i64, currency: &'static Currency) -> Result<Self, InvalidValue> {
        if minor < 0 {
            return Err(InvalidValue::new(
                "amount",
                &minor.to_string(),
                "ISO 20022 amounts are not negative",
            ));
        }
        if minor > MINOR_UNITS_MAX {
            return Err(InvalidValue::new(
                "amount",
                &minor.to_string(),
                "more than 18 digits",
            ));
        }
        Ok(Amount { minor, currency })
    }

    /// Like [`Amount::from_minor`], with the currency given by its alphabetic code.
    pub fn from_minor_code(minor: i64, currency: &str) -> Result<Self, InvalidValue> {
        Self::from_minor(minor, currency_of(currency)?)
    }

    /// Reads a decimal text (`"1234.5"`, `"1234.50"`, `"0.001"`) exactly.
    ///
    /// Accepts an optional leading `+`, surrounding XML whitespace, and trailing zeros beyond the
    /// currency's exponent. Refuses a sign `-`, exponents, more significant decimals than the
    /// currency allows, and values of more than 18 digits.
    pub fn parse(text: &str, currency: &'static Currency) -> Result<Self, InvalidValue> {
        let bad = |reason: &str| InvalidValue::new("amount", text, reason);
        let t = text.trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'));
        let t = t.strip_prefix('+').unwrap_or(t);
        let (int_part, frac_part) = match t.split_once('.') {
            Some((i, f)) => (i, f),
            None => (t, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(bad("no digits"));
        }
        if !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad("not a non-negative decimal number"));
        }
        let exponent = usize::from(currency.exponent());
        let significant_frac = frac_part.trim_end_matches('0');
        if significant_frac.len() > exponent {
            return Err(bad(&format!(
                "{} allows {} decimal(s); refusing to round",
                currency.alpha, exponent
            )));
        }
        let mut minor: i64 = 0;
        let too_big = || bad("more than 18 digits");
        for b in int_part.bytes() {
            minor = minor
                .checked_mul(10)
                .and_then(|m| m.checked_add(i64::from(b - b'0')))
                .ok_or_else(too_big)?;
        }
        let frac = significant_frac.as_bytes();
        for i in 0..exponent {
            let digit = frac.get(i).map_or(0, |b| i64::from(b - b'0'));
            minor = minor
                .checked_mul(10)
                .and_then(|m| m.checked_add(digit))
                .ok_or_else(too_big)?;
        }
        if minor > MINOR_UNITS_MAX {
            return Err(too_big());
        }
        Ok(Amount { minor, currency })
    }

    /// Like [`Amount::parse`], with the currency given by its alphabetic code.
    pub fn parse_code(text: &str, currency: &str) -> Result<Self, InvalidValue> {
        Self::parse(text, currency_of(currency)?)
    }

    /// The value in minor units.
    pub fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    pub fn currency(&self) -> &'static Currency {
        self.currency
    }

    /// Appends the decimal text (as [`Amount::to_decimal_string`]) to `out`.
    pub fn write_decimal(&self, out: &mut String) {
        use std::fmt::Write;
        let exponent = u32::from(self.currency.exponent());
        if exponent == 0 {
            let _ = write!(out, "{}", self.minor);
            return;
        }
        let scale = 10i64.pow(exponent);
        let _ = write!(
            out,
            "{}.{:0width$}",
            self.minor / scale,
            self.minor % scale,
            width = exponent as usize
        );
    }

    /// The decimal text with exactly the currency's exponent digits, as written in XML.
    pub fn to_decimal_string(&self) -> String {
        let exponent = u32::from(self.currency.exponent());
        if exponent == 0 {
            return self.minor.to_string();
        }
        let scale = 10i64.pow(exponent);
        format!(
            "{}.{:0width$}",
            self.minor / scale,
            self.minor % scale,
            width = exponent as usize
        )
    }

    /// The control sum of a group of amounts (`CtrlSum`): the sum of their decimal values
    /// whatever their currencies, as ISO 20022 defines it, exact, trailing zeros dropped
    /// (`10.50` EUR + `1000` JPY is `1010.5`). `None` if it does not fit a `DecimalNumber`.
    pub fn control_sum<'a>(
        amounts: impl IntoIterator<Item = &'a Amount>,
    ) -> Option<crate::types::DecimalNumber> {
        // Every exponent is at most 5 (codes without minor unit use 5), so the sum is exact
        // in units of 10^-5.
        const SCALE: u32 = 5;
        let mut total: i128 = 0;
        for a in amounts {
            let exponent = u32::from(a.currency.exponent());
            let factor = 10i128.pow(SCALE.checked_sub(exponent)?);
            total = total.checked_add(i128::from(a.minor).checked_mul(factor)?)?;
        }
        let unit = 10i128.pow(SCALE);
        let mut text = format!("{}.{:05}", total / unit, (total % unit).abs());
        while text.ends_with('0') {
            text.pop();
        }
        if text.ends_with('.') {
            text.pop();
        }
        crate::types::DecimalNumber::new(text).ok()
    }

    /// Sum of two amounts of the same currency; `None` on currency mismatch or overflow.
    pub fn checked_add(&self, other: &Amount) -> Option<Amount> {
        if self.currency != other.currency {
            return None;
        }
        let minor = self.minor.checked_add(other.minor)?;
        (minor <= MINOR_UNITS_MAX).then_some(Amount {
            minor,
            currency: self.currency,
        })
    }
}

fn currency_of(code: &str) -> Result<&'static Currency, InvalidValue> {
    iso4217::lookup(code)
        .ok_or_else(|| InvalidValue::new("currency", code, "not an active ISO 4217 code"))
}

/// JSON form: `{"ccy": "EUR", "amount": "1234.50"}` (the amount as exact decimal text).
impl serde::Serialize for Amount {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("Amount", 2)?;
        s.serialize_field("ccy", self.currency.alpha)?;
        s.serialize_field("amount", &self.to_decimal_string())?;
        s.end()
    }
}

/// JSON in: exactly the shape written, `{"ccy": "EUR", "amount": "1234.50"}`, read with
/// [`Amount::parse`] and an active currency (as the XML reader reads `Ccy`). The amount must be
/// a JSON string: a JSON number is refused, since a reader on the way may already have made it
/// a float. When `ccy` comes first (as written) an amount error is reported at `amount`.
impl<'de> serde::Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_struct("Amount", AMOUNT_FIELDS, AmountVisitor)
    }
}

const AMOUNT_FIELDS: &[&str] = &["ccy", "amount"];

/// How an amount's text is asked for in errors.
const DECIMAL_EXPECTED: &str =
    "an exact decimal in a JSON string, e.g. \"1234.50\" (never a JSON number)";

/// `invalid amount "1.234" for EUR: EUR allows 2 decimal(s); refusing to round` (the text as
/// [`InvalidValue`] keeps it: shortened, so a hostile input cannot blow up the message).
fn amount_error(currency: &Currency, e: &InvalidValue) -> String {
    format!(
        "invalid amount {:?} for {}: {}",
        e.value, currency.alpha, e.reason
    )
}

struct AmountVisitor;

/// The keys of an amount; any other is refused while it is read, so the error names it.
#[derive(serde::Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum AmountField {
    Ccy,
    Amount,
}

impl<'de> serde::de::Visitor<'de> for AmountVisitor {
    type Value = Amount;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"an amount {"ccy": "EUR", "amount": "1234.50"}"#)
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Amount, A::Error> {
        use serde::de::Error;
        let mut currency: Option<&'static Currency> = None;
        let mut text: Option<String> = None;
        let mut amount: Option<Amount> = None;
        while let Some(key) = map.next_key::<AmountField>()? {
            match key {
                AmountField::Ccy if currency.is_none() => {
                    currency = Some(map.next_value::<ActiveCurrency>()?.0);
                }
                AmountField::Amount if text.is_none() && amount.is_none() => match currency {
                    Some(c) => amount = Some(map.next_value_seed(AmountSeed(c))?),
                    None => text = Some(map.next_value::<DecimalText>()?.0),
                },
                AmountField::Ccy => return Err(A::Error::duplicate_field("ccy")),
                AmountField::Amount => return Err(A::Error::duplicate_field("amount")),
            }
        }
        let currency = currency.ok_or_else(|| A::Error::missing_field("ccy"))?;
        if let Some(a) = amount {
            return Ok(a);
        }
        let text = text.ok_or_else(|| A::Error::missing_field("amount"))?;
        // `amount` came before `ccy`: checked only now, so the error names the field itself.
        Amount::parse(&text, currency)
            .map_err(|e| A::Error::custom(format!("amount: {}", amount_error(currency, &e))))
    }
}

/// A currency code the amount types accept: active ISO 4217 only.
struct ActiveCurrency(&'static Currency);

impl<'de> serde::Deserialize<'de> for ActiveCurrency {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::de::from_str(deserializer, "an ISO 4217 currency code string", |s| {
            currency_of(s).map(ActiveCurrency)
        })
    }
}

/// An amount's text, before its currency is known.
struct DecimalText(String);

impl<'de> serde::Deserialize<'de> for DecimalText {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::de::from_str(deserializer, DECIMAL_EXPECTED, |s| {
            Ok(DecimalText(s.to_owned()))
        })
    }
}

/// An amount's text, read with its currency already known.
struct AmountSeed(&'static Currency);

impl<'de> serde::de::DeserializeSeed<'de> for AmountSeed {
    type Value = Amount;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Amount, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl serde::de::Visitor<'_> for AmountSeed {
    type Value = Amount;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(DECIMAL_EXPECTED)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Amount, E> {
        Amount::parse(v, self.0).map_err(|e| E::custom(amount_error(self.0, &e)))
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency.alpha)
    }
}

impl fmt::Debug for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Amount({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ccy(code: &str) -> &'static Currency {
        iso4217::lookup(code).unwrap()
    }

    #[test]
    fn renders_with_the_currency_exponent() {
        let cases = [
            (123450, "EUR", "1234.50"),
            (1234, "JPY", "1234"),
            (1234, "KWD", "1.234"),
            (5, "USD", "0.05"),
            (0, "EUR", "0.00"),
            (12345, "CLF", "1.2345"),
            (150000, "XAU", "1.50000"),
        ];
        for (minor, code, text) in cases {
            assert_eq!(
                Amount::from_minor(minor, ccy(code))
                    .unwrap()
                    .to_decimal_string(),
                text
            );
        }
    }

    #[test]
    fn parses_exactly_and_refuses_to_round() {
        let ok = [
            ("1234.5", "EUR", 123450),
            ("1234.50", "EUR", 123450),
            ("1234.5000", "EUR", 123450),
            ("1234", "EUR", 123400),
            ("1234.", "EUR", 123400),
            (".5", "EUR", 50),
            ("+7", "USD", 700),
            (" 12.34\n", "USD", 1234),
            ("1234", "JPY", 1234),
            ("1234.000", "JPY", 1234),
            ("1.234", "KWD", 1234),
            ("0.0001", "CLF", 1),
        ];
        for (text, code, minor) in ok {
            assert_eq!(
                Amount::parse(text, ccy(code)).map(|a| a.minor()),
                Ok(minor),
                "{text}"
            );
        }
        let bad = [
            ("1234.505", "EUR"),
            ("1.5", "JPY"),
            ("1.2345", "KWD"),
            ("-1", "EUR"),
            ("1e3", "EUR"),
            ("", "EUR"),
            (".", "EUR"),
            ("1.2.3", "EUR"),
            ("12,50", "EUR"),
            ("99999999999999999999", "JPY"),
            ("10000000000000000", "EUR"),
            ("NaN", "EUR"),
        ];
        for (text, code) in bad {
            assert!(Amount::parse(text, ccy(code)).is_err(), "{text} {code}");
        }
    }

    #[test]
    fn bounds() {
        assert!(Amount::from_minor(-1, ccy("EUR")).is_err());
        assert!(Amount::from_minor(MINOR_UNITS_MAX + 1, ccy("EUR")).is_err());
        let max = Amount::from_minor(MINOR_UNITS_MAX, ccy("EUR")).unwrap();
        assert_eq!(Amount::parse(&max.to_decimal_string(), ccy("EUR")), Ok(max));
        assert_eq!(
            max.checked_add(&Amount::from_minor(1, ccy("EUR")).unwrap()),
            None
        );
        let one_usd = Amount::from_minor(100, ccy("USD")).unwrap();
        assert_eq!(max.checked_add(&one_usd), None, "currency mismatch");
    }
}

#[cfg(test)]
mod control_sum_tests {
    use super::*;

    #[test]
    fn control_sum_adds_decimal_values_across_currencies_exactly() {
        let a = Amount::parse_code("10.50", "EUR").unwrap();
        let b = Amount::parse_code("1000", "JPY").unwrap();
        let c = Amount::parse_code("0.125", "KWD").unwrap();
        let sum = Amount::control_sum([&a, &b, &c]).unwrap();
        assert_eq!(sum.as_str(), "1010.625");
        assert_eq!(Amount::control_sum([&b]).unwrap().as_str(), "1000");
        assert_eq!(
            Amount::control_sum(std::iter::empty()).unwrap().as_str(),
            "0"
        );
        // A sum past 18 digits has no DecimalNumber.
        let big = Amount::parse_code("999999999999999.99", "EUR").unwrap();
        let many = vec![&big; 2000];
        assert!(Amount::control_sum(many).is_none());
    }
}
