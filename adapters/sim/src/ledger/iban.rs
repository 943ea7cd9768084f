//! IBAN check digits (ISO 13616, mod 97-10), computed rather than copied, so that the
//! generator can make any number of valid account numbers and, on purpose, invalid ones.

/// The two check digits for `country` (two capital letters) and `bban` (capital letters and
/// digits): 98 minus the remainder of the rearranged number modulo 97.
pub fn check_digits(country: &str, bban: &str) -> String {
    let remainder = mod97(bban.chars().chain(country.chars()).chain("00".chars()));
    format!("{:02}", 98 - remainder)
}

/// An IBAN from its country and BBAN, with the check digits computed.
pub fn make(country: &str, bban: &str) -> String {
    format!("{country}{}{bban}", check_digits(country, bban))
}

/// Whether `iban` (no spaces) passes the mod-97 check. Shape only: it does not know each
/// country's BBAN format.
pub fn is_valid(iban: &str) -> bool {
    let bytes = iban.as_bytes();
    if !(15..=34).contains(&bytes.len())
        || !bytes[..2].iter().all(u8::is_ascii_uppercase)
        || !bytes[2..4].iter().all(u8::is_ascii_digit)
        || !bytes[4..]
            .iter()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
    {
        return false;
    }
    mod97(iban[4..].chars().chain(iban[..4].chars())) == 1
}

/// The same IBAN with its check digits changed so that the mod-97 check fails.
pub fn corrupt(iban: &str) -> String {
    let digits: u32 = iban[2..4].parse().unwrap_or(0);
    // Valid check digits lie in 02..=98; moving by one within 0..=99 always breaks the check,
    // since exactly one value in 0..=96 (plus 97 + that) makes the remainder 1.
    let wrong = if digits >= 98 { digits - 1 } else { digits + 1 };
    format!("{}{:02}{}", &iban[..2], wrong, &iban[4..])
}

/// The remainder modulo 97 of the number spelt by `chars`, letters counting A=10 .. Z=35.
fn mod97(chars: impl Iterator<Item = char>) -> u32 {
    let mut remainder: u32 = 0;
    for c in chars {
        let value = c
            .to_digit(36)
            .expect("IBAN characters are digits or letters");
        remainder = if value < 10 {
            (remainder * 10 + value) % 97
        } else {
            (remainder * 100 + value) % 97
        };
    }
    remainder
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_ibans_pass() {
        for iban in [
            "DE89370400440532013000",
            "FR1420041010050500013M02606",
            "GB29NWBK60161331926819",
            "CH9300762011623852957",
            "BE68539007547034",
        ] {
            assert!(is_valid(iban), "{iban}");
        }
    }

    #[test]
    fn computed_check_digits_match_known_ibans() {
        assert_eq!(make("DE", "370400440532013000"), "DE89370400440532013000");
        assert_eq!(make("GB", "NWBK60161331926819"), "GB29NWBK60161331926819");
    }

    #[test]
    fn a_corrupted_iban_fails() {
        for iban in ["DE89370400440532013000", "GB29NWBK60161331926819"] {
            let bad = corrupt(iban);
            assert_ne!(bad, iban);
            assert!(!is_valid(&bad), "{bad}");
        }
    }

    #[test]
    fn malformed_input_is_invalid_not_a_panic() {
        for iban in [
            "",
            "DE",
            "de89370400440532013000",
            "DE89 3704 0044 0532 0130 00",
        ] {
            assert!(!is_valid(iban), "{iban}");
        }
    }
}
