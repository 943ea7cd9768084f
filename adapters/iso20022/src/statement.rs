//! Cash management reports: camt.053.001.08 (statement), camt.052.001.08 (intraday report) and
//! camt.054.001.08 (debit/credit notification), which share their group header, account and
//! entry (`Ntry`) structures.
//!
//! Whole documents parse into [`Camt053`], [`Camt052`] and [`Camt054`] through
//! [`crate::Document`]. Large statements are better read with [`EntryStream`], which yields the
//! group header, each report's header, then its entries one at a time, holding only one entry
//! in memory: memory stays flat whatever the number of entries.
//!
//! What a reconciliation reads is typed: the group header with the query it answers
//! (`OrgnlBizQry`), the account, balances, the transactions summary (`TxsSummry`: counts, and
//! sums as exact decimals kept as written, never floats), and each entry with its transactions:
//! references, amounts, codes, parties, agents, remittance, related dates (`RltdDts`), the
//! financial instrument (`FinInstrmId`), the charges and interest of an entry or a transaction
//! (`Chrgs`, `Intrst`: totals and records) and, for a returned payment, the return reason
//! (`RtrInf`; see [`Entry::returns`]).
//!
//! Not typed (lenient parsing reports them in `BusinessMessage::unread`, strict parsing refuses
//! them): a report's reporting sequence, reporting source and interest (`RptgSeq`, `RptgSrc`,
//! `Intrst`); the account proxy; balance sub-types, credit lines and availability; the
//! availability of a per-code total (`TtlNtriesPerBkTxCd/Avlbty`); an entry's availability,
//! commission waiver and additional information indicators, amount details, technical input
//! channel, card transaction and batch details (`NtryDtls/Btch`); an interest rate's validity
//! range (`Rate/VldtyRg`); and, in a transaction, amount details, availability, related
//! remittance location, price and quantities, tax, corporate action, safekeeping account, cash
//! deposits, card transaction, proprietary references and the less common parties and agents.

use std::io::BufRead;

use quick_xml::events::{BytesEnd, BytesStart, BytesText, Event};
use quick_xml::{NsReader, Writer};

use crate::amount::Amount;
use crate::common::*;
use crate::error::{Error, InvalidValue, Result};
use crate::types::*;
use crate::xml::reader::{FromXml, NodeId, Tree};
use crate::xml::writer::{Out, ToXml};
use crate::xml::xml_struct;
use crate::Limits;

xml_struct! {
    /// `Pagination1`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct Pagination {
        /// `<PgNb>`: page number (1 to 5 digits).
        pg_nb: req PageNumber = "PgNb",
        /// `<LastPgInd>`.
        last_pg_ind: req bool = "LastPgInd",
    }
}

/// `Max5NumericText`: a page number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct PageNumber(pub u32);

/// Largest page number `Max5NumericText` can carry.
const PAGE_NUMBER_MAX: u32 = 99_999;

/// JSON in: a number of at most 5 digits (the writer could not write a larger one).
impl<'de> serde::Deserialize<'de> for PageNumber {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = u32::deserialize(deserializer)?;
        if n > PAGE_NUMBER_MAX {
            return Err(serde::de::Error::custom(format!(
                "invalid Max5NumericText {n}: 1 to 5 digits"
            )));
        }
        Ok(PageNumber(n))
    }
}

impl Leaf for PageNumber {
    fn from_text(text: &str) -> Result<Self, InvalidValue> {
        if text.is_empty() || text.len() > 5 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(InvalidValue::new("Max5NumericText", text, "1 to 5 digits"));
        }
        text.parse()
            .map(PageNumber)
            .map_err(|_| InvalidValue::new("Max5NumericText", text, "1 to 5 digits"))
    }
    fn write_text(&self, out: &mut String) {
        out.push_str(&self.0.min(99_999).to_string());
    }
}

xml_struct! {
    /// `OriginalBusinessQuery1`: the query (a camt.060 account reporting request, typically)
    /// this report answers.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct OriginalBusinessQuery {
        /// `<MsgId>`: the query's message identification.
        msg_id: req Max35Text = "MsgId",
        /// `<MsgNmId>`: the query's message name (e.g. `camt.060.001.05`).
        msg_nm_id: opt Max35Text = "MsgNmId",
        /// `<CreDtTm>`: when the query was created.
        cre_dt_tm: opt IsoDateTime = "CreDtTm",
    }
}

xml_struct! {
    /// `GroupHeader81`: the header of a camt.052/053/054.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct GroupHeader {
        /// `<MsgId>`.
        msg_id: req Max35Text = "MsgId",
        /// `<CreDtTm>`.
        cre_dt_tm: req IsoDateTime = "CreDtTm",
        /// `<MsgRcpt>`.
        msg_rcpt: opt Party = "MsgRcpt",
        /// `<MsgPgntn>`.
        msg_pgntn: opt Pagination = "MsgPgntn",
        /// `<OrgnlBizQry>`: the query this report answers, when it answers one.
        orgnl_biz_qry: opt OriginalBusinessQuery = "OrgnlBizQry",
        /// `<AddtlInf>`.
        addtl_inf: opt Max500Text = "AddtlInf",
    }
}

impl GroupHeader {
    /// A header with the required elements.
    pub fn new(msg_id: Max35Text, cre_dt_tm: IsoDateTime) -> Self {
        GroupHeader {
            msg_id,
            cre_dt_tm,
            msg_rcpt: None,
            msg_pgntn: None,
            orgnl_biz_qry: None,
            addtl_inf: None,
        }
    }

    /// `OrgnlBizQry/MsgId`: the message identification of the query this report answers.
    pub fn orgnl_biz_qry_msg_id(&self) -> Option<&str> {
        self.orgnl_biz_qry.as_ref().map(|q| q.msg_id.as_str())
    }
}

xml_struct! {
    /// `DateTimePeriod1`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct DateTimePeriod {
        /// `<FrDtTm>`.
        fr_dt_tm: req IsoDateTime = "FrDtTm",
        /// `<ToDtTm>`.
        to_dt_tm: req IsoDateTime = "ToDtTm",
    }
}

xml_struct! {
    /// `CashAccount39`: the reported account (proxy not modelled).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct ReportedAccount {
        /// `<Id>`.
        id: req AccountId = "Id",
        /// `<Tp>`.
        tp: opt CodeOrProprietary<4> = "Tp",
        /// `<Ccy>`.
        ccy: opt &'static crate::Currency = "Ccy",
        /// `<Nm>`.
        nm: opt Max70Text = "Nm",
        /// `<Ownr>`.
        ownr: opt Party = "Ownr",
        /// `<Svcr>`.
        svcr: opt Agent = "Svcr",
    }
}

impl ReportedAccount {
    /// The IBAN or other identifier, as text.
    pub fn id_str(&self) -> &str {
        match &self.id {
            AccountId::Iban(i) => i.as_str(),
            AccountId::Othr(o) => o.id.as_str(),
        }
    }

    /// An account with its identification only.
    pub fn new(id: AccountId) -> Self {
        ReportedAccount {
            id,
            tp: None,
            ccy: None,
            nm: None,
            ownr: None,
            svcr: None,
        }
    }
}

xml_struct! {
    /// `BalanceType13` (sub-type not modelled).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct BalanceType {
        /// `<CdOrPrtry>`: `Cd` from ExternalBalanceType1Code (`OPBD`, `CLBD`, `ITBD`, ...).
        cd_or_prtry: req CodeOrProprietary<4> = "CdOrPrtry",
    }
}

xml_struct! {
    /// `CashBalance8` (credit lines and availability not modelled).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct Balance {
        /// `<Tp>`.
        tp: req BalanceType = "Tp",
        /// `<Amt>`.
        amt: req Amount = "Amt",
        /// `<CdtDbtInd>`.
        cdt_dbt_ind: req CreditDebit = "CdtDbtInd",
        /// `<Dt>`.
        dt: req DateOrDateTime = "Dt",
    }
}

impl Balance {
    /// A balance of the given type code (e.g. `CLBD`).
    pub fn new(
        code: &str,
        amt: Amount,
        cdt_dbt_ind: CreditDebit,
        dt: DateOrDateTime,
    ) -> Result<Self, InvalidValue> {
        Ok(Balance {
            tp: BalanceType {
                cd_or_prtry: CodeOrProprietary::code(code)?,
            },
            amt,
            cdt_dbt_ind,
            dt,
        })
    }

    /// The balance type code, if given as `<Cd>`.
    pub fn type_code(&self) -> Option<&str> {
        self.tp.cd_or_prtry.as_code()
    }
}

xml_struct! {
    /// `BankTransactionCodeStructure6`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct BankTransactionFamily {
        /// `<Cd>`.
        cd: req Max4Text = "Cd",
        /// `<SubFmlyCd>`.
        sub_fmly_cd: req Max4Text = "SubFmlyCd",
    }
}

xml_struct! {
    /// `BankTransactionCodeStructure5`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct BankTransactionDomain {
        /// `<Cd>`.
        cd: req Max4Text = "Cd",
        /// `<Fmly>`.
        fmly: req BankTransactionFamily = "Fmly",
    }
}

xml_struct! {
    /// `ProprietaryBankTransactionCodeStructure1`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct ProprietaryBankTransactionCode {
        /// `<Cd>`.
        cd: req Max35Text = "Cd",
        /// `<Issr>`.
        issr: opt Max35Text = "Issr",
    }
}

xml_struct! {
    /// `BankTransactionCodeStructure4`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    pub struct BankTransactionCode {
        /// `<Domn>`: ISO domain / family / sub-family (e.g. `PMNT` / `RCDT` / `XBCT`).
        domn: opt BankTransactionDomain = "Domn",
        /// `<Prtry>`.
        prtry: opt ProprietaryBankTransactionCode = "Prtry",
    }
}

xml_struct! {
    /// `TransactionReferences6` (proprietary references not modelled).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct TransactionRefs {
        /// `<MsgId>`.
        msg_id: opt Max35Text = "MsgId",
        /// `<AcctSvcrRef>`.
        acct_svcr_ref: opt Max35Text = "AcctSvcrRef",
        /// `<PmtInfId>`.
        pmt_inf_id: opt Max35Text = "PmtInfId",
        /// `<InstrId>`.
        instr_id: opt Max35Text = "InstrId",
        /// `<EndToEndId>`.
        end_to_end_id: opt Max35Text = "EndToEndId",
        /// `<UETR>`.
        uetr: opt Uetr = "UETR",
        /// `<TxId>`.
        tx_id: opt Max35Text = "TxId",
        /// `<MndtId>`.
        mndt_id: opt Max35Text = "MndtId",
        /// `<ChqNb>`.
        chq_nb: opt Max35Text = "ChqNb",
        /// `<ClrSysRef>`.
        clr_sys_ref: opt Max35Text = "ClrSysRef",
        /// `<AcctOwnrTxId>`.
        acct_ownr_tx_id: opt Max35Text = "AcctOwnrTxId",
        /// `<AcctSvcrTxId>`.
        acct_svcr_tx_id: opt Max35Text = "AcctSvcrTxId",
        /// `<MktInfrstrctrTxId>`.
        mkt_infrstrctr_tx_id: opt Max35Text = "MktInfrstrctrTxId",
        /// `<PrcgId>`.
        prcg_id: opt Max35Text = "PrcgId",
    }
}

xml_struct! {
    /// `TransactionParties6` (trading and proprietary parties not modelled).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct RelatedParties {
        /// `<InitgPty>`.
        initg_pty: opt PartyOrAgent = "InitgPty",
        /// `<Dbtr>`.
        dbtr: opt PartyOrAgent = "Dbtr",
        /// `<DbtrAcct>`.
        dbtr_acct: opt CashAccount = "DbtrAcct",
        /// `<UltmtDbtr>`.
        ultmt_dbtr: opt PartyOrAgent = "UltmtDbtr",
        /// `<Cdtr>`.
        cdtr: opt PartyOrAgent = "Cdtr",
        /// `<CdtrAcct>`.
        cdtr_acct: opt CashAccount = "CdtrAcct",
        /// `<UltmtCdtr>`.
        ultmt_cdtr: opt PartyOrAgent = "UltmtCdtr",
    }
}

xml_struct! {
    /// `TransactionAgents5` (the usual agents; others not modelled).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct RelatedAgents {
        /// `<InstgAgt>`.
        instg_agt: opt Agent = "InstgAgt",
        /// `<InstdAgt>`.
        instd_agt: opt Agent = "InstdAgt",
        /// `<DbtrAgt>`.
        dbtr_agt: opt Agent = "DbtrAgt",
        /// `<CdtrAgt>`.
        cdtr_agt: opt Agent = "CdtrAgt",
        /// `<IntrmyAgt1>`.
        intrmy_agt1: opt Agent = "IntrmyAgt1",
    }
}

xml_struct! {
    /// `PaymentReturnReason5`: why a payment came back (on the entry that books the return).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct PaymentReturnReason {
        /// `<OrgnlBkTxCd>`: the bank transaction code of the returned payment.
        orgnl_bk_tx_cd: opt BankTransactionCode = "OrgnlBkTxCd",
        /// `<Orgtr>`: who returned it.
        orgtr: opt Party = "Orgtr",
        /// `<Rsn>`: `Cd` from ExternalReturnReason1Code (e.g. `AC04`, `AM05`, `NARR`), kept as
        /// written, or `Prtry`.
        rsn: opt CodeOrProprietary<4> = "Rsn",
        /// `<AddtlInf>` lines.
        addtl_inf: many Max105Text = "AddtlInf",
    }
}

impl PaymentReturnReason {
    /// A reason given by its code (ExternalReturnReason1Code).
    pub fn code(code: &str) -> Result<Self, InvalidValue> {
        Ok(PaymentReturnReason {
            rsn: Some(CodeOrProprietary::code(code)?),
            ..Default::default()
        })
    }

    /// The reason code, if given as `<Cd>`.
    pub fn reason_code(&self) -> Option<&str> {
        self.rsn.as_ref().and_then(|r| r.as_code())
    }
}

xml_struct! {
    /// `ProprietaryDate3`: a date under a bank's own name.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct ProprietaryDate {
        /// `<Tp>`.
        tp: req Max35Text = "Tp",
        /// `<Dt>`.
        dt: req DateOrDateTime = "Dt",
    }
}

xml_struct! {
    /// `TransactionDates3`: the dates of the underlying transaction (the interbank settlement
    /// date is the one to reconcile a payment on).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct TransactionDates {
        /// `<AccptncDtTm>`.
        accptnc_dt_tm: opt IsoDateTime = "AccptncDtTm",
        /// `<TradActvtyCtrctlSttlmDt>`.
        trad_actvty_ctrctl_sttlm_dt: opt IsoDate = "TradActvtyCtrctlSttlmDt",
        /// `<TradDt>`.
        trad_dt: opt IsoDate = "TradDt",
        /// `<IntrBkSttlmDt>`.
        intr_bk_sttlm_dt: opt IsoDate = "IntrBkSttlmDt",
        /// `<StartDt>`.
        start_dt: opt IsoDate = "StartDt",
        /// `<EndDt>`.
        end_dt: opt IsoDate = "EndDt",
        /// `<TxDtTm>`.
        tx_dt_tm: opt IsoDateTime = "TxDtTm",
        /// `<Prtry>`.
        prtry: many ProprietaryDate = "Prtry",
    }
}

xml_struct! {
    /// `OtherIdentification1`: a security identifier other than the ISIN.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct OtherSecurityId {
        /// `<Id>`.
        id: req Max35Text = "Id",
        /// `<Sfx>`.
        sfx: opt Max16Text = "Sfx",
        /// `<Tp>`: `Cd` from ExternalFinancialInstrumentIdentificationType1Code (e.g. `CUSP`,
        /// `SEDL`, `TICK`), kept as written, or `Prtry`.
        tp: req CodeOrProprietary<4> = "Tp",
    }
}

xml_struct! {
    /// `SecurityIdentification19`: the financial instrument a transaction is about.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct SecurityIdentification {
        /// `<ISIN>`.
        isin: opt Isin = "ISIN",
        /// `<OthrId>`.
        othr_id: many OtherSecurityId = "OthrId",
        /// `<Desc>`.
        desc: opt Max140Text = "Desc",
    }
}

xml_struct! {
    /// `GenericIdentification3`: a proprietary identification and who issued it.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct ProprietaryId {
        /// `<Id>`.
        id: req Max35Text = "Id",
        /// `<Issr>`.
        issr: opt Max35Text = "Issr",
    }
}

/// `ChargeType3Choice`: `Cd` from ExternalChargeType1Code (e.g. `COMM`, `BRKF`), kept as
/// written, or a proprietary type.
pub type ChargeType = CodeChoice<Text<4>, ProprietaryId>;

xml_struct! {
    /// `TaxCharges2`: the tax on a charge or an interest amount.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    pub struct TaxCharges {
        /// `<Id>`.
        id: opt Max35Text = "Id",
        /// `<Rate>`: in percent, kept as written.
        rate: opt PercentageRate = "Rate",
        /// `<Amt>`.
        amt: opt Amount = "Amt",
    }
}

xml_struct! {
    /// `ChargesRecord3`: one charge taken on an entry or a transaction.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct ChargesRecord {
        /// `<Amt>`: the charge, tax included where the bank reports it so.
        amt: req Amount = "Amt",
        /// `<CdtDbtInd>`.
        cdt_dbt_ind: opt CreditDebit = "CdtDbtInd",
        /// `<ChrgInclInd>`: whether the charge is included in the entry amount.
        chrg_incl_ind: opt bool = "ChrgInclInd",
        /// `<Tp>`.
        tp: opt ChargeType = "Tp",
        /// `<Rate>`: in percent, kept as written.
        rate: opt PercentageRate = "Rate",
        /// `<Br>`: who bears it.
        br: opt ChargeBearer = "Br",
        /// `<Agt>`: the agent that took it.
        agt: opt Agent = "Agt",
        /// `<Tax>`.
        tax: opt TaxCharges = "Tax",
    }
}

impl ChargesRecord {
    /// A record of its amount alone.
    pub fn new(amt: Amount) -> Self {
        ChargesRecord {
            amt,
            cdt_dbt_ind: None,
            chrg_incl_ind: None,
            tp: None,
            rate: None,
            br: None,
            agt: None,
            tax: None,
        }
    }
}

xml_struct! {
    /// `Charges6`: the charges of an entry or a transaction, their total and each record.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    pub struct EntryCharges {
        /// `<TtlChrgsAndTaxAmt>`: CBPR+ has it equal the sum of the records' amounts
        /// (`CBPR.CHRGS.TOTAL`).
        ttl_chrgs_and_tax_amt: opt Amount = "TtlChrgsAndTaxAmt",
        /// `<Rcrd>`.
        rcrd: many ChargesRecord = "Rcrd",
    }
}

/// `RateType4Choice`: a rate in percent or described in words.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub enum RateType {
    /// `<Pctg>`: in percent, kept as written.
    Pctg(PercentageRate),
    /// `<Othr>`.
    Othr(Max35Text),
}

impl FromXml for RateType {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> crate::error::XResult<Self> {
        match choice(tree, id, &["Pctg", "Othr"])? {
            (c, 0) => Ok(RateType::Pctg(PercentageRate::from_xml(tree, c)?)),
            (c, _) => Ok(RateType::Othr(Max35Text::from_xml(tree, c)?)),
        }
    }
}

impl ToXml for RateType {
    fn to_xml(&self, out: &mut Out, name: &str) {
        out.start(name);
        match self {
            RateType::Pctg(p) => out.leaf("Pctg", p),
            RateType::Othr(o) => out.leaf("Othr", o),
        }
        out.end(name);
    }
}

xml_struct! {
    /// `Rate4` (the validity range, `VldtyRg`, not modelled).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct InterestRate {
        /// `<Tp>`.
        tp: req RateType = "Tp",
    }
}

impl InterestRate {
    /// A rate of its type alone.
    pub fn new(tp: RateType) -> Self {
        InterestRate { tp }
    }
}

/// `InterestType1Choice`: a code (`INDY` intraday, `OVRN` overnight) or a proprietary type.
pub type InterestType = CodeChoice<InterestTypeCode, Max35Text>;

xml_struct! {
    /// `InterestRecord2`: one interest amount on an entry or a transaction.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct InterestRecord {
        /// `<Amt>`.
        amt: req Amount = "Amt",
        /// `<CdtDbtInd>`.
        cdt_dbt_ind: req CreditDebit = "CdtDbtInd",
        /// `<Tp>`.
        tp: opt InterestType = "Tp",
        /// `<Rate>`.
        rate: opt InterestRate = "Rate",
        /// `<FrToDt>`: the period the interest is for.
        fr_to_dt: opt DateTimePeriod = "FrToDt",
        /// `<Rsn>`.
        rsn: opt Max35Text = "Rsn",
        /// `<Tax>`.
        tax: opt TaxCharges = "Tax",
    }
}

impl InterestRecord {
    /// A record of its amount and direction alone.
    pub fn new(amt: Amount, cdt_dbt_ind: CreditDebit) -> Self {
        InterestRecord {
            amt,
            cdt_dbt_ind,
            tp: None,
            rate: None,
            fr_to_dt: None,
            rsn: None,
            tax: None,
        }
    }
}

xml_struct! {
    /// `TransactionInterest4`: the interest of an entry or a transaction, its total and each
    /// record.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    pub struct EntryInterest {
        /// `<TtlIntrstAndTaxAmt>`: CBPR+ has it equal the sum of the records' amounts
        /// (`CBPR.INTRST.TOTAL`).
        ttl_intrst_and_tax_amt: opt Amount = "TtlIntrstAndTaxAmt",
        /// `<Rcrd>`.
        rcrd: many InterestRecord = "Rcrd",
    }
}

xml_struct! {
    /// `EntryTransaction10`: the details of one transaction in an entry (the parts a
    /// reconciliation reads, and its charges and interest; amount details, availability, related
    /// remittance locations, prices, quantities, tax, corporate action, safekeeping account,
    /// cash deposits and card transactions are not modelled).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct EntryTransaction {
        /// `<Refs>`: the references to reconcile on (UETR, EndToEndId, ...).
        refs: opt TransactionRefs = "Refs",
        /// `<Amt>`.
        amt: opt Amount = "Amt",
        /// `<CdtDbtInd>`.
        cdt_dbt_ind: opt CreditDebit = "CdtDbtInd",
        /// `<BkTxCd>`.
        bk_tx_cd: opt BankTransactionCode = "BkTxCd",
        /// `<Chrgs>`.
        chrgs: opt EntryCharges = "Chrgs",
        /// `<Intrst>`.
        intrst: opt EntryInterest = "Intrst",
        /// `<RltdPties>`.
        rltd_pties: opt RelatedParties = "RltdPties",
        /// `<RltdAgts>`.
        rltd_agts: opt RelatedAgents = "RltdAgts",
        /// `<LclInstrm>`.
        lcl_instrm: opt CodeOrProprietary<35> = "LclInstrm",
        /// `<Purp>`.
        purp: opt CodeOrProprietary<4> = "Purp",
        /// `<RmtInf>`.
        rmt_inf: opt RemittanceInfo = "RmtInf",
        /// `<RltdDts>`.
        rltd_dts: opt TransactionDates = "RltdDts",
        /// `<FinInstrmId>`.
        fin_instrm_id: opt SecurityIdentification = "FinInstrmId",
        /// `<RtrInf>`: present when the transaction is a returned payment.
        rtr_inf: opt PaymentReturnReason = "RtrInf",
        /// `<AddtlTxInf>`.
        addtl_tx_inf: opt Max500Text = "AddtlTxInf",
        /// `<SplmtryData>`.
        splmtry_data: many SupplementaryData = "SplmtryData",
    }
}

impl EntryTransaction {
    /// `RtrInf/Rsn/Cd`: the return reason code, if the transaction is a return given by code.
    pub fn return_reason_code(&self) -> Option<&str> {
        self.rtr_inf.as_ref().and_then(|r| r.reason_code())
    }
}

xml_struct! {
    /// `EntryDetails9` (batch information not modelled).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct EntryDetails {
        /// `<TxDtls>`.
        tx_dtls: many EntryTransaction = "TxDtls",
    }
}

xml_struct! {
    /// `ReportEntry10`: one booked (or pending) movement on the account.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct Entry {
        /// `<NtryRef>`.
        ntry_ref: opt Max35Text = "NtryRef",
        /// `<Amt>`.
        amt: req Amount = "Amt",
        /// `<CdtDbtInd>`.
        cdt_dbt_ind: req CreditDebit = "CdtDbtInd",
        /// `<RvslInd>`.
        rvsl_ind: opt bool = "RvslInd",
        /// `<Sts>`: `Cd` from ExternalEntryStatus1Code (`BOOK`, `PDNG`, `INFO`).
        sts: req CodeOrProprietary<4> = "Sts",
        /// `<BookgDt>`.
        bookg_dt: opt DateOrDateTime = "BookgDt",
        /// `<ValDt>`.
        val_dt: opt DateOrDateTime = "ValDt",
        /// `<AcctSvcrRef>`.
        acct_svcr_ref: opt Max35Text = "AcctSvcrRef",
        /// `<BkTxCd>`.
        bk_tx_cd: req BankTransactionCode = "BkTxCd",
        /// `<Chrgs>`.
        chrgs: opt EntryCharges = "Chrgs",
        /// `<Intrst>`.
        intrst: opt EntryInterest = "Intrst",
        /// `<NtryDtls>`.
        ntry_dtls: many EntryDetails = "NtryDtls",
        /// `<AddtlNtryInf>`.
        addtl_ntry_inf: opt Max500Text = "AddtlNtryInf",
    }
}

impl Entry {
    /// An entry with the required elements.
    pub fn new(
        amt: Amount,
        cdt_dbt_ind: CreditDebit,
        sts: CodeOrProprietary<4>,
        bk_tx_cd: BankTransactionCode,
    ) -> Self {
        Entry {
            ntry_ref: None,
            amt,
            cdt_dbt_ind,
            rvsl_ind: None,
            sts,
            bookg_dt: None,
            val_dt: None,
            acct_svcr_ref: None,
            bk_tx_cd,
            chrgs: None,
            intrst: None,
            ntry_dtls: Vec::new(),
            addtl_ntry_inf: None,
        }
    }

    /// Every transaction of this entry (`NtryDtls/TxDtls`), in document order.
    pub fn transactions(&self) -> impl Iterator<Item = &EntryTransaction> {
        self.ntry_dtls.iter().flat_map(|d| d.tx_dtls.iter())
    }

    /// Every transaction's references in this entry.
    pub fn transaction_refs(&self) -> impl Iterator<Item = &TransactionRefs> {
        self.transactions().filter_map(|t| t.refs.as_ref())
    }

    /// The returned payments booked by this entry: each transaction that has `RtrInf`, with its
    /// references (which name the original payment: its UETR, EndToEndId, ...) and the reason.
    pub fn returns(
        &self,
    ) -> impl Iterator<Item = (Option<&TransactionRefs>, &PaymentReturnReason)> {
        self.transactions()
            .filter_map(|t| t.rtr_inf.as_ref().map(|r| (t.refs.as_ref(), r)))
    }

    /// The return reason codes (`RtrInf/Rsn/Cd`) of this entry's transactions.
    pub fn return_reason_codes(&self) -> impl Iterator<Item = &str> {
        self.transactions()
            .filter_map(EntryTransaction::return_reason_code)
    }

    /// The UETRs of this entry's transactions.
    pub fn uetrs(&self) -> impl Iterator<Item = &Uetr> {
        self.transaction_refs().filter_map(|r| r.uetr.as_ref())
    }

    /// The EndToEndIds of this entry's transactions.
    pub fn end_to_end_ids(&self) -> impl Iterator<Item = &str> {
        self.transaction_refs()
            .filter_map(|r| r.end_to_end_id.as_ref())
            .map(|s| s.as_str())
    }
}

xml_struct! {
    /// `AmountAndDirection35`: a net amount (no currency: a total over the report) and its
    /// direction.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct AmountAndDirection {
        /// `<Amt>`: an exact decimal, not below zero, kept as written.
        amt: req NonNegativeDecimalNumber = "Amt",
        /// `<CdtDbtInd>`.
        cdt_dbt_ind: req CreditDebit = "CdtDbtInd",
    }
}

xml_struct! {
    /// `NumberAndSumOfTransactions1`: how many entries, and the sum of their amounts.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    pub struct NumberAndSum {
        /// `<NbOfNtries>`.
        nb_of_ntries: opt Max15NumericText = "NbOfNtries",
        /// `<Sum>`: the sum of the entries' amounts, as an exact decimal kept as written (no
        /// currency: a report may mix currencies).
        sum: opt DecimalNumber = "Sum",
    }
}

xml_struct! {
    /// `NumberAndSumOfTransactions4`: [`NumberAndSum`] plus the net of credits and debits.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    pub struct NumberAndSumWithNet {
        /// `<NbOfNtries>`.
        nb_of_ntries: opt Max15NumericText = "NbOfNtries",
        /// `<Sum>`: an exact decimal, kept as written.
        sum: opt DecimalNumber = "Sum",
        /// `<TtlNetNtry>`: credits minus debits, as an amount and a direction.
        ttl_net_ntry: opt AmountAndDirection = "TtlNetNtry",
    }
}

xml_struct! {
    /// `TotalsPerBankTransactionCode5`: the totals for one bank transaction code (availability
    /// not modelled).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct TotalsPerBankTransactionCode {
        /// `<NbOfNtries>`.
        nb_of_ntries: opt Max15NumericText = "NbOfNtries",
        /// `<Sum>`: an exact decimal, kept as written.
        sum: opt DecimalNumber = "Sum",
        /// `<TtlNetNtry>`.
        ttl_net_ntry: opt AmountAndDirection = "TtlNetNtry",
        /// `<CdtNtries>`.
        cdt_ntries: opt NumberAndSum = "CdtNtries",
        /// `<DbtNtries>`.
        dbt_ntries: opt NumberAndSum = "DbtNtries",
        /// `<FcstInd>`: whether the totals are a forecast.
        fcst_ind: opt bool = "FcstInd",
        /// `<BkTxCd>`: the code these totals are for.
        bk_tx_cd: req BankTransactionCode = "BkTxCd",
        /// `<Dt>`.
        dt: opt DateOrDateTime = "Dt",
    }
}

impl TotalsPerBankTransactionCode {
    /// Totals for a bank transaction code, with nothing counted yet.
    pub fn new(bk_tx_cd: BankTransactionCode) -> Self {
        TotalsPerBankTransactionCode {
            nb_of_ntries: None,
            sum: None,
            ttl_net_ntry: None,
            cdt_ntries: None,
            dbt_ntries: None,
            fcst_ind: None,
            bk_tx_cd,
            dt: None,
        }
    }
}

xml_struct! {
    /// `TotalTransactions6`: a report's transactions summary (`<TxsSummry>`), the bank's own
    /// control totals to check the entries against.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    pub struct TotalTransactions {
        /// `<TtlNtries>`.
        ttl_ntries: opt NumberAndSumWithNet = "TtlNtries",
        /// `<TtlCdtNtries>`.
        ttl_cdt_ntries: opt NumberAndSum = "TtlCdtNtries",
        /// `<TtlDbtNtries>`.
        ttl_dbt_ntries: opt NumberAndSum = "TtlDbtNtries",
        /// `<TtlNtriesPerBkTxCd>`.
        ttl_ntries_per_bk_tx_cd: many TotalsPerBankTransactionCode = "TtlNtriesPerBkTxCd",
    }
}

/// Which of the three reports: they differ only in element names and in whether balances are
/// required, allowed or absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ReportKind {
    /// camt.053 `Stmt`: at least one balance.
    Statement,
    /// camt.052 `Rpt`: balances optional.
    Report,
    /// camt.054 `Ntfctn`: no balances.
    Notification,
}

impl ReportKind {
    /// The report element (`Stmt`, `Rpt`, `Ntfctn`).
    pub fn element(self) -> &'static str {
        match self {
            ReportKind::Statement => "Stmt",
            ReportKind::Report => "Rpt",
            ReportKind::Notification => "Ntfctn",
        }
    }

    fn pagination(self) -> &'static str {
        match self {
            ReportKind::Statement => "StmtPgntn",
            ReportKind::Report => "RptPgntn",
            ReportKind::Notification => "NtfctnPgntn",
        }
    }

    fn additional_info(self) -> &'static str {
        match self {
            ReportKind::Statement => "AddtlStmtInf",
            ReportKind::Report => "AddtlRptInf",
            ReportKind::Notification => "AddtlNtfctnInf",
        }
    }

    /// The message element under `<Document>`.
    pub const fn root(self) -> &'static str {
        match self {
            ReportKind::Statement => "BkToCstmrStmt",
            ReportKind::Report => "BkToCstmrAcctRpt",
            ReportKind::Notification => "BkToCstmrDbtCdtNtfctn",
        }
    }

    /// The Document namespace.
    pub const fn namespace(self) -> &'static str {
        match self {
            ReportKind::Statement => "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08",
            ReportKind::Report => "urn:iso:std:iso:20022:tech:xsd:camt.052.001.08",
            ReportKind::Notification => "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08",
        }
    }

    fn from_root(root: &str) -> Option<ReportKind> {
        [
            ReportKind::Statement,
            ReportKind::Report,
            ReportKind::Notification,
        ]
        .into_iter()
        .find(|k| k.root() == root)
    }
}

/// `AccountStatement9` / `AccountReport25` / `AccountNotification17`: one report on one account
/// (interest, reporting sequences and reporting source not modelled).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AccountReport {
    /// `<Id>`.
    pub id: Max35Text,
    /// `<StmtPgntn>` / `<RptPgntn>` / `<NtfctnPgntn>`.
    pub pgntn: Option<Pagination>,
    /// `<ElctrncSeqNb>`.
    #[serde(default, deserialize_with = "crate::de::opt_number")]
    pub elctrnc_seq_nb: Option<i64>,
    /// `<LglSeqNb>`.
    #[serde(default, deserialize_with = "crate::de::opt_number")]
    pub lgl_seq_nb: Option<i64>,
    /// `<CreDtTm>`.
    pub cre_dt_tm: Option<IsoDateTime>,
    /// `<FrToDt>`.
    pub fr_to_dt: Option<DateTimePeriod>,
    /// `<CpyDplctInd>`.
    pub cpy_dplct_ind: Option<CopyDuplicate>,
    /// `<Acct>`.
    pub acct: ReportedAccount,
    /// `<RltdAcct>`.
    pub rltd_acct: Option<CashAccount>,
    /// `<Bal>` (camt.053: at least one; camt.054: none).
    #[serde(default)]
    pub bal: Vec<Balance>,
    /// `<TxsSummry>`.
    pub txs_summry: Option<TotalTransactions>,
    /// `<Ntry>`.
    #[serde(default)]
    pub ntry: Vec<Entry>,
    /// `<AddtlStmtInf>` / `<AddtlRptInf>` / `<AddtlNtfctnInf>`.
    pub addtl_inf: Option<Max500Text>,
}

impl AccountReport {
    /// A report on an account, with nothing else yet.
    pub fn new(id: Max35Text, acct: ReportedAccount) -> Self {
        AccountReport {
            id,
            pgntn: None,
            elctrnc_seq_nb: None,
            lgl_seq_nb: None,
            cre_dt_tm: None,
            fr_to_dt: None,
            cpy_dplct_ind: None,
            acct,
            rltd_acct: None,
            bal: Vec::new(),
            txs_summry: None,
            ntry: Vec::new(),
            addtl_inf: None,
        }
    }

    pub(crate) fn read(
        tree: &Tree<'_>,
        id: NodeId,
        kind: ReportKind,
    ) -> crate::error::XResult<Self> {
        let mut s = tree.seq(id);
        let mut r = AccountReport {
            id: s.req("Id")?,
            pgntn: s.opt(kind.pagination())?,
            elctrnc_seq_nb: s.opt("ElctrncSeqNb")?,
            lgl_seq_nb: s.opt("LglSeqNb")?,
            cre_dt_tm: s.opt("CreDtTm")?,
            fr_to_dt: s.opt("FrToDt")?,
            cpy_dplct_ind: s.opt("CpyDplctInd")?,
            acct: s.req("Acct")?,
            rltd_acct: s.opt("RltdAcct")?,
            bal: Vec::new(),
            txs_summry: None,
            ntry: Vec::new(),
            addtl_inf: None,
        };
        match kind {
            ReportKind::Statement => r.bal = s.some("Bal")?,
            ReportKind::Report => r.bal = s.many("Bal", usize::MAX)?,
            ReportKind::Notification => {}
        }
        r.txs_summry = s.opt("TxsSummry")?;
        r.ntry = s.many("Ntry", usize::MAX)?;
        r.addtl_inf = s.opt(kind.additional_info())?;
        Ok(r)
    }

    pub(crate) fn write(&self, out: &mut Out, kind: ReportKind) {
        out.start(kind.element());
        self.write_header(out, kind);
        out.many("Ntry", &self.ntry);
        out.opt(kind.additional_info(), &self.addtl_inf);
        out.end(kind.element());
    }

    fn write_header(&self, out: &mut Out, kind: ReportKind) {
        out.leaf("Id", &self.id);
        out.opt(kind.pagination(), &self.pgntn);
        out.opt("ElctrncSeqNb", &self.elctrnc_seq_nb);
        out.opt("LglSeqNb", &self.lgl_seq_nb);
        out.opt("CreDtTm", &self.cre_dt_tm);
        out.opt("FrToDt", &self.fr_to_dt);
        out.opt("CpyDplctInd", &self.cpy_dplct_ind);
        self.acct.to_xml(out, "Acct");
        out.opt("RltdAcct", &self.rltd_acct);
        if kind != ReportKind::Notification {
            out.many("Bal", &self.bal);
        }
        out.opt("TxsSummry", &self.txs_summry);
    }
}

macro_rules! report_message {
    ($(#[$doc:meta])* $name:ident, $kind:expr, $module_ns:literal, $def:literal, $reports_de:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
        #[serde(deny_unknown_fields)]
        #[non_exhaustive]
        pub struct $name {
            /// `<GrpHdr>`.
            pub grp_hdr: GroupHeader,
            /// The reports (`<Stmt>`, `<Rpt>` or `<Ntfctn>`), at least one.
            #[serde(deserialize_with = $reports_de)]
            pub reports: Vec<AccountReport>,
            /// `<SplmtryData>`.
            #[serde(default)]
            pub splmtry_data: Vec<SupplementaryData>,
        }

        impl $name {
            /// The message definition identifier.
            pub const MSG_DEF_IDR: &'static str = $def;

            /// A message with one report.
            pub fn new(grp_hdr: GroupHeader, report: AccountReport) -> Self {
                $name {
                    grp_hdr,
                    reports: vec![report],
                    splmtry_data: Vec::new(),
                }
            }

            /// `GrpHdr/MsgId`.
            pub fn msg_id(&self) -> &str {
                self.grp_hdr.msg_id.as_str()
            }

            /// `GrpHdr/OrgnlBizQry/MsgId`: the query this message answers, if any.
            pub fn orgnl_biz_qry_msg_id(&self) -> Option<&str> {
                self.grp_hdr.orgnl_biz_qry_msg_id()
            }

            /// Every entry of every report, in document order.
            pub fn entries(&self) -> impl Iterator<Item = &Entry> {
                self.reports.iter().flat_map(|r| r.ntry.iter())
            }
        }

        impl crate::message::Message for $name {
            const NAMESPACE: &'static str = $module_ns;
            const ROOT: &'static str = $kind.root();
            fn read(tree: &Tree<'_>, id: NodeId) -> crate::error::XResult<Self> {
                let mut s = tree.seq(id);
                let grp_hdr = s.req("GrpHdr")?;
                let mut reports = Vec::new();
                while let Some(r) = s.opt_node($kind.element()) {
                    reports.push(AccountReport::read(tree, r, $kind)?);
                }
                if reports.is_empty() {
                    s.req_node($kind.element())?;
                }
                let splmtry_data = s.many("SplmtryData", usize::MAX)?;
                Ok($name {
                    grp_hdr,
                    reports,
                    splmtry_data,
                })
            }
            fn write(&self, out: &mut Out) {
                out.start($kind.root());
                self.grp_hdr.to_xml(out, "GrpHdr");
                for r in &self.reports {
                    r.write(out, $kind);
                }
                out.many("SplmtryData", &self.splmtry_data);
                out.end($kind.root());
            }
            fn msg_id(&self) -> Option<&str> {
                Some($name::msg_id(self))
            }
        }
    };
}

report_message!(
    /// A camt.053.001.08 bank-to-customer statement (`<BkToCstmrStmt>`).
    Camt053,
    ReportKind::Statement,
    "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08",
    "camt.053.001.08",
    "statement_reports"
);
report_message!(
    /// A camt.052.001.08 bank-to-customer account report (`<BkToCstmrAcctRpt>`).
    Camt052,
    ReportKind::Report,
    "urn:iso:std:iso:20022:tech:xsd:camt.052.001.08",
    "camt.052.001.08",
    "account_reports"
);
report_message!(
    /// A camt.054.001.08 debit/credit notification (`<BkToCstmrDbtCdtNtfctn>`).
    Camt054,
    ReportKind::Notification,
    "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08",
    "camt.054.001.08",
    "notification_reports"
);

/// JSON in for a message's reports: at least one, and balances as the kind requires them
/// (the writer leaves out a notification's balances, so accepting them would drop data).
fn reports_of<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
    kind: ReportKind,
) -> Result<Vec<AccountReport>, D::Error> {
    let reports: Vec<AccountReport> = crate::de::non_empty(deserializer)?;
    for (i, r) in reports.iter().enumerate() {
        let problem = match kind {
            ReportKind::Statement if r.bal.is_empty() => "a statement has at least one balance",
            ReportKind::Notification if !r.bal.is_empty() => "a notification has no balances",
            _ => continue,
        };
        return Err(serde::de::Error::custom(format!(
            "report {i}: bal: {problem} ({})",
            kind.element()
        )));
    }
    Ok(reports)
}

fn statement_reports<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<AccountReport>, D::Error> {
    reports_of(d, ReportKind::Statement)
}

fn account_reports<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<AccountReport>, D::Error> {
    reports_of(d, ReportKind::Report)
}

fn notification_reports<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Vec<AccountReport>, D::Error> {
    reports_of(d, ReportKind::Notification)
}

/// What [`EntryStream`] yields, in document order.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
#[allow(clippy::large_enum_variant)]
pub enum StreamItem {
    /// The group header (once, first).
    GroupHeader(GroupHeader),
    /// A report's header: everything before its entries (`ntry` is empty, `addtl_inf` is
    /// `None`: it comes after the entries, in [`StreamItem::ReportEnd`]).
    Report(AccountReport),
    /// One entry of the last report.
    Entry(Entry),
    /// The end of a report, with its trailing additional information (`AddtlStmtInf`, ...).
    ReportEnd(Option<Max500Text>),
}

/// Reads a camt.052 / camt.053 / camt.054 from any `BufRead`, one entry at a time.
///
/// Each entry (and each header) is copied into a small buffer, bounded by
/// [`Limits::message_bytes_max`], and read there with the same typed reader as whole documents;
/// nothing else is kept, so memory stays flat for any number of entries. The stream refuses
/// DTDs, enforces [`Limits::depth_max`], and refuses a document that ends early. It accepts a
/// bare Document or one inside an envelope (an AppHdr before it is skipped).
///
/// ```
/// use iso20022::statement::{EntryStream, StreamItem};
/// # let xml = iso20022::Document::from(iso20022::samples::camt053(7, 3)).render();
/// let mut entries = 0;
/// for item in EntryStream::new(xml.as_bytes(), iso20022::Limits::default()) {
///     match item? {
///         StreamItem::GroupHeader(h) => println!("statement message {}", h.msg_id),
///         StreamItem::Report(r) => println!("account {}", r.acct.id_str()),
///         StreamItem::Entry(e) => entries += 1,
///         StreamItem::ReportEnd(_) => {}
///     }
/// }
/// assert_eq!(entries, 3);
/// # Ok::<(), iso20022::Error>(())
/// ```
pub struct EntryStream<R: BufRead> {
    reader: NsReader<R>,
    buf: Vec<u8>,
    limits: Limits,
    /// Local names of the open elements outside captured parts.
    path: Vec<String>,
    /// Index in `path` of `Document`, once opened.
    doc_at: Option<usize>,
    kind: Option<ReportKind>,
    /// Header children of the current report, serialized, waiting for its first entry.
    header: Option<Writer<Vec<u8>>>,
    /// Items read ahead (an entry read while its report header was returned, a report end).
    pending: std::collections::VecDeque<StreamItem>,
    /// The current report's trailing additional information.
    trailer: Option<Max500Text>,
    done: bool,
}

fn local(e: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(e.local_name().as_ref()).into_owned()
}

/// Writes a start tag with local names only and without namespace declarations, so that the
/// captured part reads alone.
fn write_start(out: &mut Writer<Vec<u8>>, e: &BytesStart<'_>, empty: bool) -> Result<()> {
    let mut start = BytesStart::new(local(e));
    for a in e.attributes() {
        let a = a.map_err(|err| Error::Syntax {
            offset: 0,
            message: err.to_string(),
        })?;
        let key = a.key.as_ref();
        if key == b"xmlns" || key.starts_with(b"xmlns:") {
            continue;
        }
        let name = String::from_utf8_lossy(a.key.local_name().as_ref()).into_owned();
        let value = a.unescape_value().map_err(|err| Error::Syntax {
            offset: 0,
            message: err.to_string(),
        })?;
        start.push_attribute((name.as_str(), value.as_ref()));
    }
    let _ = if empty {
        out.write_event(Event::Empty(start))
    } else {
        out.write_event(Event::Start(start))
    };
    Ok(())
}

impl<R: BufRead> EntryStream<R> {
    /// A stream over `input`; `limits` bound each captured part and the nesting depth.
    pub fn new(input: R, limits: Limits) -> Self {
        let mut reader = NsReader::from_reader(input);
        reader.config_mut().check_end_names = true;
        EntryStream {
            reader,
            buf: Vec::with_capacity(4096),
            limits,
            path: Vec::new(),
            doc_at: None,
            kind: None,
            header: None,
            pending: std::collections::VecDeque::new(),
            trailer: None,
            done: false,
        }
    }

    /// Which report kind the document is, once its root has been read.
    pub fn kind(&self) -> Option<ReportKind> {
        self.kind
    }

    fn syntax(&self, message: impl ToString) -> Error {
        Error::Syntax {
            offset: self.reader.buffer_position(),
            message: message.to_string(),
        }
    }

    fn path_str(&self) -> String {
        format!("/{}", self.path.join("/"))
    }

    /// Copies the element whose start tag was just read into `out`, through its end tag.
    fn capture(
        &mut self,
        start: &BytesStart<'_>,
        empty: bool,
        out: &mut Writer<Vec<u8>>,
    ) -> Result<()> {
        write_start(out, start, empty)?;
        if empty {
            return Ok(());
        }
        let base = self.path.len() + 1;
        let mut depth = 1usize;
        loop {
            if out.get_ref().len() > self.limits.message_bytes_max {
                return Err(Error::TooLarge {
                    bytes: out.get_ref().len(),
                    limit: self.limits.message_bytes_max,
                });
            }
            self.buf.clear();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(e) => e.into_owned(),
                Err(e) => return Err(self.syntax(e)),
            };
            match event {
                Event::Start(e) => {
                    depth += 1;
                    if base + depth - 1 > self.limits.depth_max {
                        return Err(Error::TooDeep {
                            path: self.path_str(),
                            limit: self.limits.depth_max,
                        });
                    }
                    write_start(out, &e, false)?;
                }
                Event::Empty(e) => write_start(out, &e, true)?,
                Event::End(e) => {
                    let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                    let _ = out.write_event(Event::End(BytesEnd::new(name)));
                    depth -= 1;
                    if depth == 0 {
                        return Ok(());
                    }
                }
                Event::Text(t) => {
                    let _ = out.write_event(Event::Text(t));
                }
                Event::CData(t) => {
                    let text = String::from_utf8_lossy(&t).into_owned();
                    let _ = out.write_event(Event::Text(BytesText::new(&text)));
                }
                Event::DocType(_) => {
                    return Err(Error::DtdRefused {
                        offset: self.reader.buffer_position(),
                    })
                }
                Event::Eof => return Err(self.syntax("input ends inside an element")),
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            }
        }
    }

    fn skip(&mut self, start: &BytesStart<'_>, empty: bool) -> Result<()> {
        let mut sink = Writer::new(Vec::new());
        self.capture(start, empty, &mut sink)
    }

    fn parse_part<T>(
        &self,
        xml: &[u8],
        read: impl FnOnce(&Tree<'_>, NodeId) -> crate::error::XResult<T>,
    ) -> Result<T> {
        let text = std::str::from_utf8(xml).map_err(|e| self.syntax(e))?;
        let tree =
            Tree::parse(text, &self.limits).map_err(|e| e.with_path_prefix(&self.path_str()))?;
        let root = *tree
            .roots
            .first()
            .ok_or_else(|| self.syntax("empty part"))?;
        read(&tree, root).map_err(|e| (*e).with_path_prefix(&self.path_str()))
    }

    fn entry(&self, xml: &[u8]) -> Result<StreamItem> {
        self.parse_part(xml, Entry::from_xml).map(StreamItem::Entry)
    }

    fn flush_header(&mut self) -> Result<Option<StreamItem>> {
        let (Some(mut w), Some(kind)) = (self.header.take(), self.kind) else {
            return Ok(None);
        };
        let _ = w.write_event(Event::End(BytesEnd::new(kind.element())));
        let xml = w.into_inner();
        // The header's path is the report's parent; the part itself starts at the report.
        let mut report = self.parse_part(&xml, |t, id| AccountReport::read(t, id, kind))?;
        self.trailer = report.addtl_inf.take();
        Ok(Some(StreamItem::Report(report)))
    }

    fn on_start(&mut self, e: BytesStart<'static>, empty: bool) -> Result<Option<StreamItem>> {
        let name = local(&e);
        let Some(doc_at) = self.doc_at else {
            self.before_document(&e, empty, name)?;
            return Ok(None);
        };
        let rel = self.path.len() - doc_at;
        match (rel, self.kind) {
            (1, None) => {
                let kind = ReportKind::from_root(&name).ok_or_else(|| Error::Structure {
                    path: self.path_str(),
                    message: format!("<{name}> is not a camt.052, camt.053 or camt.054 message"),
                })?;
                self.kind = Some(kind);
                self.path.push(name);
                Ok(None)
            }
            (2, Some(_)) if name == "GrpHdr" => {
                let mut w = Writer::new(Vec::with_capacity(512));
                self.capture(&e, empty, &mut w)?;
                let xml = w.into_inner();
                self.parse_part(&xml, GroupHeader::from_xml)
                    .map(|h| Some(StreamItem::GroupHeader(h)))
            }
            (2, Some(kind)) if name == kind.element() && !empty => {
                let mut w = Writer::new(Vec::with_capacity(1024));
                let _ = w.write_event(Event::Start(BytesStart::new(kind.element())));
                self.header = Some(w);
                self.path.push(name);
                Ok(None)
            }
            (3, Some(_)) if name == "Ntry" => {
                let mut w = Writer::new(Vec::with_capacity(1024));
                self.capture(&e, empty, &mut w)?;
                let xml = w.into_inner();
                let entry = self.entry(&xml)?;
                match self.flush_header()? {
                    Some(report) => {
                        self.pending.push_back(entry);
                        Ok(Some(report))
                    }
                    None => Ok(Some(entry)),
                }
            }
            (3, Some(_)) => {
                self.report_element(&e, empty, &name)?;
                Ok(None)
            }
            _ => {
                // Supplementary data and anything unknown at the message level.
                self.skip(&e, empty)?;
                Ok(None)
            }
        }
    }

    /// An element opening before the Document: the envelope's root, the Document itself, or
    /// an AppHdr (skipped).
    fn before_document(
        &mut self,
        e: &BytesStart<'static>,
        empty: bool,
        name: String,
    ) -> Result<()> {
        match name.as_str() {
            "Document" => {
                self.doc_at = Some(self.path.len());
                self.path.push(name);
            }
            "AppHdr" => self.skip(e, empty)?,
            _ if self.path.is_empty() => self.path.push(name),
            _ => {
                return Err(Error::Structure {
                    path: self.path_str(),
                    message: format!("unexpected <{name}> before the Document"),
                })
            }
        }
        Ok(())
    }

    /// An element of a report other than an entry: part of the report's header while no entry
    /// has been read, else after the entries (the trailing additional information is kept).
    fn report_element(&mut self, e: &BytesStart<'static>, empty: bool, name: &str) -> Result<()> {
        match self.header.take() {
            Some(mut w) => {
                let captured = self.capture(e, empty, &mut w);
                self.header = Some(w);
                captured?;
            }
            // After the entries: the trailing additional information.
            None => {
                let kind = self.kind;
                let mut w = Writer::new(Vec::with_capacity(256));
                self.capture(e, empty, &mut w)?;
                if kind.is_some_and(|k| name == k.additional_info()) {
                    let xml = w.into_inner();
                    self.trailer = Some(self.parse_part(&xml, Max500Text::from_xml)?);
                }
            }
        }
        Ok(())
    }

    /// The next item, `Ok(None)` at the end of the document.
    pub fn next_item(&mut self) -> Result<Option<StreamItem>> {
        if let Some(item) = self.pending.pop_front() {
            return Ok(Some(item));
        }
        if self.done {
            return Ok(None);
        }
        loop {
            self.buf.clear();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(e) => e.into_owned(),
                Err(e) => return Err(self.syntax(e)),
            };
            match event {
                Event::Start(e) => {
                    if self.path.len() + 1 > self.limits.depth_max {
                        return Err(Error::TooDeep {
                            path: self.path_str(),
                            limit: self.limits.depth_max,
                        });
                    }
                    if let Some(item) = self.on_start(e, false)? {
                        return Ok(Some(item));
                    }
                }
                Event::Empty(e) => {
                    if let Some(item) = self.on_start(e, true)? {
                        return Ok(Some(item));
                    }
                }
                Event::End(_) => {
                    let closed = self.path.pop();
                    let report_closed = matches!((self.kind, &closed), (Some(k), Some(n)) if n == k.element())
                        && self.doc_at.is_some_and(|d| self.path.len() == d + 2);
                    if report_closed {
                        let header = self.flush_header()?;
                        let end = StreamItem::ReportEnd(self.trailer.take());
                        match header {
                            Some(item) => {
                                self.pending.push_back(end);
                                return Ok(Some(item));
                            }
                            None => return Ok(Some(end)),
                        }
                    }
                    if self.path.is_empty() {
                        self.done = true;
                        if self.kind.is_none() {
                            return Err(Error::Structure {
                                path: "/".into(),
                                message: "no camt.052/053/054 Document found".into(),
                            });
                        }
                        return Ok(None);
                    }
                }
                Event::DocType(_) => {
                    return Err(Error::DtdRefused {
                        offset: self.reader.buffer_position(),
                    })
                }
                Event::Eof => {
                    self.done = true;
                    if !self.path.is_empty() || self.kind.is_none() {
                        return Err(self.syntax("input ends before the document is complete"));
                    }
                    return Ok(None);
                }
                Event::Text(_)
                | Event::CData(_)
                | Event::Decl(_)
                | Event::PI(_)
                | Event::Comment(_) => {}
            }
        }
    }
}

impl<R: BufRead> Iterator for EntryStream<R> {
    type Item = Result<StreamItem>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.next_item() {
            Ok(Some(item)) => Some(Ok(item)),
            Ok(None) => None,
            Err(e) => {
                self.done = true;
                self.pending.clear();
                Some(Err(e))
            }
        }
    }
}
