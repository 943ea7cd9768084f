//! A flat, streaming reader of the reconciliation fields of camt.052 / camt.053 / camt.054, in
//! both versions banks send: `.001.02` (still the most common) and `.001.08`.
//!
//! [`crate::statement::EntryStream`] reads `.001.08` into the full typed model. Reconciliation
//! needs far less of an entry (amount, direction, status, dates, the payment's references, a
//! return reason, charges) and must read the older version too, whose shapes differ in small
//! ways (`<Sts>BOOK</Sts>` against `<Sts><Cd>BOOK</Cd></Sts>`, no `UETR` in the references,
//! transaction amounts under `AmtDtls/TxAmt` rather than `Amt`, charges with or without
//! `Rcrd`). [`FlatReader`] picks those fields out of either version by element path, one entry
//! at a time, and gives each entry's place in the input ([`FlatEntry::span`], its bytes as
//! written) and, unless told not to ([`FlatReader::copy_evidence`]), a copy of its XML
//! (whitespace between elements left out) as the evidence a reviewer reads. A caller that
//! keeps the file whole can skip the copy and read the span back from it. Memory stays flat
//! whatever the number of entries: one entry (bounded by [`Limits::message_bytes_max`]) is
//! held at a time.
//!
//! Any other version is refused with an error naming it and the supported ones. DTDs are
//! refused; nesting is bounded by [`Limits::depth_max`]. A file carrying more than one report
//! (several `Stmt`, say) is refused at the second one: one report per file.
//!
//! ```
//! use iso20022::statement_flat::{FlatItem, FlatReader};
//! # let xml = iso20022::Document::from(iso20022::samples::camt053(7, 3)).render();
//! let mut reader = FlatReader::new(xml.as_bytes(), iso20022::Limits::default());
//! let mut entries = 0;
//! while let Some(item) = reader.next_item()? {
//!     if let FlatItem::Entry(e) = item {
//!         assert!(e.amount.minor() > 0);
//!         entries += 1;
//!     }
//! }
//! assert_eq!(reader.format().unwrap().msg_def_idr(), "camt.053.001.08");
//! assert_eq!(entries, 3);
//! # Ok::<(), iso20022::Error>(())
//! ```

use std::io::BufRead;

use quick_xml::events::{BytesStart, Event};
use quick_xml::{Reader, Writer};

use crate::amount::Amount;
use crate::error::{Error, InvalidValue, Result};
use crate::statement::ReportKind;
use crate::Limits;

/// The two message versions read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CamtVersion {
    /// `.001.02` (2009 schemas).
    V02,
    /// `.001.08` (2019 schemas, the CBPR+ ones).
    V08,
}

/// A camt message kind and version, from the Document namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CamtFormat {
    /// Statement, report or notification.
    pub kind: ReportKind,
    /// The version.
    pub version: CamtVersion,
}

/// The message definitions [`FlatReader`] reads.
pub const SUPPORTED: [&str; 6] = [
    "camt.052.001.02",
    "camt.052.001.08",
    "camt.053.001.02",
    "camt.053.001.08",
    "camt.054.001.02",
    "camt.054.001.08",
];

const NAMESPACE_PREFIX: &str = "urn:iso:std:iso:20022:tech:xsd:";

impl CamtFormat {
    /// The message definition identifier (`camt.053.001.02`).
    pub fn msg_def_idr(self) -> &'static str {
        let i = match self.kind {
            ReportKind::Report => 0,
            ReportKind::Statement => 2,
            ReportKind::Notification => 4,
        };
        SUPPORTED[i + usize::from(self.version == CamtVersion::V08)]
    }

    /// Reads a Document namespace (`urn:iso:std:iso:20022:tech:xsd:camt.053.001.02`); refuses
    /// any other message or version with a message naming the supported ones.
    pub fn from_namespace(ns: &str) -> std::result::Result<CamtFormat, String> {
        let idr = ns.strip_prefix(NAMESPACE_PREFIX).unwrap_or(ns);
        let kind = match idr.get(..8) {
            Some("camt.052") => ReportKind::Report,
            Some("camt.053") => ReportKind::Statement,
            Some("camt.054") => ReportKind::Notification,
            _ => {
                return Err(format!(
                    "{ns:?} is not a camt.052, camt.053 or camt.054 namespace (supported: {})",
                    SUPPORTED.join(", ")
                ))
            }
        };
        let version = match &idr[8..] {
            ".001.02" => CamtVersion::V02,
            ".001.08" => CamtVersion::V08,
            _ => {
                return Err(format!(
                    "{idr} is not a supported version (supported: {})",
                    SUPPORTED.join(", ")
                ))
            }
        };
        Ok(CamtFormat { kind, version })
    }
}

/// A balance of the report (`<Bal>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatBalance {
    /// `Tp/CdOrPrtry/Cd` (or `Prtry`): `OPBD`, `PRCD`, `CLBD`, `ITBD`, ...
    pub code: String,
    /// The amount, signed: negative when `CdtDbtInd` is `DBIT`.
    pub signed_minor: i64,
    /// Its currency.
    pub currency: &'static crate::Currency,
    /// `Dt/Dt`, or the date of `Dt/DtTm`.
    pub date: Option<String>,
}

/// What comes before a report's entries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlatReport {
    /// `GrpHdr/MsgId`.
    pub msg_id: Option<String>,
    /// `Stmt/Id` (or `Rpt/Id`, `Ntfctn/Id`).
    pub id: String,
    /// `ElctrncSeqNb`.
    pub electronic_sequence: Option<String>,
    /// `LglSeqNb`.
    pub legal_sequence: Option<String>,
    /// `Acct/Id/IBAN`, or `Acct/Id/Othr/Id`.
    pub account: String,
    /// `Acct/Ccy`.
    pub account_currency: Option<String>,
    /// `Bal`, in document order.
    pub balances: Vec<FlatBalance>,
}

/// The references of one transaction of an entry (`NtryDtls/TxDtls`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FlatRefs {
    /// `Refs/MsgId`.
    pub msg_id: Option<String>,
    /// `Refs/AcctSvcrRef`.
    pub acct_svcr_ref: Option<String>,
    /// `Refs/InstrId`.
    pub instr_id: Option<String>,
    /// `Refs/EndToEndId`.
    pub end_to_end_id: Option<String>,
    /// `Refs/UETR` (`.001.08` only), lower-cased.
    pub uetr: Option<String>,
    /// `Refs/TxId`.
    pub tx_id: Option<String>,
    /// The transaction's own amount (`Amt` in `.001.08`, `AmtDtls/TxAmt/Amt` in `.001.02`).
    pub amount: Option<Amount>,
    /// `RtrInf/Rsn/Cd` (or `Prtry`): set when the transaction is a returned payment.
    pub return_reason: Option<String>,
}

/// One entry (`<Ntry>`), flattened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlatEntry {
    /// 1-based position of the entry in the report.
    pub index: u64,
    /// `Amt`, with its `Ccy`.
    pub amount: Amount,
    /// `CdtDbtInd` is `CRDT`.
    pub credit: bool,
    /// `RvslInd`.
    pub reversal: bool,
    /// `Sts` (`.001.02`) or `Sts/Cd` / `Sts/Prtry` (`.001.08`): `BOOK`, `PDNG`, `INFO`.
    pub status: String,
    /// `BookgDt` (its date).
    pub booking_date: Option<String>,
    /// `ValDt` (its date).
    pub value_date: Option<String>,
    /// `NtryRef`.
    pub entry_ref: Option<String>,
    /// `AcctSvcrRef` of the entry.
    pub acct_svcr_ref: Option<String>,
    /// Each transaction's references, in document order.
    pub transactions: Vec<FlatRefs>,
    /// Unstructured remittance (`RmtInf/Ustrd`, joined), else a structured creditor reference,
    /// else `AddtlTxInf`, else `AddtlNtryInf`.
    pub reference: Option<String>,
    /// Charges: the entry's `Chrgs` (`TtlChrgsAndTaxAmt`, else the sum of their amounts), else
    /// the transactions' charges; in minor units of the charges' currency.
    pub charges_minor: Option<i64>,
    /// The entry as it was written (namespace prefixes and declarations left out); empty when
    /// the reader was told not to copy it ([`FlatReader::copy_evidence`]).
    pub evidence: String,
    /// Where the entry is in the input, in bytes from its start: from the `<` of its start
    /// tag to just past its end tag.
    pub span: std::ops::Range<u64>,
}

/// What [`FlatReader`] yields, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum FlatItem {
    /// The report's header and balances (before its first entry, or at its end when it has
    /// none).
    Report(FlatReport),
    /// One entry.
    Entry(FlatEntry),
}

/// The fields read, by where they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    MsgId,
    ReportId,
    ElectronicSequence,
    LegalSequence,
    Account,
    AccountCurrency,
    BalanceCode,
    BalanceAmount,
    BalanceCreditDebit,
    BalanceDate,
    EntryRef,
    Amount,
    CreditDebit,
    Reversal,
    Status,
    BookingDate,
    ValueDate,
    AcctSvcrRef,
    AddtlNtryInf,
    ChargesTotal,
    Charge,
    TxMsgId,
    TxAcctSvcrRef,
    TxInstrId,
    TxEndToEndId,
    TxUetr,
    TxTxId,
    TxAmount,
    TxReturnReason,
    TxUstrd,
    TxCreditorRef,
    TxAddtlInf,
    TxCharge,
}

impl Slot {
    fn is_report(self) -> bool {
        matches!(
            self,
            Slot::ReportId
                | Slot::ElectronicSequence
                | Slot::LegalSequence
                | Slot::Account
                | Slot::AccountCurrency
        )
    }

    fn is_transaction(self) -> bool {
        matches!(
            self,
            Slot::TxMsgId
                | Slot::TxAcctSvcrRef
                | Slot::TxInstrId
                | Slot::TxEndToEndId
                | Slot::TxUetr
                | Slot::TxTxId
                | Slot::TxAmount
                | Slot::TxReturnReason
        )
    }
}

/// Builds the entry being read.
#[derive(Default)]
struct EntryDraft {
    amount: Option<Amount>,
    credit: Option<bool>,
    reversal: bool,
    status: Option<String>,
    booking_date: Option<String>,
    value_date: Option<String>,
    entry_ref: Option<String>,
    acct_svcr_ref: Option<String>,
    transactions: Vec<FlatRefs>,
    ustrd: Vec<String>,
    strd_ref: Option<String>,
    addtl_tx: Option<String>,
    addtl_ntry: Option<String>,
    entry_charges_total: Option<i64>,
    entry_charges_sum: Option<i64>,
    tx_charges_sum: Option<i64>,
}

/// Builds the balance being read.
#[derive(Default)]
struct BalanceDraft {
    code: Option<String>,
    amount: Option<Amount>,
    debit: bool,
    date: Option<String>,
}

/// Reads a camt.052 / .053 / .054 (`.001.02` or `.001.08`) one entry at a time. See the
/// module documentation.
pub struct FlatReader<R: BufRead> {
    /// A plain reader: element paths go by local names, and the one namespace that matters
    /// (the Document's, which names the message) is resolved from `declared`. A namespace
    /// reader would track every element's declarations for the whole file.
    reader: Reader<R>,
    /// `xmlns` declarations (depth, prefix, namespace) of the open elements, kept until the
    /// message's root has been read.
    declared: Vec<(usize, Option<Vec<u8>>, String)>,
    buf: Vec<u8>,
    limits: Limits,
    /// The open elements' local names, joined by `/` (each preceded by one).
    path: String,
    /// Where each open element's name starts in `path`.
    starts: Vec<usize>,
    /// Depth (in `starts`) of `Document`, then of the report element.
    doc_depth: Option<usize>,
    report_depth: Option<usize>,
    format: Option<CamtFormat>,
    reports: u32,
    msg_id: Option<String>,
    report: Option<FlatReport>,
    report_sent: bool,
    balance: Option<BalanceDraft>,
    entry: Option<EntryDraft>,
    entry_depth: usize,
    entries: u64,
    /// The `Ccy` attribute of the `Amt`-like element last opened.
    ccy: Option<String>,
    evidence: Option<Writer<Vec<u8>>>,
    copy_evidence: bool,
    /// Where the last start tag read began, then where the open entry began (bytes).
    tag_start: u64,
    entry_start: u64,
    /// Bytes of a byte order mark before the document, which the reader's position leaves out.
    bom: u64,
    done: bool,
}

fn bad(path: &str, kind: &'static str, value: &str, reason: &str) -> Error {
    Error::Invalid {
        path: path.to_string(),
        invalid: InvalidValue::new(kind, value, reason),
    }
}

/// The date part of an ISODate or ISODateTime.
fn date_of(text: &str) -> Option<String> {
    let d = text.get(..10)?;
    let ok = d.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        _ => b.is_ascii_digit(),
    });
    ok.then(|| d.to_string())
}

impl<R: BufRead> FlatReader<R> {
    /// A reader over `input`; `limits` bound one entry's size and the nesting depth.
    pub fn new(mut input: R, limits: Limits) -> Self {
        // quick-xml skips a byte order mark without counting it in its positions; an error
        // here comes back at the first read.
        let bom = match input.fill_buf() {
            Ok(head) if head.starts_with(b"\xEF\xBB\xBF") => 3,
            _ => 0,
        };
        let mut reader = Reader::from_reader(input);
        reader.config_mut().check_end_names = true;
        reader.config_mut().trim_text(true);
        FlatReader {
            reader,
            buf: Vec::with_capacity(4096),
            limits,
            path: String::with_capacity(256),
            starts: Vec::with_capacity(32),
            doc_depth: None,
            report_depth: None,
            format: None,
            reports: 0,
            msg_id: None,
            report: None,
            report_sent: false,
            balance: None,
            entry: None,
            entry_depth: 0,
            entries: 0,
            ccy: None,
            evidence: None,
            copy_evidence: true,
            tag_start: 0,
            entry_start: 0,
            bom,
            declared: Vec::new(),
            done: false,
        }
    }

    /// Whether each entry's XML is copied into [`FlatEntry::evidence`] (the default). A caller
    /// that keeps the input can turn it off and read [`FlatEntry::span`] back instead: the copy
    /// is a third of the reading time of a large statement.
    pub fn copy_evidence(mut self, copy: bool) -> Self {
        self.copy_evidence = copy;
        self
    }

    /// The message kind and version, once the Document's root element has been read.
    pub fn format(&self) -> Option<CamtFormat> {
        self.format
    }

    /// Bytes read so far, from the start of the input.
    pub fn position(&self) -> u64 {
        self.reader.buffer_position() + self.bom
    }

    /// [`Self::position`], under a name `Iterator` does not also have (a `&mut self` would
    /// pick `Iterator::position` first).
    fn at(&self) -> u64 {
        self.position()
    }

    fn syntax(&self, message: impl ToString) -> Error {
        Error::Syntax {
            offset: self.at(),
            message: message.to_string(),
        }
    }

    /// The path of the open element relative to the current entry (`Amt`,
    /// `NtryDtls/TxDtls/Refs/UETR`), or to the report (`Acct/Id/IBAN`).
    fn rel(&self, depth: usize) -> &str {
        match self.starts.get(depth + 1) {
            Some(&at) => &self.path[at + 1..],
            None => "",
        }
    }

    /// The path of the open element, with the entry's index (`.../Ntry[5]/Amt`).
    fn path_str(&self) -> String {
        match (self.entry.is_some(), self.starts.get(self.entry_depth + 1)) {
            (true, Some(&at)) => format!(
                "{}[{}]{}",
                &self.path[..at],
                self.entries + 1,
                &self.path[at..]
            ),
            _ => self.path.clone(),
        }
    }

    /// The next item, `Ok(None)` at the end of the document.
    pub fn next_item(&mut self) -> Result<Option<FlatItem>> {
        if self.done {
            return Ok(None);
        }
        let result = self.advance();
        if result.is_err() {
            self.done = true;
        }
        result
    }

    fn advance(&mut self) -> Result<Option<FlatItem>> {
        // The buffer is taken out so that events can borrow it while `self` changes.
        let mut buf = std::mem::take(&mut self.buf);
        let result = self.advance_with(&mut buf);
        self.buf = buf;
        result
    }

    /// Before `event` is applied: copies it into the entry's evidence, holds the entry to its
    /// size limit, and notes where a start tag began.
    fn note(&mut self, event: &Event<'_>) -> Result<()> {
        let position = self.at();
        let limit = self.limits.message_bytes_max;
        if let Some(w) = self.evidence.as_mut() {
            if !matches!(event, Event::Decl(_) | Event::PI(_) | Event::Comment(_)) {
                let _ = w.write_event(event.borrow());
            }
            if w.get_ref().len() > limit {
                let bytes = w.get_ref().len();
                return Err(Error::TooLarge { bytes, limit });
            }
        } else if self.entry.is_some() {
            let bytes = usize::try_from(position - self.entry_start).unwrap_or(usize::MAX);
            if bytes > limit {
                return Err(Error::TooLarge { bytes, limit });
            }
        }
        // The position is just past the event: a start tag began its length, `<` and `>` (and
        // `/` when empty) earlier.
        self.tag_start = match event {
            Event::Start(e) => position - e.len() as u64 - 2,
            Event::Empty(e) => position - e.len() as u64 - 3,
            _ => position,
        };
        Ok(())
    }

    fn advance_with(&mut self, buf: &mut Vec<u8>) -> Result<Option<FlatItem>> {
        loop {
            buf.clear();
            let event = match self.reader.read_event_into(buf) {
                Ok(e) => e,
                Err(e) => return Err(self.syntax(e)),
            };
            self.note(&event)?;
            match event {
                Event::Start(e) => {
                    if let Some(item) = self.open(&e)? {
                        return Ok(Some(item));
                    }
                }
                Event::Empty(e) => {
                    if let Some(item) = self.open(&e)? {
                        return Ok(Some(item));
                    }
                    if let Some(item) = self.close()? {
                        return Ok(Some(item));
                    }
                }
                Event::End(_) => {
                    if let Some(item) = self.close()? {
                        return Ok(Some(item));
                    }
                    if self.starts.is_empty() {
                        self.done = true;
                        if self.format.is_none() {
                            return Err(Error::Structure {
                                path: "/".into(),
                                message: "no camt.052/053/054 Document found".into(),
                            });
                        }
                        return Ok(None);
                    }
                }
                Event::Text(t) => {
                    let text = t.unescape().map_err(|e| self.syntax(e))?;
                    self.text(&text)?;
                }
                Event::CData(t) => {
                    let text = String::from_utf8_lossy(&t).into_owned();
                    self.text(&text)?;
                }
                Event::DocType(_) => return Err(Error::DtdRefused { offset: self.at() }),
                Event::Eof => {
                    self.done = true;
                    if !self.starts.is_empty() || self.format.is_none() {
                        return Err(self.syntax("input ends before the document is complete"));
                    }
                    return Ok(None);
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            }
        }
    }

    fn open(&mut self, e: &BytesStart<'_>) -> Result<Option<FlatItem>> {
        if self.starts.len() + 1 > self.limits.depth_max {
            return Err(Error::TooDeep {
                path: self.path.clone(),
                limit: self.limits.depth_max,
            });
        }
        let depth = self.starts.len();
        self.starts.push(self.path.len());
        self.path.push('/');
        let local = e.local_name();
        self.path
            .push_str(std::str::from_utf8(local.as_ref()).map_err(|e| self.syntax(e))?);
        let name_at = self.starts[depth] + 1;
        if self.format.is_none() {
            self.declare(depth, e)?;
        }
        let name = &self.path[name_at..];
        if name == "Amt" || name == "TtlChrgsAndTaxAmt" {
            self.ccy = e
                .try_get_attribute("Ccy")
                .map_err(|err| self.syntax(err))?
                .map(|a| String::from_utf8_lossy(&a.value).into_owned());
        }
        let Some(doc) = self.doc_depth else {
            if &self.path[name_at..] == "Document" {
                self.doc_depth = Some(depth);
            }
            return Ok(None);
        };
        if depth == doc + 1 {
            return self.open_root(e).map(|()| None);
        }
        let name = &self.path[name_at..];
        if depth == doc + 2 && self.format.is_some_and(|f| name == f.kind.element()) {
            self.reports += 1;
            if self.reports > 1 {
                return Err(Error::Structure {
                    path: self.path.clone(),
                    message: "a second report in one file: one report per file is read".into(),
                });
            }
            self.report_depth = Some(depth);
            self.report = Some(FlatReport {
                msg_id: self.msg_id.clone(),
                ..Default::default()
            });
            return Ok(None);
        }
        let Some(report) = self.report_depth else {
            return Ok(None);
        };
        if let Some(entry) = self.entry.as_mut() {
            // Each transaction gets its own references, even one that carries none.
            if depth == self.entry_depth + 2 && self.path.ends_with("/NtryDtls/TxDtls") {
                entry.transactions.push(FlatRefs::default());
            }
            return Ok(None);
        }
        let name = &self.path[name_at..];
        if depth == report + 1 && name == "Ntry" {
            self.entry = Some(EntryDraft::default());
            self.entry_depth = depth;
            self.entry_start = self.tag_start;
            if self.copy_evidence {
                let mut w = Writer::new(Vec::with_capacity(1024));
                let _ = w.write_event(Event::Start(e.borrow()));
                self.evidence = Some(w);
            }
            if !self.report_sent {
                self.report_sent = true;
                return Ok(self.report.clone().map(FlatItem::Report));
            }
        } else if depth == report + 1 && name == "Bal" {
            self.balance = Some(BalanceDraft::default());
        }
        Ok(None)
    }

    /// Notes the namespaces `e` declares (before the message's root is known).
    fn declare(&mut self, depth: usize, e: &BytesStart<'_>) -> Result<()> {
        for attribute in e.attributes() {
            let attribute = attribute.map_err(|err| self.syntax(err))?;
            let key = attribute.key.as_ref();
            let prefix = match key.strip_prefix(b"xmlns") {
                Some([]) => None,
                Some([b':', prefix @ ..]) => Some(prefix.to_vec()),
                _ => continue,
            };
            let namespace = attribute
                .unescape_value()
                .map_err(|err| self.syntax(err))?
                .into_owned();
            self.declared.push((depth, prefix, namespace));
        }
        Ok(())
    }

    fn open_root(&mut self, e: &BytesStart<'_>) -> Result<()> {
        let prefix = e.name().prefix().map(|p| p.as_ref().to_vec());
        let ns = self
            .declared
            .iter()
            .rev()
            .find(|(_, p, _)| *p == prefix)
            .map(|(_, _, ns)| ns.clone())
            .unwrap_or_default();
        let local = e.local_name();
        let format = CamtFormat::from_namespace(&ns).map_err(|message| Error::Structure {
            path: self.path.clone(),
            message,
        })?;
        if local.as_ref() != format.kind.root().as_bytes() {
            return Err(Error::Structure {
                path: self.path.clone(),
                message: format!(
                    "a {} Document holds <{}>",
                    format.msg_def_idr(),
                    format.kind.root()
                ),
            });
        }
        self.format = Some(format);
        self.declared = Vec::new();
        Ok(())
    }

    fn close(&mut self) -> Result<Option<FlatItem>> {
        let depth = self.starts.len() - 1;
        let mut item = None;
        if self.entry.is_some() && depth == self.entry_depth {
            item = Some(FlatItem::Entry(self.finish_entry()?));
        } else if self.balance.is_some() && self.report_depth.is_some_and(|r| depth == r + 1) {
            self.finish_balance()?;
        } else if self.report_depth == Some(depth) {
            self.report_depth = None;
            if !self.report_sent {
                self.report_sent = true;
                item = self.report.clone().map(FlatItem::Report);
            }
        }
        while self.declared.last().is_some_and(|(d, _, _)| *d >= depth) {
            self.declared.pop();
        }
        let at = self.starts.pop().unwrap_or(0);
        self.path.truncate(at);
        Ok(item)
    }

    fn amount(&self, text: &str) -> Result<Amount> {
        let ccy = self.ccy.as_deref().ok_or_else(|| Error::MissingAttribute {
            path: self.path_str(),
            attribute: "Ccy",
        })?;
        Amount::parse_code(text, ccy).map_err(|invalid| Error::Invalid {
            path: self.path_str(),
            invalid,
        })
    }

    /// Which field the open element is, from its path (no allocation: this runs for every
    /// text node of the file).
    fn slot(&self) -> Option<Slot> {
        let doc = self.doc_depth?;
        let Some(report) = self.report_depth else {
            let msg_id = self.starts.len() == doc + 4 && self.path.ends_with("/GrpHdr/MsgId");
            return msg_id.then_some(Slot::MsgId);
        };
        if self.entry.is_some() {
            let rel = self.rel(self.entry_depth);
            if let Some(tx) = rel.strip_prefix("NtryDtls/TxDtls/") {
                return Some(match tx {
                    "Refs/MsgId" => Slot::TxMsgId,
                    "Refs/AcctSvcrRef" => Slot::TxAcctSvcrRef,
                    "Refs/InstrId" => Slot::TxInstrId,
                    "Refs/EndToEndId" => Slot::TxEndToEndId,
                    "Refs/UETR" => Slot::TxUetr,
                    "Refs/TxId" => Slot::TxTxId,
                    "Amt" | "AmtDtls/TxAmt/Amt" => Slot::TxAmount,
                    "RtrInf/Rsn/Cd" | "RtrInf/Rsn/Prtry" => Slot::TxReturnReason,
                    "RmtInf/Ustrd" => Slot::TxUstrd,
                    "RmtInf/Strd/CdtrRefInf/Ref" => Slot::TxCreditorRef,
                    "AddtlTxInf" => Slot::TxAddtlInf,
                    "Chrgs/Amt" | "Chrgs/Rcrd/Amt" => Slot::TxCharge,
                    _ => return None,
                });
            }
            return Some(match rel {
                "NtryRef" => Slot::EntryRef,
                "Amt" => Slot::Amount,
                "CdtDbtInd" => Slot::CreditDebit,
                "RvslInd" => Slot::Reversal,
                "Sts" | "Sts/Cd" | "Sts/Prtry" => Slot::Status,
                "BookgDt/Dt" | "BookgDt/DtTm" => Slot::BookingDate,
                "ValDt/Dt" | "ValDt/DtTm" => Slot::ValueDate,
                "AcctSvcrRef" => Slot::AcctSvcrRef,
                "AddtlNtryInf" => Slot::AddtlNtryInf,
                "Chrgs/TtlChrgsAndTaxAmt" => Slot::ChargesTotal,
                "Chrgs/Amt" | "Chrgs/Rcrd/Amt" => Slot::Charge,
                _ => return None,
            });
        }
        if self.balance.is_some() {
            return Some(match self.rel(report + 1) {
                "Tp/CdOrPrtry/Cd" | "Tp/CdOrPrtry/Prtry" => Slot::BalanceCode,
                "Amt" => Slot::BalanceAmount,
                "CdtDbtInd" => Slot::BalanceCreditDebit,
                "Dt/Dt" | "Dt/DtTm" => Slot::BalanceDate,
                _ => return None,
            });
        }
        Some(match self.rel(report) {
            "Id" => Slot::ReportId,
            "ElctrncSeqNb" => Slot::ElectronicSequence,
            "LglSeqNb" => Slot::LegalSequence,
            "Acct/Id/IBAN" | "Acct/Id/Othr/Id" => Slot::Account,
            "Acct/Ccy" => Slot::AccountCurrency,
            _ => return None,
        })
    }

    fn text(&mut self, text: &str) -> Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        let Some(slot) = self.slot() else {
            return Ok(());
        };
        let amount = match slot {
            Slot::Amount
            | Slot::ChargesTotal
            | Slot::Charge
            | Slot::TxAmount
            | Slot::TxCharge
            | Slot::BalanceAmount => Some(self.amount(text)?),
            _ => None,
        };
        let value = || Some(text.to_string());
        if let (Some(r), true) = (self.report.as_mut(), slot.is_report()) {
            match slot {
                Slot::ReportId => r.id = text.to_string(),
                Slot::ElectronicSequence => r.electronic_sequence = value(),
                Slot::LegalSequence => r.legal_sequence = value(),
                Slot::Account => r.account = text.to_string(),
                Slot::AccountCurrency => r.account_currency = value(),
                _ => {}
            }
            return Ok(());
        }
        if let Some(b) = self.balance.as_mut() {
            match slot {
                Slot::BalanceCode => b.code = value(),
                Slot::BalanceAmount => b.amount = amount,
                Slot::BalanceCreditDebit => b.debit = text == "DBIT",
                Slot::BalanceDate => b.date = date_of(text),
                _ => {}
            }
            return Ok(());
        }
        if slot == Slot::MsgId {
            self.msg_id = value();
            return Ok(());
        }
        self.entry_text(slot, text, amount)
    }

    /// A field of the current entry or of one of its transactions.
    fn entry_text(&mut self, slot: Slot, text: &str, amount: Option<Amount>) -> Result<()> {
        let minor = amount.map_or(0, |a| a.minor());
        let value = || Some(text.to_string());
        let credit_debit = match (slot, text) {
            (Slot::CreditDebit, "CRDT") => Some(true),
            (Slot::CreditDebit, "DBIT") => Some(false),
            (Slot::CreditDebit, _) => {
                return Err(bad(
                    &self.path_str(),
                    "CreditDebitCode",
                    text,
                    "CRDT or DBIT",
                ))
            }
            _ => None,
        };
        let reversal = match (slot, text) {
            (Slot::Reversal, "true" | "1") => true,
            (Slot::Reversal, "false" | "0") => false,
            (Slot::Reversal, _) => {
                return Err(bad(
                    &self.path_str(),
                    "TrueFalseIndicator",
                    text,
                    "true or false",
                ))
            }
            _ => false,
        };
        let Some(d) = self.entry.as_mut() else {
            return Ok(());
        };
        if slot.is_transaction() && d.transactions.is_empty() {
            d.transactions.push(FlatRefs::default());
        }
        let add = |sum: &mut Option<i64>| {
            let s = sum.get_or_insert(0);
            *s = s.saturating_add(minor);
        };
        match slot {
            Slot::EntryRef => d.entry_ref = value(),
            Slot::Amount => d.amount = amount,
            Slot::CreditDebit => d.credit = credit_debit,
            Slot::Reversal => d.reversal = reversal,
            Slot::Status => d.status = value(),
            Slot::BookingDate => d.booking_date = date_of(text),
            Slot::ValueDate => d.value_date = date_of(text),
            Slot::AcctSvcrRef => d.acct_svcr_ref = value(),
            Slot::AddtlNtryInf => d.addtl_ntry = value(),
            Slot::ChargesTotal => {
                d.entry_charges_total.get_or_insert(minor);
            }
            Slot::Charge => add(&mut d.entry_charges_sum),
            Slot::TxCharge => add(&mut d.tx_charges_sum),
            Slot::TxUstrd => d.ustrd.push(text.to_string()),
            Slot::TxCreditorRef => d.strd_ref = value(),
            Slot::TxAddtlInf => d.addtl_tx = value(),
            _ => {
                let tx = d.transactions.last_mut().expect("pushed above");
                match slot {
                    Slot::TxMsgId => tx.msg_id = value(),
                    Slot::TxAcctSvcrRef => tx.acct_svcr_ref = value(),
                    Slot::TxInstrId => tx.instr_id = value(),
                    Slot::TxEndToEndId => tx.end_to_end_id = value(),
                    Slot::TxUetr => tx.uetr = Some(text.to_ascii_lowercase()),
                    Slot::TxTxId => tx.tx_id = value(),
                    Slot::TxAmount => tx.amount = amount,
                    Slot::TxReturnReason => tx.return_reason = value(),
                    _ => {}
                }
            }
        }
        Ok(())
    }

    fn finish_balance(&mut self) -> Result<()> {
        let Some(b) = self.balance.take() else {
            return Ok(());
        };
        let (Some(code), Some(amount)) = (b.code, b.amount) else {
            return Err(Error::Missing {
                path: format!("{}/Tp or Amt", self.path),
            });
        };
        let signed_minor = if b.debit {
            -amount.minor()
        } else {
            amount.minor()
        };
        if let Some(r) = self.report.as_mut() {
            r.balances.push(FlatBalance {
                code,
                signed_minor,
                currency: amount.currency(),
                date: b.date,
            });
        }
        Ok(())
    }

    fn finish_entry(&mut self) -> Result<FlatEntry> {
        let d = self.entry.take().unwrap_or_default();
        let path = format!("{}[{}]", self.path, self.entries + 1);
        let missing = |what: &str| Error::Missing {
            path: format!("{path}/{what}"),
        };
        let amount = d.amount.ok_or_else(|| missing("Amt"))?;
        let credit = d.credit.ok_or_else(|| missing("CdtDbtInd"))?;
        let status = d.status.ok_or_else(|| missing("Sts"))?;
        self.entries += 1;
        // Moved, not copied: this runs for each of a file's million entries.
        let evidence = self
            .evidence
            .take()
            .map(|w| {
                String::from_utf8(w.into_inner())
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
            })
            .unwrap_or_default();
        let reference = if d.ustrd.is_empty() {
            d.strd_ref.or(d.addtl_tx).or(d.addtl_ntry)
        } else {
            Some(d.ustrd.join(" "))
        };
        Ok(FlatEntry {
            index: self.entries,
            amount,
            credit,
            reversal: d.reversal,
            status,
            booking_date: d.booking_date,
            value_date: d.value_date,
            entry_ref: d.entry_ref,
            acct_svcr_ref: d.acct_svcr_ref,
            transactions: d.transactions,
            reference,
            charges_minor: d
                .entry_charges_total
                .or(d.entry_charges_sum)
                .or(d.tx_charges_sum),
            evidence,
            span: self.entry_start..self.at(),
        })
    }
}

impl<R: BufRead> Iterator for FlatReader<R> {
    type Item = Result<FlatItem>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_item().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(ns: &str, root: &str, report: &str, entries: &str) -> String {
        format!(
            "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:{ns}\"><{root}><GrpHdr>\
             <MsgId>M1</MsgId><CreDtTm>2026-12-04T10:00:00</CreDtTm></GrpHdr><{report}>\
             <Id>S1</Id><LglSeqNb>7</LglSeqNb><CreDtTm>2026-12-04T10:00:00</CreDtTm><Acct><Id><Othr><Id>ACC-1</Id></Othr></Id></Acct>\
             {entries}</{report}></{root}></Document>"
        )
    }

    fn read_all(xml: &str) -> Result<Vec<FlatItem>> {
        FlatReader::new(xml.as_bytes(), Limits::default()).collect()
    }

    #[test]
    fn both_status_shapes_and_the_header_are_read() {
        let v02 = doc(
            "camt.054.001.02",
            "BkToCstmrDbtCdtNtfctn",
            "Ntfctn",
            "<Ntry><Amt Ccy=\"KWD\">1.005</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>INFO</Sts></Ntry>",
        );
        let items = read_all(&v02).unwrap();
        let FlatItem::Report(r) = &items[0] else {
            panic!("{items:?}")
        };
        assert_eq!(
            (r.msg_id.as_deref(), r.id.as_str(), r.account.as_str()),
            (Some("M1"), "S1", "ACC-1")
        );
        assert_eq!(r.legal_sequence.as_deref(), Some("7"));
        let FlatItem::Entry(e) = &items[1] else {
            panic!("{items:?}")
        };
        assert_eq!(
            (e.amount.minor(), e.credit, e.status.as_str()),
            (1005, false, "INFO")
        );
        let v08 = v02
            .replace("camt.054.001.02", "camt.054.001.08")
            .replace("<Sts>INFO</Sts>", "<Sts><Prtry>OWN</Prtry></Sts>");
        let items = read_all(&v08).unwrap();
        let FlatItem::Entry(e) = &items[1] else {
            panic!("{items:?}")
        };
        assert_eq!(e.status, "OWN");
    }

    #[test]
    fn other_versions_and_messages_are_refused_by_name() {
        let v04 = doc("camt.053.001.04", "BkToCstmrStmt", "Stmt", "");
        let err = read_all(&v04).unwrap_err().to_string();
        assert!(
            err.contains("camt.053.001.04 is not a supported version"),
            "{err}"
        );
        assert!(err.contains("camt.053.001.02, camt.053.001.08"), "{err}");
        let pacs = doc("pacs.008.001.08", "FIToFICstmrCdtTrf", "Stmt", "");
        let err = read_all(&pacs).unwrap_err().to_string();
        assert!(
            err.contains("not a camt.052, camt.053 or camt.054"),
            "{err}"
        );
        let wrong_root = doc("camt.053.001.08", "BkToCstmrAcctRpt", "Rpt", "");
        assert!(read_all(&wrong_root).is_err());
    }

    #[test]
    fn a_bad_entry_is_named_by_its_position() {
        let entry = |amt: &str| {
            format!("<Ntry><Amt Ccy=\"EUR\">{amt}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts></Ntry>")
        };
        let xml = doc(
            "camt.052.001.08",
            "BkToCstmrAcctRpt",
            "Rpt",
            &format!("{}{}{}", entry("1.00"), entry("2.00"), entry("-3.00")),
        );
        let err = read_all(&xml).unwrap_err();
        assert_eq!(
            err.path(),
            Some("/Document/BkToCstmrAcctRpt/Rpt/Ntry[3]/Amt")
        );
        let missing = doc(
            "camt.052.001.08",
            "BkToCstmrAcctRpt",
            "Rpt",
            "<Ntry><Amt Ccy=\"EUR\">1.00</Amt><Sts><Cd>BOOK</Cd></Sts></Ntry>",
        );
        let err = read_all(&missing).unwrap_err();
        assert_eq!(
            err.path(),
            Some("/Document/BkToCstmrAcctRpt/Rpt/Ntry[1]/CdtDbtInd")
        );
        let two = doc("camt.053.001.08", "BkToCstmrStmt", "Stmt", "")
            .replace("</Stmt>", "</Stmt><Stmt><Id>S2</Id></Stmt>");
        let err = read_all(&two).unwrap_err().to_string();
        assert!(err.contains("one report per file"), "{err}");
    }

    #[test]
    fn a_dtd_is_refused() {
        let xml = format!(
            "<!DOCTYPE x [<!ENTITY a \"b\">]>{}",
            doc("camt.053.001.08", "BkToCstmrStmt", "Stmt", "")
        );
        assert!(matches!(read_all(&xml), Err(Error::DtdRefused { .. })));
    }

    /// Each entry's span cuts exactly its bytes out of the input, whatever precedes it (a BOM,
    /// whitespace, a namespace prefix), with and without the copy; the copy is empty when off.
    #[test]
    fn spans_cut_each_entry_out_of_the_input() {
        let entry = |n: u32, p: &str| {
            format!(
                "<{p}Ntry><{p}Amt Ccy=\"EUR\">{n}.00</{p}Amt><{p}CdtDbtInd>CRDT</{p}CdtDbtInd>\
                 <{p}Sts><{p}Cd>BOOK</{p}Cd></{p}Sts><{p}AddtlNtryInf>caf\u{e9} &amp; co</{p}AddtlNtryInf></{p}Ntry>"
            )
        };
        let plain = doc(
            "camt.053.001.08",
            "BkToCstmrStmt",
            "Stmt",
            &format!("{}\n   \t{}", entry(1, ""), entry(2, "")),
        );
        let prefixed = format!(
            "\u{feff}<?xml version=\"1.0\"?>\n<c:Document xmlns:c=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\">\
             <c:BkToCstmrStmt><c:GrpHdr><c:MsgId>M</c:MsgId></c:GrpHdr><c:Stmt><c:Id>S</c:Id>\
             <c:Acct><c:Id><c:IBAN>DE89370400440532013000</c:IBAN></c:Id></c:Acct>\n  {}\n  {}\
             </c:Stmt></c:BkToCstmrStmt></c:Document>",
            entry(3, "c:"),
            entry(4, "c:")
        );
        for (xml, first, prefix) in [(&plain, 1, ""), (&prefixed, 3, "c:")] {
            for copy in [true, false] {
                let entries: Vec<FlatEntry> = FlatReader::new(xml.as_bytes(), Limits::default())
                    .copy_evidence(copy)
                    .filter_map(|i| match i.unwrap() {
                        FlatItem::Entry(e) => Some(e),
                        FlatItem::Report(_) => None,
                    })
                    .collect();
                assert_eq!(entries.len(), 2);
                for (i, e) in entries.iter().enumerate() {
                    let cut = &xml.as_bytes()[e.span.start as usize..e.span.end as usize];
                    let expected = entry(first + i as u32, prefix);
                    assert_eq!(std::str::from_utf8(cut).unwrap(), expected);
                    assert_eq!(e.evidence.is_empty(), !copy, "{}", e.evidence);
                }
            }
        }
    }

    /// The entry size limit holds without the copy too: it is measured on the input.
    #[test]
    fn an_entry_over_the_limit_is_refused_with_or_without_the_copy() {
        let long = "x".repeat(600);
        let xml = doc(
            "camt.053.001.08",
            "BkToCstmrStmt",
            "Stmt",
            &format!(
                "<Ntry><Amt Ccy=\"EUR\">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>\
                 <Sts><Cd>BOOK</Cd></Sts><AddtlNtryInf>{long}</AddtlNtryInf></Ntry>"
            ),
        );
        for copy in [true, false] {
            let limits = Limits {
                message_bytes_max: 500,
                ..Limits::default()
            };
            let result: Result<Vec<FlatItem>> = FlatReader::new(xml.as_bytes(), limits)
                .copy_evidence(copy)
                .collect();
            assert!(
                matches!(result, Err(Error::TooLarge { limit: 500, .. })),
                "copy {copy}: {result:?}"
            );
            let roomy = FlatReader::new(xml.as_bytes(), Limits::default()).copy_evidence(copy);
            assert_eq!(
                roomy
                    .filter(|i| matches!(i, Ok(FlatItem::Entry(_))))
                    .count(),
                1
            );
        }
    }

    /// The message is told by its Document's namespace wherever that is declared: on the
    /// Document, on an enveloping ancestor (with a prefix), or redeclared closer in; an
    /// undeclared prefix names no message.
    #[test]
    fn the_namespace_is_found_where_it_is_declared() {
        let body = "<GrpHdr><MsgId>M</MsgId></GrpHdr><Stmt><Id>S</Id><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id></Acct></Stmt>";
        let ns = |v: &str| format!("urn:iso:std:iso:20022:tech:xsd:camt.053.001.{v}");
        let format = |xml: &str| {
            let mut reader = FlatReader::new(xml.as_bytes(), Limits::default());
            while reader.next_item()?.is_some() {}
            Ok::<_, Error>(reader.format().map(|f| f.msg_def_idr()))
        };
        let envelope = format!(
            "<Envelope xmlns:d=\"{}\"><Hdr/><d:Document><d:BkToCstmrStmt>{}</d:BkToCstmrStmt></d:Document></Envelope>",
            ns("02"),
            body.replace('<', "<d:").replace("<d:/", "</d:")
        );
        assert_eq!(format(&envelope).unwrap(), Some("camt.053.001.02"));
        let redeclared = format!(
            "<Envelope xmlns=\"{}\"><Document xmlns=\"{}\"><BkToCstmrStmt>{body}</BkToCstmrStmt></Document></Envelope>",
            ns("02"),
            ns("08")
        );
        assert_eq!(format(&redeclared).unwrap(), Some("camt.053.001.08"));
        let unbound = format!("<x:Document><x:BkToCstmrStmt>{body}</x:BkToCstmrStmt></x:Document>");
        let err = format(&unbound).unwrap_err().to_string();
        assert!(
            err.contains("not a camt.052, camt.053 or camt.054 namespace"),
            "{err}"
        );
    }
}
