//! pain.001.001.09, `CstmrCdtTrfInitn`: a corporate client's payment order to its bank.

use crate::amount::Amount;
use crate::common::*;
use crate::error::XResult;
use crate::iso4217::Currency;
use crate::pacs008::InstructionForCreditorAgent;
use crate::types::*;
use crate::xml::reader::{FromXml, NodeId, Tree};
use crate::xml::writer::{Out, ToXml};
use crate::xml::xml_struct;

/// The pain.001.001.09 namespace.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";
/// The message definition identifier.
pub const MSG_DEF_IDR: &str = "pain.001.001.09";
/// The message element under `<Document>`.
pub const ROOT: &str = "CstmrCdtTrfInitn";

xml_struct! {
    /// `GroupHeader85`. `NbOfTxs` is derived.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct GroupHeader {
        /// `<MsgId>`.
        msg_id: req Max35Text = "MsgId",
        /// `<CreDtTm>`.
        cre_dt_tm: req IsoDateTime = "CreDtTm",
        /// `<Authstn>`, at most 2: the initiating party's authorisation (`Authorisation1Choice`).
        authstn: many AuthorisationChoice = "Authstn" max 2,
        /// `<CtrlSum>`: the sum of all instructed amounts, as the initiating party states it
        /// (kept as written; not checked against the transfers).
        ctrl_sum: opt DecimalNumber = "CtrlSum",
        /// `<InitgPty>`.
        initg_pty: req Party = "InitgPty",
        /// `<FwdgAgt>`.
        fwdg_agt: opt Agent = "FwdgAgt",
    }
}

impl GroupHeader {
    /// A group header with the required elements.
    pub fn new(msg_id: Max35Text, cre_dt_tm: IsoDateTime, initg_pty: Party) -> Self {
        GroupHeader {
            msg_id,
            cre_dt_tm,
            authstn: Vec::new(),
            ctrl_sum: None,
            initg_pty,
            fwdg_agt: None,
        }
    }
}

/// `Authorisation1Choice`: a code, or a proprietary authorisation of up to 128 characters.
pub type AuthorisationChoice = CodeChoice<Authorisation, Max128Text>;

xml_struct! {
    /// `PaymentIdentification6`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct PaymentId {
        /// `<InstrId>`.
        instr_id: opt Max35Text = "InstrId",
        /// `<EndToEndId>`.
        end_to_end_id: req Max35Text = "EndToEndId",
        /// `<UETR>`.
        uetr: opt Uetr = "UETR",
    }
}

xml_struct! {
    /// `EquivalentAmount2`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct EquivalentAmount {
        /// `<Amt>`.
        amt: req Amount = "Amt",
        /// `<CcyOfTrf>`.
        ccy_of_trf: req &'static crate::Currency = "CcyOfTrf",
    }
}

/// `AmountType4Choice`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub enum InstructedAmount {
    /// `<InstdAmt>`.
    InstdAmt(Amount),
    /// `<EqvtAmt>`.
    EqvtAmt(EquivalentAmount),
}

impl FromXml for InstructedAmount {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> XResult<Self> {
        match choice(tree, id, &["InstdAmt", "EqvtAmt"])? {
            (c, 0) => Ok(InstructedAmount::InstdAmt(Amount::from_xml(tree, c)?)),
            (c, _) => Ok(InstructedAmount::EqvtAmt(EquivalentAmount::from_xml(
                tree, c,
            )?)),
        }
    }
}

impl ToXml for InstructedAmount {
    fn to_xml(&self, out: &mut Out, name: &str) {
        out.start(name);
        match self {
            InstructedAmount::InstdAmt(a) => out.amount("InstdAmt", a),
            InstructedAmount::EqvtAmt(e) => e.to_xml(out, "EqvtAmt"),
        }
        out.end(name);
    }
}

xml_struct! {
    /// `ExchangeRate1`: the rate the debtor agreed with its bank.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct ExchangeRateInfo {
        /// `<UnitCcy>`.
        unit_ccy: opt &'static Currency = "UnitCcy",
        /// `<XchgRate>`.
        xchg_rate: opt BaseOneRate = "XchgRate",
        /// `<RateTp>`.
        rate_tp: opt ExchangeRateType = "RateTp",
        /// `<CtrctId>`.
        ctrct_id: opt Max35Text = "CtrctId",
    }
}

/// `ChequeDeliveryMethod1Choice`.
pub type ChequeDeliveryMethod = CodeChoice<ChequeDelivery, Max35Text>;

xml_struct! {
    /// `Cheque11`: the cheque to issue for a payment by cheque.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct Cheque {
        /// `<ChqTp>`.
        chq_tp: opt ChequeType = "ChqTp",
        /// `<ChqNb>`.
        chq_nb: opt Max35Text = "ChqNb",
        /// `<ChqFr>`: who the cheque is from.
        chq_fr: opt crate::remittance::NameAndAddress = "ChqFr",
        /// `<DlvryMtd>`.
        dlvry_mtd: opt ChequeDeliveryMethod = "DlvryMtd",
        /// `<DlvrTo>`: who receives it.
        dlvr_to: opt crate::remittance::NameAndAddress = "DlvrTo",
        /// `<InstrPrty>`.
        instr_prty: opt Priority = "InstrPrty",
        /// `<ChqMtrtyDt>`.
        chq_mtrty_dt: opt IsoDate = "ChqMtrtyDt",
        /// `<FrmsCd>`: the form to print it on.
        frms_cd: opt Max35Text = "FrmsCd",
        /// `<MemoFld>`, at most 2.
        memo_fld: many Max35Text = "MemoFld" max 2,
        /// `<RgnlClrZone>`.
        rgnl_clr_zone: opt Max35Text = "RgnlClrZone",
        /// `<PrtLctn>`: where to print it.
        prt_lctn: opt Max35Text = "PrtLctn",
        /// `<Sgntr>`, at most 5: names to print as signatures.
        sgntr: many Max70Text = "Sgntr" max 5,
    }
}

// A cheque instruction is rare and has two names and addresses: boxed, so that a transfer
// without one stays small to move.
impl FromXml for Box<Cheque> {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> XResult<Self> {
        Cheque::from_xml(tree, id).map(Box::new)
    }
}

impl ToXml for Box<Cheque> {
    fn to_xml(&self, out: &mut Out, name: &str) {
        Cheque::to_xml(self, out, name);
    }
}

xml_struct! {
    /// `CreditTransferTransaction34`: one payment of the order.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct Transfer {
        /// `<PmtId>`.
        pmt_id: req PaymentId = "PmtId",
        /// `<PmtTpInf>`.
        pmt_tp_inf: opt InitiationPaymentTypeInfo = "PmtTpInf",
        /// `<Amt>`.
        amt: req InstructedAmount = "Amt",
        /// `<XchgRateInf>`.
        xchg_rate_inf: opt ExchangeRateInfo = "XchgRateInf",
        /// `<ChrgBr>`.
        chrg_br: opt ChargeBearer = "ChrgBr",
        /// `<ChqInstr>`: how to issue the cheque, when the payment method is CHK.
        chq_instr: opt Box<Cheque> = "ChqInstr",
        /// `<UltmtDbtr>`.
        ultmt_dbtr: opt Party = "UltmtDbtr",
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
        cdtr_agt: opt Agent = "CdtrAgt",
        /// `<CdtrAgtAcct>`.
        cdtr_agt_acct: opt CashAccount = "CdtrAgtAcct",
        /// `<Cdtr>`.
        cdtr: opt Party = "Cdtr",
        /// `<CdtrAcct>`.
        cdtr_acct: opt CashAccount = "CdtrAcct",
        /// `<UltmtCdtr>`.
        ultmt_cdtr: opt Party = "UltmtCdtr",
        /// `<InstrForCdtrAgt>`.
        instr_for_cdtr_agt: many InstructionForCreditorAgent = "InstrForCdtrAgt",
        /// `<InstrForDbtrAgt>`.
        instr_for_dbtr_agt: opt Max140Text = "InstrForDbtrAgt",
        /// `<Purp>`.
        purp: opt CodeOrProprietary<4> = "Purp",
        /// `<RgltryRptg>`, at most 10.
        rgltry_rptg: many RegulatoryReporting = "RgltryRptg" max 10,
        /// `<Tax>`.
        tax: opt crate::tax::TaxInformation = "Tax",
        /// `<RltdRmtInf>`, at most 10.
        rltd_rmt_inf: many crate::remittance::RemittanceLocation = "RltdRmtInf" max 10,
        /// `<RmtInf>`.
        rmt_inf: opt RemittanceInfo = "RmtInf",
        /// `<SplmtryData>`.
        splmtry_data: many SupplementaryData = "SplmtryData",
    }
}

impl Transfer {
    /// A payment of `amt` with the given end-to-end reference.
    pub fn new(end_to_end_id: Max35Text, amt: InstructedAmount) -> Self {
        Transfer {
            pmt_id: PaymentId {
                instr_id: None,
                end_to_end_id,
                uetr: None,
            },
            pmt_tp_inf: None,
            amt,
            xchg_rate_inf: None,
            chrg_br: None,
            chq_instr: None,
            ultmt_dbtr: None,
            intrmy_agt1: None,
            intrmy_agt1_acct: None,
            intrmy_agt2: None,
            intrmy_agt2_acct: None,
            intrmy_agt3: None,
            intrmy_agt3_acct: None,
            cdtr_agt: None,
            cdtr_agt_acct: None,
            cdtr: None,
            cdtr_acct: None,
            ultmt_cdtr: None,
            instr_for_cdtr_agt: Vec::new(),
            instr_for_dbtr_agt: None,
            purp: None,
            rgltry_rptg: Vec::new(),
            tax: None,
            rltd_rmt_inf: Vec::new(),
            rmt_inf: None,
            splmtry_data: Vec::new(),
        }
    }
}

/// `PaymentInstruction30`: a batch of transfers from one debtor account. Its `NbOfTxs` is
/// written from, and checked against, the transfers.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PaymentInstruction {
    /// `<PmtInfId>`.
    pub pmt_inf_id: Max35Text,
    /// `<PmtMtd>`.
    pub pmt_mtd: PaymentMethod,
    /// `<BtchBookg>`.
    pub btch_bookg: Option<bool>,
    /// `<CtrlSum>`: the sum of this batch's instructed amounts, as stated (kept as written;
    /// not checked).
    pub ctrl_sum: Option<DecimalNumber>,
    /// `<PmtTpInf>`.
    pub pmt_tp_inf: Option<InitiationPaymentTypeInfo>,
    /// `<ReqdExctnDt>`.
    pub reqd_exctn_dt: DateOrDateTime,
    /// `<PoolgAdjstmntDt>`.
    pub poolg_adjstmnt_dt: Option<IsoDate>,
    /// `<Dbtr>`.
    pub dbtr: Party,
    /// `<DbtrAcct>`.
    pub dbtr_acct: CashAccount,
    /// `<DbtrAgt>`.
    pub dbtr_agt: Agent,
    /// `<DbtrAgtAcct>`.
    pub dbtr_agt_acct: Option<CashAccount>,
    /// `<InstrForDbtrAgt>`.
    pub instr_for_dbtr_agt: Option<Max140Text>,
    /// `<UltmtDbtr>`.
    pub ultmt_dbtr: Option<Party>,
    /// `<ChrgBr>`.
    pub chrg_br: Option<ChargeBearer>,
    /// `<ChrgsAcct>`.
    pub chrgs_acct: Option<CashAccount>,
    /// `<ChrgsAcctAgt>`.
    pub chrgs_acct_agt: Option<Agent>,
    /// `<CdtTrfTxInf>`: one or more.
    #[serde(deserialize_with = "crate::de::non_empty")]
    pub cdt_trf_tx_inf: Vec<Transfer>,
}

impl InstructedAmount {
    /// The amount instructed (the equivalent amount's own amount for `EqvtAmt`).
    pub fn amount(&self) -> &Amount {
        match self {
            InstructedAmount::InstdAmt(a) => a,
            InstructedAmount::EqvtAmt(e) => &e.amt,
        }
    }
}

impl PaymentInstruction {
    /// The control sum of this batch's instructed amounts (see [`Amount::control_sum`]).
    pub fn control_sum(&self) -> Option<DecimalNumber> {
        Amount::control_sum(self.cdt_trf_tx_inf.iter().map(|t| t.amt.amount()))
    }

    /// A batch with one transfer.
    pub fn new(
        pmt_inf_id: Max35Text,
        reqd_exctn_dt: DateOrDateTime,
        dbtr: Party,
        dbtr_acct: CashAccount,
        dbtr_agt: Agent,
        transfer: Transfer,
    ) -> Self {
        PaymentInstruction {
            pmt_inf_id,
            pmt_mtd: PaymentMethod::Trf,
            btch_bookg: None,
            ctrl_sum: None,
            pmt_tp_inf: None,
            reqd_exctn_dt,
            poolg_adjstmnt_dt: None,
            dbtr,
            dbtr_acct,
            dbtr_agt,
            dbtr_agt_acct: None,
            instr_for_dbtr_agt: None,
            ultmt_dbtr: None,
            chrg_br: None,
            chrgs_acct: None,
            chrgs_acct_agt: None,
            cdt_trf_tx_inf: vec![transfer],
        }
    }
}

impl FromXml for PaymentInstruction {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> XResult<Self> {
        let mut s = tree.seq(id);
        let pmt_inf_id = s.req("PmtInfId")?;
        let pmt_mtd = s.req("PmtMtd")?;
        let btch_bookg = s.opt("BtchBookg")?;
        let nb_of_txs = s.opt_node("NbOfTxs");
        let ctrl_sum = s.opt("CtrlSum")?;
        let pmt_tp_inf = s.opt("PmtTpInf")?;
        let reqd_exctn_dt = s.req("ReqdExctnDt")?;
        let poolg_adjstmnt_dt = s.opt("PoolgAdjstmntDt")?;
        let dbtr = s.req("Dbtr")?;
        let dbtr_acct = s.req("DbtrAcct")?;
        let dbtr_agt = s.req("DbtrAgt")?;
        let dbtr_agt_acct = s.opt("DbtrAgtAcct")?;
        let instr_for_dbtr_agt = s.opt("InstrForDbtrAgt")?;
        let ultmt_dbtr = s.opt("UltmtDbtr")?;
        let chrg_br = s.opt("ChrgBr")?;
        let chrgs_acct = s.opt("ChrgsAcct")?;
        let chrgs_acct_agt = s.opt("ChrgsAcctAgt")?;
        let cdt_trf_tx_inf: Vec<Transfer> = s.some("CdtTrfTxInf")?;
        if let Some(n) = nb_of_txs {
            check_nb_of_txs(tree, n, cdt_trf_tx_inf.len())?;
        }
        Ok(PaymentInstruction {
            pmt_inf_id,
            pmt_mtd,
            btch_bookg,
            ctrl_sum,
            pmt_tp_inf,
            reqd_exctn_dt,
            poolg_adjstmnt_dt,
            dbtr,
            dbtr_acct,
            dbtr_agt,
            dbtr_agt_acct,
            instr_for_dbtr_agt,
            ultmt_dbtr,
            chrg_br,
            chrgs_acct,
            chrgs_acct_agt,
            cdt_trf_tx_inf,
        })
    }
}

impl PaymentInstruction {
    /// Writes the block, with its own `NbOfTxs` only if `own_count`: in a message of one
    /// block that count repeats the group header's, and CBPR+, which allows one block, has no
    /// such element.
    fn write(&self, out: &mut Out, name: &str, own_count: bool) {
        out.start(name);
        out.leaf("PmtInfId", &self.pmt_inf_id);
        out.leaf("PmtMtd", &self.pmt_mtd);
        out.opt("BtchBookg", &self.btch_bookg);
        if own_count {
            out.text("NbOfTxs", &self.cdt_trf_tx_inf.len().to_string());
        }
        out.opt("CtrlSum", &self.ctrl_sum);
        out.opt("PmtTpInf", &self.pmt_tp_inf);
        self.reqd_exctn_dt.to_xml(out, "ReqdExctnDt");
        out.opt("PoolgAdjstmntDt", &self.poolg_adjstmnt_dt);
        self.dbtr.to_xml(out, "Dbtr");
        self.dbtr_acct.to_xml(out, "DbtrAcct");
        self.dbtr_agt.to_xml(out, "DbtrAgt");
        out.opt("DbtrAgtAcct", &self.dbtr_agt_acct);
        out.opt("InstrForDbtrAgt", &self.instr_for_dbtr_agt);
        out.opt("UltmtDbtr", &self.ultmt_dbtr);
        out.opt("ChrgBr", &self.chrg_br);
        out.opt("ChrgsAcct", &self.chrgs_acct);
        out.opt("ChrgsAcctAgt", &self.chrgs_acct_agt);
        out.many("CdtTrfTxInf", &self.cdt_trf_tx_inf);
        out.end(name);
    }
}

impl ToXml for PaymentInstruction {
    /// A block written alone states its own number of transactions.
    fn to_xml(&self, out: &mut Out, name: &str) {
        self.write(out, name, true);
    }
}

/// A pain.001.001.09 message (`<CstmrCdtTrfInitn>`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct Pain001 {
    /// `<GrpHdr>`.
    pub grp_hdr: GroupHeader,
    /// `<PmtInf>`: one or more.
    #[serde(deserialize_with = "crate::de::non_empty")]
    pub pmt_inf: Vec<PaymentInstruction>,
    /// `<SplmtryData>`.
    #[serde(default)]
    pub splmtry_data: Vec<SupplementaryData>,
}

impl Pain001 {
    /// An order with one payment instruction.
    pub fn new(grp_hdr: GroupHeader, pmt_inf: PaymentInstruction) -> Self {
        Pain001 {
            grp_hdr,
            pmt_inf: vec![pmt_inf],
            splmtry_data: Vec::new(),
        }
    }

    /// `GrpHdr/MsgId`.
    pub fn msg_id(&self) -> &str {
        self.grp_hdr.msg_id.as_str()
    }

    /// Every transfer, in document order.
    pub fn transfers(&self) -> impl Iterator<Item = &Transfer> {
        self.pmt_inf.iter().flat_map(|p| p.cdt_trf_tx_inf.iter())
    }
}

impl FromXml for Pain001 {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> XResult<Self> {
        let mut s = tree.seq(id);
        let hdr = s.req_node("GrpHdr")?;
        let grp_hdr = {
            let mut h = tree.seq(hdr);
            let msg_id = h.req("MsgId")?;
            let cre_dt_tm = h.req("CreDtTm")?;
            let authstn = h.many("Authstn", 2)?;
            let nb = h.req_node("NbOfTxs")?;
            let ctrl_sum = h.opt("CtrlSum")?;
            let initg_pty = h.req("InitgPty")?;
            let fwdg_agt = h.opt("FwdgAgt")?;
            (
                GroupHeader {
                    msg_id,
                    cre_dt_tm,
                    authstn,
                    ctrl_sum,
                    initg_pty,
                    fwdg_agt,
                },
                nb,
            )
        };
        let pmt_inf: Vec<PaymentInstruction> = s.some("PmtInf")?;
        let total = pmt_inf.iter().map(|p| p.cdt_trf_tx_inf.len()).sum();
        check_nb_of_txs(tree, grp_hdr.1, total)?;
        let splmtry_data = s.many("SplmtryData", usize::MAX)?;
        Ok(Pain001 {
            grp_hdr: grp_hdr.0,
            pmt_inf,
            splmtry_data,
        })
    }
}

impl ToXml for Pain001 {
    fn to_xml(&self, out: &mut Out, name: &str) {
        out.start(name);
        out.start("GrpHdr");
        out.leaf("MsgId", &self.grp_hdr.msg_id);
        out.leaf("CreDtTm", &self.grp_hdr.cre_dt_tm);
        out.many("Authstn", &self.grp_hdr.authstn);
        out.text("NbOfTxs", &self.transfers().count().to_string());
        out.opt("CtrlSum", &self.grp_hdr.ctrl_sum);
        self.grp_hdr.initg_pty.to_xml(out, "InitgPty");
        out.opt("FwdgAgt", &self.grp_hdr.fwdg_agt);
        out.end("GrpHdr");
        let several = self.pmt_inf.len() > 1;
        for p in &self.pmt_inf {
            p.write(out, "PmtInf", several);
        }
        out.many("SplmtryData", &self.splmtry_data);
        out.end(name);
    }
}

message_impl!(Pain001, |m| Some(m.msg_id()));
