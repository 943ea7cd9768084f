//! Regressions for messages other writers produce that this crate read wrongly: each test
//! builds the message that showed the defect and checks the reading now matches the schema.

use iso20022::cbpr;
use iso20022::samples;
use iso20022::types::*;
use iso20022::{BusinessMessage, Document, ParseOptions};

fn strict() -> ParseOptions {
    ParseOptions::strict()
}

/// `SttlmPrty` is a `Priority3Code` (URGT, HIGH, NORM) in pacs.008, pacs.009 and pacs.004;
/// `InstrPrty` stays a `Priority2Code`.
#[test]
fn settlement_priority_urgent_reads_in_every_message_that_has_it() {
    let mut p008 = samples::pacs008(3);
    p008.cdt_trf_tx_inf[0].sttlm_prty = Some(SettlementPriority::Urgt);
    let mut p009 = samples::pacs009(3);
    p009.cdt_trf_tx_inf[0].sttlm_prty = Some(SettlementPriority::Urgt);
    let mut p004 = samples::pacs004(3);
    p004.tx_inf[0].sttlm_prty = Some(SettlementPriority::Urgt);
    for doc in [Document::from(p008), p009.into(), p004.into()] {
        let xml = doc.render();
        assert!(xml.contains("<SttlmPrty>URGT</SttlmPrty>"), "{xml}");
        for options in [ParseOptions::default(), strict()] {
            let read = Document::parse_with(&xml, &options)
                .unwrap_or_else(|e| panic!("{}: {e}", doc.msg_def_idr()));
            assert_eq!(read, doc);
        }
    }
    // The instruction priority has no URGT.
    let xml = Document::from(samples::pacs008(3))
        .render()
        .replace("<SttlmPrty>URGT</SttlmPrty>", "")
        .replacen("<PmtTpInf>", "<PmtTpInf><InstrPrty>URGT</InstrPrty>", 1);
    if xml.contains("<InstrPrty>URGT</InstrPrty>") {
        let err = Document::parse_with(&xml, &strict()).unwrap_err();
        assert!(err.to_string().contains("InstrPrty"), "{err}");
    }
}

/// `Number` is `xs:decimal` with no fraction digits: a validator accepts `1000.00`, `+7`,
/// `007`; the reader must too, and must still refuse a real fraction or a 19th digit.
#[test]
fn sequence_numbers_read_in_the_whole_decimal_lexical_space() {
    let mut camt = samples::camt053(5, 1);
    camt.reports[0].elctrnc_seq_nb = Some(1000);
    camt.reports[0].lgl_seq_nb = None;
    let xml = Document::from(camt).render();
    assert!(xml.contains("<ElctrncSeqNb>1000</ElctrncSeqNb>"), "{xml}");
    let read_seq = |text: &str| {
        let changed = xml.replace(
            "<ElctrncSeqNb>1000</ElctrncSeqNb>",
            &format!("<ElctrncSeqNb>{text}</ElctrncSeqNb>"),
        );
        Document::parse_with(&changed, &strict()).map(|doc| match doc {
            Document::Camt053(c) => c.reports[0].elctrnc_seq_nb,
            other => panic!("read as {}", other.msg_def_idr()),
        })
    };
    for (text, value) in [
        ("1000.00", 1000),
        ("1000.", 1000),
        ("+1000", 1000),
        ("0001000", 1000),
        ("-0", 0),
        (".0", 0),
        ("-12", -12),
        ("999999999999999999", 999_999_999_999_999_999),
        ("000999999999999999999.000", 999_999_999_999_999_999),
    ] {
        assert_eq!(read_seq(text).unwrap(), Some(value), "{text}");
    }
    for text in [
        "1000.5",
        "1e3",
        "",
        "+",
        ".",
        "1,000",
        "--1",
        "1 000",
        "1000000000000000000",
    ] {
        let err = read_seq(text).unwrap_err().to_string();
        assert!(err.contains("ElctrncSeqNb"), "{text}: {err}");
    }
}

/// A market infrastructure's wrapper around SWIFT's envelope around AppHdr + Document: any
/// number of wrapper levels up to four, whatever they are called and whatever else they hold.
#[test]
fn documents_inside_two_wrapper_levels_are_found() {
    let msg = samples::business_message(8);
    let envelope = msg.render();
    let body = envelope
        .strip_prefix(r#"<?xml version="1.0" encoding="UTF-8"?>"#)
        .unwrap_or(&envelope)
        .trim();
    let two_levels = format!(
        r#"<?xml version="1.0"?>
<Saa:DataPDU xmlns:Saa="urn:swift:saa:xsd:saa.2.0">
  <Saa:Revision>2.0.15</Saa:Revision>
  <Saa:Header><Saa:Message><Saa:SenderReference>REF1</Saa:SenderReference></Saa:Message></Saa:Header>
  <Saa:Body>{body}</Saa:Body>
</Saa:DataPDU>"#
    );
    for options in [ParseOptions::default(), strict()] {
        let read = BusinessMessage::parse_with(&two_levels, &options).unwrap();
        assert_eq!(read, msg);
    }

    // Four levels around the Document is the most looked through; a fifth is refused with a
    // message that says how deep the search went.
    let wrap = |inner: &str, n: usize| {
        (0..n).fold(inner.to_owned(), |acc, i| format!("<W{i}>{acc}</W{i}>"))
    };
    assert_eq!(
        BusinessMessage::parse(&wrap(body, 3)).unwrap(),
        msg,
        "envelope + 3 wrappers = 4 levels"
    );
    let err = BusinessMessage::parse(&wrap(body, 4))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("no Document found") && err.contains("4 levels"),
        "{err}"
    );

    // Two Documents at the level where the first is found is ambiguous.
    let doc = msg.document.render();
    let doc = doc.trim_start_matches(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let err = BusinessMessage::parse(&format!("<A><B>{doc}{doc}</B></A>"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("more than once"), "{err}");
}

/// A pacs.008.001.12 (a version this crate does not model) with an element the schema does not
/// have, a UETR that is not one and ChrgBr SLEV is never reported valid: the finding names the
/// version found and the version read.
#[test]
fn a_version_not_modelled_is_never_reported_valid() {
    let msg = samples::business_message(2);
    let xml = msg
        .render()
        .replace("pacs.008.001.08", "pacs.008.001.12")
        .replacen("<UETR>", "<UETR>not-a-uetr", 1)
        .replacen("</GrpHdr>", "<Bogus/></GrpHdr>", 1);
    let read = BusinessMessage::parse(&xml).unwrap();
    assert!(matches!(read.document, Document::Unknown { .. }));
    let findings = cbpr::validate(&read);
    let supported: Vec<_> = findings
        .iter()
        .filter(|f| f.rule == "CBPR.KIND.SUPPORTED")
        .collect();
    assert_eq!(supported.len(), 1, "{findings:?}");
    let text = supported[0].to_string();
    assert!(
        text.contains("pacs.008.001.12") && text.contains("pacs.008.001.08"),
        "{text}"
    );

    // A kind with no version modelled at all names every kind that is.
    let unknown = Document::Unknown {
        namespace: "urn:iso:std:iso:20022:tech:xsd:camt.060.001.05".into(),
        root: "AcctRptgReq".into(),
        raw: String::new(),
    };
    let why = unknown.unsupported().unwrap();
    assert!(
        why.contains("camt.060.001.05") && why.contains("pacs.008.001.08"),
        "{why}"
    );
    assert_eq!(Document::from(samples::pacs002(1)).unsupported(), None);
}

/// An AppHdr in another head.001 version, or SWIFT's legacy header, is refused with the
/// version found and the one read.
#[test]
fn an_app_header_version_not_modelled_is_named() {
    let xml = samples::business_message(4).render();
    for (namespace, expect) in [
        (
            "urn:iso:std:iso:20022:tech:xsd:head.001.001.03",
            "head.001.001.03",
        ),
        (
            "urn:iso:std:iso:20022:tech:xsd:head.001.001.04",
            "head.001.001.04",
        ),
        (
            "urn:iso:std:iso:20022:tech:xsd:head.001.001.01",
            "head.001.001.01",
        ),
        ("urn:swift:xsd:$ahV10", "$ahV10"),
    ] {
        let changed = xml.replace("urn:iso:std:iso:20022:tech:xsd:head.001.001.02", namespace);
        let err = BusinessMessage::parse(&changed).unwrap_err().to_string();
        assert!(
            err.contains(expect) && err.contains("head.001.001.02"),
            "{namespace}: {err}"
        );
    }
}

/// pain.001's `GrpHdr/Authstn` (0 to 2 `Authorisation1Choice`) is read, in strict mode too.
#[test]
fn pain001_authorisations_read_strictly() {
    let mut found = 0;
    for seed in 0..40 {
        let doc = Document::from(samples::pain001(seed));
        let xml = doc.render();
        found += xml.matches("<Authstn>").count();
        assert_eq!(
            Document::parse_with(&xml, &strict()).unwrap(),
            doc,
            "seed {seed}"
        );
    }
    assert!(found > 0, "no sample carried an authorisation");

    let doc = Document::from(samples::pain001(1)).render();
    let three = doc.replacen(
        "</CreDtTm>",
        "</CreDtTm><Authstn><Cd>AUTH</Cd></Authstn><Authstn><Cd>FDET</Cd></Authstn>\
         <Authstn><Prtry>x</Prtry></Authstn>",
        1,
    );
    // Whatever the sample held, three more exceed the schema's two.
    let err = Document::parse_with(&three, &strict())
        .unwrap_err()
        .to_string();
    assert!(err.contains("Authstn"), "{err}");
}
