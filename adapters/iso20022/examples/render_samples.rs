//! Renders a broad, deterministic sample of every message kind into a directory, one file per
//! message, named `<message definition>/<seed>.xml`, ready for `xmllint --schema`.
//!
//! Usage: `cargo run -p corridor-iso20022 --example render_samples -- OUTDIR [COUNT]`
//! (COUNT per kind, default 300).

use std::path::Path;
use std::process::ExitCode;

use iso20022::{pacs008, samples};

fn write(dir: &Path, kind: &str, seed: u64, xml: &str) -> std::io::Result<()> {
    let sub = dir.join(kind);
    std::fs::create_dir_all(&sub)?;
    std::fs::write(sub.join(format!("{seed:05}.xml")), xml)
}

fn run(dir: &Path, count: u64) -> std::io::Result<()> {
    for seed in 0..count {
        for doc in samples::all_documents(seed) {
            write(dir, doc.msg_def_idr(), seed, &doc.render())?;
        }
        let hdr = samples::app_hdr(seed, pacs008::MSG_DEF_IDR);
        write(dir, "head.001.001.02", seed, &hdr.render())?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: render_samples OUTDIR [COUNT]");
        return ExitCode::from(2);
    };
    let count = match args.next().map(|c| c.parse::<u64>()) {
        None => 300,
        Some(Ok(c)) => c,
        Some(Err(e)) => {
            eprintln!("COUNT: {e}");
            return ExitCode::from(2);
        }
    };
    match run(Path::new(&dir), count) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("render_samples: {e}");
            ExitCode::FAILURE
        }
    }
}
