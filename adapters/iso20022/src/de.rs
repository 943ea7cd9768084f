//! JSON in: what `serde::Deserialize` shares across the crate.
//!
//! Every type that serializes also deserializes, from exactly the shape it serializes to, and
//! deserializing runs the same checks as the constructors and the XML reader: a value that
//! exists satisfies its schema facets whichever way it came in. The checks of the XML reader
//! that are not in a value type (an element that must occur at least once, at most N times)
//! are the functions below, named by the structs' `#[serde(deserialize_with = ...)]`.
//!
//! Errors are serde custom errors whose text is the constructor's reason; the caller learns
//! *where* from the deserializer (`serde_path_to_error` gives `cdt_trf_tx_inf[0].dbtr.nm`).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, Visitor};

use crate::error::InvalidValue;

/// Reads a JSON string through `parse` (a type's checking constructor). `expecting` completes
/// "expected ..." when the JSON holds something else than a string.
pub(crate) fn from_str<'de, D, T>(
    deserializer: D,
    expecting: &'static str,
    parse: fn(&str) -> Result<T, InvalidValue>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    deserializer.deserialize_str(StrVisitor { expecting, parse })
}

struct StrVisitor<T> {
    expecting: &'static str,
    parse: fn(&str) -> Result<T, InvalidValue>,
}

impl<T> Visitor<'_> for StrVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        (self.parse)(v).map_err(E::custom)
    }
}

/// A repeated element the schema requires at least once (`minOccurs="1"`).
pub(crate) fn non_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    let v = Vec::<T>::deserialize(deserializer)?;
    if v.is_empty() {
        return Err(de::Error::custom(
            "empty list: the schema requires at least one element",
        ));
    }
    Ok(v)
}

/// A repeated element the schema allows at most `MAX` times. Reads at most `MAX` + 1 elements
/// before refusing, so an oversized list is not held in memory whole.
pub(crate) fn at_most<'de, D, T, const MAX: usize>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    deserializer.deserialize_seq(AtMost::<T, MAX>(PhantomData))
}

/// `at_most` for `xml_struct!`'s `max N` bounds: a `deserialize_with` path is a string, so each
/// bound used gets a named function, and the macro an arm naming it.
macro_rules! at_most_fns {
    ($($name:ident = $max:literal: $what:literal),* $(,)?) => {$(
        #[doc = concat!("At most ", stringify!($max), " elements (", $what, ").")]
        pub(crate) fn $name<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
        where
            D: Deserializer<'de>,
            T: Deserialize<'de>,
        {
            at_most::<D, T, $max>(deserializer)
        }
    )*};
}

at_most_fns!(
    at_most_2 = 2: "authorisations",
    at_most_3 = 3: "additional remittance information lines",
    at_most_5 = 5: "cheque signatures",
    at_most_7 = 7: "postal address lines",
    at_most_10 = 10: "regulatory reporting",
);

struct AtMost<T, const MAX: usize>(PhantomData<T>);

impl<'de, T: Deserialize<'de>, const MAX: usize> Visitor<'de> for AtMost<T, MAX> {
    type Value = Vec<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a list of at most {MAX} elements")
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
        let mut out = Vec::new();
        while let Some(item) = seq.next_element()? {
            if out.len() == MAX {
                return Err(de::Error::custom(format!(
                    "more than {MAX} elements: the schema allows at most {MAX}"
                )));
            }
            out.push(item);
        }
        Ok(out)
    }
}

/// Largest magnitude of a `Number` (18 digits), so that what is read from JSON can be written
/// and read back.
pub(crate) const NUMBER_MAX: i64 = 999_999_999_999_999_999;

/// An optional `Number` (a sequence number), bounded as the XML reader bounds it.
pub(crate) fn opt_number<'de, D>(deserializer: D) -> Result<Option<i64>, D::Error>
where
    D: Deserializer<'de>,
{
    let n = Option::<i64>::deserialize(deserializer)?;
    match n {
        Some(v) if v.unsigned_abs() > NUMBER_MAX as u64 => Err(de::Error::custom(format!(
            "invalid number {v}: at most 18 digits"
        ))),
        other => Ok(other),
    }
}
