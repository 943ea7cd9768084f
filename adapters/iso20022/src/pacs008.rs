//! pacs.008.001.08, `FIToFICstmrCdtTrf`: the customer credit transfer between banks.

use crate::amount::Amount;
use crate::common::*;
use crate::error::XResult;
use crate::types::*;
use crate::xml::reader::{FromXml, NodeId, Tree};
use crate::xml::writer::{Out, ToXml};
use crate::xml::xml_struct;

/// The pacs.008.001.08 namespace.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08";
/// The message definition identifier (AppHdr `MsgDefIdr`).
pub const MSG_DEF_IDR: &str = "pacs.008.001.08";
/// The message element under `<Document>`.
pub const ROOT: &str = "FIToFICstmrCdtTrf";

/// `GroupHeader93`. `NbOfTxs` is not a field: it is written from, and checked against, the
/// number of transactions.
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
    /// `<CtrlSum>`: the sum of the transactions' amounts, as the sender states it (kept as
    /// written; not checked against the transactions).
    pub ctrl_sum: Option<DecimalNumber>,
    /// `<TtlIntrBkSttlmAmt>`.
    pub ttl_intr_bk_sttlm_amt: Option<Amount>,
    /// `<IntrBkSttlmDt>`.
    pub intr_bk_sttlm_dt: Option<IsoDate>,
    /// `<SttlmInf>`.
    pub sttlm_inf: SettlementInstruction,
    /// `<PmtTpInf>`.
    pub pmt_tp_inf: Option<PaymentTypeInfo>,
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
            ttl_intr_bk_sttlm_amt: None,
            intr_bk_sttlm_dt: None,
            sttlm_inf,
            pmt_tp_inf: None,
            instg_agt: None,
            instd_agt: None,
        }
    }

    pub(crate) fn read(tree: &Tree<'_>, id: NodeId) -> XResult<(Self, NodeId)> {
        let mut s = tree.seq(id);
        let msg_id = s.req("MsgId")?;
        let cre_dt_tm = s.req("CreDtTm")?;
        let btch_bookg = s.opt("BtchBookg")?;
        let nb_of_txs = s.req_node("NbOfTxs")?;
        let ctrl_sum = s.opt("CtrlSum")?;
        let ttl_intr_bk_sttlm_amt = s.opt("TtlIntrBkSttlmAmt")?;
        let intr_bk_sttlm_dt = s.opt("IntrBkSttlmDt")?;
        let sttlm_inf = s.req("SttlmInf")?;
        let pmt_tp_inf = s.opt("PmtTpInf")?;
        let instg_agt = s.opt("InstgAgt")?;
        let instd_agt = s.opt("InstdAgt")?;
        Ok((
            GroupHeader {
                msg_id,
                cre_dt_tm,
                btch_bookg,
                ctrl_sum,
                ttl_intr_bk_sttlm_amt,
                intr_bk_sttlm_dt,
                sttlm_inf,
                pmt_tp_inf,
                instg_agt,
                instd_agt,
            },
            nb_of_txs,
        ))
    }

    pub(crate) fn write(&self, out: &mut Out, nb_of_txs: usize) {
        out.start("GrpHdr");
        out.leaf("MsgId", &self.msg_id);
        out.leaf("CreDtTm", &self.cre_dt_tm);
        out.opt("BtchBookg", &self.btch_bookg);
        out.text("NbOfTxs", &nb_of_txs.to_string());
        out.opt("CtrlSum", &self.ctrl_sum);
        out.opt("TtlIntrBkSttlmAmt", &self.ttl_intr_bk_sttlm_amt);
        out.opt("IntrBkSttlmDt", &self.intr_bk_sttlm_dt);
        self.sttlm_inf.to_xml(out, "SttlmInf");
        out.opt("PmtTpInf", &self.pmt_tp_inf);
        out.opt("InstgAgt", &self.instg_agt);
        out.opt("InstdAgt", &self.instd_agt);
        out.end("GrpHdr");
    }
}

xml_struct! {
    /// `PaymentIdentification7`: the references a payment carries end to end.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct PaymentId {
        /// `<InstrId>`: point-to-point reference of the instructing agent.
        instr_id: opt Max35Text = "InstrId",
        /// `<EndToEndId>`: the originator's reference, unchanged along the chain.
        end_to_end_id: req Max35Text = "EndToEndId",
        /// `<TxId>`: the first instructing agent's reference.
        tx_id: opt Max35Text = "TxId",
        /// `<UETR>`: the unique end-to-end transaction reference.
        uetr: opt Uetr = "UETR",
        /// `<ClrSysRef>`.
        clr_sys_ref: opt Max35Text = "ClrSysRef",
    }
}

impl PaymentId {
    /// Payment identification with all four gateway references.
    pub fn new(
        instr_id: Max35Text,
        end_to_end_id: Max35Text,
        tx_id: Max35Text,
        uetr: Uetr,
    ) -> Self {
        PaymentId {
            instr_id: Some(instr_id),
            end_to_end_id,
            tx_id: Some(tx_id),
            uetr: Some(uetr),
            clr_sys_ref: None,
        }
    }
}

xml_struct! {
    /// `InstructionForCreditorAgent1`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct InstructionForCreditorAgent {
        /// `<Cd>`.
        cd: opt CreditorAgentInstruction = "Cd",
        /// `<InstrInf>`.
        instr_inf: opt Max140Text = "InstrInf",
    }
}

xml_struct! {
    /// `InstructionForNextAgent1`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct InstructionForNextAgent {
        /// `<Cd>`.
        cd: opt NextAgentInstruction = "Cd",
        /// `<InstrInf>`.
        instr_inf: opt Max140Text = "InstrInf",
    }
}

xml_struct! {
    /// `CreditTransferTransaction39`: one customer credit transfer.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct CreditTransfer {
        /// `<PmtId>`.
        pmt_id: req PaymentId = "PmtId",
        /// `<PmtTpInf>`.
        pmt_tp_inf: opt PaymentTypeInfo = "PmtTpInf",
        /// `<IntrBkSttlmAmt>`: the amount settled between the agents.
        intr_bk_sttlm_amt: req Amount = "IntrBkSttlmAmt",
        /// `<IntrBkSttlmDt>`.
        intr_bk_sttlm_dt: opt IsoDate = "IntrBkSttlmDt",
        /// `<SttlmPrty>`.
        sttlm_prty: opt SettlementPriority = "SttlmPrty",
        /// `<SttlmTmIndctn>`.
        sttlm_tm_indctn: opt SettlementTimeIndication = "SttlmTmIndctn",
        /// `<SttlmTmReq>`.
        sttlm_tm_req: opt SettlementTimeRequest = "SttlmTmReq",
        /// `<AccptncDtTm>`.
        accptnc_dt_tm: opt IsoDateTime = "AccptncDtTm",
        /// `<PoolgAdjstmntDt>`.
        poolg_adjstmnt_dt: opt IsoDate = "PoolgAdjstmntDt",
        /// `<InstdAmt>`: the amount the debtor instructed, before charges.
        instd_amt: opt Amount = "InstdAmt",
        /// `<XchgRate>`: the rate between the instructed and the settled currency.
        xchg_rate: opt BaseOneRate = "XchgRate",
        /// `<ChrgBr>`.
        chrg_br: req ChargeBearer = "ChrgBr",
        /// `<ChrgsInf>`.
        chrgs_inf: many Charges = "ChrgsInf",
        /// `<PrvsInstgAgt1>`.
        prvs_instg_agt1: opt Agent = "PrvsInstgAgt1",
        /// `<PrvsInstgAgt1Acct>`.
        prvs_instg_agt1_acct: opt CashAccount = "PrvsInstgAgt1Acct",
        /// `<PrvsInstgAgt2>`.
        prvs_instg_agt2: opt Agent = "PrvsInstgAgt2",
        /// `<PrvsInstgAgt2Acct>`.
        prvs_instg_agt2_acct: opt CashAccount = "PrvsInstgAgt2Acct",
        /// `<PrvsInstgAgt3>`.
        prvs_instg_agt3: opt Agent = "PrvsInstgAgt3",
        /// `<PrvsInstgAgt3Acct>`.
        prvs_instg_agt3_acct: opt CashAccount = "PrvsInstgAgt3Acct",
        /// `<InstgAgt>`.
        instg_agt: opt Agent = "InstgAgt",
        /// `<InstdAgt>`.
        instd_agt: opt Agent = "InstdAgt",
        /// `<IntrmyAgt1>`.
        intrmy_agt1: opt Agent = "IntrmyAgt1",
        /// `<IntrmyAgt1Acct>`.
        intrmy_agt1_acct: opt CashAccount = "IntrmyAgt1Acct",
        /// `<IntrmyAgt2>`.
        intrmy_agt2: opt Agent = "IntrmyAgt2",
        /// `<IntrmyAgt2Acct>`.
        intrmy_agt2_acct: opt CashAccount = "IntrmyAgt2Acct",
        /// `<IntrmyAgt3>`.
        intrmy_agt3: opt Agent = "IntrmyAgt3",
        /// `<IntrmyAgt3Acct>`.
        intrmy_agt3_acct: opt CashAccount = "IntrmyAgt3Acct",
        /// `<UltmtDbtr>`.
        ultmt_dbtr: opt Party = "UltmtDbtr",
        /// `<InitgPty>`.
        initg_pty: opt Party = "InitgPty",
        /// `<Dbtr>`.
        dbtr: req Party = "Dbtr",
        /// `<DbtrAcct>`.
        dbtr_acct: opt CashAccount = "DbtrAcct",
        /// `<DbtrAgt>`.
        dbtr_agt: req Agent = "DbtrAgt",
        /// `<DbtrAgtAcct>`.
        dbtr_agt_acct: opt CashAccount = "DbtrAgtAcct",
        /// `<CdtrAgt>`.
        cdtr_agt: req Agent = "CdtrAgt",
        /// `<CdtrAgtAcct>`.
        cdtr_agt_acct: opt CashAccount = "CdtrAgtAcct",
        /// `<Cdtr>`.
        cdtr: req Party = "Cdtr",
        /// `<CdtrAcct>`.
        cdtr_acct: opt CashAccount = "CdtrAcct",
        /// `<UltmtCdtr>`.
        ultmt_cdtr: opt Party = "UltmtCdtr",
        /// `<InstrForCdtrAgt>`.
        instr_for_cdtr_agt: many InstructionForCreditorAgent = "InstrForCdtrAgt",
        /// `<InstrForNxtAgt>`.
        instr_for_nxt_agt: many InstructionForNextAgent = "InstrForNxtAgt",
        /// `<Purp>`: `Cd` from ExternalPurpose1Code or `Prtry`.
        purp: opt CodeOrProprietary<4> = "Purp",
        /// `<RgltryRptg>`, at most 10.
        rgltry_rptg: many RegulatoryReporting = "RgltryRptg" max 10,
        /// `<Tax>`.
        tax: opt crate::tax::TaxInformation = "Tax",
        /// `<RltdRmtInf>`, at most 10: where remittance information sent separately is.
        rltd_rmt_inf: many crate::remittance::RemittanceLocation = "RltdRmtInf" max 10,
        /// `<RmtInf>`.
        rmt_inf: opt RemittanceInfo = "RmtInf",
        /// `<SplmtryData>`.
        splmtry_data: many SupplementaryData = "SplmtryData",
    }
}

impl CreditTransfer {
    /// A transaction with the required elements; optional ones are `None` / empty.
    pub fn new(
        pmt_id: PaymentId,
        intr_bk_sttlm_amt: Amount,
        chrg_br: ChargeBearer,
        dbtr: Party,
        dbtr_agt: Agent,
        cdtr_agt: Agent,
        cdtr: Party,
    ) -> Self {
        CreditTransfer {
            pmt_id,
            pmt_tp_inf: None,
            intr_bk_sttlm_amt,
            intr_bk_sttlm_dt: None,
            sttlm_prty: None,
            sttlm_tm_indctn: None,
            sttlm_tm_req: None,
            accptnc_dt_tm: None,
            poolg_adjstmnt_dt: None,
            instd_amt: None,
            xchg_rate: None,
            chrg_br,
            chrgs_inf: Vec::new(),
            prvs_instg_agt1: None,
            prvs_instg_agt1_acct: None,
            prvs_instg_agt2: None,
            prvs_instg_agt2_acct: None,
            prvs_instg_agt3: None,
            prvs_instg_agt3_acct: None,
            instg_agt: None,
            instd_agt: None,
            intrmy_agt1: None,
            intrmy_agt1_acct: None,
            intrmy_agt2: None,
            intrmy_agt2_acct: None,
            intrmy_agt3: None,
            intrmy_agt3_acct: None,
            ultmt_dbtr: None,
            initg_pty: None,
            dbtr,
            dbtr_acct: None,
            dbtr_agt,
            dbtr_agt_acct: None,
            cdtr_agt,
            cdtr_agt_acct: None,
            cdtr,
            cdtr_acct: None,
            ultmt_cdtr: None,
            instr_for_cdtr_agt: Vec::new(),
            instr_for_nxt_agt: Vec::new(),
            purp: None,
            rgltry_rptg: Vec::new(),
            tax: None,
            rltd_rmt_inf: Vec::new(),
            rmt_inf: None,
            splmtry_data: Vec::new(),
        }
    }
}

/// A pacs.008.001.08 message (the `<FIToFICstmrCdtTrf>` inside `<Document>`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Pacs008 {
    /// `<GrpHdr>`.
    pub grp_hdr: GroupHeader,
    /// `<CdtTrfTxInf>`: CBPR+ allows exactly one.
    #[serde(deserialize_with = "crate::de::non_empty")]
    pub cdt_trf_tx_inf: Vec<CreditTransfer>,
    /// `<SplmtryData>`.
    #[serde(default)]
    pub splmtry_data: Vec<SupplementaryData>,
}

impl Pacs008 {
    /// A message with one transaction.
    pub fn new(grp_hdr: GroupHeader, tx: CreditTransfer) -> Self {
        Pacs008 {
            grp_hdr,
            cdt_trf_tx_inf: vec![tx],
            splmtry_data: Vec::new(),
        }
    }

    /// `GrpHdr/MsgId`.
    pub fn msg_id(&self) -> &str {
        self.grp_hdr.msg_id.as_str()
    }

    /// The first transaction (CBPR+ messages have exactly one).
    pub fn tx(&self) -> Option<&CreditTransfer> {
        self.cdt_trf_tx_inf.first()
    }

    /// `PmtId/UETR` of the first transaction.
    pub fn uetr(&self) -> Option<&Uetr> {
        self.tx().and_then(|t| t.pmt_id.uetr.as_ref())
    }

    /// `PmtId/EndToEndId` of the first transaction.
    pub fn end_to_end_id(&self) -> Option<&str> {
        self.tx().map(|t| t.pmt_id.end_to_end_id.as_str())
    }

    /// `PmtId/InstrId` of the first transaction.
    pub fn instr_id(&self) -> Option<&str> {
        self.tx()
            .and_then(|t| t.pmt_id.instr_id.as_ref())
            .map(|s| s.as_str())
    }

    /// `PmtId/TxId` of the first transaction.
    pub fn tx_id(&self) -> Option<&str> {
        self.tx()
            .and_then(|t| t.pmt_id.tx_id.as_ref())
            .map(|s| s.as_str())
    }

    pub(crate) fn read(tree: &Tree<'_>, id: NodeId) -> XResult<Self> {
        let mut s = tree.seq(id);
        let grp_hdr_node = s.req_node("GrpHdr")?;
        let (grp_hdr, nb_of_txs) = GroupHeader::read(tree, grp_hdr_node)?;
        let cdt_trf_tx_inf: Vec<CreditTransfer> = s.many("CdtTrfTxInf", usize::MAX)?;
        if cdt_trf_tx_inf.is_empty() {
            s.req_node("CdtTrfTxInf")?;
        }
        check_nb_of_txs(tree, nb_of_txs, cdt_trf_tx_inf.len())?;
        let splmtry_data = s.many("SplmtryData", usize::MAX)?;
        Ok(Pacs008 {
            grp_hdr,
            cdt_trf_tx_inf,
            splmtry_data,
        })
    }

    pub(crate) fn write(&self, out: &mut Out) {
        out.start(ROOT);
        self.grp_hdr.write(out, self.cdt_trf_tx_inf.len());
        out.many("CdtTrfTxInf", &self.cdt_trf_tx_inf);
        out.many("SplmtryData", &self.splmtry_data);
        out.end(ROOT);
    }
}

impl FromXml for Pacs008 {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> XResult<Self> {
        Self::read(tree, id)
    }
}

impl crate::message::Message for Pacs008 {
    const NAMESPACE: &'static str = NAMESPACE;
    const ROOT: &'static str = ROOT;
    fn read(tree: &Tree<'_>, id: NodeId) -> XResult<Self> {
        Pacs008::read(tree, id)
    }
    fn write(&self, out: &mut Out) {
        Pacs008::write(self, out)
    }
    fn msg_id(&self) -> Option<&str> {
        Some(Pacs008::msg_id(self))
    }
}
