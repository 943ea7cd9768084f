//! No full card number, IBAN or MSISDN in what the gateway prints: the demo (bank payments to
//! IBANs, wallet credits to MSISDNs, rejects, late answers, a crash and a restart) runs with
//! every log at debug level, and its whole output is scanned for Luhn-valid runs of 13 to 19
//! digits, IBANs with valid check digits, and the demo's wallet numbers.

use std::process::Command;

/// Runs of 13 to 19 digits that pass the Luhn check (what a card number looks like).
fn card_numbers(text: &str) -> Vec<String> {
    digit_runs(text)
        .into_iter()
        .filter(|run| (13..=19).contains(&run.len()) && luhn(run))
        .collect()
}

fn digit_runs(text: &str) -> Vec<String> {
    let mut runs = Vec::new();
    let mut current = String::new();
    for c in text.chars().chain(std::iter::once(' ')) {
        if c.is_ascii_digit() {
            current.push(c);
        } else if !current.is_empty() {
            runs.push(std::mem::take(&mut current));
        }
    }
    runs
}

fn luhn(digits: &str) -> bool {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 1 {
                let twice = d * 2;
                if twice > 9 {
                    twice - 9
                } else {
                    twice
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// Words that are IBANs with valid check digits (ISO 13616 mod 97).
fn ibans(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| {
            let b = w.as_bytes();
            (15..=34).contains(&b.len())
                && b[..2].iter().all(u8::is_ascii_uppercase)
                && b[2..4].iter().all(u8::is_ascii_digit)
                && b[4..]
                    .iter()
                    .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
                && iban_check(w)
        })
        .map(str::to_owned)
        .collect()
}

fn iban_check(iban: &str) -> bool {
    let rearranged = iban[4..].chars().chain(iban[..4].chars());
    let mut rest = 0u32;
    for c in rearranged {
        let value = c.to_digit(36).unwrap();
        for digit in value.to_string().chars() {
            rest = (rest * 10 + digit.to_digit(10).unwrap()) % 97;
        }
    }
    rest == 1
}

#[test]
fn the_scanner_finds_what_it_looks_for() {
    let planted = "paid 4111111111111111 to DE89370400440532013000 and +639171234567";
    assert_eq!(card_numbers(planted), ["4111111111111111"]);
    assert_eq!(ibans(planted), ["DE89370400440532013000"]);
    assert!(card_numbers("4111111111111112 1234").is_empty());
    assert!(ibans("DE89370400440532013001 BANKDEFFXXX").is_empty());
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
