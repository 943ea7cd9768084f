//! Identifiers parsed at the edge: BIC, IBAN, LEI, MSISDN, UETR and ISO 3166 country codes.

use super::{invalid, DomainError};
use iban::IbanLike;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! string_newtype {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                $name::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
        impl FromStr for $name {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s)
            }
        }
    };
}

/// An ISO 3166-1 alpha-2 country code.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CountryCode(String);
string_newtype!(CountryCode);

impl CountryCode {
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        if iso20022::cbpr::is_country(value) {
            Ok(CountryCode(value.to_string()))
        } else {
            Err(invalid(
                "country code",
                value,
                "not an ISO 3166-1 alpha-2 code",
            ))
        }
    }
}

/// A business identifier code (ISO 9362): 8 or 11 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Bic(String);
string_newtype!(Bic);

impl Bic {
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let b = value.as_bytes();
        if b.len() != 8 && b.len() != 11 {
            return Err(invalid("BIC", value, "must be 8 or 11 characters"));
        }
        let alnum = |c: &u8| c.is_ascii_uppercase() || c.is_ascii_digit();
        if !b[..4].iter().all(alnum) || !b[6..].iter().all(alnum) {
            return Err(invalid(
                "BIC",
                value,
                "must be upper-case letters and digits",
            ));
        }
        if CountryCode::parse(&value[4..6]).is_err() {
            return Err(invalid(
                "BIC",
                value,
                "characters 5-6 are not an ISO 3166 country",
            ));
        }
        Ok(Bic(value.to_string()))
    }

    pub fn country(&self) -> CountryCode {
        CountryCode(self.0[4..6].to_string())
    }
}

/// An IBAN (ISO 13616), checked for its country format and mod-97 check digits.
/// Kept in electronic form: upper case, no spaces.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Iban(String);
string_newtype!(Iban);

impl Iban {
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let compact: String = value.chars().filter(|c| *c != ' ').collect();
        match compact.parse::<iban::Iban>() {
            Ok(parsed) => Ok(Iban(parsed.electronic_str().to_string())),
            Err(iban::ParseIbanError::InvalidBaseIban {
                source: iban::ParseBaseIbanError::InvalidChecksum,
            }) => Err(invalid("IBAN", value, "check digits do not match (mod 97)")),
            Err(iban::ParseIbanError::UnknownCountry(_)) => {
                Err(invalid("IBAN", value, "country does not use IBANs"))
            }
            Err(iban::ParseIbanError::InvalidBban(_)) => Err(invalid(
                "IBAN",
                value,
                "account part does not fit the country's format",
            )),
            Err(_) => Err(invalid("IBAN", value, "not an IBAN")),
        }
    }

    pub fn country(&self) -> CountryCode {
        CountryCode(self.0[..2].to_string())
    }
}

/// A legal entity identifier (ISO 17442): 18 alphanumerics and two mod-97 check digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Lei(String);
string_newtype!(Lei);

impl Lei {
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let b = value.as_bytes();
        if b.len() != 20
            || !b
                .iter()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            return Err(invalid(
                "LEI",
                value,
                "must be 20 upper-case letters and digits",
            ));
        }
        if !b[18..].iter().all(u8::is_ascii_digit) {
            return Err(invalid("LEI", value, "must end in two check digits"));
        }
        if mod97(value) != 1 {
            return Err(invalid("LEI", value, "check digits do not match (mod 97)"));
        }
        Ok(Lei(value.to_string()))
    }
}

/// ISO 7064 mod 97-10 over letters-as-numbers (A=10 … Z=35).
fn mod97(value: &str) -> u32 {
    value.bytes().fold(0u32, |acc, c| {
        if c.is_ascii_digit() {
            (acc * 10 + u32::from(c - b'0')) % 97
        } else {
            (acc * 100 + u32::from(c - b'A' + 10)) % 97
        }
    })
}

/// A mobile number in E.164 form, kept as `+` and 8 to 15 digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Msisdn(String);
string_newtype!(Msisdn);

impl Msisdn {
    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let digits = value.strip_prefix('+').unwrap_or(value);
        if !(8..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(
                "MSISDN",
                value,
                "must be E.164: 8 to 15 digits after '+'",
            ));
        }
        if digits.starts_with('0') {
            return Err(invalid(
                "MSISDN",
                value,
                "E.164 numbers start with a country code, not 0",
            ));
        }
        Ok(Msisdn(format!("+{digits}")))
    }

    /// The digits without the `+`, as ISO 8583 account fields carry them.
    pub fn digits(&self) -> &str {
        &self.0[1..]
    }
}

/// A unique end-to-end transaction reference: a lower-case UUID version 4.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Uetr(String);
string_newtype!(Uetr);

impl Uetr {
    pub fn new() -> Self {
        Uetr(uuid::Uuid::new_v4().hyphenated().to_string())
    }

    pub fn parse(value: &str) -> Result<Self, DomainError> {
        let parsed =
            uuid::Uuid::try_parse(value).map_err(|_| invalid("UETR", value, "not a UUID"))?;
        if parsed.get_version_num() != 4 {
            return Err(invalid("UETR", value, "must be a version 4 UUID"));
        }
        if value.len() != 36 || value.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(invalid("UETR", value, "must be lower case with hyphens"));
        }
        Ok(Uetr(value.to_string()))
    }
}

impl Default for Uetr {
    fn default() -> Self {
        Uetr::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bic() {
        assert!(Bic::parse("DEUTDEFF").is_ok());
        assert_eq!(Bic::parse("DEUTDEFF500").unwrap().country().as_str(), "DE");
        for bad in [
            "DEUTDEF",
            "deutdeff",
            "DEUTZZFF",
            "DEUT DEFF",
            "DEUTDEFF5001",
        ] {
            assert!(Bic::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn iban() {
        let iban = Iban::parse("DE89 3704 0044 0532 0130 00").unwrap();
        assert_eq!(iban.as_str(), "DE89370400440532013000");
        assert_eq!(iban.country().as_str(), "DE");
        let err = Iban::parse("DE88370400440532013000")
            .unwrap_err()
            .to_string();
        assert!(err.contains("mod 97"), "{err}");
        // The account number is masked in the error.
        assert!(!err.contains("370400440532013000"), "{err}");
        assert!(Iban::parse("XX89370400440532013000").is_err());
    }

    #[test]
    fn lei() {
        // 5493001KJTIIGC8Y1R12 is Bloomberg's published LEI.
        assert!(Lei::parse("5493001KJTIIGC8Y1R12").is_ok());
        assert!(Lei::parse("5493001KJTIIGC8Y1R13").is_err());
        assert!(Lei::parse("5493001KJTIIGC8Y1R1").is_err());
    }

    #[test]
    fn msisdn() {
        assert_eq!(
            Msisdn::parse("639171234567").unwrap().as_str(),
            "+639171234567"
        );
        assert_eq!(
            Msisdn::parse("+639171234567").unwrap().digits(),
            "639171234567"
        );
        for bad in ["+0917123456", "12345", "+63917abc4567", "+1234567890123456"] {
            assert!(Msisdn::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn uetr() {
        let fresh = Uetr::new();
        assert_eq!(Uetr::parse(fresh.as_str()).unwrap(), fresh);
        assert!(Uetr::parse("eb6305c9-1f7f-49de-aed0-16487c27b42d").is_ok());
        assert!(Uetr::parse("EB6305C9-1F7F-49DE-AED0-16487C27B42D").is_err());
        assert!(Uetr::parse("eb6305c9-1f7f-19de-aed0-16487c27b42d").is_err());
        assert!(Uetr::parse("eb6305c91f7f49deaed016487c27b42d").is_err());
    }

    #[test]
    fn country() {
        assert!(CountryCode::parse("PH").is_ok());
        assert!(CountryCode::parse("ZZ").is_err());
        assert!(CountryCode::parse("de").is_err());
    }
}
