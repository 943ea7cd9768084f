//! camt.029.001.09, `RsltnOfInvstgtn`: the answer to a recall or other investigation.

use crate::amount::Amount;
use crate::common::*;
use crate::error::XResult;
use crate::types::*;
use crate::xml::reader::{FromXml, NodeId, Tree};
use crate::xml::writer::{Out, ToXml};
use crate::xml::xml_struct;

/// The camt.029.001.09 namespace.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:camt.029.001.09";
/// The message definition identifier.
pub const MSG_DEF_IDR: &str = "camt.029.001.09";
/// The message element under `<Document>`.
pub const ROOT: &str = "RsltnOfInvstgtn";

/// `InvestigationStatus5Choice`.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub enum InvestigationStatus {
    /// `<Conf>`: ExternalInvestigationExecutionConfirmation1Code (e.g. `CNCL`, `RJCR`, `PDCR`).
    Conf(Max4Text),
    /// `<RjctdMod>`: rejected modification reasons (at least one).
    #[serde(deserialize_with = "crate::de::non_empty")]
    RjctdMod(Vec<CodeOrProprietary<4>>),
    /// `<DplctOf>`: duplicate of this case.
    DplctOf(Case),
    /// `<AssgnmtCxlConf>`.
    AssgnmtCxlConf(bool),
}

impl FromXml for InvestigationStatus {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> XResult<Self> {
        let names = ["Conf", "RjctdMod", "DplctOf", "AssgnmtCxlConf"];
        let first = tree
            .children(id)
            .find(|&c| names.contains(&tree.node(c).name));
        if let Some(c) = first {
            if tree.node(c).name == "RjctdMod" {
                let mut s = tree.seq(id);
                return Ok(InvestigationStatus::RjctdMod(s.some("RjctdMod")?));
            }
        }
        match choice(tree, id, &names)? {
            (c, 0) => Ok(InvestigationStatus::Conf(Max4Text::from_xml(tree, c)?)),
            (c, 2) => Ok(InvestigationStatus::DplctOf(Case::from_xml(tree, c)?)),
            (c, _) => Ok(InvestigationStatus::AssgnmtCxlConf(bool::from_xml(
                tree, c,
            )?)),
        }
    }
}

impl ToXml for InvestigationStatus {
    fn to_xml(&self, out: &mut Out, name: &str) {
        out.start(name);
        match self {
            InvestigationStatus::Conf(c) => out.leaf("Conf", c),
            InvestigationStatus::RjctdMod(r) => out.many("RjctdMod", r),
            InvestigationStatus::DplctOf(c) => c.to_xml(out, "DplctOf"),
            InvestigationStatus::AssgnmtCxlConf(b) => out.leaf("AssgnmtCxlConf", b),
        }
        out.end(name);
    }
}

xml_struct! {
    /// `OriginalGroupHeader14` (counts and per-status numbers not modelled).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct OriginalGroupCancellationStatus {
        /// `<OrgnlGrpCxlId>`.
        orgnl_grp_cxl_id: opt Max35Text = "OrgnlGrpCxlId",
        /// `<RslvdCase>`.
        rslvd_case: opt Case = "RslvdCase",
        /// `<OrgnlMsgId>`.
        orgnl_msg_id: req Max35Text = "OrgnlMsgId",
        /// `<OrgnlMsgNmId>`.
        orgnl_msg_nm_id: req Max35Text = "OrgnlMsgNmId",
        /// `<OrgnlCreDtTm>`.
        orgnl_cre_dt_tm: opt IsoDateTime = "OrgnlCreDtTm",
        /// `<CxlStsRsnInf>`.
        cxl_sts_rsn_inf: many StatusReason = "CxlStsRsnInf",
    }
}

xml_struct! {
    /// `PaymentTransaction102`: the cancellation status of one transaction (resolution data
    /// not modelled).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct CancellationStatusTransaction {
        /// `<CxlStsId>`.
        cxl_sts_id: opt Max35Text = "CxlStsId",
        /// `<RslvdCase>`.
        rslvd_case: opt Case = "RslvdCase",
        /// `<OrgnlGrpInf>`.
        orgnl_grp_inf: opt OriginalGroupInfo = "OrgnlGrpInf",
        /// `<OrgnlInstrId>`.
        orgnl_instr_id: opt Max35Text = "OrgnlInstrId",
        /// `<OrgnlEndToEndId>`.
        orgnl_end_to_end_id: opt Max35Text = "OrgnlEndToEndId",
        /// `<OrgnlTxId>`.
        orgnl_tx_id: opt Max35Text = "OrgnlTxId",
        /// `<OrgnlClrSysRef>`.
        orgnl_clr_sys_ref: opt Max35Text = "OrgnlClrSysRef",
        /// `<OrgnlUETR>`.
        orgnl_uetr: opt Uetr = "OrgnlUETR",
        /// `<TxCxlSts>`.
        tx_cxl_sts: opt CancellationStatus = "TxCxlSts",
        /// `<CxlStsRsnInf>`.
        cxl_sts_rsn_inf: many StatusReason = "CxlStsRsnInf",
        /// `<OrgnlIntrBkSttlmAmt>`.
        orgnl_intr_bk_sttlm_amt: opt Amount = "OrgnlIntrBkSttlmAmt",
        /// `<OrgnlIntrBkSttlmDt>`.
        orgnl_intr_bk_sttlm_dt: opt IsoDate = "OrgnlIntrBkSttlmDt",
        /// `<Assgnr>`.
        assgnr: opt PartyOrAgent = "Assgnr",
        /// `<Assgne>`.
        assgne: opt PartyOrAgent = "Assgne",
        /// `<OrgnlTxRef>`: the original transaction's key elements.
        orgnl_tx_ref: opt OriginalTransactionRef = "OrgnlTxRef",
    }
}

xml_struct! {
    /// `UnderlyingTransaction22` (payment-information level not modelled).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct CancellationDetails {
        /// `<OrgnlGrpInfAndSts>`.
        orgnl_grp_inf_and_sts: opt OriginalGroupCancellationStatus = "OrgnlGrpInfAndSts",
        /// `<TxInfAndSts>`.
        tx_inf_and_sts: many CancellationStatusTransaction = "TxInfAndSts",
    }
}

xml_struct! {
    /// A camt.029.001.09 message (`<RsltnOfInvstgtn>`; modification, claim, statement and
    /// corrective details not modelled).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct Camt029 {
        /// `<Assgnmt>`.
        assgnmt: req CaseAssignment = "Assgnmt",
        /// `<RslvdCase>`.
        rslvd_case: opt Case = "RslvdCase",
        /// `<Sts>`.
        sts: req InvestigationStatus = "Sts",
        /// `<CxlDtls>`.
        cxl_dtls: many CancellationDetails = "CxlDtls",
        /// `<SplmtryData>`.
        splmtry_data: many SupplementaryData = "SplmtryData",
    }
}

impl Camt029 {
    /// A resolution with its status.
    pub fn new(assgnmt: CaseAssignment, sts: InvestigationStatus) -> Self {
        Camt029 {
            assgnmt,
            rslvd_case: None,
            sts,
            cxl_dtls: Vec::new(),
            splmtry_data: Vec::new(),
        }
    }

    /// `Assgnmt/Id`.
    pub fn assignment_id(&self) -> &str {
        self.assgnmt.id.as_str()
    }

    /// The first transaction's cancellation status.
    pub fn tx(&self) -> Option<&CancellationStatusTransaction> {
        self.cxl_dtls
            .iter()
            .flat_map(|d| d.tx_inf_and_sts.iter())
            .next()
    }

    /// `OrgnlUETR` of the first transaction.
    pub fn orgnl_uetr(&self) -> Option<&Uetr> {
        self.tx().and_then(|t| t.orgnl_uetr.as_ref())
    }
}

message_impl!(Camt029, |m| Some(m.assignment_id()));
