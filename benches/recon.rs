//! A whole reconciliation run on SQLite: N dispatched, settled settlements (default
//! 1,000,000) with their payment messages, against a camt.053-shaped statement of N entries
//! with 1 % planted breaks (a quarter each: entry missing, amount off, unexpected entry,
//! booked twice). Prints the split (read, match, write), the breaks found and peak memory.
//!
//!     cargo bench --bench recon                 # 1,000,000
//!     RECON_BENCH_N=100000 cargo bench --bench recon
//!
//! The rows are written straight into the tables (as intake, dispatch and the statement import
//! leave them); what is measured is `recon::run::run` alone.

use corridor::config::Config;
use corridor::store::Store;
use std::time::Instant;

const CONFIG: &str = "[gateway]\nbic = \"CORRGB2LXXX\"\n";
const ROWS: usize = 400;

fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib / 1024)
}

/// `(?, ?, …), …`: anonymous parameters (SQLite looks `$N` names up one by one).
fn values(rows: usize, cols: usize) -> String {
    let row = format!("({})", vec!["?"; cols].join(", "));
    vec![row; rows].join(", ")
}

async fn fill(store: &Store, n: usize) -> [usize; 4] {
    let day_ms: i64 = 86_400_000;
    let now = corridor::store::now_ms() - 5 * day_ms;
    let date = time::OffsetDateTime::from_unix_timestamp(now / 1000)
        .unwrap()
        .date()
        .to_string();
    let mut tx = store.begin().await.unwrap();
    sqlx::query(
        "INSERT INTO statements (format, account, statement_id, sequence, currency, opening_minor, \
         closing_minor, entries, balance_ok, content_sha256, source, file_name, size_bytes, \
         created_at, created_at_ms) VALUES ('camt.053.001.08', 'DE89370400440532013000', 'BENCH', \
         '1', 'EUR', 0, 0, $1, TRUE, 'bench', 'cli', 'bench.xml', 0, $2, $3)",
    )
    .bind(n as i64)
    .bind(&date)
    .bind(now)
    .execute(&mut *tx)
    .await
    .unwrap();
    let mut planted = [0usize; 4];
    for start in (0..n).step_by(ROWS) {
        let end = (start + ROWS).min(n);
        let k = end - start;
        let sql = format!(
            "INSERT INTO settlements (id, ledger, event_id, content_hash, state, amount_minor, currency, \
             rail, counterparty, payload, created_at_ms, updated_at_ms, final_at_ms, written_back_at_ms) VALUES {}",
            values(k, 14)
        );
        let mut q = sqlx::query(&sql);
        for i in start..end {
            q = q
                .bind(format!("st-{i:032x}"))
                .bind("bench")
                .bind(format!("evt-{i}"))
                .bind("h")
                .bind("settled")
                .bind(1_000 + (i as i64 % 90_000))
                .bind("EUR")
                .bind("bank")
                .bind("bank-a")
                .bind("{}")
                .bind(now)
                .bind(now)
                .bind(now + 200)
                .bind(now + 300);
        }
        q.execute(&mut *tx).await.unwrap();
        let sql = format!(
            "INSERT INTO outbound_messages (settlement_id, rail, counterparty, kind, msg_id, biz_msg_idr, \
             instr_id, end_to_end_id, tx_id, uetr, body, send_count, first_sent_at_ms, last_sent_at_ms, \
             created_at_ms) VALUES {}",
            values(k, 15)
        );
        let mut q = sqlx::query(&sql);
        for i in start..end {
            q = q
                .bind(format!("st-{i:032x}"))
                .bind("bank")
                .bind("bank-a")
                .bind("pacs.008.001.08")
                .bind(format!("M{i}"))
                .bind(format!("B{i}"))
                .bind(format!("I{i}"))
                .bind(format!("st-{i:032x}"))
                .bind(format!("T{i}"))
                .bind(format!("{i:08x}-0000-4000-8000-000000000000"))
                .bind(b"<Document/>".to_vec())
                .bind(1i64)
                .bind(now)
                .bind(now)
                .bind(now);
        }
        q.execute(&mut *tx).await.unwrap();
        let sql = format!(
            "INSERT INTO statement_entries (statement, line, booking_date, value_date, amount_minor, \
             currency, direction, status, uetr, acct_svcr_ref, reversal, evidence) VALUES {}",
            values(k + k / 100 + 1, 12)
        );
        let mut q = sqlx::query(&sql);
        let mut rows = 0;
        for i in start..end {
            let amount = 1_000 + (i as i64 % 90_000);
            let uetr = format!("{i:08x}-0000-4000-8000-000000000000");
            // 1 % planted: i % 400 in 0..4 picks the kind.
            let (amount, uetr) = match i % 400 {
                0 => {
                    planted[0] += 1; // missing on statement: no entry; an unexpected one instead
                    planted[2] += 1;
                    (777, None)
                }
                1 => {
                    planted[1] += 1;
                    (amount - 99, Some(uetr))
                }
                2 => {
                    planted[3] += 1;
                    q = q
                        .bind(1i64)
                        .bind(i as i64)
                        .bind(&date)
                        .bind(&date)
                        .bind(amount)
                        .bind("EUR")
                        .bind("debit")
                        .bind("booked")
                        .bind(uetr.clone())
                        .bind(format!("D{i}"))
                        .bind(false)
                        .bind("<Ntry/>");
                    rows += 1;
                    (amount, Some(uetr))
                }
                _ => (amount, Some(uetr)),
            };
            q = q
                .bind(1i64)
                .bind(i as i64)
                .bind(&date)
                .bind(&date)
                .bind(amount)
                .bind("EUR")
                .bind("debit")
                .bind("booked")
                .bind(uetr)
                .bind(format!("A{i}"))
                .bind(false)
                .bind("<Ntry/>");
            rows += 1;
        }
        // Pad the statement to the placeholder count with one unexpected line.
        while rows < k + k / 100 + 1 {
            planted[2] += 1;
            q = q
                .bind(1i64)
                .bind(0i64)
                .bind(&date)
                .bind(&date)
                .bind(1i64 + rows as i64)
                .bind("EUR")
                .bind("debit")
                .bind("booked")
                .bind(None::<String>)
                .bind(format!("X{start}-{rows}"))
                .bind(false)
                .bind("<Ntry/>");
            rows += 1;
        }
        q.execute(&mut *tx).await.unwrap();
    }
    tx.commit().await.unwrap();
    planted
}

fn main() {
    let n: usize = std::env::var("RECON_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let store = Store::connect(&url, 1).await.unwrap();
        let config = Config::from_toml(CONFIG, Vec::<(String, String)>::new()).unwrap();
        let t = Instant::now();
        let planted = fill(&store, n).await;
        println!("filled {n} settlements and their statement in {:.1} s", t.elapsed().as_secs_f64());
        let rss_before = peak_rss_mib();
        let t = Instant::now();
        let report = corridor::recon::run::run(&store, &config, corridor::store::now_ms(), false, "bench").await.unwrap();
        let total = t.elapsed().as_secs_f64();
        println!(
            "recon run: {total:.1} s (read {:.1} s, match {:.1} s, write {:.1} s); {} settlements, {} entries, {} matches",
            report.read_ms as f64 / 1000.0,
            report.match_ms as f64 / 1000.0,
            report.write_ms as f64 / 1000.0,
            report.settlements,
            report.entries,
            report.matches
        );
        println!("breaks: {:?}", report.breaks_by_kind);
        println!(
            "planted: missing_on_statement {}, amount_mismatch {}, unexpected_entry {}, duplicate_entry {}",
            planted[0], planted[1], planted[2], planted[3]
        );
        println!("peak RSS: {} MiB (after filling: {rss_before} MiB)", peak_rss_mib());
        let found = |k: &str| report.breaks_by_kind.get(k).copied().unwrap_or(0);
        assert_eq!(found("amount_mismatch"), planted[1]);
        assert_eq!(found("duplicate_entry"), planted[3]);
        assert_eq!(found("unexpected_entry"), planted[2]);
        assert_eq!(found("missing_on_statement"), planted[0]);
        let again = corridor::recon::run::run(&store, &config, corridor::store::now_ms(), false, "bench").await.unwrap();
        println!("re-run: {} breaks opened, {} matches, in {:.1} s", again.breaks_opened, again.matches,
            (again.read_ms + again.match_ms + again.write_ms) as f64 / 1000.0);
    });
}
