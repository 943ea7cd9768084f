//! `corridor recon run|status` and `corridor breaks list|show|assign|comment|resolve|reopen|
//! export`, working on the store directly like the other operator commands. The actor named
//! in the audit trail is `--actor`, else `$USER`.

use super::breaks::{self, Change, Filter, Sort};
use super::{evidence, BreakKind, BreakState, Resolution, Severity};
use crate::config::Config;
use crate::store::{now_ms, Store};
use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum ReconAction {
    /// Match the sources and raise what differs. A re-run changes nothing already decided.
    Run {
        /// Reconcile as at the end of this UTC day (YYYY-MM-DD); default: now.
        #[arg(long)]
        as_of: Option<String>,
        /// Show what the run would decide; write nothing.
        #[arg(long)]
        dry_run: bool,
        /// One JSON object on standard output.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// The last run, expectations pending and overdue, unresolved breaks per kind.
    Status {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug, Clone)]
pub struct ActorArg {
    /// Who is acting, for the audit trail (default: $USER).
    #[arg(long)]
    pub actor: Option<String>,
}

impl ActorArg {
    fn name(&self) -> anyhow::Result<String> {
        self.actor
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .filter(|a| !a.trim().is_empty())
            .context("say who you are: --actor NAME (or set $USER)")
    }
}

#[derive(Args, Debug, Clone, Default)]
pub struct FilterArgs {
    #[arg(long)]
    pub kind: Option<String>,
    #[arg(long)]
    pub severity: Option<String>,
    /// open, assigned or resolved (default: open and assigned).
    #[arg(long)]
    pub state: Option<String>,
    /// Every state, resolved included.
    #[arg(long)]
    pub all: bool,
    #[arg(long)]
    pub counterparty: Option<String>,
    #[arg(long)]
    pub currency: Option<String>,
    /// Only breaks at least this old.
    #[arg(long)]
    pub min_age_seconds: Option<i64>,
    /// Only breaks with at least this much at risk, in minor units.
    #[arg(long)]
    pub min_amount_minor: Option<i64>,
    /// severity (default), age, amount or opened.
    #[arg(long)]
    pub sort: Option<String>,
    #[arg(long, default_value_t = 100)]
    pub limit: i64,
}

impl FilterArgs {
    pub fn to_filter(&self) -> Result<Filter, String> {
        Ok(Filter {
            kind: self
                .kind
                .as_deref()
                .map(str::parse::<BreakKind>)
                .transpose()?,
            severity: self
                .severity
                .as_deref()
                .map(str::parse::<Severity>)
                .transpose()?,
            state: self
                .state
                .as_deref()
                .map(str::parse::<BreakState>)
                .transpose()?,
            all_states: self.all,
            counterparty: self.counterparty.clone(),
            currency: self.currency.clone(),
            settlement_id: None,
            min_age_seconds: self.min_age_seconds,
            min_amount_minor: self.min_amount_minor,
            sort: self.sort.as_deref().map(str::parse::<Sort>).transpose()?,
            limit: self.limit,
        })
    }
}

#[derive(Subcommand, Debug)]
pub enum BreaksAction {
    /// The queue, worst first (filters and sort as options).
    List {
        #[command(flatten)]
        filter: FilterArgs,
        #[arg(long)]
        json: bool,
    },
    /// One break with its evidence and audit trail.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Give a break to someone.
    Assign {
        id: i64,
        #[arg(long)]
        to: String,
        #[arg(long)]
        comment: Option<String>,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// Add a comment.
    Comment {
        id: i64,
        text: String,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// Resolve with a code: matched_manually, written_off, ledger_corrected, or (moving money,
    /// through the outbox) resent (the stored pacs.008 again, same identifiers) and
    /// refund_requested (a refund request posted to the ledger). The CLI runs with the
    /// store's own access, as an operator.
    Resolve {
        id: i64,
        #[arg(long)]
        code: String,
        #[arg(long)]
        comment: Option<String>,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// Open a resolved break again.
    Reopen {
        id: i64,
        #[arg(long)]
        comment: Option<String>,
        #[command(flatten)]
        actor: ActorArg,
    },
    /// The breaks as CSV (standard output, or --output FILE).
    Export {
        #[command(flatten)]
        filter: FilterArgs,
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

pub async fn recon_cmd(store: &Store, config: &Config, action: ReconAction) -> anyhow::Result<()> {
    match action {
        ReconAction::Run {
            as_of,
            dry_run,
            json,
            actor,
        } => {
            let as_of_ms = match as_of {
                Some(d) => super::run::as_of_from_date(&d)?,
                None => now_ms(),
            };
            let report = super::run::run(store, config, as_of_ms, dry_run, &actor.name()?).await?;
            if json {
                println!("{}", serde_json::to_string(&report)?);
                return Ok(());
            }
            print_report(&report, as_of_ms, dry_run);
        }
        ReconAction::Status { json } => {
            let mut conn = store.pool().acquire().await?;
            let status = super::run::status(&mut conn).await?;
            if json {
                println!("{}", serde_json::to_string(&status)?);
                return Ok(());
            }
            match &status.last_run {
                Some(r) => println!(
                    "last run {} by {} as of {}: {} matches, {} breaks opened",
                    r.id,
                    r.actor,
                    evidence::time_text(r.as_of_ms),
                    r.matches,
                    r.breaks_opened
                ),
                None => println!("no run yet"),
            }
            println!(
                "expectations: {} met, {} pending, {} overdue",
                status.expectations_met, status.expectations_pending, status.expectations_overdue
            );
            println!("unresolved breaks:");
            for (kind, n) in &status.breaks_unresolved_by_kind {
                println!("  {kind:<24} {n}");
            }
            println!("resolved breaks: {}", status.breaks_resolved);
        }
    }
    Ok(())
}

/// `recon run`'s printout (without `--json`).
fn print_report(report: &super::run::Report, as_of_ms: i64, dry_run: bool) {
    let verb = if dry_run { "would open" } else { "opened" };
    println!(
        "{}as of {}: {} settlements ({}), {} statement entries read; {} matches, {} expectations; {} breaks {verb}",
        if dry_run { "DRY RUN (nothing written) " } else { "" },
        evidence::time_text(as_of_ms),
        report.settlements,
        match report.scope {
            super::run::Scope::All => "every dispatched one",
            super::run::Scope::Open => "the open ones: nothing else can change",
        },
        report.entries,
        report.matches,
        report.expectations,
        report.breaks_opened,
    );
    for (kind, n) in &report.breaks_by_kind {
        println!("  {kind:<24} {n}");
    }
    if report.corrections > 0 {
        println!(
            "  {} settled settlements the statement shows returned: corrected to \
             returned, correction write-back queued",
            report.corrections
        );
    }
    println!(
        "  read {} ms, match {} ms, write {} ms",
        report.read_ms, report.match_ms, report.write_ms
    );
    if dry_run {
        for b in &report.breaks {
            println!("  {}  {}", b.natural_key, b.detail);
        }
    }
}

/// Long on purpose: one arm per `corridor breaks` subcommand, each a store call and its
/// printout; split, each arm would become a function called once.
pub async fn breaks_cmd(
    store: &Store,
    config: &Config,
    action: BreaksAction,
) -> anyhow::Result<()> {
    let changed = |b: breaks::Break| {
        println!(
            "break {}: {} (assignee {})",
            b.id,
            b.state,
            b.assignee.unwrap_or_else(|| "-".into())
        );
    };
    match action {
        BreaksAction::List { filter, json } => {
            let f = filter.to_filter().map_err(anyhow::Error::msg)?;
            let mut conn = store.pool().acquire().await?;
            let rows = breaks::list(&mut conn, &f).await?;
            if json {
                println!("{}", serde_json::to_string(&rows)?);
                return Ok(());
            }
            for b in rows {
                println!(
                    "{:>6}  {:<8}  {:<22}  {:<8}  {:>18}  {:>7}s  {:<12}  {}",
                    b.id,
                    b.severity,
                    b.kind,
                    b.state,
                    b.amount_at_risk,
                    b.age_seconds,
                    b.counterparty.unwrap_or_else(|| "-".into()),
                    b.settlement_id.unwrap_or_else(|| "-".into()),
                );
            }
        }
        BreaksAction::Show { id, json } => {
            let mut conn = store.pool().acquire().await?;
            let Some(ev) = evidence::gather(&mut conn, config, id).await? else {
                bail!("no break {id}");
            };
            if json {
                println!("{}", serde_json::to_string_pretty(&ev)?);
                return Ok(());
            }
            print_evidence(&ev);
        }
        BreaksAction::Assign {
            id,
            to,
            comment,
            actor,
        } => changed(
            breaks::apply(
                store,
                id,
                &actor.name()?,
                Change::Assign { assignee: to },
                comment.as_deref(),
            )
            .await?,
        ),
        BreaksAction::Comment { id, text, actor } => {
            changed(breaks::apply(store, id, &actor.name()?, Change::Comment, Some(&text)).await?)
        }
        BreaksAction::Resolve {
            id,
            code,
            comment,
            actor,
        } => {
            let resolution: Resolution = code.parse().map_err(anyhow::Error::msg)?;
            changed(
                breaks::apply_as(
                    store,
                    id,
                    &actor.name()?,
                    true,
                    Change::Resolve { resolution },
                    comment.as_deref(),
                )
                .await?,
            )
        }
        BreaksAction::Reopen { id, comment, actor } => changed(
            breaks::apply(
                store,
                id,
                &actor.name()?,
                Change::Reopen,
                comment.as_deref(),
            )
            .await?,
        ),
        BreaksAction::Export { filter, output } => {
            let f = filter.to_filter().map_err(anyhow::Error::msg)?;
            let mut conn = store.pool().acquire().await?;
            let csv = breaks::to_csv(&breaks::list(&mut conn, &f).await?);
            match output {
                Some(path) => std::fs::write(&path, csv)
                    .with_context(|| format!("writing {}", path.display()))?,
                None => print!("{csv}"),
            }
        }
    }
    Ok(())
}

fn print_evidence(ev: &evidence::Evidence) {
    let b = &ev.brk;
    println!(
        "break {}  {}  severity {}  state {}",
        b.id, b.kind, b.severity, b.state
    );
    println!("  {}", b.detail);
    println!(
        "  at risk {}   age {} s   counterparty {}   settlement {}",
        b.amount_at_risk,
        b.age_seconds,
        b.counterparty.as_deref().unwrap_or("-"),
        b.settlement_id.as_deref().unwrap_or("-")
    );
    if let Some(r) = &b.resolution {
        println!("  resolved: {r}");
    }
    if let Some(l) = &ev.ledger {
        println!(
            "\nledger event:\n{}",
            serde_json::to_string_pretty(l).unwrap_or_default()
        );
    }
    for t in &ev.transitions {
        println!(
            "  {} -> {}  [{}] {}",
            t.from.as_deref().unwrap_or("-"),
            t.to,
            t.cause,
            t.detail.as_deref().unwrap_or("")
        );
    }
    for (title, list) in [("message sent", &ev.messages), ("answer", &ev.answers)] {
        for m in list {
            println!("\n{title}: {}", m.title);
            for (k, v) in &m.fields {
                println!("  {k}: {v}");
            }
            println!("{}", m.text);
        }
    }
    if !ev.statement_lines.is_empty() {
        println!("\nstatement lines:");
        for l in &ev.statement_lines {
            println!(
                "  {} line {} ({}): {} {} {}  {}  {}",
                l.statement_ref,
                l.line,
                l.value_date.as_deref().unwrap_or("-"),
                l.direction,
                l.amount,
                l.keys,
                l.reference.as_deref().unwrap_or(""),
                l.matched_by
                    .as_deref()
                    .map(|m| format!("matched by {m}"))
                    .unwrap_or_default()
            );
        }
    }
    println!("\naudit trail:");
    for e in &ev.events {
        println!(
            "  {}  {:<9} {}  {}",
            evidence::time_text(e.at_ms),
            e.action,
            e.actor,
            e.comment.as_deref().unwrap_or("")
        );
    }
}
