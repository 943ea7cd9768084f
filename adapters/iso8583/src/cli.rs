//! Helpers for the `corridor iso8583 decode|encode` commands (the binary mounts them).

use serde_json::Value;

use crate::error::CodecError;
use crate::message::Message;
use crate::spec::Spec;

/// Decode one message (no length header) to its masked JSON view.
pub fn decode_to_json(spec: &std::sync::Arc<Spec>, bytes: &[u8]) -> Result<Value, CodecError> {
    Ok(Message::decode(spec, bytes)?.to_json(true))
}

/// Encode a message from its JSON view (see [`crate::json`]).
pub fn encode_from_json(spec: &std::sync::Arc<Spec>, json: &Value) -> Result<Vec<u8>, CodecError> {
    Message::from_json(spec, json)?.encode()
}

/// Hex (spaces and newlines ignored) to bytes, for a command-line argument.
pub fn parse_hex(text: &str) -> Result<Vec<u8>, hex::FromHexError> {
    let clean: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    hex::decode(clean)
}
