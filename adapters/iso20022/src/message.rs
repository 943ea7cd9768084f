//! Whole messages: a [`Document`] of any known kind, and a [`BusinessMessage`] (AppHdr +
//! Document) as it travels over HTTP.
//!
//! ## The envelope
//!
//! A business message is rendered as one XML document:
//!
//! ```xml
//! <?xml version="1.0" encoding="UTF-8"?>
//! <Envelope xmlns="urn:swift:xsd:envelope">
//!   <AppHdr xmlns="urn:iso:std:iso:20022:tech:xsd:head.001.001.02">...</AppHdr>
//!   <Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.008.001.08">...</Document>
//! </Envelope>
//! ```
//!
//! (written without indentation). The `<Envelope>` wrapper follows the shape of SWIFT's CBPR+
//! example messages. Parsing is liberal: it accepts that envelope, any other wrapper whose
//! children are `AppHdr` and `Document` (whatever its name or namespace), wrappers around that
//! wrapper up to four levels deep (a market infrastructure's `DataPDU/Body` around an envelope,
//! say), an `AppHdr` and a `Document` side by side at the top level, and a bare `Document`.

use crate::camt029::Camt029;
use crate::camt056::Camt056;
use crate::error::{Error, Result};
use crate::head::{self, AppHdr};
use crate::pacs002::Pacs002;
use crate::pacs004::Pacs004;
use crate::pacs008::Pacs008;
use crate::pacs009::Pacs009;
use crate::pacs028::Pacs028;
use crate::pain001::Pain001;
use crate::pain002::Pain002;
use crate::statement::{Camt052, Camt053, Camt054};
use crate::types::{TransactionStatus, Uetr};
use crate::xml::reader::{FromXml, NodeId, Tree};
use crate::xml::writer::{Out, DECLARATION};
use crate::ParseOptions;

/// Namespace of the envelope this crate writes.
pub const ENVELOPE_NAMESPACE: &str = "urn:swift:xsd:envelope";
/// Name of the envelope element this crate writes.
pub const ENVELOPE_ELEMENT: &str = "Envelope";

const NAMESPACE_PREFIX: &str = "urn:iso:std:iso:20022:tech:xsd:";

/// What every typed message kind provides to [`Document`].
pub(crate) trait Message: Sized {
    /// The Document namespace.
    const NAMESPACE: &'static str;
    /// The message element under `<Document>`.
    const ROOT: &'static str;
    fn read(tree: &Tree<'_>, id: NodeId) -> crate::error::XResult<Self>;
    fn write(&self, out: &mut Out);
    /// The message's own identification (`GrpHdr/MsgId`, or `Assgnmt/Id` for investigations).
    fn msg_id(&self) -> Option<&str>;
}

macro_rules! documents {
    ($( $(#[$doc:meta])* $variant:ident($ty:ty) ),* $(,)?) => {
        /// An ISO 20022 `<Document>`, by message kind.
        ///
        /// JSON: the kind's variant name around the message, `{"Pacs008": {...}}`, or
        /// `{"Unknown": {"namespace", "root", "raw"}}`.
        #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
        #[serde(try_from = "DocumentJson")]
        #[non_exhaustive]
        pub enum Document {
            $( $(#[$doc])* $variant(Box<$ty>), )*
            /// A document of a kind this crate does not type, kept as raw XML.
            Unknown {
                /// The Document's namespace.
                namespace: String,
                /// The name of the message element under `<Document>`.
                root: String,
                /// The whole `<Document>` element as written.
                raw: String,
            },
        }

        impl Document {
            /// The Document namespaces of the kinds this crate types, one version each.
            pub const TYPED_NAMESPACES: &'static [&'static str] =
                &[$( <$ty as Message>::NAMESPACE ),*];

            /// The namespace this document is written in.
            pub fn namespace(&self) -> &str {
                match self {
                    $( Document::$variant(_) => <$ty as Message>::NAMESPACE, )*
                    Document::Unknown { namespace, .. } => namespace,
                }
            }

            /// The message's own identification: `GrpHdr/MsgId` (`Assgnmt/Id` for camt.056 and
            /// camt.029); `None` for unknown documents.
            pub fn msg_id(&self) -> Option<&str> {
                match self {
                    $( Document::$variant(m) => Message::msg_id(m.as_ref()), )*
                    Document::Unknown { .. } => None,
                }
            }

            pub(crate) fn write(&self, out: &mut Out) {
                match self {
                    $( Document::$variant(m) => {
                        out.start_ns("Document", <$ty as Message>::NAMESPACE);
                        Message::write(m.as_ref(), out);
                        out.end("Document");
                    } )*
                    Document::Unknown { raw, .. } => out.raw(raw),
                }
            }

            fn read_kind(tree: &Tree<'_>, namespace: &str, msg: NodeId) -> crate::error::XResult<Option<Document>> {
                let name = tree.node(msg).name;
                $( if namespace == <$ty as Message>::NAMESPACE {
                    if name != <$ty as Message>::ROOT {
                        return Err(Error::Structure {
                            path: tree.path(msg),
                            message: format!("namespace {namespace} expects <{}>", <$ty as Message>::ROOT),
                        }.into());
                    }
                    return Ok(Some(Document::$variant(Box::new(<$ty as Message>::read(tree, msg)?))));
                } )*
                Ok(None)
            }
        }

        /// JSON in: the shape `Document` serializes to, before the checks only a whole
        /// document allows (see `TryFrom`).
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields, rename = "Document")]
        enum DocumentJson {
            $( $variant(Box<$ty>), )*
            Unknown {
                namespace: String,
                root: String,
                raw: String,
            },
        }

        impl TryFrom<DocumentJson> for Document {
            type Error = String;

            fn try_from(json: DocumentJson) -> std::result::Result<Document, String> {
                match json {
                    $( DocumentJson::$variant(m) => Ok(Document::$variant(m)), )*
                    DocumentJson::Unknown { namespace, root, raw } => {
                        Document::check_unknown(&namespace, &root, &raw)
                            .map_err(|e| format!("Unknown: {e}"))?;
                        Ok(Document::Unknown { namespace, root, raw })
                    }
                }
            }
        }

        $( impl From<$ty> for Document {
            fn from(m: $ty) -> Self {
                Document::$variant(Box::new(m))
            }
        } )*
    };
}

documents! {
    /// pacs.008.001.08 customer credit transfer.
    Pacs008(Pacs008),
    /// pacs.009.001.08 financial institution credit transfer (and its cover variant).
    Pacs009(Pacs009),
    /// pacs.002.001.10 payment status report.
    Pacs002(Pacs002),
    /// pacs.004.001.09 payment return.
    Pacs004(Pacs004),
    /// pacs.028.001.03 payment status request.
    Pacs028(Pacs028),
    /// camt.056.001.08 cancellation request (recall).
    Camt056(Camt056),
    /// camt.029.001.09 resolution of investigation.
    Camt029(Camt029),
    /// camt.053.001.08 statement.
    Camt053(Camt053),
    /// camt.052.001.08 account report.
    Camt052(Camt052),
    /// camt.054.001.08 debit/credit notification.
    Camt054(Camt054),
    /// pain.001.001.09 customer credit transfer initiation.
    Pain001(Pain001),
    /// pain.002.001.10 customer payment status report.
    Pain002(Pain002),
}

impl Document {
    /// The message definition identifier, e.g. `pacs.008.001.08` (what AppHdr `MsgDefIdr` must
    /// say). For unknown documents, derived from an ISO namespace, or the namespace itself.
    pub fn msg_def_idr(&self) -> &str {
        let ns = self.namespace();
        ns.strip_prefix(NAMESPACE_PREFIX).unwrap_or(ns)
    }

    /// The message definition identifiers this crate types (`pacs.008.001.08`, ...).
    pub fn supported() -> impl Iterator<Item = &'static str> {
        Self::TYPED_NAMESPACES
            .iter()
            .map(|ns| ns.strip_prefix(NAMESPACE_PREFIX).unwrap_or(ns))
    }

    /// For a document this crate does not type: why, naming the version found and the versions
    /// of the same message family it does read (or every kind it reads, when it reads none of
    /// that family). `None` for a typed document.
    pub fn unsupported(&self) -> Option<String> {
        let Document::Unknown { root, .. } = self else {
            return None;
        };
        let found = self.msg_def_idr();
        // A message family is the identifier without its variant and version: `pacs.008`.
        let family = |idr: &str| idr.splitn(3, '.').take(2).collect::<Vec<_>>().join(".");
        let same_family: Vec<&str> = Self::supported()
            .filter(|s| family(s) == family(found))
            .collect();
        Some(if same_family.is_empty() {
            format!(
                "{found} (<{root}>) is not a message kind this crate reads; it reads {}",
                Self::supported().collect::<Vec<_>>().join(", ")
            )
        } else {
            format!(
                "{found} is a version this crate does not read; it reads {}",
                same_family.join(", ")
            )
        })
    }

    /// Renders the bare document (XML declaration, `<Document xmlns=...>`), deterministically.
    pub fn render(&self) -> String {
        let mut out = Out::new(4096);
        out.declaration();
        self.write(&mut out);
        out.finish()
    }

    /// Parses a bare `<Document>` (any prefix or none), leniently.
    pub fn parse(xml: &str) -> Result<Document> {
        Self::parse_with(xml, &ParseOptions::default())
    }

    /// Parses a bare `<Document>` with the given options.
    pub fn parse_with(xml: &str, options: &ParseOptions) -> Result<Document> {
        let msg = BusinessMessage::parse_with(xml, options)?;
        if msg.app_hdr.is_some() {
            return Err(Error::Structure {
                path: "/".into(),
                message: "expected a bare Document, found a business message with AppHdr".into(),
            });
        }
        Ok(msg.document)
    }

    /// An unknown document from JSON is what the reader would have kept: a standalone
    /// `<Document>` (see [`crate::common::RawXml`]) of a kind this crate does not type, in the
    /// namespace and with the message element its fields say. Rendering writes `raw` as is.
    fn check_unknown(namespace: &str, root: &str, raw: &str) -> std::result::Result<(), String> {
        crate::common::RawXml::check_standalone(raw).map_err(|e| format!("raw: {e}"))?;
        let tree = Tree::parse(raw, &crate::Limits::default()).map_err(|e| e.to_string())?;
        let doc = tree
            .roots
            .first()
            .copied()
            .filter(|&r| tree.node(r).name == "Document")
            .ok_or("raw: not a <Document> element")?;
        match Document::read(&tree, doc).map_err(|e| format!("raw: {e}"))? {
            Document::Unknown {
                namespace: ns,
                root: r,
                ..
            } if ns == namespace && r == root => Ok(()),
            Document::Unknown {
                namespace: ns,
                root: r,
                ..
            } => Err(format!(
                "raw holds <{r}> in namespace {ns:?}, the fields say <{root}> in {namespace:?}"
            )),
            typed => Err(format!(
                "raw is a {} document, which is typed: give it under its own variant",
                typed.msg_def_idr()
            )),
        }
    }

    pub(crate) fn read(tree: &Tree<'_>, id: NodeId) -> crate::error::XResult<Document> {
        tree.node(id).used.set(true);
        let mut children = tree.children(id);
        let (Some(msg), None) = (children.next(), children.next()) else {
            return Err(Error::Structure {
                path: tree.path(id),
                message: "a Document holds exactly one message element".into(),
            }
            .into());
        };
        let namespace = tree.ns(id).ok_or_else(|| Error::Structure {
            path: tree.path(id),
            message: format!("undeclared namespace prefix {:?}", tree.node(id).prefix),
        })?;
        let namespace = namespace.as_str();
        if let Some(doc) = Self::read_kind(tree, namespace, msg)? {
            return Ok(doc);
        }
        tree.mark_subtree(id);
        Ok(Document::Unknown {
            namespace: namespace.to_owned(),
            root: tree.node(msg).name.to_owned(),
            raw: tree.raw_self_contained(id),
        })
    }
}

/// The references reconciliation matches on, taken from a document's first transaction (CBPR+
/// messages carry one). Statement entries have their own: see
/// [`crate::statement::Entry::transaction_refs`].
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Keys<'a> {
    /// `GrpHdr/MsgId` (`Assgnmt/Id` for camt.056 / camt.029).
    pub msg_id: Option<&'a str>,
    /// `UETR` of a payment message.
    pub uetr: Option<&'a str>,
    /// `EndToEndId`.
    pub end_to_end_id: Option<&'a str>,
    /// `InstrId`.
    pub instr_id: Option<&'a str>,
    /// `TxId`.
    pub tx_id: Option<&'a str>,
    /// The original message's `MsgId` (status reports, returns, recalls, resolutions).
    pub orgnl_msg_id: Option<&'a str>,
    /// `OrgnlUETR`.
    pub orgnl_uetr: Option<&'a str>,
    /// `OrgnlEndToEndId`.
    pub orgnl_end_to_end_id: Option<&'a str>,
    /// `OrgnlInstrId`.
    pub orgnl_instr_id: Option<&'a str>,
    /// `OrgnlTxId`.
    pub orgnl_tx_id: Option<&'a str>,
    /// `AcctSvcrRef` of a status report's transaction.
    pub acct_svcr_ref: Option<&'a str>,
}

fn s<const N: usize>(t: &Option<crate::types::Text<N>>) -> Option<&str> {
    t.as_ref().map(|t| t.as_str())
}

fn u(t: &Option<Uetr>) -> Option<&str> {
    t.as_ref().map(|t| t.as_str())
}

impl Document {
    /// The reconciliation references of this document (first transaction).
    // Long on purpose: one arm per message kind, each naming where that kind keeps its keys.
    pub fn keys(&self) -> Keys<'_> {
        let mut k = Keys {
            msg_id: self.msg_id(),
            ..Keys::default()
        };
        match self {
            Document::Pacs008(m) => {
                if let Some(t) = m.tx() {
                    k.uetr = u(&t.pmt_id.uetr);
                    k.end_to_end_id = Some(t.pmt_id.end_to_end_id.as_str());
                    k.instr_id = s(&t.pmt_id.instr_id);
                    k.tx_id = s(&t.pmt_id.tx_id);
                }
            }
            Document::Pacs009(m) => {
                if let Some(t) = m.tx() {
                    k.uetr = u(&t.pmt_id.uetr);
                    k.end_to_end_id = Some(t.pmt_id.end_to_end_id.as_str());
                    k.instr_id = s(&t.pmt_id.instr_id);
                    k.tx_id = s(&t.pmt_id.tx_id);
                }
            }
            Document::Pacs002(m) => {
                k.orgnl_msg_id = m.orgnl_msg_id();
                if let Some(t) = m.tx_inf_and_sts.first() {
                    k.orgnl_uetr = u(&t.orgnl_uetr);
                    k.orgnl_end_to_end_id = s(&t.orgnl_end_to_end_id);
                    k.orgnl_instr_id = s(&t.orgnl_instr_id);
                    k.orgnl_tx_id = s(&t.orgnl_tx_id);
                    k.acct_svcr_ref = s(&t.acct_svcr_ref);
                    if k.orgnl_msg_id.is_none() {
                        k.orgnl_msg_id = t.orgnl_grp_inf.as_ref().map(|g| g.orgnl_msg_id.as_str());
                    }
                }
            }
            Document::Pacs004(m) => {
                k.orgnl_msg_id = m.orgnl_grp_inf.as_ref().map(|g| g.orgnl_msg_id.as_str());
                if let Some(t) = m.tx_inf.first() {
                    k.orgnl_uetr = u(&t.orgnl_uetr);
                    k.orgnl_end_to_end_id = s(&t.orgnl_end_to_end_id);
                    k.orgnl_instr_id = s(&t.orgnl_instr_id);
                    k.orgnl_tx_id = s(&t.orgnl_tx_id);
                    if k.orgnl_msg_id.is_none() {
                        k.orgnl_msg_id = t.orgnl_grp_inf.as_ref().map(|g| g.orgnl_msg_id.as_str());
                    }
                }
            }
            Document::Pacs028(m) => {
                k.orgnl_msg_id = m.orgnl_grp_inf.first().map(|g| g.orgnl_msg_id.as_str());
                if let Some(t) = m.tx_inf.first() {
                    k.orgnl_uetr = u(&t.orgnl_uetr);
                    k.orgnl_end_to_end_id = s(&t.orgnl_end_to_end_id);
                    k.orgnl_instr_id = s(&t.orgnl_instr_id);
                    k.orgnl_tx_id = s(&t.orgnl_tx_id);
                    if k.orgnl_msg_id.is_none() {
                        k.orgnl_msg_id = t.orgnl_grp_inf.as_ref().map(|g| g.orgnl_msg_id.as_str());
                    }
                }
            }
            Document::Camt056(m) => {
                if let Some(t) = m.tx() {
                    k.orgnl_uetr = u(&t.orgnl_uetr);
                    k.orgnl_end_to_end_id = s(&t.orgnl_end_to_end_id);
                    k.orgnl_instr_id = s(&t.orgnl_instr_id);
                    k.orgnl_tx_id = s(&t.orgnl_tx_id);
                    k.orgnl_msg_id = t.orgnl_grp_inf.as_ref().map(|g| g.orgnl_msg_id.as_str());
                }
                if k.orgnl_msg_id.is_none() {
                    k.orgnl_msg_id = m
                        .undrlyg
                        .iter()
                        .find_map(|u| u.orgnl_grp_inf_and_cxl.as_ref())
                        .map(|g| g.orgnl_msg_id.as_str());
                }
            }
            Document::Camt029(m) => {
                if let Some(t) = m.tx() {
                    k.orgnl_uetr = u(&t.orgnl_uetr);
                    k.orgnl_end_to_end_id = s(&t.orgnl_end_to_end_id);
                    k.orgnl_instr_id = s(&t.orgnl_instr_id);
                    k.orgnl_tx_id = s(&t.orgnl_tx_id);
                    k.orgnl_msg_id = t.orgnl_grp_inf.as_ref().map(|g| g.orgnl_msg_id.as_str());
                }
                if k.orgnl_msg_id.is_none() {
                    k.orgnl_msg_id = m
                        .cxl_dtls
                        .iter()
                        .find_map(|d| d.orgnl_grp_inf_and_sts.as_ref())
                        .map(|g| g.orgnl_msg_id.as_str());
                }
            }
            Document::Pain002(m) => {
                k.orgnl_msg_id = Some(m.orgnl_msg_id());
                if let Some(t) = m
                    .orgnl_pmt_inf_and_sts
                    .iter()
                    .flat_map(|p| p.tx_inf_and_sts.iter())
                    .next()
                {
                    k.orgnl_uetr = u(&t.orgnl_uetr);
                    k.orgnl_end_to_end_id = s(&t.orgnl_end_to_end_id);
                    k.orgnl_instr_id = s(&t.orgnl_instr_id);
                    k.acct_svcr_ref = s(&t.acct_svcr_ref);
                }
            }
            Document::Pain001(m) => {
                if let Some(t) = m.transfers().next() {
                    k.uetr = u(&t.pmt_id.uetr);
                    k.end_to_end_id = Some(t.pmt_id.end_to_end_id.as_str());
                    k.instr_id = s(&t.pmt_id.instr_id);
                }
            }
            Document::Camt052(_)
            | Document::Camt053(_)
            | Document::Camt054(_)
            | Document::Unknown { .. } => {}
        }
        k
    }
}

/// An element lenient parsing did not read (unknown, or out of schema order), kept as written.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct UnreadElement {
    /// Its path, e.g. `/Envelope/Document/FIToFICstmrCdtTrf/CdtTrfTxInf/Tax`.
    pub path: String,
    /// Its markup as written.
    pub xml: String,
}

/// A business message: an optional AppHdr and a Document.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct BusinessMessage {
    /// `<AppHdr>` (head.001.001.02), absent for a bare Document.
    pub app_hdr: Option<AppHdr>,
    /// `<Document>`.
    pub document: Document,
    /// Elements lenient parsing did not read (always empty after a strict parse, and ignored by
    /// rendering).
    #[serde(default)]
    pub unread: Vec<UnreadElement>,
}

/// Alias: the wire form is an envelope around AppHdr and Document.
pub type Envelope = BusinessMessage;

impl BusinessMessage {
    /// A message from its header and document.
    pub fn new(app_hdr: AppHdr, document: impl Into<Document>) -> Self {
        BusinessMessage {
            app_hdr: Some(app_hdr),
            document: document.into(),
            unread: Vec::new(),
        }
    }

    /// Renders the envelope (or a bare Document when there is no AppHdr), deterministically.
    /// [`envelope`] gives the same from the header and the document rendered alone.
    pub fn render(&self) -> String {
        let mut out = Out::new(4096);
        out.declaration();
        match &self.app_hdr {
            Some(hdr) => {
                out.start_ns(ENVELOPE_ELEMENT, ENVELOPE_NAMESPACE);
                hdr.write_root(&mut out);
                self.document.write(&mut out);
                out.end(ENVELOPE_ELEMENT);
            }
            None => self.document.write(&mut out),
        }
        out.finish()
    }

    /// Parses leniently (unknown elements are kept in [`BusinessMessage::unread`]).
    pub fn parse(xml: &str) -> Result<BusinessMessage> {
        Self::parse_with(xml, &ParseOptions::default())
    }

    /// Parses with the given options (strict mode refuses unknown elements).
    pub fn parse_with(xml: &str, options: &ParseOptions) -> Result<BusinessMessage> {
        let tree = Tree::parse(xml, &options.limits)?;
        Ok(Self::from_tree(&tree, options)?)
    }

    pub(crate) fn from_tree(
        tree: &Tree<'_>,
        options: &ParseOptions,
    ) -> crate::error::XResult<BusinessMessage> {
        let (hdr_node, doc_node) = locate(tree)?;
        let app_hdr = match hdr_node {
            Some(h) => {
                let ns = tree.ns(h);
                if ns.as_deref() != Some(head::NAMESPACE) {
                    return Err(Error::Structure {
                        path: tree.path(h),
                        message: head::unsupported_namespace(ns.as_deref()),
                    }
                    .into());
                }
                Some(AppHdr::from_xml(tree, h)?)
            }
            None => None,
        };
        let document = Document::read(tree, doc_node)?;
        let unread_ids = tree.unread();
        if options.strict {
            if let Some(&first) = unread_ids.first() {
                return Err(Error::Unexpected {
                    path: tree.path(first),
                }
                .into());
            }
            if !matches!(document, Document::Unknown { .. }) {
                same_namespace(tree, doc_node)?;
            }
            if let Some(h) = hdr_node {
                same_namespace(tree, h)?;
            }
            return Ok(BusinessMessage {
                app_hdr,
                document,
                unread: Vec::new(),
            });
        }
        let unread = unread_ids
            .into_iter()
            .map(|id| UnreadElement {
                path: tree.path(id),
                xml: tree.raw(id).to_owned(),
            })
            .collect();
        Ok(BusinessMessage {
            app_hdr,
            document,
            unread,
        })
    }

    /// `AppHdr/BizMsgIdr`.
    pub fn biz_msg_idr(&self) -> Option<&str> {
        self.app_hdr.as_ref().map(|h| h.biz_msg_idr())
    }

    /// `GrpHdr/MsgId` of the document.
    pub fn msg_id(&self) -> Option<&str> {
        self.document.msg_id()
    }

    /// The pacs.008, if the document is one.
    pub fn pacs008(&self) -> Option<&Pacs008> {
        match &self.document {
            Document::Pacs008(m) => Some(m),
            _ => None,
        }
    }

    /// The pacs.002, if the document is one.
    pub fn pacs002(&self) -> Option<&Pacs002> {
        match &self.document {
            Document::Pacs002(m) => Some(m),
            _ => None,
        }
    }

    /// The reconciliation references of the document (first transaction).
    pub fn keys(&self) -> Keys<'_> {
        self.document.keys()
    }

    /// The UETR of the (first) transaction of a payment (pacs.008, pacs.009, pain.001).
    pub fn uetr(&self) -> Option<&Uetr> {
        match &self.document {
            Document::Pacs008(m) => m.uetr(),
            Document::Pacs009(m) => m.uetr(),
            Document::Pain001(m) => m.transfers().next().and_then(|t| t.pmt_id.uetr.as_ref()),
            _ => None,
        }
    }

    /// The EndToEndId of the (first) transaction.
    pub fn end_to_end_id(&self) -> Option<&str> {
        self.keys().end_to_end_id
    }

    /// The original UETR a status report, return, status request, recall or resolution refers
    /// to.
    pub fn orgnl_uetr(&self) -> Option<&Uetr> {
        match &self.document {
            Document::Pacs002(m) => m.orgnl_uetr(),
            Document::Pacs004(m) => m.orgnl_uetr(),
            Document::Pacs028(m) => m.orgnl_uetr(),
            Document::Camt056(m) => m.orgnl_uetr(),
            Document::Camt029(m) => m.orgnl_uetr(),
            _ => None,
        }
    }

    /// The original EndToEndId the message refers to.
    pub fn orgnl_end_to_end_id(&self) -> Option<&str> {
        self.keys().orgnl_end_to_end_id
    }

    /// The original MsgId the message refers to.
    pub fn orgnl_msg_id(&self) -> Option<&str> {
        self.keys().orgnl_msg_id
    }

    /// The (first) transaction status of a status report.
    pub fn tx_sts(&self) -> Option<&TransactionStatus> {
        self.pacs002().and_then(|m| m.tx_sts())
    }
}

/// Strict mode: every element of a typed part is in that part's namespace (free-form content,
/// `SplmtryData/Envlp` and `Sgntr`, excepted).
fn same_namespace(tree: &Tree<'_>, root: NodeId) -> crate::error::XResult<()> {
    let expected = tree.ns(root);
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        let node = tree.node(id);
        if tree.ns(id) != expected {
            return Err(Error::Structure {
                path: tree.path(id),
                message: format!(
                    "element in namespace {:?}, expected {:?} (strict mode)",
                    tree.ns(id).unwrap_or_default(),
                    expected.as_deref().unwrap_or_default()
                ),
            }
            .into());
        }
        if node.name == "Envlp" || node.name == "Sgntr" {
            continue;
        }
        stack.extend(tree.children(id));
    }
    Ok(())
}

/// How many wrapper levels [`locate`] looks through for the Document: an envelope, a market
/// infrastructure's wrapper around it (`DataPDU/Body`, say), and a little more.
const WRAPPER_LEVELS_MAX: usize = 4;

/// Finds the AppHdr (if any) and the Document among the accepted layouts: at the top level, or
/// as siblings inside wrappers up to [`WRAPPER_LEVELS_MAX`] levels deep (whatever the wrappers'
/// names or namespaces; what else they hold is not part of the business message).
fn locate(tree: &Tree<'_>) -> crate::error::XResult<(Option<NodeId>, NodeId)> {
    let name = |id: NodeId| tree.node(id).name;
    let structure = |path: String, message: &str| {
        Box::new(Error::Structure {
            path,
            message: message.to_owned(),
        })
    };
    let mut level: Vec<NodeId> = tree.roots.clone();
    for _ in 0..=WRAPPER_LEVELS_MAX {
        let mut hdr = None;
        let mut doc = None;
        for &id in &level {
            let slot = match name(id) {
                "AppHdr" => &mut hdr,
                "Document" => &mut doc,
                _ => continue,
            };
            if slot.is_some() {
                return Err(structure(tree.path(id), "occurs more than once"));
            }
            *slot = Some(id);
        }
        match (hdr, doc) {
            (hdr, Some(d)) => {
                // What the wrappers hold beside the business message (a transport header, a
                // revision) is theirs: neither read nor reported as unread.
                for &other in &level {
                    if Some(other) != hdr && other != d {
                        tree.mark_subtree(other);
                    }
                }
                return Ok((hdr, d));
            }
            (Some(h), None) => return Err(structure(tree.path(h), "AppHdr without a Document")),
            (None, None) => {}
        }
        for &wrapper in &level {
            tree.node(wrapper).used.set(true);
        }
        level = level.iter().flat_map(|&w| tree.children(w)).collect();
        if level.is_empty() {
            break;
        }
    }
    Err(structure(
        tree.roots
            .first()
            .map(|&r| tree.path(r))
            .unwrap_or_default(),
        "no Document found (expected a Document, AppHdr + Document, or wrappers holding them, \
         at most 4 levels deep)",
    ))
}

/// What [`BusinessMessage::render`] gives, from the header (`header`, as [`AppHdr::render`]
/// gives it) and the document (`document`, as [`Document::render`] gives it) rendered alone:
/// their XML declarations dropped and the two wrapped in the envelope, or the document alone
/// when there is no header.
pub(crate) fn envelope<'a>(header: Option<&'a str>, document: &'a str) -> String {
    let Some(header) = header else {
        return document.to_string();
    };
    let bare = |xml: &'a str| {
        xml.strip_prefix(DECLARATION)
            .expect("a rendered document starts with the XML declaration")
    };
    let mut out = Out::new(header.len() + document.len() + 64);
    out.declaration();
    out.start_ns(ENVELOPE_ELEMENT, ENVELOPE_NAMESPACE);
    out.raw(bare(header));
    out.raw(bare(document));
    out.end(ENVELOPE_ELEMENT);
    out.finish()
}
