//! camt.056.001.08, `FIToFIPmtCxlReq`: the recall (payment cancellation request).

use crate::amount::Amount;
use crate::common::*;
use crate::types::*;
use crate::xml::xml_struct;

/// The camt.056.001.08 namespace.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:camt.056.001.08";
/// The message definition identifier.
pub const MSG_DEF_IDR: &str = "camt.056.001.08";
/// The message element under `<Document>`.
pub const ROOT: &str = "FIToFIPmtCxlReq";

xml_struct! {
    /// `OriginalGroupHeader15` (original counts not modelled).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct OriginalGroupCancellation {
        /// `<GrpCxlId>`.
        grp_cxl_id: opt Max35Text = "GrpCxlId",
        /// `<Case>`.
        case: opt Case = "Case",
        /// `<OrgnlMsgId>`.
        orgnl_msg_id: req Max35Text = "OrgnlMsgId",
        /// `<OrgnlMsgNmId>`.
        orgnl_msg_nm_id: req Max35Text = "OrgnlMsgNmId",
        /// `<OrgnlCreDtTm>`.
        orgnl_cre_dt_tm: opt IsoDateTime = "OrgnlCreDtTm",
        /// `<GrpCxl>`.
        grp_cxl: opt bool = "GrpCxl",
        /// `<CxlRsnInf>`.
        cxl_rsn_inf: many StatusReason = "CxlRsnInf",
    }
}

xml_struct! {
    /// `PaymentTransaction106`: one transaction to cancel.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct CancellationTransaction {
        /// `<CxlId>`.
        cxl_id: opt Max35Text = "CxlId",
        /// `<Case>`.
        case: opt Case = "Case",
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
        /// `<OrgnlClrSysRef>`.
        orgnl_clr_sys_ref: opt Max35Text = "OrgnlClrSysRef",
        /// `<OrgnlIntrBkSttlmAmt>`.
        orgnl_intr_bk_sttlm_amt: opt Amount = "OrgnlIntrBkSttlmAmt",
        /// `<OrgnlIntrBkSttlmDt>`.
        orgnl_intr_bk_sttlm_dt: opt IsoDate = "OrgnlIntrBkSttlmDt",
        /// `<Assgnr>`.
        assgnr: opt Agent = "Assgnr",
        /// `<Assgne>`.
        assgne: opt Agent = "Assgne",
        /// `<CxlRsnInf>`: `Rsn/Cd` from ExternalCancellationReason1Code (e.g. `DUPL`, `FRAD`).
        cxl_rsn_inf: many StatusReason = "CxlRsnInf",
        /// `<OrgnlTxRef>`: the original transaction's key elements.
        orgnl_tx_ref: opt OriginalTransactionRef = "OrgnlTxRef",
        /// `<SplmtryData>`.
        splmtry_data: many SupplementaryData = "SplmtryData",
    }
}

xml_struct! {
    /// `UnderlyingTransaction23`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct Underlying {
        /// `<OrgnlGrpInfAndCxl>`.
        orgnl_grp_inf_and_cxl: opt OriginalGroupCancellation = "OrgnlGrpInfAndCxl",
        /// `<TxInf>`.
        tx_inf: many CancellationTransaction = "TxInf",
    }
}

xml_struct! {
    /// A camt.056.001.08 message (`<FIToFIPmtCxlReq>`; control data not modelled).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct Camt056 {
        /// `<Assgnmt>`.
        assgnmt: req CaseAssignment = "Assgnmt",
        /// `<Case>`.
        case: opt Case = "Case",
        /// `<Undrlyg>`: one or more.
        undrlyg: some Underlying = "Undrlyg",
        /// `<SplmtryData>`.
        splmtry_data: many SupplementaryData = "SplmtryData",
    }
}

impl Camt056 {
    /// A recall of one transaction.
    pub fn new(assgnmt: CaseAssignment, tx: CancellationTransaction) -> Self {
        Camt056 {
            assgnmt,
            case: None,
            undrlyg: vec![Underlying {
                orgnl_grp_inf_and_cxl: None,
                tx_inf: vec![tx],
            }],
            splmtry_data: Vec::new(),
        }
    }

    /// `Assgnmt/Id`.
    pub fn assignment_id(&self) -> &str {
        self.assgnmt.id.as_str()
    }

    /// The first transaction to cancel.
    pub fn tx(&self) -> Option<&CancellationTransaction> {
        self.undrlyg.iter().flat_map(|u| u.tx_inf.iter()).next()
    }

    /// `OrgnlUETR` of the first transaction.
    pub fn orgnl_uetr(&self) -> Option<&Uetr> {
        self.tx().and_then(|t| t.orgnl_uetr.as_ref())
    }
}

message_impl!(Camt056, |m| Some(m.assignment_id()));
