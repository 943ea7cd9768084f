//! ISO 8583 for Rust: a spec-driven codec (the dialect is data, in TOML) and an async link.
//!
//! Modules, from the bytes up:
//! - [`spec`]: load and check a TOML spec into an immutable [`Spec`]; [`specs`] embeds ours.
//! - `field` (private): one field's length prefix and data in its encoding.
//! - [`message`]: [`Message`], values in one arena; `decode_from` / `encode_into` reuse buffers.
//! - [`composite`]: positional, BER-TLV and bitmap subfields, reached by paths ("55.9F26").
//! - [`json`]: the JSON view and the serde mapping to Rust structs; [`cli`] wraps it.
//! - [`rules`]: per-MTI mandatory / conditional / echoed fields, response building.
//! - [`framing`]: length headers and TPDU around messages on a stream.
//! - [`link`] (cargo feature `link`, on by default): the tokio client link: sign-on, echo,
//!   matching, deadlines, reconnect, TLS. Without it the crate needs no async runtime.
//!
//! The codec does no I/O and never panics on input; every length is bounded by the spec.

pub mod cli;
pub mod composite;
mod ebcdic;
pub mod error;
mod field;
pub mod framing;
pub mod json;
#[cfg(feature = "link")]
pub mod link;
pub mod message;
pub mod rules;
pub mod spec;
pub mod specs;

pub use composite::{Part, SubKey};
pub use error::{CodecError, ErrorKind, Location};
pub use framing::{Framing, LengthHeader};
#[cfg(feature = "link")]
pub use link::{Inbound, Link, LinkConfig, LinkError, LinkState, StanSource, TlsClient};

pub use message::Message;
pub use rules::RuleError;
pub use spec::{Spec, SpecError};
