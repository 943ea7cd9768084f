//! The drop folder: banks deliver statements as files; the gateway picks each one up once it
//! is complete, imports it, and moves it aside, so that it is never imported twice.
//!
//! A file is complete when its name does not end in `.part` or `.tmp`, does not start with a
//! dot, and it was last modified at least `statements.settle_ms` ago. After the import it goes
//! to `imported/`, `duplicate/` (this content or statement was imported before), or
//! `refused/` with `<name>.error.txt` beside it saying why. When the store cannot be reached
//! the file stays where it is and is tried again at the next look.

use super::command::options;
use super::import::{import, ImportError, Source};
use crate::config::Config;
use crate::store::Store;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;

/// What became of one dropped file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Picked {
    pub file_name: String,
    /// `imported`, `duplicate` or `refused`.
    pub outcome: &'static str,
    /// Where the file is now.
    pub moved_to: PathBuf,
    pub statement: Option<i64>,
}

/// Files ready to pick up, in name order (so that a bank's numbered files go in sequence).
async fn ready(dir: &Path, settle: Duration) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut entries = tokio::fs::read_dir(dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || name.ends_with(".part") || name.ends_with(".tmp") {
            continue;
        }
        let meta = entry.metadata().await?;
        if !meta.is_file() {
            continue;
        }
        let age = meta
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .unwrap_or_default();
        if age >= settle {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

/// Moves `file` into `dir/sub/`, under a free name (`name`, `name.1`, ...).
async fn move_aside(dir: &Path, sub: &str, file: &Path) -> std::io::Result<PathBuf> {
    let target_dir = dir.join(sub);
    tokio::fs::create_dir_all(&target_dir).await?;
    let name = file
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let mut target = target_dir.join(&name);
    let mut n = 1;
    while tokio::fs::try_exists(&target).await? {
        target = target_dir.join(format!("{name}.{n}"));
        n += 1;
    }
    tokio::fs::rename(file, &target).await?;
    Ok(target)
}

/// One look at the drop folder: imports every ready file and moves it aside. Returns what
/// became of each (tests step this instead of waiting for the poller).
pub async fn run_once(store: &Store, config: &Config) -> std::io::Result<Vec<Picked>> {
    let Some(dir) = config.statements.drop_dir.as_deref() else {
        return Ok(Vec::new());
    };
    tokio::fs::create_dir_all(dir).await?;
    let settle = Duration::from_millis(config.statements.settle_ms);
    let mut picked = Vec::new();
    for file in ready(dir, settle).await? {
        let file_name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let opts = options(config, Source::Drop, Some(file_name.clone()));
        let (outcome, statement, error) = match import(store, &file, &opts).await {
            Ok(r) if r.duplicate => ("duplicate", Some(r.statement), None),
            Ok(r) => ("imported", Some(r.statement), None),
            Err(e @ ImportError::Malformed { .. }) => ("refused", None, Some(e.to_string())),
            Err(e) => {
                // The store or the disk: leave the file for the next look.
                tracing::warn!(file = %file_name, error = %e, "statement import failed; will retry");
                continue;
            }
        };
        let moved_to = move_aside(dir, outcome, &file).await?;
        if let Some(error) = error {
            let note = moved_to.with_file_name(format!(
                "{}.error.txt",
                moved_to.file_name().unwrap_or_default().to_string_lossy()
            ));
            tokio::fs::write(&note, format!("{error}\n")).await?;
        }
        tracing::info!(file = %file_name, outcome, ?statement, "statement picked up from the drop folder");
        picked.push(Picked {
            file_name,
            outcome,
            moved_to,
            statement,
        });
    }
    Ok(picked)
}

/// Looks at the drop folder every `statements.poll_interval_ms` until `stop`.
pub async fn run(store: Store, config: std::sync::Arc<Config>, stop: CancellationToken) {
    let every = Duration::from_millis(config.statements.poll_interval_ms.max(100));
    loop {
        if let Err(e) = run_once(&store, &config).await {
            tracing::warn!(error = %e, "reading the statements drop folder failed");
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}
