//! What must never be printed: runs of 13 to 19 digits that pass the Luhn check (card
//! numbers), IBANs with valid check digits, and given wallet numbers. Used on the gateway's
//! logs by tests/log_scan.rs (the demo) and tests/crash_points.rs (crashes and restarts).

/// Words of 13 to 19 digits that pass the Luhn check (what a card number looks like). A word
/// is what lies between characters other than ASCII letters and digits, once terminal colour
/// codes are taken out: digits inside a hexadecimal identifier (a settlement id, a UETR) are
/// part of that identifier, not a number of their own.
pub fn card_numbers(text: &str) -> Vec<String> {
    without_colours(text)
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| {
            (13..=19).contains(&w.len()) && w.bytes().all(|b| b.is_ascii_digit()) && luhn(w)
        })
        .map(str::to_owned)
        .collect()
}

/// `text` without ANSI colour sequences (ESC `[` … a letter), which would glue a letter to
/// the word after them.
fn without_colours(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
}

/// Every maximal run of ASCII digits.
pub fn digit_runs(text: &str) -> Vec<String> {
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
pub fn ibans(text: &str) -> Vec<String> {
    without_colours(text)
        .split(|c: char| !c.is_ascii_alphanumeric())
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

/// Everything in `text` that must not be there: card numbers, IBANs, and any of `wallets`
/// (MSISDN digits, without the `+`). Empty when the text is clean.
pub fn leaks(text: &str, wallets: &[String]) -> Vec<String> {
    let mut found: Vec<String> = card_numbers(text)
        .into_iter()
        .map(|c| format!("card number {c}"))
        .collect();
    found.extend(ibans(text).into_iter().map(|i| format!("IBAN {i}")));
    found.extend(
        wallets
            .iter()
            .filter(|w| text.contains(w.as_str()))
            .map(|w| format!("wallet number {w}")),
    );
    found
}
