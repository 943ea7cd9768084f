//! Round trip and truncation for every field type × encoding × length prefix × prefix
//! encoding × length unit (× pad side for BCD), each in a spec built for it.

use iso8583::{ErrorKind, Message, Spec};

const TYPES: &[&str] = &["n", "a", "an", "ans", "b", "z", "x+n"];
const ENCODINGS: &[&str] = &["ascii", "ebcdic", "bcd", "binary", "hex"];
const PREFIXES: &[(&str, usize)] = &[
    ("fixed", 0),
    ("L", 1),
    ("LL", 2),
    ("LLL", 3),
    ("LLLL", 4),
    ("LLLLLL", 6),
];
const PREFIX_ENCODINGS: &[&str] = &["ascii", "ebcdic", "bcd", "binary"];

fn allowed(ty: &str, enc: &str) -> bool {
    match ty {
        "n" | "z" => matches!(enc, "ascii" | "ebcdic" | "bcd"),
        "b" => matches!(enc, "binary" | "hex"),
        _ => matches!(enc, "ascii" | "ebcdic"),
    }
}

fn capacity(digits: usize, penc: &str) -> usize {
    match penc {
        "binary" => (1usize << (8 * digits.div_ceil(2))) - 1,
        _ => 10usize.pow(digits as u32) - 1,
    }
}

/// A deterministic value of `len` logical units for a type, varied by `seed`.
fn value(ty: &str, len: usize, seed: usize) -> Vec<u8> {
    let pick = |set: &[u8], i: usize| set[(i * 7 + seed * 13) % set.len()];
    let digits = b"0123456789";
    (0..len)
        .map(|i| match ty {
            "n" => pick(digits, i),
            "a" => pick(b"ABCXYZ abcxyz", i),
            "an" => pick(b"AZaz09 M5", i),
            "ans" => pick(b" !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~", i),
            "b" => ((i * 31 + seed * 7) % 256) as u8,
            "z" if i == len / 2 && len > 2 => b'=',
            "z" => pick(digits, i),
            "x+n" if i == 0 => {
                if seed % 2 == 0 {
                    b'C'
                } else {
                    b'D'
                }
            }
            "x+n" => pick(digits, i),
            _ => unreachable!(),
        })
        .collect()
}

fn spec_toml(
    ty: &str,
    enc: &str,
    prefix: &str,
    penc: &str,
    unit: &str,
    pad: &str,
    len: usize,
) -> String {
    format!(
        r#"name = "matrix"
[mti]
encoding = "bcd"
[bitmap]
encoding = "binary"
[fields.2]
type = "{ty}"
len = {len}
prefix = "{prefix}"
encoding = "{enc}"
prefix_encoding = "{penc}"
length_unit = "{unit}"
pad = "{pad}"
[fields.3]
type = "n"
len = 6
encoding = "ascii"
[fields.64]
type = "b"
len = 8
"#
    )
}

#[test]
fn every_type_encoding_and_prefix_round_trips_and_rejects_truncation() {
    let mut cases = 0;
    for ty in TYPES {
        for enc in ENCODINGS.iter().filter(|e| allowed(ty, e)) {
            for (prefix, digits) in PREFIXES {
                for penc in PREFIX_ENCODINGS {
                    if *digits == 0 && *penc != "ascii" {
                        continue; // a fixed field has no prefix to encode
                    }
                    for unit in ["chars", "bytes"] {
                        for pad in ["left", "right"] {
                            if *enc != "bcd" && pad == "right" {
                                continue;
                            }
                            let expansion = if *enc == "hex" && unit == "bytes" {
                                2
                            } else {
                                1
                            };
                            let target: usize = [7, 9, 37, 150, 1200, 0, 2000][*digits];
                            let len = if *digits == 0 {
                                target
                            } else {
                                target.min(capacity(*digits, penc) / expansion)
                            };
                            let toml = spec_toml(ty, enc, prefix, penc, unit, pad, len);
                            let spec =
                                Spec::from_toml(&toml).unwrap_or_else(|e| panic!("{toml}\n{e}"));
                            let lens: Vec<usize> = if *digits == 0 {
                                vec![len]
                            } else {
                                vec![len, len - 1, 1]
                            };
                            for (seed, n) in lens.into_iter().enumerate() {
                                let min = if *ty == "x+n" { 2 } else { 1 };
                                let n = n.max(min);
                                let what =
                                    format!("{ty}/{enc}/{prefix}/{penc}/{unit}/{pad}/len {n}");
                                check(
                                    &spec,
                                    &value(ty, n, seed),
                                    &what,
                                    *digits != 0 && *enc == "bcd" && unit == "bytes" && n % 2 == 1,
                                );
                                cases += 1;
                            }
                        }
                    }
                }
            }
        }
    }
    assert!(cases > 300, "only {cases} cases");
}

fn check(spec: &std::sync::Arc<Spec>, v: &[u8], what: &str, pad_kept: bool) {
    let mut m = Message::new(spec, "0200").unwrap();
    m.set(2, v).unwrap_or_else(|e| panic!("{what}: set: {e}"));
    m.set(3, "123456").unwrap();
    m.set(64, [0xA5u8; 8]).unwrap();
    let bytes = m.encode().unwrap();
    let back = Message::decode(spec, &bytes).unwrap_or_else(|e| panic!("{what}: decode: {e}"));
    assert_eq!(back.encode().unwrap(), bytes, "{what}: re-encoding differs");
    if pad_kept {
        // A BCD length counted in bytes cannot say a digit is padding: the pad comes back.
        assert_eq!(back.get(2).unwrap().len(), v.len() + 1, "{what}");
    } else {
        assert_eq!(back.get(2).unwrap(), v, "{what}: value differs");
    }
    assert_eq!(
        back.get(3).unwrap(),
        b"123456",
        "{what}: next field misread"
    );
    for cut in 0..bytes.len() {
        let r = Message::decode(spec, &bytes[..cut]);
        assert!(
            r.is_err(),
            "{what}: truncated at {cut} of {} decoded",
            bytes.len()
        );
    }
    let mut longer = bytes.clone();
    longer.push(0);
    let e = Message::decode(spec, &longer).unwrap_err();
    assert_eq!(e.kind, ErrorKind::TrailingBytes { count: 1 }, "{what}");
}

#[test]
fn values_over_the_maximum_or_of_the_wrong_kind_are_refused() {
    let spec = Spec::from_toml(&spec_toml("n", "bcd", "LL", "bcd", "chars", "left", 10)).unwrap();
    let mut m = Message::new(&spec, "0200").unwrap();
    assert_eq!(
        m.set(2, "12345678901").unwrap_err().kind,
        ErrorKind::TooLong { len: 11, max: 10 }
    );
    assert_eq!(
        m.set(2, "12a4").unwrap_err().kind,
        ErrorKind::BadChar { position: 2 }
    );
    let spec = Spec::from_toml(&spec_toml(
        "x+n", "ascii", "fixed", "ascii", "chars", "left", 9,
    ))
    .unwrap();
    let mut m = Message::new(&spec, "0200").unwrap();
    assert!(m.set(2, "X00000001").is_err());
    assert!(m.set(2, "C00000001").is_ok());
}

#[test]
fn short_fixed_fields_are_padded_by_type() {
    let spec = Spec::from_toml(&spec_toml(
        "an", "ascii", "fixed", "ascii", "chars", "left", 6,
    ))
    .unwrap();
    let mut m = Message::new(&spec, "0200").unwrap();
    m.set(2, "AB").unwrap().set(3, "42").unwrap();
    assert_eq!(m.get(2).unwrap(), b"AB    ");
    assert_eq!(m.get(3).unwrap(), b"000042");
}

#[test]
fn bcd_pad_nibble_and_digits_are_checked_on_decode() {
    let spec =
        Spec::from_toml(&spec_toml("n", "bcd", "fixed", "ascii", "chars", "left", 3)).unwrap();
    // MTI 0200 (BCD), bitmap with fields 2 and 3, field 2 = 0x0123 (pad 0, digits 123), field 3.
    let good = [
        &[0x02, 0x00, 0x60, 0, 0, 0, 0, 0, 0, 0][..],
        &[0x01, 0x23],
        b"000042",
    ]
    .concat();
    let m = Message::decode(&spec, &good).unwrap();
    assert_eq!(m.get_str(2), Some("123"));
    let mut bad_pad = good.clone();
    bad_pad[10] = 0x11;
    assert_eq!(
        Message::decode(&spec, &bad_pad).unwrap_err().kind,
        ErrorKind::BadPad
    );
    let mut bad_digit = good.clone();
    bad_digit[11] = 0x2A;
    assert!(matches!(
        Message::decode(&spec, &bad_digit).unwrap_err().kind,
        ErrorKind::BadChar { .. }
    ));
}
