//! Parsing what others write (fixtures in several styles) and refusing what must be refused,
//! with the element path in every error.

use iso20022::types::TransactionStatus;
use iso20022::{BusinessMessage, Document, Error, Limits, ParseOptions};

fn fixture(name: &str) -> String {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn prefixed_side_by_side() {
    let m = BusinessMessage::parse_with(
        &fixture("pacs008_prefixed_side_by_side.xml"),
        &ParseOptions::strict(),
    )
    .unwrap();
    let hdr = m.app_hdr.as_ref().unwrap();
    assert_eq!(hdr.biz_msg_idr(), "CORR-20261125-0042");
    assert_eq!(hdr.fr.bicfi().map(|b| b.as_str()), Some("CORRGB2LXXX"));
    let p = m.pacs008().unwrap();
    assert_eq!(
        m.uetr().map(|u| u.as_str()),
        Some("0f4c1a52-7d3e-4b9a-9c61-3e2f5d8a7b10")
    );
    assert_eq!(m.end_to_end_id(), Some("INV-2026-981"));
    assert_eq!(p.instr_id(), Some("CORR/0042"));
    assert_eq!(p.tx_id(), Some("CORR-TX-0042"));
    let tx = p.tx().unwrap();
    assert_eq!(tx.intr_bk_sttlm_amt.minor(), 1_250_000);
    assert_eq!(tx.intr_bk_sttlm_amt.currency().alpha, "JPY");
    assert_eq!(
        tx.dbtr.nm.as_ref().unwrap().as_str(),
        "Harbour & Lane Trading Ltd"
    );
    assert_eq!(
        tx.dbtr.lei().map(|l| l.as_str()),
        Some("5493001KJTIIGC8Y1R12")
    );
    assert_eq!(tx.cdtr_acct.as_ref().unwrap().id_str(), "0012345678");
    assert_eq!(
        tx.rmt_inf.as_ref().unwrap().ustrd[0].as_str(),
        "Invoice INV-2026-981 <parts>"
    );
    // Our rendering of it is the envelope form, and reads back the same.
    let again = BusinessMessage::parse(&m.render()).unwrap();
    assert_eq!(again, m);
}

#[test]
fn envelope_default_namespace_with_supplementary_data() {
    let m = BusinessMessage::parse_with(
        &fixture("pacs008_envelope_default_ns_splmtry.xml"),
        &ParseOptions::strict(),
    )
    .unwrap();
    let hdr = m.app_hdr.as_ref().unwrap();
    assert_eq!(
        hdr.cre_dt.as_str(),
        "2026-11-25T11:02:03.5+03:00",
        "kept as written"
    );
    assert_eq!(hdr.pssbl_dplct, Some(true));
    let tx = m.pacs008().unwrap().tx().unwrap();
    assert_eq!(tx.intr_bk_sttlm_amt.to_decimal_string(), "1.235");
    assert_eq!(tx.intr_bk_sttlm_amt.minor(), 1235);
    let sd = &tx.splmtry_data[0];
    assert_eq!(
        sd.envlp.0.as_str(),
        r#"<x:Note xmlns:x="urn:example:note" kind="ops">Hand <x:b>carefully</x:b></x:Note>"#,
        "supplementary data kept byte for byte"
    );
    let rendered = m.render();
    assert!(rendered.contains(sd.envlp.0.as_str()));
    assert_eq!(BusinessMessage::parse(&rendered).unwrap(), m);
}

#[test]
fn bare_pacs002_with_unknown_code_cdata_and_comments() {
    let doc = Document::parse_with(
        &fixture("pacs002_bare_default_ns.xml"),
        &ParseOptions::strict(),
    )
    .unwrap();
    let Document::Pacs002(r) = doc else {
        panic!("not a pacs.002")
    };
    assert_eq!(r.orgnl_msg_id(), Some("CORR-20261125-0042"));
    assert_eq!(r.tx_inf_and_sts.len(), 2);
    assert_eq!(r.tx_inf_and_sts[0].tx_sts, Some(TransactionStatus::Acsc));
    assert_eq!(
        r.tx_inf_and_sts[0].acct_svcr_ref.as_ref().unwrap().as_str(),
        "NOST-REF-1"
    );
    let second = &r.tx_inf_and_sts[1];
    assert_eq!(second.tx_sts.as_ref().map(|s| s.code()), Some("ZZNW"));
    assert!(matches!(second.tx_sts, Some(TransactionStatus::Other(_))));
    assert_eq!(second.reason_code(), Some("NARR"));
    let lines: Vec<&str> = second.sts_rsn_inf[0]
        .addtl_inf
        .iter()
        .map(|l| l.as_str())
        .collect();
    assert_eq!(lines, ["Beneficiary <name> mismatch", "see \"case 17\""]);
}

#[test]
fn other_wrapper_and_lenient_versus_strict() {
    let xml = fixture("pacs002_other_wrapper_unknown_element.xml");
    let m = BusinessMessage::parse(&xml).unwrap();
    assert_eq!(m.biz_msg_idr(), Some("STS-9"));
    assert_eq!(m.tx_sts(), Some(&TransactionStatus::Rjct));
    assert_eq!(m.unread.len(), 1, "{:?}", m.unread);
    let unread_path = "/BizMsg/Document/FIToFIPmtStsRpt/TxInfAndSts/OrgnlTxRef/LclRmk";
    assert_eq!(m.unread[0].path, unread_path);
    assert_eq!(m.unread[0].xml, "<LclRmk>paid by wire</LclRmk>");
    let report = m.pacs002().unwrap();
    let orgnl = report.tx_inf_and_sts[0].orgnl_tx_ref.as_ref().unwrap();
    assert_eq!(
        orgnl.intr_bk_sttlm_amt.map(|a| a.to_string()),
        Some("10.00 USD".to_string())
    );
    let err = BusinessMessage::parse_with(&xml, &ParseOptions::strict()).unwrap_err();
    assert_eq!(
        err,
        Error::Unexpected {
            path: unread_path.into()
        }
    );
}

#[test]
fn unknown_document_kind_is_kept_raw() {
    let xml = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.999.001.01"><Foo><Bar>1</Bar></Foo></Document>"#;
    let doc = Document::parse(xml).unwrap();
    assert_eq!(
        doc,
        Document::Unknown {
            namespace: "urn:iso:std:iso:20022:tech:xsd:camt.999.001.01".into(),
            root: "Foo".into(),
            raw: xml.into()
        }
    );
    assert_eq!(doc.msg_def_idr(), "camt.999.001.01");
}

fn pacs008_with(tx_inner: &str) -> String {
    format!(
        r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf>
<GrpHdr><MsgId>M</MsgId><CreDtTm>2026-11-25T00:00:00Z</CreDtTm><NbOfTxs>1</NbOfTxs><SttlmInf><SttlmMtd>INDA</SttlmMtd></SttlmInf></GrpHdr>
<CdtTrfTxInf>{tx_inner}</CdtTrfTxInf></FIToFICstmrCdtTrf></Document>"#
    )
}

const PARTIES: &str = "<ChrgBr>SHAR</ChrgBr><Dbtr><Nm>D</Nm></Dbtr><DbtrAgt><FinInstnId><BICFI>AAAADEFF</BICFI></FinInstnId></DbtrAgt><CdtrAgt><FinInstnId><BICFI>BBBBUS33</BICFI></FinInstnId></CdtrAgt><Cdtr><Nm>C</Nm></Cdtr>";

#[test]
fn errors_carry_the_element_path() {
    let tx = |pmt: &str, amt: &str| pacs008_with(&format!("<PmtId>{pmt}</PmtId>{amt}{PARTIES}"));
    let good_amt = r#"<IntrBkSttlmAmt Ccy="EUR">1.00</IntrBkSttlmAmt>"#;
    assert!(Document::parse(&tx("<EndToEndId>E</EndToEndId>", good_amt)).is_ok());

    let e = Document::parse(&tx(
        "<EndToEndId>E</EndToEndId><UETR>NOT-A-UUID</UETR>",
        good_amt,
    ))
    .unwrap_err();
    assert_eq!(
        e.path(),
        Some("/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/PmtId/UETR"),
        "{e}"
    );

    let e = Document::parse(&tx(
        "<EndToEndId>E</EndToEndId>",
        r#"<IntrBkSttlmAmt Ccy="EUR">1.005</IntrBkSttlmAmt>"#,
    ))
    .unwrap_err();
    assert_eq!(
        e.path(),
        Some("/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/IntrBkSttlmAmt")
    );
    assert!(e.to_string().contains("refusing to round"), "{e}");

    let e = Document::parse(&tx(
        "<EndToEndId>E</EndToEndId>",
        r#"<IntrBkSttlmAmt>1.00</IntrBkSttlmAmt>"#,
    ))
    .unwrap_err();
    assert!(
        matches!(
            e,
            Error::MissingAttribute {
                attribute: "Ccy",
                ..
            }
        ),
        "{e}"
    );

    let e = Document::parse(&tx("<InstrId>I</InstrId>", good_amt)).unwrap_err();
    assert_eq!(
        e,
        Error::Missing {
            path: "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/PmtId/EndToEndId".into()
        }
    );

    let long = "X".repeat(36);
    let e =
        Document::parse(&tx(&format!("<EndToEndId>{long}</EndToEndId>"), good_amt)).unwrap_err();
    assert_eq!(
        e.path(),
        Some("/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/PmtId/EndToEndId")
    );

    let two = pacs008_with(&format!(
        "<PmtId><EndToEndId>E</EndToEndId></PmtId>{good_amt}{PARTIES}"
    ))
    .replace("<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>2</NbOfTxs>");
    let e = Document::parse(&two).unwrap_err();
    assert_eq!(e.path(), Some("/Document/FIToFICstmrCdtTrf/GrpHdr/NbOfTxs"));
}

#[test]
fn reader_refuses_dtds_entities_and_oversize_input() {
    let billion_laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><Document xmlns="urn:x">&lol2;</Document>"#;
    assert!(matches!(
        Document::parse(billion_laughs),
        Err(Error::DtdRefused { .. })
    ));

    let external = r#"<!DOCTYPE d SYSTEM "file:///etc/passwd"><Document/>"#;
    assert!(matches!(
        Document::parse(external),
        Err(Error::DtdRefused { .. })
    ));

    let undeclared_entity = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"><FIToFIPmtStsRpt><GrpHdr><MsgId>&foo;</MsgId></GrpHdr></FIToFIPmtStsRpt></Document>"#;
    assert!(matches!(
        Document::parse(undeclared_entity),
        Err(Error::Syntax { .. })
    ));

    let limits = Limits {
        message_bytes_max: 100,
        ..Limits::default()
    };
    let options = ParseOptions {
        limits,
        strict: false,
    };
    let big = pacs008_with("");
    assert!(matches!(
        Document::parse_with(&big, &options),
        Err(Error::TooLarge { limit: 100, .. })
    ));

    let deep = format!("{}{}", "<a>".repeat(100), "</a>".repeat(100));
    assert!(matches!(
        Document::parse(&deep),
        Err(Error::TooDeep { limit: 64, .. })
    ));
}

#[test]
fn malformed_inputs_are_errors_not_panics() {
    for bad in [
        "",
        "<",
        "<Document",
        "<Document></Documen>",
        "<Document><a></Document>",
        "text only",
        "<a/><b/>",
        "<p:Document/>",
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\"/>",
        "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08\"><Wrong/></Document>",
        "<AppHdr xmlns=\"urn:iso:std:iso:20022:tech:xsd:head.001.001.02\"/>",
        "<Envelope><Document/><Document/></Envelope>",
        "\u{feff}<Document>\u{0}</Document>",
    ] {
        assert!(BusinessMessage::parse(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn every_truncation_of_a_message_fails_cleanly() {
    let xml = fixture("pacs008_envelope_default_ns_splmtry.xml");
    let full = BusinessMessage::parse(&xml).unwrap();
    let end = xml.trim_end().len();
    for cut in (0..end).filter(|&i| xml.is_char_boundary(i)) {
        if let Ok(m) = BusinessMessage::parse(&xml[..cut]) {
            panic!("prefix of {cut} bytes parsed: {m:?} (full: {full:?})");
        }
    }
}

#[test]
fn reconciliation_keys() {
    let m = BusinessMessage::parse(&fixture("pacs008_prefixed_side_by_side.xml")).unwrap();
    let k = m.keys();
    assert_eq!(k.msg_id, Some("CORR-20261125-0042"));
    assert_eq!(k.uetr, Some("0f4c1a52-7d3e-4b9a-9c61-3e2f5d8a7b10"));
    assert_eq!(k.end_to_end_id, Some("INV-2026-981"));
    assert_eq!(k.instr_id, Some("CORR/0042"));
    assert_eq!(k.tx_id, Some("CORR-TX-0042"));
    assert_eq!(k.orgnl_uetr, None);
    assert_eq!(m.biz_msg_idr(), Some("CORR-20261125-0042"));

    let r = BusinessMessage::parse(&fixture("pacs002_bare_default_ns.xml")).unwrap();
    let k = r.keys();
    assert_eq!(k.msg_id, Some("STS-2026-11-25-001"));
    assert_eq!(k.orgnl_msg_id, Some("CORR-20261125-0042"));
    assert_eq!(k.orgnl_uetr, Some("0f4c1a52-7d3e-4b9a-9c61-3e2f5d8a7b10"));
    assert_eq!(k.orgnl_end_to_end_id, Some("INV-2026-981"));
    assert_eq!(k.orgnl_instr_id, Some("CORR/0042"));
    assert_eq!(k.acct_svcr_ref, Some("NOST-REF-1"));
    assert_eq!(r.orgnl_uetr().map(|u| u.as_str()), k.orgnl_uetr);

    // Returns, status requests, recalls and resolutions expose their original references.
    for seed in 0..50 {
        let ret = iso20022::samples::pacs004(seed);
        let expect = ret.tx_inf[0].orgnl_uetr.as_ref().map(|u| u.as_str());
        assert_eq!(Document::from(ret.clone()).keys().orgnl_uetr, expect);
        let recall = iso20022::samples::camt056(seed);
        let expect = recall.orgnl_uetr().map(|u| u.as_str());
        let doc = Document::from(recall.clone());
        assert_eq!(doc.keys().orgnl_uetr, expect);
        assert_eq!(doc.keys().msg_id, Some(recall.assignment_id()));
    }
}

#[test]
fn parts_kept_raw_carry_the_namespaces_they_inherit() {
    // Found by fuzzing: an unknown Document inheriting its namespace from the wrapper changed
    // namespace once written inside our own envelope.
    let xml = r#"<W xmlns="urn:example:wrapper" xmlns:p="urn:example:p"><AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02"><Fr><FIId><FinInstnId><BICFI>AAAADEFF</BICFI></FinInstnId></FIId></Fr><To><FIId><FinInstnId><BICFI>BBBBUS33</BICFI></FinInstnId></FIId></To><BizMsgIdr>B</BizMsgIdr><MsgDefIdr>x</MsgDefIdr><CreDt>2026-11-25T00:00:00Z</CreDt></AppHdr><Document><Foo><p:Bar>1</p:Bar></Foo></Document></W>"#;
    let m = BusinessMessage::parse(xml).unwrap();
    let Document::Unknown { namespace, raw, .. } = &m.document else {
        panic!("typed?")
    };
    assert_eq!(namespace, "urn:example:wrapper");
    assert_eq!(
        raw,
        r#"<Document xmlns="urn:example:wrapper" xmlns:p="urn:example:p"><Foo><p:Bar>1</p:Bar></Foo></Document>"#
    );
    let again = BusinessMessage::parse(&m.render()).unwrap();
    assert_eq!(again.document, m.document);
}

#[test]
fn parsed_messages_serialize_to_json() {
    let m = BusinessMessage::parse(&fixture("pacs008_envelope_default_ns_splmtry.xml")).unwrap();
    let json = serde_json::to_value(&m).unwrap();
    let tx = &json["document"]["Pacs008"]["cdt_trf_tx_inf"][0];
    assert_eq!(
        tx["intr_bk_sttlm_amt"],
        serde_json::json!({"ccy": "KWD", "amount": "1.235"})
    );
    assert_eq!(tx["pmt_id"]["uetr"], "c2b7a0e4-5f61-4d2a-8e3b-71a9c0d4e5f6");
    assert_eq!(tx["chrg_br"], "SHAR");
    assert_eq!(json["app_hdr"]["cre_dt"], "2026-11-25T11:02:03.5+03:00");
}

#[test]
fn benchmark_message_is_a_clean_cbpr_message() {
    let xml = include_str!("../benches/data/pacs008_envelope.xml");
    let m = BusinessMessage::parse_with(xml, &ParseOptions::strict()).unwrap();
    let findings = iso20022::cbpr::validate(&m);
    assert!(findings.is_empty(), "{findings:#?}");
    assert_eq!(BusinessMessage::parse(&m.render()).unwrap(), m);
}

#[test]
fn strict_mode_wants_every_element_in_the_document_namespace() {
    let xml = pacs008_with(&format!(
        "<PmtId><EndToEndId>E</EndToEndId></PmtId><IntrBkSttlmAmt Ccy=\"EUR\">1.00</IntrBkSttlmAmt>{PARTIES}"
    ))
    .replace("<Dbtr><Nm>D</Nm></Dbtr>", "<Dbtr><x:Nm xmlns:x=\"urn:other\">D</x:Nm></Dbtr>");
    assert!(
        Document::parse(&xml).is_ok(),
        "lenient mode reads by local name"
    );
    let err = Document::parse_with(&xml, &ParseOptions::strict()).unwrap_err();
    assert_eq!(
        err.path(),
        Some("/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/Dbtr/Nm"),
        "{err}"
    );
    // Free-form content keeps its own namespaces in strict mode too.
    let fixture = fixture("pacs008_envelope_default_ns_splmtry.xml");
    assert!(BusinessMessage::parse_with(&fixture, &ParseOptions::strict()).is_ok());
}

#[test]
fn many_unknown_siblings_are_reported_in_linear_time() {
    // 200,000 unknown elements under one parent: paths must not cost a sibling scan each.
    let many = "<X/>".repeat(200_000);
    let xml = pacs008_with(&format!(
        "<PmtId><EndToEndId>E</EndToEndId></PmtId><IntrBkSttlmAmt Ccy=\"EUR\">1.00</IntrBkSttlmAmt>{PARTIES}{many}"
    ));
    let started = std::time::Instant::now();
    let m = BusinessMessage::parse(&xml).unwrap();
    assert_eq!(m.unread.len(), 200_000);
    assert_eq!(
        m.unread[1].path,
        "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/X[2]"
    );
    let err = BusinessMessage::parse_with(&xml, &ParseOptions::strict()).unwrap_err();
    assert_eq!(
        err.path(),
        Some("/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/X[1]")
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn structured_remittance_regulatory_reporting_and_contacts_are_typed() {
    use iso20022::common::CodeChoice;
    use iso20022::types::{AddressType2, DocumentType3, DocumentType6, RegulatoryReportingType};

    let xml = fixture("pacs008_structured_remittance.xml");
    // Strict: every element of the fixture is read by the model.
    let m = BusinessMessage::parse_with(&xml, &ParseOptions::strict()).unwrap();
    let tx = m.pacs008().unwrap().tx().unwrap();
    assert_eq!(tx.xchg_rate.as_ref().map(|r| r.as_str()), Some("0.923650"));

    let dbtr = &tx.dbtr;
    let adr = dbtr.pstl_adr.as_ref().unwrap();
    assert_eq!(adr.adr_tp, Some(CodeChoice::Cd(AddressType2::Bizz)));
    let ctct = dbtr.ctct_dtls.as_ref().unwrap();
    assert_eq!(ctct.phne_nb.as_ref().unwrap().as_str(), "+44-2079460000");
    assert_eq!(ctct.othr[0].chanl_tp.as_str(), "TLX");
    let cdtr_adr = tx.cdtr.pstl_adr.as_ref().unwrap();
    match &cdtr_adr.adr_tp {
        Some(CodeChoice::Prtry(p)) => {
            assert_eq!((p.id.as_str(), p.issr.as_str()), ("HQ01", "RHEIN"))
        }
        other => panic!("{other:?}"),
    }

    let rr = &tx.rgltry_rptg[0];
    assert_eq!(rr.dbt_cdt_rptg_ind, Some(RegulatoryReportingType::Debt));
    assert_eq!(
        rr.dtls[0].amt.as_ref().unwrap().to_decimal_string(),
        "10830.00"
    );

    let strd = &tx.rmt_inf.as_ref().unwrap().strd[0];
    let kinds: Vec<_> = strd
        .rfrd_doc_inf
        .iter()
        .map(|d| d.tp.as_ref().map(|t| t.cd_or_prtry.clone()))
        .collect();
    assert_eq!(
        kinds,
        [
            Some(CodeChoice::Cd(DocumentType6::Cinv)),
            Some(CodeChoice::Cd(DocumentType6::Cren))
        ]
    );
    assert_eq!(
        strd.rfrd_doc_inf[0].nb.as_ref().unwrap().as_str(),
        "RL-2026-11-0042"
    );
    let amounts = strd.rfrd_doc_amt.as_ref().unwrap();
    // Due minus credit note equals what was remitted, to the cent.
    let due = amounts.due_pybl_amt.as_ref().unwrap();
    let credit = amounts.cdt_note_amt.as_ref().unwrap();
    let remitted = amounts.rmtd_amt.as_ref().unwrap();
    assert_eq!(due.minor() - credit.minor(), remitted.minor());
    assert_eq!(remitted.minor(), 1_083_000);
    let cref = strd.cdtr_ref_inf.as_ref().unwrap();
    assert_eq!(
        cref.tp.as_ref().map(|t| t.cd_or_prtry.clone()),
        Some(CodeChoice::Cd(DocumentType3::Scor))
    );
    assert_eq!(cref.r#ref.as_ref().unwrap().as_str(), "RF18539007547034");

    // Rendered back, the message is the same and says the same.
    let again = BusinessMessage::parse_with(&m.render(), &ParseOptions::strict()).unwrap();
    assert_eq!(again, m);
}

#[test]
fn camt054_summary_returns_dates_and_instruments_are_typed() {
    use iso20022::common::{CodeOrProprietary, DateOrDateTime, PartyId};
    use iso20022::statement::{EntryStream, StreamItem};
    use iso20022::types::CreditDebit;

    let xml = fixture("camt054_prefixed_return_summary.xml");
    // Strict: every element of the fixture is read by the model.
    let m = BusinessMessage::parse_with(&xml, &ParseOptions::strict()).unwrap();
    let Document::Camt054(n) = &m.document else {
        panic!("{:?}", m.document)
    };
    assert_eq!(n.orgnl_biz_qry_msg_id(), Some("QRY-20261125-0007"));
    let q = n.grp_hdr.orgnl_biz_qry.as_ref().unwrap();
    assert_eq!(q.msg_nm_id.as_ref().unwrap().as_str(), "camt.060.001.05");
    assert_eq!(
        q.cre_dt_tm.as_ref().unwrap().as_str(),
        "2026-11-25T15:58:12.250+01:00"
    );

    // The summary's sums are exact decimals, kept as written (trailing zeros too).
    let report = &n.reports[0];
    let summary = report.txs_summry.as_ref().unwrap();
    let total = summary.ttl_ntries.as_ref().unwrap();
    assert_eq!(total.nb_of_ntries.as_ref().unwrap().value(), 2);
    assert_eq!(total.sum.as_ref().unwrap().as_str(), "12345.67");
    let net = total.ttl_net_ntry.as_ref().unwrap();
    assert_eq!(
        (net.amt.as_str(), net.cdt_dbt_ind),
        ("10345.67", CreditDebit::Crdt)
    );
    let credits = summary.ttl_cdt_ntries.as_ref().unwrap();
    let debits = summary.ttl_dbt_ntries.as_ref().unwrap();
    assert_eq!(credits.sum.as_ref().unwrap().as_str(), "11345.67");
    assert_eq!(debits.sum.as_ref().unwrap().as_str(), "1000.00");
    let per_code = &summary.ttl_ntries_per_bk_tx_cd;
    assert_eq!(per_code.len(), 2);
    let returns = &per_code[0];
    let family = &returns.bk_tx_cd.domn.as_ref().unwrap().fmly;
    assert_eq!(
        (family.cd.as_str(), family.sub_fmly_cd.as_str()),
        ("ICDT", "RRTN")
    );
    assert_eq!(returns.fcst_ind, Some(false));
    assert_eq!(
        returns
            .cdt_ntries
            .as_ref()
            .unwrap()
            .sum
            .as_ref()
            .unwrap()
            .as_str(),
        "11345.67"
    );
    assert!(matches!(returns.dt, Some(DateOrDateTime::Dt(_))));
    let securities = &per_code[1];
    let count = securities.nb_of_ntries.as_ref().unwrap();
    assert_eq!(
        (count.as_str(), count.value()),
        ("001", 1),
        "kept as written"
    );
    // The entries agree with the bank's totals, to the cent.
    let entries: Vec<_> = n.entries().collect();
    let credit_minor: i64 = entries
        .iter()
        .filter(|e| e.cdt_dbt_ind == CreditDebit::Crdt)
        .map(|e| e.amt.minor())
        .sum();
    assert_eq!(credit_minor, 1_134_567);

    // The returned payment: its original references, the reason and the dates.
    let returned = entries[0];
    assert_eq!(returned.return_reason_codes().collect::<Vec<_>>(), ["AC04"]);
    let (refs, reason) = returned.returns().next().unwrap();
    let refs = refs.unwrap();
    assert_eq!(
        refs.uetr.as_ref().map(|u| u.as_str()),
        Some("0f4c1a52-7d3e-4b9a-9c61-3e2f5d8a7b10")
    );
    assert_eq!(
        refs.end_to_end_id.as_ref().map(|s| s.as_str()),
        Some("INV-2026-981")
    );
    assert_eq!(reason.reason_code(), Some("AC04"));
    assert_eq!(
        reason.addtl_inf[1].as_str(),
        "Funds returned in full & without charges"
    );
    let orgnl = &reason
        .orgnl_bk_tx_cd
        .as_ref()
        .unwrap()
        .domn
        .as_ref()
        .unwrap();
    assert_eq!(orgnl.fmly.sub_fmly_cd.as_str(), "XBCT");
    let orgtr = reason.orgtr.as_ref().unwrap();
    match &orgtr.id {
        Some(PartyId::OrgId(o)) => {
            assert_eq!(o.any_bic.as_ref().unwrap().as_str(), "RHEIDEFFXXX")
        }
        other => panic!("{other:?}"),
    }
    let tx = returned.transactions().next().unwrap();
    let dates = tx.rltd_dts.as_ref().unwrap();
    assert_eq!(dates.intr_bk_sttlm_dt.unwrap().to_string(), "2026-11-25");
    assert_eq!(
        dates.tx_dt_tm.as_ref().unwrap().as_str(),
        "2026-11-25T14:31:07.125+01:00"
    );
    assert_eq!(dates.prtry[0].tp.as_str(), "ORIGINAL SETTLEMENT");
    assert!(tx.fin_instrm_id.is_none());

    // The securities settlement: no return, its instrument identified.
    let security = entries[1];
    assert_eq!(security.returns().count(), 0);
    let tx = security.transactions().next().unwrap();
    assert_eq!(tx.return_reason_code(), None);
    let dates = tx.rltd_dts.as_ref().unwrap();
    assert_eq!(dates.trad_dt.unwrap().to_string(), "2026-11-23");
    let instrument = tx.fin_instrm_id.as_ref().unwrap();
    let isin = instrument.isin.as_ref().unwrap();
    assert_eq!(isin.as_str(), "US0378331005");
    assert!(isin.checksum_ok());
    assert_eq!(instrument.othr_id[0].id.as_str(), "037833100");
    assert_eq!(
        instrument.othr_id[0].tp,
        CodeOrProprietary::code("CUSP").unwrap()
    );
    assert_eq!(
        instrument.desc.as_ref().unwrap().as_str(),
        "Apple Inc. common stock"
    );

    // The streaming reader yields the same header (with the summary) and entries.
    let items: Vec<StreamItem> = EntryStream::new(xml.as_bytes(), Limits::default())
        .collect::<Result<_, _>>()
        .unwrap();
    let mut header = report.clone();
    header.ntry.clear();
    let mut expected = vec![
        StreamItem::GroupHeader(n.grp_hdr.clone()),
        StreamItem::Report(header),
    ];
    expected.extend(report.ntry.iter().cloned().map(StreamItem::Entry));
    expected.push(StreamItem::ReportEnd(None));
    assert_eq!(items, expected);

    // Rendered back, the message is the same, sums and all.
    let rendered = m.render();
    assert!(rendered.contains("<Sum>1000.00</Sum>"));
    let again = BusinessMessage::parse_with(&rendered, &ParseOptions::strict()).unwrap();
    assert_eq!(again, m);
}

#[test]
fn summary_sums_refuse_what_the_schema_refuses() {
    let xml = fixture("camt054_prefixed_return_summary.xml");
    for (from, to, path) in [
        (
            "<ntf:Sum>12345.67</ntf:Sum>",
            "<ntf:Sum>1.2345678901234567890</ntf:Sum>",
            "/Document/BkToCstmrDbtCdtNtfctn/Ntfctn/TxsSummry/TtlNtries/Sum",
        ),
        (
            "<ntf:Amt>10345.67</ntf:Amt>",
            "<ntf:Amt>-10345.67</ntf:Amt>",
            "/Document/BkToCstmrDbtCdtNtfctn/Ntfctn/TxsSummry/TtlNtries/TtlNetNtry/Amt",
        ),
        (
            "<ntf:ISIN>US0378331005</ntf:ISIN>",
            "<ntf:ISIN>US037833100</ntf:ISIN>",
            "/Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry[2]/NtryDtls/TxDtls/FinInstrmId/ISIN",
        ),
    ] {
        assert!(xml.contains(from), "{from}");
        let bad = xml.replacen(from, to, 1);
        let err = Document::parse(&bad).unwrap_err();
        assert!(matches!(err, Error::Invalid { .. }), "{err:?}");
        assert_eq!(err.path(), Some(path), "{err}");
    }
}
