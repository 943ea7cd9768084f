//! Codec errors. They say where (field path, byte offset) and what, and never carry a field's
//! value: an error may be logged, and values may be card numbers or MSISDNs.

use std::fmt;

/// What went wrong with one field or with the message frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ErrorKind {
    #[error("truncated: needed {needed} bytes, {available} available")]
    Truncated { needed: usize, available: usize },
    #[error("length {len} exceeds the maximum {max}")]
    TooLong { len: usize, max: usize },
    #[error("fixed-length field got {len}, expected {expected}")]
    FixedLength { len: usize, expected: usize },
    #[error("length prefix is not a valid number")]
    BadLengthPrefix,
    #[error("character at position {position} not allowed by the field type")]
    BadChar { position: usize },
    #[error("BCD pad nibble does not match the spec")]
    BadPad,
    #[error("the MTI is not four digits")]
    BadMti,
    #[error("bitmap is not valid hex")]
    BadBitmap,
    #[error("bitmap marks a field this spec does not define")]
    UndefinedField,
    #[error("{count} bytes left over after the last field")]
    TrailingBytes { count: usize },
    #[error("message is {len} bytes, above the limit of {max}")]
    MessageTooLong { len: usize, max: usize },
    #[error("the path does not name a field or subfield of this spec")]
    BadPath,
    #[error("the value is not valid for this use: {0}")]
    Invalid(&'static str),
}

/// Where an error happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Message,
    Mti,
    Bitmap,
    /// A field or subfield path such as "3", "48.2" or "55.9F26".
    Field(String),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Message => f.write_str("message"),
            Location::Mti => f.write_str("MTI"),
            Location::Bitmap => f.write_str("bitmap"),
            Location::Field(p) => write!(f, "field {p}"),
        }
    }
}

/// An encoding, decoding or access error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{location}: {kind} (at byte {offset})")]
pub struct CodecError {
    pub location: Location,
    pub offset: usize,
    pub kind: ErrorKind,
}

impl CodecError {
    pub(crate) fn field(path: impl Into<String>, offset: usize, kind: ErrorKind) -> Self {
        CodecError {
            location: Location::Field(path.into()),
            offset,
            kind,
        }
    }
    pub(crate) fn at(location: Location, offset: usize, kind: ErrorKind) -> Self {
        CodecError {
            location,
            offset,
            kind,
        }
    }
}
