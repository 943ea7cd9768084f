//! The bank rail's mapping, canonical ⇄ wire, with no I/O: a settlement becomes a pacs.008
//! with its head.001 (identifiers assigned once, CBPR+ rules checked once, here), a payment
//! the bank went quiet about becomes a pacs.028, and a pacs.002 becomes status reports.

use crate::config::BankConfig;
use crate::domain::{Account, AddressPart, Bic, Party, PostalAddress, Settlement, Uetr};
use crate::rails::RailError;
use crate::store::messages::Outbound;

/// The message definition we send.
pub const PACS008: &str = "pacs.008.001.08";

/// Largest answer body we read from a bank.
pub const ANSWER_BYTES_MAX: usize = 1024 * 1024;

/// What a bank said of one transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reported {
    /// A pacs.002 TxSts as sent (ACSC, ACCC, ACSP, PDNG, RJCT, …).
    Status(iso20022::types::TransactionStatus),
    /// A pacs.004: the bank sends the money back.
    Returned,
}

impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reported::Status(status) => write!(f, "pacs.002 {status}"),
            Reported::Returned => f.write_str("pacs.004 return"),
        }
    }
}

/// One transaction's status from a pacs.002, or its return in a pacs.004, reduced to what the
/// state machine needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusReport {
    pub orgnl_msg_id: Option<String>,
    pub orgnl_end_to_end_id: Option<String>,
    pub orgnl_uetr: Option<String>,
    pub status: Reported,
    pub reason_code: Option<String>,
    pub reason_text: Option<String>,
}

/// Fresh identifiers: MsgId and TxId are 'M'/'T' + 32 hex (33 ≤ 35 characters); InstrId is
/// 16 hex (CBPR+ caps it at 16); EndToEndId is our settlement id; UETR a new v4 UUID.
struct Identifiers {
    msg_id: String,
    biz_msg_idr: String,
    instr_id: String,
    end_to_end_id: String,
    tx_id: String,
    uetr: Uetr,
}

impl Identifiers {
    fn assign(settlement: &Settlement) -> Self {
        // Time-ordered (UUID version 7), as settlement ids are: the unique index on the
        // message id then takes a group's new entries at its end. The UETR stays version 4,
        // as SWIFT requires.
        let msg_id = format!("M{}", uuid::Uuid::now_v7().simple());
        let instr = uuid::Uuid::new_v4().simple().to_string();
        Identifiers {
            biz_msg_idr: msg_id.clone(),
            msg_id,
            instr_id: instr[..16].to_string(),
            end_to_end_id: settlement.id.to_string(),
            tx_id: format!("T{}", uuid::Uuid::now_v7().simple()),
            uetr: Uetr::new(),
        }
    }
}

/// Builds the pacs.008 + head.001 envelope for `settlement` to `bank`, with new identifiers.
pub fn prepare(
    our_bic: &Bic,
    bank: &BankConfig,
    settlement: &Settlement,
) -> Result<Outbound, RailError> {
    let ids = Identifiers::assign(settlement);
    let now = time::OffsetDateTime::now_utc();
    let body = render(our_bic, bank, settlement, &ids, now)?;
    Ok(Outbound {
        settlement_id: settlement.id.clone(),
        rail: crate::domain::Rail::Bank,
        counterparty: bank.id.clone(),
        kind: PACS008.into(),
        msg_id: ids.msg_id,
        biz_msg_idr: ids.biz_msg_idr,
        instr_id: Some(ids.instr_id),
        end_to_end_id: Some(ids.end_to_end_id),
        tx_id: Some(ids.tx_id),
        uetr: Some(ids.uetr.to_string()),
        body: body.into_bytes(),
        send_count: 0,
        stan: None,
        rrn: None,
        transmitted_at: None,
    })
}

// Long on purpose: it fills one pacs.008 and its header in schema order, each value with its
// own check and the element it is refused for; split further it would only scatter the order.
fn render(
    our_bic: &Bic,
    bank: &BankConfig,
    settlement: &Settlement,
    ids: &Identifiers,
    now: time::OffsetDateTime,
) -> Result<String, RailError> {
    use iso20022::common::{Agent, RemittanceInfo, SettlementInstruction};
    use iso20022::head::{AppHdr, HeaderParty};
    use iso20022::pacs008::{self, CreditTransfer, GroupHeader, Pacs008, PaymentId};
    use iso20022::types::{
        Bic as MxBic, ChargeBearer, IsoDate, IsoDateTime, Max140Text, Max35Text, SettlementMethod,
    };
    use iso20022::BusinessMessage;

    let text35 = |what: &str, v: &str| Max35Text::new(v).map_err(|e| bad(what, &e));
    let bic = |what: &str, b: &Bic| MxBic::new(b.as_str()).map_err(|e| bad(what, &e));
    let cre_dt_tm = IsoDateTime::new(cbpr_date_time(now)).map_err(|e| bad("CreDtTm", &e))?;
    let method: SettlementMethod = bank
        .settlement_method
        .as_str()
        .parse()
        .map_err(|e| bad("settlement_method", &e))?;
    let charge_bearer: ChargeBearer = bank
        .charge_bearer
        .as_str()
        .parse()
        .map_err(|e| bad("charge_bearer", &e))?;
    let instg = bic("our BIC", our_bic)?;
    let instd = bic("bank BIC", &bank.bic)?;

    // CBPR+: the group header holds MsgId, CreDtTm, NbOfTxs and SttlmInf only; the agents
    // travel in the transaction.
    let grp_hdr = GroupHeader::new(
        text35("MsgId", &ids.msg_id)?,
        cre_dt_tm.clone(),
        SettlementInstruction::method(method),
    );

    let dbtr_agt = settlement.debtor.agent.as_ref().unwrap_or(our_bic);
    let cdtr_agt = settlement.creditor.agent.as_ref().unwrap_or(&bank.bic);
    let amount = iso20022::Amount::from_minor(
        settlement.amount.minor(),
        iso20022::iso4217::lookup(settlement.amount.currency().code())
            .ok_or_else(|| RailError::Render("currency unknown to the ISO 20022 table".into()))?,
    )
    .map_err(|e| bad("amount", &e))?;
    let mut tx = CreditTransfer::new(
        PaymentId::new(
            text35("InstrId", &ids.instr_id)?,
            text35("EndToEndId", &ids.end_to_end_id)?,
            text35("TxId", &ids.tx_id)?,
            iso20022::types::Uetr::new(ids.uetr.as_str()).map_err(|e| bad("UETR", &e))?,
        ),
        amount,
        charge_bearer,
        mx_party("Dbtr", &settlement.debtor)?,
        Agent::bic(bic("DbtrAgt", dbtr_agt)?),
        Agent::bic(bic("CdtrAgt", cdtr_agt)?),
        mx_party("Cdtr", &settlement.creditor)?,
    );
    let date = settlement.execution_date.clone().unwrap_or_else(|| {
        let format = time::macros::format_description!("[year]-[month]-[day]");
        now.date().format(&format).unwrap_or_default()
    });
    tx.intr_bk_sttlm_dt = Some(IsoDate::new(date.as_str()).map_err(|e| bad("IntrBkSttlmDt", &e))?);
    tx.instg_agt = Some(Agent::bic(instg.clone()));
    tx.instd_agt = Some(Agent::bic(instd.clone()));
    tx.dbtr_acct = Some(mx_account("DbtrAcct", &settlement.debtor.account)?);
    tx.cdtr_acct = Some(mx_account("CdtrAcct", &settlement.creditor.account)?);
    if let Some(info) = &settlement.remittance_info {
        let line = Max140Text::new(to_cbpr_text(info)).map_err(|e| bad("RmtInf", &e))?;

        tx.rmt_inf = Some(RemittanceInfo::unstructured(line));
    }
    let mut hdr = AppHdr::new(
        HeaderParty::bic(instg),
        HeaderParty::bic(instd),
        text35("BizMsgIdr", &ids.biz_msg_idr)?,
        text35("MsgDefIdr", pacs008::MSG_DEF_IDR)?,
        cre_dt_tm,
    );
    hdr.biz_svc = Some(text35("BizSvc", &bank.business_service)?);
    let message = BusinessMessage::new(hdr, Pacs008::new(grp_hdr, tx));
    cbpr_checked(&message)
}

/// A date-time as CBPR+ wants it: whole seconds and a UTC offset (`+00:00`, not `Z`).
fn cbpr_date_time(now: time::OffsetDateTime) -> String {
    now.replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
        .replace('Z', "+00:00")
}

fn bad(what: &str, e: &dyn std::fmt::Display) -> RailError {
    RailError::Render(format!("{what}: {e}"))
}

/// A party (debtor or creditor) in CBPR+ form: its name in the CBPR+ character set, its
/// structured postal address (required), and its LEI when known.
fn mx_party(what: &str, p: &Party) -> Result<iso20022::common::Party, RailError> {
    use iso20022::common::Party as MxParty;
    use iso20022::types::{Lei, Max140Text};
    let name = Max140Text::new(to_cbpr_text(&p.name)).map_err(|e| bad(what, &e))?;
    let mut out = MxParty::named(name);
    let address = p.address.as_ref().ok_or_else(|| {
        RailError::Render(format!(
            "{what}: no postal address; CBPR+ needs a structured one with town and country"
        ))
    })?;
    out.pstl_adr =
        Some(Box::new(postal_address(address).map_err(|e| {
            bad(&format!("{what}/PstlAdr/{}", e.0), &e.1)
        })?));
    if let Some(lei) = &p.lei {
        out.set_lei(Lei::new(lei.as_str()).map_err(|e| bad(what, &e))?);
    }
    Ok(out)
}

/// An account: an IBAN, or another identification with its scheme (ISO external codes such
/// as BBAN or CUID go in `<Cd>`, anything else is proprietary).
fn mx_account(what: &str, a: &Account) -> Result<iso20022::common::CashAccount, RailError> {
    use iso20022::common::{CashAccount, CodeOrProprietary};
    use iso20022::types::{Iban, Max34Text, Max35Text};
    match account_id(a) {
        (Some(iban), _) => Ok(CashAccount::iban(
            Iban::new(iban).map_err(|e| bad(what, &e))?,
        )),
        (None, Some((id, scheme))) => {
            let id = Max34Text::new(id).map_err(|e| bad(what, &e))?;
            let scheme = scheme
                .map(|s| {
                    let is_code = s.len() <= 4 && s.bytes().all(|b| b.is_ascii_uppercase());
                    if is_code {
                        CodeOrProprietary::code(s).map_err(|e| bad(what, &e))
                    } else {
                        Max35Text::new(s)
                            .map(CodeOrProprietary::Prtry)
                            .map_err(|e| bad(what, &e))
                    }
                })
                .transpose()?;
            Ok(CashAccount::other(id, scheme))
        }
        (None, None) => Err(RailError::Render(format!("{what}: no account"))),
    }
}

/// The message rendered, once it is known to pass the usage rules the bank will apply: a
/// finding here is a message we cannot send as it stands, refused now with the rule, not by
/// the bank. Checked once, when the message is rendered (the check reads the same rendering);
/// every send reuses the stored bytes.
fn cbpr_checked(message: &iso20022::BusinessMessage) -> Result<String, RailError> {
    let (xml, findings) = iso20022::cbpr::render_and_validate(message);
    if findings.is_empty() {
        return Ok(xml);
    }
    let list: Vec<String> = findings.iter().map(ToString::to_string).collect();
    Err(RailError::Render(format!(
        "CBPR+ rules: {}",
        list.join("; ")
    )))
}

/// The pacs.028 message definition.
pub const PACS028: &str = "pacs.028.001.03";

/// Builds a pacs.028 status request (with its head.001) about the stored pacs.008 `original`:
/// a new MsgId each time, the original's MsgId, UETR, EndToEndId, InstrId and TxId. The
/// result is sent as a message of its own (the idempotency key is its MsgId, not the UETR).
pub fn status_request(
    our_bic: &Bic,
    bank: &BankConfig,
    original: &Outbound,
) -> Result<Outbound, RailError> {
    use iso20022::common::{Agent, OriginalGroupInfo};
    use iso20022::head::{AppHdr, HeaderParty};
    use iso20022::pacs002::GroupHeader;
    use iso20022::pacs028::{Pacs028, StatusRequestTransaction};
    use iso20022::types::{Bic as MxBic, IsoDateTime, Max35Text, Uetr as MxUetr};
    use iso20022::BusinessMessage;

    let text35 = |what: &str, v: &str| Max35Text::new(v).map_err(|e| bad(what, &e));
    let opt35 = |what: &str, v: &Option<String>| v.as_deref().map(|v| text35(what, v)).transpose();
    let msg_id = format!("Q{}", uuid::Uuid::new_v4().simple());
    let now = IsoDateTime::new(cbpr_date_time(time::OffsetDateTime::now_utc()))
        .map_err(|e| bad("CreDtTm", &e))?;
    // The original's creation time, read back from the stored message.
    let orgnl_cre_dt_tm = std::str::from_utf8(&original.body)
        .ok()
        .and_then(|xml| BusinessMessage::parse(xml).ok())
        .and_then(|m| m.pacs008().map(|p| p.grp_hdr.cre_dt_tm.clone()));
    let from = MxBic::new(our_bic.as_str()).map_err(|e| bad("our BIC", &e))?;
    let to = MxBic::new(bank.bic.as_str()).map_err(|e| bad("bank BIC", &e))?;
    // One transaction, so the original group is named in it (TxInf/OrgnlGrpInf), with the
    // agents, as CBPR+ lays a pacs.028 out.
    let mut tx = StatusRequestTransaction::default();
    tx.sts_req_id = Some(text35("StsReqId", &msg_id)?);
    tx.orgnl_grp_inf = Some(OriginalGroupInfo {
        orgnl_msg_id: text35("OrgnlMsgId", &original.msg_id)?,
        orgnl_msg_nm_id: text35("OrgnlMsgNmId", &original.kind)?,
        orgnl_cre_dt_tm,
    });
    tx.orgnl_instr_id = opt35("OrgnlInstrId", &original.instr_id)?;
    tx.orgnl_end_to_end_id = opt35("OrgnlEndToEndId", &original.end_to_end_id)?;
    tx.orgnl_tx_id = opt35("OrgnlTxId", &original.tx_id)?;
    tx.orgnl_uetr = original
        .uetr
        .as_deref()
        .map(|u| MxUetr::new(u).map_err(|e| bad("OrgnlUETR", &e)))
        .transpose()?;
    tx.instg_agt = Some(Agent::bic(from.clone()));
    tx.instd_agt = Some(Agent::bic(to.clone()));
    let request = Pacs028::new(GroupHeader::new(text35("MsgId", &msg_id)?, now.clone()), tx);
    let mut hdr = AppHdr::new(
        HeaderParty::bic(from),
        HeaderParty::bic(to),
        text35("BizMsgIdr", &msg_id)?,
        text35("MsgDefIdr", PACS028)?,
        now,
    );
    hdr.biz_svc = Some(text35("BizSvc", &bank.business_service)?);
    let message = BusinessMessage::new(hdr, request);
    let body = cbpr_checked(&message)?.into_bytes();
    Ok(Outbound {
        settlement_id: original.settlement_id.clone(),
        rail: original.rail,
        counterparty: original.counterparty.clone(),
        kind: PACS028.into(),
        biz_msg_idr: msg_id.clone(),
        msg_id,
        instr_id: None,
        end_to_end_id: original.end_to_end_id.clone(),
        tx_id: None,
        uetr: None,
        body,
        send_count: 0,
        stan: None,
        rrn: None,
        transmitted_at: None,
    })
}

/// Reads a bank message (an envelope or bare Document holding a pacs.002 or a pacs.004) into
/// its message definition and one report per transaction.
pub fn parse_reports(body: &[u8]) -> Result<(String, Vec<StatusReport>), AnswerError> {
    let text = std::str::from_utf8(body).map_err(|_| AnswerError("message is not UTF-8".into()))?;
    let message = iso20022::BusinessMessage::parse(text).map_err(|e| AnswerError(e.to_string()))?;
    let kind = message.document.msg_def_idr().to_string();
    let report = match &message.document {
        iso20022::Document::Pacs002(report) => report,
        iso20022::Document::Pacs004(returned) => return Ok((kind, return_reports(returned)?)),
        _ => {
            return Err(AnswerError(format!(
                "expected a pacs.002 or a pacs.004, got {kind}"
            )))
        }
    };
    let group_msg_id = report.orgnl_msg_id().map(str::to_string);
    let group = report.orgnl_grp_inf_and_sts.first();
    let mut reports = Vec::with_capacity(report.tx_inf_and_sts.len());
    for tx in &report.tx_inf_and_sts {
        let Some(status) = tx.tx_sts.as_ref() else {
            continue;
        };
        let reason = tx.sts_rsn_inf.first();
        reports.push(StatusReport {
            orgnl_msg_id: tx
                .orgnl_grp_inf
                .as_ref()
                .map(|g| g.orgnl_msg_id.as_str().to_string())
                .or_else(|| group_msg_id.clone()),
            orgnl_end_to_end_id: tx
                .orgnl_end_to_end_id
                .as_ref()
                .map(|v| v.as_str().to_string()),
            orgnl_uetr: tx.orgnl_uetr.as_ref().map(|u| u.as_str().to_string()),
            status: Reported::Status(status.clone()),
            reason_code: tx.reason_code().map(str::to_string),
            reason_text: reason.and_then(reason_text),
        });
    }
    if reports.is_empty() {
        // A group-level status (GrpSts) with no transaction detail: one transaction per
        // pacs.008 in our case, so it speaks for that transaction.
        if let (Some(group), Some(msg_id)) = (group, group_msg_id) {
            if let Some(status) = group.grp_sts.as_ref() {
                reports.push(StatusReport {
                    orgnl_msg_id: Some(msg_id),
                    orgnl_end_to_end_id: None,
                    orgnl_uetr: None,
                    status: Reported::Status(status.clone()),
                    reason_code: group
                        .sts_rsn_inf
                        .first()
                        .and_then(|r| r.reason_code())
                        .map(str::to_string),
                    reason_text: None,
                });
            }
        }
    }
    if reports.is_empty() {
        return Err(AnswerError("pacs.002 carries no transaction status".into()));
    }
    Ok((kind, reports))
}

/// One report per returned transaction of a pacs.004: matched like a pacs.002's (UETR, then
/// original MsgId + EndToEndId), with the return reason.
fn return_reports(returned: &iso20022::pacs004::Pacs004) -> Result<Vec<StatusReport>, AnswerError> {
    let group = returned.orgnl_grp_inf.as_ref();
    let reports: Vec<StatusReport> = returned
        .tx_inf
        .iter()
        .map(|tx| {
            let reason = tx
                .rtr_rsn_inf
                .first()
                .or_else(|| group.and_then(|g| g.rtr_rsn_inf.first()));
            StatusReport {
                orgnl_msg_id: tx
                    .orgnl_grp_inf
                    .as_ref()
                    .map(|g| g.orgnl_msg_id.as_str().to_string())
                    .or_else(|| group.map(|g| g.orgnl_msg_id.as_str().to_string())),
                orgnl_end_to_end_id: tx
                    .orgnl_end_to_end_id
                    .as_ref()
                    .map(|v| v.as_str().to_string()),
                orgnl_uetr: tx.orgnl_uetr.as_ref().map(|u| u.as_str().to_string()),
                status: Reported::Returned,
                reason_code: reason.and_then(|r| r.reason_code()).map(str::to_string),
                reason_text: reason.and_then(reason_text),
            }
        })
        .collect();
    if reports.is_empty() {
        return Err(AnswerError("pacs.004 returns no transaction".into()));
    }
    Ok(reports)
}

/// A status or return reason's additional lines as one text; `None` when it has none.
fn reason_text(reason: &iso20022::common::StatusReason) -> Option<String> {
    let text = reason
        .addtl_inf
        .iter()
        .map(|l| l.as_str())
        .collect::<Vec<_>>()
        .join(" ");
    (!text.is_empty()).then_some(text)
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AnswerError(pub String);

/// Rewrites free text into the characters CBPR+ accepts in names, addresses and remittance
/// (the SWIFT x set plus its extended characters): accents are dropped (`Müller` → `Muller`),
/// a few letters are spelled out (`ß` → `ss`, `Æ` → `AE`), anything else becomes `.`, as
/// SWIFT's own conversion does. The ledger's original text stays in the settlement.
pub fn to_cbpr_text(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    const EXTENDED: &str = "/-?:().,'+ !\"%&*;<>=@#{}_$";
    let mut out = String::with_capacity(text.len());
    for c in text.nfkd() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => out.push(c),
            c if EXTENDED.contains(c) => out.push(c),
            // Combining marks left by the decomposition: the accent goes, the letter stays.
            '\u{0300}'..='\u{036f}' => {}
            'ß' => out.push_str("ss"),
            'æ' => out.push_str("ae"),
            'Æ' => out.push_str("AE"),
            'œ' => out.push_str("oe"),
            'Œ' => out.push_str("OE"),
            'ø' => out.push('o'),
            'Ø' => out.push('O'),
            'ł' => out.push('l'),
            'Ł' => out.push('L'),
            'đ' | 'ð' => out.push('d'),
            'Đ' | 'Ð' => out.push('D'),
            'þ' => out.push_str("th"),
            'Þ' => out.push_str("TH"),
            c if c.is_whitespace() => out.push(' '),
            _ => out.push('.'),
        }
    }
    out
}

/// A structured address as `PostalAddress24`, its texts in the CBPR+ character set. An error
/// names the element and says why.
fn postal_address(
    address: &PostalAddress,
) -> Result<iso20022::common::PostalAddress, (&'static str, String)> {
    use iso20022::types::{CountryCode, Max16Text, Max35Text, Max70Text};
    fn text<T, E: std::fmt::Display>(
        tag: &'static str,
        value: Option<&str>,
        new: impl Fn(String) -> Result<T, E>,
    ) -> Result<Option<T>, (&'static str, String)> {
        value
            .map(|v| new(to_cbpr_text(v)).map_err(|e| (tag, e.to_string())))
            .transpose()
    }
    let part = |p: AddressPart| address.part(p);
    let mut out = iso20022::common::PostalAddress::town_country(
        Max35Text::new(to_cbpr_text(&address.town_name)).map_err(|e| ("TwnNm", e.to_string()))?,
        CountryCode::new(address.country.as_str()).map_err(|e| ("Ctry", e.to_string()))?,
    );
    out.dept = text("Dept", part(AddressPart::Department), Max70Text::new)?;
    out.sub_dept = text("SubDept", part(AddressPart::SubDepartment), Max70Text::new)?;
    out.strt_nm = text("StrtNm", part(AddressPart::StreetName), Max70Text::new)?;
    out.bldg_nb = text("BldgNb", part(AddressPart::BuildingNumber), Max16Text::new)?;
    out.bldg_nm = text("BldgNm", part(AddressPart::BuildingName), Max35Text::new)?;
    out.flr = text("Flr", part(AddressPart::Floor), Max70Text::new)?;
    out.pst_bx = text("PstBx", part(AddressPart::PostBox), Max16Text::new)?;
    out.room = text("Room", part(AddressPart::Room), Max70Text::new)?;
    out.pst_cd = text("PstCd", part(AddressPart::PostCode), Max16Text::new)?;
    out.twn_lctn_nm = text(
        "TwnLctnNm",
        part(AddressPart::TownLocationName),
        Max35Text::new,
    )?;
    out.dstrct_nm = text("DstrctNm", part(AddressPart::DistrictName), Max35Text::new)?;
    out.ctry_sub_dvsn = text(
        "CtrySubDvsn",
        part(AddressPart::CountrySubDivision),
        Max35Text::new,
    )?;
    Ok(out)
}

/// The name a party's account gets on the wire (used by the XML mapping).
fn account_id(account: &Account) -> (Option<&str>, Option<(&str, Option<&str>)>) {
    match account {
        Account::Iban(iban) => (Some(iban.as_str()), None),
        Account::Msisdn(m) => (None, Some((m.as_str(), Some("MSISDN")))),
        Account::Other { id, scheme } => (None, Some((id.as_str(), scheme.as_deref()))),
    }
}
