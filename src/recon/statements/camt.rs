//! camt.052 / camt.053 / camt.054 (`.001.02` and `.001.08`) into statement items, through the
//! ISO 20022 crate's flat streaming reader.

use super::{Balance, BalanceKind, EntryStatus, Format, Header, Item, Line, ReadError, Reader};
use iso20022::statement::ReportKind;
use iso20022::statement_flat::{CamtFormat, CamtVersion, FlatEntry, FlatItem, FlatReader};
use std::collections::VecDeque;
use std::io::BufRead;

/// Reads one camt file. The format is known once the Document's root has been read.
pub struct CamtReader<R: BufRead> {
    inner: FlatReader<R>,
    copy_evidence: bool,
    pending: VecDeque<Item>,
}

impl<R: BufRead> CamtReader<R> {
    /// With `copy_evidence` false, each line carries where its entry is in the file
    /// (`Line::evidence_span`) instead of a copy of its XML: for a caller that keeps the file.
    pub fn new(input: R, entry_bytes_max: usize, copy_evidence: bool) -> Self {
        let limits = iso20022::Limits {
            message_bytes_max: entry_bytes_max,
            ..Default::default()
        };
        CamtReader {
            inner: FlatReader::new(input, limits).copy_evidence(copy_evidence),
            copy_evidence,
            pending: VecDeque::new(),
        }
    }
}

pub fn format_of(f: CamtFormat) -> Format {
    match (f.kind, f.version) {
        (ReportKind::Statement, CamtVersion::V02) => Format::Camt053V02,
        (ReportKind::Statement, CamtVersion::V08) => Format::Camt053V08,
        (ReportKind::Report, CamtVersion::V02) => Format::Camt052V02,
        (ReportKind::Report, CamtVersion::V08) => Format::Camt052V08,
        (ReportKind::Notification, CamtVersion::V02) => Format::Camt054V02,
        (ReportKind::Notification, CamtVersion::V08) => Format::Camt054V08,
    }
}

fn read_error(e: iso20022::Error) -> ReadError {
    match e.path() {
        Some(path) => ReadError {
            at: path.to_string(),
            message: e
                .to_string()
                .trim_start_matches(path)
                .trim_start_matches(": ")
                .to_string(),
        },
        None => match &e {
            iso20022::Error::Syntax { offset, message } => ReadError {
                at: format!("byte {offset}"),
                message: format!("XML syntax error: {message}"),
            },
            _ => ReadError {
                at: "document".into(),
                message: e.to_string(),
            },
        },
    }
}

fn status(code: &str, index: u64) -> Result<EntryStatus, ReadError> {
    match code {
        "BOOK" => Ok(EntryStatus::Booked),
        "PDNG" => Ok(EntryStatus::Pending),
        "INFO" => Ok(EntryStatus::Info),
        other => Err(ReadError {
            at: format!("entry {index}"),
            message: format!("entry status {other:?} is not BOOK, PDNG or INFO"),
        }),
    }
}

/// Runs once per entry of files of a million: the first transaction's references are moved
/// into the line, not copied.
fn line_of(e: FlatEntry, copied: bool) -> Result<Line, ReadError> {
    let status = status(&e.status, e.index)?;
    let return_reason = e
        .transactions
        .iter()
        .find_map(|t| t.return_reason.clone())
        .or_else(|| e.reversal.then(|| "reversal".to_string()));
    let batch_refs = (e.transactions.len() > 1).then(|| {
        let refs: Vec<_> = e
            .transactions
            .iter()
            .map(|t| {
                serde_json::json!({
                    "uetr": t.uetr, "end_to_end_id": t.end_to_end_id, "instr_id": t.instr_id,
                    "tx_id": t.tx_id, "acct_svcr_ref": t.acct_svcr_ref,
                    "amount_minor": t.amount.map(|a| a.minor()),
                    "return_reason": t.return_reason,
                })
            })
            .collect();
        serde_json::Value::Array(refs).to_string()
    });
    let first = e.transactions.into_iter().next().unwrap_or_default();
    let span = |at: u64| i64::try_from(at).unwrap_or(i64::MAX);
    let evidence_span =
        (!copied).then(|| (span(e.span.start), span(e.span.end) - span(e.span.start)));
    Ok(Line {
        line: e.index as i64,
        booking_date: e.booking_date,
        value_date: e.value_date,
        amount_minor: e.amount.minor(),
        currency: e.amount.currency().alpha.to_string(),
        credit: e.credit,
        status: Some(status),
        reversal: e.reversal,
        uetr: first.uetr,
        end_to_end_id: first.end_to_end_id,
        instr_id: first.instr_id,
        tx_id: first.tx_id,
        acct_svcr_ref: e.acct_svcr_ref.or(first.acct_svcr_ref),
        msg_id: first.msg_id,
        return_reason,
        reference: e.reference,
        charges_minor: e.charges_minor,
        batch_refs,
        evidence: e.evidence,
        evidence_span,
        ..Line::default()
    })
}

impl<R: BufRead + Send> Reader for CamtReader<R> {
    fn bytes_read(&self) -> u64 {
        self.inner.position()
    }

    fn format(&self) -> Option<Format> {
        self.inner.format().map(format_of)
    }

    fn next_item(&mut self) -> Result<Option<Item>, ReadError> {
        if let Some(item) = self.pending.pop_front() {
            return Ok(Some(item));
        }
        match self.inner.next_item().map_err(read_error)? {
            None => Ok(None),
            Some(FlatItem::Entry(e)) => line_of(e, self.copy_evidence).map(|l| Some(Item::Line(l))),
            Some(FlatItem::Report(r)) => {
                if r.account.is_empty() || r.id.is_empty() {
                    return Err(ReadError {
                        at: "report".into(),
                        message: "the report names no account (Acct/Id) or no Id".into(),
                    });
                }
                for b in &r.balances {
                    let kind = match b.code.as_str() {
                        "OPBD" | "PRCD" => BalanceKind::Opening,
                        "CLBD" => BalanceKind::Closing,
                        _ => continue,
                    };
                    self.pending.push_back(Item::Balance(Balance {
                        kind,
                        currency: b.currency,
                        signed_minor: b.signed_minor,
                    }));
                }
                Ok(Some(Item::Header(Header {
                    account: r.account,
                    statement_id: r.id,
                    sequence: r.electronic_sequence.or(r.legal_sequence),
                })))
            }
        }
    }
}
