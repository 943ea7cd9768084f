//! Typed ISO 20022 (MX) messages for settlement gateways: read and write head.001.001.02,
//! pacs.008/.009/.002/.004/.028, camt.056/.029/.052/.053/.054 and pain.001/.002, exactly and
//! schema-valid, and check them against the CBPR+ usage rules ([`cbpr`]).
//!
//! - **Exact money**: [`Amount`] is `i64` minor units plus an [`iso4217::Currency`]; decimals
//!   follow the currency (JPY 0, EUR 2, KWD 3), text with more decimals than the currency allows
//!   is refused, never rounded, and no float is used anywhere.
//! - **Typed values**: identifiers, BICs, IBANs, LEIs, UETRs, dates and codes are checked when
//!   built ([`types`]), so a message that exists satisfies its schema facets.
//! - **Any writer's XML**: parsing accepts any namespace prefix or none, a bare `Document`,
//!   `AppHdr` + `Document` side by side, or an envelope around them ([`message`]); unknown
//!   external codes are kept; date-times are kept exactly as written.
//! - **Deterministic, schema-valid output** with the right namespace on every root.
//! - **Hardened reader**: no DTD, no entities beyond the XML built-ins, bounded size and depth
//!   ([`Limits`]), errors with element paths ([`Error`]), no panics.
//!
//! # Example
//!
//! Build a pacs.008 with its AppHdr, render the envelope, then read the bank's pacs.002 answer.
//!
//! ```
//! use iso20022::common::{Agent, CashAccount, Party, PostalAddress, RemittanceInfo, SettlementInstruction};
//! use iso20022::head::{AppHdr, HeaderParty};
//! use iso20022::pacs008::{self, CreditTransfer, GroupHeader, Pacs008, PaymentId};
//! use iso20022::types::*;
//! use iso20022::{iso4217, Amount, BusinessMessage, Document};
//!
//! # fn main() -> Result<(), iso20022::Error> {
//! let instg = Bic::new("BANKDEFFXXX")?;
//! let instd = Bic::new("BANKUS33XXX")?;
//! let uetr = Uetr::new("8a562c67-ca16-48ba-b074-65581be6f001")?;
//! let now = IsoDateTime::new("2026-11-25T10:15:00+01:00")?;
//!
//! // CBPR+: the group header holds MsgId, CreDtTm, NbOfTxs and SttlmInf; the agents go in
//! // the transaction.
//! let grp_hdr = GroupHeader::new(
//!     Max35Text::new("MSG-0001")?,
//!     now.clone(),
//!     SettlementInstruction::method(SettlementMethod::Inda),
//! );
//!
//! let mut dbtr = Party::named(Max140Text::new("Acme Corp")?);
//! dbtr.pstl_adr = Some(Box::new(PostalAddress::town_country(Max35Text::new("Berlin")?, CountryCode::new("DE")?)));
//! dbtr.set_lei(Lei::new("5493001KJTIIGC8Y1R12")?);
//!
//! let mut tx = CreditTransfer::new(
//!     PaymentId::new(
//!         Max35Text::new("INSTR-1")?,
//!         Max35Text::new("E2E-1")?,
//!         Max35Text::new("TX-1")?,
//!         uetr.clone(),
//!     ),
//!     Amount::parse("1234.50", iso4217::lookup("EUR").unwrap())?,
//!     ChargeBearer::Shar,
//!     dbtr,
//!     Agent::bic(instg.clone()),
//!     Agent::bic(instd.clone()),
//!     Party::named(Max140Text::new("Widget Inc")?),
//! );
//! tx.intr_bk_sttlm_dt = Some(IsoDate::new("2026-11-25")?);
//! tx.instg_agt = Some(Agent::bic(instg.clone()));
//! tx.instd_agt = Some(Agent::bic(instd.clone()));
//! tx.dbtr_acct = Some(CashAccount::iban(Iban::new("DE89370400440532013000")?));
//! tx.cdtr_acct = Some(CashAccount::other(Max34Text::new("123456789")?, None));
//! tx.rmt_inf = Some(RemittanceInfo::unstructured(Max140Text::new("Invoice 42")?));
//!
//! let mut hdr = AppHdr::new(
//!     HeaderParty::bic(instg),
//!     HeaderParty::bic(instd),
//!     Max35Text::new("MSG-0001")?,
//!     Max35Text::new(pacs008::MSG_DEF_IDR)?,
//!     now,
//! );
//! hdr.biz_svc = Some(Max35Text::new("swift.cbprplus.03")?);
//!
//! let msg = BusinessMessage::new(hdr, Pacs008::new(grp_hdr, tx));
//! let xml = msg.render();
//! assert!(xml.contains(r#"<IntrBkSttlmAmt Ccy="EUR">1234.50</IntrBkSttlmAmt>"#));
//! assert_eq!(BusinessMessage::parse(&xml)?, msg); // round trip
//! assert!(iso20022::cbpr::validate(&msg).is_empty()); // CBPR+ usage rules hold
//!
//! // The bank answers with a pacs.002 (here with prefixes, as some banks write it).
//! let answer = r#"<?xml version="1.0"?>
//! <Envelope xmlns="urn:swift:xsd:envelope">
//!  <h:AppHdr xmlns:h="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">
//!   <h:Fr><h:FIId><h:FinInstnId><h:BICFI>BANKUS33XXX</h:BICFI></h:FinInstnId></h:FIId></h:Fr>
//!   <h:To><h:FIId><h:FinInstnId><h:BICFI>BANKDEFFXXX</h:BICFI></h:FinInstnId></h:FIId></h:To>
//!   <h:BizMsgIdr>STS-77</h:BizMsgIdr><h:MsgDefIdr>pacs.002.001.10</h:MsgDefIdr>
//!   <h:CreDt>2026-11-25T09:16:02Z</h:CreDt>
//!  </h:AppHdr>
//!  <p:Document xmlns:p="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"><p:FIToFIPmtStsRpt>
//!   <p:GrpHdr><p:MsgId>STS-77</p:MsgId><p:CreDtTm>2026-11-25T09:16:02Z</p:CreDtTm></p:GrpHdr>
//!   <p:OrgnlGrpInfAndSts><p:OrgnlMsgId>MSG-0001</p:OrgnlMsgId>
//!     <p:OrgnlMsgNmId>pacs.008.001.08</p:OrgnlMsgNmId></p:OrgnlGrpInfAndSts>
//!   <p:TxInfAndSts>
//!     <p:OrgnlInstrId>INSTR-1</p:OrgnlInstrId><p:OrgnlEndToEndId>E2E-1</p:OrgnlEndToEndId>
//!     <p:OrgnlTxId>TX-1</p:OrgnlTxId><p:OrgnlUETR>8a562c67-ca16-48ba-b074-65581be6f001</p:OrgnlUETR>
//!     <p:TxSts>RJCT</p:TxSts>
//!     <p:StsRsnInf><p:Rsn><p:Cd>AC04</p:Cd></p:Rsn><p:AddtlInf>Account closed</p:AddtlInf></p:StsRsnInf>
//!   </p:TxInfAndSts>
//!  </p:FIToFIPmtStsRpt></p:Document>
//! </Envelope>"#;
//! let answer = BusinessMessage::parse(answer)?;
//! assert_eq!(answer.orgnl_uetr(), Some(&uetr));
//! assert_eq!(answer.orgnl_msg_id(), Some("MSG-0001"));
//! assert_eq!(answer.tx_sts(), Some(&TransactionStatus::Rjct));
//! let Document::Pacs002(report) = &answer.document else { unreachable!() };
//! assert_eq!(report.tx_inf_and_sts[0].reason_code(), Some("AC04"));
//! # Ok(())
//! # }
//! ```
//!
//! # Modules, in the order a message is built
//!
//! - [`iso4217`]: the currency table; [`amount`]: exact amounts.
//! - [`types`]: leaf values (texts, BIC, IBAN, LEI, UETR, dates, codes).
//! - [`common`]: components shared by messages (agents, parties, accounts, ...).
//! - [`head`], [`pacs008`], [`pacs009`], [`pacs002`], [`pacs004`], [`pacs028`], [`camt056`],
//!   [`camt029`], [`statement`] (camt.052/.053/.054 and the streaming [`statement::EntryStream`]),
//!   [`pain001`], [`pain002`]: the messages.
//! - [`message`]: `Document` over all kinds, `BusinessMessage` (the envelope), parse / render,
//!   reconciliation [`Keys`].
//! - [`cbpr`]: the CBPR+ validator, findings with path and rule id.
//! - [`samples`]: deterministic sample messages (conformance runs, benchmarks).
//! - [`error`]: errors with element paths.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod amount;
pub mod camt029;
pub mod camt056;
pub mod cbpr;
pub mod common;
mod de;
pub mod error;
pub mod head;
pub mod iso4217;
pub mod message;
pub mod pacs002;
pub mod pacs004;
pub mod pacs008;
pub mod pacs009;
pub mod pacs028;
pub mod pain001;
pub mod pain002;
pub mod remittance;
pub mod samples;
pub mod statement;
pub mod statement_flat;
pub mod tax;
pub mod types;
mod xml;

pub use amount::Amount;
pub use error::{Error, InvalidValue, Result};
pub use iso4217::Currency;
pub use message::{BusinessMessage, Document, Envelope, Keys, UnreadElement};

/// Bounds on what the reader accepts. Every field is a hard limit with its unit in its name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest input accepted, in bytes. Default 4 MiB: a CBPR+ message is limited to 100 KB
    /// on the network; the margin is for statements read whole.
    pub message_bytes_max: usize,
    /// Deepest element nesting accepted. Default 64; the deepest ISO 20022 paths used are about
    /// 15 levels.
    pub depth_max: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            message_bytes_max: 4 * 1024 * 1024,
            depth_max: 64,
        }
    }
}

/// How to parse.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ParseOptions {
    /// Size and depth bounds.
    pub limits: Limits,
    /// Strict mode refuses any element the typed model does not read (unknown, or out of
    /// schema order) and any element outside its part's namespace (free-form content excepted). Lenient mode (the default) reports them in
    /// [`BusinessMessage::unread`].
    pub strict: bool,
}

impl ParseOptions {
    /// Strict parsing with default limits.
    pub fn strict() -> Self {
        ParseOptions {
            strict: true,
            ..Default::default()
        }
    }
}
