//! JSON in and out: XML → value → JSON → value is the same value, renders the same XML, for
//! every kind over the deterministic samples; and JSON that breaks a schema facet is refused
//! with the path of the field and the reason.

use iso20022::{samples, BusinessMessage, Document, ParseOptions};
use serde_json::{json, Value};

const SEEDS: u64 = 200;

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Deserializes with the path of the failing field in the error, as the CLI does.
fn from_json<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, String> {
    let de = &mut serde_json::Deserializer::from_str(json);
    serde_path_to_error::deserialize(de).map_err(|e| format!("{}: {}", e.path(), e.inner()))
}

fn from_value<T: serde::de::DeserializeOwned>(v: &Value) -> Result<T, String> {
    from_json(&v.to_string())
}

#[test]
fn every_kind_round_trips_through_json() {
    for seed in 0..SEEDS {
        for doc in samples::all_documents(seed) {
            let kind = doc.msg_def_idr().to_owned();
            let xml = doc.render();
            let parsed = Document::parse_with(&xml, &ParseOptions::strict())
                .unwrap_or_else(|e| panic!("seed {seed} {kind}: {e}"));
            let json = serde_json::to_string(&parsed).unwrap();
            let back: Document =
                from_json(&json).unwrap_or_else(|e| panic!("seed {seed} {kind}: {e}\n{json}"));
            assert_eq!(back, parsed, "seed {seed} {kind}");
            assert_eq!(back.render(), xml, "seed {seed} {kind}: same XML");
            assert_eq!(serde_json::to_string(&back).unwrap(), json, "seed {seed}");
        }
    }
}

#[test]
fn business_messages_round_trip_through_json() {
    for seed in 0..SEEDS {
        let msg = samples::business_message(seed);
        let xml = msg.render();
        let parsed = BusinessMessage::parse_with(&xml, &ParseOptions::strict()).unwrap();
        let json = serde_json::to_string_pretty(&parsed).unwrap();
        let back: BusinessMessage =
            from_json(&json).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{json}"));
        assert_eq!(back, parsed, "seed {seed}");
        assert_eq!(back.render(), xml, "seed {seed}");
    }
}

#[test]
fn fixtures_round_trip_with_unread_elements_and_raw_parts() {
    let unknown_kind = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.999.001.01"><Foo><Bar>1</Bar></Foo></Document>"#;
    let inputs = [
        fixture("pacs002_bare_default_ns.xml"),
        fixture("pacs002_other_wrapper_unknown_element.xml"),
        fixture("pacs008_envelope_default_ns_splmtry.xml"),
        fixture("pacs008_prefixed_side_by_side.xml"),
        fixture("camt054_prefixed_return_summary.xml"),
        unknown_kind.to_owned(),
    ];
    for xml in inputs {
        let parsed = BusinessMessage::parse(&xml).unwrap();
        let json = serde_json::to_string(&parsed).unwrap();
        let back: BusinessMessage = from_json(&json).unwrap_or_else(|e| panic!("{e}\n{json}"));
        assert_eq!(back, parsed);
        assert_eq!(back.render(), parsed.render());
    }
}

#[test]
fn parts_of_a_message_deserialize_on_their_own() {
    let msg = samples::pacs008(7);
    let json = serde_json::to_string(&msg).unwrap();
    let back: iso20022::pacs008::Pacs008 = from_json(&json).unwrap();
    assert_eq!(back, msg);
    let doc = Document::from(msg.clone());
    let keys = doc.keys();
    let json = serde_json::to_string(&keys).unwrap();
    let back: iso20022::Keys<'_> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, keys);
    let finding = iso20022::cbpr::Finding {
        path: "/Document".into(),
        rule: "CBPR.TX.ONE",
        message: "m".into(),
    };
    let json = serde_json::to_value(&finding).unwrap();
    assert_eq!(
        from_value::<iso20022::cbpr::Finding>(&json).unwrap(),
        finding
    );
    let mut bad = json;
    bad["rule"] = json!("CBPR.NOPE");
    assert!(from_value::<iso20022::cbpr::Finding>(&bad)
        .unwrap_err()
        .contains("unknown rule id"));
}

/// A pacs.008 document as JSON, with one transaction, to break in one place.
fn pacs008_json() -> Value {
    serde_json::to_value(Document::from(samples::pacs008(3))).unwrap()
}

fn refused(doc: &Value) -> String {
    match from_value::<Document>(doc) {
        Ok(d) => panic!("accepted: {d:?}"),
        Err(e) => e,
    }
}

fn assert_refused(doc: &Value, path: &str, reason: &str) {
    let e = refused(doc);
    assert!(
        e.starts_with(&format!("{path}: ")) && e.contains(reason),
        "expected `{path}: ...{reason}...`, got `{e}`"
    );
}

#[test]
fn a_bad_bic_is_refused_at_its_field() {
    let mut doc = pacs008_json();
    doc["Pacs008"]["cdt_trf_tx_inf"][0]["dbtr_agt"]["fin_instn_id"]["bicfi"] = json!("deutdeff");
    assert_refused(
        &doc,
        "Pacs008.cdt_trf_tx_inf[0].dbtr_agt.fin_instn_id.bicfi",
        r#"invalid BIC "deutdeff""#,
    );
}

#[test]
fn a_too_long_text_is_refused_at_its_field() {
    let mut doc = pacs008_json();
    doc["Pacs008"]["cdt_trf_tx_inf"][0]["pmt_id"]["end_to_end_id"] = json!("E".repeat(36));
    assert_refused(
        &doc,
        "Pacs008.cdt_trf_tx_inf[0].pmt_id.end_to_end_id",
        "36 characters, must be 1 to 35",
    );
    doc["Pacs008"]["cdt_trf_tx_inf"][0]["pmt_id"]["end_to_end_id"] = json!("");
    assert_refused(
        &doc,
        "Pacs008.cdt_trf_tx_inf[0].pmt_id.end_to_end_id",
        "0 characters",
    );
}

#[test]
fn amounts_are_exact_decimal_strings() {
    let amt = "Pacs008.cdt_trf_tx_inf[0].intr_bk_sttlm_amt";
    // From text, not from a `Value` (whose keys are sorted): the order as written, `ccy` first.
    let put = |amount: &str| {
        let text = serde_json::to_string(&Document::from(samples::pacs008(3))).unwrap();
        let written =
            serde_json::to_string(&samples::pacs008(3).cdt_trf_tx_inf[0].intr_bk_sttlm_amt)
                .unwrap();
        assert!(text.contains(&written));
        text.replacen(&written, amount, 1)
    };
    let refused_text = |text: &str| from_json::<Document>(text).unwrap_err();
    let e = refused_text(&put(r#"{"ccy":"EUR","amount":"1.234"}"#));
    assert!(
        e.starts_with(&format!(
            r#"{amt}.amount: invalid amount "1.234" for EUR: EUR allows 2 decimal(s); refusing to round"#
        )),
        "{e}"
    );
    let e = refused_text(&put(r#"{"ccy":"EUR","amount":12.5}"#));
    assert!(
        e.starts_with(&format!("{amt}.amount: invalid type: floating point `12.5`, expected an exact decimal in a JSON string")),
        "{e}"
    );

    // A `Value` writes its keys sorted, `amount` before `ccy`: the amount is checked at the end.
    let mut doc = pacs008_json();
    doc["Pacs008"]["cdt_trf_tx_inf"][0]["intr_bk_sttlm_amt"] =
        json!({"ccy": "EUR", "amount": 12.5});
    assert_refused(
        &doc,
        &format!("{amt}.amount"),
        "floating point `12.5`, expected an exact decimal in a JSON string",
    );
    doc["Pacs008"]["cdt_trf_tx_inf"][0]["intr_bk_sttlm_amt"] = json!({"ccy": "EUR", "amount": 12});
    assert_refused(&doc, &format!("{amt}.amount"), "integer `12`");
    doc["Pacs008"]["cdt_trf_tx_inf"][0]["intr_bk_sttlm_amt"] =
        json!({"ccy": "EUR", "amount": "1.234"});
    assert_refused(
        &doc,
        amt,
        r#"amount: invalid amount "1.234" for EUR: EUR allows 2 decimal(s); refusing to round"#,
    );
    doc["Pacs008"]["cdt_trf_tx_inf"][0]["intr_bk_sttlm_amt"] =
        json!({"ccy": "EUR", "amount": "-1.00"});
    assert_refused(&doc, amt, "not a non-negative decimal");
    doc["Pacs008"]["cdt_trf_tx_inf"][0]["intr_bk_sttlm_amt"] =
        json!({"ccy": "HRK", "amount": "1.00"});
    assert_refused(&doc, &format!("{amt}.ccy"), "not an active ISO 4217 code");
    doc["Pacs008"]["cdt_trf_tx_inf"][0]["intr_bk_sttlm_amt"] =
        json!({"ccy": "EUR", "amount": "1.00", "value": 1});
    assert_refused(&doc, &format!("{amt}.value"), "unknown field `value`");
    doc["Pacs008"]["cdt_trf_tx_inf"][0]["intr_bk_sttlm_amt"] = json!({"ccy": "EUR"});
    assert_refused(&doc, amt, "missing field `amount`");

    // Trailing zeros are exact and accepted, as the XML reader accepts them.
    doc["Pacs008"]["cdt_trf_tx_inf"][0]["intr_bk_sttlm_amt"] =
        json!({"ccy": "KWD", "amount": "1.2340"});
    let Document::Pacs008(m) = from_value::<Document>(&doc).unwrap() else {
        panic!("not a pacs.008")
    };
    assert_eq!(m.cdt_trf_tx_inf[0].intr_bk_sttlm_amt.minor(), 1234);
}

#[test]
fn unknown_fields_are_refused() {
    let mut doc = pacs008_json();
    // `NbOfTxs` is written from the transactions: it is not a field, in JSON either.
    doc["Pacs008"]["grp_hdr"]["nb_of_txs"] = json!("1");
    assert_refused(
        &doc,
        "Pacs008.grp_hdr.nb_of_txs",
        "unknown field `nb_of_txs`",
    );
    let mut doc = pacs008_json();
    doc["Pacs008"]["cdt_trf_tx_inf"][0]["dbtr"]["nme"] = json!("typo");
    assert_refused(
        &doc,
        "Pacs008.cdt_trf_tx_inf[0].dbtr.nme",
        "unknown field `nme`",
    );
    let doc = json!({"Pacs999": {}});
    assert!(refused(&doc).contains("unknown variant `Pacs999`"));
    let mut msg = serde_json::to_value(samples::business_message(2)).unwrap();
    msg["app_hdr"]["biz_msg_id"] = json!("x");
    let e = from_value::<BusinessMessage>(&msg).unwrap_err();
    assert!(
        e.starts_with("app_hdr.biz_msg_id: unknown field `biz_msg_id`"),
        "{e}"
    );
}

#[test]
fn occurrence_bounds_of_the_schema_hold() {
    let mut doc = pacs008_json();
    doc["Pacs008"]["cdt_trf_tx_inf"] = json!([]);
    assert_refused(&doc, "Pacs008.cdt_trf_tx_inf", "at least one");

    let mut doc = pacs008_json();
    doc["Pacs008"]["cdt_trf_tx_inf"][0]["dbtr"]["pstl_adr"] =
        json!({"adr_line": ["1", "2", "3", "4", "5", "6", "7", "8"]});
    assert_refused(
        &doc,
        "Pacs008.cdt_trf_tx_inf[0].dbtr.pstl_adr.adr_line",
        "at most 7",
    );

    let mut doc = serde_json::to_value(Document::from(samples::camt054(1))).unwrap();
    let bal = serde_json::to_value(&samples::camt053(1, 0).reports[0].bal).unwrap();
    doc["Camt054"]["reports"][0]["bal"] = bal;
    assert_refused(&doc, "Camt054.reports", "a notification has no balances");

    let mut doc = serde_json::to_value(Document::from(samples::camt053(1, 0))).unwrap();
    doc["Camt053"]["reports"][0]["bal"] = json!([]);
    assert_refused(&doc, "Camt053.reports", "at least one balance");
    doc["Camt053"]["reports"][0]["elctrnc_seq_nb"] = json!(1_000_000_000_000_000_000i64);
    assert_refused(
        &doc,
        "Camt053.reports[0].elctrnc_seq_nb",
        "at most 18 digits",
    );
}

#[test]
fn absent_optional_and_repeated_fields_read_as_empty() {
    let mut doc = pacs008_json();
    let tx = doc["Pacs008"]["cdt_trf_tx_inf"][0].as_object_mut().unwrap();
    let before = tx.len();
    tx.retain(|_, v| !(v.is_null() || v == &json!([])));
    assert!(tx.len() < before);
    let back: Document = from_value(&doc).unwrap();
    assert_eq!(back, Document::from(samples::pacs008(3)));
}

#[test]
fn raw_parts_must_read_back_the_same() {
    let mut doc = pacs008_json();
    let envlp = |raw: &str| json!([{"plc_and_nm": null, "envlp": raw}]);
    let good = r#"<Extra xmlns="urn:example:extra"><A>1</A></Extra>"#;
    doc["Pacs008"]["splmtry_data"] = envlp(good);
    let back: Document = from_value(&doc).unwrap();
    assert_eq!(Document::parse(&back.render()).unwrap(), back);

    for (raw, reason) in [
        ("<Extra>", "XML syntax error"),
        ("<A xmlns=\"\"/><B xmlns=\"\"/>", "exactly one element"),
        (" <A xmlns=\"\"/>", "nothing before or after"),
        ("<x:A/>", "undeclared namespace prefix"),
        ("<A/>", "must declare the namespaces"),
    ] {
        doc["Pacs008"]["splmtry_data"] = envlp(raw);
        assert_refused(&doc, "Pacs008.splmtry_data[0].envlp", reason);
    }

    let unknown = |raw: &str| {
        json!({"Unknown": {
            "namespace": "urn:iso:std:iso:20022:tech:xsd:camt.999.001.01",
            "root": "Foo",
            "raw": raw,
        }})
    };
    let ok =
        r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.999.001.01"><Foo/></Document>"#;
    assert!(from_value::<Document>(&unknown(ok)).is_ok());
    let other =
        r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.999.001.01"><Bar/></Document>"#;
    assert!(refused(&unknown(other)).contains("the fields say <Foo>"));
    let typed = Document::from(samples::pacs002(1)).render();
    let typed = typed.trim_start_matches(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    assert!(refused(&unknown(typed)).contains("is typed"));
}

#[test]
fn summary_sums_are_exact_decimal_strings() {
    let parsed = Document::parse(&fixture("camt054_prefixed_return_summary.xml")).unwrap();
    let doc = serde_json::to_value(&parsed).unwrap();
    let sum = "Camt054.reports[0].txs_summry.ttl_ntries.sum";
    assert_eq!(
        doc["Camt054"]["reports"][0]["txs_summry"]["ttl_ntries"]["sum"],
        json!("12345.67"),
        "written as the string it was read from"
    );
    let with_sum = |v: Value| {
        let mut d = doc.clone();
        d["Camt054"]["reports"][0]["txs_summry"]["ttl_ntries"]["sum"] = v;
        d
    };
    assert_refused(
        &with_sum(json!(12345.67)),
        sum,
        "expected a DecimalNumber string",
    );
    assert_refused(
        &with_sum(json!("1.2345678901234567890")),
        sum,
        "at most 17 digits after the decimal point",
    );
    let mut d = doc.clone();
    d["Camt054"]["reports"][0]["txs_summry"]["ttl_ntries"]["ttl_net_ntry"]["amt"] = json!("-1");
    assert_refused(
        &d,
        "Camt054.reports[0].txs_summry.ttl_ntries.ttl_net_ntry.amt",
        "not below zero",
    );
    let mut d = doc.clone();
    d["Camt054"]["reports"][0]["txs_summry"]["ttl_ntries"]["nb_of_ntries"] =
        json!("1234567890123456");
    assert_refused(
        &d,
        "Camt054.reports[0].txs_summry.ttl_ntries.nb_of_ntries",
        "1 to 15 digits",
    );
}
