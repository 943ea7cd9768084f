//! Statements: what banks and wallet operators say moved on our accounts, imported for
//! reconciliation (issue 9, "Sources / Statements").
//!
//! Formats read, each one entry at a time so that memory stays flat for any file size:
//! - camt.053 / camt.052 / camt.054 in `.001.02` and `.001.08` ([`camt`], through
//!   [`iso20022::statement_flat`]); any other version is refused with its name;
//! - SWIFT MT940 and MT950 ([`swift`]);
//! - a wallet operator's daily settlement CSV, its columns mapped in config ([`wallet_csv`]).
//!
//! [`import`](import::import) detects the format, keeps the raw file, and writes the statement
//! and its entries in one transaction: all of the file or nothing. The same content (SHA-256)
//! or the same statement (account + statement id + sequence) imported again changes nothing
//! and says so. Opening + credits - debits = closing is checked per currency; a statement
//! whose entries do not add up is imported with `balance_ok = false` (a break for
//! reconciliation). [`drop_folder`] picks files up from a watched directory.
//!
//! The tables (`statements`, `statement_entries`, `statement_refusals`, migration 0006) are
//! the contract with the rest of reconciliation.

pub mod camt;
pub mod command;
pub mod drop_folder;
pub mod import;
pub mod swift;
pub mod wallet_csv;

pub use import::{import, ImportError, ImportOptions, ImportReport, Source};

use std::fmt;

crate::text_enum! {
    /// A statement file format, as stored in `statements.format`.
    pub enum Format {
        Camt053V02 => "camt.053.001.02",
        Camt053V08 => "camt.053.001.08",
        Camt052V02 => "camt.052.001.02",
        Camt052V08 => "camt.052.001.08",
        Camt054V02 => "camt.054.001.02",
        Camt054V08 => "camt.054.001.08",
        Mt940 => "mt940",
        Mt950 => "mt950",
        WalletCsv => "wallet-csv",
    }
}

crate::text_enum! {
    /// An entry's status, as stored in `statement_entries.status`.
    pub enum EntryStatus {
        /// Booked on the account (camt `BOOK`, every MT940 line, a settled wallet row).
        Booked => "booked",
        /// Announced, not yet booked (camt `PDNG`).
        Pending => "pending",
        /// For information only (camt `INFO`).
        Info => "info",
    }
}

/// Which statement a file is: `(account, statement_id, sequence)` is unique.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// IBAN, other account id, or the wallet operator's id.
    pub account: String,
    /// camt `Stmt/Id`, MT940 `:20:`, the wallet report's date.
    pub statement_id: String,
    /// camt `ElctrncSeqNb` (else `LglSeqNb`), MT940 `:28C:`.
    pub sequence: Option<String>,
}

/// Opening or closing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BalanceKind {
    Opening,
    Closing,
}

/// A balance the file states.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Balance {
    pub kind: BalanceKind,
    pub currency: &'static iso20022::Currency,
    /// Negative for a debit balance.
    pub signed_minor: i64,
}

/// One entry, ready to store (see `statement_entries` for each column's meaning).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Line {
    /// 1-based entry position (XML) or line number in the file (text formats).
    pub line: i64,
    pub booking_date: Option<String>,
    pub value_date: Option<String>,
    /// Always positive; the direction says which way.
    pub amount_minor: i64,
    pub currency: String,
    pub credit: bool,
    pub status: Option<EntryStatus>,
    pub reversal: bool,
    pub uetr: Option<String>,
    pub end_to_end_id: Option<String>,
    pub instr_id: Option<String>,
    pub tx_id: Option<String>,
    pub acct_svcr_ref: Option<String>,
    pub msg_id: Option<String>,
    pub msisdn: Option<String>,
    pub rrn: Option<String>,
    pub stan: Option<String>,
    pub return_reason: Option<String>,
    pub reference: Option<String>,
    pub charges_minor: Option<i64>,
    /// When an entry books several transactions (a batch): each one's references, as JSON.
    pub batch_refs: Option<String>,
    /// What the file said, readable: the entry's XML, or its original lines; empty when
    /// `evidence_span` says where it is in the kept file instead.
    pub evidence: String,
    /// Where the entry is in the file (byte offset, length), when its XML was not copied.
    pub evidence_span: Option<(i64, i64)>,
}

impl Line {
    pub fn direction(&self) -> &'static str {
        if self.credit {
            "credit"
        } else {
            "debit"
        }
    }
}

/// What a reader yields, in file order: the header before any line; balances anywhere.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Item {
    Header(Header),
    Balance(Balance),
    Line(Line),
}

/// A file that cannot be read: where (a line number or an element path) and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    /// `line 12`, `/Document/BkToCstmrStmt/Stmt/Ntry[3]/Amt`, `byte 1400`.
    pub at: String,
    pub message: String,
}

impl ReadError {
    pub fn line(line: usize, message: impl Into<String>) -> Self {
        ReadError {
            at: format!("line {line}"),
            message: message.into(),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.at, self.message)
    }
}

/// A streaming reader of one statement file.
pub trait Reader: Send {
    /// The next item; `Ok(None)` at the end of the file.
    fn next_item(&mut self) -> Result<Option<Item>, ReadError>;
    /// Bytes of the file read so far (for progress).
    fn bytes_read(&self) -> u64;
    /// The format, once the reader has seen enough of the file to know it.
    fn format(&self) -> Option<Format>;
}

/// Which reader a file needs, from its first bytes: an XML Document (namespace read later), a
/// SWIFT `:20:` (or a `{1:` block) for MT940/MT950, else a CSV header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Detected {
    Camt,
    Swift,
    Csv,
}

pub fn detect(head: &[u8]) -> Detected {
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    if t.starts_with('<') {
        Detected::Camt
    } else if t.starts_with("{1:") || t.starts_with(":20:") || t.contains("\n:20:") {
        Detected::Swift
    } else {
        Detected::Csv
    }
}
