//! CBPR+ usage rules (SWIFT's cross-border payments and reporting plus market practice) as a
//! validator with located findings: every [`Finding`] names the element path and a stable rule
//! identifier, for logs, the `validate` command and tests.
//!
//! The base schema's constraints (lengths, patterns, enumerations) already hold by construction
//! of the typed model; what the CBPR+ schema takes away on top is [`schema`]'s; this module
//! checks what the schemas do not:
//!
//! | rule | what |
//! |---|---|
//! | `CBPR.KIND.SUPPORTED` | the Document is a kind and version this crate models; any other is reported (version found, versions read) and checked no further, never called valid |
//! | `CBPR.UETR.PRESENT` | pacs.008 / pacs.009 transactions carry a UETR (lower-case v4 by type), pacs.002 transactions an `OrgnlUETR` |
//! | `CBPR.TX.ONE` | a pacs.008 / pacs.009 holds exactly one transaction |
//! | `CBPR.TX.AGENTS` | each pacs.008, pacs.009, pacs.002, pacs.004 and pacs.028 transaction carries `InstgAgt` and `InstdAgt` (optional in the schema, mandatory in CBPR+) |
//! | `CBPR.ORGNLINSTRID.FORMAT` | `OrgnlInstrId` of a pacs.002, pacs.004 or pacs.028 transaction has no `/` at either end and no `//` |
//! | `CBPR.CCY.COMMODITY` | no settlement amount (pacs.008 / pacs.009 `IntrBkSttlmAmt`, pacs.004 `RtrdIntrBkSttlmAmt` and `OrgnlIntrBkSttlmAmt`) in XAU, XAG, XPD or XPT |
//! | `CBPR.TX.INTRBKSTTLMDT` | each pacs.008 / pacs.009 transaction carries `IntrBkSttlmDt` (likewise) |
//! | `CBPR.GRPHDR.AGENTS` | no `InstgAgt` / `InstdAgt` in the group header of a pacs.008, pacs.009, pacs.004, pacs.002 or pacs.028: CBPR+ carries them in the transaction |
//! | `CBPR.GRPHDR.ELEMENTS` | a pacs.008 / pacs.009 group header holds `MsgId`, `CreDtTm`, `NbOfTxs` and `SttlmInf` only (no `BtchBookg`, `CtrlSum`, `TtlIntrBkSttlmAmt`, `IntrBkSttlmDt`, `PmtTpInf`) |
//! | `CBPR.PSTLADR.TWN_CTRY` | every postal address (structured or hybrid) has `TwnNm` and `Ctry`; an address of `AdrLine`s alone is no longer accepted (CBPR+ November 2026) |
//! | `CBPR.INSTRID.FORMAT` | `InstrId` (and `OrgnlInstrId`) ≤ 16 characters, no leading or trailing `/`, no `//` |
//! | `CBPR.STTLM_MTD` | settlement method INDA, INGA or COVE (pacs.009: INDA or INGA; COVE only for a pacs.008) |
//! | `CBPR.CHRG_BR.CODE` | charge bearer DEBT, CRED or SHAR (not SLEV) |
//! | `CBPR.CHRG_BR.CRED` | charge bearer CRED needs at least one `ChrgsInf` |
//! | `CBPR.CHRGS_INF.INSTD_AMT` | `ChrgsInf` present needs `InstdAmt` |
//! | `CBPR.CHARSET.X` | identifiers and codes use the SWIFT x character set |
//! | `CBPR.CHARSET.EXTENDED` | names, addresses and free text use the CBPR+ extended set (the CBPR+ schemas' pattern: FIN-X plus 22 characters, no CR or LF) |
//! | `CBPR.DATETIME.OFFSET` | every date-time carries a time-zone offset (`Z` or `±hh:mm`) |
//! | `CBPR.BAH.PRESENT` | a business message has an AppHdr |
//! | `CBPR.BAH.FR` / `CBPR.BAH.TO` | AppHdr `Fr` / `To` BIC = instructing / instructed agent BIC (pacs), assigner / assignee agent BIC (camt.056, camt.029); not for a copy (`CpyDplct` COPY or CODU) |
//! | `CBPR.BAH.BIZSVC` | `BizSvc` present and the current CBPR+ service of the message family ([`business_services`]) |
//! | `CBPR.BAH.MSGDEFIDR` | `MsgDefIdr` = the Document's message definition |
//! | `CBPR.BAH.BIZMSGIDR` | `BizMsgIdr` = the Document's own identification (`GrpHdr/MsgId`; `Assgnmt/Id` of camt.056 / camt.029) |
//! | `CBPR.DATETIME.FORM` | the offset is `+hh:mm` / `-hh:mm` with hours 00 to 14 (`+00:00`, never `Z`); fractional seconds are allowed |
//! | `CBPR.PARTY.NM_PSTLADR` | a party (any element with a `PstlAdr` that is not an agent's) with a postal address has `Nm` |
//! | `CBPR.PARTY.NM_ANYBIC` | the debtor and creditor of a customer transfer (pacs.008, pacs.009 `UndrlygCstmrCdtTrf`, pacs.004 `RtrChain` and `OrgnlTxRef`) and a status or return originator (pacs.002, pacs.004) without `Id/OrgId/AnyBIC` have `Nm` |
//! | `CBPR.PARTY.ANYBIC_EXCLUSIVE` | that debtor or creditor (pacs.008, pacs.009 underlying, pacs.004 `RtrChain`) with `AnyBIC` has neither `Nm` nor `PstlAdr` |
//! | `CBPR.AGENT.NM_PSTLADR` | an agent's `FinInstnId` (pacs.008, pacs.009, pacs.004; not `InstgAgt` / `InstdAgt`) has `Nm` and `PstlAdr` together or neither |
//! | `CBPR.PSTLADR.DUPLICATE` | a structured address value (3 characters or more) is not repeated in an `AdrLine` |
//! | `CBPR.PSTLADR.HYBRID_LINES` | a hybrid address (structured elements and lines) has at most two `AdrLine`s |
//! | `CBPR.RMTINF.EXCLUSIVE` | `Ustrd` and `Strd` are not both in one `RmtInf` (pacs.008, pacs.009, pacs.004, pain.001) |
//! | `CBPR.RMTINF.STRD_SIZE` | all `Strd` of one `RmtInf` hold at most 9,000 characters of data |
//! | `CBPR.RLTDRMTINF.EXCLUSIVE` | `RltdRmtInf` and `RmtInf` are not both in a pacs.008 / pacs.009 transaction |
//! | `CBPR.INSTRFORCDTRAGT.UNIQUE` | each `InstrForCdtrAgt/Cd` once (pacs.008, pacs.009) |
//! | `CBPR.INSTRFORCDTRAGT.PAIRS` | no `HOLD` beside `CHQB`, no `TELB` beside `PHOB` (pacs.008, pacs.009, pain.001) |
//! | `CBPR.CHRGS_INF.AMOUNTS_DIFFER` | a pacs.008 whose `InstdAmt` differs from `IntrBkSttlmAmt` in the same currency has `ChrgsInf` |
//! | `CBPR.CHRG_BR.DEBT` | charge bearer DEBT allows one `ChrgsInf` (pacs.008) |
//! | `CBPR.E2EID.FORMAT` | a pacs.009 `EndToEndId`'s first 16 characters neither start nor end with `/` nor hold `//` |
//! | `CBPR.SVCLVL.GPI` | no gpi service level but G001 (`G002` to `G009`) in a pacs.008 / pacs.009 |
//! | `CBPR.STS.RJCT_REASON` / `CBPR.STS.RJCT_FCTVDT` | a rejected pacs.002 transaction has `StsRsnInf/Rsn` and no `FctvIntrBkSttlmDt` |
//! | `CBPR.ORGNLMSGNMID` | `OrgnlMsgNmId` names what a pacs.002 (pacs.008/009/004/003/010) or pacs.004 (pacs.002/008/009, camt.053/054, MT103/202/205/900/910/940/950) answers |
//! | `CBPR.RTR.ORGNLTXREF` | a pacs.004 with `OrgnlIntrBkSttlmDt` / `OrgnlIntrBkSttlmAmt` does not repeat them in `OrgnlTxRef` (and CRED needs `ChrgsInf` there too: `CBPR.CHRG_BR.CRED`) |
//! | `CBPR.PMTINFID` | a pain.001 `PmtInfId` equals `GrpHdr/MsgId` |
//! | `CBPR.NTRY.BOOKED_DATE` | a booked camt.054 entry has `BookgDt` or `ValDt` |
//! | `CBPR.CHRGS.TOTAL` / `CBPR.INTRST.TOTAL` | in camt.052 / camt.053 / camt.054 `Chrgs` and `Intrst` (entry and transaction), `TtlChrgsAndTaxAmt` / `TtlIntrstAndTaxAmt` equals the sum of the records' `Amt`, exactly (records in another currency are left alone) |
//! | `CBPR.PGNTN.PGNB` | camt.052 / camt.053 / camt.054 page numbers are 1 or more |
//! | `CBPR.INSTRID.FORMAT` (reports) | camt.052 / camt.053 / camt.054 `Refs/InstrId` has no `/` at either end and no `//` |
//! | `CBPR.CXLID.FORMAT` / `CBPR.CASEID.FORMAT` | a camt.056 `CxlId` and `Case/Id` have no `/` at either end and no `//` |
//! | `CBPR.RSN.NARR_ADDTLINF` | a camt.056 cancellation reason `NARR` has `AddtlInf` |
//! | `CBPR.BAH.PRTY` | AppHdr `Prty` = the transaction's `PmtTpInf/InstrPrty` (pacs.008, pacs.009), where both are present |
//! | `CBPR.BAH.CPYDPLCT` | AppHdr `CpyDplct` = the report's `CpyDplctInd` (camt.052 / camt.053 / camt.054), where both are present |
//! | `CBPR.STP.*` | a pacs.008 whose header names `swift.cbprplus.stp.03`: agents by BIC and without name or address, the creditor's account given, no instructions to agents, and the guideline's domestic rule (names and IBANs between agents of its IBAN countries or of one country couple): see `cbpr/stp.rs` |
//! | `CBPR.SCHEMA.ELEMENT` / `.MISSING` / `.OCCURS` / `.LENGTH` / `.PATTERN` / `.CODE` | the CBPR+ schema's restrictions over the base schema, for the kinds [`schema::covered`] lists (a pacs.008 whose header names `swift.cbprplus.stp.03` under the STP table): see [`schema`] |
//! | `ISO9362.BIC` | a BIC's country code is an ISO 3166 country |
//! | `ISO13616.IBAN` | an IBAN's country is an ISO 3166 country and its check digits are right |
//! | `ISO17442.LEI` | an LEI's check digits are right |
//! | `ISO3166.COUNTRY` | country codes are ISO 3166-1 alpha-2 codes |
//! | `ISO4217.ACTIVE` | interbank settlement amounts are in active ISO 4217 currencies (historic codes are read only where the schema allows them) |
//!
//! The rules on which elements stand together (parties, addresses, remittance, instruction
//! codes, status, reports, and the header against the Document's elements) are read off the
//! rendered element tree, in `cbpr/elements.rs`; the others from the typed message here.
//!
//! The SWIFT x set is `a-z A-Z 0-9 / - ? : ( ) . , ' +`, space, CR and LF. The extended set is
//! the CBPR+ schemas' pattern (`CBPR_RestrictedFINXMax140Text_Extended` and its kin):
//! `a-z A-Z 0-9 / - ? : ( ) . , ' +` and space, plus ``! # $ % & * = ^ _ ` { | } ~ " ; < > @ [ \ ]``,
//! and no CR or LF; it is accepted in names (`Nm`), postal address lines and parts, remittance
//! (`Ustrd`), and additional / instruction information.

use std::fmt;

use crate::common::Agent;
use crate::head::AppHdr;
use crate::message::{BusinessMessage, Document};
use crate::types::{ChargeBearer, CopyDuplicate, SettlementMethod};
use crate::xml::reader::{NodeId, Tree};
use crate::Limits;

mod elements;
pub mod schema;
mod stp;

/// One broken rule, located.
#[derive(Debug, Clone, serde::Serialize, PartialEq, Eq)]
pub struct Finding {
    /// Element path, e.g. `/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/PmtId/InstrId`.
    pub path: String,
    /// Stable rule identifier, e.g. `CBPR.INSTRID.FORMAT`.
    pub rule: &'static str,
    /// What is wrong, for a person.
    pub message: String,
}

/// Every rule identifier [`validate`] reports.
pub const RULES: &[&str] = &[
    "CBPR.AGENT.NM_PSTLADR",
    "CBPR.BAH.BIZMSGIDR",
    "CBPR.BAH.BIZSVC",
    "CBPR.BAH.CPYDPLCT",
    "CBPR.BAH.FR",
    "CBPR.BAH.MSGDEFIDR",
    "CBPR.BAH.PRESENT",
    "CBPR.BAH.PRTY",
    "CBPR.BAH.TO",
    "CBPR.CASEID.FORMAT",
    "CBPR.CCY.COMMODITY",
    "CBPR.CHARSET.EXTENDED",
    "CBPR.CHARSET.X",
    "CBPR.CHRGS.TOTAL",
    "CBPR.CHRGS_INF.AMOUNTS_DIFFER",
    "CBPR.CHRGS_INF.INSTD_AMT",
    "CBPR.CHRG_BR.CODE",
    "CBPR.CHRG_BR.CRED",
    "CBPR.CHRG_BR.DEBT",
    "CBPR.CXLID.FORMAT",
    "CBPR.DATETIME.FORM",
    "CBPR.DATETIME.OFFSET",
    "CBPR.E2EID.FORMAT",
    "CBPR.GRPHDR.AGENTS",
    "CBPR.GRPHDR.ELEMENTS",
    "CBPR.INSTRFORCDTRAGT.PAIRS",
    "CBPR.INSTRFORCDTRAGT.UNIQUE",
    "CBPR.INSTRID.FORMAT",
    "CBPR.INTRST.TOTAL",
    "CBPR.KIND.SUPPORTED",
    "CBPR.NTRY.BOOKED_DATE",
    "CBPR.ORGNLINSTRID.FORMAT",
    "CBPR.ORGNLMSGNMID",
    "CBPR.PARTY.ANYBIC_EXCLUSIVE",
    "CBPR.PARTY.NM_ANYBIC",
    "CBPR.PARTY.NM_PSTLADR",
    "CBPR.PGNTN.PGNB",
    "CBPR.PMTINFID",
    "CBPR.PSTLADR.DUPLICATE",
    "CBPR.PSTLADR.HYBRID_LINES",
    "CBPR.PSTLADR.TWN_CTRY",
    "CBPR.RLTDRMTINF.EXCLUSIVE",
    "CBPR.RMTINF.EXCLUSIVE",
    "CBPR.RMTINF.STRD_SIZE",
    "CBPR.RSN.NARR_ADDTLINF",
    "CBPR.RTR.ORGNLTXREF",
    "CBPR.SCHEMA.CODE",
    "CBPR.SCHEMA.ELEMENT",
    "CBPR.SCHEMA.LENGTH",
    "CBPR.SCHEMA.MISSING",
    "CBPR.SCHEMA.OCCURS",
    "CBPR.SCHEMA.PATTERN",
    "CBPR.STP.AGENT_BIC",
    "CBPR.STP.AGENT_NM_PSTLADR",
    "CBPR.STP.CDTRACCT",
    "CBPR.STP.DBTR_CDTR_IBAN",
    "CBPR.STP.INSTR",
    "CBPR.STS.RJCT_FCTVDT",
    "CBPR.STS.RJCT_REASON",
    "CBPR.STTLM_MTD",
    "CBPR.SVCLVL.GPI",
    "CBPR.TX.AGENTS",
    "CBPR.TX.INTRBKSTTLMDT",
    "CBPR.TX.ONE",
    "CBPR.UETR.PRESENT",
];

/// The CBPR+ business services (`AppHdr/BizSvc`) of the current release, per message family.
///
/// The business services (`BizSvc`) a pacs.008 may name under the current CBPR+ release.
pub const PACS008_BUSINESS_SERVICES: &[&str] = &["swift.cbprplus.03", "swift.cbprplus.stp.03"];

/// The SR2025 usage guidelines name `swift.cbprplus.03` for pacs.008, pacs.009, pacs.002,
/// pacs.004, camt.052, camt.054 and pain.001; their variants have their own: STP pacs.008
/// `swift.cbprplus.stp.03`, cover pacs.009 (one with `UndrlygCstmrCdtTrf`)
/// `swift.cbprplus.cov.03`, advice pacs.009 `swift.cbprplus.adv.03`. Every other family the
/// crate models takes `swift.cbprplus.03` too.
pub fn business_services(doc: &Document) -> &'static [&'static str] {
    match doc {
        Document::Pacs008(_) => PACS008_BUSINESS_SERVICES,
        Document::Pacs009(m) if m.is_cover() => &["swift.cbprplus.cov.03"],
        Document::Pacs009(_) => &["swift.cbprplus.03", "swift.cbprplus.adv.03"],
        _ => &["swift.cbprplus.03"],
    }
}

/// JSON in: the shape written; `rule` must be one of [`RULES`].
impl<'de> serde::Deserialize<'de> for Finding {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Json {
            path: String,
            rule: String,
            message: String,
        }
        let json = Json::deserialize(deserializer)?;
        let rule = RULES.iter().find(|r| **r == json.rule).ok_or_else(|| {
            serde::de::Error::custom(format!("rule: unknown rule id {:?}", json.rule))
        })?;
        Ok(Finding {
            path: json.path,
            rule,
            message: json.message,
        })
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} [{}] {}", self.path, self.rule, self.message)
    }
}

struct Findings(Vec<Finding>);

impl Findings {
    fn add(&mut self, path: impl Into<String>, rule: &'static str, message: impl Into<String>) {
        self.0.push(Finding {
            path: path.into(),
            rule,
            message: message.into(),
        });
    }
}

/// Validates a business message: the AppHdr rules, then the Document's.
pub fn validate(msg: &BusinessMessage) -> Vec<Finding> {
    findings(msg, None, None)
}

/// The message rendered, exactly as [`BusinessMessage::render`] gives it, and its findings,
/// exactly as [`validate`] gives them: the rules read the header and the document as rendered,
/// so here each is rendered once and serves both, where rendering, then validating, would
/// render them twice.
pub fn render_and_validate(msg: &BusinessMessage) -> (String, Vec<Finding>) {
    let header = msg.app_hdr.as_ref().map(AppHdr::render);
    let document = msg.document.render();
    let findings = findings(msg, header.as_deref(), Some(&document));
    let xml = crate::message::envelope(header.as_deref(), &document);
    (xml, findings)
}

/// [`validate`], given the header and the document as rendered alone where the caller has
/// them (each rendered here when needed and not given).
fn findings(msg: &BusinessMessage, header: Option<&str>, document: Option<&str>) -> Vec<Finding> {
    let mut f = Findings(Vec::new());
    match &msg.app_hdr {
        Some(hdr) => {
            header_rules(&mut f, hdr, &msg.document);
            let own = header.is_none().then(|| hdr.render());
            if let Some(tree) = header.or(own.as_deref()).and_then(rendered_tree) {
                walk_tree(&mut f, &tree, "head.001");
                let restrictions = schema::check_header(&tree, &msg.document);
                let restrictions = schema::without_overlaps(restrictions, &f.0);
                f.0.extend(restrictions);
            }
        }
        None => f.add(
            "/AppHdr",
            "CBPR.BAH.PRESENT",
            "a CBPR+ business message has an AppHdr",
        ),
    }
    f.0.extend(document_findings(
        &msg.document,
        msg.app_hdr.as_ref(),
        document,
    ));
    f.0
}

/// Validates a Document alone (no AppHdr rules).
pub fn validate_document(doc: &Document) -> Vec<Finding> {
    document_findings(doc, None, None)
}

/// The Document's findings, and those of the AppHdr rules that compare `hdr` with the
/// Document's elements; `rendered` is the document as [`Document::render`] gives it, when the
/// caller has it already.
fn document_findings(doc: &Document, hdr: Option<&AppHdr>, rendered: Option<&str>) -> Vec<Finding> {
    let mut f = Findings(Vec::new());
    if let Some(why) = doc.unsupported() {
        // Nothing this crate does not model is ever called valid.
        f.add("/Document", "CBPR.KIND.SUPPORTED", why);
        return f.0;
    }
    document_rules(&mut f, doc);
    if !matches!(doc, Document::Unknown { .. }) {
        let own = rendered.is_none().then(|| doc.render());
        if let Some(tree) = rendered.or(own.as_deref()).and_then(rendered_tree) {
            if let Some(hdr) = hdr {
                elements::header_against_document(
                    &mut f,
                    hdr.prty.as_ref().map(|p| p.as_str()),
                    hdr.cpy_dplct.map(|c| c.code()),
                    &tree,
                );
            }
            walk_tree(&mut f, &tree, family(doc));
            if matches!(doc, Document::Pacs008(_)) && hdr.is_some_and(is_stp) {
                stp::rules(&mut f, &tree);
            }
            // After every textual rule (the STP ones too), so that a fault one of them reports
            // is not reported again by the schema table.
            let restrictions = schema::check(&tree, doc, hdr);
            let restrictions = schema::without_overlaps(restrictions, &f.0);
            f.0.extend(restrictions);
        }
    }
    f.0
}

/// Whether the header names the STP variant of the pacs.008 (see [`stp`]).
fn is_stp(hdr: &AppHdr) -> bool {
    hdr.biz_svc.as_ref().map(|s| s.as_str()) == Some(stp::BUSINESS_SERVICE)
}

fn root_path(doc: &Document) -> String {
    let root = match doc {
        Document::Pacs008(_) => crate::pacs008::ROOT,
        Document::Pacs009(_) => crate::pacs009::ROOT,
        Document::Pacs004(_) => crate::pacs004::ROOT,
        Document::Pacs002(_) => crate::pacs002::ROOT,
        Document::Pacs028(_) => crate::pacs028::ROOT,
        _ => "",
    };
    format!("/Document/{root}")
}

/// CBPR.TX.ONE: a pacs.008 or pacs.009 carries exactly one transaction.
fn one_transaction(f: &mut Findings, root: &str, count: usize) {
    if count != 1 {
        f.add(
            format!("{root}/GrpHdr/NbOfTxs"),
            "CBPR.TX.ONE",
            format!("{count} transactions; CBPR+ allows exactly one"),
        );
    }
}

// Long on purpose: one arm per message kind listing its rules; the rules are small functions.
fn document_rules(f: &mut Findings, doc: &Document) {
    let root = root_path(doc);
    match doc {
        Document::Pacs008(m) => {
            one_transaction(f, &root, m.cdt_trf_tx_inf.len());
            settlement_method(f, &root, m.grp_hdr.sttlm_inf.sttlm_mtd, true);
            group_header(f, &root, &m.grp_hdr);
            for (i, tx) in m.cdt_trf_tx_inf.iter().enumerate() {
                let tx_path = indexed(&root, "CdtTrfTxInf", i, m.cdt_trf_tx_inf.len());
                transfer_rules(
                    f,
                    &tx_path,
                    &tx.pmt_id,
                    [tx.instg_agt.is_some(), tx.instd_agt.is_some()],
                    tx.intr_bk_sttlm_dt.is_some(),
                    &tx.intr_bk_sttlm_amt,
                );
                charges(
                    f,
                    &tx_path,
                    tx.chrg_br,
                    tx.chrgs_inf.len(),
                    tx.instd_amt.is_some(),
                );
                prepaid_charges(
                    f,
                    &tx_path,
                    tx.instd_amt.as_ref(),
                    &tx.intr_bk_sttlm_amt,
                    !tx.chrgs_inf.is_empty(),
                );
            }
        }
        Document::Pacs009(m) => {
            one_transaction(f, &root, m.cdt_trf_tx_inf.len());
            settlement_method(f, &root, m.grp_hdr.sttlm_inf.sttlm_mtd, false);
            group_header(f, &root, &m.grp_hdr);
            for (i, tx) in m.cdt_trf_tx_inf.iter().enumerate() {
                let tx_path = indexed(&root, "CdtTrfTxInf", i, m.cdt_trf_tx_inf.len());
                transfer_rules(
                    f,
                    &tx_path,
                    &tx.pmt_id,
                    [tx.instg_agt.is_some(), tx.instd_agt.is_some()],
                    tx.intr_bk_sttlm_dt.is_some(),
                    &tx.intr_bk_sttlm_amt,
                );
            }
        }
        Document::Pacs004(m) => answer_rules(
            f,
            &root,
            [m.grp_hdr.instg_agt.is_some(), m.grp_hdr.instd_agt.is_some()],
            "TxInf",
            &m.tx_inf,
            |tx| {
                (
                    tx.instg_agt.is_some(),
                    tx.instd_agt.is_some(),
                    tx.orgnl_instr_id.as_ref().map(|s| s.as_str()),
                )
            },
            |f, tx_path, tx| {
                for (tag, amount) in [
                    ("RtrdIntrBkSttlmAmt", Some(&tx.rtrd_intr_bk_sttlm_amt)),
                    ("OrgnlIntrBkSttlmAmt", tx.orgnl_intr_bk_sttlm_amt.as_ref()),
                ] {
                    if let Some(amount) = amount {
                        not_a_commodity(f, &format!("{tx_path}/{tag}"), amount);
                    }
                }
            },
        ),
        Document::Pacs002(m) => answer_rules(
            f,
            &root,
            [m.grp_hdr.instg_agt.is_some(), m.grp_hdr.instd_agt.is_some()],
            "TxInfAndSts",
            &m.tx_inf_and_sts,
            |tx| {
                (
                    tx.instg_agt.is_some(),
                    tx.instd_agt.is_some(),
                    tx.orgnl_instr_id.as_ref().map(|s| s.as_str()),
                )
            },
            |f, tx_path, tx| {
                if tx.orgnl_uetr.is_none() {
                    f.add(
                        format!("{tx_path}/OrgnlUETR"),
                        "CBPR.UETR.PRESENT",
                        "OrgnlUETR is mandatory in a CBPR+ status report",
                    );
                }
            },
        ),
        Document::Pacs028(m) => answer_rules(
            f,
            &root,
            [m.grp_hdr.instg_agt.is_some(), m.grp_hdr.instd_agt.is_some()],
            "TxInf",
            &m.tx_inf,
            |tx| {
                (
                    tx.instg_agt.is_some(),
                    tx.instd_agt.is_some(),
                    tx.orgnl_instr_id.as_ref().map(|s| s.as_str()),
                )
            },
            |_, _, _| {},
        ),
        _ => {}
    }
}

/// The rules every pacs.008 / pacs.009 transaction is held to: its payment identification,
/// its mandatory agents and settlement date, and a settlement amount that is no commodity.
fn transfer_rules(
    f: &mut Findings,
    tx_path: &str,
    pmt_id: &crate::pacs008::PaymentId,
    agents: [bool; 2],
    has_date: bool,
    amount: &crate::Amount,
) {
    payment_id(
        f,
        tx_path,
        pmt_id.uetr.is_some(),
        pmt_id.instr_id.as_ref().map(|s| s.as_str()),
    );
    transaction_musts(f, tx_path, agents, has_date);
    not_a_commodity(f, &format!("{tx_path}/IntrBkSttlmAmt"), amount);
}

/// The rules of a pacs.002, pacs.004 or pacs.028: no agents in the group header, and each
/// transaction (`tag`) with its agents and `OrgnlInstrId` form ([`answer_transaction`]), then
/// what the family adds (`more`), transaction by transaction.
fn answer_rules<T>(
    f: &mut Findings,
    root: &str,
    group: [bool; 2],
    tag: &str,
    txs: &[T],
    view: impl Fn(&T) -> (bool, bool, Option<&str>),
    mut more: impl FnMut(&mut Findings, &str, &T),
) {
    group_agents(f, root, group);
    for (i, tx) in txs.iter().enumerate() {
        let tx_path = indexed(root, tag, i, txs.len());
        let (instg, instd, orgnl_instr_id) = view(tx);
        answer_transaction(f, &tx_path, [instg, instd], orgnl_instr_id);
        more(f, &tx_path, tx);
    }
}

/// A pacs.002, pacs.004 or pacs.028 transaction: CBPR+ makes its agents mandatory
/// (CBPR.TX.AGENTS) and holds `OrgnlInstrId` to the InstrId form without the length, which
/// the original already had (CBPR.ORGNLINSTRID.FORMAT).
fn answer_transaction(
    f: &mut Findings,
    tx_path: &str,
    agents: [bool; 2],
    orgnl_instr_id: Option<&str>,
) {
    for (present, tag) in agents.into_iter().zip(AGENT_TAGS) {
        if !present {
            f.add(
                format!("{tx_path}/{tag}"),
                "CBPR.TX.AGENTS",
                format!("{tag} is mandatory in a CBPR+ transaction"),
            );
        }
    }
    if let Some(id) = orgnl_instr_id {
        if let Some(problem) = slash_problem(id) {
            f.add(
                format!("{tx_path}/OrgnlInstrId"),
                "CBPR.ORGNLINSTRID.FORMAT",
                problem,
            );
        }
    }
}

/// CBPR.CCY.COMMODITY: XAU, XAG, XPD and XPT are commodities, not currencies a CBPR+
/// settlement amount may be in.
fn not_a_commodity(f: &mut Findings, path: &str, amount: &crate::Amount) {
    let code = amount.currency().alpha;
    if COMMODITIES.contains(&code) {
        f.add(
            path,
            "CBPR.CCY.COMMODITY",
            format!("{code} is a commodity; CBPR+ settles no XAU, XAG, XPD or XPT amount"),
        );
    }
}

const COMMODITIES: [&str; 4] = ["XAU", "XAG", "XPD", "XPT"];

const AGENT_TAGS: [&str; 2] = ["InstgAgt", "InstdAgt"];

/// CBPR.GRPHDR.AGENTS: CBPR+ carries the instructing and instructed agents in each
/// transaction, never in the group header.
fn group_agents(f: &mut Findings, root: &str, present: [bool; 2]) {
    for (tag, present) in AGENT_TAGS.into_iter().zip(present) {
        if present {
            f.add(
                format!("{root}/GrpHdr/{tag}"),
                "CBPR.GRPHDR.AGENTS",
                format!("{tag} belongs in the transaction under CBPR+, not in the group header"),
            );
        }
    }
}

/// The pacs.008 / pacs.009 group header: CBPR+ keeps MsgId, CreDtTm, NbOfTxs and SttlmInf.
fn group_header(f: &mut Findings, root: &str, h: &crate::pacs008::GroupHeader) {
    group_agents(f, root, [h.instg_agt.is_some(), h.instd_agt.is_some()]);
    let extras = [
        ("BtchBookg", h.btch_bookg.is_some()),
        ("CtrlSum", h.ctrl_sum.is_some()),
        ("TtlIntrBkSttlmAmt", h.ttl_intr_bk_sttlm_amt.is_some()),
        ("IntrBkSttlmDt", h.intr_bk_sttlm_dt.is_some()),
        ("PmtTpInf", h.pmt_tp_inf.is_some()),
    ];
    for (tag, _) in extras.into_iter().filter(|(_, present)| *present) {
        f.add(
            format!("{root}/GrpHdr/{tag}"),
            "CBPR.GRPHDR.ELEMENTS",
            format!(
                "{tag} is not in a CBPR+ group header (MsgId, CreDtTm, NbOfTxs, SttlmInf only)"
            ),
        );
    }
}

/// What a CBPR+ pacs.008 / pacs.009 transaction must carry though the schema makes it
/// optional: both agents and the interbank settlement date.
fn transaction_musts(f: &mut Findings, tx_path: &str, agents: [bool; 2], has_date: bool) {
    for (tag, present) in AGENT_TAGS.into_iter().zip(agents) {
        if !present {
            f.add(
                format!("{tx_path}/{tag}"),
                "CBPR.TX.AGENTS",
                format!("{tag} is mandatory in a CBPR+ transaction"),
            );
        }
    }
    if !has_date {
        f.add(
            format!("{tx_path}/IntrBkSttlmDt"),
            "CBPR.TX.INTRBKSTTLMDT",
            "IntrBkSttlmDt is mandatory in a CBPR+ transaction",
        );
    }
}

fn indexed(parent: &str, name: &str, i: usize, count: usize) -> String {
    if count > 1 {
        format!("{parent}/{name}[{}]", i + 1)
    } else {
        format!("{parent}/{name}")
    }
}

fn settlement_method(f: &mut Findings, root: &str, mtd: SettlementMethod, cover_allowed: bool) {
    let ok = match mtd {
        SettlementMethod::Inda | SettlementMethod::Inga => true,
        SettlementMethod::Cove => cover_allowed,
        SettlementMethod::Clrg => false,
    };
    if !ok {
        let allowed = if cover_allowed {
            "INDA, INGA or COVE"
        } else {
            "INDA or INGA"
        };
        f.add(
            format!("{root}/GrpHdr/SttlmInf/SttlmMtd"),
            "CBPR.STTLM_MTD",
            format!("{} not allowed; expected {allowed}", mtd.code()),
        );
    }
}

fn payment_id(f: &mut Findings, tx_path: &str, has_uetr: bool, instr_id: Option<&str>) {
    if !has_uetr {
        f.add(
            format!("{tx_path}/PmtId/UETR"),
            "CBPR.UETR.PRESENT",
            "UETR is mandatory",
        );
    }
    if let Some(id) = instr_id {
        if let Some(problem) = instr_id_problem(id) {
            f.add(
                format!("{tx_path}/PmtId/InstrId"),
                "CBPR.INSTRID.FORMAT",
                problem,
            );
        }
    }
}

/// The CBPR+ InstrId constraints (it travels on into MT field 20).
fn instr_id_problem(id: &str) -> Option<String> {
    let chars = id.chars().count();
    if chars > 16 {
        return Some(format!("{chars} characters; at most 16"));
    }
    slash_problem(id)
}

/// No `/` at either end and no `//` (an MT reference's form).
fn slash_problem(id: &str) -> Option<String> {
    if id.starts_with('/') || id.ends_with('/') {
        return Some("must not start or end with '/'".into());
    }
    if id.contains("//") {
        return Some("must not contain '//'".into());
    }
    None
}

fn charges(
    f: &mut Findings,
    tx_path: &str,
    chrg_br: ChargeBearer,
    charges_count: usize,
    has_instd_amt: bool,
) {
    let has_charges = charges_count > 0;
    if chrg_br == ChargeBearer::Debt && charges_count > 1 {
        f.add(
            format!("{tx_path}/ChrgsInf[2]"),
            "CBPR.CHRG_BR.DEBT",
            format!("{charges_count} ChrgsInf; charge bearer DEBT allows one"),
        );
    }
    if chrg_br == ChargeBearer::Slev {
        f.add(
            format!("{tx_path}/ChrgBr"),
            "CBPR.CHRG_BR.CODE",
            "SLEV not allowed; expected DEBT, CRED or SHAR",
        );
    }
    if chrg_br == ChargeBearer::Cred && !has_charges {
        f.add(
            format!("{tx_path}/ChrgsInf"),
            "CBPR.CHRG_BR.CRED",
            "charge bearer CRED needs at least one ChrgsInf",
        );
    }
    if has_charges && !has_instd_amt {
        f.add(
            format!("{tx_path}/InstdAmt"),
            "CBPR.CHRGS_INF.INSTD_AMT",
            "InstdAmt is required when ChrgsInf is present",
        );
    }
}

/// CBPR.CHRGS_INF.AMOUNTS_DIFFER (pacs.008): an instructed amount that differs from the
/// settlement amount in the same currency was reduced by charges, which `ChrgsInf` then states.
fn prepaid_charges(
    f: &mut Findings,
    tx_path: &str,
    instd_amt: Option<&crate::Amount>,
    settled: &crate::Amount,
    has_charges: bool,
) {
    let Some(instructed) = instd_amt else {
        return;
    };
    let same_currency = instructed.currency().alpha == settled.currency().alpha;
    if same_currency && instructed.minor() != settled.minor() && !has_charges {
        f.add(
            format!("{tx_path}/ChrgsInf"),
            "CBPR.CHRGS_INF.AMOUNTS_DIFFER",
            format!(
                "InstdAmt {} differs from IntrBkSttlmAmt {} in the same currency; ChrgsInf says why",
                instructed.to_decimal_string(),
                settled.to_decimal_string()
            ),
        );
    }
}

/// The instructing and instructed agents: the group header's (where a message outside CBPR+
/// puts them), else the first transaction's.
fn agents(doc: &Document) -> (Option<&Agent>, Option<&Agent>) {
    fn pair<'a>(instg: &'a Option<Agent>, instd: &'a Option<Agent>) -> [Option<&'a Agent>; 2] {
        [instg.as_ref(), instd.as_ref()]
    }
    let (group, tx) = match doc {
        Document::Pacs008(m) => (
            pair(&m.grp_hdr.instg_agt, &m.grp_hdr.instd_agt),
            m.cdt_trf_tx_inf
                .first()
                .map(|t| pair(&t.instg_agt, &t.instd_agt)),
        ),
        Document::Pacs009(m) => (
            pair(&m.grp_hdr.instg_agt, &m.grp_hdr.instd_agt),
            m.cdt_trf_tx_inf
                .first()
                .map(|t| pair(&t.instg_agt, &t.instd_agt)),
        ),
        Document::Pacs002(m) => (
            pair(&m.grp_hdr.instg_agt, &m.grp_hdr.instd_agt),
            m.tx_inf_and_sts
                .first()
                .map(|t| pair(&t.instg_agt, &t.instd_agt)),
        ),
        Document::Pacs028(m) => (
            pair(&m.grp_hdr.instg_agt, &m.grp_hdr.instd_agt),
            m.tx_inf.first().map(|t| pair(&t.instg_agt, &t.instd_agt)),
        ),
        Document::Pacs004(m) => (
            pair(&m.grp_hdr.instg_agt, &m.grp_hdr.instd_agt),
            m.tx_inf.first().map(|t| pair(&t.instg_agt, &t.instd_agt)),
        ),
        Document::Camt056(m) => return assignment_agents(&m.assgnmt),
        Document::Camt029(m) => return assignment_agents(&m.assgnmt),
        _ => return (None, None),
    };
    let pick = |i: usize| group[i].or(tx.and_then(|t| t[i]));
    (pick(0), pick(1))
}

/// The assigner and the assignee of a camt.056 / camt.029, when they are agents: the
/// sender and the receiver of the case message.
fn assignment_agents(a: &crate::common::CaseAssignment) -> (Option<&Agent>, Option<&Agent>) {
    (agent_of(&a.assgnr), agent_of(&a.assgne))
}

fn agent_of(p: &crate::common::PartyOrAgent) -> Option<&Agent> {
    match p {
        crate::common::PartyOrAgent::Agt(agent) => Some(agent),
        crate::common::PartyOrAgent::Pty(_) => None,
    }
}

/// BIC equality ignoring the default branch code (`BANKDEFF` = `BANKDEFFXXX`).
fn same_bic(a: &str, b: &str) -> bool {
    let norm = |s: &str| {
        if s.len() == 11 && s.ends_with("XXX") {
            s[..8].to_owned()
        } else {
            s.to_owned()
        }
    };
    norm(a) == norm(b)
}

/// The AppHdr rules, in the order the README's rule table lists them.
// Long on purpose: the AppHdr rules one after another, each a few lines with its rule id.
fn header_rules(f: &mut Findings, hdr: &AppHdr, doc: &Document) {
    let services = business_services(doc);
    match &hdr.biz_svc {
        None => f.add(
            "/AppHdr/BizSvc",
            "CBPR.BAH.BIZSVC",
            format!("BizSvc is required ({})", services.join(" or ")),
        ),
        Some(s) if !services.contains(&s.as_str()) => f.add(
            "/AppHdr/BizSvc",
            "CBPR.BAH.BIZSVC",
            format!(
                "{:?} is not the current CBPR+ service of a {}; expected {}",
                s.as_str(),
                family(doc),
                services.join(" or ")
            ),
        ),
        Some(_) => {}
    }
    if let Some(msg_id) = doc.msg_id() {
        if hdr.biz_msg_idr.as_str() != msg_id {
            f.add(
                "/AppHdr/BizMsgIdr",
                "CBPR.BAH.BIZMSGIDR",
                format!(
                    "{:?} differs from the Document's message identification {msg_id:?}",
                    hdr.biz_msg_idr.as_str()
                ),
            );
        }
    }
    if hdr.msg_def_idr.as_str() != doc.msg_def_idr() {
        f.add(
            "/AppHdr/MsgDefIdr",
            "CBPR.BAH.MSGDEFIDR",
            format!(
                "{:?} does not match the Document ({})",
                hdr.msg_def_idr.as_str(),
                doc.msg_def_idr()
            ),
        );
    }
    // A copy (COPY, CODU) goes to a third party: its From and To are not the agents'.
    if matches!(
        hdr.cpy_dplct,
        Some(CopyDuplicate::Copy | CopyDuplicate::Codu)
    ) {
        return;
    }
    let (instg, instd) = agents(doc);
    let pairs = [
        (
            "/AppHdr/Fr/FIId/FinInstnId/BICFI",
            "CBPR.BAH.FR",
            hdr.fr.bicfi(),
            instg,
            "instructing",
        ),
        (
            "/AppHdr/To/FIId/FinInstnId/BICFI",
            "CBPR.BAH.TO",
            hdr.to.bicfi(),
            instd,
            "instructed",
        ),
    ];
    for (path, rule, header_bic, agent, role) in pairs {
        let Some(agent_bic) = agent.and_then(|a| a.bicfi()) else {
            continue;
        };
        match header_bic {
            Some(b) if same_bic(b.as_str(), agent_bic.as_str()) => {}
            Some(b) => f.add(
                path,
                rule,
                format!(
                    "{} differs from the {role} agent {}",
                    b.as_str(),
                    agent_bic.as_str()
                ),
            ),
            None => f.add(
                path,
                rule,
                format!("no BIC; the {role} agent is {}", agent_bic.as_str()),
            ),
        }
    }
}

/// The message family (`pacs.008`) of a document, for messages.
fn family(doc: &Document) -> &str {
    let id = doc.msg_def_idr();
    id.get(..8).unwrap_or(id)
}

/// Identifier-like elements: SWIFT x set only.
const X_SET_ELEMENTS: &[&str] = &[
    "MsgId",
    "InstrId",
    "EndToEndId",
    "TxId",
    "ClrSysRef",
    "BizMsgIdr",
    "MsgDefIdr",
    "BizSvc",
    "OrgnlMsgId",
    "OrgnlMsgNmId",
    "OrgnlInstrId",
    "OrgnlEndToEndId",
    "OrgnlTxId",
    "StsId",
    "RtrId",
    "CxlId",
    "StsReqId",
    "AcctSvcrRef",
    "NtryRef",
    "PmtInfId",
    "OrgnlPmtInfId",
    "MmbId",
];

/// Free-text elements where the extended character set is accepted.
const EXTENDED_ELEMENTS: &[&str] = &[
    "Nm",
    "StrtNm",
    "BldgNb",
    "BldgNm",
    "Flr",
    "PstBx",
    "Room",
    "PstCd",
    "TwnNm",
    "TwnLctnNm",
    "DstrctNm",
    "CtrySubDvsn",
    "AdrLine",
    "Dept",
    "SubDept",
    "Ustrd",
    "AddtlInf",
    "InstrInf",
    "AddtlNtryInf",
    "AddtlTxInf",
    "AddtlStmtInf",
    "AddtlRptInf",
    "AddtlNtfctnInf",
    "PlcAndNm",
    "CityOfBirth",
    "PrvcOfBirth",
    "InstrForDbtrAgt",
];

const DATE_TIME_ELEMENTS: &[&str] = &[
    "CreDtTm",
    "CreDt",
    "BizPrcgDt",
    "AccptncDtTm",
    "OrgnlCreDtTm",
    "DtTm",
    "FrDtTm",
    "ToDtTm",
];

/// Amounts whose currency must be active (`ActiveCurrencyAndAmount`).
const ACTIVE_AMOUNT_ELEMENTS: &[&str] = &[
    "IntrBkSttlmAmt",
    "TtlIntrBkSttlmAmt",
    "RtrdIntrBkSttlmAmt",
    "TtlRtrdIntrBkSttlmAmt",
];

fn in_x_set(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            '/' | '-' | '?' | ':' | '(' | ')' | '.' | ',' | '\'' | '+' | ' ' | '\r' | '\n'
        )
}

/// The element tree of what this crate rendered (always well-formed; `None` only if the
/// rendering were broken, which the round-trip tests rule out).
fn rendered_tree(xml: &str) -> Option<Tree<'_>> {
    let limits = Limits {
        message_bytes_max: usize::MAX,
        ..Limits::default()
    };
    Tree::parse(xml, &limits).ok()
}

/// Walks every element of a rendered tree and applies the per-element rules.
fn walk_tree(f: &mut Findings, tree: &Tree<'_>, family: &str) {
    for &root in &tree.roots {
        walk(f, tree, root, family);
    }
}

/// One visit per element applying every per-element rule in turn (address, character set,
/// date-time form, identifier formats, currency), each a short guarded block.
// Long on purpose: split into helpers, each would re-derive the element's name, path and text.
fn walk(f: &mut Findings, tree: &Tree<'_>, id: NodeId, family: &str) {
    let node = tree.node(id);
    let name = node.name;
    if name == "SplmtryData" || name == "Envlp" {
        return; // free-form, not CBPR+ text
    }
    let mut children = tree.children(id).peekable();
    if children.peek().is_some() {
        if elements::is_postal_address(tree, id) {
            postal_address(f, tree, id);
        }
        elements::element_rules(f, tree, id, family);
        for c in children {
            walk(f, tree, c, family);
        }
        return;
    }
    if name == "PgNb" && family.starts_with("camt.05") {
        elements::page_number(f, tree, id);
    }
    let text = tree.text(id);
    if X_SET_ELEMENTS.contains(&name) || name == "Cd" || name == "Prtry" || name == "Id" {
        if let Some(c) = text.chars().find(|&c| !in_x_set(c)) {
            f.add(
                tree.path(id),
                "CBPR.CHARSET.X",
                format!("character {c:?} is outside the SWIFT x set"),
            );
        }
    } else if EXTENDED_ELEMENTS.contains(&name) {
        if let Some(c) = text.chars().find(|&c| !schema::in_extended_set(c)) {
            f.add(
                tree.path(id),
                "CBPR.CHARSET.EXTENDED",
                format!("character {c:?} is outside the CBPR+ extended character set"),
            );
        }
    }
    if DATE_TIME_ELEMENTS.contains(&name) {
        let has_offset = crate::types::IsoDateTime::new(text)
            .map(|d| d.has_offset())
            .unwrap_or(true);
        if !has_offset {
            f.add(
                tree.path(id),
                "CBPR.DATETIME.OFFSET",
                format!("{text} has no time-zone offset"),
            );
        } else if let Some(problem) = offset_form_problem(text) {
            f.add(tree.path(id), "CBPR.DATETIME.FORM", problem);
        }
    }
    match name {
        "BICFI" | "AnyBIC" => {
            let country = text.get(4..6).unwrap_or("");
            if !is_country(country) {
                f.add(
                    tree.path(id),
                    "ISO9362.BIC",
                    format!("{text}: {country:?} is not an ISO 3166 country"),
                );
            }
        }
        "IBAN" => {
            if let Ok(iban) = crate::types::Iban::new(text) {
                if !is_country(&text[..2]) {
                    f.add(
                        tree.path(id),
                        "ISO13616.IBAN",
                        format!("{text}: {:?} is not an ISO 3166 country", &text[..2]),
                    );
                } else if !iban.checksum_ok() {
                    f.add(
                        tree.path(id),
                        "ISO13616.IBAN",
                        format!("{text}: wrong check digits"),
                    );
                }
            }
        }
        "LEI" => {
            if let Ok(lei) = crate::types::Lei::new(text) {
                if !lei.checksum_ok() {
                    f.add(
                        tree.path(id),
                        "ISO17442.LEI",
                        format!("{text}: wrong check digits"),
                    );
                }
            }
        }
        "Ctry" | "CtryOfRes" | "CtryOfBirth" if !is_country(text) => {
            f.add(
                tree.path(id),
                "ISO3166.COUNTRY",
                format!("{text:?} is not an ISO 3166 country"),
            );
        }
        _ => {}
    }
    // Settlement amounts are `ActiveCurrencyAndAmount`; other amounts and currencies may be
    // historic (`ActiveOrHistoric...`), which the reader already restricts to ISO 4217 codes.
    if ACTIVE_AMOUNT_ELEMENTS.contains(&name) {
        if let Ok(Some(ccy)) = tree.attr(id, "Ccy") {
            if crate::iso4217::lookup(&ccy).is_none() {
                f.add(
                    tree.path(id),
                    "ISO4217.ACTIVE",
                    format!("{ccy} is not an active ISO 4217 currency"),
                );
            }
        }
    }
}

/// CBPR.DATETIME.FORM: the CBPR+ date-time type restricts `xs:dateTime` to an offset written
/// `+hh:mm` or `-hh:mm` with hours 00 to 14, so UTC is `+00:00`, never `Z`. Fractional seconds
/// are left as the base type has them: the restriction does not touch them, and the
/// guidelines' preferred form (`YYYY-MM-DDThh:mm:ss.sss+/-hh:mm`) has milliseconds.
fn offset_form_problem(text: &str) -> Option<String> {
    if text.ends_with('Z') {
        return Some(format!("{text}: UTC is written +00:00 in CBPR+, not Z"));
    }
    let hours: u32 = text
        .get(text.len().saturating_sub(5)..text.len() - 3)?
        .parse()
        .ok()?;
    (hours > 14).then(|| format!("{text}: the offset's hours are 00 to 14"))
}

/// CBPR.PSTLADR.TWN_CTRY: a structured or hybrid address has at least a town and a country;
/// one of address lines alone is no longer accepted (CBPR+, November 2026).
fn postal_address(f: &mut Findings, tree: &Tree<'_>, id: NodeId) {
    let has = |tag: &str| tree.children(id).any(|c| tree.node(c).name == tag);
    let missing: Vec<&str> = ["TwnNm", "Ctry"]
        .into_iter()
        .filter(|tag| !has(tag))
        .collect();
    if !missing.is_empty() {
        f.add(
            tree.path(id),
            "CBPR.PSTLADR.TWN_CTRY",
            format!(
                "no {}; a CBPR+ postal address is structured (or hybrid) with at least TwnNm and Ctry",
                missing.join(" and ")
            ),
        );
    }
}

/// ISO 3166-1 alpha-2 codes, plus XK (Kosovo), which SWIFT uses in BICs and IBANs.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS XK YE YT ZA ZM ZW";

/// [`COUNTRIES`] as one bit per code: bit `second - b'A'` of word `first - b'A'`. Every
/// party, agent and BIC asks [`is_country`], and a walk through the list string was a visible
/// part of a settlement's CPU (issue 10).
const COUNTRY_BITS: [u32; 26] = country_bits();

const fn country_bits() -> [u32; 26] {
    let list = COUNTRIES.as_bytes();
    let mut bits = [0u32; 26];
    let mut i = 0;
    while i + 1 < list.len() {
        bits[(list[i] - b'A') as usize] |= 1 << (list[i + 1] - b'A');
        i += 3;
    }
    bits
}

/// Whether `code` is an ISO 3166-1 alpha-2 country code (or XK).
pub fn is_country(code: &str) -> bool {
    match *code.as_bytes() {
        [first @ b'A'..=b'Z', second @ b'A'..=b'Z'] => {
            COUNTRY_BITS[usize::from(first - b'A')] >> (second - b'A') & 1 == 1
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn country_list_is_complete_and_sorted() {
        let codes: Vec<&str> = COUNTRIES.split(' ').collect();
        assert_eq!(codes.len(), 250, "249 ISO 3166-1 codes plus XK");
        assert!(codes.windows(2).all(|w| w[0] < w[1]));
        assert!(is_country("DE") && is_country("XK") && !is_country("ZZ") && !is_country("de"));
        // The bit table holds exactly the list: every pair of capitals is checked against it.
        for first in b'A'..=b'Z' {
            for second in b'A'..=b'Z' {
                let code = String::from_utf8(vec![first, second]).unwrap();
                assert_eq!(is_country(&code), codes.contains(&code.as_str()), "{code}");
            }
        }
        for odd in ["", "D", "DEU", "D1", "@A", "A[", "É"] {
            assert!(!is_country(odd), "{odd:?}");
        }
    }

    #[test]
    fn rules_lists_every_rule_reported() {
        // Every rule id literal in this file, outside the list itself, is in the list.
        let source = include_str!("cbpr.rs");
        let list_end = source.find("/// JSON in: the shape written").unwrap_or(0);
        let elements = include_str!("cbpr/elements.rs");
        let schema = include_str!("cbpr/schema/mod.rs");
        let stp = include_str!("cbpr/stp.rs");
        let mut used: Vec<&str> = source[list_end..]
            .split('"')
            .chain(elements.split('"'))
            .chain(stp.split('"'))
            .chain(schema.split('"'))
            .filter(|s| s.len() > 5 && s.starts_with("CBPR.") && !s.contains(' '))
            .collect();
        used.sort_unstable();
        used.dedup();
        assert!(!used.is_empty());
        for rule in used {
            assert!(RULES.contains(&rule), "{rule} missing from RULES");
        }
    }

    #[test]
    fn instr_id_rule() {
        assert_eq!(instr_id_problem("ABC/123"), None);
        assert!(instr_id_problem("/ABC").is_some());
        assert!(instr_id_problem("ABC/").is_some());
        assert!(instr_id_problem("AB//C").is_some());
        assert!(instr_id_problem("12345678901234567").is_some());
        assert_eq!(instr_id_problem("1234567890123456"), None);
    }
}
