//! Structured remittance (`StructuredRemittanceInformation16`): the documents a payment settles,
//! their amounts, and the creditor's reference, for the creditor to reconcile against its
//! receivables.
//!
//! Typed: referred documents (type, number, date, line details), remittance amounts (due,
//! discounts, credit notes, taxes, adjustments, remitted), creditor reference, invoicer and
//! invoicee, tax remittance, garnishment, additional lines; and the location of remittance
//! information sent separately (`RltdRmtInf`).

use crate::amount::Amount;
use crate::common::{CodeChoice, CodeOrProprietary, Party, PostalAddress};
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
        /// `<TaxRmt>`.
        tax_rmt: opt crate::tax::RemittanceTax = "TaxRmt",
        /// `<GrnshmtRmt>`.
        grnshmt_rmt: opt Garnishment = "GrnshmtRmt",
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
    /// `ReferredDocumentInformation7`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct ReferredDocument {
        /// `<Tp>`.
        tp: opt ReferredDocumentType = "Tp",
        /// `<Nb>`: the document number, e.g. the invoice number.
        nb: opt Max35Text = "Nb",
        /// `<RltdDt>`.
        rltd_dt: opt IsoDate = "RltdDt",
        /// `<LineDtls>`: the document's lines (e.g. invoice lines) this payment settles.
        line_dtls: many DocumentLine = "LineDtls",
    }
}

xml_struct! {
    /// `DocumentLineInformation1`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct DocumentLine {
        /// `<Id>`, one or more.
        id: some DocumentLineId = "Id",
        /// `<Desc>`.
        desc: opt Max2048Text = "Desc",
        /// `<Amt>`.
        amt: opt RemittanceAmount = "Amt",
    }
}

xml_struct! {
    /// `DocumentLineIdentification1`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct DocumentLineId {
        /// `<Tp>`.
        tp: opt DocumentLineType = "Tp",
        /// `<Nb>`.
        nb: opt Max35Text = "Nb",
        /// `<RltdDt>`.
        rltd_dt: opt IsoDate = "RltdDt",
    }
}

xml_struct! {
    /// `DocumentLineType1`: `Cd` from ExternalDocumentLineType1Code or `Prtry`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct DocumentLineType {
        /// `<CdOrPrtry>`.
        cd_or_prtry: req CodeOrProprietary<4> = "CdOrPrtry",
        /// `<Issr>`.
        issr: opt Max35Text = "Issr",
    }
}

xml_struct! {
    /// `Garnishment3`: a remittance of garnished wages (e.g. child support).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct Garnishment {
        /// `<Tp>`.
        tp: req GarnishmentType = "Tp",
        /// `<Grnshee>`.
        grnshee: opt Party = "Grnshee",
        /// `<GrnshmtAdmstr>`.
        grnshmt_admstr: opt Party = "GrnshmtAdmstr",
        /// `<RefNb>`.
        ref_nb: opt Max140Text = "RefNb",
        /// `<Dt>`.
        dt: opt IsoDate = "Dt",
        /// `<RmtdAmt>`.
        rmtd_amt: opt Amount = "RmtdAmt",
        /// `<FmlyMdclInsrncInd>`.
        fmly_mdcl_insrnc_ind: opt bool = "FmlyMdclInsrncInd",
        /// `<MplyeeTermntnInd>`.
        mplyee_termntn_ind: opt bool = "MplyeeTermntnInd",
    }
}

xml_struct! {
    /// `GarnishmentType1`: `Cd` from ExternalGarnishmentType1Code or `Prtry`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct GarnishmentType {
        /// `<CdOrPrtry>`.
        cd_or_prtry: req CodeOrProprietary<4> = "CdOrPrtry",
        /// `<Issr>`.
        issr: opt Max35Text = "Issr",
    }
}

xml_struct! {
    /// `RemittanceLocation7`: where remittance information sent separately can be found.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct RemittanceLocation {
        /// `<RmtId>`.
        rmt_id: opt Max35Text = "RmtId",
        /// `<RmtLctnDtls>`.
        rmt_lctn_dtls: many RemittanceLocationData = "RmtLctnDtls",
    }
}

xml_struct! {
    /// `RemittanceLocationData1`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct RemittanceLocationData {
        /// `<Mtd>`.
        mtd: req RemittanceLocationMethod = "Mtd",
        /// `<ElctrncAdr>`.
        elctrnc_adr: opt Max2048Text = "ElctrncAdr",
        /// `<PstlAdr>`.
        pstl_adr: opt NameAndAddress = "PstlAdr",
    }
}

xml_struct! {
    /// `NameAndAddress16`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct NameAndAddress {
        /// `<Nm>`.
        nm: req Max140Text = "Nm",
        /// `<Adr>`.
        adr: req PostalAddress = "Adr",
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
