//! head.001.001.02, the Business Application Header (`AppHdr`).
//!
//! The header travels beside the Document and says who sends what to whom: `Fr`/`To`, the
//! business message identifier (`BizMsgIdr`), the message definition (`MsgDefIdr`, e.g.
//! `pacs.008.001.08`), the business service (`BizSvc`, e.g. `swift.cbprplus.03`) and the creation
//! date-time.

use crate::common::{choice, Agent, Envelope, Party};
use crate::error::XResult;
use crate::types::*;
use crate::xml::reader::{FromXml, NodeId, Tree};
use crate::xml::writer::{Out, ToXml};
use crate::xml::xml_struct;

/// The head.001.001.02 namespace.
pub const NAMESPACE: &str = "urn:iso:std:iso:20022:tech:xsd:head.001.001.02";

/// Why an AppHdr in another namespace is refused, naming what was found and what is read:
/// another head.001 version, SWIFT's legacy `$ahV10` header, or something else.
pub fn unsupported_namespace(found: Option<&str>) -> String {
    let supported = NAMESPACE.rsplit(':').next().unwrap_or(NAMESPACE);
    match found {
        None => format!("AppHdr has no namespace; this crate reads {supported} ({NAMESPACE})"),
        Some(ns) if ns.contains("$ahV10") => format!(
            "AppHdr in SWIFT's legacy header namespace {ns:?} ($ahV10) is not read; this crate \
             reads {supported} ({NAMESPACE})"
        ),
        Some(ns) => match ns.strip_prefix("urn:iso:std:iso:20022:tech:xsd:") {
            Some(version) if version.starts_with("head.001.") => {
                format!("AppHdr version {version} is not read; this crate reads {supported}")
            }
            _ => format!(
                "AppHdr namespace {ns:?} is not a business application header this \
                 crate reads; it reads {supported} ({NAMESPACE})"
            ),
        },
    }
}

/// `Party44Choice`: a financial institution or an organisation.
// Unboxed on purpose: one header per message, and callers match on it directly.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
pub enum HeaderParty {
    /// `<FIId>`: a financial institution (the CBPR+ case).
    FiId(Agent),
    /// `<OrgId>`: an organisation.
    OrgId(Party),
}

impl HeaderParty {
    /// A financial institution known by its BIC.
    pub fn bic(bic: Bic) -> Self {
        HeaderParty::FiId(Agent::bic(bic))
    }

    /// The BIC of a financial institution party, if it has one.
    pub fn bicfi(&self) -> Option<&Bic> {
        match self {
            HeaderParty::FiId(a) => a.bicfi(),
            HeaderParty::OrgId(_) => None,
        }
    }
}

impl FromXml for HeaderParty {
    fn from_xml(tree: &Tree<'_>, id: NodeId) -> XResult<Self> {
        match choice(tree, id, &["FIId", "OrgId"])? {
            (c, 0) => Ok(HeaderParty::FiId(Agent::from_xml(tree, c)?)),
            (c, _) => Ok(HeaderParty::OrgId(Party::from_xml(tree, c)?)),
        }
    }
}

impl ToXml for HeaderParty {
    fn to_xml(&self, out: &mut Out, name: &str) {
        out.start(name);
        match self {
            HeaderParty::FiId(a) => a.to_xml(out, "FIId"),
            HeaderParty::OrgId(p) => p.to_xml(out, "OrgId"),
        }
        out.end(name);
    }
}

xml_struct! {
    /// `ImplementationSpecification1`: the market practice a message follows.
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    pub struct MarketPractice {
        /// `<Regy>`: the registry.
        regy: req Max350Text = "Regy",
        /// `<Id>`: the specification's identification.
        id: req Max2048Text = "Id",
    }
}

xml_struct! {
    /// `BusinessApplicationHeader5`: the header of a related message (`<Rltd>`).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct RelatedHeader {
        /// `<CharSet>`.
        char_set: opt Max35Text = "CharSet",
        /// `<Fr>`.
        fr: req HeaderParty = "Fr",
        /// `<To>`.
        to: req HeaderParty = "To",
        /// `<BizMsgIdr>`.
        biz_msg_idr: req Max35Text = "BizMsgIdr",
        /// `<MsgDefIdr>`.
        msg_def_idr: req Max35Text = "MsgDefIdr",
        /// `<BizSvc>`.
        biz_svc: opt Max35Text = "BizSvc",
        /// `<CreDt>`.
        cre_dt: req IsoDateTime = "CreDt",
        /// `<CpyDplct>`.
        cpy_dplct: opt CopyDuplicate = "CpyDplct",
        /// `<PssblDplct>`.
        pssbl_dplct: opt bool = "PssblDplct",
        /// `<Prty>`.
        prty: opt Max35Text = "Prty",
    }
}

impl RelatedHeader {
    /// A related-message reference with the required elements.
    pub fn new(
        fr: HeaderParty,
        to: HeaderParty,
        biz_msg_idr: Max35Text,
        msg_def_idr: Max35Text,
        cre_dt: IsoDateTime,
    ) -> Self {
        RelatedHeader {
            char_set: None,
            fr,
            to,
            biz_msg_idr,
            msg_def_idr,
            biz_svc: None,
            cre_dt,
            cpy_dplct: None,
            pssbl_dplct: None,
            prty: None,
        }
    }
}

xml_struct! {
    /// `BusinessApplicationHeaderV02` (`<AppHdr>`).
    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
    #[non_exhaustive]
    pub struct AppHdr {
        /// `<CharSet>`.
        char_set: opt Max35Text = "CharSet",
        /// `<Fr>`: the sender.
        fr: req HeaderParty = "Fr",
        /// `<To>`: the receiver.
        to: req HeaderParty = "To",
        /// `<BizMsgIdr>`: the business message identifier (CBPR+: equal to the Document's MsgId).
        biz_msg_idr: req Max35Text = "BizMsgIdr",
        /// `<MsgDefIdr>`: the Document's message definition, e.g. `pacs.008.001.08`.
        msg_def_idr: req Max35Text = "MsgDefIdr",
        /// `<BizSvc>`: e.g. `swift.cbprplus.03`.
        biz_svc: opt Max35Text = "BizSvc",
        /// `<MktPrctc>`: the market practice followed.
        mkt_prctc: opt MarketPractice = "MktPrctc",
        /// `<CreDt>`.
        cre_dt: req IsoDateTime = "CreDt",
        /// `<BizPrcgDt>`.
        biz_prcg_dt: opt IsoDateTime = "BizPrcgDt",
        /// `<CpyDplct>`.
        cpy_dplct: opt CopyDuplicate = "CpyDplct",
        /// `<PssblDplct>`: set on a resend that may duplicate an earlier send.
        pssbl_dplct: opt bool = "PssblDplct",
        /// `<Prty>`.
        prty: opt Max35Text = "Prty",
        /// `<Sgntr>`: the signature (an XML-DSig `ds:Signature`), kept as raw XML.
        sgntr: opt Envelope = "Sgntr",
        /// `<Rltd>`: headers of related messages (e.g. the pacs.008 a pacs.002 answers).
        rltd: many RelatedHeader = "Rltd",
    }
}

impl AppHdr {
    /// A header with the required elements; optional ones are `None` / empty.
    pub fn new(
        fr: HeaderParty,
        to: HeaderParty,
        biz_msg_idr: Max35Text,
        msg_def_idr: Max35Text,
        cre_dt: IsoDateTime,
    ) -> Self {
        AppHdr {
            char_set: None,
            fr,
            to,
            biz_msg_idr,
            msg_def_idr,
            biz_svc: None,
            mkt_prctc: None,
            cre_dt,
            biz_prcg_dt: None,
            cpy_dplct: None,
            pssbl_dplct: None,
            prty: None,
            sgntr: None,
            rltd: Vec::new(),
        }
    }

    /// The business message identifier (a reconciliation key).
    pub fn biz_msg_idr(&self) -> &str {
        self.biz_msg_idr.as_str()
    }

    /// Renders the header alone as an XML document (`<AppHdr xmlns=...>`).
    pub fn render(&self) -> String {
        let mut out = Out::new(1024);
        out.declaration();
        self.write_root(&mut out);
        out.finish()
    }

    pub(crate) fn write_root(&self, out: &mut Out) {
        out.start_ns("AppHdr", NAMESPACE);
        self.write_fields(out);
        out.end("AppHdr");
    }
}
