//! One field on the wire: length prefix, then data, in the field's encoding. Values handed in
//! and out are *logical*: ASCII text for n/a/an/ans/z/x+n, raw bytes for b. Every read is
//! bounded by the input slice and by the field's maximum length.

use crate::ebcdic::{ASCII_TO_EBCDIC, EBCDIC_TO_ASCII};
use crate::error::ErrorKind;
use crate::spec::{
    wire_len, Encoding, FieldSpec, FieldType, LengthUnit, PadSide, Prefix, PrefixEncoding,
};

const DIGIT: u8 = 1;
const ALPHA: u8 = 2;
const SPACE: u8 = 4;
const PRINT: u8 = 8;
const TRACK2: u8 = 16;

/// Character classes of every byte, so a charset check is one table load per byte.
static CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0x20;
    while i < 0x7F {
        t[i] = PRINT;
        i += 1;
    }
    let mut d = b'0';
    while d <= b'9' {
        t[d as usize] |= DIGIT | TRACK2;
        d += 1;
    }
    let mut a = b'A';
    while a <= b'Z' {
        t[a as usize] |= ALPHA;
        t[(a + 32) as usize] |= ALPHA;
        a += 1;
    }
    t[b' ' as usize] |= SPACE;
    t[b'=' as usize] |= TRACK2;
    t[b'D' as usize] |= TRACK2;
    t
};

fn class_mask(ty: FieldType) -> u8 {
    match ty {
        FieldType::N | FieldType::XN => DIGIT,
        FieldType::A => ALPHA | SPACE,
        FieldType::An => ALPHA | DIGIT | SPACE,
        FieldType::Ans => PRINT,
        FieldType::Z => TRACK2,
        FieldType::B => 0,
    }
}

/// Check a logical value's characters; returns the position of the first bad one.
#[inline]
pub(crate) fn check_chars(ty: FieldType, value: &[u8]) -> Result<(), ErrorKind> {
    if ty == FieldType::B {
        return Ok(());
    }
    let (body, offset) = if ty == FieldType::XN {
        match value.first() {
            Some(b'C') | Some(b'D') => (&value[1..], 1),
            Some(_) => return Err(ErrorKind::BadChar { position: 0 }),
            None => return Err(ErrorKind::BadChar { position: 0 }),
        }
    } else {
        (value, 0)
    };
    // Digits and printable ASCII are checked with range tests, which vectorize; the other
    // classes use the table. The position is only looked for once a bad byte is known.
    let ok = match ty {
        FieldType::N | FieldType::XN => body
            .iter()
            .fold(true, |a, &b| a & (b.wrapping_sub(b'0') < 10)),
        FieldType::Ans => body
            .iter()
            .fold(true, |a, &b| a & (b.wrapping_sub(0x20) < 0x5F)),
        _ => {
            let mask = class_mask(ty);
            body.iter().all(|&b| CLASS[b as usize] & mask != 0)
        }
    };
    if ok {
        return Ok(());
    }
    let mask = class_mask(ty);
    match body.iter().position(|&b| CLASS[b as usize] & mask == 0) {
        None => Ok(()),
        Some(p) => Err(ErrorKind::BadChar {
            position: p + offset,
        }),
    }
}

/// Validate a logical value for a field and, for a short fixed field, pad it.
/// Returns `None` when the value is usable as is.
pub(crate) fn normalize(fs: &FieldSpec, value: &[u8]) -> Result<Option<Vec<u8>>, ErrorKind> {
    let max = fs.len as usize;
    if value.len() > max {
        return Err(ErrorKind::TooLong {
            len: value.len(),
            max,
        });
    }
    check_chars(fs.ty, value)?;
    if fs.is_fixed() && value.len() < max {
        let missing = max - value.len();
        let mut v = Vec::with_capacity(max);
        match fs.ty {
            FieldType::N => {
                v.resize(missing, b'0');
                v.extend_from_slice(value);
            }
            FieldType::A | FieldType::An | FieldType::Ans => {
                v.extend_from_slice(value);
                v.resize(max, b' ');
            }
            _ => {
                return Err(ErrorKind::FixedLength {
                    len: value.len(),
                    expected: max,
                })
            }
        }
        return Ok(Some(v));
    }
    if fs.ty == FieldType::XN && value.len() < 2 {
        return Err(ErrorKind::BadChar {
            position: value.len(),
        });
    }
    Ok(None)
}

#[inline]
fn nibble_of(ty: FieldType, c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'=' | b'D' if ty == FieldType::Z => 0xD,
        // Unreachable for validated values; a zero keeps encoding total.
        _ => 0,
    }
}

#[inline]
fn char_of(ty: FieldType, nibble: u8) -> Option<u8> {
    match nibble {
        0..=9 => Some(b'0' + nibble),
        0xD if ty == FieldType::Z => Some(b'='),
        _ => None,
    }
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

#[inline]
fn unhex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

pub(crate) fn write_prefix(prefix: &Prefix, value: usize, out: &mut Vec<u8>) {
    let digits = prefix.digits as usize;
    match prefix.encoding {
        PrefixEncoding::Ascii | PrefixEncoding::Ebcdic => {
            let base = if prefix.encoding == PrefixEncoding::Ascii {
                b'0'
            } else {
                0xF0
            };
            let mut buf = [0u8; 6];
            let mut v = value;
            for i in (0..digits).rev() {
                buf[i] = base + (v % 10) as u8;
                v /= 10;
            }
            out.extend_from_slice(&buf[..digits]);
        }
        PrefixEncoding::Bcd => {
            let bytes = prefix.wire_bytes();
            let mut buf = [0u8; 3];
            let mut v = value;
            for i in (0..bytes).rev() {
                buf[i] = ((v % 10) as u8) | (((v / 10 % 10) as u8) << 4);
                v /= 100;
            }
            out.extend_from_slice(&buf[..bytes]);
        }
        PrefixEncoding::Binary => {
            let bytes = prefix.wire_bytes();
            let be = (value as u64).to_be_bytes();
            out.extend_from_slice(&be[8 - bytes..]);
        }
    }
}

pub(crate) fn read_prefix(
    prefix: &Prefix,
    input: &[u8],
    pos: &mut usize,
) -> Result<usize, ErrorKind> {
    let n = prefix.wire_bytes();
    let bytes = take(input, pos, n)?;
    let mut v: usize = 0;
    match prefix.encoding {
        PrefixEncoding::Ascii | PrefixEncoding::Ebcdic => {
            let base = if prefix.encoding == PrefixEncoding::Ascii {
                b'0'
            } else {
                0xF0
            };
            for &b in bytes {
                let d = b.wrapping_sub(base);
                if d > 9 {
                    return Err(ErrorKind::BadLengthPrefix);
                }
                v = v * 10 + d as usize;
            }
        }
        PrefixEncoding::Bcd => {
            for &b in bytes {
                let (hi, lo) = (b >> 4, b & 0xF);
                if hi > 9 || lo > 9 {
                    return Err(ErrorKind::BadLengthPrefix);
                }
                v = v * 100 + (hi * 10 + lo) as usize;
            }
        }
        PrefixEncoding::Binary => {
            for &b in bytes {
                v = (v << 8) | b as usize;
            }
        }
    }
    Ok(v)
}

#[inline]
pub(crate) fn take<'a>(input: &'a [u8], pos: &mut usize, n: usize) -> Result<&'a [u8], ErrorKind> {
    let start = *pos;
    let end = start.checked_add(n).ok_or(ErrorKind::Truncated {
        needed: n,
        available: 0,
    })?;
    match input.get(start..end) {
        Some(s) => {
            *pos = end;
            Ok(s)
        }
        None => Err(ErrorKind::Truncated {
            needed: n,
            available: input.len().saturating_sub(start),
        }),
    }
}

/// Write a field whose logical value has already been validated (see [`normalize`]).
#[inline]
pub(crate) fn encode_valid(fs: &FieldSpec, value: &[u8], out: &mut Vec<u8>) {
    let n = value.len();
    if !fs.is_fixed() {
        let v = match fs.unit {
            LengthUnit::Chars => n,
            LengthUnit::Bytes => wire_len(fs.encoding, n),
        };
        write_prefix(&fs.prefix, v, out);
    }
    write_data(fs, value, out);
}

#[inline]
fn write_data(fs: &FieldSpec, value: &[u8], out: &mut Vec<u8>) {
    match fs.encoding {
        Encoding::Ascii | Encoding::Binary => out.extend_from_slice(value),
        Encoding::Ebcdic => out.extend(value.iter().map(|&c| ASCII_TO_EBCDIC[c as usize])),
        Encoding::Hex => {
            for &b in value {
                out.push(HEX[(b >> 4) as usize]);
                out.push(HEX[(b & 0xF) as usize]);
            }
        }
        Encoding::Bcd => {
            let ty = fs.ty;
            let mut digits = value;
            if digits.len() % 2 == 1 {
                if fs.pad == PadSide::Left {
                    out.push((fs.pad_nibble << 4) | nibble_of(ty, digits[0]));
                    digits = &digits[1..];
                    for p in digits.chunks_exact(2) {
                        out.push((nibble_of(ty, p[0]) << 4) | nibble_of(ty, p[1]));
                    }
                } else {
                    let (body, last) = digits.split_at(digits.len() - 1);
                    for p in body.chunks_exact(2) {
                        out.push((nibble_of(ty, p[0]) << 4) | nibble_of(ty, p[1]));
                    }
                    out.push((nibble_of(ty, last[0]) << 4) | fs.pad_nibble);
                }
            } else {
                for p in digits.chunks_exact(2) {
                    out.push((nibble_of(ty, p[0]) << 4) | nibble_of(ty, p[1]));
                }
            }
        }
    }
}

/// Read one field at `*pos`, append its logical value to `out`. Bounded by `input`.
#[inline]
pub(crate) fn decode(
    fs: &FieldSpec,
    input: &[u8],
    pos: &mut usize,
    out: &mut Vec<u8>,
) -> Result<(), ErrorKind> {
    let max = fs.len as usize;
    let (n, w) = if fs.is_fixed() {
        (max, wire_len(fs.encoding, max))
    } else {
        let v = read_prefix(&fs.prefix, input, pos)?;
        match fs.unit {
            LengthUnit::Chars => {
                if v > max {
                    return Err(ErrorKind::TooLong { len: v, max });
                }
                (v, wire_len(fs.encoding, v))
            }
            LengthUnit::Bytes => {
                if v > wire_len(fs.encoding, max) {
                    return Err(ErrorKind::TooLong {
                        len: v,
                        max: wire_len(fs.encoding, max),
                    });
                }
                let n = match fs.encoding {
                    Encoding::Bcd => v * 2,
                    Encoding::Hex if v % 2 == 1 => return Err(ErrorKind::BadLengthPrefix),
                    Encoding::Hex => v / 2,
                    _ => v,
                };
                (n, v)
            }
        }
    };
    let data = take(input, pos, w)?;
    let start = out.len();
    match fs.encoding {
        Encoding::Ascii | Encoding::Binary => out.extend_from_slice(data),
        Encoding::Ebcdic => out.extend(data.iter().map(|&c| EBCDIC_TO_ASCII[c as usize])),
        Encoding::Hex => {
            for p in data.chunks_exact(2) {
                match (unhex(p[0]), unhex(p[1])) {
                    (Some(h), Some(l)) => out.push((h << 4) | l),
                    _ => {
                        return Err(ErrorKind::BadChar {
                            position: out.len() - start,
                        })
                    }
                }
            }
        }
        // BCD decoding only produces characters of the field's type: nothing to check.
        Encoding::Bcd => return decode_bcd(fs, data, n, out),
    }
    if let Err(e) = check_chars(fs.ty, &out[start..]) {
        out.truncate(start);
        return Err(e);
    }
    Ok(())
}

fn decode_bcd(fs: &FieldSpec, data: &[u8], n: usize, out: &mut Vec<u8>) -> Result<(), ErrorKind> {
    let ty = fs.ty;
    let odd = n % 2 == 1;
    let start = out.len();
    if !odd && ty == FieldType::N {
        // The common case: whole bytes of two digits each.
        out.reserve(n);
        let mut ok = true;
        for &b in data {
            let (hi, lo) = (b >> 4, b & 0xF);
            ok &= hi < 10 && lo < 10;
            out.push(b'0' + hi);
            out.push(b'0' + lo);
        }
        if ok {
            return Ok(());
        }
        let position = out[start..]
            .iter()
            .position(|c| !c.is_ascii_digit())
            .unwrap_or(0);
        out.truncate(start);
        return Err(ErrorKind::BadChar { position });
    }
    let bad = |out: &Vec<u8>| ErrorKind::BadChar {
        position: out.len() - start,
    };
    for (i, &b) in data.iter().enumerate() {
        let (hi, lo) = (b >> 4, b & 0xF);
        let first = i == 0;
        let last = i + 1 == data.len();
        if odd && fs.pad == PadSide::Left && first {
            if hi != fs.pad_nibble {
                return Err(ErrorKind::BadPad);
            }
        } else {
            out.push(char_of(ty, hi).ok_or_else(|| bad(out))?);
        }
        if odd && fs.pad == PadSide::Right && last {
            if lo != fs.pad_nibble {
                return Err(ErrorKind::BadPad);
            }
        } else {
            out.push(char_of(ty, lo).ok_or_else(|| bad(out))?);
        }
    }
    Ok(())
}
