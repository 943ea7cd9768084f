//! `corridor statements import|list|show`.

use super::import::{self, ImportError, ImportOptions, ImportReport, Source};
use crate::config::Config;
use crate::store::Store;
use clap::Subcommand;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Subcommand, Debug)]
pub enum StatementsAction {
    /// Import a statement file: camt.052/053/054 (.001.02 or .001.08), MT940, MT950, or the
    /// wallet operator's settlement CSV; the format is detected. The same file or statement
    /// twice changes nothing and says so (`duplicate`).
    Import {
        /// Print one JSON object (statement, format, account, statement_id, entries,
        /// duplicate, balance_ok, ...) instead of a summary.
        #[arg(long)]
        json: bool,
        file: PathBuf,
    },
    /// List imported statements, newest first.
    List {
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Only statements with an id below this one (the next page).
        #[arg(long)]
        before: Option<i64>,
    },
    /// Show one statement and a page of its entries.
    Show {
        id: i64,
        /// Entries after this position in the file.
        #[arg(long, default_value_t = 0)]
        after: i64,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
}

/// The options an import takes from config.
pub fn options(config: &Config, source: Source, file_name: Option<String>) -> ImportOptions {
    let s = &config.statements;
    ImportOptions {
        file_name,
        raw_dir: Some(s.raw_dir(&config.store)),
        wallet_csv: s.wallet_csv.clone(),
        entry_bytes_max: s.entry_bytes_max,
        ..ImportOptions::new(source)
    }
}

pub async fn run(config: &Config, store: &Store, action: StatementsAction) -> anyhow::Result<()> {
    match action {
        StatementsAction::Import { json, file } => import_file(config, store, &file, json).await,
        StatementsAction::List { limit, before } => {
            for s in import::list(store, before, limit).await? {
                println!(
                    "{:>6}  {:<16} {:<34} {:<24} seq {:<10} {:>8} entries  balance {}",
                    s.statement,
                    s.format,
                    s.account,
                    s.statement_id,
                    s.sequence.as_deref().unwrap_or("-"),
                    s.entries,
                    balance_word(s.balance_ok)
                );
            }
            Ok(())
        }
        StatementsAction::Show {
            id,
            after,
            limit,
            json,
        } => {
            let Some(s) = import::get(store, id).await? else {
                anyhow::bail!("no statement {id}");
            };
            let entries = import::entries(store, id, after, limit).await?;
            if json {
                let out = serde_json::json!({"statement": s, "entries": entries});
                println!("{}", serde_json::to_string_pretty(&out)?);
                return Ok(());
            }
            print_summary(&s);
            for e in entries {
                println!(
                    "  {:>7} {} {:>16} {} {:<6} {:<7} {}{} {}",
                    e.line,
                    e.value_date.as_deref().unwrap_or("----------"),
                    e.amount_minor,
                    e.currency,
                    e.direction,
                    e.status,
                    e.end_to_end_id
                        .as_deref()
                        .or(e.rrn.as_deref())
                        .or(e.acct_svcr_ref.as_deref())
                        .unwrap_or("-"),
                    e.return_reason
                        .as_deref()
                        .map(|r| format!(" return {r}"))
                        .unwrap_or_default(),
                    e.uetr.as_deref().unwrap_or("")
                );
            }
            Ok(())
        }
    }
}

fn balance_word(ok: Option<bool>) -> &'static str {
    match ok {
        Some(true) => "ok",
        Some(false) => "MISMATCH",
        None => "n/a",
    }
}

fn print_summary(s: &ImportReport) {
    println!(
        "statement {} ({}): account {}, id {}, sequence {}",
        s.statement,
        s.format,
        s.account,
        s.statement_id,
        s.sequence.as_deref().unwrap_or("-")
    );
    println!(
        "  {} entries; balance {}{}",
        s.entries,
        balance_word(s.balance_ok),
        s.balance_detail
            .as_deref()
            .map(|d| format!(" ({d})"))
            .unwrap_or_default()
    );
}

async fn import_file(
    config: &Config,
    store: &Store,
    file: &Path,
    json: bool,
) -> anyhow::Result<()> {
    let mut options = options(config, Source::Cli, Some(file.display().to_string()));
    if std::io::stderr().is_terminal() {
        options.progress = Some(Arc::new(|entries, bytes, size| {
            let pct = (bytes * 100).checked_div(size).unwrap_or(100);
            eprint!("\r  {entries} entries, {pct}% of the file read");
        }));
    }
    let result = import::import(store, file, &options).await;
    if options.progress.is_some() {
        eprintln!();
    }
    match result {
        Ok(report) if json => {
            println!("{}", serde_json::to_string(&report)?);
            Ok(())
        }
        Ok(report) => {
            if report.duplicate {
                println!(
                    "duplicate: this {} was imported before; nothing changed",
                    match report.duplicate_of.as_deref() {
                        Some("content") => "file",
                        _ => "statement",
                    }
                );
            }
            print_summary(&report);
            Ok(())
        }
        Err(ImportError::Malformed {
            file,
            format,
            error,
            refusal,
            raw_path,
        }) => {
            if json {
                let out = serde_json::json!({
                    "error": {"at": error.at, "message": error.message},
                    "format": format, "refusal": refusal, "raw_path": raw_path,
                    "file": file,
                });
                println!("{out}");
            }
            anyhow::bail!("{file}: {error}; nothing imported (kept as refusal {refusal})")
        }
        Err(e) => Err(e.into()),
    }
}
