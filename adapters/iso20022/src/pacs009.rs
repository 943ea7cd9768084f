//! pacs.009.001.08, `FICdtTrf`: the financial institution credit transfer, including the cover
//! variant (a pacs.009 whose `UndrlygCstmrCdtTrf` describes the pacs.008 it covers).

use crate::amount::Amount;
use crate::common::*;
use crate::error::XResult;
use crate::pacs008::{GroupHeader, InstructionForNextAgent, PaymentId};
use crate::types::*;
use crate::xml::reader::{FromXml, NodeId, Tree};
use crate::xml::writer::Out;
use crate::xml::xml_struct;

/// The pacs.009.001.08 namespace.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pacs.009.001.08";
/// The message definition identifier (AppHdr `MsgDefIdr`).
pub const MSG_DEF_IDR: &str = "pacs.009.001.08";
/// The message element under `<Document>`.
pub const ROOT: &str = "FICdtTrf";

xml_struct! {
    /// `InstructionForCreditorAgent2`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct InstructionForCreditorAgent {
        /// `<Cd>`.
        cd: opt FiCreditorAgentInstruction = "Cd",
        /// `<InstrInf>`.
        instr_inf: opt Max140Text = "InstrInf",
    }
}

xml_struct! {
    /// `CreditTransferTransaction37`: the customer credit transfer a cover payment covers.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct UnderlyingCustomerCreditTransfer {
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
        instr_for_cdtr_agt: many crate::pacs008::InstructionForCreditorAgent = "InstrForCdtrAgt",
        /// `<InstrForNxtAgt>`.
        instr_for_nxt_agt: many InstructionForNextAgent = "InstrForNxtAgt",
        /// `<RmtInf>`.
        rmt_inf: opt RemittanceInfo = "RmtInf",
        /// `<InstdAmt>`.
        instd_amt: opt Amount = "InstdAmt",
    }
}

impl UnderlyingCustomerCreditTransfer {
    /// The underlying transfer's parties.
    pub fn new(dbtr: Party, dbtr_agt: Agent, cdtr_agt: Agent, cdtr: Party) -> Self {
        UnderlyingCustomerCreditTransfer {
            ultmt_dbtr: None,
            initg_pty: None,
            dbtr,
            dbtr_acct: None,
            dbtr_agt,
            dbtr_agt_acct: None,
            prvs_instg_agt1: None,
            prvs_instg_agt1_acct: None,
            prvs_instg_agt2: None,
            prvs_instg_agt2_acct: None,
            prvs_instg_agt3: None,
            prvs_instg_agt3_acct: None,
            intrmy_agt1: None,
            intrmy_agt1_acct: None,
            intrmy_agt2: None,
            intrmy_agt2_acct: None,
            intrmy_agt3: None,
            intrmy_agt3_acct: None,
            cdtr_agt,
            cdtr_agt_acct: None,
            cdtr,
            cdtr_acct: None,
            ultmt_cdtr: None,
            instr_for_cdtr_agt: Vec::new(),
            instr_for_nxt_agt: Vec::new(),
            rmt_inf: None,
            instd_amt: None,
        }
    }
}

xml_struct! {
    /// `CreditTransferTransaction36`: one bank-to-bank transfer.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct FiCreditTransfer {
        /// `<PmtId>`.
        pmt_id: req PaymentId = "PmtId",
        /// `<PmtTpInf>`.
        pmt_tp_inf: opt PaymentTypeInfo = "PmtTpInf",
        /// `<IntrBkSttlmAmt>`.
        intr_bk_sttlm_amt: req Amount = "IntrBkSttlmAmt",
        /// `<IntrBkSttlmDt>`.
        intr_bk_sttlm_dt: opt IsoDate = "IntrBkSttlmDt",
        /// `<SttlmPrty>`.
        sttlm_prty: opt SettlementPriority = "SttlmPrty",
        /// `<SttlmTmIndctn>`.
        sttlm_tm_indctn: opt SettlementTimeIndication = "SttlmTmIndctn",
        /// `<SttlmTmReq>`.
        sttlm_tm_req: opt SettlementTimeRequest = "SttlmTmReq",
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
        ultmt_dbtr: opt Agent = "UltmtDbtr",
        /// `<Dbtr>`: a financial institution.
        dbtr: req Agent = "Dbtr",
        /// `<DbtrAcct>`.
        dbtr_acct: opt CashAccount = "DbtrAcct",
        /// `<DbtrAgt>`.
        dbtr_agt: opt Agent = "DbtrAgt",
        /// `<DbtrAgtAcct>`.
        dbtr_agt_acct: opt CashAccount = "DbtrAgtAcct",
        /// `<CdtrAgt>`.
        cdtr_agt: opt Agent = "CdtrAgt",
        /// `<CdtrAgtAcct>`.
        cdtr_agt_acct: opt CashAccount = "CdtrAgtAcct",
        /// `<Cdtr>`: a financial institution.
        cdtr: req Agent = "Cdtr",
        /// `<CdtrAcct>`.
        cdtr_acct: opt CashAccount = "CdtrAcct",
        /// `<UltmtCdtr>`.
        ultmt_cdtr: opt Agent = "UltmtCdtr",
        /// `<InstrForCdtrAgt>`.
        instr_for_cdtr_agt: many InstructionForCreditorAgent = "InstrForCdtrAgt",
        /// `<InstrForNxtAgt>`.
        instr_for_nxt_agt: many InstructionForNextAgent = "InstrForNxtAgt",
        /// `<Purp>`.
        purp: opt CodeOrProprietary<4> = "Purp",
        /// `<RmtInf>` (RemittanceInformation2: unstructured lines only).
        rmt_inf: opt UnstructuredRemittance = "RmtInf",
        /// `<UndrlygCstmrCdtTrf>`: present in the cover variant (pacs.009 COV).
        undrlyg_cstmr_cdt_trf: opt UnderlyingCustomerCreditTransfer = "UndrlygCstmrCdtTrf",
        /// `<SplmtryData>`.
        splmtry_data: many SupplementaryData = "SplmtryData",
    }
}

impl FiCreditTransfer {
    /// A transfer with the required elements.
    pub fn new(pmt_id: PaymentId, intr_bk_sttlm_amt: Amount, dbtr: Agent, cdtr: Agent) -> Self {
        FiCreditTransfer {
            pmt_id,
            pmt_tp_inf: None,
            intr_bk_sttlm_amt,
            intr_bk_sttlm_dt: None,
            sttlm_prty: None,
            sttlm_tm_indctn: None,
            sttlm_tm_req: None,
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
            dbtr,
            dbtr_acct: None,
            dbtr_agt: None,
            dbtr_agt_acct: None,
            cdtr_agt: None,
            cdtr_agt_acct: None,
            cdtr,
            cdtr_acct: None,
            ultmt_cdtr: None,
            instr_for_cdtr_agt: Vec::new(),
            instr_for_nxt_agt: Vec::new(),
            purp: None,
            rmt_inf: None,
            undrlyg_cstmr_cdt_trf: None,
            splmtry_data: Vec::new(),
        }
    }
}

/// A pacs.009.001.08 message (`<FICdtTrf>`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Pacs009 {
    /// `<GrpHdr>` (GroupHeader93, as in pacs.008).
    pub grp_hdr: GroupHeader,
    /// `<CdtTrfTxInf>`.
    #[serde(deserialize_with = "crate::de::non_empty")]
    pub cdt_trf_tx_inf: Vec<FiCreditTransfer>,
    /// `<SplmtryData>`.
    #[serde(default)]
    pub splmtry_data: Vec<SupplementaryData>,
}

impl Pacs009 {
    /// A message with one transaction.
    pub fn new(grp_hdr: GroupHeader, tx: FiCreditTransfer) -> Self {
        Pacs009 {
            grp_hdr,
            cdt_trf_tx_inf: vec![tx],
            splmtry_data: Vec::new(),
        }
    }

    /// `GrpHdr/MsgId`.
    pub fn msg_id(&self) -> &str {
        self.grp_hdr.msg_id.as_str()
    }

    /// The first transaction.
    pub fn tx(&self) -> Option<&FiCreditTransfer> {
        self.cdt_trf_tx_inf.first()
    }

    /// Whether this is a cover payment (its transaction carries `UndrlygCstmrCdtTrf`).
    pub fn is_cover(&self) -> bool {
        self.tx().is_some_and(|t| t.undrlyg_cstmr_cdt_trf.is_some())
    }

    /// `PmtId/UETR` of the first transaction.
    pub fn uetr(&self) -> Option<&Uetr> {
        self.tx().and_then(|t| t.pmt_id.uetr.as_ref())
    }

    /// `PmtId/EndToEndId` of the first transaction.
    pub fn end_to_end_id(&self) -> Option<&str> {
        self.tx().map(|t| t.pmt_id.end_to_end_id.as_str())
    }

    pub(crate) fn read(tree: &Tree<'_>, id: NodeId) -> XResult<Self> {
        let mut s = tree.seq(id);
        let grp_hdr_node = s.req_node("GrpHdr")?;
        let (grp_hdr, nb_of_txs) = GroupHeader::read(tree, grp_hdr_node)?;
        let cdt_trf_tx_inf: Vec<FiCreditTransfer> = s.many("CdtTrfTxInf", usize::MAX)?;
        if cdt_trf_tx_inf.is_empty() {
            s.req_node("CdtTrfTxInf")?;
        }
        check_nb_of_txs(tree, nb_of_txs, cdt_trf_tx_inf.len())?;
        let splmtry_data = s.many("SplmtryData", usize::MAX)?;
        Ok(Pacs009 {
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

impl FromXml for Pacs009 {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> XResult<Self> {
        Self::read(tree, id)
    }
}

impl crate::message::Message for Pacs009 {
    const NAMESPACE: &'static str = NAMESPACE;
    const ROOT: &'static str = ROOT;
    fn read(tree: &Tree<'_>, id: NodeId) -> XResult<Self> {
        Pacs009::read(tree, id)
    }
    fn write(&self, out: &mut Out) {
        Pacs009::write(self, out)
    }
    fn msg_id(&self) -> Option<&str> {
        Some(Pacs009::msg_id(self))
    }
}
