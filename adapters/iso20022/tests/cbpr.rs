//! Every CBPR+ rule: a clean message has no finding, and each broken rule is reported once, at
//! the right path, with its rule id.

use iso20022::cbpr::{validate, validate_document, Finding};
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

fn clean() -> BusinessMessage {
    let now = IsoDateTime::new("2026-11-25T10:00:00+01:00").unwrap();
    let mut h = GroupHeader::new(
        t35("MSG-1"),
        now.clone(),
        SettlementInstruction::method(SettlementMethod::Inda),
    );
    h.instg_agt = Some(Agent::bic(bic("BANKDEFFXXX")));
    h.instd_agt = Some(Agent::bic(bic("BANKUS33")));
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
    let mut hdr = AppHdr::new(
        HeaderParty::bic(bic("BANKDEFF")),
        HeaderParty::bic(bic("BANKUS33XXX")),
        t35("MSG-1"),
        t35("pacs.008.001.08"),
        now,
    );
    hdr.biz_svc = Some(t35("swift.cbprplus.02"));
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
    let summary: Vec<String> = findings.iter().map(Finding::to_string).collect();
    assert_eq!(findings.len(), 1, "{rule}: {summary:#?}");
    assert_eq!(findings[0].rule, rule, "{summary:#?}");
    assert_eq!(findings[0].path, path, "{summary:#?}");
}

const TX: &str = "/Document/FIToFICstmrCdtTrf/CdtTrfTxInf";

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
