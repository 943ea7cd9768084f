//! The CBPR+ rules of the SR2025 guidelines on parties, addresses, remittance, creditor-agent
//! instructions, status reports, date-times and the header of every family: for each, a clean
//! message of the family has no finding, and one planted fault is reported once, with its rule
//! id, at its path, and nothing else is.
//!
//! The messages are written here as XML, as a bank would send them, and read strictly (so an
//! element out of schema order fails the test instead of being skipped).

use iso20022::cbpr::{validate, Finding};
use iso20022::{BusinessMessage, ParseOptions};

mod common;
use common::round_trips_and_valid;

const UETR: &str = "8a562c67-ca16-48ba-b074-65581be6f001";

fn envelope(header: &str, document: &str) -> String {
    format!(r#"<Envelope xmlns="urn:swift:xsd:envelope">{header}{document}</Envelope>"#)
}

/// An AppHdr from `fr` to `to`; `extra` goes after `CreDt` (`CpyDplct`, `Prty`).
fn app_hdr(fr: &str, to: &str, id: &str, def: &str, svc: &str, extra: &str) -> String {
    format!(
        r#"<AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02"><Fr><FIId><FinInstnId><BICFI>{fr}</BICFI></FinInstnId></FIId></Fr><To><FIId><FinInstnId><BICFI>{to}</BICFI></FinInstnId></FIId></To><BizMsgIdr>{id}</BizMsgIdr><MsgDefIdr>{def}</MsgDefIdr><BizSvc>{svc}</BizSvc><CreDt>2026-11-25T10:00:00+01:00</CreDt>{extra}</AppHdr>"#
    )
}

fn agent(tag: &str, bic: &str) -> String {
    format!("<{tag}><FinInstnId><BICFI>{bic}</BICFI></FinInstnId></{tag}>")
}

fn read(xml: &str) -> BusinessMessage {
    BusinessMessage::parse_with(xml, &ParseOptions::strict())
        .unwrap_or_else(|e| panic!("{e}\n{xml}"))
}

fn findings(xml: &str) -> Vec<Finding> {
    validate(&read(xml))
}

/// `xml` has no finding.
fn clean(xml: &str) {
    let found = findings(xml);
    assert!(found.is_empty(), "{found:#?}\n{xml}");
}

/// `xml` with `from` replaced by `to` (which must occur exactly once) has exactly the
/// findings `expected` (rule, path), in order.
fn planted(xml: &str, from: &str, to: &str, expected: &[(&str, &str)]) {
    assert_eq!(xml.matches(from).count(), 1, "{from:?} must occur once");
    let broken = xml.replacen(from, to, 1);
    let found: Vec<(&str, String)> = findings(&broken)
        .into_iter()
        .map(|f| (f.rule, f.path))
        .collect();
    let expected: Vec<(&str, String)> = expected
        .iter()
        .map(|(rule, path)| (*rule, path.to_string()))
        .collect();
    assert_eq!(found, expected, "{from:?} -> {to:?}");
}

// ---------------------------------------------------------------------------------------------
// pacs.008
// ---------------------------------------------------------------------------------------------

const TX: &str = "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf";

const DEBTOR: &str = "<Dbtr><Nm>Acme GmbH</Nm><PstlAdr><StrtNm>Hauptstrasse</StrtNm><BldgNb>5</BldgNb><PstCd>10115</PstCd><TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></PstlAdr></Dbtr>";
const CREDITOR: &str = "<Cdtr><Nm>Widget Inc</Nm><PstlAdr><TwnNm>New York</TwnNm><Ctry>US</Ctry><AdrLine>Suite 100</AdrLine></PstlAdr></Cdtr>";

/// A CBPR+ pacs.008 with a structured and a hybrid address, an ultimate debtor, creditor-agent
/// instructions, remittance and a priority: clean under every rule.
fn pacs008() -> String {
    let header = app_hdr(
        "BANKDEFF",
        "BANKUS33",
        "MSG-1",
        "pacs.008.001.08",
        "swift.cbprplus.03",
        "<Prty>NORM</Prty>",
    );
    let document = format!(
        concat!(
            r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08"><FIToFICstmrCdtTrf>"#,
            "<GrpHdr><MsgId>MSG-1</MsgId><CreDtTm>2026-11-25T10:00:00.123+01:00</CreDtTm><NbOfTxs>1</NbOfTxs>",
            "<SttlmInf><SttlmMtd>INDA</SttlmMtd></SttlmInf></GrpHdr>",
            "<CdtTrfTxInf><PmtId><InstrId>INSTR-1</InstrId><EndToEndId>E2E-1</EndToEndId><TxId>TX-1</TxId><UETR>{uetr}</UETR></PmtId>",
            "<PmtTpInf><InstrPrty>NORM</InstrPrty><SvcLvl><Cd>G001</Cd></SvcLvl></PmtTpInf>",
            r#"<IntrBkSttlmAmt Ccy="EUR">100.00</IntrBkSttlmAmt><IntrBkSttlmDt>2026-11-25</IntrBkSttlmDt>"#,
            "<ChrgBr>SHAR</ChrgBr>{instg}{instd}<UltmtDbtr><Nm>Acme Holding</Nm></UltmtDbtr>{dbtr}",
            "<DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>{dbtr_agt}{cdtr_agt}{cdtr}",
            "<InstrForCdtrAgt><Cd>PHOB</Cd></InstrForCdtrAgt><InstrForCdtrAgt><Cd>CHQB</Cd></InstrForCdtrAgt>",
            "<RmtInf><Ustrd>Invoice 42</Ustrd></RmtInf></CdtTrfTxInf></FIToFICstmrCdtTrf></Document>"
        ),
        uetr = UETR,
        instg = agent("InstgAgt", "BANKDEFF"),
        instd = agent("InstdAgt", "BANKUS33"),
        dbtr = DEBTOR,
        dbtr_agt = agent("DbtrAgt", "BANKDEFF"),
        cdtr_agt = agent("CdtrAgt", "BANKUS33"),
        cdtr = CREDITOR,
    );
    envelope(&header, &document)
}

#[test]
fn clean_pacs008_has_no_findings() {
    clean(&pacs008());
}

#[test]
fn a_party_with_a_postal_address_has_a_name() {
    planted(
        &pacs008(),
        "<UltmtDbtr><Nm>Acme Holding</Nm></UltmtDbtr>",
        "<UltmtDbtr><PstlAdr><TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></PstlAdr></UltmtDbtr>",
        &[("CBPR.PARTY.NM_PSTLADR", &format!("{TX}/UltmtDbtr/Nm"))],
    );
    // A name alone is fine.
    clean(&pacs008().replace(
        "<UltmtDbtr><Nm>Acme Holding</Nm></UltmtDbtr>",
        "<UltmtDbtr><Nm>Acme Holding</Nm><PstlAdr><TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></PstlAdr></UltmtDbtr>",
    ));
}

#[test]
fn a_debtor_or_creditor_without_any_bic_has_a_name() {
    // Reported once, by the AnyBIC rule (not again by the postal-address one).
    planted(
        &pacs008(),
        "<Cdtr><Nm>Widget Inc</Nm>",
        "<Cdtr>",
        &[("CBPR.PARTY.NM_ANYBIC", &format!("{TX}/Cdtr/Nm"))],
    );
    // Identified by its BIC alone, the creditor needs no name.
    clean(&pacs008().replace(
        CREDITOR,
        "<Cdtr><Id><OrgId><AnyBIC>WIDGUS33</AnyBIC></OrgId></Id></Cdtr>",
    ));
}

#[test]
fn a_party_identified_by_any_bic_has_no_name_or_address() {
    planted(
        &pacs008(),
        "<Cdtr><Nm>Widget Inc</Nm><PstlAdr><TwnNm>New York</TwnNm><Ctry>US</Ctry><AdrLine>Suite 100</AdrLine></PstlAdr></Cdtr>",
        "<Cdtr><Nm>Widget Inc</Nm><Id><OrgId><AnyBIC>WIDGUS33</AnyBIC></OrgId></Id></Cdtr>",
        &[("CBPR.PARTY.ANYBIC_EXCLUSIVE", &format!("{TX}/Cdtr/Nm"))],
    );
}

#[test]
fn an_agent_has_its_name_and_address_together() {
    let named =
        "<DbtrAgt><FinInstnId><BICFI>BANKDEFF</BICFI><Nm>Bank AG</Nm></FinInstnId></DbtrAgt>";
    planted(
        &pacs008(),
        &agent("DbtrAgt", "BANKDEFF"),
        named,
        &[(
            "CBPR.AGENT.NM_PSTLADR",
            &format!("{TX}/DbtrAgt/FinInstnId/PstlAdr"),
        )],
    );
    planted(
        &pacs008(),
        &agent("CdtrAgt", "BANKUS33"),
        "<CdtrAgt><FinInstnId><BICFI>BANKUS33</BICFI><PstlAdr><TwnNm>New York</TwnNm><Ctry>US</Ctry></PstlAdr></FinInstnId></CdtrAgt>",
        &[("CBPR.AGENT.NM_PSTLADR", &format!("{TX}/CdtrAgt/FinInstnId/Nm"))],
    );
    clean(&pacs008().replace(
        &agent("DbtrAgt", "BANKDEFF"),
        "<DbtrAgt><FinInstnId><BICFI>BANKDEFF</BICFI><Nm>Bank AG</Nm><PstlAdr><TwnNm>Frankfurt</TwnNm><Ctry>DE</Ctry></PstlAdr></FinInstnId></DbtrAgt>",
    ));
}

#[test]
fn structured_address_data_is_not_repeated_in_address_lines() {
    planted(
        &pacs008(),
        "<AdrLine>Suite 100</AdrLine>",
        "<AdrLine>Suite 100, New York</AdrLine>",
        &[(
            "CBPR.PSTLADR.DUPLICATE",
            &format!("{TX}/Cdtr/PstlAdr/TwnNm"),
        )],
    );
    // A value inside a longer word is no repetition ("York" is not "New York"; "US" is too
    // short to judge).
    clean(&pacs008().replace(
        "<AdrLine>Suite 100</AdrLine>",
        "<AdrLine>Suite 100, New Yorker Building, US entrance</AdrLine>",
    ));
}

#[test]
fn a_hybrid_address_has_at_most_two_lines() {
    let two = "<AdrLine>Suite 100</AdrLine><AdrLine>Floor 3</AdrLine>";
    clean(&pacs008().replace("<AdrLine>Suite 100</AdrLine>", two));
    planted(
        &pacs008(),
        "<AdrLine>Suite 100</AdrLine>",
        "<AdrLine>Suite 100</AdrLine><AdrLine>Floor 3</AdrLine><AdrLine>Back door</AdrLine>",
        &[(
            "CBPR.PSTLADR.HYBRID_LINES",
            &format!("{TX}/Cdtr/PstlAdr/AdrLine[3]"),
        )],
    );
}

#[test]
fn structured_and_unstructured_remittance_are_exclusive() {
    planted(
        &pacs008(),
        "<Ustrd>Invoice 42</Ustrd>",
        "<Ustrd>Invoice 42</Ustrd><Strd><AddtlRmtInf>Invoice 42</AddtlRmtInf></Strd>",
        &[("CBPR.RMTINF.EXCLUSIVE", &format!("{TX}/RmtInf/Strd"))],
    );
}

#[test]
fn related_remittance_and_remittance_are_exclusive() {
    planted(
        &pacs008(),
        "<RmtInf>",
        "<RltdRmtInf><RmtId>REMIT-1</RmtId></RltdRmtInf><RmtInf>",
        &[("CBPR.RLTDRMTINF.EXCLUSIVE", &format!("{TX}/RltdRmtInf"))],
    );
}

#[test]
fn each_creditor_agent_instruction_once() {
    planted(
        &pacs008(),
        "<InstrForCdtrAgt><Cd>CHQB</Cd></InstrForCdtrAgt>",
        "<InstrForCdtrAgt><Cd>CHQB</Cd></InstrForCdtrAgt><InstrForCdtrAgt><Cd>PHOB</Cd></InstrForCdtrAgt>",
        &[(
            "CBPR.INSTRFORCDTRAGT.UNIQUE",
            &format!("{TX}/InstrForCdtrAgt[3]/Cd"),
        )],
    );
}

#[test]
fn no_hold_beside_a_cheque_nor_telb_beside_phob() {
    for code in ["HOLD", "TELB"] {
        planted(
            &pacs008(),
            "<InstrForCdtrAgt><Cd>CHQB</Cd></InstrForCdtrAgt>",
            &format!(
                "<InstrForCdtrAgt><Cd>CHQB</Cd></InstrForCdtrAgt><InstrForCdtrAgt><Cd>{code}</Cd></InstrForCdtrAgt>"
            ),
            &[(
                "CBPR.INSTRFORCDTRAGT.PAIRS",
                &format!("{TX}/InstrForCdtrAgt[3]/Cd"),
            )],
        );
    }
}

#[test]
fn charge_bearer_debt_allows_one_charges_information() {
    let charges = |n: usize| {
        "<ChrgsInf><Amt Ccy=\"EUR\">1.00</Amt><Agt><FinInstnId><BICFI>BANKDEFF</BICFI></FinInstnId></Agt></ChrgsInf>"
            .repeat(n)
    };
    let with = |n: usize| {
        format!(
            r#"<InstdAmt Ccy="EUR">101.00</InstdAmt><ChrgBr>DEBT</ChrgBr>{}"#,
            charges(n)
        )
    };
    clean(&pacs008().replace("<ChrgBr>SHAR</ChrgBr>", &with(1)));
    planted(
        &pacs008(),
        "<ChrgBr>SHAR</ChrgBr>",
        &with(2),
        &[("CBPR.CHRG_BR.DEBT", &format!("{TX}/ChrgsInf[2]"))],
    );
}

#[test]
fn header_priority_is_the_instruction_priority() {
    planted(
        &pacs008(),
        "<Prty>NORM</Prty>",
        "<Prty>HIGH</Prty>",
        &[("CBPR.BAH.PRTY", "/AppHdr/Prty")],
    );
    // Either one alone is fine.
    clean(&pacs008().replace("<Prty>NORM</Prty>", ""));
}

#[test]
fn date_times_carry_a_numeric_offset() {
    // Fractional seconds are allowed (the clean message has milliseconds); Z is not.
    planted(
        &pacs008(),
        "2026-11-25T10:00:00.123+01:00",
        "2026-11-25T09:00:00.123Z",
        &[(
            "CBPR.DATETIME.FORM",
            "/Document/FIToFICstmrCdtTrf/GrpHdr/CreDtTm",
        )],
    );
    planted(
        &pacs008(),
        "<CreDt>2026-11-25T10:00:00+01:00</CreDt>",
        "<CreDt>2026-11-25T09:00:00Z</CreDt>",
        &[("CBPR.DATETIME.FORM", "/AppHdr/CreDt")],
    );
    clean(&pacs008().replace("10:00:00.123+01:00", "10:00:00.123456-14:00"));
}

#[test]
fn a_copy_is_not_held_to_from_and_to() {
    let elsewhere = pacs008().replace(
        "<To><FIId><FinInstnId><BICFI>BANKUS33</BICFI>",
        "<To><FIId><FinInstnId><BICFI>AUDTGB2L</BICFI>",
    );
    for code in ["COPY", "CODU"] {
        clean(&elsewhere.replace(
            "<Prty>NORM</Prty>",
            &format!("<CpyDplct>{code}</CpyDplct><Prty>NORM</Prty>"),
        ));
    }
    planted(
        &elsewhere,
        "<Prty>NORM</Prty>",
        "<CpyDplct>DUPL</CpyDplct><Prty>NORM</Prty>",
        &[("CBPR.BAH.TO", "/AppHdr/To/FIId/FinInstnId/BICFI")],
    );
}

// ---------------------------------------------------------------------------------------------
// pacs.009 (cover)
// ---------------------------------------------------------------------------------------------

const COV: &str = "/Document/FICdtTrf/CdtTrfTxInf";

fn pacs009_cover() -> String {
    let header = app_hdr(
        "BANKDEFF",
        "BANKUS33",
        "COV-1",
        "pacs.009.001.08",
        "swift.cbprplus.cov.03",
        "",
    );
    let document = format!(
        concat!(
            r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.009.001.08"><FICdtTrf>"#,
            "<GrpHdr><MsgId>COV-1</MsgId><CreDtTm>2026-11-25T10:00:00+01:00</CreDtTm><NbOfTxs>1</NbOfTxs>",
            "<SttlmInf><SttlmMtd>INDA</SttlmMtd></SttlmInf></GrpHdr>",
            "<CdtTrfTxInf><PmtId><InstrId>COV-1</InstrId><EndToEndId>E2E-1</EndToEndId><TxId>TX-1</TxId><UETR>{uetr}</UETR></PmtId>",
            r#"<IntrBkSttlmAmt Ccy="USD">100.00</IntrBkSttlmAmt><IntrBkSttlmDt>2026-11-25</IntrBkSttlmDt>"#,
            "{instg}{instd}{dbtr}{cdtr}",
            "<InstrForCdtrAgt><Cd>PHOB</Cd></InstrForCdtrAgt>",
            "<UndrlygCstmrCdtTrf><Dbtr><Nm>Acme GmbH</Nm><PstlAdr><TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></PstlAdr></Dbtr>",
            "{dbtr_agt}{cdtr_agt}<Cdtr><Id><OrgId><AnyBIC>WIDGGB2L</AnyBIC></OrgId></Id></Cdtr>",
            "</UndrlygCstmrCdtTrf></CdtTrfTxInf></FICdtTrf></Document>"
        ),
        uetr = UETR,
        instg = agent("InstgAgt", "BANKDEFF"),
        instd = agent("InstdAgt", "BANKUS33"),
        dbtr = agent("Dbtr", "BANKDEFF"),
        cdtr = agent("Cdtr", "BANKGB2L"),
        dbtr_agt = agent("DbtrAgt", "BANKDEFF"),
        cdtr_agt = agent("CdtrAgt", "BANKGB2L"),
    );
    envelope(&header, &document)
}

#[test]
fn clean_cover_has_no_findings() {
    clean(&pacs009_cover());
}

#[test]
fn cover_underlying_parties_follow_the_party_rules() {
    planted(
        &pacs009_cover(),
        "<Dbtr><Nm>Acme GmbH</Nm><PstlAdr><TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></PstlAdr></Dbtr>",
        "<Dbtr><CtryOfRes>DE</CtryOfRes></Dbtr>",
        &[(
            "CBPR.PARTY.NM_ANYBIC",
            &format!("{COV}/UndrlygCstmrCdtTrf/Dbtr/Nm"),
        )],
    );
    planted(
        &pacs009_cover(),
        "<Cdtr><Id><OrgId>",
        "<Cdtr><Nm>Widget Ltd</Nm><Id><OrgId>",
        &[(
            "CBPR.PARTY.ANYBIC_EXCLUSIVE",
            &format!("{COV}/UndrlygCstmrCdtTrf/Cdtr/Nm"),
        )],
    );
}

#[test]
fn pacs009_end_to_end_identification_form() {
    for bad in ["/E2E-1", "ABCDEFGHIJKLMNO/PQ", "ABC//DEF"] {
        planted(
            &pacs009_cover(),
            "<EndToEndId>E2E-1</EndToEndId>",
            &format!("<EndToEndId>{bad}</EndToEndId>"),
            &[("CBPR.E2EID.FORMAT", &format!("{COV}/PmtId/EndToEndId"))],
        );
    }
    // Beyond the 16th character the MT reference ends, and so does the rule.
    clean(&pacs009_cover().replace(
        "<EndToEndId>E2E-1</EndToEndId>",
        "<EndToEndId>ABCDEFGHIJKLMNOP//Q/</EndToEndId>",
    ));
}

#[test]
fn pacs009_creditor_agent_instructions_once_each() {
    planted(
        &pacs009_cover(),
        "<InstrForCdtrAgt><Cd>PHOB</Cd></InstrForCdtrAgt>",
        "<InstrForCdtrAgt><Cd>PHOB</Cd></InstrForCdtrAgt><InstrForCdtrAgt><Cd>PHOB</Cd></InstrForCdtrAgt>",
        &[(
            "CBPR.INSTRFORCDTRAGT.UNIQUE",
            &format!("{COV}/InstrForCdtrAgt[2]/Cd"),
        )],
    );
}

// ---------------------------------------------------------------------------------------------
// pacs.002
// ---------------------------------------------------------------------------------------------

const STS: &str = "/Document/FIToFIPmtStsRpt/TxInfAndSts";

fn pacs002_rejection() -> String {
    let header = app_hdr(
        "BANKUS33",
        "BANKDEFF",
        "STS-1",
        "pacs.002.001.10",
        "swift.cbprplus.03",
        "",
    );
    let document = format!(
        concat!(
            r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"><FIToFIPmtStsRpt>"#,
            "<GrpHdr><MsgId>STS-1</MsgId><CreDtTm>2026-11-25T10:00:00+00:00</CreDtTm></GrpHdr>",
            "<TxInfAndSts><OrgnlGrpInf><OrgnlMsgId>MSG-1</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId></OrgnlGrpInf>",
            "<OrgnlInstrId>INSTR-1</OrgnlInstrId><OrgnlEndToEndId>E2E-1</OrgnlEndToEndId><OrgnlUETR>{uetr}</OrgnlUETR>",
            "<TxSts>RJCT</TxSts><StsRsnInf><Orgtr><Nm>Bank US</Nm></Orgtr><Rsn><Cd>AC01</Cd></Rsn></StsRsnInf>",
            "{instg}{instd}</TxInfAndSts></FIToFIPmtStsRpt></Document>"
        ),
        uetr = UETR,
        instg = agent("InstgAgt", "BANKUS33"),
        instd = agent("InstdAgt", "BANKDEFF"),
    );
    envelope(&header, &document)
}

#[test]
fn clean_rejection_has_no_findings() {
    clean(&pacs002_rejection());
}

#[test]
fn a_rejection_says_why() {
    planted(
        &pacs002_rejection(),
        "<Rsn><Cd>AC01</Cd></Rsn>",
        "",
        &[("CBPR.STS.RJCT_REASON", &format!("{STS}/StsRsnInf/Rsn"))],
    );
    // An acceptance needs no reason.
    clean(
        &pacs002_rejection()
            .replace("<TxSts>RJCT</TxSts>", "<TxSts>ACSC</TxSts>")
            .replace("<Rsn><Cd>AC01</Cd></Rsn>", ""),
    );
}

#[test]
fn a_rejection_has_no_effective_settlement_date() {
    let dated = "<FctvIntrBkSttlmDt><Dt>2026-11-25</Dt></FctvIntrBkSttlmDt>";
    planted(
        &pacs002_rejection(),
        "</StsRsnInf>",
        &format!("</StsRsnInf>{dated}"),
        &[("CBPR.STS.RJCT_FCTVDT", &format!("{STS}/FctvIntrBkSttlmDt"))],
    );
    clean(
        &pacs002_rejection()
            .replace("<TxSts>RJCT</TxSts>", "<TxSts>ACSC</TxSts>")
            .replace("</StsRsnInf>", &format!("</StsRsnInf>{dated}")),
    );
}

#[test]
fn the_originator_of_a_status_is_named_or_identified_by_bic() {
    planted(
        &pacs002_rejection(),
        "<Orgtr><Nm>Bank US</Nm></Orgtr>",
        "<Orgtr><CtryOfRes>US</CtryOfRes></Orgtr>",
        &[("CBPR.PARTY.NM_ANYBIC", &format!("{STS}/StsRsnInf/Orgtr/Nm"))],
    );
    clean(&pacs002_rejection().replace(
        "<Orgtr><Nm>Bank US</Nm></Orgtr>",
        "<Orgtr><Id><OrgId><AnyBIC>BANKUS33</AnyBIC></OrgId></Id></Orgtr>",
    ));
}

// ---------------------------------------------------------------------------------------------
// camt.056 / camt.029: the header against the assignment
// ---------------------------------------------------------------------------------------------

fn assignment(id: &str, assgnr: &str, assgne: &str) -> String {
    format!(
        "<Assgnmt><Id>{id}</Id><Assgnr><Agt><FinInstnId><BICFI>{assgnr}</BICFI></FinInstnId></Agt></Assgnr><Assgne><Agt><FinInstnId><BICFI>{assgne}</BICFI></FinInstnId></Agt></Assgne><CreDtTm>2026-11-25T10:00:00+01:00</CreDtTm></Assgnmt>"
    )
}

fn camt056() -> String {
    let header = app_hdr(
        "BANKDEFF",
        "BANKUS33",
        "CXL-1",
        "camt.056.001.08",
        "swift.cbprplus.03",
        "",
    );
    let document = format!(
        concat!(
            r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.056.001.08"><FIToFIPmtCxlReq>{assignment}"#,
            "<Undrlyg><TxInf><CxlId>CXL-1</CxlId><Case><Id>CASE/1</Id><Cretr><Agt><FinInstnId><BICFI>BANKDEFF</BICFI></FinInstnId></Agt></Cretr></Case>",
            "<OrgnlGrpInf><OrgnlMsgId>MSG-1</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId></OrgnlGrpInf>",
            "<OrgnlEndToEndId>E2E-1</OrgnlEndToEndId><OrgnlUETR>{uetr}</OrgnlUETR>",
            r#"<OrgnlIntrBkSttlmAmt Ccy="EUR">99.00</OrgnlIntrBkSttlmAmt><OrgnlIntrBkSttlmDt>2026-11-25</OrgnlIntrBkSttlmDt>"#,
            "<CxlRsnInf><Rsn><Cd>DUPL</Cd></Rsn></CxlRsnInf>",
            "</TxInf></Undrlyg></FIToFIPmtCxlReq></Document>"
        ),
        assignment = assignment("CXL-1", "BANKDEFF", "BANKUS33"),
        uetr = UETR,
    );
    envelope(&header, &document)
}

fn camt029() -> String {
    let header = app_hdr(
        "BANKUS33",
        "BANKDEFF",
        "RES-1",
        "camt.029.001.09",
        "swift.cbprplus.03",
        "",
    );
    let document = format!(
        concat!(
            r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.029.001.09"><RsltnOfInvstgtn>{assignment}"#,
            "<Sts><Conf>CNCL</Conf></Sts><CxlDtls><TxInfAndSts><CxlStsId>RES-1</CxlStsId>",
            "<RslvdCase><Id>CASE/1</Id><Cretr><Agt><FinInstnId><BICFI>BANKDEFF</BICFI></FinInstnId></Agt></Cretr></RslvdCase>",
            "<OrgnlGrpInf><OrgnlMsgId>MSG-1</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId></OrgnlGrpInf>",
            "<OrgnlUETR>{uetr}</OrgnlUETR></TxInfAndSts></CxlDtls></RsltnOfInvstgtn></Document>"
        ),
        assignment = assignment("RES-1", "BANKUS33", "BANKDEFF"),
        uetr = UETR,
    );
    envelope(&header, &document)
}

#[test]
fn case_messages_are_sent_by_the_assigner_to_the_assignee() {
    for (xml, sender, receiver) in [
        (camt056(), "BANKDEFF", "BANKUS33"),
        (camt029(), "BANKUS33", "BANKDEFF"),
    ] {
        clean(&xml);
        planted(
            &xml,
            &format!("<Fr><FIId><FinInstnId><BICFI>{sender}</BICFI>"),
            "<Fr><FIId><FinInstnId><BICFI>OTHRGB2L</BICFI>",
            &[("CBPR.BAH.FR", "/AppHdr/Fr/FIId/FinInstnId/BICFI")],
        );
        planted(
            &xml,
            &format!("<To><FIId><FinInstnId><BICFI>{receiver}</BICFI>"),
            "<To><FIId><FinInstnId><BICFI>OTHRGB2L</BICFI>",
            &[("CBPR.BAH.TO", "/AppHdr/To/FIId/FinInstnId/BICFI")],
        );
    }
}

// ---------------------------------------------------------------------------------------------
// camt.054 (the statement and report families share the rules)
// ---------------------------------------------------------------------------------------------

const NTRY: &str = "/Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry";

fn camt054() -> String {
    let header = app_hdr(
        "BANKDEFF",
        "ACMEDEFF",
        "NTF-1",
        "camt.054.001.08",
        "swift.cbprplus.03",
        "<CpyDplct>DUPL</CpyDplct>",
    );
    let document = concat!(
        r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn>"#,
        "<GrpHdr><MsgId>NTF-1</MsgId><CreDtTm>2026-11-25T10:00:00+01:00</CreDtTm></GrpHdr>",
        "<Ntfctn><Id>N-1</Id><NtfctnPgntn><PgNb>1</PgNb><LastPgInd>true</LastPgInd></NtfctnPgntn>",
        "<CreDtTm>2026-11-25T10:00:00+01:00</CreDtTm><CpyDplctInd>DUPL</CpyDplctInd>",
        "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy>",
        "<Ownr><Nm>Acme GmbH</Nm><PstlAdr><TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></PstlAdr></Ownr></Acct>",
        r#"<Ntry><NtryRef>1</NtryRef><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"#,
        "<BookgDt><DtTm>2026-11-25T09:30:00+01:00</DtTm></BookgDt>",
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd>",
        "<NtryDtls><TxDtls><Refs><InstrId>INSTR-1</InstrId><EndToEndId>E2E-1</EndToEndId></Refs>",
        r#"<Amt Ccy="EUR">100.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>"#,
        "<RltdDts><IntrBkSttlmDt>2026-11-25</IntrBkSttlmDt></RltdDts></TxDtls></NtryDtls>",
        "</Ntry></Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"
    );
    envelope(&header, document)
}

#[test]
fn clean_notification_has_no_findings() {
    clean(&camt054());
}

#[test]
fn header_copy_duplicate_is_the_report_s() {
    planted(
        &camt054(),
        "<CpyDplct>DUPL</CpyDplct>",
        "<CpyDplct>COPY</CpyDplct>",
        &[("CBPR.BAH.CPYDPLCT", "/AppHdr/CpyDplct")],
    );
    clean(&camt054().replace("<CpyDplctInd>DUPL</CpyDplctInd>", ""));
}

#[test]
fn reported_instruction_identification_form() {
    planted(
        &camt054(),
        "<InstrId>INSTR-1</InstrId>",
        "<InstrId>INSTR//1</InstrId>",
        &[(
            "CBPR.INSTRID.FORMAT",
            &format!("{NTRY}/NtryDtls/TxDtls/Refs/InstrId"),
        )],
    );
    // The report's InstrId may be longer than 16 characters (it is the original's, Max35).
    clean(&camt054().replace(
        "<InstrId>INSTR-1</InstrId>",
        "<InstrId>INSTRUCTION-000000000001</InstrId>",
    ));
}

#[test]
fn account_owner_with_address_is_named() {
    planted(
        &camt054(),
        "<Ownr><Nm>Acme GmbH</Nm>",
        "<Ownr>",
        &[(
            "CBPR.PARTY.NM_PSTLADR",
            "/Document/BkToCstmrDbtCdtNtfctn/Ntfctn/Acct/Ownr/Nm",
        )],
    );
}

#[test]
fn a_booked_entry_has_a_booking_or_value_date() {
    planted(
        &camt054(),
        "<BookgDt><DtTm>2026-11-25T09:30:00+01:00</DtTm></BookgDt>",
        "",
        &[("CBPR.NTRY.BOOKED_DATE", &format!("{NTRY}/BookgDt"))],
    );
    clean(&camt054().replace(
        "<BookgDt><DtTm>2026-11-25T09:30:00+01:00</DtTm></BookgDt>",
        "<ValDt><Dt>2026-11-25</Dt></ValDt>",
    ));
    // A pending entry has neither yet.
    clean(
        &camt054()
            .replace("<Sts><Cd>BOOK</Cd></Sts>", "<Sts><Cd>PDNG</Cd></Sts>")
            .replace(
                "<BookgDt><DtTm>2026-11-25T09:30:00+01:00</DtTm></BookgDt>",
                "",
            ),
    );
}

#[test]
fn pages_are_numbered_from_one() {
    planted(
        &camt054(),
        "<PgNb>1</PgNb>",
        "<PgNb>000</PgNb>",
        &[(
            "CBPR.PGNTN.PGNB",
            "/Document/BkToCstmrDbtCdtNtfctn/Ntfctn/NtfctnPgntn/PgNb",
        )],
    );
    clean(&camt054().replace("<PgNb>1</PgNb>", "<PgNb>10</PgNb>"));
}

#[test]
fn a_status_report_answers_a_payment_message() {
    planted(
        &pacs002_rejection(),
        "<OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId>",
        "<OrgnlMsgNmId>camt.056.001.08</OrgnlMsgNmId>",
        &[(
            "CBPR.ORGNLMSGNMID",
            &format!("{STS}/OrgnlGrpInf/OrgnlMsgNmId"),
        )],
    );
    for answered in ["pacs.009.001.08", "pacs.004.001.09", "pacs.010.001.03"] {
        clean(&pacs002_rejection().replace(
            "<OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId>",
            &format!("<OrgnlMsgNmId>{answered}</OrgnlMsgNmId>"),
        ));
    }
}

#[test]
fn only_the_gpi_service_level_g001() {
    planted(
        &pacs008(),
        "<SvcLvl><Cd>G001</Cd></SvcLvl>",
        "<SvcLvl><Cd>G004</Cd></SvcLvl>",
        &[("CBPR.SVCLVL.GPI", &format!("{TX}/PmtTpInf/SvcLvl/Cd"))],
    );
    clean(&pacs008().replace("<Cd>G001</Cd>", "<Cd>SEPA</Cd>"));
}

#[test]
fn structured_remittance_holds_at_most_9000_characters() {
    // 140 characters per AddtlRmtInf, three per Strd: 420 characters each.
    let line = "A".repeat(140);
    let strd = format!("<Strd><AddtlRmtInf>{line}</AddtlRmtInf><AddtlRmtInf>{line}</AddtlRmtInf><AddtlRmtInf>{line}</AddtlRmtInf></Strd>");
    let remittance = |n: usize| format!("<RmtInf>{}</RmtInf>", strd.repeat(n));
    clean(&pacs008().replace(
        "<RmtInf><Ustrd>Invoice 42</Ustrd></RmtInf>",
        &remittance(21),
    ));
    planted(
        &pacs008(),
        "<RmtInf><Ustrd>Invoice 42</Ustrd></RmtInf>",
        &remittance(22),
        &[("CBPR.RMTINF.STRD_SIZE", &format!("{TX}/RmtInf/Strd[1]"))],
    );
}

// ---------------------------------------------------------------------------------------------
// pain.001
// ---------------------------------------------------------------------------------------------

fn pain001() -> String {
    let header = app_hdr(
        "ACMEDEFF",
        "BANKDEFF",
        "PAY-1",
        "pain.001.001.09",
        "swift.cbprplus.03",
        "",
    );
    let document = concat!(
        r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"><CstmrCdtTrfInitn>"#,
        "<GrpHdr><MsgId>PAY-1</MsgId><CreDtTm>2026-11-25T10:00:00+01:00</CreDtTm><NbOfTxs>1</NbOfTxs>",
        "<InitgPty><Nm>Acme GmbH</Nm></InitgPty></GrpHdr>",
        "<PmtInf><PmtInfId>PAY-1</PmtInfId><PmtMtd>TRF</PmtMtd><ReqdExctnDt><Dt>2026-11-26</Dt></ReqdExctnDt>",
        "<Dbtr><Nm>Acme GmbH</Nm><PstlAdr><TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></PstlAdr></Dbtr>",
        "<DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>",
        "<DbtrAgt><FinInstnId><BICFI>BANKDEFF</BICFI></FinInstnId></DbtrAgt>",
        "<CdtTrfTxInf><PmtId><InstrId>INSTR-1</InstrId><EndToEndId>E2E-1</EndToEndId>",
        "<UETR>8a562c67-ca16-48ba-b074-65581be6f001</UETR></PmtId>",
        r#"<Amt><InstdAmt Ccy="USD">100.00</InstdAmt></Amt>"#,
        "<CdtrAgt><FinInstnId><BICFI>BANKUS33</BICFI></FinInstnId></CdtrAgt>",
        "<Cdtr><Nm>Widget Inc</Nm><PstlAdr><TwnNm>New York</TwnNm><Ctry>US</Ctry></PstlAdr></Cdtr>",
        "<RmtInf><Ustrd>Invoice 42</Ustrd></RmtInf></CdtTrfTxInf></PmtInf></CstmrCdtTrfInitn></Document>"
    );
    envelope(&header, document)
}

#[test]
fn clean_initiation_has_no_findings() {
    clean(&pain001());
}

#[test]
fn payment_information_identification_is_the_message_identification() {
    planted(
        &pain001(),
        "<PmtInfId>PAY-1</PmtInfId>",
        "<PmtInfId>BATCH-7</PmtInfId>",
        &[(
            "CBPR.PMTINFID",
            "/Document/CstmrCdtTrfInitn/PmtInf/PmtInfId",
        )],
    );
}

#[test]
fn initiation_remittance_is_structured_or_not() {
    planted(
        &pain001(),
        "<Ustrd>Invoice 42</Ustrd>",
        "<Ustrd>Invoice 42</Ustrd><Strd><AddtlRmtInf>Invoice 42</AddtlRmtInf></Strd>",
        &[(
            "CBPR.RMTINF.EXCLUSIVE",
            "/Document/CstmrCdtTrfInitn/PmtInf/CdtTrfTxInf/RmtInf/Strd",
        )],
    );
}

// ---------------------------------------------------------------------------------------------
// pacs.004
// ---------------------------------------------------------------------------------------------

const RTR: &str = "/Document/PmtRtr/TxInf";

fn pacs004() -> String {
    let header = app_hdr(
        "BANKUS33",
        "BANKDEFF",
        "RTR-1",
        "pacs.004.001.09",
        "swift.cbprplus.03",
        "",
    );
    let document = format!(
        concat!(
            r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.004.001.09"><PmtRtr>"#,
            "<GrpHdr><MsgId>RTR-1</MsgId><CreDtTm>2026-11-25T10:00:00+01:00</CreDtTm><NbOfTxs>1</NbOfTxs>",
            "<SttlmInf><SttlmMtd>INDA</SttlmMtd></SttlmInf></GrpHdr>",
            "<TxInf><RtrId>RTR-1</RtrId><OrgnlGrpInf><OrgnlMsgId>MSG-1</OrgnlMsgId><OrgnlMsgNmId>pacs.008.001.08</OrgnlMsgNmId></OrgnlGrpInf>",
            "<OrgnlInstrId>INSTR-1</OrgnlInstrId><OrgnlEndToEndId>E2E-1</OrgnlEndToEndId><OrgnlTxId>TX-1</OrgnlTxId>",
            "<OrgnlUETR>{uetr}</OrgnlUETR>",
            r#"<OrgnlIntrBkSttlmAmt Ccy="EUR">100.00</OrgnlIntrBkSttlmAmt><OrgnlIntrBkSttlmDt>2026-11-25</OrgnlIntrBkSttlmDt>"#,
            r#"<RtrdIntrBkSttlmAmt Ccy="EUR">100.00</RtrdIntrBkSttlmAmt><IntrBkSttlmDt>2026-11-26</IntrBkSttlmDt>"#,
            "<ChrgBr>SHAR</ChrgBr>{instg}{instd}",
            "<RtrChain><Dbtr><Pty><Nm>Acme Holding</Nm></Pty></Dbtr><Cdtr><Pty><Nm>Widget Inc</Nm></Pty></Cdtr></RtrChain>",
            "<RtrRsnInf><Orgtr><Nm>Bank US</Nm></Orgtr><Rsn><Cd>AC04</Cd></Rsn></RtrRsnInf>",
            "<OrgnlTxRef><Dbtr><Pty><Nm>Acme GmbH</Nm></Pty></Dbtr></OrgnlTxRef>",
            "</TxInf></PmtRtr></Document>"
        ),
        uetr = UETR,
        instg = agent("InstgAgt", "BANKUS33"),
        instd = agent("InstdAgt", "BANKDEFF"),
    );
    envelope(&header, &document)
}

#[test]
fn clean_return_has_no_findings() {
    clean(&pacs004());
}

#[test]
fn a_return_states_the_original_settlement_once() {
    planted(
        &pacs004(),
        "<OrgnlTxRef>",
        "<OrgnlTxRef><IntrBkSttlmDt>2026-11-25</IntrBkSttlmDt>",
        &[(
            "CBPR.RTR.ORGNLTXREF",
            &format!("{RTR}/OrgnlTxRef/IntrBkSttlmDt"),
        )],
    );
    planted(
        &pacs004(),
        "<OrgnlTxRef>",
        r#"<OrgnlTxRef><IntrBkSttlmAmt Ccy="EUR">100.00</IntrBkSttlmAmt>"#,
        &[(
            "CBPR.RTR.ORGNLTXREF",
            &format!("{RTR}/OrgnlTxRef/IntrBkSttlmAmt"),
        )],
    );
}

#[test]
fn a_return_charged_to_the_creditor_states_the_charges() {
    planted(
        &pacs004(),
        "<ChrgBr>SHAR</ChrgBr>",
        "<ChrgBr>CRED</ChrgBr>",
        &[("CBPR.CHRG_BR.CRED", &format!("{RTR}/ChrgsInf"))],
    );
}

#[test]
fn return_parties_are_named_or_identified_by_bic() {
    planted(
        &pacs004(),
        "<Orgtr><Nm>Bank US</Nm></Orgtr>",
        "<Orgtr><CtryOfRes>US</CtryOfRes></Orgtr>",
        &[("CBPR.PARTY.NM_ANYBIC", &format!("{RTR}/RtrRsnInf/Orgtr/Nm"))],
    );
    planted(
        &pacs004(),
        "<Pty><Nm>Acme GmbH</Nm></Pty>",
        "<Pty><CtryOfRes>DE</CtryOfRes></Pty>",
        &[(
            "CBPR.PARTY.NM_ANYBIC",
            &format!("{RTR}/OrgnlTxRef/Dbtr/Pty/Nm"),
        )],
    );
}

#[test]
fn an_instructed_amount_reduced_in_the_same_currency_states_the_charges() {
    planted(
        &pacs008(),
        "<ChrgBr>SHAR</ChrgBr>",
        r#"<InstdAmt Ccy="EUR">101.00</InstdAmt><ChrgBr>SHAR</ChrgBr>"#,
        &[("CBPR.CHRGS_INF.AMOUNTS_DIFFER", &format!("{TX}/ChrgsInf"))],
    );
    for same_or_other in [
        r#"<InstdAmt Ccy="EUR">100.00</InstdAmt>"#,
        r#"<InstdAmt Ccy="USD">120.00</InstdAmt><XchgRate>1.2</XchgRate>"#,
    ] {
        clean(&pacs008().replace(
            "<ChrgBr>SHAR</ChrgBr>",
            &format!("{same_or_other}<ChrgBr>SHAR</ChrgBr>"),
        ));
    }
}

const CXL: &str = "/Document/FIToFIPmtCxlReq/Undrlyg/TxInf";

#[test]
fn cancellation_and_case_identifications_have_the_mt_reference_form() {
    for bad in ["/CXL-1", "CXL-1/", "CXL//1"] {
        planted(
            &camt056(),
            "<CxlId>CXL-1</CxlId>",
            &format!("<CxlId>{bad}</CxlId>"),
            &[("CBPR.CXLID.FORMAT", &format!("{CXL}/CxlId"))],
        );
        planted(
            &camt056(),
            "<Id>CASE/1</Id>",
            &format!("<Id>{bad}</Id>"),
            &[("CBPR.CASEID.FORMAT", &format!("{CXL}/Case/Id"))],
        );
    }
}

#[test]
fn a_narrative_reason_carries_its_narrative() {
    planted(
        &camt056(),
        "<Cd>DUPL</Cd>",
        "<Cd>NARR</Cd>",
        &[(
            "CBPR.RSN.NARR_ADDTLINF",
            &format!("{CXL}/CxlRsnInf/AddtlInf"),
        )],
    );
    clean(&camt056().replace(
        "<Rsn><Cd>DUPL</Cd></Rsn>",
        "<Rsn><Cd>NARR</Cd></Rsn><AddtlInf>Sent twice by the customer</AddtlInf>",
    ));
}

#[test]
fn a_remittance_location_s_name_and_address_is_read_as_one() {
    // `RmtLctnDtls/PstlAdr` holds `Nm` and `Adr`: the address rules apply to `Adr`, and the
    // location is no party missing a name.
    let location = |adr: &str| {
        format!(
            "<RltdRmtInf><RmtId>REMIT-1</RmtId><RmtLctnDtls><Mtd>POST</Mtd><PstlAdr><Nm>Acme Accounts</Nm><Adr>{adr}</Adr></PstlAdr></RmtLctnDtls></RltdRmtInf>"
        )
    };
    let with =
        |adr: &str| pacs008().replace("<RmtInf><Ustrd>Invoice 42</Ustrd></RmtInf>", &location(adr));
    clean(&with("<TwnNm>Berlin</TwnNm><Ctry>DE</Ctry>"));
    planted(
        &with("<TwnNm>Berlin</TwnNm><Ctry>DE</Ctry>"),
        "<TwnNm>Berlin</TwnNm><Ctry>DE</Ctry></Adr>",
        "<Ctry>DE</Ctry></Adr>",
        &[(
            "CBPR.PSTLADR.TWN_CTRY",
            &format!("{TX}/RltdRmtInf/RmtLctnDtls/PstlAdr/Adr"),
        )],
    );
}

// ---------------------------------------------------------------------------------------------
// camt.052 (and camt.053 / camt.054: the same Chrgs and Intrst)
// ---------------------------------------------------------------------------------------------

const RPT_NTRY: &str = "/Document/BkToCstmrAcctRpt/Rpt/Ntry";

/// Charges of 10.00 and 2.50 EUR totalled 12.50. `z` is "" on the entry and "0" on its
/// transaction, so that each amount is written once in the message (the reader keeps the value,
/// the rendering writes the currency's two decimals).
fn charges(z: &str) -> String {
    format!(
        concat!(
            r#"<Chrgs><TtlChrgsAndTaxAmt Ccy="EUR">12.50{z}</TtlChrgsAndTaxAmt>"#,
            r#"<Rcrd><Amt Ccy="EUR">10.00{z}</Amt><CdtDbtInd>DBIT</CdtDbtInd><Tp><Cd>COMM</Cd></Tp><Br>DEBT</Br>"#,
            "<Agt><FinInstnId><BICFI>BANKDEFF</BICFI></FinInstnId></Agt></Rcrd>",
            r#"<Rcrd><Amt Ccy="EUR">2.50{z}</Amt><Tax><Id>VAT</Id><Rate>19</Rate></Tax></Rcrd></Chrgs>"#,
        ),
        z = z
    )
}

/// Interest of 1.25 and 0.75 EUR totalled 2.00 (`z` as for [`charges`]).
fn interest(z: &str) -> String {
    format!(
        concat!(
            r#"<Intrst><TtlIntrstAndTaxAmt Ccy="EUR">2.00{z}</TtlIntrstAndTaxAmt>"#,
            r#"<Rcrd><Amt Ccy="EUR">1.25{z}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Tp><Cd>INDY</Cd></Tp>"#,
            "<Rate><Tp><Pctg>3.5</Pctg></Tp></Rate>",
            "<FrToDt><FrDtTm>2026-11-24T00:00:00+01:00</FrDtTm><ToDtTm>2026-11-25T00:00:00+01:00</ToDtTm></FrToDt></Rcrd>",
            r#"<Rcrd><Amt Ccy="EUR">0.75{z}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Rsn>Overnight</Rsn></Rcrd></Intrst>"#,
        ),
        z = z
    )
}

fn camt052() -> String {
    let header = app_hdr(
        "BANKDEFF",
        "ACMEDEFF",
        "RPT-1",
        "camt.052.001.08",
        "swift.cbprplus.03",
        "",
    );
    let document = format!(
        concat!(
            r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.052.001.08"><BkToCstmrAcctRpt>"#,
            "<GrpHdr><MsgId>RPT-1</MsgId><CreDtTm>2026-11-25T10:00:00+01:00</CreDtTm></GrpHdr>",
            "<Rpt><Id>R-1</Id><RptPgntn><PgNb>1</PgNb><LastPgInd>true</LastPgInd></RptPgntn>",
            "<CreDtTm>2026-11-25T10:00:00+01:00</CreDtTm>",
            "<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>",
            r#"<Ntry><NtryRef>1</NtryRef><Amt Ccy="EUR">100.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>"#,
            "<ValDt><Dt>2026-11-25</Dt></ValDt>",
            "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>XBCT</SubFmlyCd></Fmly></Domn></BkTxCd>",
            "{entry}",
            "<NtryDtls><TxDtls><Refs><EndToEndId>E2E-1</EndToEndId></Refs>",
            r#"<Amt Ccy="EUR">100.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>{tx}</TxDtls></NtryDtls>"#,
            "</Ntry></Rpt></BkToCstmrAcctRpt></Document>"
        ),
        entry = charges("") + &interest(""),
        tx = charges("0") + &interest("0"),
    );
    envelope(&header, &document)
}

#[test]
fn clean_account_report_has_no_findings() {
    clean(&camt052());
    round_trips_and_valid(&camt052(), "camt052");
}

#[test]
fn charges_total_is_the_sum_of_the_records() {
    let path = |at: &str| format!("{RPT_NTRY}{at}/Chrgs/TtlChrgsAndTaxAmt");
    planted(
        &camt052(),
        r#"<TtlChrgsAndTaxAmt Ccy="EUR">12.50</TtlChrgsAndTaxAmt>"#,
        r#"<TtlChrgsAndTaxAmt Ccy="EUR">12.51</TtlChrgsAndTaxAmt>"#,
        &[("CBPR.CHRGS.TOTAL", &path(""))],
    );
    planted(
        &camt052(),
        r#"<TtlChrgsAndTaxAmt Ccy="EUR">12.500</TtlChrgsAndTaxAmt>"#,
        r#"<TtlChrgsAndTaxAmt Ccy="EUR">10.00</TtlChrgsAndTaxAmt>"#,
        &[("CBPR.CHRGS.TOTAL", &path("/NtryDtls/TxDtls"))],
    );
    // A record in another currency leaves the sum to a person; no records, nothing to add up.
    clean(&camt052().replace(
        r#"<Amt Ccy="EUR">10.00</Amt>"#,
        r#"<Amt Ccy="USD">10.00</Amt>"#,
    ));
    clean(&camt052().replace(
        &charges("0"),
        r#"<Chrgs><TtlChrgsAndTaxAmt Ccy="EUR">12.500</TtlChrgsAndTaxAmt></Chrgs>"#,
    ));
}

#[test]
fn interest_total_is_the_sum_of_the_records() {
    let path = |at: &str| format!("{RPT_NTRY}{at}/Intrst/TtlIntrstAndTaxAmt");
    planted(
        &camt052(),
        r#"<TtlIntrstAndTaxAmt Ccy="EUR">2.00</TtlIntrstAndTaxAmt>"#,
        r#"<TtlIntrstAndTaxAmt Ccy="EUR">1.25</TtlIntrstAndTaxAmt>"#,
        &[("CBPR.INTRST.TOTAL", &path(""))],
    );
    planted(
        &camt052(),
        r#"<TtlIntrstAndTaxAmt Ccy="EUR">2.000</TtlIntrstAndTaxAmt>"#,
        r#"<TtlIntrstAndTaxAmt Ccy="EUR">2.01</TtlIntrstAndTaxAmt>"#,
        &[("CBPR.INTRST.TOTAL", &path("/NtryDtls/TxDtls"))],
    );
}

// ---------------------------------------------------------------------------------------------
// pacs.008 STP (swift.cbprplus.stp.03)
// ---------------------------------------------------------------------------------------------

const CDTR_ACCT_OTHR: &str = "<CdtrAcct><Id><Othr><Id>123456789</Id></Othr></Id></CdtrAcct>";

/// [`pacs008`] sent under the STP service: the creditor's account given, no instructions to
/// the creditor agent. Its agents are in DE and US: not a domestic payment.
fn pacs008_stp() -> String {
    pacs008()
        .replacen(
            "<BizSvc>swift.cbprplus.03</BizSvc>",
            "<BizSvc>swift.cbprplus.stp.03</BizSvc>",
            1,
        )
        .replacen(
            "<InstrForCdtrAgt><Cd>PHOB</Cd></InstrForCdtrAgt><InstrForCdtrAgt><Cd>CHQB</Cd></InstrForCdtrAgt>",
            CDTR_ACCT_OTHR,
            1,
        )
}

/// [`pacs008_stp`] between a German and a French bank: both of the guideline's IBAN countries,
/// so the creditor's account is an IBAN.
fn pacs008_stp_domestic() -> String {
    pacs008_stp()
        .replacen(
            "<CdtrAgt><FinInstnId><BICFI>BANKUS33</BICFI>",
            "<CdtrAgt><FinInstnId><BICFI>BANKFRPP</BICFI>",
            1,
        )
        .replacen(
            CDTR_ACCT_OTHR,
            "<CdtrAcct><Id><IBAN>FR1420041010050500013M02606</IBAN></Id></CdtrAcct>",
            1,
        )
}

#[test]
fn clean_stp_pacs008_has_no_findings() {
    clean(&pacs008_stp());
    clean(&pacs008_stp_domestic());
    // The core pacs.008 keeps what the STP variant leaves out.
    clean(&pacs008());
}

#[test]
fn stp_agents_are_identified_by_bic() {
    planted(
        &pacs008_stp(),
        "<CdtrAgt><FinInstnId><BICFI>BANKUS33</BICFI></FinInstnId></CdtrAgt>",
        "<CdtrAgt><FinInstnId><ClrSysMmbId><ClrSysId><Cd>USABA</Cd></ClrSysId><MmbId>026009593</MmbId></ClrSysMmbId></FinInstnId></CdtrAgt>",
        &[("CBPR.STP.AGENT_BIC", &format!("{TX}/CdtrAgt/FinInstnId/BICFI"))],
    );
}

#[test]
fn stp_gives_the_creditor_account() {
    planted(
        &pacs008_stp(),
        CDTR_ACCT_OTHR,
        "",
        &[("CBPR.STP.CDTRACCT", &format!("{TX}/CdtrAcct"))],
    );
}

#[test]
fn stp_agents_have_no_name_or_address() {
    // Name alone: the STP rule, not the core "name and address together".
    planted(
        &pacs008_stp(),
        "<CdtrAgt><FinInstnId><BICFI>BANKUS33</BICFI></FinInstnId></CdtrAgt>",
        "<CdtrAgt><FinInstnId><BICFI>BANKUS33</BICFI><Nm>Bank US</Nm></FinInstnId></CdtrAgt>",
        &[(
            "CBPR.STP.AGENT_NM_PSTLADR",
            &format!("{TX}/CdtrAgt/FinInstnId/Nm"),
        )],
    );
}

#[test]
fn stp_has_no_instructions_to_agents() {
    planted(
        &pacs008_stp(),
        "<RmtInf>",
        "<InstrForNxtAgt><InstrInf>CALL BEFORE CREDIT</InstrInf></InstrForNxtAgt><RmtInf>",
        &[("CBPR.STP.INSTR", &format!("{TX}/InstrForNxtAgt"))],
    );
}

#[test]
fn stp_domestic_payments_name_the_parties_and_their_ibans() {
    planted(
        &pacs008_stp_domestic(),
        "<IBAN>FR1420041010050500013M02606</IBAN>",
        "<Othr><Id>123456789</Id></Othr>",
        &[("CBPR.STP.DBTR_CDTR_IBAN", &format!("{TX}/CdtrAcct/Id/IBAN"))],
    );
    // A country couple: a Spanish and an Andorran bank.
    let couple = pacs008_stp()
        .replacen(
            "<DbtrAgt><FinInstnId><BICFI>BANKDEFF</BICFI>",
            "<DbtrAgt><FinInstnId><BICFI>BANKESMM</BICFI>",
            1,
        )
        .replacen(
            "<CdtrAgt><FinInstnId><BICFI>BANKUS33</BICFI>",
            "<CdtrAgt><FinInstnId><BICFI>BANKADAD</BICFI>",
            1,
        );
    let couple = couple.replacen(
        CDTR_ACCT_OTHR,
        "<CdtrAcct><Id><IBAN>AD1200012030200359100100</IBAN></Id></CdtrAcct>",
        1,
    );
    clean(&couple);
    planted(
        &couple,
        "<DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>",
        "",
        &[("CBPR.STP.DBTR_CDTR_IBAN", &format!("{TX}/DbtrAcct"))],
    );
    // Outside the guideline's areas (DE and US agents), no account form is asked.
    clean(&pacs008_stp().replacen(
        "<DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct>",
        "",
        1,
    ));
}

#[test]
fn stp_rules_need_the_header_that_names_the_service() {
    // The Document alone cannot be told from a core pacs.008.
    let msg = BusinessMessage::parse_with(
        &pacs008_stp().replacen(CDTR_ACCT_OTHR, "", 1),
        &ParseOptions::strict(),
    )
    .expect("reads");
    assert_eq!(iso20022::cbpr::validate_document(&msg.document), []);
}
