//! Statements as counterparties write them, from their own books: camt.053 end-of-day
//! statements (`.001.08` by default, `.001.02` on request), camt.054 notifications and MT940
//! from the simulated bank, the daily settlement CSV from the simulated wallet switch.
//!
//! A [`Script`] plants discrepancies for reconciliation to find: an entry missing, an amount
//! short by a charge, an unexpected entry, a duplicate entry, a return (camt `RtrInf` with a
//! reason, MT940 `/RTRN/`), and a closing balance that does not add up.
//!
//! Writers stream to any `io::Write`; [`write_camt053_with`] takes the entries from a function
//! of their index, so a statement of a million entries is written without holding them (the
//! benchmark's input).

use std::fmt::Write as _;
use std::io::{self, Write};

/// One movement on the account, as the counterparty's books have it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatementLine {
    /// Minor units, positive.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    pub credit: bool,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub uetr: Option<String>,
    pub end_to_end_id: Option<String>,
    pub instr_id: Option<String>,
    pub tx_id: Option<String>,
    pub msg_id: Option<String>,
    /// The bank's own reference for the entry.
    pub acct_svcr_ref: Option<String>,
    /// A return's reason code (`AC04`, ...): the entry books a payment coming back.
    pub return_reason: Option<String>,
    /// A charge taken on the way (booked inside the entry).
    pub charges_minor: Option<i64>,
    pub remittance: Option<String>,
    /// Wallet rows: the wallet, RRN and STAN.
    pub msisdn: Option<String>,
    pub rrn: Option<String>,
    pub stan: Option<String>,
}

/// A discrepancy to plant. Entries are named by their EndToEndId (bank) or RRN (wallet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plant {
    /// The entry is left off the statement.
    Missing(String),
    /// The entry's amount is short by this charge (minor units), booked as its charge.
    Charge(String, i64),
    /// An entry nobody asked for.
    Unexpected(Box<StatementLine>),
    /// The entry appears twice.
    Duplicate(String),
    /// The payment came back: a second entry in the other direction with this reason.
    Return(String, String),
    /// The closing balance is off by this much (minor units, signed).
    BalanceOff(i64),
}

/// What to plant in the next statement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    pub plants: Vec<Plant>,
}

fn key_of(line: &StatementLine) -> Option<&str> {
    line.end_to_end_id.as_deref().or(line.rrn.as_deref())
}

impl Script {
    /// The lines with the plants applied, and how far the closing balance is to be off.
    pub fn apply(&self, lines: Vec<StatementLine>) -> (Vec<StatementLine>, i64) {
        let mut out = Vec::with_capacity(lines.len());
        let mut off = 0;
        for line in lines {
            let key = key_of(&line).unwrap_or("").to_string();
            let mut kept = Some(line);
            for plant in &self.plants {
                match (plant, kept.as_mut()) {
                    (Plant::Missing(k), Some(_)) if *k == key => kept = None,
                    (Plant::Charge(k, charge), Some(l)) if *k == key => {
                        l.amount_minor -= charge;
                        l.charges_minor = Some(*charge);
                    }
                    _ => {}
                }
            }
            let Some(line) = kept else { continue };
            out.push(line.clone());
            for plant in &self.plants {
                match plant {
                    Plant::Duplicate(k) if *k == key => out.push(line.clone()),
                    Plant::Return(k, reason) if *k == key => out.push(StatementLine {
                        credit: !line.credit,
                        return_reason: Some(reason.clone()),
                        acct_svcr_ref: line.acct_svcr_ref.as_ref().map(|r| format!("{r}-R")),
                        ..line.clone()
                    }),
                    _ => {}
                }
            }
        }
        for plant in &self.plants {
            match plant {
                Plant::Unexpected(line) => out.push((**line).clone()),
                Plant::BalanceOff(minor) => off += minor,
                _ => {}
            }
        }
        (out, off)
    }
}

/// The statement's own facts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatementSpec {
    /// IBAN (camt `Acct/Id/IBAN`, MT940 `:25:`).
    pub account: String,
    pub currency: String,
    /// camt `Stmt/Id`, MT940 `:20:`.
    pub statement_id: String,
    /// camt `ElctrncSeqNb`, MT940 `:28C:`.
    pub sequence: u64,
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Signed minor units.
    pub opening_minor: i64,
    /// Added to the true closing balance (a planted balance that does not add up).
    pub closing_off_minor: i64,
}

/// `.001.02` or `.001.08`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CamtVersion {
    V02,
    V08,
}

impl CamtVersion {
    fn suffix(self) -> &'static str {
        match self {
            CamtVersion::V02 => "02",
            CamtVersion::V08 => "08",
        }
    }
}

fn exponent(currency: &str) -> u32 {
    iso20022::iso4217::lookup(currency).map_or(2, |c| u32::from(c.exponent()))
}

/// Minor units as decimal text (`12345` EUR as `123.45`), with `sep` as the decimal mark.
pub fn decimal(minor: i64, currency: &str, sep: char) -> String {
    let e = exponent(currency);
    let abs = minor.unsigned_abs();
    if e == 0 {
        return if sep == ',' {
            format!("{abs},")
        } else {
            abs.to_string()
        };
    }
    let scale = 10u64.pow(e);
    format!(
        "{}{sep}{:0width$}",
        abs / scale,
        abs % scale,
        width = e as usize
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn net(line: &StatementLine) -> i64 {
    if line.credit {
        line.amount_minor
    } else {
        -line.amount_minor
    }
}

fn camt_balance(out: &mut String, code: &str, minor: i64, spec: &StatementSpec) {
    let _ = write!(
        out,
        "<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy=\"{ccy}\">{amt}</Amt>\
         <CdtDbtInd>{ind}</CdtDbtInd><Dt><Dt>{date}</Dt></Dt></Bal>",
        ccy = spec.currency,
        amt = decimal(minor, &spec.currency, '.'),
        ind = if minor < 0 { "DBIT" } else { "CRDT" },
        date = spec.date,
    );
}

fn camt_entry(out: &mut String, line: &StatementLine, version: CamtVersion) {
    let ccy = &line.currency;
    let amt = decimal(line.amount_minor, ccy, '.');
    let ind = if line.credit { "CRDT" } else { "DBIT" };
    let sts = match version {
        CamtVersion::V02 => "<Sts>BOOK</Sts>".to_string(),
        CamtVersion::V08 => "<Sts><Cd>BOOK</Cd></Sts>".to_string(),
    };
    let _ = write!(
        out,
        "<Ntry><Amt Ccy=\"{ccy}\">{amt}</Amt><CdtDbtInd>{ind}</CdtDbtInd>{sts}\
         <BookgDt><Dt>{d}</Dt></BookgDt><ValDt><Dt>{d}</Dt></ValDt>",
        d = line.date
    );
    if let Some(r) = &line.acct_svcr_ref {
        let _ = write!(out, "<AcctSvcrRef>{}</AcctSvcrRef>", escape(r));
    }
    let family = if line.return_reason.is_some() {
        "RRTN"
    } else {
        "XBCT"
    };
    let domain = if line.credit { "RCDT" } else { "ICDT" };
    let _ = write!(
        out,
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>{domain}</Cd><SubFmlyCd>{family}</SubFmlyCd>\
         </Fmly></Domn></BkTxCd>"
    );
    if let Some(c) = line.charges_minor {
        let c = decimal(c, ccy, '.');
        match version {
            CamtVersion::V02 => {
                let _ = write!(out, "<Chrgs><Amt Ccy=\"{ccy}\">{c}</Amt></Chrgs>");
            }
            CamtVersion::V08 => {
                let _ = write!(
                    out,
                    "<Chrgs><TtlChrgsAndTaxAmt Ccy=\"{ccy}\">{c}</TtlChrgsAndTaxAmt><Rcrd>\
                     <Amt Ccy=\"{ccy}\">{c}</Amt><CdtDbtInd>DBIT</CdtDbtInd></Rcrd></Chrgs>"
                );
            }
        }
    }
    out.push_str("<NtryDtls><TxDtls><Refs>");
    let refs = [
        ("MsgId", &line.msg_id),
        ("InstrId", &line.instr_id),
        ("EndToEndId", &line.end_to_end_id),
    ];
    for (name, value) in refs {
        if let Some(v) = value {
            let _ = write!(out, "<{name}>{}</{name}>", escape(v));
        }
    }
    if version == CamtVersion::V08 {
        if let Some(u) = &line.uetr {
            let _ = write!(out, "<UETR>{u}</UETR>");
        }
    }
    if let Some(v) = &line.tx_id {
        let _ = write!(out, "<TxId>{}</TxId>", escape(v));
    }
    out.push_str("</Refs>");
    if let Some(r) = &line.remittance {
        let _ = write!(out, "<RmtInf><Ustrd>{}</Ustrd></RmtInf>", escape(r));
    }
    if let Some(reason) = &line.return_reason {
        let _ = write!(out, "<RtrInf><Rsn><Cd>{reason}</Cd></Rsn></RtrInf>");
    }
    out.push_str("</TxDtls></NtryDtls></Ntry>");
}

fn camt_head(
    out: &mut String,
    kind: &str,
    version: CamtVersion,
    spec: &StatementSpec,
    root: &str,
    report: &str,
) {
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:{kind}.001.{v}\">\
         <{root}><GrpHdr><MsgId>{id}-MSG</MsgId><CreDtTm>{date}T23:00:00</CreDtTm></GrpHdr>\
         <{report}><Id>{id}</Id><ElctrncSeqNb>{seq}</ElctrncSeqNb><CreDtTm>{date}T23:00:00</CreDtTm>\
         <Acct><Id><IBAN>{acct}</IBAN></Id><Ccy>{ccy}</Ccy></Acct>",
        v = version.suffix(),
        id = escape(&spec.statement_id),
        date = spec.date,
        seq = spec.sequence,
        acct = spec.account,
        ccy = spec.currency,
    );
}

/// A camt.053 end-of-day statement of `count` entries, each given by `line(i)` (called twice
/// per entry: once for the closing balance, once to write it).
pub fn write_camt053_with(
    out: &mut impl Write,
    spec: &StatementSpec,
    version: CamtVersion,
    count: usize,
    line: impl Fn(usize) -> StatementLine,
) -> io::Result<()> {
    let mut closing = spec.opening_minor;
    for i in 0..count {
        let l = line(i);
        if l.currency == spec.currency {
            closing += net(&l);
        }
    }
    let mut buf = String::with_capacity(64 * 1024);
    camt_head(&mut buf, "camt.053", version, spec, "BkToCstmrStmt", "Stmt");
    camt_balance(&mut buf, "OPBD", spec.opening_minor, spec);
    camt_balance(&mut buf, "CLBD", closing + spec.closing_off_minor, spec);
    for i in 0..count {
        camt_entry(&mut buf, &line(i), version);
        if buf.len() > 48 * 1024 {
            out.write_all(buf.as_bytes())?;
            buf.clear();
        }
    }
    buf.push_str("</Stmt></BkToCstmrStmt></Document>\n");
    out.write_all(buf.as_bytes())
}

/// A camt.053 end-of-day statement of `lines`.
pub fn camt053(spec: &StatementSpec, version: CamtVersion, lines: &[StatementLine]) -> String {
    let mut out = Vec::new();
    let _ = write_camt053_with(&mut out, spec, version, lines.len(), |i| lines[i].clone());
    String::from_utf8(out).unwrap_or_default()
}

/// A camt.054 debit/credit notification of `lines` (no balances).
pub fn camt054(spec: &StatementSpec, version: CamtVersion, lines: &[StatementLine]) -> String {
    let mut out = String::new();
    camt_head(
        &mut out,
        "camt.054",
        version,
        spec,
        "BkToCstmrDbtCdtNtfctn",
        "Ntfctn",
    );
    for l in lines {
        camt_entry(&mut out, l, version);
    }
    out.push_str("</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>\n");
    out
}

fn yymmdd(date: &str) -> String {
    date.get(2..).unwrap_or("").replace('-', "")
}

/// An MT940 of `lines`, in the `{1:}{2:}{4:` wrapper.
pub fn mt940(spec: &StatementSpec, sender_bic: &str, lines: &[StatementLine]) -> String {
    let ccy = &spec.currency;
    let mark = |minor: i64| if minor < 0 { 'D' } else { 'C' };
    let mut out = format!(
        "{{1:F01{bic:X<12}0000000000}}{{2:O940{bic:X<12}N}}{{4:\r\n:20:{id}\r\n:25:{acct}\r\n\
         :28C:{seq}/1\r\n:60F:{m}{d}{ccy}{amt}\r\n",
        bic = sender_bic,
        id = spec.statement_id,
        acct = spec.account,
        seq = spec.sequence,
        m = mark(spec.opening_minor),
        d = yymmdd(&spec.date),
        amt = decimal(spec.opening_minor, ccy, ','),
    );
    let mut closing = spec.opening_minor;
    for l in lines {
        closing += net(l);
        let owner = l.instr_id.as_deref().unwrap_or("NONREF");
        let _ = write!(
            out,
            ":61:{d}{m}{amt}NTRF{owner}",
            d = yymmdd(&l.date),
            m = if l.credit { 'C' } else { 'D' },
            amt = decimal(l.amount_minor, ccy, ','),
        );
        if let Some(r) = &l.acct_svcr_ref {
            let _ = write!(out, "//{r}");
        }
        out.push_str("\r\n:86:");
        if let Some(reason) = &l.return_reason {
            let _ = write!(out, "/RTRN/{reason}");
        }
        if let Some(e) = &l.end_to_end_id {
            let _ = write!(out, "/EREF/{e}");
        }
        if let Some(u) = &l.uetr {
            let _ = write!(out, "/UETR/{u}");
        }
        out.push_str("/\r\n");
    }
    let closing = closing + spec.closing_off_minor;
    let _ = write!(
        out,
        ":62F:{m}{d}{ccy}{amt}\r\n-}}\r\n",
        m = mark(closing),
        d = yymmdd(&spec.date),
        amt = decimal(closing, ccy, ','),
    );
    out
}

/// The wallet switch's daily settlement report, in the column names Corridor's
/// `[statements.wallet_csv]` defaults to: `msisdn,amount,currency,rrn,stan,timestamp,status,fee`.
pub fn wallet_csv(lines: &[StatementLine]) -> String {
    let mut out = String::from("msisdn,amount,currency,rrn,stan,timestamp,status,fee\n");
    for l in lines {
        let status = if l.return_reason.is_some() {
            "REVERSED"
        } else {
            "SUCCESS"
        };
        let _ = writeln!(
            out,
            "{},{},{},{},{},{}T12:00:00Z,{},{}",
            l.msisdn.as_deref().unwrap_or(""),
            decimal(l.amount_minor, &l.currency, '.'),
            l.currency,
            l.rrn.as_deref().unwrap_or(""),
            l.stan.as_deref().unwrap_or(""),
            l.date,
            status,
            l.charges_minor
                .map(|c| decimal(c, &l.currency, '.'))
                .unwrap_or_default(),
        );
    }
    out
}

/// `corridor sim statement`: writes a synthetic statement file (for demos and load tests):
/// `count` debits with gateway-style references, a balance that adds up unless told otherwise.
#[derive(Debug, Clone, clap::Args)]
pub struct StatementArgs {
    /// `camt053`, `camt054`, `mt940` or `wallet-csv`.
    #[arg(long, default_value = "camt053")]
    pub format: String,
    /// camt version: `08` or `02`.
    #[arg(long, default_value = "08")]
    pub version: String,
    /// Entries to write.
    #[arg(long, default_value_t = 10)]
    pub entries: usize,
    /// The statement's day (`YYYY-MM-DD`).
    #[arg(long, default_value = "2026-12-04")]
    pub date: String,
    /// Make the closing balance off by this many minor units.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub balance_off_minor: i64,
    /// Where to write (standard output when absent).
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
}

/// The `i`-th synthetic line: a debit with gateway-style references.
pub fn synthetic_line(i: usize, date: &str) -> StatementLine {
    StatementLine {
        amount_minor: 100 + (i as i64 * 7919) % 1_000_000,
        currency: "EUR".into(),
        credit: false,
        date: date.to_string(),
        uetr: Some(format!("{:08x}-0000-4000-8000-{:012x}", i as u32, i)),
        end_to_end_id: Some(format!("st-{i:032x}")),
        instr_id: Some(format!("I{i:011}")),
        tx_id: Some(format!("T{i:011}")),
        msg_id: Some(format!("M{i:011}")),
        acct_svcr_ref: Some(format!("SIMREF-{i:08}")),
        remittance: Some(format!("Invoice {i}")),
        msisdn: Some(format!("2547{:08}", i % 100_000_000)),
        rrn: Some(format!("{:012}", i)),
        stan: Some(format!("{:06}", i % 1_000_000)),
        ..Default::default()
    }
}

/// Runs `corridor sim statement`.
pub fn run_statement(args: StatementArgs) -> anyhow::Result<()> {
    let version = match args.version.as_str() {
        "02" => CamtVersion::V02,
        "08" => CamtVersion::V08,
        other => anyhow::bail!("camt version {other:?}: 02 or 08"),
    };
    let spec = StatementSpec {
        account: "GB33BUKB20201555555555".into(),
        currency: "EUR".into(),
        statement_id: format!("SIM-{}", args.date),
        sequence: 1,
        date: args.date.clone(),
        opening_minor: 0,
        closing_off_minor: args.balance_off_minor,
    };
    let mut out: Box<dyn Write> = match &args.out {
        Some(path) => Box::new(io::BufWriter::new(std::fs::File::create(path)?)),
        None => Box::new(io::BufWriter::new(io::stdout().lock())),
    };
    let line = |i| synthetic_line(i, &args.date);
    match args.format.as_str() {
        "camt053" => write_camt053_with(&mut out, &spec, version, args.entries, line)?,
        "camt054" | "mt940" | "wallet-csv" => {
            let lines: Vec<_> = (0..args.entries).map(line).collect();
            let text = match args.format.as_str() {
                "camt054" => camt054(&spec, version, &lines),
                "mt940" => mt940(&spec, "SIMBGB2LXXX", &lines),
                _ => wallet_csv(&lines),
            };
            out.write_all(text.as_bytes())?;
        }
        other => anyhow::bail!("format {other:?}: camt053, camt054, mt940 or wallet-csv"),
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(e2e: &str, minor: i64) -> StatementLine {
        StatementLine {
            amount_minor: minor,
            currency: "EUR".into(),
            credit: false,
            date: "2026-12-04".into(),
            end_to_end_id: Some(e2e.into()),
            ..Default::default()
        }
    }

    #[test]
    fn every_plant_changes_what_it_names_only() {
        let lines = vec![
            line("a", 100),
            line("b", 200),
            line("c", 300),
            line("d", 400),
        ];
        let extra = line("x", 5);
        let script = Script {
            plants: vec![
                Plant::Missing("a".into()),
                Plant::Charge("b".into(), 15),
                Plant::Duplicate("c".into()),
                Plant::Return("d".into(), "AC04".into()),
                Plant::Unexpected(Box::new(extra.clone())),
                Plant::BalanceOff(-7),
            ],
        };
        let (out, off) = script.apply(lines);
        let keys: Vec<_> = out
            .iter()
            .map(|l| l.end_to_end_id.clone().unwrap())
            .collect();
        assert_eq!(keys, ["b", "c", "c", "d", "d", "x"]);
        assert_eq!((out[0].amount_minor, out[0].charges_minor), (185, Some(15)));
        assert_eq!(
            (out[4].credit, out[4].return_reason.as_deref()),
            (true, Some("AC04"))
        );
        assert_eq!(off, -7);
    }

    #[test]
    fn decimals_follow_the_currency() {
        assert_eq!(decimal(12345, "EUR", '.'), "123.45");
        assert_eq!(decimal(-5, "EUR", ','), "0,05");
        assert_eq!(decimal(500, "JPY", ','), "500,");
        assert_eq!(decimal(1, "KWD", '.'), "0.001");
    }
}
