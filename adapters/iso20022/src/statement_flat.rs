//! A flat, streaming reader of the reconciliation fields of camt.052 / camt.053 / camt.054, in
//! both versions banks send: `.001.02` (still the most common) and `.001.08`.
//!
//! [`crate::statement::EntryStream`] reads `.001.08` into the full typed model. Reconciliation
//! needs far less of an entry (amount, direction, status, dates, the payment's references, a
//! return reason, charges) and must read the older version too, whose shapes differ in small
//! ways (`<Sts>BOOK</Sts>` against `<Sts><Cd>BOOK</Cd></Sts>`, no `UETR` in the references,
//! transaction amounts under `AmtDtls/TxAmt` rather than `Amt`, charges with or without
//! `Rcrd`). [`FlatReader`] picks those fields out of either version by element path, one entry
//! at a time, and keeps a copy of each entry's XML as the evidence a reviewer reads. Memory
//! stays flat whatever the number of entries: one entry (bounded by
//! [`Limits::message_bytes_max`]) is held at a time.
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
use quick_xml::name::ResolveResult;
use quick_xml::{NsReader, Writer};

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
    /// The entry as it was written (namespace prefixes and declarations left out).
    pub evidence: String,
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
    reader: NsReader<R>,
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
    pub fn new(input: R, limits: Limits) -> Self {
        let mut reader = NsReader::from_reader(input);
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
            done: false,
        }
    }

    /// The message kind and version, once the Document's root element has been read.
    pub fn format(&self) -> Option<CamtFormat> {
        self.format
    }

    /// Bytes read so far (for progress reports).
    pub fn position(&self) -> u64 {
        self.reader.buffer_position()
    }

    fn syntax(&self, message: impl ToString) -> Error {
        Error::Syntax {
            offset: self.reader.buffer_position(),
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
        loop {
            self.buf.clear();
            let event = match self.reader.read_event_into(&mut self.buf) {
                Ok(e) => e.into_owned(),
                Err(e) => return Err(self.syntax(e)),
            };
            if let Some(w) = self.evidence.as_mut() {
                if !matches!(event, Event::Decl(_) | Event::PI(_) | Event::Comment(_)) {
                    write_local(w, &event);
                }
                if w.get_ref().len() > self.limits.message_bytes_max {
                    return Err(Error::TooLarge {
                        bytes: w.get_ref().len(),
                        limit: self.limits.message_bytes_max,
                    });
                }
            }
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
                Event::DocType(_) => {
                    return Err(Error::DtdRefused {
                        offset: self.reader.buffer_position(),
                    })
                }
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
            let mut w = Writer::new(Vec::with_capacity(1024));
            write_local(&mut w, &Event::Start(e.to_owned()));
            self.evidence = Some(w);
            if !self.report_sent {
                self.report_sent = true;
                return Ok(self.report.clone().map(FlatItem::Report));
            }
        } else if depth == report + 1 && name == "Bal" {
            self.balance = Some(BalanceDraft::default());
        }
        Ok(None)
    }

    fn open_root(&mut self, e: &BytesStart<'_>) -> Result<()> {
        let (ns, local) = self.reader.resolve_element(e.name());
        let ns = match ns {
            ResolveResult::Bound(ns) => String::from_utf8_lossy(ns.as_ref()).into_owned(),
            _ => String::new(),
        };
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

    fn text(&mut self, text: &str) -> Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        let Some(doc) = self.doc_depth else {
            return Ok(());
        };
        if self.report_depth.is_none() {
            if self.starts.len() == doc + 4 && self.path.ends_with("/GrpHdr/MsgId") {
                self.msg_id = Some(text.to_string());
            }
            return Ok(());
        }
        if self.entry.is_some() {
            return self.entry_text(text);
        }
        let report_depth = self.report_depth.unwrap_or(0);
        if self.balance.is_some() {
            return self.balance_text(text, report_depth);
        }
        let rel = self.rel(report_depth).to_string();
        let Some(report) = self.report.as_mut() else {
            return Ok(());
        };
        match rel.as_str() {
            "Id" => report.id = text.to_string(),
            "ElctrncSeqNb" => report.electronic_sequence = Some(text.to_string()),
            "LglSeqNb" => report.legal_sequence = Some(text.to_string()),
            "Acct/Id/IBAN" | "Acct/Id/Othr/Id" => report.account = text.to_string(),
            "Acct/Ccy" => report.account_currency = Some(text.to_string()),
            _ => {}
        }
        Ok(())
    }

    fn balance_text(&mut self, text: &str, report_depth: usize) -> Result<()> {
        let rel = self.rel(report_depth + 1).to_string();
        let amount = if rel == "Amt" {
            Some(self.amount(text)?)
        } else {
            None
        };
        let Some(b) = self.balance.as_mut() else {
            return Ok(());
        };
        match rel.as_str() {
            "Tp/CdOrPrtry/Cd" | "Tp/CdOrPrtry/Prtry" => b.code = Some(text.to_string()),
            "Amt" => b.amount = amount,
            "CdtDbtInd" => b.debit = text == "DBIT",
            "Dt/Dt" | "Dt/DtTm" => b.date = date_of(text),
            _ => {}
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

    fn entry_text(&mut self, text: &str) -> Result<()> {
        let rel = self.rel(self.entry_depth).to_string();
        if let Some(tx) = rel.strip_prefix("NtryDtls/TxDtls/") {
            return self.transaction_text(tx, text);
        }
        let amount = match rel.as_str() {
            "Amt" | "Chrgs/TtlChrgsAndTaxAmt" | "Chrgs/Amt" | "Chrgs/Rcrd/Amt" => {
                Some(self.amount(text)?)
            }
            _ => None,
        };
        let path = self.path_str();
        let Some(d) = self.entry.as_mut() else {
            return Ok(());
        };
        match rel.as_str() {
            "NtryRef" => d.entry_ref = Some(text.to_string()),
            "Amt" => d.amount = amount,
            "CdtDbtInd" => {
                d.credit = Some(match text {
                    "CRDT" => true,
                    "DBIT" => false,
                    _ => return Err(bad(&path, "CreditDebitCode", text, "CRDT or DBIT")),
                })
            }
            "RvslInd" => {
                d.reversal = match text {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(bad(&path, "TrueFalseIndicator", text, "true or false")),
                }
            }
            "Sts" | "Sts/Cd" | "Sts/Prtry" => d.status = Some(text.to_string()),
            "BookgDt/Dt" | "BookgDt/DtTm" => d.booking_date = date_of(text),
            "ValDt/Dt" | "ValDt/DtTm" => d.value_date = date_of(text),
            "AcctSvcrRef" => d.acct_svcr_ref = Some(text.to_string()),
            "AddtlNtryInf" => d.addtl_ntry = Some(text.to_string()),
            "Chrgs/TtlChrgsAndTaxAmt" => {
                d.entry_charges_total
                    .get_or_insert(amount.map_or(0, |a| a.minor()));
            }
            "Chrgs/Amt" | "Chrgs/Rcrd/Amt" => {
                let sum = d.entry_charges_sum.get_or_insert(0);
                *sum = sum.saturating_add(amount.map_or(0, |a| a.minor()));
            }
            _ => {}
        }
        Ok(())
    }

    fn transaction_text(&mut self, rel: &str, text: &str) -> Result<()> {
        let amount = match rel {
            "Amt" | "AmtDtls/TxAmt/Amt" | "Chrgs/Amt" | "Chrgs/Rcrd/Amt" => {
                Some(self.amount(text)?)
            }
            _ => None,
        };
        let Some(d) = self.entry.as_mut() else {
            return Ok(());
        };
        if d.transactions.is_empty() {
            d.transactions.push(FlatRefs::default());
        }
        let tx = d.transactions.last_mut().expect("pushed above");
        let value = Some(text.to_string());
        match rel {
            "Refs/MsgId" => tx.msg_id = value,
            "Refs/AcctSvcrRef" => tx.acct_svcr_ref = value,
            "Refs/InstrId" => tx.instr_id = value,
            "Refs/EndToEndId" => tx.end_to_end_id = value,
            "Refs/UETR" => tx.uetr = Some(text.to_ascii_lowercase()),
            "Refs/TxId" => tx.tx_id = value,
            "Amt" | "AmtDtls/TxAmt/Amt" => tx.amount = amount,
            "RtrInf/Rsn/Cd" | "RtrInf/Rsn/Prtry" => tx.return_reason = value,
            "RmtInf/Ustrd" => d.ustrd.push(text.to_string()),
            "RmtInf/Strd/CdtrRefInf/Ref" => d.strd_ref = value,
            "AddtlTxInf" => d.addtl_tx = value,
            "Chrgs/Amt" | "Chrgs/Rcrd/Amt" => {
                let sum = d.tx_charges_sum.get_or_insert(0);
                *sum = sum.saturating_add(amount.map_or(0, |a| a.minor()));
            }
            _ => {}
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
        let evidence = self
            .evidence
            .take()
            .map(|w| String::from_utf8_lossy(&w.into_inner()).into_owned())
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
        })
    }
}

/// Writes an event with local names only and no namespace declarations, so that the copy
/// reads alone.
fn write_local(w: &mut Writer<Vec<u8>>, event: &Event<'_>) {
    let start = |e: &BytesStart<'_>| {
        let mut s = BytesStart::new(String::from_utf8_lossy(e.local_name().as_ref()).into_owned());
        for a in e.attributes().flatten() {
            let key = a.key.as_ref();
            if key == b"xmlns" || key.starts_with(b"xmlns:") {
                continue;
            }
            s.push_attribute((a.key.local_name().as_ref(), a.value.as_ref()));
        }
        s
    };
    let _ = match event {
        Event::Start(e) => w.write_event(Event::Start(start(e))),
        Event::Empty(e) => w.write_event(Event::Empty(start(e))),
        Event::End(e) => w.write_event(Event::End(quick_xml::events::BytesEnd::new(
            String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
        ))),
        other => w.write_event(other.borrow()),
    };
}

impl<R: BufRead> Iterator for FlatReader<R> {
    type Item = Result<FlatItem>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_item().transpose()
    }
}
