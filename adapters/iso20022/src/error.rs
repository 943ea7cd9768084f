//! Errors of this crate.
//!
//! Two layers, because a value can be wrong before any XML exists: [`InvalidValue`] says what is
//! wrong with one value (a BIC, an amount, a length), and [`Error`] says where in a document it
//! happened, as an element path such as
//! `/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/PmtId/UETR`.

use std::fmt;

/// A value that does not satisfy its type's constraints (length, pattern, decimals, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidValue {
    /// The type that refused the value, e.g. `"BICFI"`, `"Max35Text"`, `"amount"`.
    pub kind: &'static str,
    /// The refused text, shortened to 64 characters so that a hostile input cannot blow up logs.
    pub value: String,
    /// Why it was refused, for a person to act on.
    pub reason: String,
}

impl InvalidValue {
    pub(crate) fn new(kind: &'static str, value: &str, reason: impl Into<String>) -> Self {
        const SHOWN_CHARS_MAX: usize = 64;
        let value = if value.chars().count() > SHOWN_CHARS_MAX {
            let mut v: String = value.chars().take(SHOWN_CHARS_MAX).collect();
            v.push('…');
            v
        } else {
            value.to_owned()
        };
        InvalidValue {
            kind,
            value,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for InvalidValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {} {:?}: {}", self.kind, self.value, self.reason)
    }
}

impl std::error::Error for InvalidValue {}

/// Everything that can go wrong reading or building a message. Every variant that concerns a
/// place in a document carries its element path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not well-formed XML.
    #[error("XML syntax error at byte {offset}: {message}")]
    Syntax {
        /// Byte offset in the input where the reader stopped.
        offset: u64,
        /// The reader's description.
        message: String,
    },
    /// A `<!DOCTYPE ...>` was found. DTDs can declare entities (billion laughs, external
    /// entities), so the reader refuses them outright.
    #[error("DTD / DOCTYPE refused at byte {offset}: the reader accepts no DTDs or entities")]
    DtdRefused {
        /// Byte offset of the declaration.
        offset: u64,
    },
    /// The input is larger than [`crate::Limits::message_bytes_max`].
    #[error("message of {bytes} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Size of the input.
        bytes: usize,
        /// The configured limit.
        limit: usize,
    },
    /// Elements nest deeper than [`crate::Limits::depth_max`].
    #[error("{path}: nesting deeper than the limit of {limit} elements")]
    TooDeep {
        /// Path of the element that crossed the limit.
        path: String,
        /// The configured limit.
        limit: usize,
    },
    /// A required element is absent.
    #[error("{path}: required element missing")]
    Missing {
        /// Path of the missing element.
        path: String,
    },
    /// A required attribute is absent.
    #[error("{path}: required attribute {attribute} missing")]
    MissingAttribute {
        /// Path of the element.
        path: String,
        /// Attribute name.
        attribute: &'static str,
    },
    /// An element's content or attribute is not a valid value of its type.
    ///
    /// The value's error is part of this one's message, and so deliberately not its `source()`:
    /// a chain printer (`anyhow`'s `{:#}`) would print it twice.
    #[error("{path}: {invalid}")]
    Invalid {
        /// Path of the element.
        path: String,
        /// What is wrong with the value.
        invalid: InvalidValue,
    },
    /// An element occurs more often than its schema allows.
    #[error("{path}: occurs {count} times, at most {max} allowed")]
    TooMany {
        /// Path of the repeated element.
        path: String,
        /// How many were found.
        count: usize,
        /// The schema's maximum.
        max: usize,
    },
    /// Strict mode met an element the typed model does not know (or out of schema order).
    #[error("{path}: unexpected element (strict mode)")]
    Unexpected {
        /// Path of the unexpected element.
        path: String,
    },
    /// The document's structure does not fit: wrong root, wrong namespace, missing Document.
    #[error("{path}: {message}")]
    Structure {
        /// Path where the problem was seen.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A value refused while building a message in code (no document path yet).
    #[error(transparent)]
    Value(#[from] InvalidValue),
}

impl Error {
    /// The same error with `prefix` put before its path (for parts read on their own, such as
    /// streamed statement entries).
    pub fn with_path_prefix(self, prefix: &str) -> Error {
        let join = |p: String| format!("{prefix}{p}");
        match self {
            Error::TooDeep { path, limit } => Error::TooDeep {
                path: join(path),
                limit,
            },
            Error::Missing { path } => Error::Missing { path: join(path) },
            Error::MissingAttribute { path, attribute } => Error::MissingAttribute {
                path: join(path),
                attribute,
            },
            Error::Invalid { path, invalid } => Error::Invalid {
                path: join(path),
                invalid,
            },
            Error::TooMany { path, count, max } => Error::TooMany {
                path: join(path),
                count,
                max,
            },
            Error::Unexpected { path } => Error::Unexpected { path: join(path) },
            Error::Structure { path, message } => Error::Structure {
                path: join(path),
                message,
            },
            other => other,
        }
    }

    /// The element path this error concerns, if any.
    pub fn path(&self) -> Option<&str> {
        match self {
            Error::TooDeep { path, .. }
            | Error::Missing { path }
            | Error::MissingAttribute { path, .. }
            | Error::Invalid { path, .. }
            | Error::TooMany { path, .. }
            | Error::Unexpected { path }
            | Error::Structure { path, .. } => Some(path),
            _ => None,
        }
    }
}

/// Shorthand used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The readers' internal result: the error boxed, so that the many small results passed up
/// while reading a document (one per element) stay the size of their value.
pub(crate) type XResult<T> = std::result::Result<T, Box<Error>>;

impl From<Box<Error>> for Error {
    fn from(e: Box<Error>) -> Self {
        *e
    }
}
