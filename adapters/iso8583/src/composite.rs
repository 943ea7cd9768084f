//! Composite fields: positional subfields, BER-TLV (EMV field 55) and bitmap subfields.
//!
//! A composite is stored whole in its message; it is split into parts only when a path such
//! as "48.2" or "55.9F26" is read or written, so the hot path never pays for it.

use std::fmt;

use crate::error::{CodecError, ErrorKind};
use crate::field;
use crate::message::Message;
use crate::spec::{Composite, Encoding, FieldSpec};

/// Bound on the parts of one composite, so a hostile TLV cannot make a huge list.
const PARTS_MAX: usize = 512;

/// The key of a part: a subfield number, or a TLV tag in upper-case hex.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SubKey {
    Index(u16),
    Tag(String),
}

impl fmt::Display for SubKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubKey::Index(i) => write!(f, "{i}"),
            SubKey::Tag(t) => f.write_str(t),
        }
    }
}

/// One part of a composite field, with its logical value. `known` is false for a TLV tag
/// the spec does not list (such tags are kept, never dropped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    pub key: SubKey,
    pub value: Vec<u8>,
    pub known: bool,
}

fn perr(path: &str, offset: usize, kind: ErrorKind) -> CodecError {
    CodecError::field(path.to_string(), offset, kind)
}

/// Split a composite field's logical value into its parts, in wire order.
pub fn split(fs: &FieldSpec, data: &[u8]) -> Result<Vec<Part>, CodecError> {
    let Some(c) = &fs.composite else {
        return Err(perr(&fs.path, 0, ErrorKind::BadPath));
    };
    let mut parts = Vec::new();
    let mut pos = 0usize;
    match c {
        Composite::Positional(subs) => {
            for (i, sf) in subs.iter().enumerate() {
                if pos == data.len() {
                    break;
                }
                let at = pos;
                let mut v = Vec::new();
                field::decode(sf, data, &mut pos, &mut v).map_err(|k| perr(&sf.path, at, k))?;
                parts.push(Part {
                    key: SubKey::Index(i as u16 + 1),
                    value: v,
                    known: true,
                });
            }
        }
        Composite::Bitmap {
            bitmap_bytes,
            bitmap_encoding,
            subfields,
        } => {
            let bitmap =
                read_sub_bitmap(fs, data, &mut pos, *bitmap_bytes as usize, *bitmap_encoding)?;
            for (i, sf) in subfields.iter().enumerate() {
                if bitmap[i / 8] & (0x80 >> (i % 8)) == 0 {
                    continue;
                }
                let Some(sf) = sf else {
                    return Err(perr(
                        &format!("{}.{}", fs.path, i + 1),
                        pos,
                        ErrorKind::UndefinedField,
                    ));
                };
                let at = pos;
                let mut v = Vec::new();
                field::decode(sf, data, &mut pos, &mut v).map_err(|k| perr(&sf.path, at, k))?;
                parts.push(Part {
                    key: SubKey::Index(i as u16 + 1),
                    value: v,
                    known: true,
                });
            }
        }
        Composite::Tlv(tags) => {
            while pos < data.len() {
                if parts.len() >= PARTS_MAX {
                    return Err(perr(
                        &fs.path,
                        pos,
                        ErrorKind::TooLong {
                            len: parts.len(),
                            max: PARTS_MAX,
                        },
                    ));
                }
                let at = pos;
                let (tag, value) = read_tlv(data, &mut pos).map_err(|k| perr(&fs.path, at, k))?;
                let known = tags.contains_key(&tag);
                parts.push(Part {
                    key: SubKey::Tag(tag),
                    value: value.to_vec(),
                    known,
                });
            }
        }
    }
    if pos != data.len() {
        return Err(perr(
            &fs.path,
            pos,
            ErrorKind::TrailingBytes {
                count: data.len() - pos,
            },
        ));
    }
    Ok(parts)
}

fn read_sub_bitmap(
    fs: &FieldSpec,
    data: &[u8],
    pos: &mut usize,
    bytes: usize,
    enc: Encoding,
) -> Result<Vec<u8>, CodecError> {
    let at = *pos;
    match enc {
        Encoding::Hex => {
            let h = field::take(data, pos, bytes * 2).map_err(|k| perr(&fs.path, at, k))?;
            hex::decode(h).map_err(|_| perr(&fs.path, at, ErrorKind::BadBitmap))
        }
        _ => Ok(field::take(data, pos, bytes)
            .map_err(|k| perr(&fs.path, at, k))?
            .to_vec()),
    }
}

/// One BER-TLV element: tag (1..=4 bytes), length (short form, or 0x81..=0x83 long form).
fn read_tlv<'a>(data: &'a [u8], pos: &mut usize) -> Result<(String, &'a [u8]), ErrorKind> {
    let start = *pos;
    let first = field::take(data, pos, 1)?[0];
    if first & 0x1F == 0x1F {
        loop {
            let b = field::take(data, pos, 1)?[0];
            if *pos - start > 4 {
                return Err(ErrorKind::Invalid("TLV tag longer than 4 bytes"));
            }
            if b & 0x80 == 0 {
                break;
            }
        }
    }
    let tag = hex::encode_upper(&data[start..*pos]);
    let l0 = field::take(data, pos, 1)?[0];
    let len = if l0 < 0x80 {
        l0 as usize
    } else {
        let n = (l0 & 0x7F) as usize;
        if n == 0 || n > 3 {
            return Err(ErrorKind::BadLengthPrefix);
        }
        field::take(data, pos, n)?
            .iter()
            .fold(0usize, |a, b| (a << 8) | *b as usize)
    };
    let value = field::take(data, pos, len)?;
    Ok((tag, value))
}

fn write_tlv(tag: &str, value: &[u8], out: &mut Vec<u8>) -> Result<(), ErrorKind> {
    let t = hex::decode(tag).map_err(|_| ErrorKind::Invalid("TLV tag is not hex"))?;
    if t.is_empty() || t.len() > 4 {
        return Err(ErrorKind::Invalid("TLV tag is 1 to 4 bytes"));
    }
    out.extend_from_slice(&t);
    let n = value.len();
    match n {
        0..=0x7F => out.push(n as u8),
        0x80..=0xFF => out.extend_from_slice(&[0x81, n as u8]),
        0x100..=0xFFFF => out.extend_from_slice(&[0x82, (n >> 8) as u8, n as u8]),
        0x1_0000..=0xFF_FFFF => {
            out.extend_from_slice(&[0x83, (n >> 16) as u8, (n >> 8) as u8, n as u8])
        }
        _ => {
            return Err(ErrorKind::TooLong {
                len: n,
                max: 0xFF_FFFF,
            })
        }
    }
    out.extend_from_slice(value);
    Ok(())
}

/// The spec of a positional or bitmap subfield.
pub(crate) fn sub_spec<'a>(fs: &'a FieldSpec, key: &SubKey) -> Option<&'a FieldSpec> {
    match (&fs.composite, key) {
        (Some(Composite::Positional(s)), SubKey::Index(i)) => s.get((*i as usize).checked_sub(1)?),
        (Some(Composite::Bitmap { subfields, .. }), SubKey::Index(i)) => {
            subfields.get((*i as usize).checked_sub(1)?)?.as_ref()
        }
        _ => None,
    }
}

/// Parse one path segment against a composite: a number, or a hex tag for TLV.
pub(crate) fn parse_key(fs: &FieldSpec, seg: &str) -> Option<SubKey> {
    match &fs.composite {
        Some(Composite::Tlv(_)) => {
            let t = seg.to_ascii_uppercase();
            (t.len() % 2 == 0
                && (2..=8).contains(&t.len())
                && t.bytes().all(|c| c.is_ascii_hexdigit()))
            .then_some(SubKey::Tag(t))
        }
        Some(_) => seg.parse().ok().map(SubKey::Index),
        None => None,
    }
}

/// Join parts into a composite's logical value, checking each against its subfield spec.
pub fn join(fs: &FieldSpec, parts: &[Part]) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    match &fs.composite {
        None => return Err(perr(&fs.path, 0, ErrorKind::BadPath)),
        Some(Composite::Tlv(_)) => {
            for p in parts {
                let SubKey::Tag(t) = &p.key else {
                    return Err(perr(&fs.path, out.len(), ErrorKind::BadPath));
                };
                write_tlv(t, &p.value, &mut out)
                    .map_err(|k| perr(&format!("{}.{t}", fs.path), 0, k))?;
            }
        }
        Some(Composite::Positional(subs)) => {
            let last = parts
                .iter()
                .filter_map(|p| {
                    if let SubKey::Index(i) = p.key {
                        Some(i)
                    } else {
                        None
                    }
                })
                .max()
                .unwrap_or(0);
            for (i, sf) in subs.iter().enumerate().take(last as usize) {
                let key = SubKey::Index(i as u16 + 1);
                let value = parts
                    .iter()
                    .find(|p| p.key == key)
                    .map(|p| p.value.as_slice())
                    .unwrap_or(&[]);
                put_sub(sf, value, &mut out)?;
            }
            if parts
                .iter()
                .any(|p| !matches!(p.key, SubKey::Index(i) if (1..=subs.len() as u16).contains(&i)))
            {
                return Err(perr(&fs.path, 0, ErrorKind::BadPath));
            }
        }
        Some(Composite::Bitmap {
            bitmap_bytes,
            bitmap_encoding,
            subfields,
        }) => {
            let mut bitmap = vec![0u8; *bitmap_bytes as usize];
            let mut body = Vec::new();
            for (i, sf) in subfields.iter().enumerate() {
                let key = SubKey::Index(i as u16 + 1);
                let Some(p) = parts.iter().find(|p| p.key == key) else {
                    continue;
                };
                let Some(sf) = sf else {
                    return Err(perr(
                        &format!("{}.{}", fs.path, i + 1),
                        0,
                        ErrorKind::UndefinedField,
                    ));
                };
                bitmap[i / 8] |= 0x80 >> (i % 8);
                put_sub(sf, &p.value, &mut body)?;
            }
            if parts.iter().any(|p| sub_spec(fs, &p.key).is_none()) {
                return Err(perr(&fs.path, 0, ErrorKind::BadPath));
            }
            match bitmap_encoding {
                Encoding::Hex => out.extend_from_slice(hex::encode_upper(&bitmap).as_bytes()),
                _ => out.extend_from_slice(&bitmap),
            }
            out.extend_from_slice(&body);
        }
    }
    Ok(out)
}

fn put_sub(sf: &FieldSpec, value: &[u8], out: &mut Vec<u8>) -> Result<(), CodecError> {
    let padded = field::normalize(sf, value).map_err(|k| perr(&sf.path, 0, k))?;
    field::encode_valid(sf, padded.as_deref().unwrap_or(value), out);
    Ok(())
}

impl Message {
    /// The parts of a composite field (`None` when the field is absent).
    pub fn parts(&self, n: u16) -> Result<Option<Vec<Part>>, CodecError> {
        let fs = self
            .field_spec(n)
            .ok_or_else(|| perr(&n.to_string(), 0, ErrorKind::BadPath))?;
        match self.get(n) {
            None => Ok(None),
            Some(v) => split(fs, v).map(Some),
        }
    }

    /// Every value at a path: one for a field or subfield, all repeats for a TLV tag.
    pub fn get_path_all(&self, path: &str) -> Result<Vec<Vec<u8>>, CodecError> {
        let bad = || perr(path, 0, ErrorKind::BadPath);
        let mut segs = path.split('.');
        let n: u16 = segs.next().and_then(|s| s.parse().ok()).ok_or_else(bad)?;
        let mut fs = self.field_spec(n).ok_or_else(bad)?;
        let Some(v) = self.get(n) else {
            return Ok(Vec::new());
        };
        let mut values = vec![v.to_vec()];
        let rest: Vec<&str> = segs.collect();
        for (i, seg) in rest.iter().enumerate() {
            let key = parse_key(fs, seg).ok_or_else(bad)?;
            let mut next = Vec::new();
            for v in &values {
                next.extend(
                    split(fs, v)?
                        .into_iter()
                        .filter(|p| p.key == key)
                        .map(|p| p.value),
                );
            }
            values = next;
            match sub_spec(fs, &key) {
                Some(s) => fs = s,
                // A TLV value has no inner spec: nothing may follow it in the path.
                None if i + 1 == rest.len() && matches!(key, SubKey::Tag(_)) => return Ok(values),
                None => return Err(bad()),
            }
        }
        Ok(values)
    }

    /// The value at a path ("3", "48.2", "55.9F26"); the first one for a repeated TLV tag.
    pub fn get_path(&self, path: &str) -> Result<Option<Vec<u8>>, CodecError> {
        Ok(self.get_path_all(path)?.into_iter().next())
    }

    /// The value at a path as text (`None` when absent or not UTF-8).
    pub fn get_path_str(&self, path: &str) -> Result<Option<String>, CodecError> {
        Ok(self.get_path(path)?.and_then(|v| String::from_utf8(v).ok()))
    }

    /// Set the value at a path; a composite is rebuilt around the new part.
    pub fn set_path(
        &mut self,
        path: &str,
        value: impl AsRef<[u8]>,
    ) -> Result<&mut Self, CodecError> {
        let bad = || perr(path, 0, ErrorKind::BadPath);
        let segs: Vec<&str> = path.split('.').collect();
        let n: u16 = segs[0].parse().map_err(|_| bad())?;
        if segs.len() == 1 {
            return self.set(n, value);
        }
        let spec = self.spec().clone();
        let fs = spec.field(n).ok_or_else(bad)?;
        let current = self.get(n).map(|v| v.to_vec()).unwrap_or_default();
        let rebuilt = set_in(fs, &current, &segs[1..], value.as_ref(), path)?;
        self.set(n, rebuilt)
    }
}

fn set_in(
    fs: &FieldSpec,
    current: &[u8],
    segs: &[&str],
    value: &[u8],
    path: &str,
) -> Result<Vec<u8>, CodecError> {
    let bad = || perr(path, 0, ErrorKind::BadPath);
    let key = parse_key(fs, segs[0]).ok_or_else(bad)?;
    let mut parts = if current.is_empty() {
        Vec::new()
    } else {
        split(fs, current)?
    };
    let inner = match sub_spec(fs, &key) {
        Some(sf) if segs.len() > 1 => {
            let old = parts
                .iter()
                .find(|p| p.key == key)
                .map(|p| p.value.clone())
                .unwrap_or_default();
            set_in(sf, &old, &segs[1..], value, path)?
        }
        None if segs.len() > 1 => return Err(bad()),
        _ => value.to_vec(),
    };
    match parts.iter_mut().find(|p| p.key == key) {
        Some(p) => p.value = inner,
        None => parts.push(Part {
            key,
            value: inner,
            known: true,
        }),
    }
    join(fs, &parts)
}
