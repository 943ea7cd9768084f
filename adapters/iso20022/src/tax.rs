//! Tax information (`TaxInformation8` on a transaction, `TaxInformation7` inside structured
//! remittance): who owes tax to whom, the totals and the per-period records. Amounts are exact
//! [`Amount`]s, rates exact [`PercentageRate`] decimals kept as written.

use crate::amount::Amount;
use crate::types::*;
use crate::xml::xml_struct;

xml_struct! {
    /// `TaxInformation8`: tax on a credit transfer.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct TaxInformation {
        /// `<Cdtr>`: the party to which the tax is due.
        cdtr: opt TaxCreditor = "Cdtr",
        /// `<Dbtr>`: the party that owes the tax.
        dbtr: opt TaxDebtor = "Dbtr",
        /// `<AdmstnZone>`.
        admstn_zone: opt Max35Text = "AdmstnZone",
        /// `<RefNb>`.
        ref_nb: opt Max140Text = "RefNb",
        /// `<Mtd>`.
        mtd: opt Max35Text = "Mtd",
        /// `<TtlTaxblBaseAmt>`.
        ttl_taxbl_base_amt: opt Amount = "TtlTaxblBaseAmt",
        /// `<TtlTaxAmt>`.
        ttl_tax_amt: opt Amount = "TtlTaxAmt",
        /// `<Dt>`.
        dt: opt IsoDate = "Dt",
        /// `<SeqNb>`.
        seq_nb: opt Number = "SeqNb",
        /// `<Rcrd>`.
        rcrd: many TaxRecord = "Rcrd",
    }
}

xml_struct! {
    /// `TaxInformation7`: tax remitted as part of structured remittance (adds the ultimate
    /// debtor).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct RemittanceTax {
        /// `<Cdtr>`.
        cdtr: opt TaxCreditor = "Cdtr",
        /// `<Dbtr>`.
        dbtr: opt TaxDebtor = "Dbtr",
        /// `<UltmtDbtr>`.
        ultmt_dbtr: opt TaxDebtor = "UltmtDbtr",
        /// `<AdmstnZone>`.
        admstn_zone: opt Max35Text = "AdmstnZone",
        /// `<RefNb>`.
        ref_nb: opt Max140Text = "RefNb",
        /// `<Mtd>`.
        mtd: opt Max35Text = "Mtd",
        /// `<TtlTaxblBaseAmt>`.
        ttl_taxbl_base_amt: opt Amount = "TtlTaxblBaseAmt",
        /// `<TtlTaxAmt>`.
        ttl_tax_amt: opt Amount = "TtlTaxAmt",
        /// `<Dt>`.
        dt: opt IsoDate = "Dt",
        /// `<SeqNb>`.
        seq_nb: opt Number = "SeqNb",
        /// `<Rcrd>`.
        rcrd: many TaxRecord = "Rcrd",
    }
}

xml_struct! {
    /// `TaxParty1`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct TaxCreditor {
        /// `<TaxId>`.
        tax_id: opt Max35Text = "TaxId",
        /// `<RegnId>`.
        regn_id: opt Max35Text = "RegnId",
        /// `<TaxTp>`.
        tax_tp: opt Max35Text = "TaxTp",
    }
}

xml_struct! {
    /// `TaxParty2`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct TaxDebtor {
        /// `<TaxId>`.
        tax_id: opt Max35Text = "TaxId",
        /// `<RegnId>`.
        regn_id: opt Max35Text = "RegnId",
        /// `<TaxTp>`.
        tax_tp: opt Max35Text = "TaxTp",
        /// `<Authstn>`.
        authstn: opt TaxAuthorisation = "Authstn",
    }
}

xml_struct! {
    /// `TaxAuthorisation1`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct TaxAuthorisation {
        /// `<Titl>`.
        titl: opt Max35Text = "Titl",
        /// `<Nm>`.
        nm: opt Max140Text = "Nm",
    }
}

xml_struct! {
    /// `TaxRecord2`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct TaxRecord {
        /// `<Tp>`.
        tp: opt Max35Text = "Tp",
        /// `<Ctgy>`.
        ctgy: opt Max35Text = "Ctgy",
        /// `<CtgyDtls>`.
        ctgy_dtls: opt Max35Text = "CtgyDtls",
        /// `<DbtrSts>`.
        dbtr_sts: opt Max35Text = "DbtrSts",
        /// `<CertId>`.
        cert_id: opt Max35Text = "CertId",
        /// `<FrmsCd>`.
        frms_cd: opt Max35Text = "FrmsCd",
        /// `<Prd>`.
        prd: opt TaxPeriod = "Prd",
        /// `<TaxAmt>`.
        tax_amt: opt TaxAmount = "TaxAmt",
        /// `<AddtlInf>`.
        addtl_inf: opt Max140Text = "AddtlInf",
    }
}

xml_struct! {
    /// `TaxPeriod2`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct TaxPeriod {
        /// `<Yr>`.
        yr: opt IsoDate = "Yr",
        /// `<Tp>`.
        tp: opt TaxRecordPeriod = "Tp",
        /// `<FrToDt>`.
        fr_to_dt: opt DatePeriod = "FrToDt",
    }
}

xml_struct! {
    /// `DatePeriod2`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct DatePeriod {
        /// `<FrDt>`.
        fr_dt: req IsoDate = "FrDt",
        /// `<ToDt>`.
        to_dt: req IsoDate = "ToDt",
    }
}

xml_struct! {
    /// `TaxAmount2`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Default)]
    #[non_exhaustive]
    pub struct TaxAmount {
        /// `<Rate>`.
        rate: opt PercentageRate = "Rate",
        /// `<TaxblBaseAmt>`.
        taxbl_base_amt: opt Amount = "TaxblBaseAmt",
        /// `<TtlAmt>`.
        ttl_amt: opt Amount = "TtlAmt",
        /// `<Dtls>`.
        dtls: many TaxRecordDetails = "Dtls",
    }
}

xml_struct! {
    /// `TaxRecordDetails2`.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct TaxRecordDetails {
        /// `<Prd>`.
        prd: opt TaxPeriod = "Prd",
        /// `<Amt>`.
        amt: req Amount = "Amt",
    }
}
