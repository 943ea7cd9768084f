//! Property tests: random valid messages round-trip in every embedded spec, and arbitrary
//! bytes never panic the decoder (and what decodes re-encodes to something that decodes
//! to the same message).

use std::sync::Arc;

use iso8583::spec::{FieldSpec, FieldType};
use iso8583::{specs, Message, Spec};
use proptest::prelude::*;

fn value_for(fs: &FieldSpec, seed: &[u8]) -> Vec<u8> {
    let max = (fs.len as usize).min(300);
    let n = if fs.is_fixed() {
        fs.len as usize
    } else {
        seed.len() % (max + 1)
    };
    let n = if fs.ty == FieldType::XN { n.max(2) } else { n };
    (0..n)
        .map(|i| {
            let s = seed
                .get(i % seed.len().max(1))
                .copied()
                .unwrap_or(7)
                .wrapping_add(i as u8);
            match fs.ty {
                FieldType::N => b'0' + s % 10,
                FieldType::Z => {
                    if s % 11 == 10 {
                        b'='
                    } else {
                        b'0' + s % 10
                    }
                }
                FieldType::XN if i == 0 => {
                    if s % 2 == 0 {
                        b'C'
                    } else {
                        b'D'
                    }
                }
                FieldType::XN => b'0' + s % 10,
                FieldType::A => {
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghijklmnopqrstuvwxyz"[s as usize % 53]
                }
                FieldType::An => {
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZ 0123456789abcdefghijklmnopqrstuvwxyz"
                        [s as usize % 63]
                }
                FieldType::Ans => 0x20 + s % 95,
                FieldType::B => s,
            }
        })
        .collect()
}

fn random_message(spec: &Arc<Spec>, picks: &[(u16, Vec<u8>)]) -> Message {
    let mti = if spec.name == "iso93ascii" {
        "1200"
    } else {
        "0200"
    };
    let mut m = Message::new(spec, mti).unwrap();
    let fields: Vec<(u16, &FieldSpec)> = spec
        .fields()
        .filter(|(_, f)| f.composite.is_none())
        .collect();
    for (pick, seed) in picks {
        let (n, fs) = fields[*pick as usize % fields.len()];
        let v = value_for(fs, seed);
        m.set(n, &v).unwrap_or_else(|e| panic!("field {n}: {e}"));
    }
    m
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn random_messages_round_trip(spec_ix in 0usize..4, picks in prop::collection::vec((any::<u16>(), prop::collection::vec(any::<u8>(), 0..64)), 0..40)) {
        let name = specs::names().nth(spec_ix).unwrap();
        let spec = specs::builtin(name).unwrap();
        let m = random_message(&spec, &picks);
        let bytes = m.encode().unwrap();
        let back = Message::decode(&spec, &bytes).unwrap();
        prop_assert_eq!(&back, &m);
        let mut again = Vec::new();
        back.encode_into(&mut again).unwrap();
        prop_assert_eq!(again, bytes);
    }

    #[test]
    fn arbitrary_bytes_never_panic(spec_ix in 0usize..4, bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let name = specs::names().nth(spec_ix).unwrap();
        let spec = specs::builtin(name).unwrap();
        if let Ok(m) = Message::decode(&spec, &bytes) {
            let re = m.encode().unwrap();
            prop_assert_eq!(Message::decode(&spec, &re).unwrap(), m);
        }
    }

    #[test]
    fn valid_prefix_then_garbage_never_panics(spec_ix in 0usize..4, cut in any::<usize>(), tail in prop::collection::vec(any::<u8>(), 0..64)) {
        let name = specs::names().nth(spec_ix).unwrap();
        let spec = specs::builtin(name).unwrap();
        let picks: Vec<(u16, Vec<u8>)> = (0..20u16).map(|i| (i * 7, vec![i as u8; 9])).collect();
        let bytes = random_message(&spec, &picks).encode().unwrap();
        let mut input = bytes[..cut % (bytes.len() + 1)].to_vec();
        input.extend_from_slice(&tail);
        if let Ok(m) = Message::decode(&spec, &input) {
            let re = m.encode().unwrap();
            prop_assert_eq!(Message::decode(&spec, &re).unwrap(), m);
        }
        let _ = iso8583::cli::decode_to_json(&spec, &input);
    }
}
