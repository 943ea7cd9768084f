//! A wallet operator's daily settlement report: CSV with a header row, its columns named in
//! config (`[statements.wallet_csv]`), quoted fields allowed.
//!
//! The statement is the operator's (`operator` is the account) for the day of the first row's
//! timestamp (the statement id, `YYYY-MM-DD`). Amounts and fees are decimal text in major units
//! (`amount_unit = "major"`, read exactly in the row's currency: `12.50` KES is 1250) or
//! integers in minor units (`"minor"`). A row's status is mapped through the configured value
//! lists; a value in none of them is an error naming the line.

use super::{EntryStatus, Header, Item, Line, ReadError, Reader};
use serde::{Deserialize, Serialize};
use std::io::Read;

/// `[statements.wallet_csv]`: how to read the operator's settlement report.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct WalletCsvConfig {
    /// The wallet operator's id: the statements' account.
    pub operator: String,
    /// Field separator, one character.
    pub delimiter: char,
    /// Column names (as in the header row). `msisdn`, `amount`, `timestamp` and `status` are
    /// required; the others may be left empty when the report has no such column.
    pub msisdn: String,
    pub amount: String,
    /// `major` (decimal text such as `12.50`) or `minor` (an integer of minor units).
    pub amount_unit: AmountUnit,
    pub currency: String,
    /// The currency when the report has no currency column.
    pub default_currency: Option<String>,
    pub rrn: String,
    pub stan: String,
    pub timestamp: String,
    pub status: String,
    pub fee: String,
    pub reference: String,
    /// Column saying credit or debit; empty: every row is `default_direction`.
    pub direction: String,
    /// Values of `direction` that mean a credit to our account (others: debit).
    pub credit_values: Vec<String>,
    /// `credit` or `debit`: the direction of rows without a direction column.
    pub default_direction: String,
    /// Status values meaning the money moved.
    pub booked_values: Vec<String>,
    /// Status values meaning not yet settled.
    pub pending_values: Vec<String>,
    /// Status values meaning the transaction failed (no money moved: kept for information).
    pub failed_values: Vec<String>,
    /// Status values meaning a reversal (booked, with `return_reason` set to the status).
    pub reversed_values: Vec<String>,
}

#[derive(Clone, Copy, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum AmountUnit {
    Major,
    Minor,
}

impl Default for WalletCsvConfig {
    fn default() -> Self {
        let list = |v: &[&str]| v.iter().map(|s| s.to_string()).collect();
        WalletCsvConfig {
            operator: "wallet-operator".into(),
            delimiter: ',',
            msisdn: "msisdn".into(),
            amount: "amount".into(),
            amount_unit: AmountUnit::Major,
            currency: "currency".into(),
            default_currency: None,
            rrn: "rrn".into(),
            stan: "stan".into(),
            timestamp: "timestamp".into(),
            status: "status".into(),
            fee: "fee".into(),
            reference: String::new(),
            direction: String::new(),
            credit_values: list(&["CREDIT", "CR"]),
            default_direction: "debit".into(),
            booked_values: list(&["SUCCESS", "SETTLED", "COMPLETED"]),
            pending_values: list(&["PENDING"]),
            failed_values: list(&["FAILED", "REJECTED"]),
            reversed_values: list(&["REVERSED"]),
        }
    }
}

/// Column positions found in the header row.
struct Columns {
    names: Vec<String>,
    msisdn: usize,
    amount: usize,
    timestamp: usize,
    status: usize,
    currency: Option<usize>,
    rrn: Option<usize>,
    stan: Option<usize>,
    fee: Option<usize>,
    reference: Option<usize>,
    direction: Option<usize>,
}

pub struct WalletCsvReader<R: Read> {
    config: WalletCsvConfig,
    records: csv::Reader<R>,
    columns: Option<Columns>,
    record: csv::StringRecord,
    header_sent: bool,
    pending: Option<Line>,
}

impl<R: Read + Send> WalletCsvReader<R> {
    pub fn new(input: R, config: WalletCsvConfig) -> Self {
        let records = csv::ReaderBuilder::new()
            .delimiter(u8::try_from(config.delimiter).unwrap_or(b','))
            .has_headers(false)
            .flexible(true)
            .from_reader(input);
        WalletCsvReader {
            config,
            records,
            columns: None,
            record: csv::StringRecord::new(),
            header_sent: false,
            pending: None,
        }
    }

    fn columns(&self, header: &csv::StringRecord) -> Result<Columns, ReadError> {
        let names: Vec<String> = header.iter().map(|h| h.trim().to_string()).collect();
        let find = |name: &str| {
            (!name.is_empty())
                .then(|| names.iter().position(|h| h.eq_ignore_ascii_case(name)))
                .flatten()
        };
        let need = |key: &str, name: &str| {
            find(name).ok_or_else(|| {
                ReadError::line(
                    1,
                    format!("no column {name:?} (statements.wallet_csv.{key}) in the header row"),
                )
            })
        };
        let optional = |key: &str, name: &str| -> Result<Option<usize>, ReadError> {
            match name.is_empty() {
                true => Ok(None),
                false => need(key, name).map(Some),
            }
        };
        if self.config.currency.is_empty() && self.config.default_currency.is_none() {
            return Err(ReadError::line(
                1,
                "statements.wallet_csv names no currency column and no default_currency",
            ));
        }
        Ok(Columns {
            msisdn: need("msisdn", &self.config.msisdn)?,
            amount: need("amount", &self.config.amount)?,
            timestamp: need("timestamp", &self.config.timestamp)?,
            status: need("status", &self.config.status)?,
            currency: optional("currency", &self.config.currency)?,
            rrn: optional("rrn", &self.config.rrn)?,
            stan: optional("stan", &self.config.stan)?,
            fee: optional("fee", &self.config.fee)?,
            reference: optional("reference", &self.config.reference)?,
            direction: optional("direction", &self.config.direction)?,
            names,
        })
    }

    /// (status, reversal) of a status value, by the configured lists.
    fn status(&self, text: &str) -> Option<(EntryStatus, bool)> {
        let is = |list: &[String]| list.iter().any(|v| v.eq_ignore_ascii_case(text));
        let c = &self.config;
        if is(&c.booked_values) {
            Some((EntryStatus::Booked, false))
        } else if is(&c.reversed_values) {
            Some((EntryStatus::Booked, true))
        } else if is(&c.pending_values) {
            Some((EntryStatus::Pending, false))
        } else if is(&c.failed_values) {
            Some((EntryStatus::Info, false))
        } else {
            None
        }
    }

    fn row(&self, c: &Columns, line: usize) -> Result<Line, ReadError> {
        let r = &self.record;
        let get = |i: usize| r.get(i).map(str::trim).unwrap_or("");
        let opt = |i: Option<usize>| i.map(get).filter(|v| !v.is_empty()).map(str::to_string);
        let err = |m: String| ReadError::line(line, m);
        if r.len() != c.names.len() {
            return Err(err(format!(
                "{} fields, the header has {}",
                r.len(),
                c.names.len()
            )));
        }
        let currency = opt(c.currency)
            .or_else(|| self.config.default_currency.clone())
            .ok_or_else(|| err("no currency".into()))?;
        let money = |column: &str, text: &str| -> Result<i64, ReadError> {
            let minor = match self.config.amount_unit {
                AmountUnit::Major => iso20022::Amount::parse_code(text, &currency)
                    .map(|a| a.minor())
                    .map_err(|e| e.to_string()),
                AmountUnit::Minor => text
                    .parse::<i64>()
                    .ok()
                    .filter(|v| *v >= 0)
                    .ok_or_else(|| format!("{text:?} is not a whole number of minor units")),
            };
            minor.map_err(|m| err(format!("column {column:?}: {m}")))
        };
        let amount_minor = money(&self.config.amount, get(c.amount))?;
        let charges_minor = match opt(c.fee) {
            Some(fee) => Some(money(&self.config.fee, &fee)?),
            None => None,
        };
        let status_text = get(c.status);
        let (status, reversal) = self.status(status_text).ok_or_else(|| {
            err(format!(
                "status {status_text:?} is in none of the configured value lists"
            ))
        })?;
        let timestamp = get(c.timestamp);
        let date = date_of(timestamp).ok_or_else(|| {
            err(format!(
                "timestamp {timestamp:?} does not start with a date"
            ))
        })?;
        let credit = match c.direction {
            Some(i) => self
                .config
                .credit_values
                .iter()
                .any(|v| v.eq_ignore_ascii_case(get(i))),
            None => self.config.default_direction.eq_ignore_ascii_case("credit"),
        };
        let evidence: serde_json::Map<String, serde_json::Value> = c
            .names
            .iter()
            .zip(r.iter())
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.to_string())))
            .collect();
        Ok(Line {
            line: line as i64,
            booking_date: Some(date.clone()),
            value_date: Some(date),
            amount_minor,
            currency,
            credit,
            status: Some(status),
            reversal,
            msisdn: opt(Some(c.msisdn)),
            rrn: opt(c.rrn),
            stan: opt(c.stan),
            return_reason: reversal.then(|| status_text.to_string()),
            reference: opt(c.reference),
            charges_minor,
            evidence: serde_json::Value::Object(evidence).to_string(),
            ..Line::default()
        })
    }
}

/// `2026-12-05T10:00:00Z`, `2026-12-05 10:00:00`, `2026-12-05` or `20261205...` as `2026-12-05`.
fn date_of(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|s| s.iter().all(u8::is_ascii_digit));
    let (y, m, d) = if digits(0..4)
        && b.get(4) == Some(&b'-')
        && digits(5..7)
        && b.get(7) == Some(&b'-')
        && digits(8..10)
    {
        (&text[0..4], &text[5..7], &text[8..10])
    } else if digits(0..8) {
        (&text[0..4], &text[4..6], &text[6..8])
    } else {
        return None;
    };
    let (mm, dd): (u32, u32) = (m.parse().ok()?, d.parse().ok()?);
    ((1..=12).contains(&mm) && (1..=31).contains(&dd)).then(|| format!("{y}-{m}-{d}"))
}

impl<R: Read + Send> Reader for WalletCsvReader<R> {
    fn bytes_read(&self) -> u64 {
        self.records.position().byte()
    }

    fn format(&self) -> Option<super::Format> {
        Some(super::Format::WalletCsv)
    }

    fn next_item(&mut self) -> Result<Option<Item>, ReadError> {
        if let Some(line) = self.pending.take() {
            return Ok(Some(Item::Line(line)));
        }
        loop {
            let more = self.records.read_record(&mut self.record).map_err(|e| {
                let line = e.position().map_or(0, |p| p.line() as usize);
                ReadError::line(line, format!("CSV: {e}"))
            })?;
            if !more {
                if self.columns.is_none() {
                    return Err(ReadError::line(1, "empty file: no header row"));
                }
                return Ok(None);
            }
            let line = self.record.position().map_or(0, |p| p.line() as usize);
            if self.columns.is_none() {
                let header = self.record.clone();
                self.columns = Some(self.columns(&header)?);
                continue;
            }
            if self.record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let columns = self.columns.take().expect("set above");
            let row = self.row(&columns, line);
            self.columns = Some(columns);
            let row = row?;
            if !self.header_sent {
                self.header_sent = true;
                let header = Header {
                    account: self.config.operator.clone(),
                    statement_id: row.booking_date.clone().unwrap_or_default(),
                    sequence: None,
                };
                self.pending = Some(row);
                return Ok(Some(Item::Header(header)));
            }
            return Ok(Some(Item::Line(row)));
        }
    }
}
