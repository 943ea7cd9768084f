//! Money: `i64` minor units and an ISO 4217 currency with its exponent (DESIGN.md decision 1).
//!
//! There is no float anywhere on the way in or out. A value that would need rounding to fit
//! the currency is refused with [`DomainError::PrecisionLoss`].

use super::DomainError;
use iso20022::iso4217;
use std::fmt;

/// An active ISO 4217 currency. Cheap to copy; compares by code.
#[derive(Clone, Copy)]
pub struct Currency(&'static iso4217::Currency);

impl Currency {
    pub fn parse(code: &str) -> Result<Self, DomainError> {
        iso4217::lookup(code)
            .map(Currency)
            .ok_or_else(|| DomainError::UnknownCurrency(code.chars().take(8).collect()))
    }

    pub fn code(&self) -> &'static str {
        self.0.alpha
    }

    /// Digits after the decimal point: JPY 0, EUR 2, KWD 3.
    pub fn exponent(&self) -> u8 {
        self.0.exponent()
    }

    /// The numeric code, as ISO 8583 field 49 carries it.
    pub fn numeric(&self) -> u16 {
        self.0.numeric
    }
}

impl PartialEq for Currency {
    fn eq(&self, other: &Self) -> bool {
        self.code() == other.code()
    }
}
impl Eq for Currency {}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl serde::Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = String::deserialize(d)?;
        Currency::parse(&code).map_err(serde::de::Error::custom)
    }
}

/// A positive amount of money in minor units of its currency.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amount {
    minor: i64,
    currency: Currency,
}

/// The most decimal digits we read before an amount is refused as too large; i64 holds 18.
const AMOUNT_DIGITS_MAX: usize = 40;

impl Amount {
    pub fn from_minor(minor: i64, currency: Currency) -> Result<Self, DomainError> {
        if minor <= 0 {
            return Err(DomainError::AmountNotPositive);
        }
        Ok(Amount { minor, currency })
    }

    pub fn minor(&self) -> i64 {
        self.minor
    }

    pub fn currency(&self) -> Currency {
        self.currency
    }

    /// Reads a decimal such as `"1234.50"` in units of `currency`.
    ///
    /// Extra trailing zeros are harmless (`"10.500"` EUR is 1050 cents); any other digit past
    /// the currency's exponent is a precision loss.
    pub fn parse_decimal(value: &str, currency: Currency) -> Result<Self, DomainError> {
        let syntax = || DomainError::AmountSyntax {
            value: value.chars().take(AMOUNT_DIGITS_MAX).collect(),
        };
        let (int_part, frac_part) = match value.split_once('.') {
            Some((i, f)) => (i, f),
            None => (value, ""),
        };
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if int_part.is_empty()
            || !all_digits(int_part)
            || !all_digits(frac_part)
            || (value.contains('.') && frac_part.is_empty())
            || value.len() > AMOUNT_DIGITS_MAX
        {
            return Err(syntax());
        }
        let exponent = usize::from(currency.exponent());
        let (kept, dropped) = frac_part.split_at(frac_part.len().min(exponent));
        if dropped.bytes().any(|b| b != b'0') {
            return Err(DomainError::PrecisionLoss {
                value: value.to_string(),
                currency: currency.code(),
                exponent: currency.exponent(),
            });
        }
        let mut digits = String::with_capacity(int_part.len() + exponent);
        digits.push_str(int_part);
        digits.push_str(kept);
        digits.extend(std::iter::repeat_n('0', exponent - kept.len()));
        let minor = digits
            .trim_start_matches('0')
            .parse::<i64>()
            .or_else(|e| match e.kind() {
                std::num::IntErrorKind::Empty => Ok(0),
                _ => Err(DomainError::AmountOverflow {
                    value: value.to_string(),
                }),
            })?;
        Amount::from_minor(minor, currency)
    }

    /// Converts a ledger token amount (`units` × 10^-`decimals`, e.g. a uint256 with 18
    /// decimals) into this currency's minor units by a checked rescale.
    pub fn from_token_units(
        units: &str,
        decimals: u32,
        currency: Currency,
    ) -> Result<Self, DomainError> {
        if decimals > 36 {
            return Err(DomainError::TokenDecimals(decimals));
        }
        if units.is_empty() || units.len() > 80 || !units.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DomainError::AmountSyntax {
                value: units.chars().take(AMOUNT_DIGITS_MAX).collect(),
            });
        }
        let decimals = decimals as usize;
        let exponent = usize::from(currency.exponent());
        // Write the token amount as a decimal string and reuse the one exact parser.
        let padded = format!("{units:0>width$}", width = decimals + 1);
        let (int_part, frac_part) = padded.split_at(padded.len() - decimals);
        let as_decimal = if decimals == 0 {
            int_part.to_string()
        } else {
            format!("{int_part}.{frac_part}")
        };
        let int_trimmed = as_decimal.trim_start_matches('0');
        let normalised = if int_trimmed.starts_with('.') || int_trimmed.is_empty() {
            format!("0{int_trimmed}")
        } else {
            int_trimmed.to_string()
        };
        // Trailing zeros past the exponent are dropped before the length check so that an
        // 18-decimal token amount of a large but exact value is not refused for its width.
        let normalised = match normalised.split_once('.') {
            Some((i, f)) if f.len() > exponent => {
                let (kept, rest) = f.split_at(exponent);
                if rest.bytes().any(|b| b != b'0') {
                    return Err(DomainError::PrecisionLoss {
                        value: format!("{units}e-{decimals}"),
                        currency: currency.code(),
                        exponent: currency.exponent(),
                    });
                }
                if kept.is_empty() {
                    i.to_string()
                } else {
                    format!("{i}.{kept}")
                }
            }
            _ => normalised,
        };
        Amount::parse_decimal(&normalised, currency)
    }

    /// The amount as a decimal string with exactly the currency's exponent digits.
    pub fn to_decimal_string(&self) -> String {
        let exponent = usize::from(self.currency.exponent());
        if exponent == 0 {
            return self.minor.to_string();
        }
        let digits = format!("{:0>width$}", self.minor, width = exponent + 1);
        let (i, f) = digits.split_at(digits.len() - exponent);
        format!("{i}.{f}")
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ccy(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    #[test]
    fn exponents_follow_iso_4217() {
        assert_eq!(ccy("JPY").exponent(), 0);
        assert_eq!(ccy("EUR").exponent(), 2);
        assert_eq!(ccy("KWD").exponent(), 3);
        assert_eq!(ccy("PHP").numeric(), 608);
        assert!(matches!(
            Currency::parse("XYZ"),
            Err(DomainError::UnknownCurrency(_))
        ));
        assert!(Currency::parse("eur").is_err());
    }

    #[test]
    fn decimal_parse_is_exact() {
        let cases = [
            ("1234.50", "EUR", 123_450),
            ("1234.5", "EUR", 123_450),
            ("1234", "EUR", 123_400),
            ("10.500", "EUR", 1_050),
            ("0.01", "EUR", 1),
            ("1500", "JPY", 1_500),
            ("1500.000", "JPY", 1_500),
            ("1.234", "KWD", 1_234),
            ("92233720368547758.07", "EUR", i64::MAX),
        ];
        for (text, code, minor) in cases {
            let amount = Amount::parse_decimal(text, ccy(code)).unwrap();
            assert_eq!(amount.minor(), minor, "{text} {code}");
        }
    }

    #[test]
    fn decimal_parse_refuses_rounding_and_bad_shapes() {
        for (text, code) in [("10.001", "EUR"), ("1.5", "JPY"), ("1.2345", "KWD")] {
            assert!(
                matches!(
                    Amount::parse_decimal(text, ccy(code)),
                    Err(DomainError::PrecisionLoss { .. })
                ),
                "{text} {code}"
            );
        }
        for text in [
            "", ".5", "5.", "-1", "+1", "1e3", "1,00", " 1", "1.2.3", "0x10",
        ] {
            assert!(
                matches!(
                    Amount::parse_decimal(text, ccy("EUR")),
                    Err(DomainError::AmountSyntax { .. })
                ),
                "{text:?}"
            );
        }
        assert!(matches!(
            Amount::parse_decimal("92233720368547758.08", ccy("EUR")),
            Err(DomainError::AmountOverflow { .. })
        ));
        assert_eq!(
            Amount::parse_decimal("0.00", ccy("EUR")),
            Err(DomainError::AmountNotPositive)
        );
    }

    #[test]
    fn token_units_rescale_with_a_check() {
        let usd = ccy("USD");
        assert_eq!(
            Amount::from_token_units("1234500000", 6, usd)
                .unwrap()
                .minor(),
            123_450
        );
        assert_eq!(
            Amount::from_token_units("1000000000000000000", 18, usd)
                .unwrap()
                .minor(),
            100
        );
        assert_eq!(Amount::from_token_units("7", 0, usd).unwrap().minor(), 700);
        assert_eq!(Amount::from_token_units("7", 1, usd).unwrap().minor(), 70);
        assert!(matches!(
            Amount::from_token_units("1234567", 6, usd),
            Err(DomainError::PrecisionLoss { .. })
        ));
        assert!(matches!(
            Amount::from_token_units("1", 18, usd),
            Err(DomainError::PrecisionLoss { .. })
        ));
        assert!(Amount::from_token_units("12a", 6, usd).is_err());
        assert!(Amount::from_token_units("1", 37, usd).is_err());
        // A uint256-sized value that cannot fit i64 minor units is refused, not wrapped.
        let huge = format!("1{}", "0".repeat(36));
        assert!(matches!(
            Amount::from_token_units(&huge, 6, usd),
            Err(DomainError::AmountOverflow { .. })
        ));
        let absurd = format!("1{}", "0".repeat(75));
        assert!(matches!(
            Amount::from_token_units(&absurd, 6, usd),
            Err(DomainError::AmountSyntax { .. })
        ));
    }

    #[test]
    fn renders_with_exactly_the_exponent() {
        let r = |minor, code| {
            Amount::from_minor(minor, ccy(code))
                .unwrap()
                .to_decimal_string()
        };
        assert_eq!(r(123_450, "EUR"), "1234.50");
        assert_eq!(r(5, "EUR"), "0.05");
        assert_eq!(r(1500, "JPY"), "1500");
        assert_eq!(r(1, "KWD"), "0.001");
    }

    proptest::proptest! {
        #[test]
        fn render_then_parse_is_identity(minor in 1i64..i64::MAX, pick in 0usize..4) {
            let currency = ccy(["EUR", "JPY", "KWD", "CLF"][pick]);
            let amount = Amount::from_minor(minor, currency).unwrap();
            let back = Amount::parse_decimal(&amount.to_decimal_string(), currency).unwrap();
            proptest::prop_assert_eq!(back, amount);
        }
    }
}
