//! The JSON view of a message, and through it the serde mapping to Rust structs.
//!
//! One flat object: `{"mti": "0200", "3": "000000", "48": {"1": "..."}, "55": {"9F26": "..."}}`.
//! Text fields are strings, binary fields upper-case hex, composites nested objects (a repeated
//! TLV tag becomes an array). A masked view hides what the spec flags as sensitive.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Arc;

use crate::composite::{join, parse_key, split, sub_spec, Part, SubKey};
use crate::error::{CodecError, ErrorKind, Location};
use crate::message::{mask_text, render, Message};
use crate::spec::{Composite, FieldSpec, FieldType, Mask, Spec};

fn scalar(fs: &FieldSpec, value: &[u8], masked: bool) -> Value {
    if masked {
        return Value::String(render(fs, value));
    }
    Value::String(if fs.ty == FieldType::B {
        hex::encode_upper(value)
    } else {
        String::from_utf8_lossy(value).into_owned()
    })
}

fn field_json(fs: &FieldSpec, value: &[u8], masked: bool) -> Value {
    if masked && fs.is_sensitive() {
        return scalar(fs, value, true);
    }
    let Some(c) = &fs.composite else {
        return scalar(fs, value, masked);
    };
    let Ok(parts) = split(fs, value) else {
        // Kept whole rather than dropped: the raw value still says what arrived.
        return scalar(fs, value, masked);
    };
    let mut obj = Map::new();
    for p in parts {
        let v = match (c, sub_spec(fs, &p.key)) {
            (_, Some(sf)) => field_json(sf, &p.value, masked),
            (Composite::Tlv(tags), None) => {
                let hexv = hex::encode_upper(&p.value);
                let sensitive =
                    matches!(&p.key, SubKey::Tag(t) if tags.get(t).is_some_and(|t| t.sensitive));
                Value::String(if masked && sensitive {
                    mask_text(Mask::Full, &hexv)
                } else {
                    hexv
                })
            }
            _ => continue,
        };
        let k = p.key.to_string();
        match obj.get_mut(&k) {
            Some(Value::Array(a)) => a.push(v),
            Some(prev) => {
                let first = prev.take();
                *prev = Value::Array(vec![first, v]);
            }
            None => {
                obj.insert(k, v);
            }
        }
    }
    Value::Object(obj)
}

fn jerr(path: &str, what: &'static str) -> CodecError {
    CodecError::field(path.to_string(), 0, ErrorKind::Invalid(what))
}

fn value_bytes(fs: &FieldSpec, v: &Value) -> Result<Vec<u8>, CodecError> {
    match v {
        Value::String(s) if fs.ty == FieldType::B && fs.composite.is_none() => {
            hex::decode(s).map_err(|_| jerr(&fs.path, "binary fields are hex strings"))
        }
        Value::String(s) => match &fs.composite {
            Some(Composite::Tlv(_)) => hex::decode(s)
                .map_err(|_| jerr(&fs.path, "a TLV field given whole is a hex string")),
            _ if fs.ty == FieldType::B => {
                hex::decode(s).map_err(|_| jerr(&fs.path, "binary fields are hex strings"))
            }
            _ => Ok(s.as_bytes().to_vec()),
        },
        Value::Number(n) if fs.ty == FieldType::N => Ok(n.to_string().into_bytes()),
        Value::Object(obj) if fs.composite.is_some() => {
            let mut parts = Vec::new();
            for (k, v) in obj {
                let key = parse_key(fs, k)
                    .ok_or_else(|| jerr(&format!("{}.{k}", fs.path), "no such subfield"))?;
                let items: Vec<&Value> = match v {
                    Value::Array(a) => a.iter().collect(),
                    one => vec![one],
                };
                for item in items {
                    let value = match sub_spec(fs, &key) {
                        Some(sf) => value_bytes(sf, item)?,
                        None => match item {
                            Value::String(s) => hex::decode(s).map_err(|_| {
                                jerr(&format!("{}.{k}", fs.path), "TLV values are hex strings")
                            })?,
                            _ => {
                                return Err(jerr(
                                    &format!("{}.{k}", fs.path),
                                    "TLV values are hex strings",
                                ))
                            }
                        },
                    };
                    parts.push(Part {
                        key: key.clone(),
                        value,
                        known: true,
                    });
                }
            }
            join(fs, &parts)
        }
        _ => Err(jerr(
            &fs.path,
            "expected a string (or an object for a composite field)",
        )),
    }
}

impl Message {
    /// The JSON view; `masked` hides sensitive fields and TLV tags.
    pub fn to_json(&self, masked: bool) -> Value {
        let mut obj = Map::new();
        obj.insert("mti".into(), Value::String(self.mti().to_string()));
        for n in self.numbers() {
            if let (Some(fs), Some(v)) = (self.field_spec(n), self.get(n)) {
                obj.insert(n.to_string(), field_json(fs, v, masked));
            }
        }
        Value::Object(obj)
    }

    /// Build a message from its JSON view (see the module doc).
    pub fn from_json(spec: &Arc<Spec>, json: &Value) -> Result<Message, CodecError> {
        let obj = json.as_object().ok_or_else(|| {
            CodecError::at(
                Location::Message,
                0,
                ErrorKind::Invalid("expected a JSON object"),
            )
        })?;
        let mti = obj.get("mti").and_then(Value::as_str).ok_or_else(|| {
            CodecError::at(Location::Mti, 0, ErrorKind::Invalid("\"mti\" is missing"))
        })?;
        let mut m = Message::new(spec, mti)?;
        for (k, v) in obj {
            if k == "mti" {
                continue;
            }
            let n: u16 = k
                .parse()
                .map_err(|_| jerr(k, "keys are \"mti\" or field numbers"))?;
            let fs = spec
                .field(n)
                .ok_or_else(|| CodecError::field(k.clone(), 0, ErrorKind::UndefinedField))?;
            let bytes = value_bytes(fs, v)?;
            m.set(n, bytes)?;
        }
        Ok(m)
    }

    /// Map to a Rust struct whose fields are named (or `#[serde(rename)]`d) "mti", "2", ...
    pub fn to_struct<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_value(self.to_json(false))
    }

    /// Build from a Rust struct serialized the same way as [`Message::to_struct`] reads.
    pub fn from_struct<T: Serialize>(spec: &Arc<Spec>, value: &T) -> Result<Message, CodecError> {
        let v = serde_json::to_value(value).map_err(|_| {
            CodecError::at(
                Location::Message,
                0,
                ErrorKind::Invalid("value does not serialize to JSON"),
            )
        })?;
        let v = match v {
            Value::Object(o) => {
                Value::Object(o.into_iter().filter(|(_, v)| !v.is_null()).collect())
            }
            other => other,
        };
        Message::from_json(spec, &v)
    }
}
