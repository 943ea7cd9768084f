//! Composites, paths, masking, JSON and serde, rules, and spec load errors.

use iso8583::{specs, ErrorKind, Location, Message, RuleError, Spec, SubKey};
use serde::{Deserialize, Serialize};

fn mm() -> std::sync::Arc<Spec> {
    specs::builtin("mobile-money").unwrap()
}

fn credit() -> Message {
    let mut m = Message::new(&mm(), "0200").unwrap();
    m.set(2, "639171234567").unwrap();
    m.set(3, "260000").unwrap();
    m.set(4, "000000015000").unwrap();
    m.set(7, "1125103000").unwrap();
    m.set(11, "004211").unwrap();
    m.set(37, "533012004211").unwrap();
    m.set(41, "CORRIDOR").unwrap();
    m.set(49, "608").unwrap();
    m
}

#[test]
fn emv_field_55_keeps_repeats_and_unknown_tags() {
    let spec = specs::builtin("iso87binary").unwrap();
    let mut m = Message::new(&spec, "0100").unwrap();
    // 9F26 (cryptogram), 9F10 twice, DF8101 (unknown, 3-byte tag), 82 (AIP), 5A (PAN).
    let tlv = hex::decode(
        "9F2608A1B2C3D4E5F60718 9F100201A0 9F100202B0 DF810103010203 82021980 5A084111111111111111"
            .replace(' ', ""),
    )
    .unwrap();
    m.set(55, &tlv).unwrap();
    let bytes = m.encode().unwrap();
    let back = Message::decode(&spec, &bytes).unwrap();
    assert_eq!(
        back.get_path("55.9F26").unwrap().unwrap(),
        hex::decode("A1B2C3D4E5F60718").unwrap()
    );
    assert_eq!(
        back.get_path_all("55.9f10").unwrap(),
        vec![vec![0x01, 0xA0], vec![0x02, 0xB0]]
    );
    let parts = back.parts(55).unwrap().unwrap();
    let unknown: Vec<_> = parts
        .iter()
        .filter(|p| !p.known)
        .map(|p| p.key.clone())
        .collect();
    assert_eq!(unknown, vec![SubKey::Tag("DF8101".into())]);
    assert_eq!(parts.len(), 6);
    assert_eq!(back.get_path("55.9F27").unwrap(), None);
    // A TLV value has no inner structure to walk into.
    assert!(back.get_path("55.9F26.1").is_err());
}

#[test]
fn a_tlv_value_longer_than_its_field_is_an_error_not_a_panic() {
    let spec = specs::builtin("iso87binary").unwrap();
    let mut m = Message::new(&spec, "0100").unwrap();
    m.set(55, hex::decode("9F2610A1").unwrap()).unwrap();
    let e = m.get_path("55.9F26").unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Truncated { .. }), "{e}");
}

#[test]
fn positional_subfields_by_path() {
    let mut m = credit();
    m.set_path("48.2", "SETTLEMENT-0001").unwrap();
    m.set_path("48.1", "Maria Santos").unwrap();
    m.set_path("48.3", "PHL").unwrap();
    assert_eq!(m.get_str(48).unwrap(), "12Maria Santos15SETTLEMENT-0001PHL");
    let back = Message::decode(&mm(), &m.encode().unwrap()).unwrap();
    assert_eq!(back.get_path("48.2").unwrap().unwrap(), b"SETTLEMENT-0001");
    assert_eq!(
        back.get_path("48.4").unwrap(),
        None,
        "trailing subfield absent"
    );
    assert!(m.set_path("48.3", "PH1").is_err(), "type a refuses digits");
    assert!(m.set_path("48.9", "x").is_err(), "no subfield 9");
}

#[test]
fn bitmap_subfields_by_path() {
    let spec = specs::builtin("iso87ascii").unwrap();
    let mut m = Message::new(&spec, "0200").unwrap();
    m.set_path("127.22", "<Tag>value</Tag>").unwrap();
    m.set_path("127.2", "SWITCHKEY1").unwrap();
    let raw = m.get(127).unwrap().to_vec();
    assert_eq!(
        raw[..8],
        [0x40, 0, 0x04, 0, 0, 0, 0, 0],
        "bitmap marks 2 and 22"
    );
    let back = Message::decode(&spec, &m.encode().unwrap()).unwrap();
    assert_eq!(back.get_path("127.2").unwrap().unwrap(), b"SWITCHKEY1");
    assert_eq!(
        back.get_path("127.22").unwrap().unwrap(),
        b"<Tag>value</Tag>"
    );
    assert_eq!(back.get_path("127.3").unwrap(), None);
}

#[test]
fn sensitive_fields_are_masked_in_debug_json_and_errors() {
    let spec = specs::builtin("iso87ascii").unwrap();
    let mut m = Message::new(&spec, "0200").unwrap();
    m.set(2, "4111111111111111").unwrap();
    m.set(35, "4111111111111111=2512").unwrap();
    m.set(102, "00012345678").unwrap();
    m.set(11, "000001").unwrap();
    let dbg = format!("{m:?}");
    assert!(!dbg.contains("4111111111111111"), "{dbg}");
    assert!(dbg.contains("411111******1111"), "{dbg}");
    assert!(dbg.contains("<masked 21>"), "{dbg}");
    assert!(dbg.contains("*******5678"), "{dbg}");
    assert!(dbg.contains("000001"), "non-sensitive fields are shown");
    let json = m.to_json(true).to_string();
    assert!(!json.contains("4111111111111111"), "{json}");
    assert!(m.to_json(false).to_string().contains("4111111111111111"));
    // An error about a sensitive value names the field and position, never the value.
    let e = m.set(2, "41111111111111x1").unwrap_err();
    assert!(!e.to_string().contains("4111"), "{e}");
    assert_eq!(e.location, Location::Field("2".into()));
}

#[test]
fn json_round_trip_including_composites() {
    let mut m = credit();
    m.set_path("48.1", "Maria Santos").unwrap();
    m.set_path("48.2", "REF-9").unwrap();
    let j = m.to_json(false);
    assert_eq!(j["48"]["1"], "Maria Santos");
    assert_eq!(j["2"], "639171234567");
    let back = Message::from_json(&mm(), &j).unwrap();
    assert_eq!(back, m);
    let bytes = iso8583::cli::encode_from_json(&mm(), &j).unwrap();
    let masked = iso8583::cli::decode_to_json(&mm(), &bytes).unwrap();
    assert_eq!(masked["2"], "********4567");
    assert_eq!(masked["4"], "000000015000");
    let spec = specs::builtin("iso87binary").unwrap();
    let j = serde_json::json!({"mti": "0100", "3": "000000", "55": {"9F26": "A1B2", "9F10": ["01", "02"]}});
    let m = Message::from_json(&spec, &j).unwrap();
    assert_eq!(m.get_path_all("55.9F10").unwrap(), vec![vec![1], vec![2]]);
    assert_eq!(m.to_json(false)["55"], j["55"]);
    assert!(Message::from_json(&spec, &serde_json::json!({"mti": "0100", "1": "x"})).is_err());
    assert!(Message::from_json(&spec, &serde_json::json!({"3": "000000"})).is_err());
}

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct WalletCredit {
    mti: String,
    #[serde(rename = "2")]
    msisdn: String,
    #[serde(rename = "4")]
    amount: String,
    #[serde(rename = "11")]
    stan: String,
    #[serde(rename = "39", default, skip_serializing_if = "Option::is_none")]
    response_code: Option<String>,
}

#[test]
fn serde_mapping_to_a_struct() {
    let w = WalletCredit {
        mti: "0200".into(),
        msisdn: "639170000001".into(),
        amount: "000000000100".into(),
        stan: "000077".into(),
        response_code: None,
    };
    let m = Message::from_struct(&mm(), &w).unwrap();
    assert_eq!(m.get_str(11), Some("000077"));
    let mut r = Message::new(&mm(), "0210").unwrap();
    r.set(2, "639170000001")
        .unwrap()
        .set(4, "100")
        .unwrap()
        .set(11, "000077")
        .unwrap()
        .set(39, "00")
        .unwrap();
    let back: WalletCredit = r.to_struct().unwrap();
    assert_eq!(back.amount, "000000000100");
    assert_eq!(back.response_code.as_deref(), Some("00"));
}

#[test]
fn rules_check_mandatory_and_closed_sets() {
    let mut m = credit();
    m.validate().unwrap();
    m.remove(4);
    assert!(matches!(m.validate(), Err(RuleError::Missing { missing, .. }) if missing == vec![4]));
    let mut m = credit();
    m.set(54, "balance").unwrap();
    assert!(
        matches!(m.validate(), Err(RuleError::Unexpected { unexpected, .. }) if unexpected == vec![54])
    );
}

#[test]
fn responses_echo_fields_and_set_the_code() {
    let m = credit();
    let r = m.response("00").unwrap();
    assert_eq!(r.mti(), "0210");
    for n in [2u16, 3, 4, 7, 11, 37, 41, 49] {
        assert_eq!(r.get(n), m.get(n), "field {n} echoed");
    }
    assert_eq!(r.get_str(39), Some("00"));
    let mut rev = Message::new(&mm(), "0421").unwrap();
    rev.set(11, "000001").unwrap();
    assert_eq!(rev.response("00").unwrap().mti(), "0430");
    assert!(r.response("00").is_err(), "a response has no response");
}

#[test]
fn bitmaps_secondary_and_tertiary() {
    let spec = specs::builtin("iso93ascii").unwrap();
    let mut m = Message::new(&spec, "1200").unwrap();
    m.set(3, "000000")
        .unwrap()
        .set(70, "301")
        .unwrap()
        .set(150, "tertiary!")
        .unwrap();
    let bytes = m.encode().unwrap();
    // MTI, then primary with bit 1, secondary with bit 65, tertiary.
    assert_eq!(bytes[4] & 0x80, 0x80);
    assert_eq!(bytes[12] & 0x80, 0x80);
    assert_eq!(bytes.len(), 4 + 24 + 6 + 3 + 3 + 9);
    let back = Message::decode(&spec, &bytes).unwrap();
    assert_eq!(back, m);
    assert_eq!(back.get_str(150), Some("tertiary!"));
    // Without field 150 the tertiary bitmap is not written.
    m.remove(150);
    assert_eq!(m.encode().unwrap().len(), 4 + 16 + 6 + 3);
    // A spec with one bitmap refuses a secondary.
    let one = Spec::from_toml("name='x'\n[mti]\nencoding='ascii'\n[bitmap]\nencoding='binary'\ncount=1\n[fields.3]\ntype='n'\nlen=6\n").unwrap();
    let mut bytes = b"0200".to_vec();
    bytes.extend_from_slice(&[0xA0, 0, 0, 0, 0, 0, 0, 0]);
    assert!(Message::decode(&one, &bytes).is_err());
}

#[test]
fn hex_bitmap_and_undefined_fields() {
    let spec = mm();
    let bytes = credit().encode().unwrap();
    assert!(bytes[4..20].iter().all(u8::is_ascii_hexdigit));
    let mut bad = bytes.clone();
    bad[4] = b'G';
    assert_eq!(
        Message::decode(&spec, &bad).unwrap_err().kind,
        ErrorKind::BadBitmap
    );
    let mut undefined = bytes.clone();
    undefined[5] = b'F'; // marks fields 5..8; 5 and 6 are not in the mobile-money spec
    assert_eq!(
        Message::decode(&spec, &undefined).unwrap_err().kind,
        ErrorKind::UndefinedField
    );
}

fn load_err(toml: &str) -> String {
    let e = Spec::from_toml(toml).unwrap_err();
    format!("{}: {}", e.path, e.message)
}

const HEAD: &str = "name='x'\n[mti]\nencoding='ascii'\n[bitmap]\nencoding='binary'\n";

#[test]
fn bad_specs_fail_at_load_with_a_precise_error() {
    let e = load_err(&format!("{HEAD}[fields.2]\ntype='q'\nlen=5\n"));
    assert!(e.starts_with("fields.2.type"), "{e}");
    let e = load_err(&format!(
        "{HEAD}[fields.2]\ntype='n'\nlen=150\nprefix='LL'\n"
    ));
    assert!(e.starts_with("fields.2.len") && e.contains("LL"), "{e}");
    let e = load_err(&format!(
        "{HEAD}[fields.2]\ntype='b'\nlen=5\nencoding='bcd'\n"
    ));
    assert!(e.starts_with("fields.2.encoding"), "{e}");
    let e = load_err(&format!("{HEAD}[fields.1]\ntype='b'\nlen=8\n"));
    assert!(e.starts_with("fields.1"), "{e}");
    let e = load_err(&format!(
        "{HEAD}[fields.2]\ntype='n'\nlen=5\ncolour='red'\n"
    ));
    assert!(e.contains("colour"), "unknown keys are refused: {e}");
    let e = load_err(&format!(
        "{HEAD}[fields.48]\ntype='ans'\nlen=99\nprefix='LL'\ncomposite='positional'\n"
    ));
    assert!(e.starts_with("fields.48.subfields"), "{e}");
    let e = load_err(&format!("{HEAD}[fields.48]\ntype='ans'\nlen=99\nprefix='LL'\ncomposite='positional'\n[fields.48.subfields.2]\ntype='n'\nlen=2\n"));
    assert!(e.contains("1 is missing"), "{e}");
    let e = load_err(&format!(
        "{HEAD}[fields.3]\ntype='n'\nlen=6\n[rules.0200]\nmandatory=[4]\n"
    ));
    assert!(
        e.starts_with("rules.0200.mandatory") && e.contains("field 4"),
        "{e}"
    );
    let e = load_err(&format!("{HEAD}[fields.200]\ntype='n'\nlen=6\n"));
    assert!(e.starts_with("fields.200"), "{e}");
    let e = load_err("name='x'\n[mti]\nencoding='hex'\n[bitmap]\nencoding='binary'\n[fields.3]\ntype='n'\nlen=6\n");
    assert!(e.starts_with("mti.encoding"), "{e}");
    let e = load_err("this is not toml");
    assert!(
        e.contains("line 1"),
        "TOML errors carry their position: {e}"
    );
    assert!(specs::builtin("nope").is_err());
}

#[test]
fn reversal_copies_identifiers_and_builds_de90() {
    let mut m = credit();
    m.set(32, "1234").unwrap();
    let r = m.reversal(false).unwrap();
    assert_eq!(r.mti(), "0420");
    for n in [2u16, 3, 4, 7, 11, 37, 41, 49] {
        assert_eq!(r.get(n), m.get(n), "field {n}");
    }
    assert_eq!(
        r.get_str(90).unwrap(),
        "0200004211112510300000000001234".to_string() + "00000000000"
    );
    r.validate().unwrap();
    assert_eq!(m.reversal(true).unwrap().mti(), "0421");
    let resp = r.response("00").unwrap();
    assert_eq!(resp.mti(), "0430");
    assert_eq!(resp.get(90), r.get(90));
}
