//! SWIFT MT940 (customer statement) and MT950 (statement message), read line by line.
//!
//! Fields: `:20:` (statement reference, the statement id), `:25:` (account), `:28C:`
//! (statement / sequence number), `:60F:`/`:60M:` (opening), `:61:` (one entry per line, with
//! its supplementary details on the next line), `:86:` (information to the account owner, for
//! the `:61:` before it; MT940 only), `:62F:`/`:62M:` (closing), `:64:`/`:65:` (available
//! balances, not checked). Amounts use a decimal comma (`1234,56`). The `{1:..}{2:..}{4:` block
//! wrapper and its `-}` end are optional; block 2 names the type (`O950`); without it the
//! message is read as an MT940. One statement per file: a second `:20:` is refused.
//!
//! From `:86:` the common structured codes are picked out: `/EREF/` (EndToEndId), `/UETR/`,
//! `/RTRN/` (a return's reason code).

use super::{Balance, BalanceKind, EntryStatus, Format, Header, Item, Line, ReadError, Reader};
use std::collections::VecDeque;
use std::io::BufRead;

/// Longest line accepted (SWIFT lines are at most 65 characters; the margin is for files
/// rewrapped by some banks' export tools).
const LINE_BYTES_MAX: u64 = 4096;

/// One field: its tag, its text (continuation lines joined with `\n`), where it starts.
struct Field {
    tag: String,
    text: String,
    line: usize,
}

pub struct SwiftReader<R: BufRead> {
    input: R,
    line_no: usize,
    bytes: u64,
    format: Format,
    /// The field being gathered (continuation lines are added until the next tag).
    field: Option<Field>,
    /// A `:61:` line waiting for a possible `:86:`.
    entry: Option<Line>,
    header: (Option<String>, Option<String>, Option<String>),
    header_sent: bool,
    currency: Option<&'static iso20022::Currency>,
    statements: u32,
    pending: VecDeque<Item>,
    ended: bool,
}

impl<R: BufRead + Send> SwiftReader<R> {
    pub fn new(input: R) -> Self {
        SwiftReader {
            input,
            line_no: 0,
            bytes: 0,
            format: Format::Mt940,
            field: None,
            entry: None,
            header: (None, None, None),
            header_sent: false,
            currency: None,
            statements: 0,
            pending: VecDeque::new(),
            ended: false,
        }
    }

    /// The next raw line, without its end; `None` at the end of input.
    fn read_line(&mut self) -> Result<Option<String>, ReadError> {
        let mut buf = Vec::new();
        let n = <&mut R as std::io::Read>::take(&mut self.input, LINE_BYTES_MAX + 1)
            .read_until(b'\n', &mut buf)
            .map_err(|e| ReadError::line(self.line_no + 1, format!("read error: {e}")))?;
        if n == 0 {
            return Ok(None);
        }
        self.line_no += 1;
        self.bytes += n as u64;
        if buf.len() as u64 > LINE_BYTES_MAX {
            return Err(ReadError::line(
                self.line_no,
                format!("line longer than {LINE_BYTES_MAX} bytes"),
            ));
        }
        while matches!(buf.last(), Some(b'\n' | b'\r')) {
            buf.pop();
        }
        String::from_utf8(buf)
            .map(Some)
            .map_err(|_| ReadError::line(self.line_no, "not UTF-8 text"))
    }

    /// Reads lines until a field is complete (the next tag, the end of the message or file).
    fn next_field(&mut self) -> Result<Option<Field>, ReadError> {
        loop {
            let Some(raw) = self.read_line()? else {
                self.ended = true;
                return Ok(self.field.take());
            };
            let mut text = raw.as_str();
            if text.starts_with("{1:") {
                text = self.block_header(text)?;
                if text.is_empty() {
                    continue;
                }
            }
            if text == "-}" || text == "-" || text.starts_with("-}") {
                self.ended = true;
                return Ok(self.field.take());
            }
            if let Some((tag, rest)) = tag_of(text) {
                let next = Field {
                    tag: tag.to_string(),
                    text: rest.to_string(),
                    line: self.line_no,
                };
                if let Some(done) = self.field.replace(next) {
                    return Ok(Some(done));
                }
            } else if let Some(f) = self.field.as_mut() {
                f.text.push('\n');
                f.text.push_str(text);
            } else if !text.trim().is_empty() {
                return Err(ReadError::line(
                    self.line_no,
                    "expected a field (:20:, :25:, ...)",
                ));
            }
        }
    }

    /// Reads `{1:...}{2:O940...}{3:...}{4:` and returns what follows `{4:`.
    fn block_header<'a>(&mut self, text: &'a str) -> Result<&'a str, ReadError> {
        let Some(at) = text.find("{4:") else {
            return Err(ReadError::line(
                self.line_no,
                "block 1 without a block 4 ({4:)",
            ));
        };
        if let Some(b2) = text.find("{2:") {
            let kind = text.get(b2 + 4..b2 + 7).unwrap_or("");
            self.format = match kind {
                "940" => Format::Mt940,
                "950" => Format::Mt950,
                other => {
                    return Err(ReadError::line(
                        self.line_no,
                        format!("block 2 names MT{other}; only MT940 and MT950 are read"),
                    ))
                }
            };
        }
        Ok(&text[at + 3..])
    }

    fn on_field(&mut self, f: Field) -> Result<(), ReadError> {
        if f.tag == "86" {
            if let Some(entry) = self.entry.as_mut() {
                details_86(entry, &f.text);
                entry.evidence.push_str("\n:86:");
                entry.evidence.push_str(&f.text);
            }
            return Ok(());
        }
        if let Some(entry) = self.entry.take() {
            self.pending.push_back(Item::Line(entry));
        }
        let value = f.text.trim().to_string();
        match f.tag.as_str() {
            "20" => {
                self.statements += 1;
                if self.statements > 1 {
                    return Err(ReadError::line(
                        f.line,
                        "a second statement (:20:) in one file: one statement per file is read",
                    ));
                }
                self.header.0 = Some(value);
            }
            "25" => self.header.1 = Some(value),
            "28C" | "28" => self.header.2 = Some(value),
            "60F" | "60M" => self.balance(&f, BalanceKind::Opening)?,
            "62F" | "62M" => self.balance(&f, BalanceKind::Closing)?,
            "61" => {
                self.send_header(f.line)?;
                self.entry = Some(self.statement_line(&f)?);
            }
            _ => {}
        }
        Ok(())
    }

    fn send_header(&mut self, line: usize) -> Result<(), ReadError> {
        if self.header_sent {
            return Ok(());
        }
        let (Some(id), Some(account)) = (self.header.0.clone(), self.header.1.clone()) else {
            return Err(ReadError::line(
                line,
                "a statement needs :20: and :25: before its entries",
            ));
        };
        self.header_sent = true;
        self.pending.push_back(Item::Header(Header {
            account,
            statement_id: id,
            sequence: self.header.2.clone(),
        }));
        Ok(())
    }

    /// `C231205EUR1234,56`.
    fn balance(&mut self, f: &Field, kind: BalanceKind) -> Result<(), ReadError> {
        let t = f.text.trim();
        let err = |m: &str| ReadError::line(f.line, format!(":{}: {m}", f.tag));
        let (debit, rest) = match t.as_bytes().first() {
            Some(b'C') => (false, &t[1..]),
            Some(b'D') => (true, &t[1..]),
            _ => return Err(err("must start with C or D")),
        };
        if rest.len() < 10 || !rest[..6].bytes().all(|b| b.is_ascii_digit()) {
            return Err(err("expected a date YYMMDD and a currency"));
        }
        let ccy = &rest[6..9];
        let amount = amount(&rest[9..], ccy).map_err(|m| err(&m))?;
        if self.currency.is_none() {
            self.currency = Some(amount.currency());
        }
        let minor = amount.minor();
        self.pending.push_back(Item::Balance(Balance {
            kind,
            currency: amount.currency(),
            signed_minor: if debit { -minor } else { minor },
        }));
        if kind == BalanceKind::Opening {
            self.send_header(f.line)?;
        }
        Ok(())
    }

    /// `:61:` `YYMMDD[MMDD](C|D|RC|RD)[funds code]amount(S|N|F)xxxreference[//bank ref]`,
    /// supplementary details on the next line.
    fn statement_line(&self, f: &Field) -> Result<Line, ReadError> {
        let err = |m: &str| ReadError::line(f.line, format!(":61: {m}"));
        let (first, details) = match f.text.split_once('\n') {
            Some((a, b)) => (a, Some(b.trim())),
            None => (f.text.as_str(), None),
        };
        let b = first.as_bytes();
        let digits = |from: usize, n: usize| {
            b.get(from..from + n)
                .is_some_and(|s| s.iter().all(u8::is_ascii_digit))
        };
        if !digits(0, 6) {
            return Err(err("must start with the value date YYMMDD"));
        }
        let value_date = yymmdd(&first[..6]).ok_or_else(|| err("value date is not a date"))?;
        let mut at = 6;
        let mut booking_date = None;
        if digits(6, 4) {
            booking_date = Some(format!(
                "{}-{}-{}",
                &value_date[..4],
                &first[6..8],
                &first[8..10]
            ));
            at = 10;
        }
        let (credit, reversal, mark_len) = match b.get(at..at + 2) {
            Some(b"RC") => (false, true, 2),
            Some(b"RD") => (true, true, 2),
            _ => match b.get(at) {
                Some(b'C') => (true, false, 1),
                Some(b'D') => (false, false, 1),
                _ => return Err(err("debit/credit mark must be C, D, RC or RD")),
            },
        };
        at += mark_len;
        if b.get(at).is_some_and(u8::is_ascii_alphabetic) {
            at += 1; // the funds code (third letter of the currency)
        }
        let amount_len = first[at..]
            .find(|c: char| !(c.is_ascii_digit() || c == ','))
            .ok_or_else(|| err("no transaction type after the amount"))?;
        let currency = self
            .currency
            .ok_or_else(|| err("an entry before the opening balance (:60F:) names the currency"))?;
        let amt = amount(&first[at..at + amount_len], currency.alpha).map_err(|m| err(&m))?;
        at += amount_len;
        let kind = first
            .get(at..at + 4)
            .ok_or_else(|| err("transaction type (e.g. NTRF) missing"))?;
        if !matches!(kind.as_bytes()[0], b'S' | b'N' | b'F') {
            return Err(err("transaction type must start with S, N or F"));
        }
        at += 4;
        let (owner_ref, bank_ref) = match first[at..].split_once("//") {
            Some((o, s)) => (o, Some(s.trim())),
            None => (&first[at..], None),
        };
        let owner_ref = owner_ref.trim();
        Ok(Line {
            line: f.line as i64,
            booking_date: booking_date.or_else(|| Some(value_date.clone())),
            value_date: Some(value_date),
            amount_minor: amt.minor(),
            currency: currency.alpha.to_string(),
            credit,
            status: Some(EntryStatus::Booked),
            reversal,
            acct_svcr_ref: bank_ref.filter(|s| !s.is_empty()).map(str::to_string),
            instr_id: (!owner_ref.is_empty() && owner_ref != "NONREF")
                .then(|| owner_ref.to_string()),
            return_reason: reversal.then(|| "reversal".to_string()),
            reference: details.filter(|d| !d.is_empty()).map(str::to_string),
            evidence: format!(":61:{}", f.text),
            ..Line::default()
        })
    }
}

/// `:TAG:rest`, for a tag of two digits and an optional letter.
fn tag_of(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix(':')?;
    let end = rest.find(':')?;
    let tag = &rest[..end];
    let ok = (2..=3).contains(&tag.len())
        && tag.as_bytes()[..2].iter().all(u8::is_ascii_digit)
        && tag.as_bytes()[2..].iter().all(u8::is_ascii_uppercase);
    ok.then(|| (tag, &rest[end + 1..]))
}

/// `231205` as `2023-12-05` (years 00-79 are 20xx, 80-99 19xx, as SWIFT dates are read).
fn yymmdd(s: &str) -> Option<String> {
    let y: u32 = s.get(0..2)?.parse().ok()?;
    let m: u32 = s.get(2..4)?.parse().ok()?;
    let d: u32 = s.get(4..6)?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let year = if y < 80 { 2000 + y } else { 1900 + y };
    Some(format!("{year:04}-{m:02}-{d:02}"))
}

/// A SWIFT amount (`1234,56`: decimal comma, mandatory) exactly, in `currency`.
fn amount(text: &str, currency: &str) -> Result<iso20022::Amount, String> {
    if !text.contains(',') || text.matches(',').count() > 1 || text.starts_with(',') {
        return Err(format!(
            "amount {text:?} needs digits and one decimal comma"
        ));
    }
    iso20022::Amount::parse_code(&text.replace(',', "."), currency).map_err(|e| e.to_string())
}

/// Picks `/EREF/`, `/UETR/` and `/RTRN/` out of `:86:` and keeps the whole as the reference.
fn details_86(entry: &mut Line, text: &str) {
    let flat = text.replace('\n', "");
    let code = |name: &str| {
        let at = flat.find(name)? + name.len();
        let value = flat[at..].split('/').next()?.trim();
        (!value.is_empty()).then(|| value.to_string())
    };
    if let Some(e2e) = code("/EREF/") {
        entry.end_to_end_id = Some(e2e);
    }
    if let Some(uetr) = code("/UETR/") {
        entry.uetr = Some(uetr.to_ascii_lowercase());
    }
    if let Some(reason) = code("/RTRN/") {
        entry.return_reason = Some(reason);
    }
    let joined = text.replace('\n', " ");
    entry.reference = Some(match entry.reference.take() {
        Some(details) => format!("{details} {joined}"),
        None => joined,
    });
}

impl<R: BufRead + Send> Reader for SwiftReader<R> {
    fn bytes_read(&self) -> u64 {
        self.bytes
    }

    fn format(&self) -> Option<Format> {
        Some(self.format)
    }

    fn next_item(&mut self) -> Result<Option<Item>, ReadError> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Ok(Some(item));
            }
            if self.ended && self.field.is_none() {
                if let Some(entry) = self.entry.take() {
                    return Ok(Some(Item::Line(entry)));
                }
                while let Some(rest) = self.read_line()? {
                    if !rest.trim().is_empty() {
                        return Err(ReadError::line(
                            self.line_no,
                            "text after the end of the message (one statement per file)",
                        ));
                    }
                }
                if self.statements == 0 {
                    return Err(ReadError::line(
                        self.line_no,
                        "no statement (:20:) in the file",
                    ));
                }
                // A statement without entries still names itself.
                self.send_header(self.line_no)?;
                if let Some(item) = self.pending.pop_front() {
                    return Ok(Some(item));
                }
                return Ok(None);
            }
            match self.next_field()? {
                Some(f) => self.on_field(f)?,
                None => continue,
            }
        }
    }
}
