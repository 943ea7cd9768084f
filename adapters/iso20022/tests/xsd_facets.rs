//! The typed model against the official schemas in ../shared (skipped, saying so, when they
//! are absent): every closed code list equals its XSD enumeration, every text type has its
//! XSD length facets, every pattern type accepts exactly what its XSD pattern accepts, and
//! every decimal type its digit facets. Read from the XSDs, in every schema that defines the
//! type, rather than checked by eye.

use iso20022::types::*;
use regex::Regex;
use std::path::PathBuf;

/// Whether a type's constructor accepts a text.
type Accepts = fn(&str) -> bool;

/// (file name, text) of every official schema, or None when ../shared is absent.
fn schemas(test: &str) -> Option<Vec<(String, String)>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/iso20022/xsd");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("SKIPPED [../shared] {test}: {} not found", dir.display());
        return None;
    };
    let mut schemas: Vec<(String, String)> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xsd"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&p).unwrap())
        })
        .collect();
    schemas.sort();
    assert!(schemas.len() >= 10, "only {} schemas", schemas.len());
    Some(schemas)
}

/// The body of the simple type `name` in one schema, if it defines it.
fn simple_type<'a>(xsd: &'a str, name: &str) -> Option<&'a str> {
    let start = xsd.find(&format!(r#"<xs:simpleType name="{name}">"#))?;
    let body = &xsd[start..];
    Some(&body[..body.find("</xs:simpleType>")?])
}

/// Every value of the facet `facet` (`xs:enumeration`, `xs:maxLength`, ...) in a type's body.
fn facet(body: &str, facet: &str) -> Vec<String> {
    body.split(&format!(r#"<xs:{facet} value=""#))
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].replace("&amp;", "&"))
        .collect()
}

/// Each definition of `name` across the schemas, with the schema it is in; at least one.
fn definitions<'a>(schemas: &'a [(String, String)], name: &str) -> Vec<(&'a str, &'a str)> {
    let found: Vec<_> = schemas
        .iter()
        .filter_map(|(file, text)| simple_type(text, name).map(|body| (file.as_str(), body)))
        .collect();
    assert!(
        !found.is_empty(),
        "{name} is defined in none of the schemas"
    );
    found
}

#[test]
fn code_lists_equal_the_schema_enumerations() {
    let Some(schemas) = schemas("code lists") else {
        return;
    };
    let lists: &[(&str, &[&str])] = &[
        ("SettlementMethod1Code", SettlementMethod::CODES),
        ("ChargeBearerType1Code", ChargeBearer::CODES),
        ("Priority2Code", Priority::CODES),
        ("Priority3Code", SettlementPriority::CODES),
        ("Authorisation1Code", Authorisation::CODES),
        ("CopyDuplicate1Code", CopyDuplicate::CODES),
        ("Instruction3Code", CreditorAgentInstruction::CODES),
        ("Instruction4Code", NextAgentInstruction::CODES),
        ("Instruction5Code", FiCreditorAgentInstruction::CODES),
        (
            "CancellationIndividualStatus1Code",
            CancellationStatus::CODES,
        ),
        ("CreditDebitCode", CreditDebit::CODES),
        ("PaymentMethod3Code", PaymentMethod::CODES),
        ("SequenceType3Code", SequenceType::CODES),
        ("PaymentMethod4Code", OriginalPaymentMethod::CODES),
        ("ExchangeRateType1Code", ExchangeRateType::CODES),
        ("ClearingChannel2Code", ClearingChannel::CODES),
        (
            "RemittanceLocationMethod2Code",
            RemittanceLocationMethod::CODES,
        ),
        ("TaxRecordPeriod1Code", TaxRecordPeriod::CODES),
        ("DocumentType6Code", DocumentType6::CODES),
        ("DocumentType3Code", DocumentType3::CODES),
        (
            "RegulatoryReportingType1Code",
            RegulatoryReportingType::CODES,
        ),
        ("NamePrefix2Code", NamePrefix::CODES),
        ("PreferredContactMethod1Code", PreferredContactMethod::CODES),
        ("AddressType2Code", AddressType2::CODES),
        ("InterestType1Code", InterestTypeCode::CODES),
        ("ChequeType2Code", ChequeType::CODES),
        ("ChequeDelivery1Code", ChequeDelivery::CODES),
        ("Frequency6Code", Frequency::CODES),
    ];
    for (xsd_type, codes) in lists {
        let mut ours: Vec<&str> = codes.to_vec();
        ours.sort_unstable();
        for (file, body) in definitions(&schemas, xsd_type) {
            let mut theirs = facet(body, "enumeration");
            theirs.sort_unstable();
            assert_eq!(ours, theirs, "{xsd_type} in {file}");
        }
    }
}

#[test]
fn text_types_have_the_schema_lengths() {
    let Some(schemas) = schemas("text lengths") else {
        return;
    };
    let texts: &[(&str, usize, Accepts)] = &[
        ("Max4Text", 4, |s| Max4Text::new(s).is_ok()),
        ("Max10Text", 10, |s| Max10Text::new(s).is_ok()),
        ("Max16Text", 16, |s| Max16Text::new(s).is_ok()),
        ("Max34Text", 34, |s| Max34Text::new(s).is_ok()),
        ("Max35Text", 35, |s| Max35Text::new(s).is_ok()),
        ("Max70Text", 70, |s| Max70Text::new(s).is_ok()),
        ("Max105Text", 105, |s| Max105Text::new(s).is_ok()),
        ("Max128Text", 128, |s| Max128Text::new(s).is_ok()),
        ("Max140Text", 140, |s| Max140Text::new(s).is_ok()),
        ("Max350Text", 350, |s| Max350Text::new(s).is_ok()),
        ("Max500Text", 500, |s| Max500Text::new(s).is_ok()),
        ("Max1025Text", 1025, |s| Max1025Text::new(s).is_ok()),
        ("Max2048Text", 2048, |s| Max2048Text::new(s).is_ok()),
    ];
    for &(xsd_type, ours, accepts) in texts {
        for (file, body) in definitions(&schemas, xsd_type) {
            let min: usize = facet(body, "minLength")[0].parse().unwrap();
            let max: usize = facet(body, "maxLength")[0].parse().unwrap();
            assert_eq!(max, ours, "{xsd_type} maxLength in {file}");
            // Behaviour at each bound, counted in characters as XSD counts them.
            assert!(accepts(&"é".repeat(max)), "{xsd_type}: {max} characters");
            assert!(
                !accepts(&"a".repeat(max + 1)),
                "{xsd_type}: {} characters",
                max + 1
            );
            assert_eq!(
                accepts(""),
                min == 0,
                "{xsd_type} minLength {min} in {file}"
            );
            assert!(accepts(&"a".repeat(min.max(1))));
        }
    }
}

/// Strings near `valid`: itself, each character replaced by one of several classes, one
/// character removed, one added, and the whole upper- and lower-cased.
fn neighbours(valid: &str) -> Vec<String> {
    let chars: Vec<char> = valid.chars().collect();
    let mut out = vec![
        valid.to_owned(),
        valid.to_uppercase(),
        valid.to_lowercase(),
        String::new(),
    ];
    for i in 0..chars.len() {
        for replacement in [
            'A', 'z', '0', '9', '-', ' ', '+', '(', 'é', 'f', 'g', '4', '8',
        ] {
            let mut c = chars.clone();
            c[i] = replacement;
            out.push(c.iter().collect());
        }
        let mut shorter = chars.clone();
        shorter.remove(i);
        out.push(shorter.iter().collect());
        let mut longer = chars.clone();
        longer.insert(i, chars[i]);
        out.push(longer.iter().collect());
    }
    out.push(format!("{valid}X"));
    out.push(format!("{valid}1"));
    out
}

#[test]
fn pattern_types_accept_what_the_schema_pattern_accepts() {
    let Some(schemas) = schemas("patterns") else {
        return;
    };
    // (type, our check, valid values to explore around)
    let patterns: &[(&str, Accepts, &[&str])] = &[
        (
            "BICFIDec2014Identifier",
            |s| Bic::new(s).is_ok(),
            &["BANKDEFF", "BANKDEFFXXX", "AB12CD34E5F"],
        ),
        (
            "AnyBICDec2014Identifier",
            |s| Bic::new(s).is_ok(),
            &["BANKDEFF", "BANKDEFFXXX"],
        ),
        (
            "IBAN2007Identifier",
            |s| Iban::new(s).is_ok(),
            &["DE89370400440532013000", "FR1420041010050500013M02606"],
        ),
        (
            "LEIIdentifier",
            |s| Lei::new(s).is_ok(),
            &["5493001KJTIIGC8Y1R12"],
        ),
        (
            "CountryCode",
            |s| CountryCode::new(s).is_ok(),
            &["DE", "US"],
        ),
        (
            "UUIDv4Identifier",
            |s| Uetr::new(s).is_ok(),
            &["8a562c67-ca16-48ba-b074-65581be6f001"],
        ),
        (
            "PhoneNumber",
            |s| PhoneNumber::new(s).is_ok(),
            &["+44-2079460000", "+1-(212)555-0100"],
        ),
        (
            "Exact4AlphaNumericText",
            |s| Exact4AlphaNumeric::new(s).is_ok(),
            &["AB12"],
        ),
        (
            "Exact2NumericText",
            |s| Exact2Numeric::new(s).is_ok(),
            &["07"],
        ),
        (
            "Max15NumericText",
            |s| Max15NumericText::new(s).is_ok(),
            &["1", "123456789012345"],
        ),
        (
            "ISINOct2015Identifier",
            |s| Isin::new(s).is_ok(),
            &["US0378331005"],
        ),
    ];
    for &(xsd_type, accepts, valid) in patterns {
        for (file, body) in definitions(&schemas, xsd_type) {
            let pattern = &facet(body, "pattern")[0];
            // XSD patterns match the whole value.
            let schema = Regex::new(&format!("^(?:{pattern})$")).unwrap();
            for v in valid {
                assert!(schema.is_match(v), "{xsd_type}: {v} is no example");
                for candidate in neighbours(v) {
                    assert_eq!(
                        accepts(&candidate),
                        schema.is_match(&candidate),
                        "{xsd_type} ({file}, pattern {pattern}) on {candidate:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn decimal_types_have_the_schema_digit_facets() {
    let Some(schemas) = schemas("decimals") else {
        return;
    };
    let decimals: &[(&str, Accepts)] = &[
        ("DecimalNumber", |s| DecimalNumber::new(s).is_ok()),
        ("BaseOneRate", |s| BaseOneRate::new(s).is_ok()),
        ("PercentageRate", |s| PercentageRate::new(s).is_ok()),
    ];
    for &(xsd_type, accepts) in decimals {
        for (file, body) in definitions(&schemas, xsd_type) {
            let total: usize = facet(body, "totalDigits")[0].parse().unwrap();
            let fraction: usize = facet(body, "fractionDigits")[0].parse().unwrap();
            let at = |whole: usize, frac: usize| {
                let w = "1".repeat(whole.max(1));
                if frac == 0 {
                    w
                } else {
                    format!("{w}.{}", "2".repeat(frac))
                }
            };
            let context = format!("{xsd_type} (total {total}, fraction {fraction}) in {file}");
            assert!(accepts(&at(total - fraction, fraction)), "{context}");
            assert!(accepts(&at(total, 0)), "{context}: {} whole digits", total);
            assert!(!accepts(&at(total - fraction, fraction + 1)), "{context}");
            assert!(!accepts(&at(total + 1, 0)), "{context}");
            assert!(!accepts(&at(total - fraction + 1, fraction)), "{context}");
        }
    }
}
