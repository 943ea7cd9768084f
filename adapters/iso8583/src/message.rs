//! A message: MTI plus fields, each held as its logical value in one arena buffer.
//!
//! Values are checked when they enter (by `set` or by decoding), so a `Message` is always
//! encodable and encoding only writes. Decoding and encoding reuse the arena and the output
//! buffer, so a message decoded or encoded in a loop allocates nothing per field.

use std::fmt;
use std::sync::Arc;

use crate::error::{CodecError, ErrorKind, Location};
use crate::field;
use crate::spec::{Encoding, FieldSpec, FieldType, Mask, Spec, FIELDS_MAX};

#[derive(Clone, Copy, Default)]
struct Span {
    start: u32,
    len: u32,
}

/// An ISO 8583 message bound to its spec.
#[derive(Clone)]
pub struct Message {
    spec: Arc<Spec>,
    mti: [u8; 4],
    /// Field n is bit (63 - (n-1) % 64) of word (n-1) / 64, i.e. the wire bitmap layout.
    present: [u64; 3],
    spans: [Span; FIELDS_MAX + 1],
    data: Vec<u8>,
}

#[inline]
fn bit(n: usize) -> (usize, u64) {
    ((n - 1) / 64, 1u64 << (63 - (n - 1) % 64))
}

fn parse_mti(mti: &[u8]) -> Result<[u8; 4], CodecError> {
    match mti {
        [a, b, c, d] if mti.iter().all(u8::is_ascii_digit) => Ok([*a, *b, *c, *d]),
        _ => Err(CodecError::at(Location::Mti, 0, ErrorKind::BadMti)),
    }
}

impl Message {
    /// An empty message of the given MTI ("0200").
    pub fn new(spec: &Arc<Spec>, mti: &str) -> Result<Message, CodecError> {
        Ok(Message {
            spec: spec.clone(),
            mti: parse_mti(mti.as_bytes())?,
            present: [0; 3],
            spans: [Span::default(); FIELDS_MAX + 1],
            data: Vec::with_capacity(256),
        })
    }

    /// Decode one message (without any length header or TPDU).
    pub fn decode(spec: &Arc<Spec>, bytes: &[u8]) -> Result<Message, CodecError> {
        let mut m = Message {
            spec: spec.clone(),
            mti: [b'0'; 4],
            present: [0; 3],
            spans: [Span::default(); FIELDS_MAX + 1],
            data: Vec::new(),
        };
        m.decode_from(bytes)?;
        Ok(m)
    }

    pub fn spec(&self) -> &Arc<Spec> {
        &self.spec
    }

    pub fn mti(&self) -> &str {
        // Always four ASCII digits (checked on entry).
        std::str::from_utf8(&self.mti).unwrap_or("????")
    }

    pub fn mti_bytes(&self) -> [u8; 4] {
        self.mti
    }

    pub fn set_mti(&mut self, mti: &str) -> Result<&mut Self, CodecError> {
        self.mti = parse_mti(mti.as_bytes())?;
        Ok(self)
    }

    pub fn has(&self, n: u16) -> bool {
        let n = n as usize;
        if n == 0 || n > FIELDS_MAX {
            return false;
        }
        let (w, b) = bit(n);
        self.present[w] & b != 0
    }

    /// Field numbers present, ascending.
    pub fn numbers(&self) -> impl Iterator<Item = u16> + '_ {
        (1..=FIELDS_MAX as u16).filter(|n| self.has(*n))
    }

    /// The logical value: ASCII text for text types, raw bytes for `b`.
    pub fn get(&self, n: u16) -> Option<&[u8]> {
        if !self.has(n) {
            return None;
        }
        let s = self.spans[n as usize];
        self.data.get(s.start as usize..(s.start + s.len) as usize)
    }

    /// The value as text; `None` when absent or not text (a `b` field with non-UTF-8 bytes).
    pub fn get_str(&self, n: u16) -> Option<&str> {
        self.get(n).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// A numeric field as an integer (`None` when absent, not digits, or above u64).
    pub fn get_u64(&self, n: u16) -> Option<u64> {
        let v = self.get(n)?;
        if v.is_empty() || v.len() > 19 || !v.iter().all(u8::is_ascii_digit) {
            return None;
        }
        Some(v.iter().fold(0u64, |a, d| a * 10 + (d - b'0') as u64))
    }

    /// Set a field. Checks the field exists in the spec, its length and characters; pads a
    /// short fixed numeric (zeros, left) or text (spaces, right) field.
    pub fn set(&mut self, n: u16, value: impl AsRef<[u8]>) -> Result<&mut Self, CodecError> {
        let value = value.as_ref();
        let spec = self.spec.clone();
        let fs = spec
            .field(n)
            .ok_or_else(|| CodecError::field(n.to_string(), 0, ErrorKind::UndefinedField))?;
        let padded =
            field::normalize(fs, value).map_err(|k| CodecError::field(fs.path.clone(), 0, k))?;
        self.put(n as usize, padded.as_deref().unwrap_or(value));
        Ok(self)
    }

    fn put(&mut self, n: usize, value: &[u8]) {
        let (w, b) = bit(n);
        let old = self.spans[n];
        if self.present[w] & b != 0 && value.len() <= old.len as usize {
            // Overwrite in place, so that setting a field again does not grow the arena.
            let at = old.start as usize;
            self.data[at..at + value.len()].copy_from_slice(value);
            self.spans[n].len = value.len() as u32;
            return;
        }
        let start = self.data.len() as u32;
        self.data.extend_from_slice(value);
        self.spans[n] = Span {
            start,
            len: value.len() as u32,
        };
        self.present[w] |= b;
    }

    pub fn remove(&mut self, n: u16) -> &mut Self {
        let n = n as usize;
        if (1..=FIELDS_MAX).contains(&n) {
            let (w, b) = bit(n);
            self.present[w] &= !b;
        }
        self
    }

    /// Encode into a new buffer.
    pub fn encode(&self) -> Result<Vec<u8>, CodecError> {
        let mut out = Vec::with_capacity(self.data.len() + 64);
        self.encode_into(&mut out)?;
        Ok(out)
    }

    /// Append the encoded message to `out` (reuse `out` across calls to avoid allocating).
    pub fn encode_into(&self, out: &mut Vec<u8>) -> Result<(), CodecError> {
        let spec = &*self.spec;
        let base = out.len();
        match spec.mti_encoding {
            Encoding::Bcd => {
                let d = |i: usize| self.mti[i] - b'0';
                out.push((d(0) << 4) | d(1));
                out.push((d(2) << 4) | d(3));
            }
            Encoding::Ebcdic => out.extend(self.mti.iter().map(|c| c - b'0' + 0xF0)),
            _ => out.extend_from_slice(&self.mti),
        }
        let mut words = self.present;
        // Fields 1 and 65 are bitmap indicators: derive them, never trust a stored bit.
        words[0] &= !(1u64 << 63);
        let tertiary = spec.bitmaps_max == 3;
        if tertiary {
            words[1] &= !(1u64 << 63);
        }
        let count = if words[2] != 0 {
            3
        } else if words[1] != 0 {
            2
        } else {
            1
        };
        if count > spec.bitmaps_max as usize {
            return Err(CodecError::at(
                Location::Bitmap,
                out.len() - base,
                ErrorKind::UndefinedField,
            ));
        }
        if count >= 2 {
            words[0] |= 1u64 << 63;
        }
        if count == 3 {
            words[1] |= 1u64 << 63;
        }
        for w in &words[..count] {
            let bytes = w.to_be_bytes();
            match spec.bitmap_encoding {
                Encoding::Hex => {
                    for b in bytes {
                        out.push(b"0123456789ABCDEF"[(b >> 4) as usize]);
                        out.push(b"0123456789ABCDEF"[(b & 0xF) as usize]);
                    }
                }
                _ => out.extend_from_slice(&bytes),
            }
        }
        for (wi, &word) in self.present.iter().enumerate() {
            let mut w = word;
            while w != 0 {
                let lz = w.leading_zeros() as usize;
                w &= !(1u64 << (63 - lz));
                let n = wi * 64 + lz + 1;
                if spec.is_bitmap_field(n as u16) {
                    continue;
                }
                let Some(fs) = spec.fields.get(n).and_then(|f| f.as_ref()) else {
                    continue;
                };
                let s = self.spans[n];
                let value = &self.data[s.start as usize..(s.start + s.len) as usize];
                field::encode_valid(fs, value, out);
            }
        }
        let len = out.len() - base;
        if len > spec.message_bytes_max {
            out.truncate(base);
            return Err(CodecError::at(
                Location::Message,
                0,
                ErrorKind::MessageTooLong {
                    len,
                    max: spec.message_bytes_max,
                },
            ));
        }
        Ok(())
    }

    /// Decode into this message, replacing its content and reusing its buffers.
    pub fn decode_from(&mut self, bytes: &[u8]) -> Result<(), CodecError> {
        // Borrow the spec field by field: no Arc clone on the hot path.
        let spec: &Spec = &self.spec;
        if bytes.len() > spec.message_bytes_max {
            return Err(CodecError::at(
                Location::Message,
                0,
                ErrorKind::MessageTooLong {
                    len: bytes.len(),
                    max: spec.message_bytes_max,
                },
            ));
        }
        self.present = [0; 3];
        self.data.clear();
        self.data.reserve(bytes.len() * 2);
        let mut pos = 0usize;
        let mti_err = |pos: usize, k: ErrorKind| CodecError::at(Location::Mti, pos, k);
        match spec.mti_encoding {
            Encoding::Bcd => {
                let b = field::take(bytes, &mut pos, 2).map_err(|k| mti_err(0, k))?;
                let digits = [b[0] >> 4, b[0] & 0xF, b[1] >> 4, b[1] & 0xF];
                if digits.iter().any(|d| *d > 9) {
                    return Err(mti_err(0, ErrorKind::BadMti));
                }
                self.mti = digits.map(|d| d + b'0');
            }
            Encoding::Ebcdic => {
                let b = field::take(bytes, &mut pos, 4).map_err(|k| mti_err(0, k))?;
                let mut m = [0u8; 4];
                for (i, c) in b.iter().enumerate() {
                    m[i] = c.wrapping_sub(0xF0).wrapping_add(b'0');
                }
                self.mti = parse_mti(&m)?;
            }
            _ => {
                let b = field::take(bytes, &mut pos, 4).map_err(|k| mti_err(0, k))?;
                self.mti = parse_mti(b)?;
            }
        }
        let mut words = [0u64; 3];
        let mut count = 1;
        let mut i = 0;
        while i < count {
            let at = pos;
            let berr = |k| CodecError::at(Location::Bitmap, at, k);
            words[i] = match spec.bitmap_encoding {
                Encoding::Hex => {
                    let b = field::take(bytes, &mut pos, 16).map_err(berr)?;
                    let mut w = 0u64;
                    for &c in b {
                        let d = match c {
                            b'0'..=b'9' => c - b'0',
                            b'A'..=b'F' => c - b'A' + 10,
                            b'a'..=b'f' => c - b'a' + 10,
                            _ => return Err(berr(ErrorKind::BadBitmap)),
                        };
                        w = (w << 4) | d as u64;
                    }
                    w
                }
                _ => {
                    let b = field::take(bytes, &mut pos, 8).map_err(berr)?;
                    let mut a = [0u8; 8];
                    a.copy_from_slice(b);
                    u64::from_be_bytes(a)
                }
            };
            let continues = words[i] & (1u64 << 63) != 0;
            let may_continue = i == 0 || (i == 1 && spec.bitmaps_max == 3);
            if continues && may_continue {
                if count as u8 >= spec.bitmaps_max {
                    return Err(berr(ErrorKind::UndefinedField));
                }
                count += 1;
            }
            i += 1;
        }
        for (wi, &word) in words.iter().enumerate().take(count) {
            let mut w = word;
            while w != 0 {
                let lz = w.leading_zeros() as usize;
                w &= !(1u64 << (63 - lz));
                let n = wi * 64 + lz + 1;
                if spec.is_bitmap_field(n as u16) {
                    continue;
                }
                let at = pos;
                let Some(fs) = spec.fields.get(n).and_then(|f| f.as_ref()) else {
                    return Err(CodecError::field(
                        n.to_string(),
                        at,
                        ErrorKind::UndefinedField,
                    ));
                };
                let start = self.data.len();
                field::decode(fs, bytes, &mut pos, &mut self.data)
                    .map_err(|k| CodecError::field(fs.path.clone(), at, k))?;
                self.spans[n] = Span {
                    start: start as u32,
                    len: (self.data.len() - start) as u32,
                };
                let (pw, pb) = bit(n);
                self.present[pw] |= pb;
            }
        }
        if pos != bytes.len() {
            return Err(CodecError::at(
                Location::Message,
                pos,
                ErrorKind::TrailingBytes {
                    count: bytes.len() - pos,
                },
            ));
        }
        Ok(())
    }

    pub(crate) fn field_spec(&self, n: u16) -> Option<&FieldSpec> {
        self.spec.field(n)
    }
}

/// Render a value for people: masked when the spec says so, hex for binary fields.
pub(crate) fn render(fs: &FieldSpec, value: &[u8]) -> String {
    let text = if fs.ty == FieldType::B {
        hex::encode_upper(value)
    } else {
        String::from_utf8_lossy(value).into_owned()
    };
    mask_text(fs.mask, &text)
}

pub(crate) fn mask_text(mask: Mask, text: &str) -> String {
    let n = text.chars().count();
    match mask {
        Mask::None => text.to_string(),
        Mask::Full => format!("<masked {n}>"),
        Mask::Pan if n >= 13 => {
            let head: String = text.chars().take(6).collect();
            let tail: String = text.chars().skip(n - 4).collect();
            format!("{head}{}{tail}", "*".repeat(n - 10))
        }
        Mask::Last4 if n > 4 => {
            let tail: String = text.chars().skip(n - 4).collect();
            format!("{}{tail}", "*".repeat(n - 4))
        }
        _ => "*".repeat(n),
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        m.entry(&"mti", &self.mti());
        for n in self.numbers() {
            if let (Some(fs), Some(v)) = (self.field_spec(n), self.get(n)) {
                m.entry(&n, &render(fs, v));
            }
        }
        m.finish()
    }
}

impl PartialEq for Message {
    fn eq(&self, other: &Self) -> bool {
        self.mti == other.mti
            && self.present == other.present
            && self.numbers().all(|n| self.get(n) == other.get(n))
    }
}
impl Eq for Message {}
