//! Specs are data: a TOML file describes every field of a dialect, and is loaded and checked
//! once into an immutable [`Spec`]. Everything the codec needs at run time is resolved here
//! (defaults applied, wire widths computed, limits checked) so that the hot path only reads.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::Arc;

use serde::Deserialize;

/// Highest field number: fields 1..=64 (primary), 65..=128 (secondary), 129..=192 (tertiary).
pub const FIELDS_MAX: usize = 192;
/// Longest length prefix (LLLLLL) allows 999,999 units; no field may be longer.
pub const FIELD_LEN_MAX: u32 = 999_999;
/// Default bound on one encoded message, in bytes.
pub const MESSAGE_BYTES_MAX_DEFAULT: usize = 16 * 1024;
/// Nesting bound for composite fields, so that a spec cannot make decoding recurse deeply.
const NESTING_MAX: usize = 4;

/// What characters a field holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldType {
    /// Digits 0-9.
    N,
    /// Letters and space.
    A,
    /// Letters, digits and space.
    An,
    /// Printable ASCII (0x20..=0x7E).
    Ans,
    /// Raw bytes.
    B,
    /// Track 2 data: digits, '=' (or 'D') as separator.
    Z,
    /// 'C' (credit) or 'D' (debit) followed by digits (the ISO "x+n" amounts).
    XN,
}

impl FieldType {
    pub fn is_text(self) -> bool {
        !matches!(self, FieldType::B)
    }
}

/// How a field's data (or the MTI) is written on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Ascii,
    Ebcdic,
    /// Packed decimal, two digits per byte; odd lengths take one pad nibble.
    Bcd,
    /// Bytes as they are.
    Binary,
    /// Bytes written as upper-case ASCII hex, two characters per byte.
    Hex,
}

/// How a length prefix is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PrefixEncoding {
    Ascii,
    Ebcdic,
    Bcd,
    /// Big-endian unsigned integer of ceil(digits / 2) bytes.
    Binary,
}

/// What a length prefix counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LengthUnit {
    /// Logical units: digits, characters, or bytes of a binary value.
    Chars,
    /// Bytes on the wire (e.g. BCD bytes, hex characters).
    Bytes,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PadSide {
    Left,
    Right,
}

/// How a sensitive field is shown in Debug output, logs, errors and masked JSON.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mask {
    /// Shown as is.
    None,
    /// Only the length is shown.
    Full,
    /// First six and last four characters kept (card numbers).
    Pan,
    /// Last four characters kept (MSISDNs, account numbers).
    Last4,
}

/// A length prefix: how many digits (0 = fixed length) and their encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Prefix {
    pub digits: u8,
    pub encoding: PrefixEncoding,
}

impl Prefix {
    /// Bytes the prefix takes on the wire.
    pub fn wire_bytes(&self) -> usize {
        let d = self.digits as usize;
        match self.encoding {
            PrefixEncoding::Ascii | PrefixEncoding::Ebcdic => d,
            PrefixEncoding::Bcd | PrefixEncoding::Binary => d.div_ceil(2),
        }
    }

    /// Largest value the prefix can carry.
    pub fn capacity(&self) -> u64 {
        let decimal = 10u64.pow(self.digits as u32) - 1;
        match self.encoding {
            PrefixEncoding::Binary => (1u64 << (8 * self.wire_bytes())) - 1,
            _ => decimal,
        }
    }
}

/// A BER-TLV tag known to the spec (unknown tags are still decoded and kept).
#[derive(Clone, Debug)]
pub struct TagSpec {
    pub name: String,
    pub sensitive: bool,
}

/// The inner structure of a composite field.
#[derive(Clone, Debug)]
pub enum Composite {
    /// Subfields one after the other, numbered from 1; trailing subfields may be absent.
    Positional(Vec<FieldSpec>),
    /// BER-TLV (EMV field 55 and similar): tags in any order, repeats kept, unknown tags kept.
    Tlv(HashMap<String, TagSpec>),
    /// A bitmap of `bitmap_bytes` bytes, then the subfields it marks present.
    Bitmap {
        bitmap_bytes: u8,
        bitmap_encoding: Encoding,
        /// Index 0 is subfield 1.
        subfields: Vec<Option<FieldSpec>>,
    },
}

/// One field (or subfield), fully resolved.
#[derive(Clone, Debug)]
pub struct FieldSpec {
    /// Path such as "3" or "48.2", used in errors.
    pub path: String,
    pub name: String,
    pub ty: FieldType,
    /// Fixed length, or maximum length when there is a prefix, in logical units.
    pub len: u32,
    pub prefix: Prefix,
    pub unit: LengthUnit,
    pub encoding: Encoding,
    pub pad: PadSide,
    /// Pad nibble for odd-length BCD (0x0 or 0xF).
    pub pad_nibble: u8,
    pub mask: Mask,
    pub composite: Option<Composite>,
}

impl FieldSpec {
    pub fn is_fixed(&self) -> bool {
        self.prefix.digits == 0
    }
    pub fn is_sensitive(&self) -> bool {
        self.mask != Mask::None
    }
}

/// Per-MTI rules: which fields a request must carry, may carry, and which the response echoes.
#[derive(Clone, Debug, Default)]
pub struct Rule {
    pub response_mti: Option<[u8; 4]>,
    pub mandatory: Vec<u16>,
    pub conditional: Vec<u16>,
    pub echo: Vec<u16>,
    /// When true, a field neither mandatory, conditional nor echoed is an error.
    pub closed: bool,
}

/// An immutable, validated ISO 8583 dialect.
pub struct Spec {
    pub name: String,
    pub description: String,
    pub mti_encoding: Encoding,
    pub bitmap_encoding: Encoding,
    /// 1 (primary only), 2 (secondary) or 3 (tertiary, signalled by field 65).
    pub bitmaps_max: u8,
    pub message_bytes_max: usize,
    /// Index = field number; index 0, 1 (and 65 with a tertiary bitmap) are always None.
    pub(crate) fields: Vec<Option<FieldSpec>>,
    pub(crate) rules: HashMap<[u8; 4], Rule>,
}

impl fmt::Debug for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spec")
            .field("name", &self.name)
            .field(
                "fields",
                &self.fields.iter().filter(|x| x.is_some()).count(),
            )
            .finish()
    }
}

impl Spec {
    /// Parse and validate a TOML spec.
    pub fn from_toml(text: &str) -> Result<Arc<Spec>, SpecError> {
        let raw: RawSpec = toml::from_str(text).map_err(|e| SpecError {
            path: String::new(),
            message: e.to_string(),
        })?;
        build(raw).map(Arc::new)
    }

    pub fn field(&self, number: u16) -> Option<&FieldSpec> {
        self.fields.get(number as usize).and_then(|f| f.as_ref())
    }

    pub fn fields(&self) -> impl Iterator<Item = (u16, &FieldSpec)> {
        self.fields
            .iter()
            .enumerate()
            .filter_map(|(i, f)| f.as_ref().map(|f| (i as u16, f)))
    }

    pub fn rule(&self, mti: &[u8; 4]) -> Option<&Rule> {
        self.rules.get(mti)
    }

    /// True when the field number is a bitmap indicator in this spec.
    pub fn is_bitmap_field(&self, number: u16) -> bool {
        number == 1 || (number == 65 && self.bitmaps_max == 3)
    }
}

/// A spec that cannot be loaded: where (a dotted path in the TOML) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("spec {path}: {message}")]
pub struct SpecError {
    pub path: String,
    pub message: String,
}

fn err<T>(path: &str, message: impl Into<String>) -> Result<T, SpecError> {
    Err(SpecError {
        path: path.to_string(),
        message: message.into(),
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpec {
    name: String,
    #[serde(default)]
    description: String,
    mti: RawMti,
    bitmap: RawBitmap,
    #[serde(default)]
    defaults: RawDefaults,
    message_bytes_max: Option<usize>,
    fields: BTreeMap<String, RawField>,
    #[serde(default)]
    rules: BTreeMap<String, RawRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMti {
    encoding: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBitmap {
    encoding: String,
    #[serde(default = "two")]
    count: u8,
}

fn two() -> u8 {
    2
}

#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
struct RawDefaults {
    numeric_encoding: Option<String>,
    text_encoding: Option<String>,
    binary_encoding: Option<String>,
    prefix_encoding: Option<String>,
    length_unit: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawField {
    #[serde(default)]
    name: String,
    #[serde(rename = "type")]
    ty: String,
    len: u32,
    #[serde(default)]
    prefix: String,
    encoding: Option<String>,
    prefix_encoding: Option<String>,
    length_unit: Option<String>,
    pad: Option<String>,
    pad_char: Option<String>,
    #[serde(default)]
    sensitive: bool,
    mask: Option<String>,
    composite: Option<String>,
    subfields: Option<BTreeMap<String, RawField>>,
    tags: Option<BTreeMap<String, RawTag>>,
    bitmap_bytes: Option<u8>,
    bitmap_encoding: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTag {
    #[serde(default)]
    name: String,
    #[serde(default)]
    sensitive: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    response: Option<String>,
    #[serde(default)]
    mandatory: Vec<u16>,
    #[serde(default)]
    conditional: Vec<u16>,
    #[serde(default)]
    echo: Vec<u16>,
    #[serde(default)]
    closed: bool,
}

fn parse_encoding(path: &str, s: &str) -> Result<Encoding, SpecError> {
    Ok(match s {
        "ascii" => Encoding::Ascii,
        "ebcdic" => Encoding::Ebcdic,
        "bcd" => Encoding::Bcd,
        "binary" => Encoding::Binary,
        "hex" => Encoding::Hex,
        other => {
            return err(
                path,
                format!("unknown encoding {other:?} (ascii, ebcdic, bcd, binary, hex)"),
            )
        }
    })
}

fn parse_prefix_encoding(path: &str, s: &str) -> Result<PrefixEncoding, SpecError> {
    Ok(match s {
        "ascii" => PrefixEncoding::Ascii,
        "ebcdic" => PrefixEncoding::Ebcdic,
        "bcd" => PrefixEncoding::Bcd,
        "binary" => PrefixEncoding::Binary,
        other => {
            return err(
                path,
                format!("unknown prefix encoding {other:?} (ascii, ebcdic, bcd, binary)"),
            )
        }
    })
}

fn parse_mti(path: &str, s: &str) -> Result<[u8; 4], SpecError> {
    let b = s.as_bytes();
    if b.len() != 4 || !b.iter().all(u8::is_ascii_digit) {
        return err(path, format!("MTI must be four digits, got {s:?}"));
    }
    Ok([b[0], b[1], b[2], b[3]])
}

fn build(raw: RawSpec) -> Result<Spec, SpecError> {
    let mti_encoding = parse_encoding("mti.encoding", &raw.mti.encoding)?;
    if !matches!(
        mti_encoding,
        Encoding::Ascii | Encoding::Ebcdic | Encoding::Bcd
    ) {
        return err("mti.encoding", "the MTI is ascii, ebcdic or bcd");
    }
    let bitmap_encoding = parse_encoding("bitmap.encoding", &raw.bitmap.encoding)?;
    if !matches!(bitmap_encoding, Encoding::Binary | Encoding::Hex) {
        return err("bitmap.encoding", "a bitmap is binary or hex");
    }
    if !(1..=3).contains(&raw.bitmap.count) {
        return err("bitmap.count", "1 (primary), 2 (secondary) or 3 (tertiary)");
    }
    let message_bytes_max = raw.message_bytes_max.unwrap_or(MESSAGE_BYTES_MAX_DEFAULT);
    if !(16..=16 * 1024 * 1024).contains(&message_bytes_max) {
        return err("message_bytes_max", "must be between 16 and 16 MiB");
    }
    let top = raw.bitmap.count as usize * 64;
    let mut fields: Vec<Option<FieldSpec>> = vec![None; FIELDS_MAX + 1];
    for (key, rf) in &raw.fields {
        let path = format!("fields.{key}");
        let n: usize = match key.parse() {
            Ok(n) if (2..=top).contains(&n) => n,
            _ => {
                return err(
                    &path,
                    format!(
                        "field number must be 2..={top} for {} bitmap(s)",
                        raw.bitmap.count
                    ),
                )
            }
        };
        if n == 65 && raw.bitmap.count == 3 {
            return err(&path, "field 65 is the tertiary bitmap in this spec");
        }
        fields[n] = Some(build_field(&path, key, rf, &raw.defaults, 0)?);
    }
    let mut rules = HashMap::new();
    for (key, rr) in raw.rules {
        let path = format!("rules.{key}");
        let mti = parse_mti(&path, &key)?;
        let response_mti = match &rr.response {
            Some(r) => Some(parse_mti(&format!("{path}.response"), r)?),
            None => None,
        };
        for (list, what) in [
            (&rr.mandatory, "mandatory"),
            (&rr.conditional, "conditional"),
            (&rr.echo, "echo"),
        ] {
            for f in list {
                if fields.get(*f as usize).and_then(|x| x.as_ref()).is_none() {
                    return err(
                        &format!("{path}.{what}"),
                        format!("field {f} is not defined in this spec"),
                    );
                }
            }
        }
        rules.insert(
            mti,
            Rule {
                response_mti,
                mandatory: rr.mandatory,
                conditional: rr.conditional,
                echo: rr.echo,
                closed: rr.closed,
            },
        );
    }
    Ok(Spec {
        name: raw.name,
        description: raw.description,
        mti_encoding,
        bitmap_encoding,
        bitmaps_max: raw.bitmap.count,
        message_bytes_max,
        fields,
        rules,
    })
}

fn build_field(
    path: &str,
    id: &str,
    rf: &RawField,
    defaults: &RawDefaults,
    depth: usize,
) -> Result<FieldSpec, SpecError> {
    if depth > NESTING_MAX {
        return err(path, "composite fields nest too deeply");
    }
    let ty = match rf.ty.as_str() {
        "n" => FieldType::N,
        "a" => FieldType::A,
        "an" | "anp" => FieldType::An,
        "ans" | "ns" | "as" | "anps" => FieldType::Ans,
        "b" => FieldType::B,
        "z" => FieldType::Z,
        "x+n" | "xn" => FieldType::XN,
        other => {
            return err(
                &format!("{path}.type"),
                format!("unknown type {other:?} (n, a, an, ans, b, z, x+n)"),
            )
        }
    };
    let enc_name = rf.encoding.clone().or_else(|| match ty {
        FieldType::N | FieldType::Z => defaults.numeric_encoding.clone(),
        FieldType::B => defaults.binary_encoding.clone(),
        _ => defaults.text_encoding.clone(),
    });
    let encoding = match enc_name {
        Some(e) => parse_encoding(&format!("{path}.encoding"), &e)?,
        None if ty == FieldType::B => Encoding::Binary,
        None => Encoding::Ascii,
    };
    let allowed = match ty {
        FieldType::N | FieldType::Z => {
            matches!(encoding, Encoding::Ascii | Encoding::Ebcdic | Encoding::Bcd)
        }
        FieldType::B => matches!(encoding, Encoding::Binary | Encoding::Hex),
        _ => matches!(encoding, Encoding::Ascii | Encoding::Ebcdic),
    };
    if !allowed {
        return err(
            &format!("{path}.encoding"),
            format!("type {} cannot be encoded as {encoding:?}", rf.ty),
        );
    }
    let digits = match rf.prefix.as_str() {
        "" | "fixed" => 0,
        "L" => 1,
        "LL" => 2,
        "LLL" => 3,
        "LLLL" => 4,
        "LLLLLL" => 6,
        other => {
            return err(
                &format!("{path}.prefix"),
                format!("unknown prefix {other:?} (fixed, L, LL, LLL, LLLL, LLLLLL)"),
            )
        }
    };
    let prefix_encoding = match rf
        .prefix_encoding
        .clone()
        .or_else(|| defaults.prefix_encoding.clone())
    {
        Some(p) => parse_prefix_encoding(&format!("{path}.prefix_encoding"), &p)?,
        None => match encoding {
            Encoding::Ebcdic => PrefixEncoding::Ebcdic,
            Encoding::Bcd => PrefixEncoding::Bcd,
            Encoding::Binary => PrefixEncoding::Binary,
            _ => PrefixEncoding::Ascii,
        },
    };
    let unit = match rf
        .length_unit
        .clone()
        .or_else(|| defaults.length_unit.clone())
        .as_deref()
    {
        None | Some("chars") => LengthUnit::Chars,
        Some("bytes") => LengthUnit::Bytes,
        Some(other) => {
            return err(
                &format!("{path}.length_unit"),
                format!("unknown unit {other:?} (chars, bytes)"),
            )
        }
    };
    if rf.len == 0 || rf.len > FIELD_LEN_MAX {
        return err(
            &format!("{path}.len"),
            format!("length must be 1..={FIELD_LEN_MAX}"),
        );
    }
    let prefix = Prefix {
        digits,
        encoding: prefix_encoding,
    };
    if digits > 0 {
        let wire_max = wire_len(encoding, rf.len as usize) as u64;
        let needed = if unit == LengthUnit::Chars {
            rf.len as u64
        } else {
            wire_max
        };
        if needed > prefix.capacity() {
            return err(
                &format!("{path}.len"),
                format!(
                    "{needed} does not fit a {} prefix (at most {})",
                    rf.prefix,
                    prefix.capacity()
                ),
            );
        }
    }
    let pad = match rf.pad.as_deref() {
        None | Some("left") => PadSide::Left,
        Some("right") => PadSide::Right,
        Some(other) => {
            return err(
                &format!("{path}.pad"),
                format!("unknown pad side {other:?} (left, right)"),
            )
        }
    };
    let pad_nibble = match rf.pad_char.as_deref() {
        None | Some("0") => 0,
        Some("F") | Some("f") => 0xF,
        Some(other) => {
            return err(
                &format!("{path}.pad_char"),
                format!("pad must be \"0\" or \"F\", got {other:?}"),
            )
        }
    };
    let mask = match (rf.mask.as_deref(), rf.sensitive) {
        (None, false) => Mask::None,
        (None, true) | (Some("full"), _) => Mask::Full,
        (Some("pan"), _) => Mask::Pan,
        (Some("last4"), _) => Mask::Last4,
        (Some("none"), _) => Mask::None,
        (Some(other), _) => {
            return err(
                &format!("{path}.mask"),
                format!("unknown mask {other:?} (full, pan, last4, none)"),
            )
        }
    };
    let composite = match rf.composite.as_deref() {
        None => {
            if rf.subfields.is_some() || rf.tags.is_some() {
                return err(path, "subfields or tags given without `composite`");
            }
            None
        }
        Some(kind) => Some(build_composite(
            path, id, kind, rf, ty, encoding, defaults, depth,
        )?),
    };
    Ok(FieldSpec {
        path: id.to_string(),
        name: rf.name.clone(),
        ty,
        len: rf.len,
        prefix,
        unit,
        encoding,
        pad,
        pad_nibble,
        mask,
        composite,
    })
}

#[allow(clippy::too_many_arguments)]
fn build_composite(
    path: &str,
    id: &str,
    kind: &str,
    rf: &RawField,
    ty: FieldType,
    encoding: Encoding,
    defaults: &RawDefaults,
    depth: usize,
) -> Result<Composite, SpecError> {
    // Subfields are read from the container's logical value (hex undone, EBCDIC turned to
    // ASCII), so any container encoding works; the container type must accept any content.
    let _ = encoding;
    if !matches!(ty, FieldType::B | FieldType::Ans) {
        return err(
            &format!("{path}.type"),
            "a composite field is of type `b` or `ans`",
        );
    }
    match kind {
        "positional" | "bitmap" => {
            let subs = match &rf.subfields {
                Some(s) if !s.is_empty() => s,
                _ => {
                    return err(
                        &format!("{path}.subfields"),
                        "a composite field needs subfields",
                    )
                }
            };
            let bitmap_bytes = rf.bitmap_bytes.unwrap_or(8);
            let count = if kind == "bitmap" {
                if !(1..=16).contains(&bitmap_bytes) {
                    return err(&format!("{path}.bitmap_bytes"), "1..=16");
                }
                bitmap_bytes as usize * 8
            } else {
                // Numbered 1..=N; the highest number sets N so that a gap is reported as one.
                subs.keys()
                    .filter_map(|k| k.parse::<usize>().ok())
                    .max()
                    .unwrap_or(0)
                    .clamp(1, 999)
            };
            let mut list: Vec<Option<FieldSpec>> = vec![None; count];
            for (k, sf) in subs {
                let sub_path = format!("{path}.subfields.{k}");
                let n: usize = match k.parse() {
                    Ok(n) if (1..=count).contains(&n) => n,
                    _ => return err(&sub_path, format!("subfield number must be 1..={count}")),
                };
                list[n - 1] = Some(build_field(
                    &sub_path,
                    &format!("{id}.{n}"),
                    sf,
                    defaults,
                    depth + 1,
                )?);
            }
            if kind == "bitmap" {
                let bitmap_encoding = match &rf.bitmap_encoding {
                    Some(e) => parse_encoding(&format!("{path}.bitmap_encoding"), e)?,
                    None => Encoding::Binary,
                };
                if !matches!(bitmap_encoding, Encoding::Binary | Encoding::Hex) {
                    return err(&format!("{path}.bitmap_encoding"), "binary or hex");
                }
                Ok(Composite::Bitmap {
                    bitmap_bytes,
                    bitmap_encoding,
                    subfields: list,
                })
            } else {
                let mut out = Vec::with_capacity(count);
                for (i, s) in list.into_iter().enumerate() {
                    match s {
                        Some(s) => out.push(s),
                        None => return err(&format!("{path}.subfields"), format!("positional subfields must be numbered 1..={count} without gaps; {} is missing", i + 1)),
                    }
                }
                Ok(Composite::Positional(out))
            }
        }
        "tlv" => {
            if ty != FieldType::B {
                return err(&format!("{path}.type"), "a BER-TLV field is `b`");
            }
            let mut tags = HashMap::new();
            for (k, t) in rf.tags.iter().flatten() {
                let tag = k.to_ascii_uppercase();
                let ok = tag.len() % 2 == 0
                    && (2..=8).contains(&tag.len())
                    && tag.bytes().all(|c| c.is_ascii_hexdigit());
                if !ok {
                    return err(&format!("{path}.tags.{k}"), "a tag is 1 to 4 bytes in hex");
                }
                tags.insert(
                    tag,
                    TagSpec {
                        name: t.name.clone(),
                        sensitive: t.sensitive,
                    },
                );
            }
            Ok(Composite::Tlv(tags))
        }
        other => err(
            &format!("{path}.composite"),
            format!("unknown composite {other:?} (positional, tlv, bitmap)"),
        ),
    }
}

/// Wire bytes of a value of `len` logical units.
#[inline]
pub(crate) fn wire_len(encoding: Encoding, len: usize) -> usize {
    match encoding {
        Encoding::Ascii | Encoding::Ebcdic | Encoding::Binary => len,
        Encoding::Bcd => len.div_ceil(2),
        Encoding::Hex => len * 2,
    }
}
