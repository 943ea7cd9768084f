//! The CBPR+ schema's restrictions over the base schema (`CBPR.SCHEMA.*`): a clean CBPR+
//! message of each covered kind has no finding at all, and each planted fault is reported
//! once, with its rule id, at its path, and nothing else is. Where a textual rule already
//! reports the fault, the test states that it alone is reported.
//!
//! The messages are written here as XML and read strictly, so an element out of schema order
//! fails the test rather than being skipped.

use iso20022::cbpr::{schema, validate, Finding};
use iso20022::{BusinessMessage, ParseOptions};

mod common;
use common::round_trips_and_valid;

const UETR: &str = "8a562c67-ca16-48ba-b074-65581be6f001";
const TX: &str = "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf";

fn read(xml: &str) -> BusinessMessage {
    BusinessMessage::parse_with(xml, &ParseOptions::strict())
        .unwrap_or_else(|e| panic!("{e}\n{xml}"))
}

fn findings(xml: &str) -> Vec<(&'static str, String)> {
    validate(&read(xml))
        .into_iter()
        .map(|Finding { rule, path, .. }| (rule, path))
        .collect()
}

/// `xml` has no finding at all, and its Document no schema finding before overlaps are left
/// out either.
fn no_findings(xml: &str) {
    assert_eq!(findings(xml), []);
    assert_eq!(schema::findings(&read(xml).document), []);
}

/// `xml` with `from` replaced by `to` (`from` must occur exactly once).
fn plant(xml: &str, from: &str, to: &str) -> String {
    assert_eq!(xml.matches(from).count(), 1, "{from:?} must occur once");
    xml.replacen(from, to, 1)
}

/// The text of `xml` from the one `start` to the end of the following `end`, inclusive.
fn span(xml: &str, start: &str, end: &str) -> String {
    assert_eq!(xml.matches(start).count(), 1, "{start:?} must occur once");
    let from = xml.find(start).expect("start occurs");
    let to = from + xml[from..].find(end).expect("end follows") + end.len();
    xml[from..to].to_owned()
}

/// The planted message has exactly the findings `expected` (rule, path), in order.
fn planted(xml: &str, from: &str, to: &str, expected: &[(&str, String)]) {
    let broken = plant(xml, from, to);
    let expected: Vec<(&str, String)> = expected.to_vec();
    assert_eq!(findings(&broken), expected, "{from:?} -> {to:?}");
}

/// A CBPR+ AppHdr from `fr` to `to` (BICs) for the message `msg_id` of `msg_def_idr`.
fn app_hdr(fr: &str, to: &str, msg_id: &str, msg_def_idr: &str, cre_dt: &str) -> String {
    format!(
        concat!(
            r#"<AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">"#,
            "<Fr><FIId><FinInstnId><BICFI>{fr}</BICFI></FinInstnId></FIId></Fr>",
            "<To><FIId><FinInstnId><BICFI>{to}</BICFI></FinInstnId></FIId></To>",
            "<BizMsgIdr>{msg_id}</BizMsgIdr><MsgDefIdr>{msg_def_idr}</MsgDefIdr>",
            "<BizSvc>swift.cbprplus.03</BizSvc><CreDt>{cre_dt}</CreDt></AppHdr>"
        ),
        fr = fr,
        to = to,
        msg_id = msg_id,
        msg_def_idr = msg_def_idr,
        cre_dt = cre_dt,
    )
}

/// A CBPR+ pacs.008 using much of what CBPR+ keeps: payment type, settlement time
/// indication, charges, an intermediary, accounts (IBAN and other), an ultimate debtor with a
/// town and country, creditor-agent and next-agent instructions, purpose, regulatory
/// reporting and remittance.
fn pacs008() -> String {
    let agent = |tag: &str, bic: &str| {
        format!("<{tag}><FinInstnId><BICFI>{bic}</BICFI></FinInstnId></{tag}>")
    };
    let header = app_hdr(
        "BANKDEFF",
        "BANKUS33",
        "MSG-1",
        "pacs.008.001.08",
        "2026-11-25T10:00:00+01:00",
    );
    let document = format!(
        concat!(
            r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf>"#,
            "<GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2026-11-25T10:00:00+01:00</CreDtTm><NbOfTxs>1</NbOfTxs>",
            "<SttlmInf><SttlmMtd>INDA</SttlmMtd></SttlmInf></GrpHdr>",
            "<CdtTrfTxInf><PmtId><InstrId>INSTR-1</InstrId><EndToEndId>E2E-1</EndToEndId><UETR>{uetr}</UETR></PmtId>",
            "<PmtTpInf><InstrPrty>NORM</InstrPrty><SvcLvl><Cd>G001</Cd></SvcLvl><CtgyPurp><Cd>SUPP</Cd></CtgyPurp></PmtTpInf>",
            r#"<IntrBkSttlmAmt Ccy="EUR">99.00</IntrBkSttlmAmt><IntrBkSttlmDt>2026-11-25</IntrBkSttlmDt>"#,
            "<SttlmTmIndctn><CdtDtTm>2026-11-25T11:00:00+00:00</CdtDtTm></SttlmTmIndctn>",
            r#"<InstdAmt Ccy="EUR">100.00</InstdAmt><ChrgBr>SHAR</ChrgBr>"#,
            r#"<ChrgsInf><Amt Ccy="EUR">1.00</Amt>{chrg_agt}</ChrgsInf>"#,
            "{instg}{instd}{intrmy}",
            "<UltmtDbtr><Nm>Acme Holding</Nm><PstlAdr><TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></PstlAdr></UltmtDbtr>",
            "<Dbtr><Nm>Acme GmbH</Nm><PstlAdr><StrtNm>Hauptstrasse</StrtNm><BldgNb>5</BldgNb><PstCd>10115</PstCd><TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></PstlAdr></Dbtr>",
            "<DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>{dbtr_agt}{cdtr_agt}",
            "<Cdtr><Nm>Widget Inc</Nm><PstlAdr><TwnNm>New York</TwnNm><Ctry>US</Ctry></PstlAdr></Cdtr>",
            "<CdtrAcct><Id><Othr><Id>123456789</Id></Othr></Id></CdtrAcct>",
            "<InstrForCdtrAgt><Cd>PHOB</Cd><InstrInf>CALL 555-0100</InstrInf></InstrForCdtrAgt>",
            "<InstrForNxtAgt><InstrInf>NEXT AGENT NOTE</InstrInf></InstrForNxtAgt>",
            "<Purp><Cd>GDDS</Cd></Purp>",
            "<RgltryRptg><Dtls><Cd>ABC</Cd><Inf>GOODS</Inf></Dtls></RgltryRptg>",
            "<RmtInf><Ustrd>Invoice 42</Ustrd></RmtInf></CdtTrfTxInf></FIToFICstmrCdtTrf></Document>"
        ),
        uetr = UETR,
        chrg_agt = agent("Agt", "BANKDEFF"),
        instg = agent("InstgAgt", "BANKDEFF"),
        instd = agent("InstdAgt", "BANKUS33"),
        intrmy = agent("IntrmyAgt1", "BANKGB2L"),
        dbtr_agt = agent("DbtrAgt", "BANKDEFF"),
        cdtr_agt = agent("CdtrAgt", "BANKUS33"),
    );
    format!(r#"<Envelope xmlns="urn:swift:xsd:envelope">{header}{document}</Envelope>"#)
}

#[test]
fn the_kinds_covered() {
    assert_eq!(
        schema::covered().collect::<Vec<_>>(),
        [
            "pacs.008.001.08",
            "pacs.008.001.08 stp",
            "pacs.009.001.08 core",
            "pacs.009.001.08 cov",
            "pacs.002.001.10",
            "pacs.004.001.09",
            "camt.053.001.08",
            "camt.052.001.08",
            "camt.054.001.08",
            "camt.056.001.08",
            "camt.029.001.09",
            "pain.001.001.09",
            "pain.002.001.10",
            "head.001.001.02 (pacs.008, pacs.009, camt.029, camt.052, camt.053, camt.054, camt.056, pain.001, pain.002)"
        ]
    );
}

#[test]
fn clean_pacs008_has_no_findings() {
    no_findings(&pacs008());
}

#[test]
fn an_element_cbpr_removed_is_reported_once() {
    // AccptncDtTm is in the base transaction, not in the CBPR+ one.
    planted(
        &pacs008(),
        "<InstdAmt ",
        "<AccptncDtTm>2026-11-25T09:00:00+01:00</AccptncDtTm><InstdAmt ",
        &[("CBPR.SCHEMA.ELEMENT", format!("{TX}/AccptncDtTm"))],
    );
    // CBPR+ keeps the next agent's text only, not its code.
    planted(
        &pacs008(),
        "<InstrForNxtAgt><InstrInf>",
        "<InstrForNxtAgt><Cd>PHOA</Cd><InstrInf>",
        &[("CBPR.SCHEMA.ELEMENT", format!("{TX}/InstrForNxtAgt/Cd"))],
    );
    // An element with children is reported alone, not what is under it.
    planted(
        &pacs008(),
        "</CdtTrfTxInf>",
        "<SplmtryData><Envlp><Any>1</Any></Envlp></SplmtryData></CdtTrfTxInf>",
        &[("CBPR.SCHEMA.ELEMENT", format!("{TX}/SplmtryData"))],
    );
}

#[test]
fn an_element_cbpr_makes_mandatory_is_reported_missing() {
    // InstrId is optional in the base schema, mandatory in CBPR+.
    planted(
        &pacs008(),
        "<InstrId>INSTR-1</InstrId>",
        "",
        &[("CBPR.SCHEMA.MISSING", format!("{TX}/PmtId/InstrId"))],
    );
    // A debtor's other identification needs its scheme code in CBPR+.
    planted(
        &pacs008(),
        "<Ctry>DE</Ctry></PstlAdr></Dbtr>",
        "<Ctry>DE</Ctry></PstlAdr><Id><OrgId><Othr><Id>ACME-1</Id></Othr></OrgId></Id></Dbtr>",
        &[(
            "CBPR.SCHEMA.MISSING",
            format!("{TX}/Dbtr/Id/OrgId/Othr/SchmeNm"),
        )],
    );
}

#[test]
fn a_repetition_cbpr_reduces_to_one_is_reported_at_the_second() {
    planted(
        &pacs008(),
        "<Ustrd>Invoice 42</Ustrd>",
        "<Ustrd>Invoice 42</Ustrd><Ustrd>Invoice 43</Ustrd>",
        &[("CBPR.SCHEMA.OCCURS", format!("{TX}/RmtInf/Ustrd[2]"))],
    );
}

#[test]
fn a_text_longer_than_cbpr_allows_is_reported() {
    // Max140Text in the base schema, 35 characters in CBPR+.
    let long = "N".repeat(36);
    planted(
        &pacs008(),
        "NEXT AGENT NOTE",
        &long,
        &[(
            "CBPR.SCHEMA.LENGTH",
            format!("{TX}/InstrForNxtAgt/InstrInf"),
        )],
    );
    // A clearing system member id: 35 in the base schema, 28 in CBPR+.
    planted(
        &pacs008(),
        "<IntrmyAgt1><FinInstnId><BICFI>BANKGB2L</BICFI>",
        &format!(
            "<IntrmyAgt1><FinInstnId><BICFI>BANKGB2L</BICFI><ClrSysMmbId><ClrSysId><Cd>GBDSC</Cd></ClrSysId><MmbId>{}</MmbId></ClrSysMmbId>",
            "1".repeat(29)
        ),
        &[(
            "CBPR.SCHEMA.LENGTH",
            format!("{TX}/IntrmyAgt1/FinInstnId/ClrSysMmbId/MmbId"),
        )],
    );
    // 35 and 28 characters are fine.
    let xml = plant(&pacs008(), "NEXT AGENT NOTE", &"N".repeat(35));
    assert_eq!(findings(&xml), []);
}

#[test]
fn a_text_outside_its_cbpr_character_class_is_reported() {
    // The creditor agent's instruction is FIN-X in CBPR+; '&' is only in the extended set.
    planted(
        &pacs008(),
        "CALL 555-0100",
        "CALL 555-0100 &amp; ASK",
        &[(
            "CBPR.SCHEMA.PATTERN",
            format!("{TX}/InstrForCdtrAgt/InstrInf"),
        )],
    );
    // An account's other identification: no '/' at either end.
    planted(
        &pacs008(),
        "<Id>123456789</Id>",
        "<Id>123456789/</Id>",
        &[("CBPR.SCHEMA.PATTERN", format!("{TX}/CdtrAcct/Id/Othr/Id"))],
    );
    // A settlement time indication in UTC is written +00:00 in CBPR+, not Z.
    planted(
        &pacs008(),
        "2026-11-25T11:00:00+00:00",
        "2026-11-25T11:00:00Z",
        &[("CBPR.SCHEMA.PATTERN", format!("{TX}/SttlmTmIndctn/CdtDtTm"))],
    );
}

#[test]
fn a_narrowed_code_is_reported_by_its_textual_rule_alone() {
    // SLEV is in the base ChargeBearerType1Code, not in the CBPR+ one. CBPR.CHRG_BR.CODE
    // reports it; the schema check finds it too (CBPR.SCHEMA.CODE) but validate does not
    // report the fault twice.
    let xml = plant(&pacs008(), "<ChrgBr>SHAR</ChrgBr>", "<ChrgBr>SLEV</ChrgBr>");
    assert_eq!(
        findings(&xml),
        [("CBPR.CHRG_BR.CODE", format!("{TX}/ChrgBr"))]
    );
    let schema_only: Vec<(&str, String)> = schema::findings(&read(&xml).document)
        .into_iter()
        .map(|f| (f.rule, f.path))
        .collect();
    assert_eq!(schema_only, [("CBPR.SCHEMA.CODE", format!("{TX}/ChrgBr"))]);

    // CLRG likewise: CBPR.STTLM_MTD alone.
    let xml = plant(
        &pacs008(),
        "<SttlmMtd>INDA</SttlmMtd>",
        "<SttlmMtd>CLRG</SttlmMtd>",
    );
    assert_eq!(
        findings(&xml),
        [(
            "CBPR.STTLM_MTD",
            "/Document/FIToFICstmrCdtTrf/GrpHdr/SttlmInf/SttlmMtd".to_owned()
        )]
    );
    let schema_only: Vec<&str> = schema::findings(&read(&xml).document)
        .into_iter()
        .map(|f| f.rule)
        .collect();
    assert_eq!(schema_only, ["CBPR.SCHEMA.CODE"]);
}

#[test]
fn faults_a_textual_rule_reports_are_not_reported_twice() {
    // Group-header agents: CBPR.GRPHDR.AGENTS alone (not also CBPR.SCHEMA.ELEMENT).
    planted(
        &pacs008(),
        "<SttlmInf><SttlmMtd>INDA</SttlmMtd></SttlmInf></GrpHdr>",
        "<SttlmInf><SttlmMtd>INDA</SttlmMtd></SttlmInf><InstgAgt><FinInstnId><BICFI>BANKDEFF</BICFI></FinInstnId></InstgAgt></GrpHdr>",
        &[(
            "CBPR.GRPHDR.AGENTS",
            "/Document/FIToFICstmrCdtTrf/GrpHdr/InstgAgt".to_owned(),
        )],
    );
    // An ultimate debtor's address without a country: CBPR.PSTLADR.TWN_CTRY at the address
    // alone (not also CBPR.SCHEMA.MISSING at its Ctry).
    planted(
        &pacs008(),
        "<TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></PstlAdr></UltmtDbtr>",
        "<TwnNm>Berlin</TwnNm></PstlAdr></UltmtDbtr>",
        &[("CBPR.PSTLADR.TWN_CTRY", format!("{TX}/UltmtDbtr/PstlAdr"))],
    );
    // A date-time in Z: CBPR.DATETIME.FORM alone.
    planted(
        &pacs008(),
        "<CreDtTm>2026-11-25T10:00:00+01:00</CreDtTm>",
        "<CreDtTm>2026-11-25T09:00:00Z</CreDtTm>",
        &[(
            "CBPR.DATETIME.FORM",
            "/Document/FIToFICstmrCdtTrf/GrpHdr/CreDtTm".to_owned(),
        )],
    );
    // A missing UETR: CBPR.UETR.PRESENT alone.
    planted(
        &pacs008(),
        &format!("<UETR>{UETR}</UETR>"),
        "",
        &[("CBPR.UETR.PRESENT", format!("{TX}/PmtId/UETR"))],
    );
}

// ---------------------------------------------------------------------------------------------
// pacs.008 STP (AppHdr BizSvc swift.cbprplus.stp.03)
// ---------------------------------------------------------------------------------------------

/// [`pacs008`] sent under the STP service, without the instructions to agents the STP schema
/// does not have.
fn pacs008_stp() -> String {
    let xml = plant(
        &pacs008(),
        "<BizSvc>swift.cbprplus.03</BizSvc>",
        "<BizSvc>swift.cbprplus.stp.03</BizSvc>",
    );
    plant(
        &xml,
        &span(&xml, "<InstrForCdtrAgt>", "</InstrForNxtAgt>"),
        "",
    )
}

/// The schema findings of the message `xml` under the table its header picks, before
/// `validate` leaves out what a textual rule reports.
fn message_schema_findings(xml: &str) -> Vec<(&'static str, String)> {
    schema::message_findings(&read(xml))
        .into_iter()
        .map(|f| (f.rule, f.path))
        .collect()
}

#[test]
fn clean_pacs008_stp_has_no_findings() {
    let xml = pacs008_stp();
    assert_eq!(findings(&xml), []);
    assert_eq!(message_schema_findings(&xml), []);
    round_trips_and_valid(&xml, "pacs008-stp");
}

/// What the STP schema drops and the core one keeps: (what, its replacement, the path of the
/// one finding). The STP table narrows no code list and shortens no text beyond the core one's,
/// so its own cuts are all elements.
fn stp_cuts() -> Vec<(&'static str, String, String)> {
    vec![
        // One unstructured line only: no structured remittance.
        (
            "<RmtInf><Ustrd>Invoice 42</Ustrd></RmtInf>",
            "<RmtInf><Strd><CdtrRefInf><Ref>RF18539007547034</Ref></CdtrRefInf></Strd></RmtInf>"
                .to_owned(),
            format!("{TX}/RmtInf/Strd"),
        ),
        // Codes only in the payment type and purpose, no proprietary values.
        (
            "<SvcLvl><Cd>G001</Cd></SvcLvl>",
            "<SvcLvl><Prtry>BANK SERVICE</Prtry></SvcLvl>".to_owned(),
            format!("{TX}/PmtTpInf/SvcLvl/Prtry"),
        ),
        (
            "<CtgyPurp><Cd>SUPP</Cd></CtgyPurp>",
            "<LclInstrm><Prtry>LOCAL-1</Prtry></LclInstrm><CtgyPurp><Cd>SUPP</Cd></CtgyPurp>"
                .to_owned(),
            format!("{TX}/PmtTpInf/LclInstrm/Prtry"),
        ),
        (
            "<CtgyPurp><Cd>SUPP</Cd></CtgyPurp>",
            "<CtgyPurp><Prtry>SUPPLIER</Prtry></CtgyPurp>".to_owned(),
            format!("{TX}/PmtTpInf/CtgyPurp/Prtry"),
        ),
        (
            "<Purp><Cd>GDDS</Cd></Purp>",
            "<Purp><Prtry>GOODS</Prtry></Purp>".to_owned(),
            format!("{TX}/Purp/Prtry"),
        ),
        // The creditor agent is a BIC, without a branch.
        (
            "<CdtrAgt><FinInstnId><BICFI>BANKUS33</BICFI></FinInstnId></CdtrAgt>",
            "<CdtrAgt><FinInstnId><BICFI>BANKUS33</BICFI></FinInstnId><BrnchId><Id>BR-1</Id></BrnchId></CdtrAgt>"
                .to_owned(),
            format!("{TX}/CdtrAgt/BrnchId"),
        ),
    ]
}

#[test]
fn pacs008_stp_restrictions() {
    for (from, to, path) in stp_cuts() {
        planted(
            &pacs008_stp(),
            from,
            &to,
            &[("CBPR.SCHEMA.ELEMENT", path.clone())],
        );
        // The same Document read without its header is a core pacs.008: not refused.
        let broken = plant(&pacs008_stp(), from, &to);
        assert_eq!(schema::findings(&read(&broken).document), [], "{path}");
    }
}

#[test]
fn a_core_pacs008_keeps_what_the_stp_table_refuses() {
    for (from, to, path) in stp_cuts() {
        let xml = plant(&pacs008(), from, &to);
        assert_eq!(findings(&xml), [], "{path}");
        assert_eq!(message_schema_findings(&xml), [], "{path}");
    }
}

#[test]
fn pacs008_stp_faults_its_textual_rules_report_are_not_reported_twice() {
    // The cases are (planted message, the one finding validate reports, the STP table's).
    let stp = pacs008_stp();
    let cases = [
        // No creditor account: CBPR.STP.CDTRACCT alone, not also CBPR.SCHEMA.MISSING.
        (
            plant(
                &stp,
                "<CdtrAcct><Id><Othr><Id>123456789</Id></Othr></Id></CdtrAcct>",
                "",
            ),
            ("CBPR.STP.CDTRACCT", format!("{TX}/CdtrAcct")),
            ("CBPR.SCHEMA.MISSING", format!("{TX}/CdtrAcct")),
        ),
        // An instruction to the next agent: CBPR.STP.INSTR alone.
        (
            plant(
                &stp,
                "<Purp>",
                "<InstrForNxtAgt><InstrInf>NEXT AGENT NOTE</InstrInf></InstrForNxtAgt><Purp>",
            ),
            ("CBPR.STP.INSTR", format!("{TX}/InstrForNxtAgt")),
            ("CBPR.SCHEMA.ELEMENT", format!("{TX}/InstrForNxtAgt")),
        ),
        // A charges agent's name: CBPR.STP.AGENT_NM_PSTLADR alone.
        (
            plant(
                &stp,
                "<Agt><FinInstnId><BICFI>BANKDEFF</BICFI></FinInstnId></Agt>",
                "<Agt><FinInstnId><BICFI>BANKDEFF</BICFI><Nm>Bank DE</Nm></FinInstnId></Agt>",
            ),
            (
                "CBPR.STP.AGENT_NM_PSTLADR",
                format!("{TX}/ChrgsInf/Agt/FinInstnId/Nm"),
            ),
            (
                "CBPR.SCHEMA.ELEMENT",
                format!("{TX}/ChrgsInf/Agt/FinInstnId/Nm"),
            ),
        ),
        // An intermediary agent by member id only: CBPR.STP.AGENT_BIC alone.
        (
            plant(
                &stp,
                "<IntrmyAgt1><FinInstnId><BICFI>BANKGB2L</BICFI></FinInstnId></IntrmyAgt1>",
                "<IntrmyAgt1><FinInstnId><ClrSysMmbId><ClrSysId><Cd>GBDSC</Cd></ClrSysId><MmbId>123456</MmbId></ClrSysMmbId></FinInstnId></IntrmyAgt1>",
            ),
            (
                "CBPR.STP.AGENT_BIC",
                format!("{TX}/IntrmyAgt1/FinInstnId/BICFI"),
            ),
            (
                "CBPR.SCHEMA.MISSING",
                format!("{TX}/IntrmyAgt1/FinInstnId/BICFI"),
            ),
        ),
    ];
    for (xml, reported, table) in cases {
        assert_eq!(message_schema_findings(&xml), [table], "{reported:?}");
        assert_eq!(findings(&xml), [reported]);
    }
}

// ---------------------------------------------------------------------------------------------
// pacs.009 core and cover
// ---------------------------------------------------------------------------------------------

const FI_TX: &str = "/Document/FICdtTrf/CdtTrfTxInf";

fn agent(tag: &str, bic: &str) -> String {
    format!("<{tag}><FinInstnId><BICFI>{bic}</BICFI></FinInstnId></{tag}>")
}

/// A CBPR+ pacs.009: `underlying` empty for a core one, or the UndrlygCstmrCdtTrf of a cover.
fn pacs009(underlying: &str) -> String {
    let service = if underlying.is_empty() {
        "swift.cbprplus.03"
    } else {
        "swift.cbprplus.cov.03"
    };
    let header = format!(
        concat!(
            r#"<AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">"#,
            "<Fr><FIId><FinInstnId><BICFI>BANKDEFF</BICFI></FinInstnId></FIId></Fr>",
            "<To><FIId><FinInstnId><BICFI>BANKUS33</BICFI></FinInstnId></FIId></To>",
            "<BizMsgIdr>FI-1</BizMsgIdr><MsgDefIdr>pacs.009.001.08</MsgDefIdr>",
            "<BizSvc>{service}</BizSvc><CreDt>2026-11-25T10:00:00+01:00</CreDt></AppHdr>"
        ),
        service = service
    );
    let document = format!(
        concat!(
            r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.009.001.08"><FICdtTrf>"#,
            "<GrpHdr><MsgId>FI-1</MsgId><CreDtTm>2026-11-25T10:00:00+01:00</CreDtTm><NbOfTxs>1</NbOfTxs>",
            "<SttlmInf><SttlmMtd>INDA</SttlmMtd></SttlmInf></GrpHdr>",
            "<CdtTrfTxInf><PmtId><InstrId>FI-1</InstrId><EndToEndId>E2E-1</EndToEndId><UETR>{uetr}</UETR></PmtId>",
            r#"<IntrBkSttlmAmt Ccy="USD">100.00</IntrBkSttlmAmt><IntrBkSttlmDt>2026-11-25</IntrBkSttlmDt>"#,
            "{instg}{instd}{dbtr}{cdtr}",
            "<InstrForCdtrAgt><Cd>PHOB</Cd></InstrForCdtrAgt>",
            "<RmtInf><Ustrd>Treasury deal 7</Ustrd></RmtInf>",
            "{underlying}</CdtTrfTxInf></FICdtTrf></Document>"
        ),
        uetr = UETR,
        instg = agent("InstgAgt", "BANKDEFF"),
        instd = agent("InstdAgt", "BANKUS33"),
        dbtr = agent("Dbtr", "BANKDEFF"),
        cdtr = agent("Cdtr", "BANKGB2L"),
        underlying = underlying,
    );
    format!(r#"<Envelope xmlns="urn:swift:xsd:envelope">{header}{document}</Envelope>"#)
}

fn underlying() -> String {
    format!(
        concat!(
            "<UndrlygCstmrCdtTrf>",
            "<UltmtDbtr><Nm>Acme Holding</Nm><PstlAdr><TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></PstlAdr></UltmtDbtr>",
            "<Dbtr><Nm>Acme GmbH</Nm><PstlAdr><TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></PstlAdr></Dbtr>",
            "{dbtr_agt}{cdtr_agt}",
            "<Cdtr><Nm>Widget Ltd</Nm><PstlAdr><TwnNm>London</TwnNm><Ctry>GB</Ctry></PstlAdr></Cdtr>",
            "<RmtInf><Ustrd>Invoice 42</Ustrd></RmtInf>",
            r#"<InstdAmt Ccy="USD">100.00</InstdAmt>"#,
            "</UndrlygCstmrCdtTrf>"
        ),
        dbtr_agt = agent("DbtrAgt", "BANKDEFF"),
        cdtr_agt = agent("CdtrAgt", "BANKGB2L"),
    )
}

#[test]
fn clean_pacs009_core_and_cover_have_no_findings() {
    for xml in [pacs009(""), pacs009(&underlying())] {
        assert_eq!(findings(&xml), [], "{xml}");
        assert_eq!(schema::findings(&read(&xml).document), []);
    }
}

#[test]
fn pacs009_core_restrictions() {
    // No reimbursement agents in a CBPR+ pacs.009's settlement information.
    planted(
        &pacs009(""),
        "<SttlmMtd>INDA</SttlmMtd></SttlmInf>",
        &format!(
            "<SttlmMtd>INDA</SttlmMtd>{}</SttlmInf>",
            agent("InstgRmbrsmntAgt", "BANKDEFF")
        ),
        &[(
            "CBPR.SCHEMA.ELEMENT",
            "/Document/FICdtTrf/GrpHdr/SttlmInf/InstgRmbrsmntAgt".to_owned(),
        )],
    );
    // One unstructured remittance line.
    planted(
        &pacs009(""),
        "<Ustrd>Treasury deal 7</Ustrd>",
        "<Ustrd>Treasury deal 7</Ustrd><Ustrd>Second line</Ustrd>",
        &[("CBPR.SCHEMA.OCCURS", format!("{FI_TX}/RmtInf/Ustrd[2]"))],
    );
    // InstrId mandatory.
    planted(
        &pacs009(""),
        "<InstrId>FI-1</InstrId>",
        "",
        &[("CBPR.SCHEMA.MISSING", format!("{FI_TX}/PmtId/InstrId"))],
    );
    // A next-agent instruction: 35 characters in CBPR+.
    planted(
        &pacs009(""),
        "<RmtInf>",
        &format!(
            "<InstrForNxtAgt><InstrInf>{}</InstrInf></InstrForNxtAgt><RmtInf>",
            "A".repeat(36)
        ),
        &[(
            "CBPR.SCHEMA.LENGTH",
            format!("{FI_TX}/InstrForNxtAgt/InstrInf"),
        )],
    );
    // COVE is no CBPR+ pacs.009 settlement method: CBPR.STTLM_MTD alone reports it.
    planted(
        &pacs009(""),
        "<SttlmMtd>INDA</SttlmMtd>",
        "<SttlmMtd>COVE</SttlmMtd>",
        &[(
            "CBPR.STTLM_MTD",
            "/Document/FICdtTrf/GrpHdr/SttlmInf/SttlmMtd".to_owned(),
        )],
    );
}

#[test]
fn pacs009_cover_restrictions() {
    let cover = pacs009(&underlying());
    let under = format!("{FI_TX}/UndrlygCstmrCdtTrf");
    // The underlying's creditor-agent instruction is text only in CBPR+.
    planted(
        &cover,
        "</Cdtr><RmtInf><Ustrd>Invoice 42",
        "</Cdtr><InstrForCdtrAgt><Cd>HOLD</Cd></InstrForCdtrAgt><RmtInf><Ustrd>Invoice 42",
        &[("CBPR.SCHEMA.ELEMENT", format!("{under}/InstrForCdtrAgt/Cd"))],
    );
    // The underlying debtor's other identification needs its scheme code.
    planted(
        &cover,
        "<Ctry>DE</Ctry></PstlAdr></Dbtr>",
        "<Ctry>DE</Ctry></PstlAdr><Id><PrvtId><Othr><Id>P-1</Id></Othr></PrvtId></Id></Dbtr>",
        &[(
            "CBPR.SCHEMA.MISSING",
            format!("{under}/Dbtr/Id/PrvtId/Othr/SchmeNm"),
        )],
    );
    // The underlying's creditor-agent instruction is FIN-X: no '@'.
    planted(
        &cover,
        "</Cdtr><RmtInf><Ustrd>Invoice 42",
        "</Cdtr><InstrForCdtrAgt><InstrInf>CALL @ ONCE</InstrInf></InstrForCdtrAgt><RmtInf><Ustrd>Invoice 42",
        &[("CBPR.SCHEMA.PATTERN", format!("{under}/InstrForCdtrAgt/InstrInf"))],
    );
    // A character outside the extended set in a name: CBPR.CHARSET.EXTENDED alone reports it.
    planted(
        &cover,
        "<Nm>Widget Ltd</Nm>",
        "<Nm>Widget Ltd \u{00A7}</Nm>",
        &[("CBPR.CHARSET.EXTENDED", format!("{under}/Cdtr/Nm"))],
    );
}

// ---------------------------------------------------------------------------------------------
// pacs.002
// ---------------------------------------------------------------------------------------------

const STS: &str = "/Document/FIToFIPmtStsRpt/TxInfAndSts";

/// A CBPR+ pacs.002 rejecting a pacs.008, with a reason, its originator and its text.
fn pacs002() -> String {
    let header = app_hdr(
        "BANKUS33",
        "BANKDEFF",
        "STS-1",
        "pacs.002.001.10",
        "2026-11-25T10:05:00+01:00",
    );
    let document = format!(
        concat!(
            r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"><FIToFIPmtStsRpt>"#,
            "<GrpHdr><MsgId>STS-1</MsgId><CreDtTm>2026-11-25T10:05:00+01:00</CreDtTm></GrpHdr>",
            "<TxInfAndSts><OrgnlGrpInf><OrgnlMsgId>MSG-1</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId></OrgnlGrpInf>",
            "<OrgnlInstrId>INSTR-1</OrgnlInstrId><OrgnlEndToEndId>E2E-1</OrgnlEndToEndId><OrgnlUETR>{uetr}</OrgnlUETR>",
            "<TxSts>RJCT</TxSts><StsRsnInf><Orgtr><Id><OrgId><AnyBIC>BANKUS33</AnyBIC></OrgId></Id></Orgtr>",
            "<Rsn><Cd>AC04</Cd></Rsn><AddtlInf>ACCOUNT CLOSED</AddtlInf></StsRsnInf>",
            "{instg}{instd}</TxInfAndSts></FIToFIPmtStsRpt></Document>"
        ),
        uetr = UETR,
        instg = agent("InstgAgt", "BANKUS33"),
        instd = agent("InstdAgt", "BANKDEFF"),
    );
    format!(r#"<Envelope xmlns="urn:swift:xsd:envelope">{header}{document}</Envelope>"#)
}

#[test]
fn clean_pacs002_has_no_findings() {
    no_findings(&pacs002());
}

#[test]
fn pacs002_restrictions() {
    // The original instruction id: 35 in the base schema, 16 in CBPR+.
    planted(
        &pacs002(),
        "<OrgnlInstrId>INSTR-1</OrgnlInstrId>",
        "<OrgnlInstrId>INSTR-1234567890AB</OrgnlInstrId>",
        &[("CBPR.SCHEMA.LENGTH", format!("{STS}/OrgnlInstrId"))],
    );
    // One status reason.
    planted(
        &pacs002(),
        "</StsRsnInf>",
        "</StsRsnInf><StsRsnInf><Rsn><Cd>AM04</Cd></Rsn></StsRsnInf>",
        &[("CBPR.SCHEMA.OCCURS", format!("{STS}/StsRsnInf[2]"))],
    );
    // Its additional information is FIN-X.
    planted(
        &pacs002(),
        "ACCOUNT CLOSED",
        "ACCOUNT CLOSED @ BANK",
        &[("CBPR.SCHEMA.PATTERN", format!("{STS}/StsRsnInf/AddtlInf"))],
    );
    // No original group status in a CBPR+ status report.
    planted(
        &pacs002(),
        "</GrpHdr>",
        "</GrpHdr><OrgnlGrpInfAndSts><OrgnlMsgId>MSG-1</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId></OrgnlGrpInfAndSts>",
        &[(
            "CBPR.SCHEMA.ELEMENT",
            "/Document/FIToFIPmtStsRpt/OrgnlGrpInfAndSts".to_owned(),
        )],
    );
    // A missing OrgnlUETR: CBPR.UETR.PRESENT alone.
    planted(
        &pacs002(),
        &format!("<OrgnlUETR>{UETR}</OrgnlUETR>"),
        "",
        &[("CBPR.UETR.PRESENT", format!("{STS}/OrgnlUETR"))],
    );
}

// ---------------------------------------------------------------------------------------------
// head.001 (the AppHdr of a pacs.008)
// ---------------------------------------------------------------------------------------------

#[test]
fn pacs008_header_restrictions() {
    // No signature in a CBPR+ header (reported once, not what is inside it).
    planted(
        &pacs008(),
        "</CreDt></AppHdr>",
        "</CreDt><Sgntr><Any>signed</Any></Sgntr></AppHdr>",
        &[("CBPR.SCHEMA.ELEMENT", "/AppHdr/Sgntr".to_owned())],
    );
    // Priority HIGH or NORM (the base header takes any four characters). The transaction's
    // InstrPrty goes, so that CBPR.BAH.PRTY has nothing to compare.
    let xml = plant(&pacs008(), "<InstrPrty>NORM</InstrPrty>", "");
    planted(
        &xml,
        "</CreDt></AppHdr>",
        "</CreDt><Prty>URGT</Prty></AppHdr>",
        &[("CBPR.SCHEMA.CODE", "/AppHdr/Prty".to_owned())],
    );
    // A clearing system member id of the sender: 28 characters in CBPR+.
    planted(
        &pacs008(),
        "<Fr><FIId><FinInstnId><BICFI>BANKDEFF</BICFI>",
        &format!(
            "<Fr><FIId><FinInstnId><BICFI>BANKDEFF</BICFI><ClrSysMmbId><ClrSysId><Cd>DEBLZ</Cd></ClrSysId><MmbId>{}</MmbId></ClrSysMmbId>",
            "1".repeat(29)
        ),
        &[(
            "CBPR.SCHEMA.LENGTH",
            "/AppHdr/Fr/FIId/FinInstnId/ClrSysMmbId/MmbId".to_owned(),
        )],
    );
    // BizSvc is mandatory in CBPR+: CBPR.BAH.BIZSVC alone reports its absence.
    planted(
        &pacs008(),
        "<BizSvc>swift.cbprplus.03</BizSvc>",
        "",
        &[("CBPR.BAH.BIZSVC", "/AppHdr/BizSvc".to_owned())],
    );
    // CreDt in Z: CBPR.DATETIME.FORM alone.
    planted(
        &pacs008(),
        "<CreDt>2026-11-25T10:00:00+01:00</CreDt>",
        "<CreDt>2026-11-25T09:00:00Z</CreDt>",
        &[("CBPR.DATETIME.FORM", "/AppHdr/CreDt".to_owned())],
    );
}

#[test]
fn pacs009_header_restrictions() {
    // The pacs.009 headers (core and cover) are held to the same CBPR+ header table.
    for xml in [pacs009(""), pacs009(&underlying())] {
        // No signature.
        planted(
            &xml,
            "</CreDt></AppHdr>",
            "</CreDt><Sgntr><Any>signed</Any></Sgntr></AppHdr>",
            &[("CBPR.SCHEMA.ELEMENT", "/AppHdr/Sgntr".to_owned())],
        );
        // Priority HIGH or NORM.
        planted(
            &xml,
            "</CreDt></AppHdr>",
            "</CreDt><Prty>URGT</Prty></AppHdr>",
            &[("CBPR.SCHEMA.CODE", "/AppHdr/Prty".to_owned())],
        );
        // The receiver's clearing system member id: 28 characters.
        planted(
            &xml,
            "<To><FIId><FinInstnId><BICFI>BANKUS33</BICFI>",
            &format!(
                "<To><FIId><FinInstnId><BICFI>BANKUS33</BICFI><ClrSysMmbId><ClrSysId><Cd>USABA</Cd></ClrSysId><MmbId>{}</MmbId></ClrSysMmbId>",
                "2".repeat(29)
            ),
            &[(
                "CBPR.SCHEMA.LENGTH",
                "/AppHdr/To/FIId/FinInstnId/ClrSysMmbId/MmbId".to_owned(),
            )],
        );
        // No possible-duplicate flag in a related header (the base one has it).
        planted(
            &xml,
            "</CreDt></AppHdr>",
            concat!(
                "</CreDt><Rltd><Fr><FIId><FinInstnId><BICFI>BANKUS33</BICFI></FinInstnId></FIId></Fr>",
                "<To><FIId><FinInstnId><BICFI>BANKDEFF</BICFI></FinInstnId></FIId></To>",
                "<BizMsgIdr>FI-0</BizMsgIdr><MsgDefIdr>pacs.009.001.08</MsgDefIdr>",
                "<CreDt>2026-11-25T09:00:00+01:00</CreDt><PssblDplct>false</PssblDplct></Rltd></AppHdr>"
            ),
            &[("CBPR.SCHEMA.ELEMENT", "/AppHdr/Rltd/PssblDplct".to_owned())],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// pacs.004
// ---------------------------------------------------------------------------------------------

const RTR: &str = "/Document/PmtRtr/TxInf";

/// A CBPR+ pacs.004 returning a pacs.008: original references, the return chain with an
/// ultimate debtor, one reason with its text, and the original transaction's remittance.
fn pacs004() -> String {
    let header = app_hdr(
        "BANKUS33",
        "BANKDEFF",
        "RTR-1",
        "pacs.004.001.09",
        "2026-11-26T10:00:00+01:00",
    );
    let document = format!(
        concat!(
            r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.004.001.09"><PmtRtr>"#,
            "<GrpHdr><MsgId>RTR-1</MsgId><CreDtTm>2026-11-26T10:00:00+01:00</CreDtTm><NbOfTxs>1</NbOfTxs>",
            "<SttlmInf><SttlmMtd>INDA</SttlmMtd></SttlmInf></GrpHdr>",
            "<TxInf><RtrId>RTR-1</RtrId><OrgnlGrpInf><OrgnlMsgId>MSG-1</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId></OrgnlGrpInf>",
            "<OrgnlInstrId>INSTR-1</OrgnlInstrId><OrgnlEndToEndId>E2E-1</OrgnlEndToEndId><OrgnlUETR>{uetr}</OrgnlUETR>",
            r#"<OrgnlIntrBkSttlmAmt Ccy="EUR">99.00</OrgnlIntrBkSttlmAmt><OrgnlIntrBkSttlmDt>2026-11-25</OrgnlIntrBkSttlmDt>"#,
            r#"<RtrdIntrBkSttlmAmt Ccy="EUR">99.00</RtrdIntrBkSttlmAmt><IntrBkSttlmDt>2026-11-26</IntrBkSttlmDt>"#,
            "<ChrgBr>SHAR</ChrgBr>{instg}{instd}",
            "<RtrChain>",
            "<UltmtDbtr><Pty><Nm>Acme Holding</Nm><PstlAdr><TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></PstlAdr></Pty></UltmtDbtr>",
            "<Dbtr><Pty><Nm>Acme GmbH</Nm><PstlAdr><TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></PstlAdr></Pty></Dbtr>",
            "{dbtr_agt}{cdtr_agt}",
            "<Cdtr><Pty><Nm>Widget Inc</Nm><PstlAdr><TwnNm>New York</TwnNm><Ctry>US</Ctry></PstlAdr></Pty></Cdtr>",
            "</RtrChain>",
            "<RtrRsnInf><Orgtr><Nm>Bank US</Nm></Orgtr><Rsn><Cd>AC04</Cd></Rsn><AddtlInf>ACCOUNT CLOSED</AddtlInf></RtrRsnInf>",
            "<OrgnlTxRef><RmtInf><Ustrd>Invoice 42</Ustrd></RmtInf>",
            "<Dbtr><Pty><Nm>Acme GmbH</Nm></Pty></Dbtr>",
            "<CdtrAcct><Id><Othr><Id>123456789</Id></Othr></Id></CdtrAcct></OrgnlTxRef>",
            "</TxInf></PmtRtr></Document>"
        ),
        uetr = UETR,
        instg = agent("InstgAgt", "BANKUS33"),
        instd = agent("InstdAgt", "BANKDEFF"),
        dbtr_agt = agent("DbtrAgt", "BANKDEFF"),
        cdtr_agt = agent("CdtrAgt", "BANKUS33"),
    );
    format!(r#"<Envelope xmlns="urn:swift:xsd:envelope">{header}{document}</Envelope>"#)
}

#[test]
fn clean_pacs004_has_no_findings() {
    no_findings(&pacs004());
}

#[test]
fn pacs004_restrictions() {
    // Charge bearer CRED or SHAR only: DEBT, which the base schema and a pacs.008 allow.
    planted(
        &pacs004(),
        "<ChrgBr>SHAR</ChrgBr>",
        "<ChrgBr>DEBT</ChrgBr>",
        &[("CBPR.SCHEMA.CODE", format!("{RTR}/ChrgBr"))],
    );
    // The return chain is mandatory in CBPR+.
    let chain_start = "<RtrChain>";
    let xml = pacs004();
    let from = xml.find(chain_start).expect("chain");
    let to = xml.find("</RtrChain>").expect("chain end") + "</RtrChain>".len();
    let without_chain = format!("{}{}", &xml[..from], &xml[to..]);
    assert_eq!(
        findings(&without_chain),
        [("CBPR.SCHEMA.MISSING", format!("{RTR}/RtrChain"))]
    );
    // So is the charge bearer (optional in the base schema).
    planted(
        &pacs004(),
        "<ChrgBr>SHAR</ChrgBr>",
        "",
        &[("CBPR.SCHEMA.MISSING", format!("{RTR}/ChrgBr"))],
    );
    // No compensation amount in a CBPR+ return.
    planted(
        &pacs004(),
        "<ChrgBr>SHAR</ChrgBr>",
        r#"<CompstnAmt Ccy="EUR">1.00</CompstnAmt><ChrgBr>SHAR</ChrgBr>"#,
        &[("CBPR.SCHEMA.ELEMENT", format!("{RTR}/CompstnAmt"))],
    );
    // One return reason.
    planted(
        &pacs004(),
        "</RtrRsnInf>",
        "</RtrRsnInf><RtrRsnInf><Rsn><Cd>AM04</Cd></Rsn></RtrRsnInf>",
        &[("CBPR.SCHEMA.OCCURS", format!("{RTR}/RtrRsnInf[2]"))],
    );
    // The reason is a code: no proprietary reason.
    planted(
        &pacs004(),
        "<Rsn><Cd>AC04</Cd></Rsn>",
        "<Rsn><Prtry>CLOSED</Prtry></Rsn>",
        &[("CBPR.SCHEMA.ELEMENT", format!("{RTR}/RtrRsnInf/Rsn/Prtry"))],
    );
    // The reason's text: 105 characters of FIN-X.
    planted(
        &pacs004(),
        "ACCOUNT CLOSED",
        "ACCOUNT CLOSED @ BANK",
        &[("CBPR.SCHEMA.PATTERN", format!("{RTR}/RtrRsnInf/AddtlInf"))],
    );
    // An ultimate party is never an agent in the return chain.
    planted(
        &pacs004(),
        "<UltmtDbtr><Pty><Nm>Acme Holding</Nm><PstlAdr><TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></PstlAdr></Pty></UltmtDbtr>",
        "<UltmtDbtr><Agt><FinInstnId><BICFI>BANKDEFF</BICFI></FinInstnId></Agt></UltmtDbtr>",
        &[("CBPR.SCHEMA.ELEMENT", format!("{RTR}/RtrChain/UltmtDbtr/Agt"))],
    );
    // The original transaction's account: no '/' at the end of an other identification.
    planted(
        &pacs004(),
        "<Id>123456789</Id>",
        "<Id>123456789/</Id>",
        &[(
            "CBPR.SCHEMA.PATTERN",
            format!("{RTR}/OrgnlTxRef/CdtrAcct/Id/Othr/Id"),
        )],
    );
    // Its remittance: one unstructured line.
    planted(
        &pacs004(),
        "<Ustrd>Invoice 42</Ustrd>",
        "<Ustrd>Invoice 42</Ustrd><Ustrd>Invoice 43</Ustrd>",
        &[(
            "CBPR.SCHEMA.OCCURS",
            format!("{RTR}/OrgnlTxRef/RmtInf/Ustrd[2]"),
        )],
    );
    // No agents in the group header: CBPR.GRPHDR.AGENTS alone.
    planted(
        &pacs004(),
        "</SttlmInf></GrpHdr>",
        &format!("</SttlmInf>{}</GrpHdr>", agent("InstgAgt", "BANKUS33")),
        &[(
            "CBPR.GRPHDR.AGENTS",
            "/Document/PmtRtr/GrpHdr/InstgAgt".to_owned(),
        )],
    );
}

// ---------------------------------------------------------------------------------------------
// camt.053
// ---------------------------------------------------------------------------------------------

const STMT: &str = "/Document/BkToCstmrStmt/Stmt";
const STMT_TX: &str = "/Document/BkToCstmrStmt/Stmt/Ntry/NtryDtls/TxDtls";

/// The AppHdr of a statement from BANKUS33 to BANKDEFF.
fn report_header(msg_id: &str, msg_def_idr: &str) -> String {
    app_hdr(
        "BANKUS33",
        "BANKDEFF",
        msg_id,
        msg_def_idr,
        "2026-11-26T18:00:00+00:00",
    )
}

/// One booked credit entry with its transaction: references, parties, an agent, remittance
/// and the settlement date. `booked` is the booking date's choice (`<Dt>` or `<DtTm>`).
fn statement_entry(booked: &str) -> String {
    format!(
        concat!(
            r#"<Ntry><NtryRef>1</NtryRef><Amt Ccy="USD">99.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"#,
            "<BookgDt>{booked}</BookgDt><ValDt><Dt>2026-11-26</Dt></ValDt><AcctSvcrRef>SVCR-1</AcctSvcrRef>",
            "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>XBCT</SubFmlyCd></Fmly></Domn></BkTxCd>",
            "<NtryDtls><TxDtls><Refs><MsgId>MSG-1</MsgId><InstrId>INSTR-1</InstrId><EndToEndId>E2E-1</EndToEndId><UETR>{uetr}</UETR></Refs>",
            r#"<Amt Ccy="USD">99.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>"#,
            "<RltdPties><Dbtr><Pty><Nm>Acme GmbH</Nm><PstlAdr><TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></PstlAdr></Pty></Dbtr>",
            "<Cdtr><Pty><Nm>Widget Inc</Nm><PstlAdr><TwnNm>New York</TwnNm><Ctry>US</Ctry></PstlAdr></Pty></Cdtr></RltdPties>",
            "{dbtr_agt}<RmtInf><Ustrd>Invoice 42</Ustrd></RmtInf>",
            "<RltdDts><IntrBkSttlmDt>2026-11-26</IntrBkSttlmDt></RltdDts></TxDtls></NtryDtls>",
            "<AddtlNtryInf>ENTRY NOTE</AddtlNtryInf></Ntry>"
        ),
        uetr = UETR,
        booked = booked,
        dbtr_agt = format!("<RltdAgts>{}</RltdAgts>", agent("DbtrAgt", "BANKDEFF")),
    )
}

/// The parts that tell a statement, an intraday report and a notification apart.
struct ReportKind {
    msg_def_idr: &'static str,
    root: &'static str,
    report: &'static str,
    pagination: &'static str,
    additional_info: &'static str,
    balances: bool,
    booked: &'static str,
}

const STATEMENT: ReportKind = ReportKind {
    msg_def_idr: "camt.053.001.08",
    root: "BkToCstmrStmt",
    report: "Stmt",
    pagination: "StmtPgntn",
    additional_info: "AddtlStmtInf",
    balances: true,
    booked: "<Dt>2026-11-26</Dt>",
};

const ACCOUNT_REPORT: ReportKind = ReportKind {
    msg_def_idr: "camt.052.001.08",
    root: "BkToCstmrAcctRpt",
    report: "Rpt",
    pagination: "RptPgntn",
    additional_info: "AddtlRptInf",
    balances: true,
    booked: "<Dt>2026-11-26</Dt>",
};

const NOTIFICATION: ReportKind = ReportKind {
    msg_def_idr: "camt.054.001.08",
    root: "BkToCstmrDbtCdtNtfctn",
    report: "Ntfctn",
    pagination: "NtfctnPgntn",
    additional_info: "AddtlNtfctnInf",
    balances: false,
    booked: "<DtTm>2026-11-26T09:30:00+00:00</DtTm>",
};

/// A CBPR+ cash management report of `kind`: pagination, sequence number, period, the account
/// with its owner and servicer, opening and closing balances (where the kind has them), a
/// summary and one entry.
fn cash_report(kind: &ReportKind) -> String {
    let balances = if kind.balances {
        concat!(
            r#"<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="USD">1000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-26</Dt></Dt></Bal>"#,
            r#"<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="USD">1099.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-26</Dt></Dt></Bal>"#,
        )
    } else {
        ""
    };
    let document = format!(
        concat!(
            r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:{def}"><{root}>"#,
            "<GrpHdr><MsgId>STMT-1</MsgId><CreDtTm>2026-11-26T18:00:00+00:00</CreDtTm></GrpHdr>",
            "<{report}><Id>STMT-1-1</Id><{pgntn}><PgNb>1</PgNb><LastPgInd>true</LastPgInd></{pgntn}>",
            "<ElctrncSeqNb>42</ElctrncSeqNb><CreDtTm>2026-11-26T18:00:00+00:00</CreDtTm>",
            "<FrToDt><FrDtTm>2026-11-26T00:00:00+00:00</FrDtTm><ToDtTm>2026-11-26T23:59:59+00:00</ToDtTm></FrToDt>",
            "<Acct><Id><Othr><Id>123456789</Id></Othr></Id><Ccy>USD</Ccy><Ownr><Nm>Bank DE</Nm></Ownr>",
            "<Svcr><FinInstnId><BICFI>BANKUS33</BICFI></FinInstnId></Svcr></Acct>{balances}",
            "<TxsSummry><TtlNtries><NbOfNtries>1</NbOfNtries><Sum>99.00</Sum>",
            "<TtlNetNtry><Amt>99.00</Amt><CdtDbtInd>CRDT</CdtDbtInd></TtlNetNtry></TtlNtries></TxsSummry>",
            "{entry}<{addtl}>REPORT NOTE</{addtl}></{report}></{root}></Document>"
        ),
        def = kind.msg_def_idr,
        root = kind.root,
        report = kind.report,
        pgntn = kind.pagination,
        addtl = kind.additional_info,
        balances = balances,
        entry = statement_entry(kind.booked),
    );
    format!(
        r#"<Envelope xmlns="urn:swift:xsd:envelope">{}{document}</Envelope>"#,
        report_header("STMT-1", kind.msg_def_idr)
    )
}

fn camt053() -> String {
    cash_report(&STATEMENT)
}

#[test]
fn clean_camt053_has_no_findings() {
    no_findings(&camt053());
}

#[test]
fn camt053_elements_cbpr_removed() {
    // No message pagination in a CBPR+ statement's group header.
    planted(
        &camt053(),
        "</CreDtTm></GrpHdr>",
        "</CreDtTm><MsgPgntn><PgNb>1</PgNb><LastPgInd>true</LastPgInd></MsgPgntn></GrpHdr>",
        &[(
            "CBPR.SCHEMA.ELEMENT",
            "/Document/BkToCstmrStmt/GrpHdr/MsgPgntn".to_owned(),
        )],
    );
    // No supplementary data in a transaction (reported once, not what is under it).
    planted(
        &camt053(),
        "</RltdDts></TxDtls>",
        "</RltdDts><SplmtryData><Envlp><Any>1</Any></Envlp></SplmtryData></TxDtls>",
        &[("CBPR.SCHEMA.ELEMENT", format!("{STMT_TX}/SplmtryData"))],
    );
}

#[test]
fn camt053_elements_cbpr_makes_mandatory() {
    // The statement's pagination (optional in the base schema).
    planted(
        &camt053(),
        "<StmtPgntn><PgNb>1</PgNb><LastPgInd>true</LastPgInd></StmtPgntn>",
        "",
        &[("CBPR.SCHEMA.MISSING", format!("{STMT}/StmtPgntn"))],
    );
    // The account's currency.
    planted(
        &camt053(),
        "<Ccy>USD</Ccy>",
        "",
        &[("CBPR.SCHEMA.MISSING", format!("{STMT}/Acct/Ccy"))],
    );
    // An entry's value date.
    planted(
        &camt053(),
        "<ValDt><Dt>2026-11-26</Dt></ValDt>",
        "",
        &[("CBPR.SCHEMA.MISSING", format!("{STMT}/Ntry/ValDt"))],
    );
    // A transaction's references.
    let refs = format!(
        "<Refs><MsgId>MSG-1</MsgId><InstrId>INSTR-1</InstrId><EndToEndId>E2E-1</EndToEndId><UETR>{UETR}</UETR></Refs>"
    );
    planted(
        &camt053(),
        &refs,
        "",
        &[("CBPR.SCHEMA.MISSING", format!("{STMT_TX}/Refs"))],
    );
    // A proprietary bank transaction code names its issuer.
    planted(
        &camt053(),
        "<Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>XBCT</SubFmlyCd></Fmly></Domn>",
        "<Prtry><Cd>NTRF</Cd></Prtry>",
        &[(
            "CBPR.SCHEMA.MISSING",
            format!("{STMT}/Ntry/BkTxCd/Prtry/Issr"),
        )],
    );
}

#[test]
fn camt053_repetitions_cbpr_reduces_to_one() {
    // One transaction per entry details.
    let tx_start = "<TxDtls>";
    let xml = camt053();
    let from = xml.find(tx_start).expect("tx");
    let to = xml.find("</TxDtls>").expect("tx end") + "</TxDtls>".len();
    let tx = &xml[from..to];
    planted(
        &xml,
        "</TxDtls></NtryDtls>",
        &format!("</TxDtls>{tx}</NtryDtls>"),
        &[(
            "CBPR.SCHEMA.OCCURS",
            format!("{STMT}/Ntry/NtryDtls/TxDtls[2]"),
        )],
    );
}

#[test]
fn camt053_texts_cbpr_shortens_or_narrows() {
    // The servicer's clearing system member id: 28 characters.
    planted(
        &camt053(),
        "<Svcr><FinInstnId><BICFI>BANKUS33</BICFI>",
        &format!(
            "<Svcr><FinInstnId><BICFI>BANKUS33</BICFI><ClrSysMmbId><ClrSysId><Cd>USABA</Cd></ClrSysId><MmbId>{}</MmbId></ClrSysMmbId>",
            "1".repeat(29)
        ),
        &[(
            "CBPR.SCHEMA.LENGTH",
            format!("{STMT}/Acct/Svcr/FinInstnId/ClrSysMmbId/MmbId"),
        )],
    );
    // The statement's and the entry's additional information are FIN-X: no '@'.
    planted(
        &camt053(),
        "REPORT NOTE",
        "REPORT @ NOTE",
        &[("CBPR.SCHEMA.PATTERN", format!("{STMT}/AddtlStmtInf"))],
    );
    planted(
        &camt053(),
        "ENTRY NOTE",
        "ENTRY @ NOTE",
        &[("CBPR.SCHEMA.PATTERN", format!("{STMT}/Ntry/AddtlNtryInf"))],
    );
    // The account's other identification: no '/' at either end.
    planted(
        &camt053(),
        "<Id>123456789</Id>",
        "<Id>/123456789</Id>",
        &[("CBPR.SCHEMA.PATTERN", format!("{STMT}/Acct/Id/Othr/Id"))],
    );
    // A statement reports booked entries only.
    planted(
        &camt053(),
        "<Sts><Cd>BOOK</Cd></Sts>",
        "<Sts><Cd>PDNG</Cd></Sts>",
        &[("CBPR.SCHEMA.CODE", format!("{STMT}/Ntry/Sts/Cd"))],
    );
}

// ---------------------------------------------------------------------------------------------
// camt.052
// ---------------------------------------------------------------------------------------------

const RPT: &str = "/Document/BkToCstmrAcctRpt/Rpt";

fn camt052() -> String {
    cash_report(&ACCOUNT_REPORT)
}

#[test]
fn clean_camt052_has_no_findings() {
    no_findings(&camt052());
    // Unlike a statement, a report may go without balances and report a pending entry.
    let xml = plant(
        &camt052(),
        "<Sts><Cd>BOOK</Cd></Sts>",
        "<Sts><Cd>PDNG</Cd></Sts>",
    );
    let from = xml.find("<Bal>").expect("balance");
    let to = xml.rfind("</Bal>").expect("balance end") + "</Bal>".len();
    let xml = format!("{}{}", &xml[..from], &xml[to..]);
    assert_eq!(findings(&xml), []);
}

#[test]
fn camt052_restrictions() {
    // No supplementary data at the end of a CBPR+ report.
    planted(
        &camt052(),
        "</Rpt></BkToCstmrAcctRpt>",
        "</Rpt><SplmtryData><Envlp><Any>1</Any></Envlp></SplmtryData></BkToCstmrAcctRpt>",
        &[(
            "CBPR.SCHEMA.ELEMENT",
            "/Document/BkToCstmrAcctRpt/SplmtryData".to_owned(),
        )],
    );
    // The report's pagination is mandatory.
    planted(
        &camt052(),
        "<RptPgntn><PgNb>1</PgNb><LastPgInd>true</LastPgInd></RptPgntn>",
        "",
        &[("CBPR.SCHEMA.MISSING", format!("{RPT}/RptPgntn"))],
    );
    // One transaction per entry details.
    let xml = camt052();
    let from = xml.find("<TxDtls>").expect("tx");
    let to = xml.find("</TxDtls>").expect("tx end") + "</TxDtls>".len();
    let tx = xml[from..to].to_owned();
    planted(
        &xml,
        "</TxDtls></NtryDtls>",
        &format!("</TxDtls>{tx}</NtryDtls>"),
        &[(
            "CBPR.SCHEMA.OCCURS",
            format!("{RPT}/Ntry/NtryDtls/TxDtls[2]"),
        )],
    );
    // A financial instrument's description: 35 characters in a CBPR+ report (140 in the base
    // schema and in a CBPR+ statement).
    planted(
        &camt052(),
        "</RltdDts></TxDtls>",
        &format!(
            "</RltdDts><FinInstrmId><Desc>{}</Desc></FinInstrmId></TxDtls>",
            "D".repeat(36)
        ),
        &[(
            "CBPR.SCHEMA.LENGTH",
            format!("{RPT}/Ntry/NtryDtls/TxDtls/FinInstrmId/Desc"),
        )],
    );
    // The report's additional information is FIN-X.
    planted(
        &camt052(),
        "REPORT NOTE",
        "REPORT @ NOTE",
        &[("CBPR.SCHEMA.PATTERN", format!("{RPT}/AddtlRptInf"))],
    );
}

// ---------------------------------------------------------------------------------------------
// camt.054
// ---------------------------------------------------------------------------------------------

const NTFCTN: &str = "/Document/BkToCstmrDbtCdtNtfctn/Ntfctn";

fn camt054() -> String {
    cash_report(&NOTIFICATION)
}

#[test]
fn clean_camt054_has_no_findings() {
    no_findings(&camt054());
}

#[test]
fn camt054_restrictions() {
    // A notified entry's booking date is a date-time in CBPR+, not a date.
    planted(
        &camt054(),
        "<BookgDt><DtTm>2026-11-26T09:30:00+00:00</DtTm></BookgDt>",
        "<BookgDt><Dt>2026-11-26</Dt></BookgDt>",
        &[("CBPR.SCHEMA.ELEMENT", format!("{NTFCTN}/Ntry/BookgDt/Dt"))],
    );
    // The entry's reference is mandatory, and 16 characters at most.
    planted(
        &camt054(),
        "<NtryRef>1</NtryRef>",
        "",
        &[("CBPR.SCHEMA.MISSING", format!("{NTFCTN}/Ntry/NtryRef"))],
    );
    planted(
        &camt054(),
        "<NtryRef>1</NtryRef>",
        &format!("<NtryRef>{}</NtryRef>", "1".repeat(17)),
        &[("CBPR.SCHEMA.LENGTH", format!("{NTFCTN}/Ntry/NtryRef"))],
    );
    // A transaction's related dates and its instruction id are mandatory.
    planted(
        &camt054(),
        "<RltdDts><IntrBkSttlmDt>2026-11-26</IntrBkSttlmDt></RltdDts>",
        "",
        &[(
            "CBPR.SCHEMA.MISSING",
            format!("{NTFCTN}/Ntry/NtryDtls/TxDtls/RltdDts"),
        )],
    );
    planted(
        &camt054(),
        "<InstrId>INSTR-1</InstrId>",
        "",
        &[(
            "CBPR.SCHEMA.MISSING",
            format!("{NTFCTN}/Ntry/NtryDtls/TxDtls/Refs/InstrId"),
        )],
    );
    // One unstructured remittance line.
    planted(
        &camt054(),
        "<Ustrd>Invoice 42</Ustrd>",
        "<Ustrd>Invoice 42</Ustrd><Ustrd>Invoice 43</Ustrd>",
        &[(
            "CBPR.SCHEMA.OCCURS",
            format!("{NTFCTN}/Ntry/NtryDtls/TxDtls/RmtInf/Ustrd[2]"),
        )],
    );
    // The notification's additional information is FIN-X.
    planted(
        &camt054(),
        "REPORT NOTE",
        "REPORT @ NOTE",
        &[("CBPR.SCHEMA.PATTERN", format!("{NTFCTN}/AddtlNtfctnInf"))],
    );
    // Unlike a statement, entry details may carry several transactions.
    let xml = camt054();
    let from = xml.find("<TxDtls>").expect("tx");
    let to = xml.find("</TxDtls>").expect("tx end") + "</TxDtls>".len();
    let tx = xml[from..to].to_owned();
    let two = plant(
        &xml,
        "</TxDtls></NtryDtls>",
        &format!("</TxDtls>{tx}</NtryDtls>"),
    );
    assert_eq!(findings(&two), []);
}

// ---------------------------------------------------------------------------------------------
// camt.056
// ---------------------------------------------------------------------------------------------

const CXL: &str = "/Document/FIToFIPmtCxlReq/Undrlyg/TxInf";

/// A CBPR+ camt.056 from BANKDEFF recalling its pacs.008 to BANKUS33.
fn camt056() -> String {
    let assignment_agent = |tag: &str, bic: &str| format!("<{tag}>{}</{tag}>", agent("Agt", bic));
    let document = format!(
        concat!(
            r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.056.001.08"><FIToFIPmtCxlReq>"#,
            "<Assgnmt><Id>CXL-1</Id>{assgnr}{assgne}<CreDtTm>2026-11-26T10:00:00+01:00</CreDtTm></Assgnmt>",
            "<Undrlyg><TxInf><CxlId>CXL-1</CxlId><Case><Id>CASE-1</Id><Cretr>{cretr}</Cretr></Case>",
            "<OrgnlGrpInf><OrgnlMsgId>MSG-1</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId></OrgnlGrpInf>",
            "<OrgnlInstrId>INSTR-1</OrgnlInstrId><OrgnlEndToEndId>E2E-1</OrgnlEndToEndId><OrgnlUETR>{uetr}</OrgnlUETR>",
            r#"<OrgnlIntrBkSttlmAmt Ccy="EUR">99.00</OrgnlIntrBkSttlmAmt><OrgnlIntrBkSttlmDt>2026-11-25</OrgnlIntrBkSttlmDt>"#,
            "<CxlRsnInf><Orgtr><Nm>Acme GmbH</Nm></Orgtr><Rsn><Cd>DUPL</Cd></Rsn><AddtlInf>SENT TWICE</AddtlInf></CxlRsnInf>",
            "</TxInf></Undrlyg></FIToFIPmtCxlReq></Document>"
        ),
        assgnr = assignment_agent("Assgnr", "BANKDEFF"),
        assgne = assignment_agent("Assgne", "BANKUS33"),
        cretr = agent("Agt", "BANKDEFF"),
        uetr = UETR,
    );
    let header = app_hdr(
        "BANKDEFF",
        "BANKUS33",
        "CXL-1",
        "camt.056.001.08",
        "2026-11-26T10:00:00+01:00",
    );
    format!(r#"<Envelope xmlns="urn:swift:xsd:envelope">{header}{document}</Envelope>"#)
}

#[test]
fn clean_camt056_has_no_findings() {
    no_findings(&camt056());
}

#[test]
fn camt056_restrictions() {
    // No case at the top of a CBPR+ cancellation request (the transaction carries it).
    planted(
        &camt056(),
        "</Assgnmt><Undrlyg>",
        "</Assgnmt><Case><Id>CASE-0</Id><Cretr><Agt><FinInstnId><BICFI>BANKDEFF</BICFI></FinInstnId></Agt></Cretr></Case><Undrlyg>",
        &[("CBPR.SCHEMA.ELEMENT", "/Document/FIToFIPmtCxlReq/Case".to_owned())],
    );
    // The case is mandatory in the transaction.
    planted(
        &camt056(),
        "<Case><Id>CASE-1</Id><Cretr><Agt><FinInstnId><BICFI>BANKDEFF</BICFI></FinInstnId></Agt></Cretr></Case>",
        "",
        &[("CBPR.SCHEMA.MISSING", format!("{CXL}/Case"))],
    );
    // One cancellation reason.
    planted(
        &camt056(),
        "</CxlRsnInf>",
        "</CxlRsnInf><CxlRsnInf><Rsn><Cd>CUST</Cd></Rsn></CxlRsnInf>",
        &[("CBPR.SCHEMA.OCCURS", format!("{CXL}/CxlRsnInf[2]"))],
    );
    // The cancellation id: 16 characters (35 in the base schema).
    planted(
        &camt056(),
        "<CxlId>CXL-1</CxlId>",
        "<CxlId>CXL-1234567890ABC</CxlId>",
        &[("CBPR.SCHEMA.LENGTH", format!("{CXL}/CxlId"))],
    );
    // The reason's text is FIN-X.
    planted(
        &camt056(),
        "SENT TWICE",
        "SENT TWICE @ 10:00",
        &[("CBPR.SCHEMA.PATTERN", format!("{CXL}/CxlRsnInf/AddtlInf"))],
    );
    // A reason code outside the CBPR+ list (AC03 is in the base list).
    planted(
        &camt056(),
        "<Rsn><Cd>DUPL</Cd></Rsn>",
        "<Rsn><Cd>AC03</Cd></Rsn>",
        &[("CBPR.SCHEMA.CODE", format!("{CXL}/CxlRsnInf/Rsn/Cd"))],
    );
}

// ---------------------------------------------------------------------------------------------
// camt.029
// ---------------------------------------------------------------------------------------------

const RSLTN: &str = "/Document/RsltnOfInvstgtn";
const RSLTN_TX: &str = "/Document/RsltnOfInvstgtn/CxlDtls/TxInfAndSts";

/// A CBPR+ camt.029 rejecting a cancellation request: one transaction with its resolved case
/// and one coded reason.
fn camt029() -> String {
    let assignment_agent = |tag: &str, bic: &str| format!("<{tag}>{}</{tag}>", agent("Agt", bic));
    let document = format!(
        concat!(
            r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.029.001.09"><RsltnOfInvstgtn>"#,
            "<Assgnmt><Id>RSLTN-1</Id>{assgnr}{assgne}<CreDtTm>2026-11-27T10:00:00+01:00</CreDtTm></Assgnmt>",
            "<Sts><Conf>RJCR</Conf></Sts>",
            "<CxlDtls><TxInfAndSts><CxlStsId>RSLTN-1</CxlStsId>",
            "<RslvdCase><Id>CASE-1</Id><Cretr>{cretr}</Cretr></RslvdCase>",
            "<OrgnlGrpInf><OrgnlMsgId>MSG-1</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId></OrgnlGrpInf>",
            "<OrgnlInstrId>INSTR-1</OrgnlInstrId><OrgnlEndToEndId>E2E-1</OrgnlEndToEndId><OrgnlUETR>{uetr}</OrgnlUETR>",
            "<CxlStsRsnInf><Orgtr><Nm>Widget Inc</Nm></Orgtr><Rsn><Cd>LEGL</Cd></Rsn><AddtlInf>FUNDS ALREADY PAID OUT</AddtlInf></CxlStsRsnInf>",
            "</TxInfAndSts></CxlDtls></RsltnOfInvstgtn></Document>"
        ),
        assgnr = assignment_agent("Assgnr", "BANKUS33"),
        assgne = assignment_agent("Assgne", "BANKDEFF"),
        cretr = agent("Agt", "BANKDEFF"),
        uetr = UETR,
    );
    let header = app_hdr(
        "BANKUS33",
        "BANKDEFF",
        "RSLTN-1",
        "camt.029.001.09",
        "2026-11-27T10:00:00+01:00",
    );
    format!(r#"<Envelope xmlns="urn:swift:xsd:envelope">{header}{document}</Envelope>"#)
}

#[test]
fn clean_camt029_has_no_findings() {
    no_findings(&camt029());
}

#[test]
fn camt029_elements_and_occurrences() {
    // No resolved case at the top of a CBPR+ resolution (the transaction carries it).
    planted(
        &camt029(),
        "</Assgnmt><Sts>",
        "</Assgnmt><RslvdCase><Id>CASE-1</Id><Cretr><Agt><FinInstnId><BICFI>BANKDEFF</BICFI></FinInstnId></Agt></Cretr></RslvdCase><Sts>",
        &[("CBPR.SCHEMA.ELEMENT", format!("{RSLTN}/RslvdCase"))],
    );
    // The status is given by the confirmation only: the transaction carries none.
    planted(
        &camt029(),
        "</OrgnlUETR>",
        "</OrgnlUETR><TxCxlSts>RJCR</TxCxlSts>",
        &[("CBPR.SCHEMA.ELEMENT", format!("{RSLTN_TX}/TxCxlSts"))],
    );
    // The cancellation details are mandatory.
    planted(
        &camt029(),
        &span(&camt029(), "<CxlDtls>", "</CxlDtls>"),
        "",
        &[("CBPR.SCHEMA.MISSING", format!("{RSLTN}/CxlDtls"))],
    );
    // One transaction.
    let tx = span(&camt029(), "<TxInfAndSts>", "</TxInfAndSts>");
    planted(
        &camt029(),
        "</TxInfAndSts>",
        &format!("</TxInfAndSts>{}", tx.replace("RSLTN-1", "RSLTN-2")),
        &[(
            "CBPR.SCHEMA.OCCURS",
            format!("{RSLTN}/CxlDtls/TxInfAndSts[2]"),
        )],
    );
    // The status id and the resolved case are mandatory.
    planted(
        &camt029(),
        "<CxlStsId>RSLTN-1</CxlStsId>",
        "",
        &[("CBPR.SCHEMA.MISSING", format!("{RSLTN_TX}/CxlStsId"))],
    );
    // One status reason.
    planted(
        &camt029(),
        "</CxlStsRsnInf>",
        "</CxlStsRsnInf><CxlStsRsnInf><Rsn><Cd>NARR</Cd></Rsn></CxlStsRsnInf>",
        &[("CBPR.SCHEMA.OCCURS", format!("{RSLTN_TX}/CxlStsRsnInf[2]"))],
    );
}

#[test]
fn camt029_texts_and_codes() {
    // The status id: 16 characters (35 in the base schema).
    planted(
        &camt029(),
        "<CxlStsId>RSLTN-1</CxlStsId>",
        "<CxlStsId>RSLTN-1234567890AB</CxlStsId>",
        &[("CBPR.SCHEMA.LENGTH", format!("{RSLTN_TX}/CxlStsId"))],
    );
    // The reason's text is FIN-X.
    planted(
        &camt029(),
        "FUNDS ALREADY PAID OUT",
        "FUNDS @ PAID OUT",
        &[(
            "CBPR.SCHEMA.PATTERN",
            format!("{RSLTN_TX}/CxlStsRsnInf/AddtlInf"),
        )],
    );
    // A confirmation outside the CBPR+ list (MODI is in the base list).
    planted(
        &camt029(),
        "<Conf>RJCR</Conf>",
        "<Conf>MODI</Conf>",
        &[("CBPR.SCHEMA.CODE", format!("{RSLTN}/Sts/Conf"))],
    );
    // A reason code outside the CBPR+ list (AC03 is in the base list).
    planted(
        &camt029(),
        "<Rsn><Cd>LEGL</Cd></Rsn>",
        "<Rsn><Cd>AC03</Cd></Rsn>",
        &[(
            "CBPR.SCHEMA.CODE",
            format!("{RSLTN_TX}/CxlStsRsnInf/Rsn/Cd"),
        )],
    );
    // A proprietary reason: CBPR+ keeps the code only.
    planted(
        &camt029(),
        "<Rsn><Cd>LEGL</Cd></Rsn>",
        "<Rsn><Prtry>LEGAL</Prtry></Rsn>",
        &[(
            "CBPR.SCHEMA.ELEMENT",
            format!("{RSLTN_TX}/CxlStsRsnInf/Rsn/Prtry"),
        )],
    );
}

// ---------------------------------------------------------------------------------------------
// pain.002
// ---------------------------------------------------------------------------------------------

const PSR: &str = "/Document/CstmrPmtStsRpt";
const PSR_TX: &str = "/Document/CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts";

/// A CBPR+ pain.002 rejecting one transaction of a pain.001, with one coded reason.
fn pain002() -> String {
    let document = format!(
        concat!(
            r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"><CstmrPmtStsRpt>"#,
            "<GrpHdr><MsgId>STS-1</MsgId><CreDtTm>2026-11-25T10:30:00+01:00</CreDtTm>",
            "<InitgPty><Id><OrgId><AnyBIC>BANKDEFF</AnyBIC></OrgId></Id></InitgPty></GrpHdr>",
            "<OrgnlGrpInfAndSts><OrgnlMsgId>PAIN-1</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId></OrgnlGrpInfAndSts>",
            "<OrgnlPmtInfAndSts><OrgnlPmtInfId>PMTINF-1</OrgnlPmtInfId>",
            "<TxInfAndSts><OrgnlInstrId>INSTR-1</OrgnlInstrId><OrgnlEndToEndId>E2E-1</OrgnlEndToEndId>",
            "<OrgnlUETR>{uetr}</OrgnlUETR><TxSts>RJCT</TxSts>",
            "<StsRsnInf><Rsn><Cd>AC04</Cd></Rsn><AddtlInf>ACCOUNT CLOSED</AddtlInf></StsRsnInf>",
            "</TxInfAndSts></OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>"
        ),
        uetr = UETR,
    );
    let header = app_hdr(
        "BANKDEFF",
        "BANKUS33",
        "STS-1",
        "pain.002.001.10",
        "2026-11-25T10:30:00+01:00",
    );
    format!(r#"<Envelope xmlns="urn:swift:xsd:envelope">{header}{document}</Envelope>"#)
}

#[test]
fn clean_pain002_has_no_findings() {
    no_findings(&pain002());
}

#[test]
fn pain002_elements_cbpr_removed() {
    // No debtor agent in the group header.
    planted(
        &pain002(),
        "</InitgPty></GrpHdr>",
        "</InitgPty><DbtrAgt><FinInstnId><BICFI>BANKDEFF</BICFI></FinInstnId></DbtrAgt></GrpHdr>",
        &[("CBPR.SCHEMA.ELEMENT", format!("{PSR}/GrpHdr/DbtrAgt"))],
    );
    // The initiating party is its BIC: no name.
    planted(
        &pain002(),
        "<InitgPty><Id>",
        "<InitgPty><Nm>Bank AG</Nm><Id>",
        &[("CBPR.SCHEMA.ELEMENT", format!("{PSR}/GrpHdr/InitgPty/Nm"))],
    );
    // No group status.
    planted(
        &pain002(),
        "</OrgnlMsgNmId></OrgnlGrpInfAndSts>",
        "</OrgnlMsgNmId><GrpSts>PART</GrpSts></OrgnlGrpInfAndSts>",
        &[(
            "CBPR.SCHEMA.ELEMENT",
            format!("{PSR}/OrgnlGrpInfAndSts/GrpSts"),
        )],
    );
    // No status id in the transaction.
    planted(
        &pain002(),
        "<TxInfAndSts><OrgnlInstrId>",
        "<TxInfAndSts><StsId>STS-1</StsId><OrgnlInstrId>",
        &[("CBPR.SCHEMA.ELEMENT", format!("{PSR_TX}/StsId"))],
    );
    // A coded reason only.
    planted(
        &pain002(),
        "<Rsn><Cd>AC04</Cd></Rsn>",
        "<Rsn><Prtry>CLOSED</Prtry></Rsn>",
        &[(
            "CBPR.SCHEMA.ELEMENT",
            format!("{PSR_TX}/StsRsnInf/Rsn/Prtry"),
        )],
    );
    // No supplementary data.
    planted(
        &pain002(),
        "</OrgnlPmtInfAndSts></CstmrPmtStsRpt>",
        "</OrgnlPmtInfAndSts><SplmtryData><Envlp><Any>1</Any></Envlp></SplmtryData></CstmrPmtStsRpt>",
        &[("CBPR.SCHEMA.ELEMENT", format!("{PSR}/SplmtryData"))],
    );
}

#[test]
fn pain002_mandatory_and_single_elements() {
    // The initiating party is mandatory, and identified by its BIC.
    planted(
        &pain002(),
        "<InitgPty><Id><OrgId><AnyBIC>BANKDEFF</AnyBIC></OrgId></Id></InitgPty>",
        "",
        &[("CBPR.SCHEMA.MISSING", format!("{PSR}/GrpHdr/InitgPty"))],
    );
    planted(
        &pain002(),
        "<AnyBIC>BANKDEFF</AnyBIC>",
        "<LEI>529900T8BM49AURSDO55</LEI>",
        &[(
            "CBPR.SCHEMA.MISSING",
            format!("{PSR}/GrpHdr/InitgPty/Id/OrgId/AnyBIC"),
        )],
    );
    // The transaction status is mandatory.
    planted(
        &pain002(),
        "<TxSts>RJCT</TxSts>",
        "",
        &[("CBPR.SCHEMA.MISSING", format!("{PSR_TX}/TxSts"))],
    );
    // One transaction, one reason.
    let tx = span(&pain002(), "<TxInfAndSts>", "</TxInfAndSts>");
    planted(
        &pain002(),
        "</TxInfAndSts>",
        &format!("</TxInfAndSts>{}", tx.replace("E2E-1", "E2E-2")),
        &[(
            "CBPR.SCHEMA.OCCURS",
            format!("{PSR}/OrgnlPmtInfAndSts/TxInfAndSts[2]"),
        )],
    );
    planted(
        &pain002(),
        "</StsRsnInf>",
        "</StsRsnInf><StsRsnInf><Rsn><Cd>NARR</Cd></Rsn></StsRsnInf>",
        &[("CBPR.SCHEMA.OCCURS", format!("{PSR_TX}/StsRsnInf[2]"))],
    );
    // The message id is FIN-X: the textual rule alone reports it, not the schema's pattern
    // (the AppHdr's BizMsgIdr, now different, is a finding of its own).
    planted(
        &pain002(),
        "<MsgId>STS-1</MsgId>",
        "<MsgId>STS@1</MsgId>",
        &[
            ("CBPR.BAH.BIZMSGIDR", "/AppHdr/BizMsgIdr".to_owned()),
            ("CBPR.CHARSET.X", format!("{PSR}/GrpHdr/MsgId")),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// pain.001
// ---------------------------------------------------------------------------------------------

const PAIN: &str = "/Document/CstmrCdtTrfInitn";
const PAIN_TX: &str = "/Document/CstmrCdtTrfInitn/PmtInf/CdtTrfTxInf";

/// A CBPR+ pain.001 using much of what CBPR+ keeps: an authorisation, a forwarding agent,
/// payment type, a debtor identified by a person's id with its scheme, an intermediary, the
/// creditor's account by other id, an ultimate creditor with a town and country,
/// creditor-agent instructions, purpose, regulatory reporting and remittance.
fn pain001() -> String {
    let document = format!(
        concat!(
            r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"><CstmrCdtTrfInitn>"#,
            "<GrpHdr><MsgId>PAY-1</MsgId><CreDtTm>2026-11-25T10:00:00+01:00</CreDtTm>",
            "<Authstn><Cd>AUTH</Cd></Authstn><NbOfTxs>1</NbOfTxs>",
            "<InitgPty><Nm>Acme GmbH</Nm><PstlAdr><TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></PstlAdr></InitgPty>",
            "<FwdgAgt><FinInstnId><BICFI>BANKDEFF</BICFI></FinInstnId></FwdgAgt></GrpHdr>",
            "<PmtInf><PmtInfId>PAY-1</PmtInfId><PmtMtd>TRF</PmtMtd>",
            "<PmtTpInf><InstrPrty>NORM</InstrPrty><SvcLvl><Cd>G001</Cd></SvcLvl></PmtTpInf>",
            "<ReqdExctnDt><Dt>2026-11-26</Dt></ReqdExctnDt>",
            "<Dbtr><Nm>Acme GmbH</Nm><PstlAdr><StrtNm>Hauptstrasse</StrtNm><TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></PstlAdr>",
            "<Id><PrvtId><Othr><Id>P-1</Id><SchmeNm><Cd>CUST</Cd></SchmeNm></Othr></PrvtId></Id></Dbtr>",
            "<DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>",
            "<DbtrAgt><FinInstnId><BICFI>BANKDEFF</BICFI></FinInstnId></DbtrAgt>",
            "<ChrgBr>SHAR</ChrgBr>",
            "<CdtTrfTxInf><PmtId><InstrId>INSTR-1</InstrId><EndToEndId>E2E-1</EndToEndId>",
            "<UETR>{uetr}</UETR></PmtId>",
            r#"<Amt><InstdAmt Ccy="USD">100.00</InstdAmt></Amt>"#,
            "<IntrmyAgt1><FinInstnId><BICFI>BANKGB2L</BICFI></FinInstnId></IntrmyAgt1>",
            "<CdtrAgt><FinInstnId><BICFI>BANKUS33</BICFI></FinInstnId></CdtrAgt>",
            "<Cdtr><Nm>Widget Inc</Nm><PstlAdr><TwnNm>New York</TwnNm><Ctry>US</Ctry></PstlAdr></Cdtr>",
            "<CdtrAcct><Id><Othr><Id>123456789</Id></Othr></Id></CdtrAcct>",
            "<UltmtCdtr><Nm>Widget Holdings</Nm><PstlAdr><TwnNm>Boston</TwnNm><Ctry>US</Ctry></PstlAdr></UltmtCdtr>",
            "<InstrForCdtrAgt><Cd>PHOB</Cd><InstrInf>CALL +1-212-555-0100</InstrInf></InstrForCdtrAgt>",
            "<Purp><Cd>GDDS</Cd></Purp>",
            "<RgltryRptg><Dtls><Cd>101</Cd><Inf>GOODS</Inf></Dtls></RgltryRptg>",
            "<RmtInf><Ustrd>Invoice 42</Ustrd></RmtInf></CdtTrfTxInf></PmtInf></CstmrCdtTrfInitn></Document>"
        ),
        uetr = UETR,
    );
    let header = app_hdr(
        "ACMEDEFF",
        "BANKDEFF",
        "PAY-1",
        "pain.001.001.09",
        "2026-11-25T10:00:00+01:00",
    );
    format!(r#"<Envelope xmlns="urn:swift:xsd:envelope">{header}{document}</Envelope>"#)
}

#[test]
fn clean_pain001_has_no_findings() {
    no_findings(&pain001());
}

#[test]
fn pain001_renders_no_batch_count_of_its_one_batch() {
    // The rendered CBPR+ pain.001 (the tree the check reads) has no PmtInf/NbOfTxs, which
    // CBPR+ does not have; a message of several batches keeps each batch's count.
    let one = read(&pain001()).document.render();
    assert_eq!(one.matches("<NbOfTxs>").count(), 1, "{one}");
    let batch = span(&pain001(), "<PmtInf>", "</PmtInf>");
    let two = plant(
        &pain001(),
        "</PmtInf>",
        &format!("</PmtInf>{}", batch.replace("PAY-1", "PAY-2")),
    );
    let two = read(&plant(&two, "<NbOfTxs>1</NbOfTxs>", "<NbOfTxs>2</NbOfTxs>"))
        .document
        .render();
    assert_eq!(two.matches("<NbOfTxs>").count(), 3, "{two}");
}

#[test]
fn pain001_elements_cbpr_removed() {
    // No control sum, in the group header or the batch; no batch booking.
    planted(
        &pain001(),
        "<NbOfTxs>1</NbOfTxs>",
        "<NbOfTxs>1</NbOfTxs><CtrlSum>100.00</CtrlSum>",
        &[("CBPR.SCHEMA.ELEMENT", format!("{PAIN}/GrpHdr/CtrlSum"))],
    );
    planted(
        &pain001(),
        "<PmtMtd>TRF</PmtMtd>",
        "<PmtMtd>TRF</PmtMtd><BtchBookg>false</BtchBookg>",
        &[("CBPR.SCHEMA.ELEMENT", format!("{PAIN}/PmtInf/BtchBookg"))],
    );
    // The debtor has no contact details (the initiating party may).
    planted(
        &pain001(),
        "</SchmeNm></Othr></PrvtId></Id></Dbtr>",
        "</SchmeNm></Othr></PrvtId></Id><CtctDtls><Nm>Ann</Nm></CtctDtls></Dbtr>",
        &[(
            "CBPR.SCHEMA.ELEMENT",
            format!("{PAIN}/PmtInf/Dbtr/CtctDtls"),
        )],
    );
    // The debtor agent has no branch.
    planted(
        &pain001(),
        "<DbtrAgt><FinInstnId><BICFI>BANKDEFF</BICFI></FinInstnId></DbtrAgt>",
        "<DbtrAgt><FinInstnId><BICFI>BANKDEFF</BICFI></FinInstnId><BrnchId><Id>B1</Id></BrnchId></DbtrAgt>",
        &[("CBPR.SCHEMA.ELEMENT", format!("{PAIN}/PmtInf/DbtrAgt/BrnchId"))],
    );
    // The debtor's person id names its scheme by code only.
    planted(
        &pain001(),
        "<SchmeNm><Cd>CUST</Cd></SchmeNm>",
        "<SchmeNm><Prtry>CUSTOMER</Prtry></SchmeNm>",
        &[(
            "CBPR.SCHEMA.ELEMENT",
            format!("{PAIN}/PmtInf/Dbtr/Id/PrvtId/Othr/SchmeNm/Prtry"),
        )],
    );
    // No supplementary data, in the transaction or the message.
    planted(
        &pain001(),
        "</RmtInf></CdtTrfTxInf>",
        "</RmtInf><SplmtryData><Envlp><Any>1</Any></Envlp></SplmtryData></CdtTrfTxInf>",
        &[("CBPR.SCHEMA.ELEMENT", format!("{PAIN_TX}/SplmtryData"))],
    );
    planted(
        &pain001(),
        "</PmtInf></CstmrCdtTrfInitn>",
        "</PmtInf><SplmtryData><Envlp><Any>1</Any></Envlp></SplmtryData></CstmrCdtTrfInitn>",
        &[("CBPR.SCHEMA.ELEMENT", format!("{PAIN}/SplmtryData"))],
    );
}

#[test]
fn pain001_mandatory_and_single_elements() {
    // A person's other id has a scheme name.
    planted(
        &pain001(),
        "<Othr><Id>P-1</Id><SchmeNm><Cd>CUST</Cd></SchmeNm></Othr>",
        "<Othr><Id>P-1</Id></Othr>",
        &[(
            "CBPR.SCHEMA.MISSING",
            format!("{PAIN}/PmtInf/Dbtr/Id/PrvtId/Othr/SchmeNm"),
        )],
    );
    // The creditor is mandatory.
    planted(
        &pain001(),
        "<Cdtr><Nm>Widget Inc</Nm><PstlAdr><TwnNm>New York</TwnNm><Ctry>US</Ctry></PstlAdr></Cdtr>",
        "",
        &[("CBPR.SCHEMA.MISSING", format!("{PAIN_TX}/Cdtr"))],
    );
    // The UETR is mandatory.
    planted(
        &pain001(),
        &format!("<UETR>{UETR}</UETR>"),
        "",
        &[("CBPR.SCHEMA.MISSING", format!("{PAIN_TX}/PmtId/UETR"))],
    );
    // An initiating party's address has a town: the address rule alone reports it.
    planted(
        &pain001(),
        "<InitgPty><Nm>Acme GmbH</Nm><PstlAdr><TwnNm>Berlin</TwnNm>",
        "<InitgPty><Nm>Acme GmbH</Nm><PstlAdr><StrtNm>Hauptstrasse</StrtNm>",
        &[(
            "CBPR.PSTLADR.TWN_CTRY",
            format!("{PAIN}/GrpHdr/InitgPty/PstlAdr"),
        )],
    );
    // One unstructured remittance line.
    planted(
        &pain001(),
        "<Ustrd>Invoice 42</Ustrd>",
        "<Ustrd>Invoice 42</Ustrd><Ustrd>Invoice 43</Ustrd>",
        &[("CBPR.SCHEMA.OCCURS", format!("{PAIN_TX}/RmtInf/Ustrd[2]"))],
    );
}

#[test]
fn pain001_codes_and_texts() {
    // No payment method TRA.
    planted(
        &pain001(),
        "<PmtMtd>TRF</PmtMtd>",
        "<PmtMtd>TRA</PmtMtd>",
        &[("CBPR.SCHEMA.CODE", format!("{PAIN}/PmtInf/PmtMtd"))],
    );
    // No charge bearer SLEV.
    planted(
        &pain001(),
        "<ChrgBr>SHAR</ChrgBr>",
        "<ChrgBr>SLEV</ChrgBr>",
        &[("CBPR.SCHEMA.CODE", format!("{PAIN}/PmtInf/ChrgBr"))],
    );
    // The message id is FIN-X: the textual rule alone reports it (the AppHdr's BizMsgIdr and
    // the batch id, now different, are findings of their own).
    planted(
        &pain001(),
        "<MsgId>PAY-1</MsgId>",
        "<MsgId>PAY@1</MsgId>",
        &[
            ("CBPR.BAH.BIZMSGIDR", "/AppHdr/BizMsgIdr".to_owned()),
            ("CBPR.CHARSET.X", format!("{PAIN}/GrpHdr/MsgId")),
            ("CBPR.PMTINFID", format!("{PAIN}/PmtInf/PmtInfId")),
        ],
    );
}

// ---------------------------------------------------------------------------------------------
// head.001 (the AppHdr of the camt and pain families)
// ---------------------------------------------------------------------------------------------

#[test]
fn camt_and_pain_header_restrictions() {
    // The headers of the camt and pain families are held to the same CBPR+ header table.
    for xml in [
        camt053(),
        camt052(),
        camt054(),
        camt056(),
        camt029(),
        pain001(),
        pain002(),
    ] {
        // No signature.
        planted(
            &xml,
            "</CreDt></AppHdr>",
            "</CreDt><Sgntr><Any>signed</Any></Sgntr></AppHdr>",
            &[("CBPR.SCHEMA.ELEMENT", "/AppHdr/Sgntr".to_owned())],
        );
        // Priority HIGH or NORM.
        planted(
            &xml,
            "</CreDt></AppHdr>",
            "</CreDt><Prty>URGT</Prty></AppHdr>",
            &[("CBPR.SCHEMA.CODE", "/AppHdr/Prty".to_owned())],
        );
        // The sender's clearing system member id: 28 characters.
        let from = span(&xml, "<Fr>", "</BICFI>");
        planted(
            &xml,
            &from,
            &format!(
                "{from}<ClrSysMmbId><ClrSysId><Cd>USABA</Cd></ClrSysId><MmbId>{}</MmbId></ClrSysMmbId>",
                "3".repeat(29)
            ),
            &[(
                "CBPR.SCHEMA.LENGTH",
                "/AppHdr/Fr/FIId/FinInstnId/ClrSysMmbId/MmbId".to_owned(),
            )],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The shared samples
// ---------------------------------------------------------------------------------------------

/// Every sample in ../shared/iso20022/samples (written by others against the CBPR+ schemas;
/// each breaks at most a textual rule) has no schema finding: camt.029, camt.054, camt.056,
/// pain.002 and pacs.008 among them. Skipped, with a message, where the directory is absent.
#[test]
fn the_shared_cbpr_samples_have_no_schema_findings() {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/iso20022/samples");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        println!("skipped: {} not found", dir.display());
        return;
    };
    let mut checked = 0;
    for path in entries.map(|e| e.expect("dir entry").path()) {
        if path.extension().is_none_or(|e| e != "xml") {
            continue;
        }
        let xml = std::fs::read_to_string(&path).expect("readable sample");
        let msg = read(&xml);
        let id = msg.document.msg_def_idr().to_owned();
        if schema::covered().any(|k| k.starts_with(&id)) {
            checked += 1;
            let found = schema::findings(&msg.document);
            assert_eq!(found, [], "{}", path.display());
        }
    }
    assert!(
        checked > 0,
        "no sample of a covered kind in {}",
        dir.display()
    );
}

/// [`pacs004`] returning a direct debit: the original transaction's mandate details, amended
/// from an earlier mandate of another creditor agent and debtor.
fn pacs004_with_mandate() -> String {
    plant(
        &pacs004(),
        "<OrgnlTxRef><RmtInf>",
        concat!(
            "<OrgnlTxRef><MndtRltdInf><MndtId>MNDT-1</MndtId><DtOfSgntr>2026-01-15</DtOfSgntr>",
            "<AmdmntInd>true</AmdmntInd><AmdmntInfDtls><OrgnlMndtId>MNDT-0</OrgnlMndtId>",
            "<OrgnlCdtrAgt><FinInstnId><BICFI>BANKUS33</BICFI></FinInstnId></OrgnlCdtrAgt>",
            "<OrgnlDbtr><Nm>Acme Holding</Nm></OrgnlDbtr>",
            "<OrgnlFrqcy><Tp>MNTH</Tp></OrgnlFrqcy></AmdmntInfDtls>",
            "<FrstColltnDt>2026-02-01</FrstColltnDt>",
            "<Frqcy><Prd><Tp>MNTH</Tp><CntPerPrd>1</CntPerPrd></Prd></Frqcy>",
            "<Rsn><Prtry>Subscription</Prtry></Rsn><TrckgDays>05</TrckgDays></MndtRltdInf><RmtInf>"
        ),
    )
}

#[test]
fn pacs004_mandate_details_are_read_and_held_to_the_cbpr_table() {
    no_findings(&pacs004_with_mandate());
    round_trips_and_valid(&pacs004_with_mandate(), "pacs004-mandate");
    let amendment = format!("{RTR}/OrgnlTxRef/MndtRltdInf/AmdmntInfDtls");
    // An agent there is a financial institution alone: no branch.
    planted(
        &pacs004_with_mandate(),
        "</FinInstnId></OrgnlCdtrAgt>",
        "</FinInstnId><BrnchId><Id>BR-1</Id></BrnchId></OrgnlCdtrAgt>",
        &[(
            "CBPR.SCHEMA.ELEMENT",
            format!("{amendment}/OrgnlCdtrAgt/BrnchId"),
        )],
    );
    // A party there has no contact details.
    planted(
        &pacs004_with_mandate(),
        "<OrgnlDbtr><Nm>Acme Holding</Nm></OrgnlDbtr>",
        "<OrgnlDbtr><Nm>Acme Holding</Nm><CtctDtls><Nm>Ann</Nm></CtctDtls></OrgnlDbtr>",
        &[(
            "CBPR.SCHEMA.ELEMENT",
            format!("{amendment}/OrgnlDbtr/CtctDtls"),
        )],
    );
    // A clearing system member id is at most 28 characters (35 in the base schema).
    planted(
        &pacs004_with_mandate(),
        "<OrgnlCdtrAgt><FinInstnId><BICFI>BANKUS33</BICFI></FinInstnId>",
        &format!(
            "<OrgnlCdtrAgt><FinInstnId><ClrSysMmbId><ClrSysId><Cd>USABA</Cd></ClrSysId><MmbId>{}</MmbId></ClrSysMmbId></FinInstnId>",
            "1".repeat(29)
        ),
        &[(
            "CBPR.SCHEMA.LENGTH",
            format!("{amendment}/OrgnlCdtrAgt/FinInstnId/ClrSysMmbId/MmbId"),
        )],
    );
}

/// [`pain001`] paying by cheque: the cheque instructions of the transfer.
fn pain001_with_cheque() -> String {
    let xml = plant(&pain001(), "<PmtMtd>TRF</PmtMtd>", "<PmtMtd>CHK</PmtMtd>");
    plant(
        &xml,
        "</InstdAmt></Amt>",
        concat!(
            "</InstdAmt></Amt><ChqInstr><ChqTp>BCHQ</ChqTp><ChqNb>000123</ChqNb>",
            "<DlvryMtd><Cd>MLCD</Cd></DlvryMtd>",
            "<DlvrTo><Nm>Widget Inc</Nm><Adr><TwnNm>New York</TwnNm><Ctry>US</Ctry></Adr></DlvrTo>",
            "<InstrPrty>NORM</InstrPrty><ChqMtrtyDt>2026-12-31</ChqMtrtyDt>",
            "<MemoFld>Invoice 42</MemoFld><PrtLctn>New York</PrtLctn><Sgntr>A Smith</Sgntr></ChqInstr>"
        ),
    )
}

#[test]
fn pain001_cheque_instructions_are_read_and_held_to_the_cbpr_table() {
    no_findings(&pain001_with_cheque());
    round_trips_and_valid(&pain001_with_cheque(), "pain001-cheque");
    // CBPR+ narrows the cheque type to CCHQ, BCHQ and DRFT.
    planted(
        &pain001_with_cheque(),
        "<ChqTp>BCHQ</ChqTp>",
        "<ChqTp>CCCH</ChqTp>",
        &[("CBPR.SCHEMA.CODE", format!("{PAIN_TX}/ChqInstr/ChqTp"))],
    );
    // An address there has no address type.
    planted(
        &pain001_with_cheque(),
        "<Adr><TwnNm>New York</TwnNm>",
        "<Adr><AdrTp><Cd>ADDR</Cd></AdrTp><TwnNm>New York</TwnNm>",
        &[(
            "CBPR.SCHEMA.ELEMENT",
            format!("{PAIN_TX}/ChqInstr/DlvrTo/Adr/AdrTp"),
        )],
    );
}
