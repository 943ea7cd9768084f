//! Every CBPR+ rule: a clean message has no finding, and each broken rule is reported once, at
//! the right path, with its rule id.

use iso20022::cbpr::{render_and_validate, validate, validate_document, Finding};
use iso20022::common::{Agent, CashAccount, Charges, Party, PostalAddress, SettlementInstruction};
use iso20022::head::{AppHdr, HeaderParty};
use iso20022::pacs008::{CreditTransfer, GroupHeader, Pacs008, PaymentId};
use iso20022::types::*;
use iso20022::{iso4217, Amount, BusinessMessage, Document};

fn bic(s: &str) -> Bic {
    Bic::new(s).unwrap()
}

fn t35(s: &str) -> Max35Text {
    Max35Text::new(s).unwrap()
}

/// A CBPR+ pacs.008 that breaks no rule: agents and settlement date in the transaction, the
/// current business service, a structured debtor address.
fn clean() -> BusinessMessage {
    let now = IsoDateTime::new("2026-11-25T10:00:00+01:00").unwrap();
    let h = GroupHeader::new(
        t35("MSG-1"),
        now.clone(),
        SettlementInstruction::method(SettlementMethod::Inda),
    );
    let mut dbtr = Party::named(Max140Text::new("Acme GmbH").unwrap());
    dbtr.pstl_adr = Some(Box::new(PostalAddress::town_country(
        t35("Berlin"),
        CountryCode::new("DE").unwrap(),
    )));
    dbtr.set_lei(Lei::new("5493001KJTIIGC8Y1R12").unwrap());
    let mut tx = CreditTransfer::new(
        PaymentId::new(
            t35("INSTR-1"),
            t35("E2E-1"),
            t35("TX-1"),
            Uetr::new("8a562c67-ca16-48ba-b074-65581be6f001").unwrap(),
        ),
        Amount::parse("100.00", iso4217::lookup("EUR").unwrap()).unwrap(),
        ChargeBearer::Shar,
        dbtr,
        Agent::bic(bic("BANKDEFF")),
        Agent::bic(bic("BANKUS33")),
        Party::named(Max140Text::new("Widget Inc").unwrap()),
    );
    tx.dbtr_acct = Some(CashAccount::iban(
        Iban::new("DE89370400440532013000").unwrap(),
    ));
    tx.intr_bk_sttlm_dt = Some(IsoDate::new("2026-11-25").unwrap());
    tx.instg_agt = Some(Agent::bic(bic("BANKDEFFXXX")));
    tx.instd_agt = Some(Agent::bic(bic("BANKUS33")));
    let mut hdr = AppHdr::new(
        HeaderParty::bic(bic("BANKDEFF")),
        HeaderParty::bic(bic("BANKUS33XXX")),
        t35("MSG-1"),
        t35("pacs.008.001.08"),
        now,
    );
    hdr.biz_svc = Some(t35("swift.cbprplus.03"));
    BusinessMessage::new(hdr, Pacs008::new(h, tx))
}

fn pacs008(m: &mut BusinessMessage) -> &mut Pacs008 {
    match &mut m.document {
        Document::Pacs008(p) => p,
        _ => unreachable!(),
    }
}

/// Applies `change` to a clean message and expects exactly one finding, of `rule` at `path`.
fn expect_one(rule: &str, path: &str, change: impl FnOnce(&mut BusinessMessage)) {
    let mut m = clean();
    change(&mut m);
    let findings = validate(&m);
    same_as_render_then_validate(&m, rule);
    let summary: Vec<String> = findings.iter().map(Finding::to_string).collect();
    assert_eq!(findings.len(), 1, "{rule}: {summary:#?}");
    assert_eq!(findings[0].rule, rule, "{summary:#?}");
    assert_eq!(findings[0].path, path, "{summary:#?}");
}

/// `render_and_validate` gives what `render`, then `validate`, give: the same bytes, the same
/// findings in the same order.
fn same_as_render_then_validate(m: &BusinessMessage, name: &str) {
    let (xml, findings) = render_and_validate(m);
    assert_eq!(xml, m.render(), "{name}: the rendering");
    assert_eq!(findings, validate(m), "{name}: the findings");
}

const TX: &str = "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf";

#[test]
fn rendering_while_validating_is_rendering_then_validating() {
    same_as_render_then_validate(&clean(), "clean pacs.008");
    same_as_render_then_validate(&clean_status_report(), "clean pacs.002");
    let mut bare = clean();
    bare.app_hdr = None;
    same_as_render_then_validate(&bare, "no AppHdr");
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut read = 0;
    for entry in std::fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        let xml = std::fs::read_to_string(&path).unwrap();
        let name = path.display().to_string();
        let m = BusinessMessage::parse(&xml).unwrap_or_else(|e| panic!("{name}: {e}"));
        same_as_render_then_validate(&m, &name);
        read += 1;
    }
    assert!(read >= 6, "only {read} fixtures in {}", fixtures.display());
}

#[test]
fn clean_message_has_no_findings() {
    let findings = validate(&clean());
    assert!(findings.is_empty(), "{findings:#?}");
}

#[test]
fn uetr_is_required() {
    expect_one("CBPR.UETR.PRESENT", &format!("{TX}/PmtId/UETR"), |m| {
        pacs008(m).cdt_trf_tx_inf[0].pmt_id.uetr = None;
    });
}

#[test]
fn one_transaction_only() {
    let mut m = clean();
    let tx = pacs008(&mut m).cdt_trf_tx_inf[0].clone();
    pacs008(&mut m).cdt_trf_tx_inf.push(tx);
    let rules: Vec<&str> = validate(&m).iter().map(|f| f.rule).collect();
    assert_eq!(rules, ["CBPR.TX.ONE"]);
}

#[test]
fn instr_id_format() {
    for bad in [
        "/LEADING",
        "TRAILING/",
        "DOUBLE//SLASH",
        "SEVENTEEN-CHARS-X",
    ] {
        expect_one("CBPR.INSTRID.FORMAT", &format!("{TX}/PmtId/InstrId"), |m| {
            pacs008(m).cdt_trf_tx_inf[0].pmt_id.instr_id = Some(t35(bad));
        });
    }
}

#[test]
fn settlement_method() {
    expect_one(
        "CBPR.STTLM_MTD",
        "/Document/FIToFICstmrCdtTrf/GrpHdr/SttlmInf/SttlmMtd",
        |m| {
            pacs008(m).grp_hdr.sttlm_inf.sttlm_mtd = SettlementMethod::Clrg;
        },
    );
    let mut m = clean();
    pacs008(&mut m).grp_hdr.sttlm_inf.sttlm_mtd = SettlementMethod::Cove;
    assert!(validate(&m).is_empty(), "COVE is fine on a pacs.008");
    let mut p009 = iso20022::samples::pacs009(1);
    p009.grp_hdr.sttlm_inf = SettlementInstruction::method(SettlementMethod::Cove);
    let findings = validate_document(&p009.into());
    assert!(
        findings.iter().any(|f| f.rule == "CBPR.STTLM_MTD"),
        "COVE is not for pacs.009"
    );
}

#[test]
fn charge_bearer_rules() {
    expect_one("CBPR.CHRG_BR.CODE", &format!("{TX}/ChrgBr"), |m| {
        pacs008(m).cdt_trf_tx_inf[0].chrg_br = ChargeBearer::Slev;
    });
    expect_one("CBPR.CHRG_BR.CRED", &format!("{TX}/ChrgsInf"), |m| {
        pacs008(m).cdt_trf_tx_inf[0].chrg_br = ChargeBearer::Cred;
    });
    expect_one("CBPR.CHRGS_INF.INSTD_AMT", &format!("{TX}/InstdAmt"), |m| {
        pacs008(m).cdt_trf_tx_inf[0].chrgs_inf.push(Charges {
            amt: Amount::parse("1.00", iso4217::lookup("EUR").unwrap()).unwrap(),
            agt: Agent::bic(bic("BANKUS33")),
        });
    });
}

#[test]
fn character_sets() {
    expect_one("CBPR.CHARSET.X", &format!("{TX}/PmtId/EndToEndId"), |m| {
        pacs008(m).cdt_trf_tx_inf[0].pmt_id.end_to_end_id = t35("E2E_1");
    });
    // '&' is extended: fine in a name, refused in an identifier.
    let mut m = clean();
    pacs008(&mut m).cdt_trf_tx_inf[0].cdtr.nm = Some(Max140Text::new("Smith & Sons").unwrap());
    assert!(validate(&m).is_empty());
    expect_one("CBPR.CHARSET.EXTENDED", &format!("{TX}/Cdtr/Nm"), |m| {
        pacs008(m).cdt_trf_tx_inf[0].cdtr.nm = Some(Max140Text::new("Müller").unwrap());
    });
}

/// The extended set is the CBPR+ schemas' pattern: each character it added over the rule's
/// earlier set is accepted in a name, and CR and LF, which the pattern lacks, are refused.
#[test]
fn the_extended_set_is_the_cbpr_pattern() {
    for c in ['^', '`', '|', '~', '[', '\\', ']'] {
        let mut m = clean();
        let nm = format!("Smith {c} Sons");
        pacs008(&mut m).cdt_trf_tx_inf[0].cdtr.nm = Some(Max140Text::new(&nm).unwrap());
        let found: Vec<&str> = validate(&m).iter().map(|f| f.rule).collect();
        assert!(found.is_empty(), "{c:?}: {found:?}");
    }
    for c in ['\n', '\r'] {
        expect_one("CBPR.CHARSET.EXTENDED", &format!("{TX}/Cdtr/Nm"), |m| {
            let nm = format!("Smith{c}Sons");
            pacs008(m).cdt_trf_tx_inf[0].cdtr.nm = Some(Max140Text::new(&nm).unwrap());
        });
    }
}

#[test]
fn date_times_need_offsets() {
    expect_one(
        "CBPR.DATETIME.OFFSET",
        "/Document/FIToFICstmrCdtTrf/GrpHdr/CreDtTm",
        |m| {
            pacs008(m).grp_hdr.cre_dt_tm = IsoDateTime::new("2026-11-25T10:00:00").unwrap();
        },
    );
    expect_one("CBPR.DATETIME.OFFSET", "/AppHdr/CreDt", |m| {
        m.app_hdr.as_mut().unwrap().cre_dt = IsoDateTime::new("2026-11-25T10:00:00.5").unwrap();
    });
}

#[test]
fn header_rules() {
    expect_one("CBPR.BAH.FR", "/AppHdr/Fr/FIId/FinInstnId/BICFI", |m| {
        m.app_hdr.as_mut().unwrap().fr = HeaderParty::bic(bic("OTHRGB2L"));
    });
    expect_one("CBPR.BAH.TO", "/AppHdr/To/FIId/FinInstnId/BICFI", |m| {
        m.app_hdr.as_mut().unwrap().to = HeaderParty::bic(bic("OTHRGB2L"));
    });
    expect_one("CBPR.BAH.BIZSVC", "/AppHdr/BizSvc", |m| {
        m.app_hdr.as_mut().unwrap().biz_svc = None;
    });
    expect_one("CBPR.BAH.BIZSVC", "/AppHdr/BizSvc", |m| {
        m.app_hdr.as_mut().unwrap().biz_svc = Some(t35("other.service"));
    });
    expect_one("CBPR.BAH.MSGDEFIDR", "/AppHdr/MsgDefIdr", |m| {
        m.app_hdr.as_mut().unwrap().msg_def_idr = t35("pacs.009.001.08");
    });
    expect_one("CBPR.BAH.PRESENT", "/AppHdr", |m| m.app_hdr = None);
}

#[test]
fn identifier_checks() {
    expect_one(
        "ISO9362.BIC",
        &format!("{TX}/CdtrAgt/FinInstnId/BICFI"),
        |m| {
            pacs008(m).cdt_trf_tx_inf[0].cdtr_agt = Agent::bic(bic("BANKQQ33"));
        },
    );
    expect_one("ISO13616.IBAN", &format!("{TX}/DbtrAcct/Id/IBAN"), |m| {
        pacs008(m).cdt_trf_tx_inf[0].dbtr_acct = Some(CashAccount::iban(
            Iban::new("DE88370400440532013000").unwrap(),
        ));
    });
    expect_one("ISO17442.LEI", &format!("{TX}/Dbtr/Id/OrgId/LEI"), |m| {
        pacs008(m).cdt_trf_tx_inf[0]
            .dbtr
            .set_lei(Lei::new("5493001KJTIIGC8Y1R13").unwrap());
    });
    expect_one("ISO3166.COUNTRY", &format!("{TX}/Dbtr/PstlAdr/Ctry"), |m| {
        let a = pacs008(m).cdt_trf_tx_inf[0].dbtr.pstl_adr.as_mut().unwrap();
        a.ctry = Some(CountryCode::new("QQ").unwrap());
    });
    expect_one("ISO4217.ACTIVE", &format!("{TX}/IntrBkSttlmAmt"), |m| {
        let hrk = iso4217::lookup_any("HRK").unwrap();
        pacs008(m).cdt_trf_tx_inf[0].intr_bk_sttlm_amt = Amount::from_minor(100, hrk).unwrap();
    });
}

#[test]
fn business_service_is_the_current_one_of_the_family() {
    // Any swift.cbprplus.* used to pass; only the current release's values do now.
    for old in [
        "swift.cbprplus.99",
        "swift.cbprplus.02",
        "swift.cbprplus.cov.03",
    ] {
        expect_one("CBPR.BAH.BIZSVC", "/AppHdr/BizSvc", |m| {
            m.app_hdr.as_mut().unwrap().biz_svc = Some(t35(old));
        });
    }
    for current in ["swift.cbprplus.03", "swift.cbprplus.stp.03"] {
        let mut m = clean();
        m.app_hdr.as_mut().unwrap().biz_svc = Some(t35(current));
        // The STP service is accepted; it brings the STP variant's own rules, which this core
        // message need not meet (tests/cbpr_sr2025.rs tests them).
        let found = validate(&m);
        assert!(
            found.iter().all(|f| f.rule.starts_with("CBPR.STP.")),
            "{current}: {found:?}"
        );
    }
    // Per family: a cover pacs.009 (with the customer transfer it covers) has its own.
    let cover = iso20022::samples::pacs009(1);
    let services = iso20022::cbpr::business_services(&cover.clone().into());
    if cover.is_cover() {
        assert_eq!(services, ["swift.cbprplus.cov.03"]);
    } else {
        assert_eq!(services, ["swift.cbprplus.03", "swift.cbprplus.adv.03"]);
    }
    let status = iso20022::pacs002::Pacs002::new(iso20022::pacs002::GroupHeader::new(
        t35("STS-1"),
        IsoDateTime::new("2026-11-25T10:00:00+00:00").unwrap(),
    ));
    assert_eq!(
        iso20022::cbpr::business_services(&status.into()),
        ["swift.cbprplus.03"]
    );
}

#[test]
fn agents_belong_in_the_transaction_not_the_group_header() {
    const GRP: &str = "/Document/FIToFICstmrCdtTrf/GrpHdr";
    expect_one("CBPR.GRPHDR.AGENTS", &format!("{GRP}/InstgAgt"), |m| {
        pacs008(m).grp_hdr.instg_agt = Some(Agent::bic(bic("BANKDEFFXXX")));
    });
    expect_one("CBPR.GRPHDR.AGENTS", &format!("{GRP}/InstdAgt"), |m| {
        pacs008(m).grp_hdr.instd_agt = Some(Agent::bic(bic("BANKUS33")));
    });
    // What the gateway rendered before: both agents in the group header, none in the
    // transaction.
    let mut m = clean();
    let p = pacs008(&mut m);
    p.grp_hdr.instg_agt = p.cdt_trf_tx_inf[0].instg_agt.take();
    p.grp_hdr.instd_agt = p.cdt_trf_tx_inf[0].instd_agt.take();
    let mut found: Vec<(&str, String)> = validate(&m)
        .iter()
        .map(|f| (f.rule, f.path.clone()))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            ("CBPR.GRPHDR.AGENTS", format!("{GRP}/InstdAgt")),
            ("CBPR.GRPHDR.AGENTS", format!("{GRP}/InstgAgt")),
            ("CBPR.TX.AGENTS", format!("{TX}/InstdAgt")),
            ("CBPR.TX.AGENTS", format!("{TX}/InstgAgt")),
        ]
    );
    // The same for a pacs.009.
    let mut p009 = iso20022::samples::pacs009(1);
    p009.grp_hdr.instg_agt = Some(Agent::bic(bic("BANKDEFFXXX")));
    let findings = validate_document(&p009.into());
    assert!(
        findings
            .iter()
            .any(|f| f.rule == "CBPR.GRPHDR.AGENTS"
                && f.path == "/Document/FICdtTrf/GrpHdr/InstgAgt"),
        "{findings:#?}"
    );
}

#[test]
fn the_group_header_holds_four_elements_only() {
    expect_one(
        "CBPR.GRPHDR.ELEMENTS",
        "/Document/FIToFICstmrCdtTrf/GrpHdr/IntrBkSttlmDt",
        |m| {
            pacs008(m).grp_hdr.intr_bk_sttlm_dt = Some(IsoDate::new("2026-11-25").unwrap());
        },
    );
}

#[test]
fn transaction_agents_and_settlement_date_are_mandatory() {
    expect_one("CBPR.TX.AGENTS", &format!("{TX}/InstgAgt"), |m| {
        pacs008(m).cdt_trf_tx_inf[0].instg_agt = None;
    });
    expect_one("CBPR.TX.AGENTS", &format!("{TX}/InstdAgt"), |m| {
        pacs008(m).cdt_trf_tx_inf[0].instd_agt = None;
    });
    expect_one(
        "CBPR.TX.INTRBKSTTLMDT",
        &format!("{TX}/IntrBkSttlmDt"),
        |m| {
            pacs008(m).cdt_trf_tx_inf[0].intr_bk_sttlm_dt = None;
        },
    );
}

#[test]
fn postal_addresses_have_town_and_country() {
    // What the gateway rendered before: a country alone.
    expect_one(
        "CBPR.PSTLADR.TWN_CTRY",
        &format!("{TX}/Dbtr/PstlAdr"),
        |m| {
            let a = pacs008(m).cdt_trf_tx_inf[0].dbtr.pstl_adr.as_mut().unwrap();
            a.twn_nm = None;
        },
    );
    // Address lines alone (unstructured) are no longer accepted either.
    expect_one(
        "CBPR.PSTLADR.TWN_CTRY",
        &format!("{TX}/Cdtr/PstlAdr"),
        |m| {
            let mut a = PostalAddress::default();
            a.adr_line
                .push(Max70Text::new("1 Main Street, Springfield").unwrap());
            pacs008(m).cdt_trf_tx_inf[0].cdtr.pstl_adr = Some(Box::new(a));
        },
    );
    // Hybrid: lines next to a town and a country are fine.
    let mut m = clean();
    let a = pacs008(&mut m).cdt_trf_tx_inf[0]
        .dbtr
        .pstl_adr
        .as_mut()
        .unwrap();
    a.adr_line.push(Max70Text::new("Building 7").unwrap());
    assert!(validate(&m).is_empty());
}

#[test]
fn status_messages_carry_their_agents_in_the_transaction() {
    // The header is checked against the transaction's agents.
    let finding = status_report_finding(|m| {
        m.app_hdr.as_mut().unwrap().fr = HeaderParty::bic(bic("OTHRGB2L"));
    });
    assert_eq!(finding.rule, "CBPR.BAH.FR");
    // Agents in the group header are flagged.
    let mut m = clean_status_report();
    pacs002(&mut m).grp_hdr.instg_agt = Some(Agent::bic(bic("BANKUS33")));
    let findings = validate_document(&m.document);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].rule, "CBPR.GRPHDR.AGENTS");
    assert_eq!(
        findings[0].path,
        "/Document/FIToFIPmtStsRpt/GrpHdr/InstgAgt"
    );
}

/// A clean pacs.002 status report with its AppHdr, as CBPR+ wants it.
fn clean_status_report() -> BusinessMessage {
    use iso20022::pacs002::{GroupHeader as StatusHeader, Pacs002, TransactionStatusInfo};
    let mut report = Pacs002::new(StatusHeader::new(
        t35("STS-1"),
        IsoDateTime::new("2026-11-25T10:00:00+00:00").unwrap(),
    ));
    let uetr = Uetr::new("8a562c67-ca16-48ba-b074-65581be6f001").unwrap();
    let mut tx = TransactionStatusInfo::new(t35("E2E-1"), Some(uetr), TransactionStatus::Acsc);
    tx.orgnl_instr_id = Some(t35("INSTR-1"));
    // Optional in the base schema, mandatory in CBPR+ (CBPR.SCHEMA.MISSING).
    tx.orgnl_grp_inf = Some(iso20022::common::OriginalGroupInfo {
        orgnl_msg_id: t35("MSG-1"),
        orgnl_msg_nm_id: t35("pacs.008.001.08"),
        orgnl_cre_dt_tm: None,
    });
    tx.instg_agt = Some(Agent::bic(bic("BANKUS33")));
    tx.instd_agt = Some(Agent::bic(bic("BANKDEFF")));
    report.tx_inf_and_sts.push(tx);
    let mut hdr = AppHdr::new(
        HeaderParty::bic(bic("BANKUS33")),
        HeaderParty::bic(bic("BANKDEFF")),
        t35("STS-1"),
        t35("pacs.002.001.10"),
        IsoDateTime::new("2026-11-25T10:00:00+00:00").unwrap(),
    );
    hdr.biz_svc = Some(t35("swift.cbprplus.03"));
    let m = BusinessMessage::new(hdr, report);
    assert!(validate(&m).is_empty(), "{:#?}", validate(&m));
    m
}

/// The one finding a change to a clean status report makes.
fn status_report_finding(change: impl FnOnce(&mut BusinessMessage)) -> Finding {
    let mut m = clean_status_report();
    change(&mut m);
    let findings = validate(&m);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    findings.into_iter().next().unwrap()
}

fn pacs002(m: &mut BusinessMessage) -> &mut iso20022::pacs002::Pacs002 {
    match &mut m.document {
        Document::Pacs002(p) => p,
        other => panic!("not a pacs.002: {}", other.msg_def_idr()),
    }
}

const STS_TX: &str = "/Document/FIToFIPmtStsRpt/TxInfAndSts";

#[test]
fn business_message_identifier_is_the_message_identification() {
    expect_one("CBPR.BAH.BIZMSGIDR", "/AppHdr/BizMsgIdr", |m| {
        m.app_hdr.as_mut().unwrap().biz_msg_idr = t35("SOMETHING-ELSE");
    });
    let finding = status_report_finding(|m| {
        pacs002(m).grp_hdr.msg_id = t35("STS-2");
    });
    assert_eq!(
        (finding.rule, finding.path.as_str()),
        ("CBPR.BAH.BIZMSGIDR", "/AppHdr/BizMsgIdr")
    );
}

#[test]
fn status_report_transactions_need_agents_and_the_original_uetr() {
    let finding = status_report_finding(|m| pacs002(m).tx_inf_and_sts[0].instd_agt = None);
    assert_eq!(
        (finding.rule, finding.path),
        ("CBPR.TX.AGENTS", format!("{STS_TX}/InstdAgt"))
    );
    let finding = status_report_finding(|m| pacs002(m).tx_inf_and_sts[0].orgnl_uetr = None);
    assert_eq!(
        (finding.rule, finding.path),
        ("CBPR.UETR.PRESENT", format!("{STS_TX}/OrgnlUETR"))
    );
    // With the agents gone, the header can no longer be compared, but their absence is found.
    let mut m = clean_status_report();
    pacs002(&mut m).tx_inf_and_sts[0].instg_agt = None;
    m.app_hdr.as_mut().unwrap().fr = HeaderParty::bic(bic("OTHRGB2L"));
    let rules: Vec<_> = validate(&m).into_iter().map(|f| f.rule).collect();
    assert_eq!(rules, ["CBPR.TX.AGENTS"]);
}

#[test]
fn original_instruction_identification_format() {
    for bad in ["/INSTR", "INSTR/", "IN//STR"] {
        let finding = status_report_finding(|m| {
            pacs002(m).tx_inf_and_sts[0].orgnl_instr_id = Some(t35(bad));
        });
        assert_eq!(
            (finding.rule, finding.path),
            ("CBPR.ORGNLINSTRID.FORMAT", format!("{STS_TX}/OrgnlInstrId")),
            "{bad}"
        );
    }
    // The form rule does not count characters; the CBPR+ pacs.002 schema does: OrgnlInstrId
    // has at most 16, like the InstrId it quotes (CBPR.SCHEMA.LENGTH).
    let m = {
        let mut m = clean_status_report();
        pacs002(&mut m).tx_inf_and_sts[0].orgnl_instr_id = Some(t35("A-LONGER-ORIGINAL-REF-1"));
        m
    };
    let found: Vec<_> = validate(&m).into_iter().map(|f| (f.rule, f.path)).collect();
    assert_eq!(
        found,
        [("CBPR.SCHEMA.LENGTH", format!("{STS_TX}/OrgnlInstrId"))]
    );
}

#[test]
fn commodity_codes_are_not_settlement_currencies() {
    for code in ["XAU", "XAG", "XPD", "XPT"] {
        expect_one("CBPR.CCY.COMMODITY", &format!("{TX}/IntrBkSttlmAmt"), |m| {
            let currency = iso4217::lookup(code).unwrap();
            pacs008(m).cdt_trf_tx_inf[0].intr_bk_sttlm_amt = Amount::parse("10", currency).unwrap();
        });
    }
    // A pacs.004 returning gold is refused on both amounts it states.
    let mut ret = iso20022::samples::pacs004(1);
    let gold = iso4217::lookup("XAU").unwrap();
    ret.tx_inf.truncate(1);
    ret.tx_inf[0].rtrd_intr_bk_sttlm_amt = Amount::parse("1", gold).unwrap();
    ret.tx_inf[0].orgnl_intr_bk_sttlm_amt = Some(Amount::parse("1", gold).unwrap());
    let paths: Vec<_> = validate_document(&ret.into())
        .into_iter()
        .filter(|f| f.rule == "CBPR.CCY.COMMODITY")
        .map(|f| f.path)
        .collect();
    assert_eq!(
        paths,
        [
            "/Document/PmtRtr/TxInf/RtrdIntrBkSttlmAmt",
            "/Document/PmtRtr/TxInf/OrgnlIntrBkSttlmAmt"
        ]
    );
}
