//! The `corridor` command: serve, demo, ingest, operator tools and the simulators.

use crate::config::Config;
use crate::domain::{SettlementId, SettlementState};
use crate::store::{outbox, settlements, Store};
use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(
    name = "corridor",
    version,
    about = "Settlement gateway: ledger events to banks and back, exactly once."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct ConfigArg {
    /// Configuration file (TOML). `CORRIDOR__SECTION__FIELD` variables override it.
    #[arg(
        long,
        short,
        global = true,
        env = "CORRIDOR_CONFIG",
        default_value = "config/corridor.toml"
    )]
    pub config: PathBuf,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the gateway: HTTP API and dispatch workers.
    Serve(ConfigArg),
    /// Run the whole flow locally: simulated ledger and bank, SQLite, a restart, a summary.
    #[cfg_attr(
        not(feature = "sim"),
        command(
            about = "Not in this binary: it was built without the simulators (cargo feature `sim`)"
        )
    )]
    Demo(crate::demo::DemoArgs),
    /// Measure the whole flow under load: settlements/s, latencies, the gateway's RSS and CPU.
    #[cfg_attr(
        not(feature = "sim"),
        command(
            about = "Not in this binary: it was built without the simulators (cargo feature `sim`)"
        )
    )]
    Bench(crate::bench::BenchArgs),
    /// Read ledger events from a JSON Lines file (one event per line) into the store.
    Ingest {
        #[command(flatten)]
        config: ConfigArg,
        /// The ledger the events come from (must be configured).
        #[arg(long)]
        ledger: String,
        /// The .jsonl file.
        file: PathBuf,
    },
    /// Inspect and replay the outbox.
    Outbox {
        #[command(flatten)]
        config: ConfigArg,
        #[command(subcommand)]
        action: OutboxAction,
    },
    /// Inspect settlements.
    Settlements {
        #[command(flatten)]
        config: ConfigArg,
        #[command(subcommand)]
        action: SettlementsAction,
    },
    /// Ledgers: where each follower stands, and outcomes checked against the chain.
    Ledger {
        #[command(flatten)]
        config: ConfigArg,
        #[command(subcommand)]
        action: LedgerAction,
    },
    /// Check a configuration file and print it resolved (secrets masked).
    CheckConfig(ConfigArg),
    /// Reconciliation: run it (or see what it would decide), and where it stands.
    Recon {
        #[command(flatten)]
        config: ConfigArg,
        #[command(subcommand)]
        action: crate::recon::cli::ReconAction,
    },
    /// The breaks reconciliation found: list, show, assign, comment, resolve, reopen, export.
    Breaks {
        #[command(flatten)]
        config: ConfigArg,
        #[command(subcommand)]
        action: crate::recon::cli::BreaksAction,
    },
    /// Import bank and wallet statements (camt.05x, MT940/950, settlement CSV) and read them.
    Statements {
        #[command(flatten)]
        config: ConfigArg,
        #[command(subcommand)]
        action: crate::recon::statements::command::StatementsAction,
    },
    /// Simulated counterparties on real sockets.
    #[cfg(feature = "sim")]
    Sim {
        #[command(subcommand)]
        which: SimCommand,
    },
    /// Not in this binary: it was built without the simulators (cargo feature `sim`).
    #[cfg(not(feature = "sim"))]
    Sim {
        /// Whatever follows `sim` (read only to answer that the simulators are missing).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        args: Vec<String>,
    },
    /// Encode and decode ISO 8583 messages with a spec (no length header).
    Iso8583 {
        #[command(subcommand)]
        action: Iso8583Action,
    },
    /// Read and check ISO 20022 messages (envelope, AppHdr + Document, or a bare Document).
    Iso20022 {
        #[command(subcommand)]
        action: Iso20022Action,
    },
}

#[derive(Subcommand, Debug)]
pub enum Iso20022Action {
    /// Parse a message and print it as JSON, with its reconciliation keys.
    Parse {
        file: PathBuf,
        /// Refuse elements the typed model does not read (default: keep and list them).
        #[arg(long)]
        strict: bool,
    },
    /// Check a message: schema shape (strict parse) and CBPR+ usage rules. One line per
    /// finding; exit code 1 when there is any.
    Validate { file: PathBuf },
    /// Write a message as XML from its JSON: what `parse` prints, a business message
    /// (`app_hdr`, `document`), or the bare document. With an `app_hdr` the output is the
    /// envelope (AppHdr + Document), otherwise a bare Document. Every value is checked as
    /// parsing checks it; a bad one is reported with its JSON path, exit code 1.
    Render {
        #[arg(value_parser = MxKind::parse, help = MxKind::help())]
        kind: MxKind,
        /// The JSON file, or `-` for standard input.
        #[arg(long)]
        input: PathBuf,
        /// Insist on the envelope: refuse input without an `app_hdr` (rather than writing a
        /// bare Document).
        #[arg(long)]
        envelope: bool,
    },
}

/// A message kind `iso20022 render` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MxKind {
    /// The short name, `pacs.008`.
    pub short: &'static str,
    /// The message definition identifier, `pacs.008.001.08`.
    pub msg_def_idr: &'static str,
}

impl MxKind {
    /// Every kind the ISO 20022 crate types.
    pub const ALL: [MxKind; 12] = [
        MxKind::new("pacs.008", iso20022::pacs008::MSG_DEF_IDR),
        MxKind::new("pacs.009", iso20022::pacs009::MSG_DEF_IDR),
        MxKind::new("pacs.002", iso20022::pacs002::MSG_DEF_IDR),
        MxKind::new("pacs.004", iso20022::pacs004::MSG_DEF_IDR),
        MxKind::new("pacs.028", iso20022::pacs028::MSG_DEF_IDR),
        MxKind::new("camt.056", iso20022::camt056::MSG_DEF_IDR),
        MxKind::new("camt.029", iso20022::camt029::MSG_DEF_IDR),
        MxKind::new("camt.052", iso20022::statement::Camt052::MSG_DEF_IDR),
        MxKind::new("camt.053", iso20022::statement::Camt053::MSG_DEF_IDR),
        MxKind::new("camt.054", iso20022::statement::Camt054::MSG_DEF_IDR),
        MxKind::new("pain.001", iso20022::pain001::MSG_DEF_IDR),
        MxKind::new("pain.002", iso20022::pain002::MSG_DEF_IDR),
    ];

    const fn new(short: &'static str, msg_def_idr: &'static str) -> Self {
        MxKind { short, msg_def_idr }
    }

    /// `pacs.008`, `pacs.008.001.08` or `pacs008` (any case).
    pub fn parse(name: &str) -> Result<MxKind, String> {
        let squash = |s: &str| s.replace('.', "").to_ascii_lowercase();
        let wanted = squash(name);
        Self::ALL
            .into_iter()
            .find(|k| squash(k.short) == wanted || squash(k.msg_def_idr) == wanted)
            .ok_or_else(|| format!("unknown message kind {name:?}; accepted: {}", Self::names()))
    }

    fn names() -> String {
        let names: Vec<String> = Self::ALL
            .iter()
            .map(|k| format!("{} ({})", k.short, k.msg_def_idr))
            .collect();
        names.join(", ")
    }

    fn help() -> String {
        format!(
            "Message kind, e.g. pacs.008, pacs.008.001.08 or pacs008. Accepted: {}",
            Self::names()
        )
    }

    /// The input as a bare message of this kind (`{"grp_hdr": ...}`).
    fn bare(self, json: &str) -> Result<iso20022::Document, String> {
        use iso20022::{camt029, camt056, pacs002, pacs004, pacs008, pacs009, pacs028};
        use iso20022::{pain001, pain002, statement, Document};
        fn de<T: serde::de::DeserializeOwned + Into<Document>>(
            json: &str,
        ) -> Result<Document, String> {
            from_json::<T>(json).map(Into::into)
        }
        match self.msg_def_idr {
            pacs008::MSG_DEF_IDR => de::<pacs008::Pacs008>(json),
            pacs009::MSG_DEF_IDR => de::<pacs009::Pacs009>(json),
            pacs002::MSG_DEF_IDR => de::<pacs002::Pacs002>(json),
            pacs004::MSG_DEF_IDR => de::<pacs004::Pacs004>(json),
            pacs028::MSG_DEF_IDR => de::<pacs028::Pacs028>(json),
            camt056::MSG_DEF_IDR => de::<camt056::Camt056>(json),
            camt029::MSG_DEF_IDR => de::<camt029::Camt029>(json),
            statement::Camt052::MSG_DEF_IDR => de::<statement::Camt052>(json),
            statement::Camt053::MSG_DEF_IDR => de::<statement::Camt053>(json),
            statement::Camt054::MSG_DEF_IDR => de::<statement::Camt054>(json),
            pain001::MSG_DEF_IDR => de::<pain001::Pain001>(json),
            pain002::MSG_DEF_IDR => de::<pain002::Pain002>(json),
            other => Err(format!("internal: no reader for {other}")),
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum Iso8583Action {
    /// Decode a message to JSON (sensitive fields masked).
    Decode {
        /// Spec: an embedded name (mobile-money, iso87ascii, iso87binary, iso93ascii) or a path.
        #[arg(long, default_value = "mobile-money")]
        spec: String,
        /// The message in hex (spaces allowed).
        #[arg(conflicts_with = "file")]
        hex: Option<String>,
        /// A file holding the raw message bytes.
        #[arg(long)]
        file: Option<PathBuf>,
    },
    /// Encode a message from its JSON view, read from standard input; prints hex.
    Encode {
        #[arg(long, default_value = "mobile-money")]
        spec: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum OutboxAction {
    /// List rows (default: dead ones).
    List {
        #[arg(long, default_value = "dead")]
        status: String,
        #[arg(long, default_value_t = 100)]
        limit: i64,
    },
    /// Put a dead row back in the queue with a fresh attempt budget.
    Replay { id: i64 },
}

#[derive(Subcommand, Debug)]
pub enum SettlementsAction {
    /// Newest first, optionally in one state.
    List {
        #[arg(long)]
        state: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// One settlement with its transitions.
    Show { id: String },
}

#[derive(Subcommand, Debug)]
pub enum LedgerAction {
    /// Per ledger: kind; for an evm ledger its cursor (block, hash), the chain's head, the
    /// lag in blocks, outcome transactions pending and open conflicts.
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Read a settlement's outcome on chain and compare it with the store and with the
    /// SHA-256 of the journaled confirmation; exits non-zero on any mismatch.
    Verify {
        /// The settlement id (`st-…`).
        id: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[cfg(feature = "sim")]
#[derive(Subcommand, Debug)]
pub enum SimCommand {
    /// A correspondent bank: HTTPS with mutual TLS, pacs.008 in, pacs.002 out.
    Bank(Box<sim::cli::BankArgs>),
    /// A ledger: posts generated events, receives write-backs.
    Ledger(Box<sim::cli::LedgerArgs>),
    /// A mobile-money wallet switch: ISO 8583 over TCP or TLS, scriptable.
    Switch(Box<sim::switch::SwitchArgs>),
    /// Write a synthetic statement file (camt.053/054, MT940, wallet CSV).
    Statement(Box<sim::statements::StatementArgs>),
}

fn load(arg: &ConfigArg) -> anyhow::Result<Config> {
    Config::load(&arg.config, std::env::vars())
        .with_context(|| format!("loading {}", arg.config.display()))
}

async fn open(config: &Config) -> anyhow::Result<Store> {
    let url = config.database_url();
    Store::open(config)
        .await
        .with_context(|| format!("opening the store at {}", redact_url(&url)))
}

/// Hides a password in a database URL.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(arg) => serve(&arg).await,
        #[cfg(feature = "sim")]
        Command::Demo(args) => crate::demo::run(args).await,
        #[cfg(not(feature = "sim"))]
        Command::Demo(_) => Err(without_sim("demo")),
        #[cfg(feature = "sim")]
        Command::Bench(args) => crate::bench::run(args).await,
        #[cfg(not(feature = "sim"))]
        Command::Bench(_) => Err(without_sim("bench")),
        Command::Ingest {
            config,
            ledger,
            file,
        } => ingest(&config, &ledger, &file).await,
        Command::Outbox { config, action } => outbox_cmd(&config, action).await,
        Command::Settlements { config, action } => settlements_cmd(&config, action).await,
        Command::Ledger { config, action } => ledger_cmd(&config, action).await,
        Command::Recon { config, action } => {
            let config = load(&config)?;
            let store = open(&config).await?;
            crate::recon::cli::recon_cmd(&store, &config, action).await
        }
        Command::Breaks { config, action } => {
            let config = load(&config)?;
            let store = open(&config).await?;
            crate::recon::cli::breaks_cmd(&store, &config, action).await
        }
        Command::Statements { config, action } => {
            let config = load(&config)?;
            let store = open(&config).await?;
            crate::recon::statements::command::run(&config, &store, action).await
        }
        Command::CheckConfig(arg) => {
            let mut config = load(&arg)?;
            config.store.database_url = redact_url(&config.store.database_url);

            println!("{}", toml::to_string_pretty(&config)?);
            eprintln!(
                "config OK: {} ledgers, {} banks, {} routes",
                config.ledgers.len(),
                config.banks.len(),
                config.routes.len()
            );
            Ok(())
        }
        #[cfg(feature = "sim")]
        Command::Sim { which } => match which {
            SimCommand::Bank(args) => sim::cli::run_bank(*args).await,
            SimCommand::Ledger(args) => sim::cli::run_ledger(*args).await,
            SimCommand::Statement(args) => sim::statements::run_statement(*args),
            SimCommand::Switch(args) => sim::switch::run(*args).await,
        },
        #[cfg(not(feature = "sim"))]
        Command::Sim { .. } => Err(without_sim("sim")),
        Command::Iso8583 { action } => iso8583_cmd(action),
        Command::Iso20022 { action } => iso20022_cmd(action),
    }
}

/// The answer of `demo` and `sim` in a binary built with `--no-default-features`.
#[cfg(not(feature = "sim"))]
fn without_sim(command: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "this corridor binary was built without the simulators (cargo feature `sim`), so \
         `corridor {command}` is not available; build with the default features \
         (`cargo build --release`) to get it"
    )
}

async fn serve(arg: &ConfigArg) -> anyhow::Result<()> {
    let config = Arc::new(load(arg)?);
    crate::telemetry::init_logs(
        config.log.format,
        config.log.filter.as_deref().unwrap_or("info"),
    );
    crate::telemetry::prometheus();
    let store = open(&config).await?;
    tracing::info!(store = %redact_url(&config.database_url()), "store ready");
    let running = crate::gateway::start(config, store, true).await?;
    println!("corridor listening on http://{}", running.addr);
    shutdown_signal().await;
    tracing::info!("shutting down: finishing work in hand");
    running.shutdown().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler installs");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

/// Most bytes in one line of an ingest file.
const LINE_BYTES_MAX: usize = 1024 * 1024;

async fn ingest(arg: &ConfigArg, ledger: &str, file: &std::path::Path) -> anyhow::Result<()> {
    let config = load(arg)?;
    match config.ledger(ledger) {
        None => bail!(
            "ledger {ledger:?} is not configured in {}",
            arg.config.display()
        ),
        Some(l) if l.kind == crate::config::LedgerKind::Evm => bail!(
            "ledger {ledger:?} is an evm ledger: its events come from its chain, not from files"
        ),
        Some(_) => {}
    }
    let store = open(&config).await?;
    let text = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let (mut created, mut known, mut refused) = (0, 0, 0);
    for (n, line) in text.split(|b| *b == b'\n').enumerate() {
        let line_no = n + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if line.len() > LINE_BYTES_MAX {
            println!("line {line_no}: refused: longer than {LINE_BYTES_MAX} bytes");
            refused += 1;
            continue;
        }
        use crate::intake::Intake;
        match crate::intake::journal_and_accept(&store, &config, ledger, line).await {
            Ok((journal_id, _, results)) => {
                for r in results {
                    match r.outcome {
                        Intake::Created => created += 1,
                        Intake::Known => known += 1,
                        Intake::Conflict | Intake::Invalid => refused += 1,
                    }
                    let what = match (&r.error, r.state) {
                        (Some(e), _) => format!("{} {e}", r.outcome),
                        (None, Some(state)) => format!("{} {state}", r.outcome),
                        (None, None) => r.outcome.to_string(),
                    };
                    println!(
                        "line {line_no}: {} {} {what} (journal {journal_id})",
                        r.event_id.as_deref().unwrap_or("-"),
                        r.settlement_id.as_deref().unwrap_or("-"),
                    );
                }
            }
            Err(crate::intake::IntakeError::Store(e)) => return Err(e.into()),
            Err(e) => {
                refused += 1;
                println!("line {line_no}: refused: {e}");
            }
        }
    }
    println!("{created} created, {known} already known, {refused} refused; a running `corridor serve` on the same store delivers them");
    store.close().await;
    Ok(())
}

async fn outbox_cmd(arg: &ConfigArg, action: OutboxAction) -> anyhow::Result<()> {
    let config = load(arg)?;
    let store = open(&config).await?;
    let mut conn = store.pool().acquire().await?;
    match action {
        OutboxAction::List { status, limit } => {
            let status = match status.as_str() {
                "all" => None,
                other => Some(
                    other
                        .parse::<outbox::Status>()
                        .map_err(anyhow::Error::msg)?,
                ),
            };
            let rows = outbox::list(&mut conn, status, limit).await?;
            println!(
                "{:>8}  {:<9}  {:<35}  {:<7}  {:>8}  last error",
                "id", "kind", "settlement", "status", "attempts"
            );
            for r in rows {
                println!(
                    "{:>8}  {:<9}  {:<35}  {:<7}  {:>8}  {}",
                    r.id,
                    r.kind,
                    r.settlement_id,
                    r.status,
                    r.attempts,
                    r.last_error.unwrap_or_default()
                );
            }
        }
        OutboxAction::Replay { id } => {
            if outbox::replay(&mut conn, id).await? {
                println!("outbox row {id} is queued again; a running gateway picks it up");
            } else {
                bail!("outbox row {id} does not exist or is not dead/pending");
            }
        }
    }
    Ok(())
}

async fn settlements_cmd(arg: &ConfigArg, action: SettlementsAction) -> anyhow::Result<()> {
    let config = load(arg)?;
    let store = open(&config).await?;
    let mut conn = store.pool().acquire().await?;
    match action {
        SettlementsAction::List { state, limit } => {
            let state = state
                .map(|s| SettlementState::parse(&s).with_context(|| format!("unknown state {s:?}")))
                .transpose()?;
            for r in settlements::list(&mut conn, state, limit).await? {
                println!(
                    "{}  {:<10}  {:>14} {}  {}/{}  {}",
                    r.settlement.id,
                    r.state.as_str(),
                    r.settlement.amount.to_decimal_string(),
                    r.settlement.amount.currency(),
                    r.settlement.ledger,
                    r.settlement.event_id,
                    r.reason_code.unwrap_or_default()
                );
            }
        }
        SettlementsAction::Show { id } => {
            let sid = SettlementId::parse(&id)
                .with_context(|| format!("{id:?} is not a settlement id"))?;
            let record = settlements::get(&mut conn, &sid)
                .await?
                .with_context(|| format!("no settlement {id}"))?;
            println!("{}", serde_json::to_string_pretty(&record.settlement)?);
            println!(
                "state: {}  reason: {} {}",
                record.state,
                record.reason_code.unwrap_or_default(),
                record.reason.unwrap_or_default()
            );
            for t in settlements::transitions(&mut conn, &sid).await? {
                println!(
                    "  {} -> {}  [{}] {}",
                    t.from.unwrap_or_else(|| "-".into()),
                    t.to,
                    t.cause,
                    t.detail.unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

fn iso8583_cmd(action: Iso8583Action) -> anyhow::Result<()> {
    match action {
        Iso8583Action::Decode { spec, hex, file } => {
            let spec =
                iso8583::specs::load(&spec).with_context(|| format!("loading spec {spec}"))?;
            let bytes = match (hex, file) {
                (Some(text), None) => {
                    iso8583::cli::parse_hex(&text).context("the message is not hex")?
                }
                (None, Some(path)) => {
                    std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?
                }
                _ => bail!("give the message as HEX or --file FILE"),
            };
            let json = iso8583::cli::decode_to_json(&spec, &bytes)?;
            println!("{}", serde_json::to_string_pretty(&json)?);
        }
        Iso8583Action::Encode { spec } => {
            let spec =
                iso8583::specs::load(&spec).with_context(|| format!("loading spec {spec}"))?;
            let json: serde_json::Value = serde_json::from_reader(std::io::stdin().lock())
                .context("standard input is not JSON")?;
            let bytes = iso8583::cli::encode_from_json(&spec, &json)?;
            println!("{}", hex::encode_upper(bytes));
        }
    }
    Ok(())
}

/// Reads a message file for `iso20022 parse|validate`, refusing one larger than the parser's
/// limit before reading it (and, for a file that grows while read, after reading no more than
/// one byte past the limit), so a huge file costs no memory.
fn read_message_file(path: &std::path::Path) -> anyhow::Result<String> {
    use std::io::Read;
    let limit = iso20022::Limits::default().message_bytes_max;
    let file = std::fs::File::open(path).with_context(|| format!("reading {}", path.display()))?;
    let size = file
        .metadata()
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    let too_large = |size: String| {
        anyhow::anyhow!(
            "{}: {size} bytes is more than the {limit} bytes a message may have",
            path.display()
        )
    };
    if size > limit as u64 {
        return Err(too_large(size.to_string()));
    }
    let mut bytes = Vec::with_capacity(size as usize);
    file.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {}", path.display()))?;
    if bytes.len() > limit {
        return Err(too_large("more than that".into()));
    }
    String::from_utf8(bytes).with_context(|| format!("{} is not UTF-8", path.display()))
}

/// What `iso20022 parse` prints. Serialized straight from the types (not through a
/// `serde_json::Value`, which would sort the keys): fields come in schema order, and an amount's
/// `ccy` before its `amount`, so that `render` can check the amount where it stands.
#[derive(serde::Serialize)]
struct ParseOutput<'a> {
    /// The message definition identifier.
    message: &'a str,
    /// The reconciliation keys (derived from `parsed`).
    keys: iso20022::Keys<'a>,
    parsed: &'a iso20022::BusinessMessage,
}

/// `ParseOutput` read back by `render`: `message` and `keys` are derived from `parsed`, so they
/// may be left out; when present they must agree with it (an edited key would otherwise be
/// silently ignored).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ParseOutputIn {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    keys: Option<serde_json::Value>,
    parsed: iso20022::BusinessMessage,
}

/// Largest JSON input `render` reads, in bytes: the XML reader's default limit is 4 MiB, and a
/// message as pretty-printed JSON is up to about three times its XML.
const RENDER_JSON_BYTES_MAX: u64 = 16 * 1024 * 1024;

/// Reads JSON with the path of the offending field in the error:
/// `cdt_trf_tx_inf[0].intr_bk_sttlm_amt.amount: invalid amount "1.234" for EUR: ...`.
fn from_json<T: serde::de::DeserializeOwned>(json: &str) -> Result<T, String> {
    let de = &mut serde_json::Deserializer::from_str(json);
    let value: T = serde_path_to_error::deserialize(&mut *de)
        .map_err(|e| format!("{}: {}", e.path(), e.inner()))?;
    de.end().map_err(|e| e.to_string())?;
    Ok(value)
}

fn read_input(input: &std::path::Path) -> anyhow::Result<String> {
    use std::io::Read;
    let name = input.display();
    let reader: Box<dyn Read> = if input.as_os_str() == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(std::fs::File::open(input).with_context(|| format!("reading {name}"))?)
    };
    let mut bytes = Vec::new();
    reader
        .take(RENDER_JSON_BYTES_MAX + 1)
        .read_to_end(&mut bytes)
        .with_context(|| format!("reading {name}"))?;
    if bytes.len() as u64 > RENDER_JSON_BYTES_MAX {
        bail!("{name}: larger than {RENDER_JSON_BYTES_MAX} bytes");
    }
    String::from_utf8(bytes).with_context(|| format!("{name} is not UTF-8"))
}

/// The message in `json`, whichever of the accepted shapes it has (told apart by its
/// top-level keys).
fn message_from_json(kind: MxKind, json: &str) -> Result<iso20022::BusinessMessage, String> {
    use serde::de::IgnoredAny;
    let top: std::collections::BTreeMap<String, IgnoredAny> =
        serde_json::from_str(json).map_err(|e| format!("not a JSON object: {e}"))?;
    let has = |key: &str| top.contains_key(key);
    let variant = |name: &str| {
        let mut v = name.replace('.', "");
        v[..1].make_ascii_uppercase();
        v
    };
    let message = if has("parsed") {
        let out: ParseOutputIn = from_json(json)?;
        check_derived(&out)?;
        out.parsed
    } else if has("document") {
        from_json(json)?
    } else if top.len() == 1 && MxKind::ALL.iter().any(|k| has(&variant(k.short))) {
        iso20022::BusinessMessage {
            app_hdr: None,
            document: from_json(json)?,
            unread: Vec::new(),
        }
    } else {
        iso20022::BusinessMessage {
            app_hdr: None,
            document: kind.bare(json)?,
            unread: Vec::new(),
        }
    };
    let found = message.document.msg_def_idr();
    if found != kind.msg_def_idr {
        return Err(format!(
            "the input holds a {found} document, not {} as asked",
            kind.msg_def_idr
        ));
    }
    Ok(message)
}

/// `message` and `keys` of `parse` output say what `parsed` says.
fn check_derived(out: &ParseOutputIn) -> Result<(), String> {
    let msg_def_idr = out.parsed.document.msg_def_idr();
    if let Some(m) = out.message.as_deref().filter(|m| *m != msg_def_idr) {
        return Err(format!(
            "message: {m:?}, but parsed.document is {msg_def_idr}"
        ));
    }
    if let Some(keys) = &out.keys {
        let derived = serde_json::to_value(out.parsed.keys()).map_err(|e| e.to_string())?;
        if *keys != derived {
            return Err(
                "keys: differ from the keys of parsed (they are derived, not read: edit parsed, or leave keys out)"
                    .into(),
            );
        }
    }
    Ok(())
}

fn render(kind: MxKind, input: &std::path::Path, envelope: bool) -> anyhow::Result<()> {
    let json = read_input(input)?;
    let name = match input.to_str() {
        Some("-") => "standard input".to_owned(),
        _ => input.display().to_string(),
    };
    let mut message = message_from_json(kind, &json).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    if envelope && message.app_hdr.is_none() {
        bail!("{name}: app_hdr: missing, and --envelope asks for the envelope (AppHdr + Document)");
    }
    if let Some(first) = message.unread.first() {
        eprintln!(
            "warning: {name}: {} element(s) listed in unread are not rendered (first: {})",
            message.unread.len(),
            first.path
        );
        message.unread.clear();
    }
    let xml = message.render();
    // What is written must read back as the same message: a check on this program, not on
    // the input, which deserialization has already checked.
    let back = iso20022::BusinessMessage::parse_with(&xml, &iso20022::ParseOptions::strict())
        .context("internal: the rendered XML does not read back")?;
    if back != message {
        bail!("internal: the rendered XML reads back as a different message");
    }
    println!("{xml}");
    Ok(())
}

fn iso20022_cmd(action: Iso20022Action) -> anyhow::Result<()> {
    match action {
        Iso20022Action::Parse { file, strict } => {
            let text = read_message_file(&file)?;
            let options = iso20022::ParseOptions {
                strict,
                ..Default::default()
            };
            let message = iso20022::BusinessMessage::parse_with(&text, &options)
                .with_context(|| format!("{}", file.display()))?;
            let output = ParseOutput {
                message: message.document.msg_def_idr(),
                keys: message.keys(),
                parsed: &message,
            };
            println!("{}", serde_json::to_string_pretty(&output)?);
        }
        Iso20022Action::Render {
            kind,
            input,
            envelope,
        } => render(kind, &input, envelope)?,
        Iso20022Action::Validate { file } => {
            let text = read_message_file(&file)?;
            let message = match iso20022::BusinessMessage::parse_with(
                &text,
                &iso20022::ParseOptions::strict(),
            ) {
                Ok(message) => message,
                Err(e) => {
                    println!("{}: [SCHEMA] {e}", file.display());
                    std::process::exit(1);
                }
            };
            let findings = iso20022::cbpr::validate(&message);
            for finding in &findings {
                println!("{}: {finding}", file.display());
            }
            if !findings.is_empty() {
                std::process::exit(1);
            }
            println!(
                "{}: {} valid (schema shape and CBPR+ rules)",
                file.display(),
                message.document.msg_def_idr()
            );
        }
    }
    Ok(())
}

async fn ledger_cmd(arg: &ConfigArg, action: LedgerAction) -> anyhow::Result<()> {
    use crate::ledger::evm::status;
    let config = load(arg)?;
    let store = open(&config).await?;
    match action {
        LedgerAction::Status { json } => {
            let all = status::all(&store, &config).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&all)?);
                return Ok(());
            }
            for s in &all {
                print_ledger_status(s);
            }
        }
        LedgerAction::Verify { id, json } => {
            let verdict = status::verify(&store, &config, &id).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&verdict)?);
            } else {
                print_verdict(&verdict);
            }
            if !verdict.ok {
                bail!(
                    "settlement {id}: the chain and the gateway disagree ({} mismatch(es))",
                    verdict.mismatches.len()
                );
            }
        }
    }
    Ok(())
}

fn print_ledger_status(s: &crate::ledger::evm::status::LedgerStatus) {
    if s.kind != "evm" {
        println!("{}  kind {}", s.ledger, s.kind);
        return;
    }
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    println!(
        "{}  kind evm  chain {}  contract {}",
        s.ledger,
        or_dash(s.chain_id.map(|c| c.to_string())),
        or_dash(s.contract.clone())
    );
    println!(
        "  cursor block {} log {} hash {}",
        or_dash(s.cursor_block.map(|b| b.to_string())),
        or_dash(s.cursor_log_index.map(|i| i.to_string())),
        or_dash(s.cursor_hash.clone())
    );
    println!(
        "  head {}  lag {} blocks{}",
        or_dash(s.head_block.map(|b| b.to_string())),
        or_dash(s.lag_blocks.map(|b| b.to_string())),
        s.head_error
            .as_ref()
            .map(|e| format!("  (node unreachable: {e})"))
            .unwrap_or_default()
    );
    println!(
        "  outcome transactions pending {}  open conflicts {}",
        s.outcome_txs_pending,
        s.conflicts.len()
    );
    let r = &s.refusals;
    if *r != Default::default() {
        println!(
            "  refused instructions: {} failed outcome recorded, {} pending, {} gone, {} not recordable",
            r.recorded, r.pending, r.gone, r.failed
        );
    }
    for c in &s.conflicts {
        println!(
            "    conflict {} [{}] settlement {} event {}: {}",
            c.id,
            c.kind,
            c.settlement_id.as_deref().unwrap_or("-"),
            c.event_id.as_deref().unwrap_or("-"),
            c.detail
        );
    }
}

fn print_verdict(v: &crate::ledger::evm::status::Verdict) {
    println!(
        "settlement {}  ledger {}  chain id {}  state {}",
        v.settlement_id, v.ledger, v.request_id, v.state
    );
    println!(
        "  on chain: {} reason {:?} counterparty {:?} evidence {}",
        v.on_chain_status.as_deref().unwrap_or("(no outcome)"),
        v.on_chain_reason_code.as_deref().unwrap_or_default(),
        v.on_chain_counterparty_ref.as_deref().unwrap_or_default(),
        v.on_chain_evidence.as_deref().unwrap_or("-")
    );
    if let Some(corrected) = &v.on_chain_correction {
        println!(
            "  corrected on chain to: {corrected} evidence {}",
            v.on_chain_correction_evidence.as_deref().unwrap_or("-")
        );
    }
    println!(
        "  gateway:  {} evidence {} (SHA-256 of journal entry {})",
        v.store_status.as_deref().unwrap_or("(not final)"),
        v.journal_sha256,
        v.journal_id
            .map(|i| i.to_string())
            .unwrap_or_else(|| "none: no confirmation journaled".into())
    );
    if v.ok {
        println!("  verdict: MATCH");
    } else {
        for m in &v.mismatches {
            println!("  mismatch: {m}");
        }
        println!("  verdict: MISMATCH");
    }
}
