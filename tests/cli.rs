//! The `corridor` binary as an operator uses it: ingest a file, list, replay, check config,
//! and the ISO 8583 tools.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn corridor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corridor"))
        .args(args)
        .env_remove("CORRIDOR_CONFIG")
        .output()
        .expect("run corridor")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn config(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("corridor.toml");
    let toml = format!(
        r#"
[gateway]
bic = "CORRGB2LXXX"
[store]
database_url = "sqlite://corridor.db"
data_dir = "{}"
[[ledgers]]
id = "file-ledger"
secrets = ["super-secret-value"]
[[banks]]
id = "b1"
bic = "DEUTDEFFXXX"
endpoint = "https://127.0.0.1:9/mx"
ca_file = "ca.pem"
cert_file = "c.pem"
key_file = "k.pem"
[[routes]]
currencies = ["EUR"]
rail = "bank"
counterparty = "b1"
"#,
        dir.display()
    );
    std::fs::write(&path, toml).unwrap();
    path
}

fn event(id: &str, iban: &str) -> String {
    serde_json::json!({
        "event_id": id, "type": "settlement.requested", "amount": "12.50", "currency": "EUR",
        "debtor": {"name": "A", "account": {"iban": "DE89370400440532013000"},
                   "address": {"town_name": "Berlin", "country": "DE"}},
        "creditor": {"name": "B", "account": {"iban": iban},
                     "address": {"street_name": "Rue de Rivoli", "building_number": "10", "post_code": "75001", "town_name": "Paris", "country": "FR"}}
    })
    .to_string()
}

#[test]
fn ingest_a_file_then_inspect_and_replay() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let config = config.to_str().unwrap();
    let file = dir.path().join("events.jsonl");
    let good = event("f-1", "FR1420041010050500013M02606");
    let lines = [
        good.clone(),
        String::new(),
        good,
        event("f-2", "FR1520041010050500013M02606"),
        "{not json".to_string(),
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();

    let out = corridor(&[
        "ingest",
        "--config",
        config,
        "--ledger",
        "file-ledger",
        file.to_str().unwrap(),
    ]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("line 1: f-1 st-") && said.contains(" 201 submitted"),
        "{said}"
    );
    assert!(
        said.contains("line 3: f-1 st-") && said.contains(" 200 submitted"),
        "{said}"
    );
    assert!(
        said.contains("line 4: f-2 - 422 creditor.account.iban"),
        "{said}"
    );
    assert!(said.contains("line 5: refused: body is not JSON"), "{said}");
    assert!(
        said.contains("1 created, 1 already known, 2 refused"),
        "{said}"
    );

    let out = corridor(&[
        "ingest",
        "--config",
        config,
        "--ledger",
        "nobody",
        file.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("ledger \"nobody\" is not configured"),
        "{}",
        text(&out)
    );

    let out = corridor(&["settlements", "list", "--config", config]);
    let said = text(&out);
    assert!(
        said.contains("submitted")
            && said.contains("12.50 EUR")
            && said.contains("file-ledger/f-1"),
        "{said}"
    );
    let id = said.split_whitespace().next().unwrap().to_string();
    let out = corridor(&["settlements", "show", "--config", config, &id]);
    assert!(text(&out).contains("received -> routed"), "{}", text(&out));

    let out = corridor(&["outbox", "list", "--config", config, "--status", "pending"]);
    let said = text(&out);
    assert!(said.contains("deliver") && said.contains(&id), "{said}");
    // Only a dead (or pending) row can be replayed; an unknown id is an error.
    let out = corridor(&["outbox", "replay", "--config", config, "999"]);
    assert!(!out.status.success());
    assert!(
        text(&out).contains("does not exist or is not dead/pending"),
        "{}",
        text(&out)
    );

    let out = corridor(&["check-config", "--config", config]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    assert!(
        !said.contains("super-secret-value"),
        "secret printed: {said}"
    );
    assert!(
        said.contains("config OK: 1 ledgers, 1 banks, 1 routes"),
        "{said}"
    );
}

#[test]
fn iso8583_encode_then_decode_masks_the_wallet() {
    let json = r#"{"mti":"0200","2":"639171234567","3":"260000","4":"000000001000","7":"1125120000","11":"000001","37":"632912000001","41":"CORRIDOR","49":"608"}"#;
    let mut child = Command::new(env!("CARGO_BIN_EXE_corridor"))
        .args(["iso8583", "encode", "--spec", "mobile-money"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let hex = String::from_utf8(out.stdout).unwrap();
    let out = corridor(&["iso8583", "decode", "--spec", "mobile-money", hex.trim()]);
    let said = text(&out);
    assert!(out.status.success(), "{said}");
    let decoded: serde_json::Value =
        serde_json::from_str(&String::from_utf8_lossy(&out.stdout)).unwrap();
    assert_eq!(decoded["mti"], "0200");
    assert_eq!(decoded["4"], "000000001000");
    assert_eq!(decoded["2"], "********4567", "the wallet number is masked");
    let out = corridor(&["iso8583", "decode", "--spec", "mobile-money", "zz"]);
    assert!(!out.status.success());
}

#[test]
fn iso20022_validate_and_parse_a_rendered_pacs008() {
    let dir = tempfile::tempdir().unwrap();
    let config = corridor::config::Config::load(&config(dir.path()), Vec::new()).unwrap();
    let json = corridor::intake::event::parse_json(
        serde_json::from_str(&event("x-1", "FR1420041010050500013M02606")).unwrap(),
    )
    .unwrap();
    let settlement = corridor::intake::event::to_settlement("file-ledger", &json).unwrap();
    let outbound =
        corridor::rails::bank::prepare(&config.gateway.bic, &config.banks[0], &settlement).unwrap();
    let good = dir.path().join("good.xml");
    std::fs::write(&good, &outbound.body).unwrap();

    let out = corridor(&["iso20022", "validate", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("pacs.008.001.08 valid"),
        "{}",
        text(&out)
    );

    let out = corridor(&["iso20022", "parse", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let parsed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(parsed["keys"]["uetr"], outbound.uetr.unwrap().as_str());
    assert_eq!(parsed["keys"]["end_to_end_id"], settlement.id.as_str());

    let body = String::from_utf8(outbound.body).unwrap();
    let instr = outbound.instr_id.unwrap();
    let bad = dir.path().join("bad.xml");
    std::fs::write(
        &bad,
        body.replace(
            &format!("<InstrId>{instr}<"),
            "<InstrId>/starts/with/slash<",
        ),
    )
    .unwrap();
    let out = corridor(&["iso20022", "validate", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("[CBPR.INSTRID.FORMAT]"),
        "{}",
        text(&out)
    );

    let broken = dir.path().join("broken.xml");
    std::fs::write(&broken, &body[..body.len() / 2]).unwrap();
    let out = corridor(&["iso20022", "validate", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("[SCHEMA]"), "{}", text(&out));
}

/// A message in a version Corridor does not model is never called valid; an oversized file is
/// refused before it is read; an error is printed once.
#[test]
fn iso20022_validate_refuses_what_it_does_not_model_and_what_is_too_large() {
    let dir = tempfile::tempdir().unwrap();
    let rendered = iso20022::samples::business_message(2).render();
    let v12 = dir.path().join("v12.xml");
    std::fs::write(
        &v12,
        rendered
            .replace("pacs.008.001.08", "pacs.008.001.12")
            .replacen("<UETR>", "<UETR>x", 1),
    )
    .unwrap();
    let out = corridor(&["iso20022", "validate", v12.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let said = text(&out);
    assert!(
        said.contains("[CBPR.KIND.SUPPORTED]")
            && said.contains("pacs.008.001.12")
            && said.contains("pacs.008.001.08")
            && !said.contains(" valid ("),
        "{said}"
    );

    // A sparse file larger than the parser's limit: refused from its size, without reading it.
    let huge = dir.path().join("huge.xml");
    let limit = iso20022::Limits::default().message_bytes_max as u64;
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(limit * 100)
        .unwrap();
    for verb in ["validate", "parse"] {
        let out = corridor(&["iso20022", verb, huge.to_str().unwrap()]);
        assert!(!out.status.success());
        assert!(
            text(&out).contains(&format!("more than the {limit} bytes")),
            "{}",
            text(&out)
        );
    }

    // An invalid value's error, in strict mode, is printed once (not once more as its cause).
    let bad = dir.path().join("bad.xml");
    std::fs::write(
        &bad,
        r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"><FIToFIPmtStsRpt><GrpHdr><MsgId>A</MsgId><CreDtTm>yesterday</CreDtTm></GrpHdr></FIToFIPmtStsRpt></Document>"#,
    )
    .unwrap();
    let out = corridor(&["iso20022", "parse", "--strict", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    assert_eq!(
        text(&out).matches("invalid ISODateTime").count(),
        1,
        "{}",
        text(&out)
    );
}

fn fixture(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("adapters/iso20022/tests/fixtures")
        .join(name)
}

fn render_stdin(args: &[&str], json: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_corridor"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(json.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn iso20022_parse_render_parse_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let xml = fixture("pacs008_envelope_default_ns_splmtry.xml");
    let out = corridor(&["iso20022", "parse", "--strict", xml.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let json = dir.path().join("pacs008.json");
    std::fs::write(&json, &out.stdout).unwrap();

    let out = corridor(&[
        "iso20022",
        "render",
        "pacs.008",
        "--input",
        json.to_str().unwrap(),
        "--envelope",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let rendered = dir.path().join("rendered.xml");
    std::fs::write(&rendered, &out.stdout).unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("<Envelope xmlns="));

    let again = corridor(&["iso20022", "parse", "--strict", rendered.to_str().unwrap()]);
    assert!(again.status.success(), "{}", text(&again));
    let first: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let second: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(
        first, second,
        "parse -> render -> parse gives the same message"
    );

    // The bare document, from standard input, under any spelling of the kind: a bare Document.
    let document = serde_json::to_string(&first["parsed"]["document"]["Pacs008"]).unwrap();
    let out = render_stdin(
        &["iso20022", "render", "pacs008", "--input", "-"],
        &document,
    );
    assert!(out.status.success(), "{}", text(&out));
    let bare = String::from_utf8_lossy(&out.stdout);
    assert!(
        bare.contains("<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\">")
            && !bare.contains("AppHdr"),
        "{bare}"
    );
    let out = render_stdin(
        &[
            "iso20022",
            "render",
            "pacs.008.001.08",
            "--input",
            "-",
            "--envelope",
        ],
        &document,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("app_hdr: missing"), "{}", text(&out));
}

#[test]
fn iso20022_render_refuses_bad_input_with_its_path() {
    let xml = fixture("pacs008_envelope_default_ns_splmtry.xml");
    let out = corridor(&["iso20022", "parse", xml.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out));
    let json = String::from_utf8(out.stdout).unwrap();
    let amount = r#""amount": ""#;
    let at = json.find(amount).expect("an amount") + amount.len();
    let end = at + json[at..].find('"').unwrap();
    // One more decimal than the currency allows.
    let bad = format!("{}{}1{}", &json[..at], &json[at..end], &json[end..]);
    let out = render_stdin(&["iso20022", "render", "pacs.008", "--input", "-"], &bad);
    let said = text(&out);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert_eq!(said.lines().count(), 1, "one line: {said}");
    assert!(
        said.starts_with("error: standard input: parsed.document.Pacs008.")
            && said.contains("_amt.amount: invalid amount")
            && said.contains("refusing to round"),
        "{said}"
    );

    let out = render_stdin(&["iso20022", "render", "pacs.007", "--input", "-"], &json);
    assert_eq!(out.status.code(), Some(2), "usage error");
    assert!(
        text(&out).contains("unknown message kind")
            && text(&out).contains("pacs.008 (pacs.008.001.08)"),
        "{}",
        text(&out)
    );
}
