//! pacs.004.001.09, `PmtRtr`: the payment return.

use crate::amount::Amount;
use crate::common::*;
use crate::error::XResult;
use crate::types::*;
use crate::xml::reader::{FromXml, NodeId, Tree};
use crate::xml::writer::{Out, ToXml};
use crate::xml::xml_struct;

/// The pacs.004.001.09 namespace.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pacs.004.001.09";
/// The message definition identifier.
pub const MSG_DEF_IDR: &str = "pacs.004.001.09";
/// The message element under `<Document>`.
pub const ROOT: &str = "PmtRtr";

/// `GroupHeader90` (authorisations not modelled). `NbOfTxs` is derived from the transactions.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct GroupHeader {
    /// `<MsgId>`.
    pub msg_id: Max35Text,
    /// `<CreDtTm>`.
    pub cre_dt_tm: IsoDateTime,
    /// `<BtchBookg>`.
    pub btch_bookg: Option<bool>,
    /// `<CtrlSum>`: the sum of the returned amounts, as the sender states it (kept as
    /// written; not checked).
    pub ctrl_sum: Option<DecimalNumber>,
    /// `<GrpRtr>`.
    pub grp_rtr: Option<bool>,
    /// `<TtlRtrdIntrBkSttlmAmt>`.
    pub ttl_rtrd_intr_bk_sttlm_amt: Option<Amount>,
    /// `<IntrBkSttlmDt>`.
    pub intr_bk_sttlm_dt: Option<IsoDate>,
    /// `<SttlmInf>`.
    pub sttlm_inf: SettlementInstruction,
    /// `<InstgAgt>`.
    pub instg_agt: Option<Agent>,
    /// `<InstdAgt>`.
    pub instd_agt: Option<Agent>,
}

impl GroupHeader {
    /// A group header with the required elements.
    pub fn new(
        msg_id: Max35Text,
        cre_dt_tm: IsoDateTime,
        sttlm_inf: SettlementInstruction,
    ) -> Self {
        GroupHeader {
            msg_id,
            cre_dt_tm,
            btch_bookg: None,
            ctrl_sum: None,
            grp_rtr: None,
            ttl_rtrd_intr_bk_sttlm_amt: None,
            intr_bk_sttlm_dt: None,
            sttlm_inf,
            instg_agt: None,
            instd_agt: None,
        }
    }

    fn read(tree: &Tree<'_>, id: NodeId) -> XResult<(Self, NodeId)> {
        let mut s = tree.seq(id);
        let msg_id = s.req("MsgId")?;
        let cre_dt_tm = s.req("CreDtTm")?;
        let btch_bookg = s.opt("BtchBookg")?;
        let nb_of_txs = s.req_node("NbOfTxs")?;
        let ctrl_sum = s.opt("CtrlSum")?;
        let grp_rtr = s.opt("GrpRtr")?;
        let ttl_rtrd_intr_bk_sttlm_amt = s.opt("TtlRtrdIntrBkSttlmAmt")?;
        let intr_bk_sttlm_dt = s.opt("IntrBkSttlmDt")?;
        let sttlm_inf = s.req("SttlmInf")?;
        let instg_agt = s.opt("InstgAgt")?;
        let instd_agt = s.opt("InstdAgt")?;
        let h = GroupHeader {
            msg_id,
            cre_dt_tm,
            btch_bookg,
            ctrl_sum,
            grp_rtr,
            ttl_rtrd_intr_bk_sttlm_amt,
            intr_bk_sttlm_dt,
            sttlm_inf,
            instg_agt,
            instd_agt,
        };
        Ok((h, nb_of_txs))
    }

    fn write(&self, out: &mut Out, nb_of_txs: usize) {
        out.start("GrpHdr");
        out.leaf("MsgId", &self.msg_id);
        out.leaf("CreDtTm", &self.cre_dt_tm);
        out.opt("BtchBookg", &self.btch_bookg);
        out.text("NbOfTxs", &nb_of_txs.to_string());
        out.opt("CtrlSum", &self.ctrl_sum);
        out.opt("GrpRtr", &self.grp_rtr);
        out.opt("TtlRtrdIntrBkSttlmAmt", &self.ttl_rtrd_intr_bk_sttlm_amt);
        out.opt("IntrBkSttlmDt", &self.intr_bk_sttlm_dt);
        self.sttlm_inf.to_xml(out, "SttlmInf");
        out.opt("InstgAgt", &self.instg_agt);
        out.opt("InstdAgt", &self.instd_agt);
        out.end("GrpHdr");
    }
}

xml_struct! {
    /// `OriginalGroupHeader18`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct OriginalGroupReturn {
        /// `<OrgnlMsgId>`.
        orgnl_msg_id: req Max35Text = "OrgnlMsgId",
        /// `<OrgnlMsgNmId>`.
        orgnl_msg_nm_id: req Max35Text = "OrgnlMsgNmId",
        /// `<OrgnlCreDtTm>`.
        orgnl_cre_dt_tm: opt IsoDateTime = "OrgnlCreDtTm",
        /// `<RtrRsnInf>`.
        rtr_rsn_inf: many StatusReason = "RtrRsnInf",
    }
}

xml_struct! {
    /// `PaymentTransaction112`: one returned transaction.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct ReturnTransaction {
        /// `<RtrId>`.
        rtr_id: opt Max35Text = "RtrId",
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
        /// `<RtrdIntrBkSttlmAmt>`: the amount returned.
        rtrd_intr_bk_sttlm_amt: req Amount = "RtrdIntrBkSttlmAmt",
        /// `<IntrBkSttlmDt>`.
        intr_bk_sttlm_dt: opt IsoDate = "IntrBkSttlmDt",
        /// `<SttlmPrty>`.
        sttlm_prty: opt SettlementPriority = "SttlmPrty",
        /// `<SttlmTmIndctn>`.
        sttlm_tm_indctn: opt SettlementTimeIndication = "SttlmTmIndctn",
        /// `<RtrdInstdAmt>`.
        rtrd_instd_amt: opt Amount = "RtrdInstdAmt",
        /// `<XchgRate>`.
        xchg_rate: opt BaseOneRate = "XchgRate",
        /// `<CompstnAmt>`.
        compstn_amt: opt Amount = "CompstnAmt",
        /// `<ChrgBr>`.
        chrg_br: opt ChargeBearer = "ChrgBr",
        /// `<ChrgsInf>`.
        chrgs_inf: many Charges = "ChrgsInf",
        /// `<ClrSysRef>`.
        clr_sys_ref: opt Max35Text = "ClrSysRef",
        /// `<InstgAgt>`.
        instg_agt: opt Agent = "InstgAgt",
        /// `<InstdAgt>`.
        instd_agt: opt Agent = "InstdAgt",
        /// `<RtrChain>`: the parties of the returned transaction.
        rtr_chain: opt TransactionParties = "RtrChain",
        /// `<RtrRsnInf>`: why (`Rsn/Cd` from ExternalReturnReason1Code, e.g. `AC04`).
        rtr_rsn_inf: many StatusReason = "RtrRsnInf",
        /// `<OrgnlTxRef>`: the original transaction's key elements.
        orgnl_tx_ref: opt OriginalTransactionRef = "OrgnlTxRef",
        /// `<SplmtryData>`.
        splmtry_data: many SupplementaryData = "SplmtryData",
    }
}

impl ReturnTransaction {
    /// A return of `rtrd_intr_bk_sttlm_amt`, references to be filled in.
    pub fn new(rtrd_intr_bk_sttlm_amt: Amount) -> Self {
        ReturnTransaction {
            rtr_id: None,
            orgnl_grp_inf: None,
            orgnl_instr_id: None,
            orgnl_end_to_end_id: None,
            orgnl_tx_id: None,
            orgnl_uetr: None,
            orgnl_clr_sys_ref: None,
            orgnl_intr_bk_sttlm_amt: None,
            orgnl_intr_bk_sttlm_dt: None,
            rtrd_intr_bk_sttlm_amt,
            intr_bk_sttlm_dt: None,
            sttlm_prty: None,
            sttlm_tm_indctn: None,
            rtrd_instd_amt: None,
            xchg_rate: None,
            compstn_amt: None,
            chrg_br: None,
            chrgs_inf: Vec::new(),
            clr_sys_ref: None,
            instg_agt: None,
            instd_agt: None,
            rtr_chain: None,
            rtr_rsn_inf: Vec::new(),
            orgnl_tx_ref: None,
            splmtry_data: Vec::new(),
        }
    }

    /// The first return reason code, if any.
    pub fn reason_code(&self) -> Option<&str> {
        self.rtr_rsn_inf.iter().find_map(|r| r.reason_code())
    }
}

/// A pacs.004.001.09 message (`<PmtRtr>`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Pacs004 {
    /// `<GrpHdr>`.
    pub grp_hdr: GroupHeader,
    /// `<OrgnlGrpInf>`.
    pub orgnl_grp_inf: Option<OriginalGroupReturn>,
    /// `<TxInf>`.
    #[serde(default)]
    pub tx_inf: Vec<ReturnTransaction>,
    /// `<SplmtryData>`.
    #[serde(default)]
    pub splmtry_data: Vec<SupplementaryData>,
}

impl Pacs004 {
    /// A return with one transaction.
    pub fn new(grp_hdr: GroupHeader, tx: ReturnTransaction) -> Self {
        Pacs004 {
            grp_hdr,
            orgnl_grp_inf: None,
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

    /// `TxInf/OrgnlEndToEndId` of the first transaction.
    pub fn orgnl_end_to_end_id(&self) -> Option<&str> {
        self.tx_inf
            .first()
            .and_then(|t| t.orgnl_end_to_end_id.as_ref())
            .map(|s| s.as_str())
    }
}

impl FromXml for Pacs004 {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> XResult<Self> {
        let mut s = tree.seq(id);
        let grp_hdr_node = s.req_node("GrpHdr")?;
        let (grp_hdr, nb_of_txs) = GroupHeader::read(tree, grp_hdr_node)?;
        let orgnl_grp_inf = s.opt("OrgnlGrpInf")?;
        let tx_inf: Vec<ReturnTransaction> = s.many("TxInf", usize::MAX)?;
        check_nb_of_txs(tree, nb_of_txs, tx_inf.len())?;
        let splmtry_data = s.many("SplmtryData", usize::MAX)?;
        Ok(Pacs004 {
            grp_hdr,
            orgnl_grp_inf,
            tx_inf,
            splmtry_data,
        })
    }
}

impl ToXml for Pacs004 {
    fn to_xml(&self, out: &mut Out, name: &str) {
        out.start(name);
        self.grp_hdr.write(out, self.tx_inf.len());
        out.opt("OrgnlGrpInf", &self.orgnl_grp_inf);
        out.many("TxInf", &self.tx_inf);
        out.many("SplmtryData", &self.splmtry_data);
        out.end(name);
    }
}

message_impl!(Pacs004, |m| Some(m.msg_id()));
