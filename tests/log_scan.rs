//! No full card number, IBAN or MSISDN in what the gateway prints: the demo (bank payments to
//! IBANs, wallet credits to MSISDNs, rejects, late answers, a crash and a restart) runs with
//! every log at debug level, and its whole output is scanned for Luhn-valid runs of 13 to 19
//! digits, IBANs with valid check digits, and the demo's wallet numbers.

mod common;

use common::scan::{card_numbers, digit_runs, ibans, leaks};
use std::process::Command;

#[test]
fn the_scanner_finds_what_it_looks_for() {
    let planted = "paid 4111111111111111 to DE89370400440532013000 and +639171234567";
    assert_eq!(card_numbers(planted), ["4111111111111111"]);
    assert_eq!(ibans(planted), ["DE89370400440532013000"]);
    assert!(card_numbers("4111111111111112 1234").is_empty());
    // Colour codes do not hide a number; a hexadecimal identifier is not one.
    assert_eq!(
        card_numbers("\u{1b}[3mpan\u{1b}[0m=\u{1b}[2m4111111111111111\u{1b}[0m"),
        ["4111111111111111"]
    );
    assert_eq!(
        ibans("\u{1b}[2m=\u{1b}[0mDE89370400440532013000"),
        ["DE89370400440532013000"]
    );
    assert!(card_numbers("settlement=st-dde92cd59968466786827f4937577cdf").is_empty());
    assert!(ibans("DE89370400440532013001 BANKDEFFXXX").is_empty());
    assert_eq!(
        leaks(planted, &["639171234567".to_string()]),
        [
            "card number 4111111111111111",
            "IBAN DE89370400440532013000",
            "wallet number 639171234567"
        ]
    );
    assert!(leaks("settled st-00ab 12.00 EUR", &["639171234567".to_string()]).is_empty());
}

#[test]
fn the_demo_prints_no_card_number_iban_or_msisdn() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("demo");
    let output = Command::new(env!("CARGO_BIN_EXE_corridor"))
        .args(["demo", "--events", "120", "--data-dir"])
        .arg(&data)
        .env("RUST_LOG", "debug")
        .env_remove("CORRIDOR_CONFIG")
        .output()
        .expect("run the demo");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{text}");
    assert!(
        text.lines().count() > 500,
        "the debug logs were not printed: {} lines",
        text.lines().count()
    );
    // The demo's payments did carry IBANs and wallet numbers: they are in its store.
    let store = std::fs::read(data.join("corridor.db")).unwrap_or_default();
    let stored = String::from_utf8_lossy(&store);
    assert!(!ibans(&stored).is_empty(), "no IBAN in the demo's store");
    let wallets: Vec<String> = digit_runs(&stored)
        .into_iter()
        .filter(|run| run.len() == 12 && run.starts_with("639"))
        .collect();
    assert!(!wallets.is_empty(), "no wallet number in the demo's store");

    assert_eq!(
        card_numbers(&text),
        Vec::<String>::new(),
        "card numbers in the output"
    );
    assert_eq!(ibans(&text), Vec::<String>::new(), "IBANs in the output");
    let leaked: Vec<&String> = wallets
        .iter()
        .filter(|w| text.contains(w.as_str()))
        .collect();
    assert!(
        leaked.is_empty(),
        "wallet numbers in the output: {leaked:?}"
    );
}
