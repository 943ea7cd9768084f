//! pacs.028.001.03, `FIToFIPmtStsReq`: asks a bank for the status of a payment (used after a
//! timeout instead of guessing).

use crate::common::*;
use crate::pacs002::GroupHeader;
use crate::types::*;
use crate::xml::xml_struct;

/// The pacs.028.001.03 namespace.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pacs.028.001.03";
/// The message definition identifier.
pub const MSG_DEF_IDR: &str = "pacs.028.001.03";
/// The message element under `<Document>`.
pub const ROOT: &str = "FIToFIPmtStsReq";

xml_struct! {
    /// `OriginalGroupInformation27` (original counts not modelled).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct OriginalGroupRequest {
        /// `<OrgnlMsgId>`.
        orgnl_msg_id: req Max35Text = "OrgnlMsgId",
        /// `<OrgnlMsgNmId>`.
        orgnl_msg_nm_id: req Max35Text = "OrgnlMsgNmId",
        /// `<OrgnlCreDtTm>`.
        orgnl_cre_dt_tm: opt IsoDateTime = "OrgnlCreDtTm",
    }
}

xml_struct! {
    /// `PaymentTransaction113`: the transaction whose status is asked.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct StatusRequestTransaction {
        /// `<StsReqId>`.
        sts_req_id: opt Max35Text = "StsReqId",
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
        /// `<AccptncDtTm>`.
        accptnc_dt_tm: opt IsoDateTime = "AccptncDtTm",
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

xml_struct! {
    /// A pacs.028.001.03 message (`<FIToFIPmtStsReq>`).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct Pacs028 {
        /// `<GrpHdr>` (GroupHeader91, as in pacs.002).
        grp_hdr: req GroupHeader = "GrpHdr",
        /// `<OrgnlGrpInf>`.
        orgnl_grp_inf: many OriginalGroupRequest = "OrgnlGrpInf",
        /// `<TxInf>`.
        tx_inf: many StatusRequestTransaction = "TxInf",
        /// `<SplmtryData>`.
        splmtry_data: many SupplementaryData = "SplmtryData",
    }
}

impl Pacs028 {
    /// A status request for one transaction.
    pub fn new(grp_hdr: GroupHeader, tx: StatusRequestTransaction) -> Self {
        Pacs028 {
            grp_hdr,
            orgnl_grp_inf: Vec::new(),
            tx_inf: vec![tx],
            splmtry_data: Vec::new(),
        }
    }

    /// `GrpHdr/MsgId`.
    pub fn msg_id(&self) -> &str {
        self.grp_hdr.msg_id.as_str()
    }

    /// `TxInf/OrgnlUETR` of the first transaction.
    pub fn orgnl_uetr(&self) -> Option<&Uetr> {
        self.tx_inf.first().and_then(|t| t.orgnl_uetr.as_ref())
    }
}

message_impl!(Pacs028, |m| Some(m.msg_id()));
