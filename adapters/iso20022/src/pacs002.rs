//! pacs.002.001.10, `FIToFIPmtStsRpt`: the payment status report a bank answers with.

/// Re-exported where it was first defined; it lives in [`crate::common`] since several messages
/// share it.
pub use crate::common::OriginalGroupInfo;
use crate::common::*;
use crate::error::XResult;
use crate::types::*;
use crate::xml::reader::{FromXml, NodeId, Tree};
use crate::xml::writer::{Out, ToXml};
use crate::xml::xml_struct;

/// The pacs.002.001.10 namespace.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10";
/// The message definition identifier (AppHdr `MsgDefIdr`).
pub const MSG_DEF_IDR: &str = "pacs.002.001.10";
/// The message element under `<Document>`.
pub const ROOT: &str = "FIToFIPmtStsRpt";

xml_struct! {
    /// `GroupHeader91`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct GroupHeader {
        /// `<MsgId>`.
        msg_id: req Max35Text = "MsgId",
        /// `<CreDtTm>`.
        cre_dt_tm: req IsoDateTime = "CreDtTm",
        /// `<InstgAgt>`.
        instg_agt: opt Agent = "InstgAgt",
        /// `<InstdAgt>`.
        instd_agt: opt Agent = "InstdAgt",
    }
}

impl GroupHeader {
    /// A group header with the required elements.
    pub fn new(msg_id: Max35Text, cre_dt_tm: IsoDateTime) -> Self {
        GroupHeader {
            msg_id,
            cre_dt_tm,
            instg_agt: None,
            instd_agt: None,
        }
    }
}

xml_struct! {
    /// `OriginalGroupHeader17`: the message being reported on, and its group status.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct OriginalGroupStatus {
        /// `<OrgnlMsgId>`.
        orgnl_msg_id: req Max35Text = "OrgnlMsgId",
        /// `<OrgnlMsgNmId>`: e.g. `pacs.008.001.08`.
        orgnl_msg_nm_id: req Max35Text = "OrgnlMsgNmId",
        /// `<OrgnlCreDtTm>`.
        orgnl_cre_dt_tm: opt IsoDateTime = "OrgnlCreDtTm",
        /// `<GrpSts>`: ExternalPaymentGroupStatus1Code, kept open.
        grp_sts: opt TransactionStatus = "GrpSts",
        /// `<StsRsnInf>`.
        sts_rsn_inf: many StatusReason = "StsRsnInf",
    }
}

impl OriginalGroupStatus {
    /// References the original message.
    pub fn new(orgnl_msg_id: Max35Text, orgnl_msg_nm_id: Max35Text) -> Self {
        OriginalGroupStatus {
            orgnl_msg_id,
            orgnl_msg_nm_id,
            orgnl_cre_dt_tm: None,
            grp_sts: None,
            sts_rsn_inf: Vec::new(),
        }
    }
}

xml_struct! {
    /// `PaymentTransaction110`: the status of one original transaction.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct TransactionStatusInfo {
        /// `<StsId>`.
        sts_id: opt Max35Text = "StsId",
        /// `<OrgnlGrpInf>`.
        orgnl_grp_inf: opt OriginalGroupInfo = "OrgnlGrpInf",
        /// `<OrgnlInstrId>`.
        orgnl_instr_id: opt Max35Text = "OrgnlInstrId",
        /// `<OrgnlEndToEndId>`.
        orgnl_end_to_end_id: opt Max35Text = "OrgnlEndToEndId",
        /// `<OrgnlTxId>`.
        orgnl_tx_id: opt Max35Text = "OrgnlTxId",
        /// `<OrgnlUETR>`.
        orgnl_uetr: opt Uetr = "OrgnlUETR",
        /// `<TxSts>`: open code (ACSP, ACCC, RJCT, PDNG, ... or any other, kept).
        tx_sts: opt TransactionStatus = "TxSts",
        /// `<StsRsnInf>`.
        sts_rsn_inf: many StatusReason = "StsRsnInf",
        /// `<ChrgsInf>`.
        chrgs_inf: many Charges = "ChrgsInf",
        /// `<AccptncDtTm>`.
        accptnc_dt_tm: opt IsoDateTime = "AccptncDtTm",
        /// `<FctvIntrBkSttlmDt>`.
        fctv_intr_bk_sttlm_dt: opt DateOrDateTime = "FctvIntrBkSttlmDt",
        /// `<AcctSvcrRef>`.
        acct_svcr_ref: opt Max35Text = "AcctSvcrRef",
        /// `<ClrSysRef>`.
        clr_sys_ref: opt Max35Text = "ClrSysRef",
        /// `<InstgAgt>`.
        instg_agt: opt Agent = "InstgAgt",
        /// `<InstdAgt>`.
        instd_agt: opt Agent = "InstdAgt",
        /// `<OrgnlTxRef>`: the original transaction's key elements.
        orgnl_tx_ref: opt OriginalTransactionRef = "OrgnlTxRef",
        /// `<SplmtryData>`.
        splmtry_data: many SupplementaryData = "SplmtryData",
    }
}

impl TransactionStatusInfo {
    /// The status of the original transaction with these references.
    pub fn new(
        orgnl_end_to_end_id: Max35Text,
        orgnl_uetr: Option<Uetr>,
        tx_sts: TransactionStatus,
    ) -> Self {
        TransactionStatusInfo {
            orgnl_end_to_end_id: Some(orgnl_end_to_end_id),
            orgnl_uetr,
            tx_sts: Some(tx_sts),
            ..Default::default()
        }
    }

    /// The first reason code (`StsRsnInf/Rsn/Cd`), if any.
    pub fn reason_code(&self) -> Option<&str> {
        self.sts_rsn_inf.iter().find_map(|r| r.reason_code())
    }
}

xml_struct! {
    /// A pacs.002.001.10 message (the `<FIToFIPmtStsRpt>` inside `<Document>`).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct Pacs002 {
        /// `<GrpHdr>`.
        grp_hdr: req GroupHeader = "GrpHdr",
        /// `<OrgnlGrpInfAndSts>`.
        orgnl_grp_inf_and_sts: many OriginalGroupStatus = "OrgnlGrpInfAndSts",
        /// `<TxInfAndSts>`: one per reported transaction.
        tx_inf_and_sts: many TransactionStatusInfo = "TxInfAndSts",
        /// `<SplmtryData>`.
        splmtry_data: many SupplementaryData = "SplmtryData",
    }
}

impl Pacs002 {
    /// A report with a group header and nothing else yet.
    pub fn new(grp_hdr: GroupHeader) -> Self {
        Pacs002 {
            grp_hdr,
            orgnl_grp_inf_and_sts: Vec::new(),
            tx_inf_and_sts: Vec::new(),
            splmtry_data: Vec::new(),
        }
    }

    /// `GrpHdr/MsgId`.
    pub fn msg_id(&self) -> &str {
        self.grp_hdr.msg_id.as_str()
    }

    /// `OrgnlGrpInfAndSts/OrgnlMsgId` (first group), if any.
    pub fn orgnl_msg_id(&self) -> Option<&str> {
        self.orgnl_grp_inf_and_sts
            .first()
            .map(|g| g.orgnl_msg_id.as_str())
    }

    /// `TxInfAndSts/OrgnlUETR` of the first transaction status.
    pub fn orgnl_uetr(&self) -> Option<&Uetr> {
        self.tx_inf_and_sts
            .first()
            .and_then(|t| t.orgnl_uetr.as_ref())
    }

    /// `TxInfAndSts/OrgnlEndToEndId` of the first transaction status.
    pub fn orgnl_end_to_end_id(&self) -> Option<&str> {
        self.tx_inf_and_sts
            .first()
            .and_then(|t| t.orgnl_end_to_end_id.as_ref())
            .map(|s| s.as_str())
    }

    /// `TxInfAndSts/TxSts` of the first transaction status.
    pub fn tx_sts(&self) -> Option<&TransactionStatus> {
        self.tx_inf_and_sts.first().and_then(|t| t.tx_sts.as_ref())
    }

    pub(crate) fn read(tree: &Tree<'_>, id: NodeId) -> XResult<Self> {
        Self::from_xml(tree, id)
    }

    pub(crate) fn write(&self, out: &mut Out) {
        self.to_xml(out, ROOT);
    }
}

impl crate::message::Message for Pacs002 {
    const NAMESPACE: &'static str = NAMESPACE;
    const ROOT: &'static str = ROOT;
    fn read(tree: &Tree<'_>, id: NodeId) -> XResult<Self> {
        Pacs002::read(tree, id)
    }
    fn write(&self, out: &mut Out) {
        Pacs002::write(self, out)
    }
    fn msg_id(&self) -> Option<&str> {
        Some(Pacs002::msg_id(self))
    }
}
