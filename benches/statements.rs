//! Statement import throughput on the embedded default: a camt.053.001.08 of 1,000,000
//! entries (generated on the fly by the simulated bank's writer, not committed) imported into
//! SQLite (WAL, synchronous=FULL) in one transaction, streamed, the file kept beside the
//! database as the command keeps it. The time includes hashing and keeping the file and the
//! commit. Prints entries per second and the peak resident memory before and after.
//!
//!     cargo bench --bench statements
//!     STATEMENTS_BENCH_ENTRIES=200000 cargo bench --bench statements

use corridor::recon::statements::camt::CamtReader;
use corridor::recon::statements::{import, ImportOptions, Item, Reader, Source};
use corridor::store::Store;
use sim::statements::{synthetic_line, write_camt053_with, CamtVersion, StatementSpec};
use std::time::Instant;

/// Peak resident set size of this process so far, in MiB (Linux `VmHWM`).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    // `cargo test --benches` runs this with `--bench` absent: keep that run short.
    let benching = std::env::args().any(|a| a == "--bench");
    let entries: usize = std::env::var("STATEMENTS_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if benching { 1_000_000 } else { 2_000 });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("camt053.xml");
    let spec = StatementSpec {
        account: "DE89370400440532013000".into(),
        currency: "EUR".into(),
        statement_id: "BENCH-EOD".into(),
        sequence: 1,
        date: "2026-12-04".into(),
        opening_minor: 0,
        closing_off_minor: 0,
    };
    let started = Instant::now();
    let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
    write_camt053_with(&mut out, &spec, CamtVersion::V08, entries, |i| {
        let mut line = synthetic_line(i, "2026-12-04");
        line.credit = i % 3 == 0;
        line
    })
    .unwrap();
    drop(out);
    let size_mib = std::fs::metadata(&file).unwrap().len() as f64 / (1024.0 * 1024.0);
    println!(
        "generated {entries} entries ({size_mib:.0} MiB) in {:.1} s; peak RSS {:.0} MiB",
        started.elapsed().as_secs_f64(),
        peak_rss_mib().unwrap_or(0.0)
    );

    // The reading alone (parse, no store), to tell the import's two halves apart.
    let started = Instant::now();
    let input = std::io::BufReader::with_capacity(256 * 1024, std::fs::File::open(&file).unwrap());
    let mut reader = CamtReader::new(input, 1024 * 1024, false);
    let mut lines = 0usize;
    while let Some(item) = reader.next_item().unwrap() {
        lines += usize::from(matches!(item, Item::Line(_)));
    }
    assert_eq!(lines, entries);
    let secs = started.elapsed().as_secs_f64();
    println!(
        "read alone (no store) in {secs:.2} s: {:.0} entries/s",
        entries as f64 / secs
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = runtime.block_on(Store::connect(&url, 1)).unwrap();
    let started = Instant::now();
    // As `corridor statements import` does: the file is kept (copied into the raw directory)
    // and each entry's row says where its XML is in it.
    let options = ImportOptions {
        raw_dir: Some(dir.path().join("raw")),
        ..ImportOptions::new(Source::Cli)
    };
    let report = runtime.block_on(import(&store, &file, &options)).unwrap();
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(report.entries, entries as i64);
    assert_eq!(report.balance_ok, Some(true));
    println!(
        "imported {entries} entries into SQLite in {secs:.2} s: {:.0} entries/s, {:.0} MiB/s; peak RSS {:.0} MiB",
        entries as f64 / secs,
        size_mib / secs,
        peak_rss_mib().unwrap_or(0.0)
    );
}
