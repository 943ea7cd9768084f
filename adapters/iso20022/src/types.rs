//! Leaf value types: the simple types of the ISO 20022 schemas, each checked on construction so
//! that a value of the type always satisfies its schema facets (length, pattern, enumeration).
//!
//! Construct with `new`, `TryFrom<&str>` or `str::parse`; every constructor returns
//! [`InvalidValue`] on failure. Checks that need more than the schema (IBAN checksum, LEI
//! checksum, ISO 3166 membership) are in the CBPR+ validator instead, so that a document written
//! by someone else still parses and the finding can be reported precisely.

use std::fmt;
use std::str::FromStr;

use compact_str::CompactString;

use crate::error::InvalidValue;

/// A value read from, and written as, the text of one element.
pub(crate) trait Leaf: Sized {
    fn from_text(text: &str) -> Result<Self, InvalidValue>;
    fn write_text(&self, out: &mut String);
}

/// Whether XML 1.0 allows the character at all (the `Char` production): no control characters
/// other than tab, line feed and carriage return, no U+FFFE / U+FFFF.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Text of 1 to `MAX` characters (`Max35Text`, `Max140Text`, ...), each one XML allows.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text<const MAX: usize>(CompactString);

/// `Max4Text`: also the shape of most external codes.
pub type Max4Text = Text<4>;
/// `Max16Text`.
pub type Max16Text = Text<16>;
/// `Max34Text` (account numbers).
pub type Max34Text = Text<34>;
/// `Max35Text`: the usual identifier type (MsgId, EndToEndId, ...).
pub type Max35Text = Text<35>;
/// `Max70Text`.
pub type Max70Text = Text<70>;
/// `Max105Text` (status reason additional information).
pub type Max105Text = Text<105>;
/// `Max140Text` (names, unstructured remittance).
pub type Max140Text = Text<140>;
/// `Max350Text`.
pub type Max350Text = Text<350>;
/// `Max500Text` (statement additional information).
pub type Max500Text = Text<500>;
/// `Max1025Text`.
pub type Max1025Text = Text<1025>;
/// `Max2048Text`.
pub type Max2048Text = Text<2048>;
/// `Max10Text` (regulatory reporting codes).
pub type Max10Text = Text<10>;
/// `Max128Text` (other contact identifiers).
pub type Max128Text = Text<128>;

impl<const MAX: usize> Text<MAX> {
    /// Checks the length (1 to `MAX` characters) and keeps the text exactly as given.
    pub fn new(text: impl Into<String>) -> Result<Self, InvalidValue> {
        let text: String = text.into();
        Self::check(&text)?;
        Ok(Text(CompactString::from(text)))
    }

    /// Length and characters; texts of up to 24 bytes (most identifiers and names) are then
    /// kept inline, without an allocation.
    fn check(text: &str) -> Result<(), InvalidValue> {
        // One pass over the bytes for the usual all-ASCII text; characters otherwise.
        let ascii_ok = text
            .bytes()
            .all(|b| (0x20..0x80).contains(&b) || matches!(b, b'\t' | b'\n' | b'\r'));
        let chars = if ascii_ok {
            text.len()
        } else {
            if let Some(c) = text.chars().find(|&c| !is_xml_char(c)) {
                return Err(InvalidValue::new(
                    "text",
                    text,
                    format!("character U+{:04X} cannot appear in XML", u32::from(c)),
                ));
            }
            text.chars().count()
        };
        if chars == 0 || chars > MAX {
            return Err(InvalidValue::new(
                "text",
                text,
                format!("{chars} characters, must be 1 to {MAX}"),
            ));
        }
        Ok(())
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, owned.
    pub fn into_string(self) -> String {
        self.0.into_string()
    }
}

impl<const MAX: usize> Leaf for Text<MAX> {
    fn from_text(text: &str) -> Result<Self, InvalidValue> {
        Self::check(text)?;
        Ok(Text(CompactString::new(text)))
    }
    fn write_text(&self, out: &mut String) {
        out.push_str(&self.0);
    }
}

impl<const MAX: usize> serde::Serialize for Text<MAX> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// JSON in: a string, checked as [`Text::new`] checks it.
impl<'de, const MAX: usize> serde::Deserialize<'de> for Text<MAX> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::de::from_str(deserializer, "a text string", |s| Self::new(s))
    }
}

impl<const MAX: usize> fmt::Display for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<const MAX: usize> fmt::Debug for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<const MAX: usize> AsRef<str> for Text<MAX> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> TryFrom<&str> for Text<MAX> {
    type Error = InvalidValue;
    fn try_from(value: &str) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl<const MAX: usize> TryFrom<String> for Text<MAX> {
    type Error = InvalidValue;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl<const MAX: usize> FromStr for Text<MAX> {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// Defines a string newtype whose constructor runs `$check`.
macro_rules! checked_string {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $check:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(CompactString);

        impl $name {
            /// Checks the value against the schema's pattern and keeps it as given.
            pub fn new(text: impl Into<String>) -> Result<Self, InvalidValue> {
                let text: String = text.into();
                Self::check(&text)?;
                Ok($name(CompactString::from(text)))
            }

            fn check(text: &str) -> Result<(), InvalidValue> {
                let check: fn(&str) -> Result<(), &'static str> = $check;
                check(text).map_err(|reason| InvalidValue::new($kind, text, reason))
            }

            /// The value.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl Leaf for $name {
            fn from_text(text: &str) -> Result<Self, InvalidValue> {
                Self::check(text)?;
                Ok($name(CompactString::new(text)))
            }
            fn write_text(&self, out: &mut String) {
                out.push_str(&self.0);
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        /// JSON in: a string, checked as `new` checks it.
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                crate::de::from_str(deserializer, concat!("a ", $kind, " string"), |s| Self::new(s))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({:?})", stringify!($name), self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<&str> for $name {
            type Error = InvalidValue;
            fn try_from(value: &str) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl TryFrom<String> for $name {
            type Error = InvalidValue;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::new(value)
            }
        }

        impl FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }
    };
}

fn all(s: &str, f: impl Fn(u8) -> bool) -> bool {
    s.bytes().all(f)
}

fn upper_or_digit(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit()
}

fn check_bic(s: &str) -> Result<(), &'static str> {
    // [A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?
    if s.len() != 8 && s.len() != 11 {
        return Err("a BIC has 8 or 11 characters");
    }
    // Bytes, not `str` slices: a multi-byte character must fail the check, not split.
    let b = s.as_bytes();
    let ok = b[0..4].iter().all(|&c| upper_or_digit(c))
        && b[4..6].iter().all(u8::is_ascii_uppercase)
        && b[6..].iter().all(|&c| upper_or_digit(c));
    if ok {
        Ok(())
    } else {
        Err("a BIC is 4 letters/digits, a 2-letter country, then 2 or 5 letters/digits (upper case)")
    }
}

fn check_iban(s: &str) -> Result<(), &'static str> {
    // [A-Z]{2}[0-9]{2}[a-zA-Z0-9]{1,30}
    let b = s.as_bytes();
    let ok = (5..=34).contains(&b.len())
        && b[0..2].iter().all(u8::is_ascii_uppercase)
        && b[2..4].iter().all(u8::is_ascii_digit)
        && b[4..].iter().all(u8::is_ascii_alphanumeric);
    if ok {
        Ok(())
    } else {
        Err("an IBAN is a 2-letter country, 2 check digits, then 1 to 30 letters/digits")
    }
}

fn check_lei(s: &str) -> Result<(), &'static str> {
    // [A-Z0-9]{18}[0-9]{2}
    let b = s.as_bytes();
    if b.len() == 20
        && b[..18].iter().all(|&c| upper_or_digit(c))
        && b[18..].iter().all(u8::is_ascii_digit)
    {
        Ok(())
    } else {
        Err("an LEI is 18 upper-case letters/digits then 2 digits")
    }
}

fn check_country(s: &str) -> Result<(), &'static str> {
    if s.len() == 2 && all(s, |b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err("a country code is 2 upper-case letters")
    }
}

fn check_uetr(s: &str) -> Result<(), &'static str> {
    // [a-f0-9]{8}-[a-f0-9]{4}-4[a-f0-9]{3}-[89ab][a-f0-9]{3}-[a-f0-9]{12}
    let b = s.as_bytes();
    let hex = |c: &u8| c.is_ascii_digit() || (b'a'..=b'f').contains(c);
    let ok = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            14 => *c == b'4',
            19 => matches!(c, b'8' | b'9' | b'a' | b'b'),
            _ => hex(c),
        });
    if ok {
        Ok(())
    } else {
        Err("a UETR is a lower-case version 4 UUID (xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx)")
    }
}

checked_string!(
    /// `BICFIDec2014Identifier` / `AnyBICDec2014Identifier`: an 8 or 11 character BIC.
    Bic,
    "BIC",
    check_bic
);
checked_string!(
    /// `IBAN2007Identifier`: the schema's IBAN pattern. The mod-97 checksum is checked by
    /// [`Iban::checksum_ok`] and by the CBPR+ validator.
    Iban,
    "IBAN",
    check_iban
);
checked_string!(
    /// `LEIIdentifier`: a 20 character Legal Entity Identifier. Checksum: [`Lei::checksum_ok`].
    Lei,
    "LEI",
    check_lei
);
checked_string!(
    /// `CountryCode`: two capital letters. ISO 3166 membership is a CBPR+ validator check.
    CountryCode,
    "country code",
    check_country
);
checked_string!(
    /// `UUIDv4Identifier`: the Unique End-to-end Transaction Reference, a lower-case v4 UUID.
    Uetr,
    "UETR",
    check_uetr
);
checked_string!(
    /// `PhoneNumber`: `+` country code `-` number, e.g. `+44-2079460000`.
    PhoneNumber,
    "phone number",
    check_phone
);
checked_string!(
    /// `Exact4AlphaNumericText`: four letters or digits.
    Exact4AlphaNumeric,
    "Exact4AlphaNumericText",
    check_exact4
);
checked_string!(
    /// `Exact2NumericText`: two digits (a mandate's tracking days, a point in time of a
    /// frequency).
    Exact2Numeric,
    "Exact2NumericText",
    check_exact2_numeric
);
checked_string!(
    /// `BaseOneRate`: an exchange rate as an exact decimal (at most 11 digits, 10 of them after
    /// the point), kept as written.
    BaseOneRate,
    "BaseOneRate",
    check_base_one_rate
);
checked_string!(
    /// `DecimalNumber`: an exact decimal of at most 18 digits, 17 of them after the point, signed
    /// or not (e.g. the `Sum` of a transactions summary), kept as written: never a float, so
    /// `"12345.67"` stays `"12345.67"`. Equality compares the text (`"1.50"` is not `"1.5"`).
    DecimalNumber,
    "DecimalNumber",
    check_decimal_number
);
checked_string!(
    /// `NonNegativeDecimalNumber`: a [`DecimalNumber`] that is not below zero (the amount of a
    /// total net entry, whose sign is its credit/debit indicator), kept as written.
    NonNegativeDecimalNumber,
    "NonNegativeDecimalNumber",
    check_non_negative_decimal_number
);
checked_string!(
    /// `Max15NumericText`: 1 to 15 digits (a number of entries), kept as written (leading zeros
    /// too); [`Max15NumericText::value`] reads the number.
    Max15NumericText,
    "Max15NumericText",
    check_max15_numeric
);
checked_string!(
    /// `ISINOct2015Identifier`: an International Securities Identification Number (ISO 6166):
    /// 2 letters, 9 letters or digits, 1 check digit. The check digit is checked by
    /// [`Isin::checksum_ok`], not by the schema.
    Isin,
    "ISIN",
    check_isin
);

fn check_phone(s: &str) -> Result<(), &'static str> {
    // \+[0-9]{1,3}-[0-9()+\-]{1,30}
    let rest = s
        .strip_prefix('+')
        .ok_or("a phone number starts with '+'")?;
    let (cc, number) = rest
        .split_once('-')
        .ok_or("a phone number is +country-number")?;
    let cc_ok = (1..=3).contains(&cc.len()) && all(cc, |b| b.is_ascii_digit());
    let number_ok = (1..=30).contains(&number.len())
        && all(number, |b| {
            b.is_ascii_digit() || matches!(b, b'(' | b')' | b'+' | b'-')
        });
    if cc_ok && number_ok {
        Ok(())
    } else {
        Err("a phone number is + 1-3 digits, '-', then 1-30 of digits ( ) + -")
    }
}

fn check_exact2_numeric(s: &str) -> Result<(), &'static str> {
    if s.len() == 2 && all(s, |b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("exactly 2 digits")
    }
}

fn check_exact4(s: &str) -> Result<(), &'static str> {
    if s.len() == 4 && all(s, |b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err("exactly 4 letters or digits")
    }
}

/// The digits of an `xs:decimal` that its facets count: `(negative, integer digits, fraction
/// digits)`. Leading zeros of the integer part and trailing zeros of the fraction do not count
/// (the facets constrain the value, not the text). `None` if the text is not an `xs:decimal`
/// (`-1.5`, `1.`, `.5` are; `1e3`, ` 1`, `.` are not).
fn decimal_digits(s: &str) -> Option<(bool, usize, usize)> {
    let negative = s.starts_with('-');
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if int.is_empty() && frac.is_empty()
        || !all(int, |b| b.is_ascii_digit())
        || !all(frac, |b| b.is_ascii_digit())
    {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    Some((
        negative && !(int.is_empty() && frac.is_empty()),
        int.len(),
        frac.len(),
    ))
}

/// `BaseOneRate`: `xs:decimal` with `totalDigits` 11 and `fractionDigits` 10.
fn check_base_one_rate(s: &str) -> Result<(), &'static str> {
    check_decimal(s, 11, 10)
}

/// `xs:decimal` with `totalDigits` 18 and `fractionDigits` 17.
fn check_decimal_number(s: &str) -> Result<(), &'static str> {
    let (_, int, frac) = decimal_digits(s).ok_or("a decimal number such as 12345.67")?;
    if frac > 17 {
        return Err("at most 17 digits after the decimal point");
    }
    if int + frac > 18 {
        return Err("at most 18 digits in all");
    }
    Ok(())
}

/// `DecimalNumber` with `minInclusive` 0 (`-0` is zero, so allowed).
fn check_non_negative_decimal_number(s: &str) -> Result<(), &'static str> {
    check_decimal_number(s)?;
    match decimal_digits(s) {
        Some((false, _, _)) => Ok(()),
        _ => Err("not below zero (the direction is the credit/debit indicator)"),
    }
}

fn check_max15_numeric(s: &str) -> Result<(), &'static str> {
    // [0-9]{1,15}
    if (1..=15).contains(&s.len()) && all(s, |b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err("1 to 15 digits")
    }
}

fn check_isin(s: &str) -> Result<(), &'static str> {
    // [A-Z]{2,2}[A-Z0-9]{9,9}[0-9]{1,1}
    let b = s.as_bytes();
    if b.len() == 12
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..11].iter().all(|&c| upper_or_digit(c))
        && b[11].is_ascii_digit()
    {
        Ok(())
    } else {
        Err("an ISIN is 2 letters, 9 upper-case letters/digits, then a check digit")
    }
}

impl Max15NumericText {
    /// The number (15 digits always fit).
    pub fn value(&self) -> u64 {
        // Checked digits, at most 15: parsing cannot fail or overflow.
        self.0.parse().unwrap_or(0)
    }

    /// The number, written without leading zeros.
    pub fn from_value(n: u64) -> Result<Self, InvalidValue> {
        Self::new(n.to_string())
    }
}

impl Isin {
    /// Whether the check digit is right (ISO 6166: letters as numbers 10 to 35, then the Luhn
    /// algorithm over the digits).
    pub fn checksum_ok(&self) -> bool {
        let mut digits: Vec<u8> = Vec::with_capacity(24);
        for c in self.0.bytes() {
            match c {
                b'0'..=b'9' => digits.push(c - b'0'),
                b'A'..=b'Z' => {
                    let v = c - b'A' + 10;
                    digits.push(v / 10);
                    digits.push(v % 10);
                }
                _ => return false,
            }
        }
        luhn_ok(&digits)
    }
}

/// The Luhn check over decimal digits, the last one being the check digit.
fn luhn_ok(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let twice = d * 2;
                twice / 10 + twice % 10
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// ISO 7064 mod 97-10 over letters-as-numbers, as used by IBAN and LEI check digits.
fn mod97(chars: impl Iterator<Item = u8>) -> Option<u32> {
    let mut rem: u32 = 0;
    for c in chars {
        let v = match c {
            b'0'..=b'9' => u32::from(c - b'0'),
            b'A'..=b'Z' => u32::from(c - b'A') + 10,
            b'a'..=b'z' => u32::from(c - b'a') + 10,
            _ => return None,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    Some(rem)
}

impl Iban {
    /// Whether the IBAN's check digits are right (ISO 13616 mod 97).
    pub fn checksum_ok(&self) -> bool {
        let b = self.0.as_bytes();
        mod97(b[4..].iter().chain(&b[..4]).copied()) == Some(1)
    }
}

impl Lei {
    /// Whether the LEI's check digits are right (ISO 17442, mod 97).
    pub fn checksum_ok(&self) -> bool {
        mod97(self.0.bytes()) == Some(1)
    }
}

impl Bic {
    /// The 2-letter country code inside the BIC.
    pub fn country(&self) -> &str {
        &self.0[4..6]
    }
}

impl Uetr {
    /// A fresh random UETR.
    pub fn new_v4() -> Self {
        Uetr(CompactString::from(
            uuid::Uuid::new_v4().hyphenated().to_string(),
        ))
    }

    /// From a UUID; refuses versions other than 4 (the schema's pattern requires v4).
    pub fn from_uuid(uuid: uuid::Uuid) -> Result<Self, InvalidValue> {
        Self::new(uuid.hyphenated().to_string())
    }

    /// As a UUID.
    pub fn to_uuid(&self) -> uuid::Uuid {
        // The constructor guarantees the hyphenated lower-case form, which always parses.
        uuid::Uuid::parse_str(&self.0).unwrap_or_default()
    }
}

/// `ISODateTime`: an `xs:dateTime`, kept exactly as written (offset or `Z` or none, fraction
/// digits as given), so that a message parsed and re-rendered is unchanged and a signature over
/// it still holds.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IsoDateTime(CompactString);

impl IsoDateTime {
    /// Checks the `xs:dateTime` lexical form `YYYY-MM-DDThh:mm:ss[.f+][Z|(+|-)hh:mm]` and the
    /// calendar (month length, leap years).
    pub fn new(text: impl Into<String>) -> Result<Self, InvalidValue> {
        let text: String = text.into();
        Self::check(&text)?;
        Ok(IsoDateTime(CompactString::from(text)))
    }

    fn check(text: &str) -> Result<(), InvalidValue> {
        check_date_time(text).map_err(|reason| InvalidValue::new("ISODateTime", text, reason))
    }

    /// From a `time` value, written with its offset (`2026-11-25T12:00:00.123+01:00`, and `Z`
    /// never: CBPR+ asks for an explicit offset). Sub-second precision is kept to milliseconds
    /// only if non-zero.
    pub fn from_offset_date_time(t: time::OffsetDateTime) -> Self {
        let (h, m, _) = t.offset().as_hms();
        let sign = if t.offset().is_negative() { '-' } else { '+' };
        let ms = t.millisecond();
        let frac = if ms == 0 {
            String::new()
        } else {
            format!(".{ms:03}")
        };
        IsoDateTime(compact_str::format_compact!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}{frac}{sign}{:02}:{:02}",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            h.unsigned_abs(),
            m.unsigned_abs()
        ))
    }

    /// The text as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the value carries a time-zone offset (`Z` or `±hh:mm`).
    pub fn has_offset(&self) -> bool {
        let b = self.0.as_bytes();
        b.ends_with(b"Z") || (b.len() > 6 && matches!(b[b.len() - 6], b'+' | b'-'))
    }

    /// As a `time` value, when the text carries an offset.
    pub fn to_offset_date_time(&self) -> Option<time::OffsetDateTime> {
        if !self.has_offset() {
            return None;
        }
        time::OffsetDateTime::parse(&self.0, &time::format_description::well_known::Rfc3339).ok()
    }
}

impl Leaf for IsoDateTime {
    fn from_text(text: &str) -> Result<Self, InvalidValue> {
        Self::check(text)?;
        Ok(IsoDateTime(CompactString::new(text)))
    }
    fn write_text(&self, out: &mut String) {
        out.push_str(&self.0);
    }
}

impl serde::Serialize for IsoDateTime {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// JSON in: a string, checked as [`IsoDateTime::new`] checks it and kept as written.
impl<'de> serde::Deserialize<'de> for IsoDateTime {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::de::from_str(deserializer, "an ISO date-time string", |s| Self::new(s))
    }
}

impl fmt::Display for IsoDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for IsoDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IsoDateTime({:?})", self.0)
    }
}

impl FromStr for IsoDateTime {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    b.iter().try_fold(0u32, |acc, d| {
        acc.checked_mul(10)?.checked_add(u32::from(d - b'0'))
    })
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// `YYYY-MM-DD`, returning (year, month, day).
fn check_date_part(b: &[u8]) -> Result<(u32, u32, u32), &'static str> {
    const SHAPE: &str = "expected YYYY-MM-DD";
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return Err(SHAPE);
    }
    let (y, m, d) = (digits(&b[0..4]), digits(&b[5..7]), digits(&b[8..10]));
    let (Some(y), Some(m), Some(d)) = (y, m, d) else {
        return Err(SHAPE);
    };
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) || y == 0 {
        return Err("no such calendar date");
    }
    Ok((y, m, d))
}

fn check_offset(b: &[u8]) -> Result<(), &'static str> {
    match b {
        [] | [b'Z'] => Ok(()),
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            let h = digits(&[*h1, *h2]).ok_or("bad offset")?;
            let m = digits(&[*m1, *m2]).ok_or("bad offset")?;
            if h > 14 || m > 59 || (h == 14 && m != 0) {
                return Err("offset out of range");
            }
            Ok(())
        }
        _ => Err("offset must be Z or +hh:mm / -hh:mm"),
    }
}

fn check_date_time(s: &str) -> Result<(), &'static str> {
    let b = s.as_bytes();
    if b.len() < 19 || b[10] != b'T' {
        return Err("expected YYYY-MM-DDThh:mm:ss");
    }
    check_date_part(&b[..10])?;
    check_time_part(&b[11..])
}

/// `hh:mm:ss[.f+][Z|(+|-)hh:mm]`, the time of an `xs:dateTime` or an `xs:time`.
fn check_time_part(b: &[u8]) -> Result<(), &'static str> {
    if b.len() < 8 {
        return Err("expected hh:mm:ss");
    }
    let t = &b[..8];
    if t[2] != b':' || t[5] != b':' {
        return Err("expected hh:mm:ss");
    }
    let (h, m, sec) = (digits(&t[0..2]), digits(&t[3..5]), digits(&t[6..8]));
    let (Some(h), Some(m), Some(sec)) = (h, m, sec) else {
        return Err("expected hh:mm:ss");
    };
    let mut rest = &b[8..];
    let mut frac_nonzero = false;
    if let Some(r) = rest.strip_prefix(b".") {
        let n = r.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return Err("empty fraction of second");
        }
        frac_nonzero = r[..n].iter().any(|&c| c != b'0');
        rest = &r[n..];
    }
    // 24:00:00 is allowed by xs:dateTime only as an end of day with no fraction.
    let end_of_day = h == 24 && m == 0 && sec == 0 && !frac_nonzero;
    if (h > 23 && !end_of_day) || m > 59 || sec > 59 {
        return Err("time out of range");
    }
    check_offset(rest)
}

/// `ISODate`: a calendar date `YYYY-MM-DD` (without time zone, as ISO 20022 uses it).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IsoDate(time::Date);

impl IsoDate {
    /// From a `time::Date`.
    pub fn from_date(date: time::Date) -> Self {
        IsoDate(date)
    }

    /// Reads `YYYY-MM-DD`.
    pub fn new(text: &str) -> Result<Self, InvalidValue> {
        let bad = |reason| InvalidValue::new("ISODate", text, reason);
        let (y, m, d) = check_date_part(text.as_bytes()).map_err(bad)?;
        let month = time::Month::try_from(m as u8).map_err(|_| bad("no such month"))?;
        let date = time::Date::from_calendar_date(y as i32, month, d as u8)
            .map_err(|_| bad("no such calendar date"))?;
        Ok(IsoDate(date))
    }

    /// The date.
    pub fn date(&self) -> time::Date {
        self.0
    }
}

impl Leaf for IsoDate {
    fn from_text(text: &str) -> Result<Self, InvalidValue> {
        Self::new(text)
    }
    fn write_text(&self, out: &mut String) {
        use fmt::Write;
        let d = self.0;
        let _ = write!(
            out,
            "{:04}-{:02}-{:02}",
            d.year(),
            u8::from(d.month()),
            d.day()
        );
    }
}

impl serde::Serialize for IsoDate {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// JSON in: a `YYYY-MM-DD` string.
impl<'de> serde::Deserialize<'de> for IsoDate {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        crate::de::from_str(deserializer, "an ISO date string (YYYY-MM-DD)", Self::new)
    }
}

impl fmt::Display for IsoDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::with_capacity(10);
        self.write_text(&mut s);
        f.write_str(&s)
    }
}

impl fmt::Debug for IsoDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IsoDate({self})")
    }
}

impl FromStr for IsoDate {
    type Err = InvalidValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::new(s)
    }
}

/// `Number`: an `xs:decimal` restricted to no fraction digits and 18 total digits, read in the
/// whole lexical space of `xs:decimal` as a schema validator reads it: an optional sign, digits,
/// and an optional point followed by zeros only (`1000.00` is 1000, `+7` is 7, `-0` is 0,
/// `007` is 7, `.0` is 0). A value with a non-zero fraction, or more than 18 significant digits,
/// is refused.
impl Leaf for i64 {
    fn from_text(text: &str) -> Result<Self, InvalidValue> {
        const WANT: &str = "a decimal number without a fraction, at most 18 digits";
        let t = text.trim();
        let invalid = || InvalidValue::new("number", t, WANT);
        let (negative, unsigned) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let digits_only = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (whole.is_empty() && fraction.is_empty())
            || !digits_only(whole)
            || !digits_only(fraction)
        {
            return Err(invalid());
        }
        if fraction.bytes().any(|b| b != b'0') {
            return Err(InvalidValue::new(
                "number",
                t,
                "no fraction digits (fractionDigits 0)",
            ));
        }
        let significant = whole.trim_start_matches('0');
        if significant.len() > 18 {
            return Err(InvalidValue::new(
                "number",
                t,
                "at most 18 digits (totalDigits 18)",
            ));
        }
        let magnitude: i64 = if significant.is_empty() {
            0
        } else {
            significant.parse().map_err(|_| invalid())?
        };
        Ok(if negative { -magnitude } else { magnitude })
    }
    fn write_text(&self, out: &mut String) {
        use fmt::Write;
        let _ = write!(out, "{self}");
    }
}

impl Leaf for bool {
    fn from_text(text: &str) -> Result<Self, InvalidValue> {
        match text.trim() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            other => Err(InvalidValue::new(
                "boolean",
                other,
                "expected true or false",
            )),
        }
    }
    fn write_text(&self, out: &mut String) {
        out.push_str(if *self { "true" } else { "false" });
    }
}

/// Defines a closed code enum (an XSD enumeration): unknown values are schema-invalid.
macro_rules! closed_code {
    ($(#[$doc:meta])* $name:ident, $kind:literal, { $($(#[$vdoc:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in the order of the code list.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// Every code as written on the wire, in the order of the code list.
            pub const CODES: &'static [&'static str] = &[$($code),+];

            /// The code as written on the wire.
            pub fn code(&self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
        }

        impl FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s.trim() {
                    $($code => Ok($name::$variant),)+
                    other => Err(InvalidValue::new($kind, other, concat!("expected one of ", $($code, " "),+))),
                }
            }
        }

        impl Leaf for $name {
            fn from_text(text: &str) -> Result<Self, InvalidValue> {
                text.parse()
            }
            fn write_text(&self, out: &mut String) {
                out.push_str(self.code());
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.code())
            }
        }

        /// JSON in: the code as a string, one of the enumeration (as the XML reader reads it).
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                crate::de::from_str(deserializer, concat!("a ", $kind, " code string"), str::parse)
            }
        }
    };
}

closed_code!(
    /// `SettlementMethod1Code`.
    SettlementMethod, "settlement method", {
        /// Instructed agent's account.
        Inda = "INDA",
        /// Instructing agent's account.
        Inga = "INGA",
        /// Cover method (a separate pacs.009 COV moves the funds).
        Cove = "COVE",
        /// Clearing system.
        Clrg = "CLRG",
    }
);

closed_code!(
    /// `ChargeBearerType1Code`.
    ChargeBearer, "charge bearer", {
        /// Borne by the debtor.
        Debt = "DEBT",
        /// Borne by the creditor.
        Cred = "CRED",
        /// Shared.
        Shar = "SHAR",
        /// Following the service level.
        Slev = "SLEV",
    }
);

closed_code!(
    /// `ChequeType2Code`.
    ChequeType, "cheque type", {
        /// Customer cheque.
        Cchq = "CCHQ",
        /// Customer cheque, certified.
        Ccch = "CCCH",
        /// Bank cheque.
        Bchq = "BCHQ",
        /// Draft.
        Drft = "DRFT",
        /// Electronic draft.
        Eldr = "ELDR",
    }
);

closed_code!(
    /// `ChequeDelivery1Code`: how (mail, courier, pick-up, registered mail) and to whom
    /// (debtor, creditor, first agent) a cheque is delivered.
    ChequeDelivery, "cheque delivery", {
        /// Mail to the debtor.
        Mldb = "MLDB",
        /// Mail to the creditor.
        Mlcd = "MLCD",
        /// Mail to the first agent.
        Mlfa = "MLFA",
        /// Courier to the debtor.
        Crdb = "CRDB",
        /// Courier to the creditor.
        Crcd = "CRCD",
        /// Courier to the first agent.
        Crfa = "CRFA",
        /// Pick-up by the debtor.
        Pudb = "PUDB",
        /// Pick-up by the creditor.
        Pucd = "PUCD",
        /// Pick-up by the first agent.
        Pufa = "PUFA",
        /// Registered mail to the debtor.
        Rgdb = "RGDB",
        /// Registered mail to the creditor.
        Rgcd = "RGCD",
        /// Registered mail to the first agent.
        Rgfa = "RGFA",
    }
);

closed_code!(
    /// `Frequency6Code`: how often a mandate's collections recur.
    Frequency, "frequency", {
        /// Yearly.
        Year = "YEAR",
        /// Monthly.
        Mnth = "MNTH",
        /// Quarterly.
        Qurt = "QURT",
        /// Half-yearly.
        Mian = "MIAN",
        /// Weekly.
        Week = "WEEK",
        /// Daily.
        Dail = "DAIL",
        /// When needed.
        Adho = "ADHO",
        /// Intraday.
        Inda = "INDA",
        /// Every two weeks.
        Frtn = "FRTN",
    }
);

closed_code!(
    /// `InterestType1Code`.
    InterestTypeCode, "interest type", {
        /// Intraday.
        Indy = "INDY",
        /// Overnight.
        Ovrn = "OVRN",
    }
);

closed_code!(
    /// `Priority2Code`: an instruction's priority (`InstrPrty`).
    Priority, "priority", {
        /// High.
        High = "HIGH",
        /// Normal.
        Norm = "NORM",
    }
);

closed_code!(
    /// `Priority3Code`: a settlement's priority (`SttlmPrty`), which adds urgent to
    /// [`Priority`].
    SettlementPriority, "settlement priority", {
        /// Urgent.
        Urgt = "URGT",
        /// High.
        High = "HIGH",
        /// Normal.
        Norm = "NORM",
    }
);

closed_code!(
    /// `Authorisation1Code`: what an initiating party's authorisation covers.
    Authorisation, "authorisation", {
        /// Pre-authorised.
        Auth = "AUTH",
        /// File level, with details.
        Fdet = "FDET",
        /// File level, summary only.
        Fsum = "FSUM",
        /// Authorised per instruction (individual level).
        Ilev = "ILEV",
    }
);

closed_code!(
    /// `CopyDuplicate1Code` of the business application header.
    CopyDuplicate, "copy/duplicate code", {
        /// Copy of a duplicate.
        Codu = "CODU",
        /// Copy.
        Copy = "COPY",
        /// Duplicate.
        Dupl = "DUPL",
    }
);

closed_code!(
    /// `Instruction3Code`: instruction for the creditor agent.
    CreditorAgentInstruction, "creditor agent instruction", {
        /// Pay creditor by cheque.
        Chqb = "CHQB",
        /// Hold cash for creditor.
        Hold = "HOLD",
        /// Phone beneficiary.
        Phob = "PHOB",
        /// Telecom beneficiary.
        Telb = "TELB",
    }
);

closed_code!(
    /// `Instruction4Code`: instruction for the next agent.
    NextAgentInstruction, "next agent instruction", {
        /// Phone next agent.
        Phoa = "PHOA",
        /// Telecom next agent.
        Tela = "TELA",
    }
);

closed_code!(
    /// `Instruction5Code`: instruction for the creditor agent in pacs.009.
    FiCreditorAgentInstruction, "creditor agent instruction", {
        /// Phone beneficiary.
        Phob = "PHOB",
        /// Telecom beneficiary.
        Telb = "TELB",
    }
);

closed_code!(
    /// `CancellationIndividualStatus1Code` (camt.029 `TxCxlSts`).
    CancellationStatus, "cancellation status", {
        /// Rejected cancellation request.
        Rjcr = "RJCR",
        /// Accepted cancellation request.
        Accr = "ACCR",
        /// Pending cancellation request.
        Pdcr = "PDCR",
    }
);

closed_code!(
    /// `CreditDebitCode`.
    CreditDebit, "credit/debit code", {
        /// Credit.
        Crdt = "CRDT",
        /// Debit.
        Dbit = "DBIT",
    }
);

closed_code!(
    /// `PaymentMethod3Code` (pain.001).
    PaymentMethod, "payment method", {
        /// Cheque.
        Chk = "CHK",
        /// Credit transfer.
        Trf = "TRF",
        /// Transfer advice.
        Tra = "TRA",
    }
);

closed_code!(
    /// `SequenceType3Code`: the place of a direct debit in its series.
    SequenceType, "sequence type", {
        /// First of a series.
        Frst = "FRST",
        /// Recurring.
        Rcur = "RCUR",
        /// Final.
        Fnal = "FNAL",
        /// One-off.
        Ooff = "OOFF",
        /// Re-presented.
        Rpre = "RPRE",
    }
);

closed_code!(
    /// `PaymentMethod4Code`: how the original payment was made.
    OriginalPaymentMethod, "payment method", {
        /// Cheque.
        Chk = "CHK",
        /// Credit transfer.
        Trf = "TRF",
        /// Direct debit.
        Dd = "DD",
        /// Transfer advice.
        Tra = "TRA",
    }
);

closed_code!(
    /// `ExchangeRateType1Code`.
    ExchangeRateType, "exchange rate type", {
        /// Spot rate.
        Spot = "SPOT",
        /// Sale rate.
        Sale = "SALE",
        /// Agreed (contract) rate.
        Agrd = "AGRD",
    }
);

closed_code!(
    /// `ClearingChannel2Code`.
    ClearingChannel, "clearing channel", {
        /// Real-time gross settlement.
        Rtgs = "RTGS",
        /// Real-time net settlement.
        Rtns = "RTNS",
        /// Mass payment net system.
        Mpns = "MPNS",
        /// Book transfer.
        Book = "BOOK",
    }
);

closed_code!(
    /// `RemittanceLocationMethod2Code`: how separate remittance information is sent.
    RemittanceLocationMethod, "remittance location method", {
        /// Fax.
        Faxi = "FAXI",
        /// Electronic data interchange.
        Edic = "EDIC",
        /// Uniform resource identifier.
        Urid = "URID",
        /// E-mail.
        Emal = "EMAL",
        /// Post.
        Post = "POST",
        /// SMS.
        Smsm = "SMSM",
    }
);

closed_code!(
    /// `TaxRecordPeriod1Code`.
    TaxRecordPeriod, "tax record period", {
        /// January.
        Mm01 = "MM01",
        /// February.
        Mm02 = "MM02",
        /// March.
        Mm03 = "MM03",
        /// April.
        Mm04 = "MM04",
        /// May.
        Mm05 = "MM05",
        /// June.
        Mm06 = "MM06",
        /// July.
        Mm07 = "MM07",
        /// August.
        Mm08 = "MM08",
        /// September.
        Mm09 = "MM09",
        /// October.
        Mm10 = "MM10",
        /// November.
        Mm11 = "MM11",
        /// December.
        Mm12 = "MM12",
        /// First quarter.
        Qtr1 = "QTR1",
        /// Second quarter.
        Qtr2 = "QTR2",
        /// Third quarter.
        Qtr3 = "QTR3",
        /// Fourth quarter.
        Qtr4 = "QTR4",
        /// First half.
        Hlf1 = "HLF1",
        /// Second half.
        Hlf2 = "HLF2",
    }
);

closed_code!(
    /// `DocumentType6Code`: the kind of a referred document (structured remittance).
    DocumentType6, "document type", {
        /// Metered service invoice.
        Msin = "MSIN",
        /// Credit note related to financial adjustment.
        Cnfa = "CNFA",
        /// Debit note related to financial adjustment.
        Dnfa = "DNFA",
        /// Commercial invoice.
        Cinv = "CINV",
        /// Credit note.
        Cren = "CREN",
        /// Debit note.
        Debn = "DEBN",
        /// Hire invoice.
        Hiri = "HIRI",
        /// Self-billed invoice.
        Sbin = "SBIN",
        /// Commercial contract.
        Cmcn = "CMCN",
        /// Statement of account.
        Soac = "SOAC",
        /// Dispatch advice.
        Disp = "DISP",
        /// Bill of lading.
        Bold = "BOLD",
        /// Voucher.
        Vchr = "VCHR",
        /// Account receivable open item.
        Aroi = "AROI",
        /// Trade services utility transaction.
        Tsut = "TSUT",
        /// Purchase order.
        Puor = "PUOR",
    }
);

closed_code!(
    /// `DocumentType3Code`: the kind of a creditor reference.
    DocumentType3, "creditor reference type", {
        /// Remittance advice message.
        Radm = "RADM",
        /// Related payment instruction.
        Rpin = "RPIN",
        /// Foreign exchange deal reference.
        Fxdr = "FXDR",
        /// Dispatch advice.
        Disp = "DISP",
        /// Purchase order.
        Puor = "PUOR",
        /// Structured communication reference (e.g. ISO 11649 RF creditor reference).
        Scor = "SCOR",
    }
);

closed_code!(
    /// `RegulatoryReportingType1Code`: which side the regulatory report concerns.
    RegulatoryReportingType, "regulatory reporting type", {
        /// Credit side only.
        Cred = "CRED",
        /// Debit side only.
        Debt = "DEBT",
        /// Both sides.
        Both = "BOTH",
    }
);

closed_code!(
    /// `NamePrefix2Code`.
    NamePrefix, "name prefix", {
        /// Doctor.
        Doct = "DOCT",
        /// Madam.
        Madm = "MADM",
        /// Miss.
        Miss = "MISS",
        /// Mister.
        Mist = "MIST",
        /// Gender-neutral title.
        Miks = "MIKS",
    }
);

closed_code!(
    /// `PreferredContactMethod1Code`.
    PreferredContactMethod, "preferred contact method", {
        /// Letter.
        Lett = "LETT",
        /// E-mail.
        Mail = "MAIL",
        /// Phone.
        Phon = "PHON",
        /// Fax.
        Faxx = "FAXX",
        /// Mobile phone.
        Cell = "CELL",
    }
);

closed_code!(
    /// `AddressType2Code`.
    AddressType2, "address type", {
        /// Postal address.
        Addr = "ADDR",
        /// PO box.
        Pbox = "PBOX",
        /// Residential.
        Home = "HOME",
        /// Business.
        Bizz = "BIZZ",
        /// Mail to.
        Mlto = "MLTO",
        /// Delivery to.
        Dlvy = "DLVY",
    }
);

/// Defines an open code enum (an ISO external code list): known codes get a variant, every other
/// code is kept as written in `Other`, so an unknown code never makes decoding fail.
macro_rules! open_code {
    ($(#[$doc:meta])* $name:ident, $max:literal, { $($(#[$vdoc:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
            /// A code this crate does not name, kept as written.
            Other(Text<$max>),
        }

        impl $name {
            /// The code as written on the wire.
            pub fn code(&self) -> &str {
                match self {
                    $($name::$variant => $code,)+
                    $name::Other(t) => t.as_str(),
                }
            }
        }

        impl FromStr for $name {
            type Err = InvalidValue;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($code => Ok($name::$variant),)+
                    other => Ok($name::Other(Text::new(other)?)),
                }
            }
        }

        impl Leaf for $name {
            fn from_text(text: &str) -> Result<Self, InvalidValue> {
                text.parse()
            }
            fn write_text(&self, out: &mut String) {
                out.push_str(self.code());
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.code())
            }
        }

        /// JSON in: the code as a string; a code without a variant is kept in `Other`.
        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                crate::de::from_str(deserializer, "a code string", str::parse)
            }
        }
    };
}

open_code!(
    /// `ExternalPaymentTransactionStatus1Code` (pacs.002 `TxSts`), open.
    TransactionStatus, 4, {
        /// Accepted technical validation.
        Actc = "ACTC",
        /// Accepted customer profile.
        Accp = "ACCP",
        /// Accepted settlement in process.
        Acsp = "ACSP",
        /// Accepted settlement completed (debtor side).
        Acsc = "ACSC",
        /// Accepted credit settlement completed (creditor account credited).
        Accc = "ACCC",
        /// Accepted with change.
        Acwc = "ACWC",
        /// Accepted without posting.
        Acwp = "ACWP",
        /// Accepted funds checked.
        Acfc = "ACFC",
        /// Accepted and settlement completed (creditor account credited), ISO 2023 code.
        Acis = "ACIS",
        /// Blocked.
        Blck = "BLCK",
        /// Cancelled.
        Canc = "CANC",
        /// Pending.
        Pdng = "PDNG",
        /// Received.
        Rcvd = "RCVD",
        /// Rejected.
        Rjct = "RJCT",
        /// Partially accepted technical correct.
        Patc = "PATC",
        /// Presented.
        Pres = "PRES",
    }
);

impl TransactionStatus {
    /// Whether the status is a final rejection.
    pub fn is_rejected(&self) -> bool {
        matches!(self, TransactionStatus::Rjct)
    }

    /// Whether the status says the payment is (at least) accepted for settlement.
    pub fn is_accepted(&self) -> bool {
        matches!(
            self,
            TransactionStatus::Acsp
                | TransactionStatus::Acsc
                | TransactionStatus::Accc
                | TransactionStatus::Acwc
                | TransactionStatus::Acis
        )
    }
}

checked_string!(
    /// `ISOTime`: an `xs:time`, `hh:mm:ss[.f][Z|±hh:mm]`, kept as written.
    IsoTime,
    "ISOTime",
    check_time
);
checked_string!(
    /// `PercentageRate`: a rate in percent as an exact decimal (at most 11 digits, 10 of them
    /// after the point), kept as written.
    PercentageRate,
    "PercentageRate",
    |s| check_decimal(s, 11, 10)
);
checked_string!(
    /// `Number`: a whole number of at most 18 digits (`xs:decimal`, no fraction), kept as
    /// written.
    Number,
    "Number",
    |s| check_decimal(s, 18, 0)
);

fn check_time(s: &str) -> Result<(), &'static str> {
    check_time_part(s.as_bytes())
}

/// `xs:decimal` with `totalDigits` and `fractionDigits` facets (counted on the value, see
/// [`decimal_digits`]).
fn check_decimal(s: &str, total: usize, fraction: usize) -> Result<(), &'static str> {
    let (_, int, frac) = decimal_digits(s).ok_or("a decimal number such as 12.5")?;
    if frac > fraction {
        return Err(if fraction == 0 {
            "a whole number"
        } else {
            "too many digits after the decimal point"
        });
    }
    if int + frac > total {
        return Err("too many digits");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_lengths() {
        assert!(Max35Text::new("").is_err());
        assert!(Max35Text::new("a".repeat(35)).is_ok());
        assert!(Max35Text::new("a".repeat(36)).is_err());
        assert!(Max4Text::new("éééé").is_ok(), "characters, not bytes");
        assert!(Max35Text::new("a\u{1}b").is_err(), "not an XML character");
        assert!(Max35Text::new("a\u{FFFE}").is_err());
        assert!(Max35Text::new("tab\there\r\n").is_ok());
    }

    #[test]
    fn bic_iban_lei_uetr_shapes() {
        assert!(Bic::new("DEUTDEFF").is_ok());
        assert!(Bic::new("DEUTDEFF500").is_ok());
        assert!(Bic::new("deutdeff").is_err());
        assert!(Bic::new("DEUT1EFF").is_err());
        assert!(Bic::new("DEUTDEFF50").is_err());
        assert!(
            Bic::new("ABC\u{feff}DEFF").is_err(),
            "found by fuzzing: multi-byte characters"
        );
        assert!(Bic::new("ABCDÉFFF").is_err());
        let iban = Iban::new("DE89370400440532013000").unwrap();
        assert!(iban.checksum_ok());
        assert!(!Iban::new("DE88370400440532013000").unwrap().checksum_ok());
        assert!(Iban::new("de89370400440532013000").is_err());
        let lei = Lei::new("5493001KJTIIGC8Y1R12").unwrap();
        assert!(lei.checksum_ok());
        assert!(!Lei::new("5493001KJTIIGC8Y1R13").unwrap().checksum_ok());
        assert!(Uetr::new("eb6305c9-1f7f-49de-aed0-16487c27b42d").is_ok());
        assert!(Uetr::new("EB6305C9-1F7F-49DE-AED0-16487C27B42D").is_err());
        assert!(
            Uetr::new("eb6305c9-1f7f-39de-aed0-16487c27b42d").is_err(),
            "v3"
        );
        assert!(
            Uetr::new("eb6305c9-1f7f-49de-ced0-16487c27b42d").is_err(),
            "variant"
        );
        let u = Uetr::new_v4();
        assert!(Uetr::new(u.as_str()).is_ok());
        assert_eq!(Uetr::from_uuid(u.to_uuid()).unwrap(), u);
    }

    #[test]
    fn date_times_kept_as_written() {
        for ok in [
            "2026-11-25T12:00:00",
            "2026-11-25T12:00:00Z",
            "2026-11-25T12:00:00.123456+05:30",
            "2024-02-29T23:59:59-11:00",
            "2026-11-25T24:00:00Z",
        ] {
            assert_eq!(
                IsoDateTime::new(ok).map(|d| d.as_str().to_owned()),
                Ok(ok.to_owned())
            );
        }
        for bad in [
            "2026-11-25",
            "2026-11-25 12:00:00",
            "2023-02-29T00:00:00",
            "2026-13-01T00:00:00",
            "2026-11-25T12:60:00",
            "2026-11-25T12:00:00+5:30",
            "2026-11-25T12:00:00.Z",
            "2026-11-25T24:00:01Z",
        ] {
            assert!(IsoDateTime::new(bad).is_err(), "{bad}");
        }
        assert!(!IsoDateTime::new("2026-11-25T12:00:00")
            .unwrap()
            .has_offset());
        assert!(IsoDateTime::new("2026-11-25T12:00:00-01:00")
            .unwrap()
            .has_offset());
        let t = time::macros::datetime!(2026-11-25 12:00:01.250 +01:00);
        let d = IsoDateTime::from_offset_date_time(t);
        assert_eq!(d.as_str(), "2026-11-25T12:00:01.250+01:00");
        assert_eq!(d.to_offset_date_time(), Some(t));
        let west = time::macros::datetime!(2026-11-25 12:00:00 -03:30);
        assert_eq!(
            IsoDateTime::from_offset_date_time(west).as_str(),
            "2026-11-25T12:00:00-03:30"
        );
    }

    #[test]
    fn exact_decimals_kept_as_written() {
        for ok in [
            "12345.67",
            "0",
            "-1.5",
            "+3",
            "1.",
            ".5",
            "123456789012345678",
            "0.12345678901234567",
            "1.00000000000000000000",
            "000000000000000000001",
        ] {
            assert_eq!(
                DecimalNumber::new(ok).map(|d| d.as_str().to_owned()),
                Ok(ok.to_owned()),
                "{ok}"
            );
        }
        for bad in [
            "",
            ".",
            "-",
            "1e3",
            " 1",
            "1,5",
            "1234567890123456789",
            "0.123456789012345678",
            "12.34567890123456789",
        ] {
            assert!(DecimalNumber::new(bad).is_err(), "{bad}");
        }
        assert_eq!(
            DecimalNumber::new("1.50").unwrap(),
            DecimalNumber::new("1.50").unwrap()
        );
        assert_ne!(
            DecimalNumber::new("1.50").unwrap(),
            DecimalNumber::new("1.5").unwrap(),
            "kept as written, compared as written"
        );
        assert!(NonNegativeDecimalNumber::new("0.01").is_ok());
        assert!(NonNegativeDecimalNumber::new("-0.00").is_ok(), "zero");
        assert!(NonNegativeDecimalNumber::new("-0.01").is_err());
        assert!(BaseOneRate::new("1.0825").is_ok());
        assert!(BaseOneRate::new("0.12345678901").is_err());
        assert!(BaseOneRate::new("123456789012").is_err());
    }

    #[test]
    fn counts_and_isins() {
        assert_eq!(Max15NumericText::new("007").unwrap().value(), 7);
        assert_eq!(Max15NumericText::new("007").unwrap().as_str(), "007");
        assert!(Max15NumericText::new("9".repeat(15)).is_ok());
        assert!(Max15NumericText::new("9".repeat(16)).is_err());
        assert!(Max15NumericText::new("").is_err());
        assert!(Max15NumericText::new("-1").is_err());
        let apple = Isin::new("US0378331005").unwrap();
        assert!(apple.checksum_ok());
        assert!(Isin::new("DE000BAY0017").unwrap().checksum_ok());
        assert!(!Isin::new("US0378331006").unwrap().checksum_ok());
        assert!(Isin::new("us0378331005").is_err());
        assert!(Isin::new("US037833100X").is_err());
        assert!(Isin::new("US03783310051").is_err());
    }

    #[test]
    fn dates_and_codes() {
        assert_eq!(
            IsoDate::new("2024-02-29").unwrap().to_string(),
            "2024-02-29"
        );
        assert!(IsoDate::new("2023-02-29").is_err());
        assert!(IsoDate::new("2023-2-28").is_err());
        assert_eq!(
            "COVE".parse::<SettlementMethod>(),
            Ok(SettlementMethod::Cove)
        );
        assert!("cove".parse::<SettlementMethod>().is_err());
        assert_eq!(
            "ACSC".parse::<TransactionStatus>(),
            Ok(TransactionStatus::Acsc)
        );
        let other: TransactionStatus = "XYZ1".parse().unwrap();
        assert_eq!(other.code(), "XYZ1");
        assert!("TOOLONG".parse::<TransactionStatus>().is_err());
    }
}

#[cfg(test)]
mod newer_value_types {
    use super::*;

    #[test]
    fn times() {
        for ok in [
            "09:30:00",
            "23:59:59.5",
            "00:00:00Z",
            "12:00:00+05:30",
            "24:00:00",
        ] {
            assert!(IsoTime::new(ok).is_ok(), "{ok}");
        }
        for bad in [
            "9:30:00",
            "25:00:00",
            "12:60:00",
            "12:00",
            "12:00:00+5:30",
            "24:00:00.1",
            "",
        ] {
            assert!(IsoTime::new(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn decimals_follow_their_facets_on_the_value() {
        // BaseOneRate: 11 digits in all, 10 after the point.
        assert!(BaseOneRate::new("0.9236500000").is_ok());
        assert!(
            BaseOneRate::new("1.12345678901").is_err(),
            "11 fraction digits"
        );
        assert!(
            BaseOneRate::new("1.12345678900000").is_ok(),
            "trailing zeros do not count"
        );
        assert!(BaseOneRate::new("123456.123456").is_err(), "12 digits");
        assert!(
            BaseOneRate::new("000123456.12345").is_ok(),
            "leading zeros do not count"
        );
        for bad in ["", ".", "1,5", "1e3", "--1", "+"] {
            assert!(BaseOneRate::new(bad).is_err(), "{bad:?}");
        }
        // Kept exactly as written.
        assert_eq!(BaseOneRate::new("0.923650").unwrap().as_str(), "0.923650");
        // Number: whole numbers of at most 18 digits.
        assert!(Number::new("123456789012345678").is_ok());
        assert!(Number::new("1234567890123456789").is_err());
        assert!(Number::new("12.5").is_err());
        assert!(
            Number::new("12.0").is_ok(),
            "a zero fraction is a whole value"
        );
        assert!(PercentageRate::new("19.6").is_ok());
    }

    #[test]
    fn phone_numbers_and_four_character_codes() {
        assert!(PhoneNumber::new("+44-2079460000").is_ok());
        assert!(PhoneNumber::new("+1-(212)555-0100").is_ok());
        for bad in ["44-2079460000", "+4444-1", "+44-", "+44 2079460000", "+-1"] {
            assert!(PhoneNumber::new(bad).is_err(), "{bad}");
        }
        assert!(Exact4AlphaNumeric::new("HQ01").is_ok());
        assert!(Exact4AlphaNumeric::new("HQ0").is_err());
        assert!(Exact4AlphaNumeric::new("HQ-1").is_err());
    }
}
