//! pain.002.001.10, `CstmrPmtStsRpt`: the bank's status report on a client's pain.001.

use crate::common::*;
use crate::pacs002::OriginalGroupStatus;
use crate::types::*;
use crate::xml::xml_struct;

/// The pain.002.001.10 namespace.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.10";
/// The message definition identifier.
pub const MSG_DEF_IDR: &str = "pain.002.001.10";
/// The message element under `<Document>`.
pub const ROOT: &str = "CstmrPmtStsRpt";

xml_struct! {
    /// `GroupHeader86`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct GroupHeader {
        /// `<MsgId>`.
        msg_id: req Max35Text = "MsgId",
        /// `<CreDtTm>`.
        cre_dt_tm: req IsoDateTime = "CreDtTm",
        /// `<InitgPty>`.
        initg_pty: opt Party = "InitgPty",
        /// `<FwdgAgt>`.
        fwdg_agt: opt Agent = "FwdgAgt",
        /// `<DbtrAgt>`.
        dbtr_agt: opt Agent = "DbtrAgt",
        /// `<CdtrAgt>`.
        cdtr_agt: opt Agent = "CdtrAgt",
    }
}

impl GroupHeader {
    /// A group header with the required elements.
    pub fn new(msg_id: Max35Text, cre_dt_tm: IsoDateTime) -> Self {
        GroupHeader {
            msg_id,
            cre_dt_tm,
            initg_pty: None,
            fwdg_agt: None,
            dbtr_agt: None,
            cdtr_agt: None,
        }
    }
}

xml_struct! {
    /// `PaymentTransaction105` (tracker data and original transaction reference not modelled).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct TransactionStatusInfo {
        /// `<StsId>`.
        sts_id: opt Max35Text = "StsId",
        /// `<OrgnlInstrId>`.
        orgnl_instr_id: opt Max35Text = "OrgnlInstrId",
        /// `<OrgnlEndToEndId>`.
        orgnl_end_to_end_id: opt Max35Text = "OrgnlEndToEndId",
        /// `<OrgnlUETR>`.
        orgnl_uetr: opt Uetr = "OrgnlUETR",
        /// `<TxSts>`.
        tx_sts: opt TransactionStatus = "TxSts",
        /// `<StsRsnInf>`.
        sts_rsn_inf: many StatusReason = "StsRsnInf",
        /// `<ChrgsInf>`.
        chrgs_inf: many Charges = "ChrgsInf",
        /// `<AccptncDtTm>`.
        accptnc_dt_tm: opt IsoDateTime = "AccptncDtTm",
        /// `<AcctSvcrRef>`.
        acct_svcr_ref: opt Max35Text = "AcctSvcrRef",
        /// `<ClrSysRef>`.
        clr_sys_ref: opt Max35Text = "ClrSysRef",
        /// `<SplmtryData>`.
        splmtry_data: many SupplementaryData = "SplmtryData",
    }
}

xml_struct! {
    /// `OriginalPaymentInstruction32` (counts not modelled).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct OriginalPaymentInstructionStatus {
        /// `<OrgnlPmtInfId>`.
        orgnl_pmt_inf_id: req Max35Text = "OrgnlPmtInfId",
        /// `<PmtInfSts>`.
        pmt_inf_sts: opt TransactionStatus = "PmtInfSts",
        /// `<StsRsnInf>`.
        sts_rsn_inf: many StatusReason = "StsRsnInf",
        /// `<TxInfAndSts>`.
        tx_inf_and_sts: many TransactionStatusInfo = "TxInfAndSts",
    }
}

impl OriginalPaymentInstructionStatus {
    /// The status of one original payment instruction.
    pub fn new(orgnl_pmt_inf_id: Max35Text) -> Self {
        OriginalPaymentInstructionStatus {
            orgnl_pmt_inf_id,
            pmt_inf_sts: None,
            sts_rsn_inf: Vec::new(),
            tx_inf_and_sts: Vec::new(),
        }
    }
}

xml_struct! {
    /// A pain.002.001.10 message (`<CstmrPmtStsRpt>`).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct Pain002 {
        /// `<GrpHdr>`.
        grp_hdr: req GroupHeader = "GrpHdr",
        /// `<OrgnlGrpInfAndSts>`.
        orgnl_grp_inf_and_sts: req OriginalGroupStatus = "OrgnlGrpInfAndSts",
        /// `<OrgnlPmtInfAndSts>`.
        orgnl_pmt_inf_and_sts: many OriginalPaymentInstructionStatus = "OrgnlPmtInfAndSts",
        /// `<SplmtryData>`.
        splmtry_data: many SupplementaryData = "SplmtryData",
    }
}

impl Pain002 {
    /// A report on the original message.
    pub fn new(grp_hdr: GroupHeader, orgnl_grp_inf_and_sts: OriginalGroupStatus) -> Self {
        Pain002 {
            grp_hdr,
            orgnl_grp_inf_and_sts,
            orgnl_pmt_inf_and_sts: Vec::new(),
            splmtry_data: Vec::new(),
        }
    }

    /// `GrpHdr/MsgId`.
    pub fn msg_id(&self) -> &str {
        self.grp_hdr.msg_id.as_str()
    }

    /// `OrgnlGrpInfAndSts/OrgnlMsgId`.
    pub fn orgnl_msg_id(&self) -> &str {
        self.orgnl_grp_inf_and_sts.orgnl_msg_id.as_str()
    }
}

message_impl!(Pain002, |m| Some(m.msg_id()));
