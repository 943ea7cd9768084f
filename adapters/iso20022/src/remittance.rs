//! Structured remittance (`StructuredRemittanceInformation16`): the documents a payment settles,
//! their amounts, and the creditor's reference, for the creditor to reconcile against its
//! receivables.
//!
//! Typed: referred documents (type, number, date), remittance amounts (due, discounts, credit
//! notes, taxes, adjustments, remitted), creditor reference, invoicer and invoicee, additional
//! lines. Not typed: document line details, tax remittance and garnishment (lenient parsing
//! reports them in `unread`, strict parsing refuses them).

use crate::amount::Amount;
use crate::common::{CodeChoice, CodeOrProprietary, Party};
use crate::types::*;
use crate::xml::xml_struct;

xml_struct! {
    /// `StructuredRemittanceInformation16`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct StructuredRemittance {
        /// `<RfrdDocInf>`: the documents (invoices, credit notes, ...) the payment settles.
        rfrd_doc_inf: many ReferredDocument = "RfrdDocInf",
        /// `<RfrdDocAmt>`.
        rfrd_doc_amt: opt RemittanceAmount = "RfrdDocAmt",
        /// `<CdtrRefInf>`: the creditor's reference (e.g. an ISO 11649 RF reference).
        cdtr_ref_inf: opt CreditorReference = "CdtrRefInf",
        /// `<Invcr>`.
        invcr: opt Party = "Invcr",
        /// `<Invcee>`.
        invcee: opt Party = "Invcee",
        /// `<AddtlRmtInf>`, at most 3.
        addtl_rmt_inf: many Max140Text = "AddtlRmtInf" max 3,
    }
}

/// `ReferredDocumentType3Choice`.
pub type ReferredDocumentKind = CodeChoice<DocumentType6, Max35Text>;

xml_struct! {
    /// `ReferredDocumentType4`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct ReferredDocumentType {
        /// `<CdOrPrtry>`.
        cd_or_prtry: req ReferredDocumentKind = "CdOrPrtry",
        /// `<Issr>`.
        issr: opt Max35Text = "Issr",
    }
}

xml_struct! {
    /// `ReferredDocumentInformation7` (line details not typed).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct ReferredDocument {
        /// `<Tp>`.
        tp: opt ReferredDocumentType = "Tp",
        /// `<Nb>`: the document number, e.g. the invoice number.
        nb: opt Max35Text = "Nb",
        /// `<RltdDt>`.
        rltd_dt: opt IsoDate = "RltdDt",
    }
}

xml_struct! {
    /// `DiscountAmountAndType1` / `TaxAmountAndType1`: an amount with an optional type
    /// (`Cd` from the external code list, or `Prtry`).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct TypedAmount {
        /// `<Tp>`.
        tp: opt CodeOrProprietary<4> = "Tp",
        /// `<Amt>`.
        amt: req Amount = "Amt",
    }
}

xml_struct! {
    /// `DocumentAdjustment1`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct DocumentAdjustment {
        /// `<Amt>`.
        amt: req Amount = "Amt",
        /// `<CdtDbtInd>`.
        cdt_dbt_ind: opt CreditDebit = "CdtDbtInd",
        /// `<Rsn>`.
        rsn: opt Max4Text = "Rsn",
        /// `<AddtlInf>`.
        addtl_inf: opt Max140Text = "AddtlInf",
    }
}

xml_struct! {
    /// `RemittanceAmount2`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct RemittanceAmount {
        /// `<DuePyblAmt>`.
        due_pybl_amt: opt Amount = "DuePyblAmt",
        /// `<DscntApldAmt>`.
        dscnt_apld_amt: many TypedAmount = "DscntApldAmt",
        /// `<CdtNoteAmt>`.
        cdt_note_amt: opt Amount = "CdtNoteAmt",
        /// `<TaxAmt>`.
        tax_amt: many TypedAmount = "TaxAmt",
        /// `<AdjstmntAmtAndRsn>`.
        adjstmnt_amt_and_rsn: many DocumentAdjustment = "AdjstmntAmtAndRsn",
        /// `<RmtdAmt>`.
        rmtd_amt: opt Amount = "RmtdAmt",
    }
}

/// `CreditorReferenceType1Choice`.
pub type CreditorReferenceKind = CodeChoice<DocumentType3, Max35Text>;

xml_struct! {
    /// `CreditorReferenceType2`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct CreditorReferenceType {
        /// `<CdOrPrtry>`.
        cd_or_prtry: req CreditorReferenceKind = "CdOrPrtry",
        /// `<Issr>`.
        issr: opt Max35Text = "Issr",
    }
}

xml_struct! {
    /// `CreditorReferenceInformation2`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct CreditorReference {
        /// `<Tp>`.
        tp: opt CreditorReferenceType = "Tp",
        /// `<Ref>`.
        r#ref: opt Max35Text = "Ref",
    }
}
