//! Statement import: every format read from hand-written files (and the samples in ../shared
//! that apply), malformed files refused with their line or element and nothing imported,
//! duplicates by content and by statement, the balance check, the upload endpoint's roles and
//! size limit, and the drop folder. Each store test runs on SQLite and on PostgreSQL.

mod common;

use common::{on_each_store, TestDb};
use corridor::config::Config;
use corridor::recon::statements::import::{self, StoredEntry};
use corridor::recon::statements::{ImportError, ImportOptions, ImportReport, Source};
use corridor::store::Store;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/statements")
        .join(name)
}

fn cli_options() -> ImportOptions {
    ImportOptions::new(Source::Cli)
}

async fn import_fixture(store: &Store, name: &str) -> Result<ImportReport, ImportError> {
    import::import(store, &fixture(name), &cli_options()).await
}

async fn all_entries(store: &Store, statement: i64) -> Vec<StoredEntry> {
    import::entries(store, statement, 0, 10_000).await.unwrap()
}

/// (statements, entries, refusals) in the store.
async fn counts(store: &Store) -> (i64, i64, i64) {
    let mut out = [0i64; 3];
    for (i, table) in ["statements", "statement_entries", "statement_refusals"]
        .iter()
        .enumerate()
    {
        out[i] = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(store.pool())
            .await
            .unwrap();
    }
    (out[0], out[1], out[2])
}

#[tokio::test]
async fn camt053_both_versions_read_the_same_entries() {
    on_each_store("camt053_both_versions", |db| async move {
        let v08 = import_fixture(&db.store, "camt053_v08.xml").await.unwrap();
        assert_eq!(v08.format, "camt.053.001.08");
        assert_eq!(v08.account, "DE89370400440532013000");
        assert_eq!(v08.statement_id, "EOD-20261204");
        assert_eq!(v08.sequence.as_deref(), Some("341"));
        assert_eq!(v08.entries, 4);
        assert!(!v08.duplicate);
        assert_eq!(v08.balance_ok, Some(true), "{:?}", v08.balance_detail);
        assert_eq!(
            (v08.opening_minor, v08.closing_minor),
            (Some(1_000_000), Some(995_050))
        );
        assert_eq!(v08.currency.as_deref(), Some("EUR"));

        let e = all_entries(&db.store, v08.statement).await;
        assert_eq!(e.len(), 4);
        assert_eq!(
            (e[0].amount_minor, e[0].direction.as_str()),
            (25_000, "credit")
        );
        assert_eq!(
            e[0].uetr.as_deref(),
            Some("8a562c67-ca16-48ba-b074-65581be6f001")
        );
        assert_eq!(e[0].end_to_end_id.as_deref(), Some("E2E-IN-1"));
        assert_eq!(e[0].acct_svcr_ref.as_deref(), Some("BANKREF-0001"));
        assert_eq!(e[0].reference.as_deref(), Some("Invoice 42 & 43"));
        assert_eq!(e[0].booking_date.as_deref(), Some("2026-12-04"));
        assert!(e[0].evidence.starts_with("<Ntry>") && e[0].evidence.contains("BANKREF-0001"));
        assert_eq!(
            (e[1].amount_minor, e[1].direction.as_str()),
            (39_950, "debit")
        );
        assert_eq!(e[1].charges_minor, Some(250));
        assert_eq!(e[1].instr_id.as_deref(), Some("INSTR-7"));
        assert_eq!(e[1].tx_id.as_deref(), Some("TX-7"));
        assert_eq!(e[2].status, "pending");
        assert_eq!(
            e[2].reference.as_deref(),
            Some("pending, not in the balance")
        );
        assert_eq!(e[3].return_reason.as_deref(), Some("AC04"));
        assert_eq!(
            e[3].end_to_end_id.as_deref(),
            Some("st-fedcba9876543210fedcba9876543210")
        );

        let v02 = import_fixture(&db.store, "camt053_v02.xml").await.unwrap();
        assert_eq!(v02.format, "camt.053.001.02");
        assert_eq!(v02.balance_ok, Some(true), "{:?}", v02.balance_detail);
        let old = all_entries(&db.store, v02.statement).await;
        assert_eq!(old.len(), e.len());
        for (a, b) in e.iter().zip(&old) {
            assert_eq!(
                (
                    a.line,
                    a.amount_minor,
                    &a.direction,
                    &a.status,
                    &a.end_to_end_id,
                    &a.return_reason,
                    a.charges_minor
                ),
                (
                    b.line,
                    b.amount_minor,
                    &b.direction,
                    &b.status,
                    &b.end_to_end_id,
                    &b.return_reason,
                    b.charges_minor
                ),
                "{}: entry {} reads alike in both versions",
                db.label,
                a.line
            );
        }
        assert!(old.iter().all(|x| x.uetr.is_none()), ".001.02 has no UETR");
        db
    })
    .await;
}

#[tokio::test]
async fn camt054_notification_without_balances_and_with_a_batch() {
    on_each_store("camt054_notification", |db| async move {
        let r = import_fixture(&db.store, "camt054_v02.xml").await.unwrap();
        assert_eq!(r.format, "camt.054.001.02");
        assert_eq!(r.account, "0532013000");
        assert_eq!(r.balance_ok, None, "a notification states no balances");
        let e = all_entries(&db.store, r.statement).await;
        assert_eq!(
            (e.len(), e[0].amount_minor, e[0].currency.as_str()),
            (1, 125_000, "JPY")
        );
        let batch: serde_json::Value =
            serde_json::from_str(e[0].batch_refs.as_deref().unwrap()).unwrap();
        assert_eq!(batch[0]["end_to_end_id"], "E2E-A");
        assert_eq!(batch[1]["amount_minor"], 25_000);
        db
    })
    .await;
}

/// A kept file holds each entry's XML: the row says where (`evidence_at`, `evidence_bytes`)
/// and stores no copy, and reading the entries cuts each one back out of the kept file, byte
/// for byte. A kept file that has gone missing is said in the evidence's place, with its path.
#[tokio::test]
async fn a_kept_file_is_the_evidence_of_its_entries() {
    on_each_store("kept_file_evidence", |db| async move {
        let raw = tempfile::tempdir().unwrap();
        let options = ImportOptions {
            raw_dir: Some(raw.path().to_path_buf()),
            ..cli_options()
        };
        let path = fixture("camt053_v08.xml");
        let r = import::import(&db.store, &path, &options).await.unwrap();
        let kept = r.raw_path.clone().expect("the file is kept");
        assert_eq!(std::fs::read(&kept).unwrap(), std::fs::read(&path).unwrap());
        let text = std::fs::read_to_string(&path).unwrap();
        let written: Vec<&str> = text
            .match_indices("<Ntry>")
            .map(|(at, _)| {
                let end = at + text[at..].find("</Ntry>").unwrap() + "</Ntry>".len();
                &text[at..end]
            })
            .collect();
        let e = all_entries(&db.store, r.statement).await;
        assert_eq!(e.len(), 4);
        assert_eq!(written.len(), 4);
        for (entry, xml) in e.iter().zip(&written) {
            assert_eq!(entry.evidence, *xml);
        }
        let stored: Vec<(String, Option<i64>)> = sqlx::query_as(
            "SELECT evidence, evidence_bytes FROM statement_entries WHERE statement = $1 ORDER BY line",
        )
        .bind(r.statement)
        .fetch_all(db.store.pool())
        .await
        .unwrap();
        for ((copy, bytes), xml) in stored.iter().zip(&written) {
            assert_eq!((copy.as_str(), *bytes), ("", Some(xml.len() as i64)));
        }

        std::fs::remove_file(&kept).unwrap();
        let e = all_entries(&db.store, r.statement).await;
        assert!(
            e[0].evidence.starts_with("(evidence unavailable: ") && e[0].evidence.contains(&kept),
            "{}",
            e[0].evidence
        );
        assert_eq!(e[0].acct_svcr_ref.as_deref(), Some("BANKREF-0001"));
        db
    })
    .await;
}

#[tokio::test]
async fn swift_mt940_and_mt950() {
    on_each_store("swift_mt940_and_mt950", |db| async move {
        let r = import_fixture(&db.store, "mt940.txt").await.unwrap();
        assert_eq!(
            (r.format.as_str(), r.statement_id.as_str()),
            ("mt940", "STMT-940-1")
        );
        assert_eq!(r.sequence.as_deref(), Some("00341/001"));
        assert_eq!(r.balance_ok, Some(true), "{:?}", r.balance_detail);
        let e = all_entries(&db.store, r.statement).await;
        assert_eq!(
            e.iter().map(|x| x.line).collect::<Vec<_>>(),
            vec![6, 10, 12],
            "line numbers in the file"
        );
        assert_eq!(
            e[0].uetr.as_deref(),
            Some("8a562c67-ca16-48ba-b074-65581be6f001")
        );
        assert_eq!(e[0].end_to_end_id.as_deref(), Some("E2E-IN-1"));
        assert_eq!(e[0].acct_svcr_ref.as_deref(), Some("BANKREF-0001"));
        assert!(
            e[0].evidence.starts_with(":61:2612041204C250,00") && e[0].evidence.contains(":86:")
        );
        assert_eq!(e[1].instr_id.as_deref(), Some("INSTR-7"));
        assert_eq!(
            (e[2].direction.as_str(), e[2].reversal),
            ("credit", true),
            "RD: reversal of a debit"
        );
        assert_eq!(e[2].return_reason.as_deref(), Some("AC04"));

        let r = import_fixture(&db.store, "mt950_wrapped.txt")
            .await
            .unwrap();
        assert_eq!(
            (r.format.as_str(), r.entries, r.balance_ok),
            ("mt950", 1, Some(true))
        );
        let r = import_fixture(&db.store, "mt950.txt").await.unwrap();
        assert_eq!(
            (r.opening_minor, r.closing_minor, r.balance_ok),
            (Some(-100_000), Some(47_975), Some(true))
        );
        db
    })
    .await;
}

#[tokio::test]
async fn wallet_settlement_csv() {
    on_each_store("wallet_settlement_csv", |db| async move {
        let r = import_fixture(&db.store, "wallet.csv").await.unwrap();
        assert_eq!(
            (
                r.format.as_str(),
                r.account.as_str(),
                r.statement_id.as_str()
            ),
            ("wallet-csv", "wallet-operator", "2026-12-04")
        );
        assert_eq!(r.balance_ok, None);
        let e = all_entries(&db.store, r.statement).await;
        assert_eq!(e.len(), 3);
        assert_eq!(
            (e[0].amount_minor, e[0].charges_minor, e[0].line),
            (125_000, Some(1_250), 2)
        );
        assert_eq!(
            (
                e[0].msisdn.as_deref(),
                e[0].rrn.as_deref(),
                e[0].stan.as_deref()
            ),
            (Some("254700000001"), Some("612345678901"), Some("000101"))
        );
        assert_eq!(e[0].direction, "debit");
        assert!(
            e[0].evidence.contains("Payout, batch 7"),
            "quoted field kept whole"
        );
        assert_eq!(
            (
                e[1].amount_minor,
                e[1].reversal,
                e[1].return_reason.as_deref()
            ),
            (9_950, true, Some("REVERSED"))
        );
        assert_eq!(e[2].status, "info", "a failed row moved no money");

        // Minor units and another column layout, from config.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("mm.csv");
        std::fs::write(
            &file,
            "When;Phone;Cents;State\n20261205093000;255700000001;5000;ok\n",
        )
        .unwrap();
        let mut options = cli_options();
        options.wallet_csv = toml::from_str(
            r#"operator = "tz-mm"
               delimiter = ";"
               msisdn = "Phone"
               amount = "Cents"
               amount_unit = "minor"
               currency = ""
               default_currency = "TZS"
               rrn = ""
               stan = ""
               fee = ""
               timestamp = "When"
               status = "State"
               booked_values = ["ok"]"#,
        )
        .unwrap();
        let r = import::import(&db.store, &file, &options).await.unwrap();
        assert_eq!(
            (r.account.as_str(), r.statement_id.as_str()),
            ("tz-mm", "2026-12-05")
        );
        let e = all_entries(&db.store, r.statement).await;
        assert_eq!((e[0].amount_minor, e[0].currency.as_str()), (5_000, "TZS"));
        db
    })
    .await;
}

#[tokio::test]
async fn malformed_files_name_the_place_and_import_nothing() {
    on_each_store("malformed_files", |db| async move {
        let cases = [
            (
                "camt053_v04.xml",
                "/Document/BkToCstmrStmt",
                "camt.053.001.04 is not a supported version",
            ),
            (
                "camt053_v08_bad_amount.xml",
                "/Document/BkToCstmrStmt/Stmt/Ntry[2]/Amt",
                "refusing to round",
            ),
            (
                "camt053_v08_truncated.xml",
                "byte",
                "ends before the document is complete",
            ),
            ("mt940_bad_amount.txt", "line 5", "decimal comma"),
            ("wallet_bad_status.csv", "line 3", "MYSTERY"),
            ("wallet_bad_amount.csv", "line 2", "refusing to round"),
        ];
        for (i, (name, at, message)) in cases.iter().enumerate() {
            match import_fixture(&db.store, name).await {
                Err(ImportError::Malformed { error, refusal, .. }) => {
                    assert!(error.at.starts_with(at), "{name}: at {:?}", error.at);
                    assert!(error.message.contains(message), "{name}: {}", error.message);
                    assert!(refusal > 0);
                }
                other => panic!("{name}: {other:?}"),
            }
            assert_eq!(
                counts(&db.store).await,
                (0, 0, i as i64 + 1),
                "{}: {name}: nothing imported, the refusal kept",
                db.label
            );
        }
        // The same malformed file again: still refused, still one refusal.
        assert!(import_fixture(&db.store, "mt940_bad_amount.txt")
            .await
            .is_err());
        assert_eq!(counts(&db.store).await.2, cases.len() as i64);
        db
    })
    .await;
}

#[tokio::test]
async fn the_same_file_or_statement_twice_changes_nothing() {
    on_each_store("duplicates", |db| async move {
        let first = import_fixture(&db.store, "camt053_v08.xml").await.unwrap();
        let before = counts(&db.store).await;
        let again = import_fixture(&db.store, "camt053_v08.xml").await.unwrap();
        assert!(again.duplicate);
        assert_eq!(again.duplicate_of.as_deref(), Some("content"));
        assert_eq!(again.statement, first.statement);
        assert_eq!(counts(&db.store).await, before);

        let resent = import_fixture(&db.store, "camt053_v08_same_statement.xml")
            .await
            .unwrap();
        assert!(resent.duplicate, "same account, statement id and sequence");
        assert_eq!(resent.duplicate_of.as_deref(), Some("statement"));
        assert_eq!(resent.statement, first.statement);
        assert_eq!(
            counts(&db.store).await,
            before,
            "{}: nothing changed",
            db.label
        );
        db
    })
    .await;
}

#[tokio::test]
async fn entries_that_do_not_add_up_are_imported_with_balance_ok_false() {
    on_each_store("unbalanced", |db| async move {
        let r = import_fixture(&db.store, "camt053_v08_unbalanced.xml")
            .await
            .unwrap();
        assert_eq!(r.balance_ok, Some(false));
        assert_eq!(r.entries, 4, "imported all the same");
        let detail = r.balance_detail.unwrap();
        assert!(
            detail.contains("995050") && detail.contains("996050"),
            "{detail}"
        );
        let stored = import::get(&db.store, r.statement).await.unwrap().unwrap();
        assert_eq!(stored.balance_ok, Some(false));
        db
    })
    .await;
}

/// The camt.054.001.08 samples in ../shared (written by others) read without error.
#[tokio::test]
async fn shared_samples_that_apply() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/iso20022/samples");
    if !dir.is_dir() {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED [shared] shared_samples_that_apply: {} is absent",
            dir.display()
        );
        return;
    }
    let db = TestDb::sqlite().await;
    let mut read = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        if !["camt.052.", "camt.053.", "camt.054."]
            .iter()
            .any(|k| text.contains(&format!("tech:xsd:{k}")))
        {
            continue;
        }
        let r = import::import(&db.store, &path, &cli_options()).await;
        let r = r.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(r.format.starts_with("camt.05"), "{r:?}");
        assert!(r.entries >= 1 || r.duplicate, "{}: {r:?}", path.display());
        read += 1;
    }
    assert!(read >= 1, "the shared samples hold camt.054 messages");
    db.finish().await;
}

fn gateway_config(data_dir: &Path, drop_dir: Option<&Path>, upload_bytes_max: u64) -> Config {
    let mut text = format!(
        r#"
[gateway]
bic = "CORRGB2LXXX"
[server]
listen = "127.0.0.1:0"
api_tokens = [
    {{ token = "op", role = "operator" }},
    {{ token = "rev", role = "reviewer" }},
    {{ token = "view", role = "viewer" }},
]
[store]
data_dir = "{}"
[statements]
upload_bytes_max = {upload_bytes_max}
settle_ms = 0
"#,
        data_dir.display()
    );
    if let Some(d) = drop_dir {
        text.push_str(&format!("drop_dir = \"{}\"\n", d.display()));
    }
    Config::from_toml(&text, std::iter::empty()).unwrap()
}

#[tokio::test]
async fn upload_endpoint_needs_a_reviewer_or_an_operator() {
    on_each_store("upload_endpoint", |db| async move {
        let dir = tempfile::tempdir().unwrap();
        let config = std::sync::Arc::new(gateway_config(dir.path(), None, 8192));
        let running = corridor::gateway::start(config, db.store.clone(), false)
            .await
            .unwrap();
        let url = format!("http://{}/v1/statements", running.addr);
        let http = reqwest::Client::new();
        let body = std::fs::read(fixture("camt053_v08.xml")).unwrap();
        let post = |token: Option<&str>, body: Vec<u8>| {
            let mut r = http.post(&url).header("x-file-name", "eod.xml").body(body);
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            r.send()
        };

        let r = post(None, body.clone()).await.unwrap();
        assert_eq!(r.status(), 401);
        let r = post(Some("view"), body.clone()).await.unwrap();
        assert_eq!(r.status(), 403, "a viewer may not upload");
        assert_eq!(counts(&db.store).await, (0, 0, 0));

        let r = post(Some("rev"), body.clone()).await.unwrap();
        assert_eq!(r.status(), 201);
        let json: serde_json::Value = r.json().await.unwrap();
        assert_eq!(
            (
                json["entries"].as_i64(),
                json["duplicate"].as_bool(),
                json["balance_ok"].as_bool()
            ),
            (Some(4), Some(false), Some(true))
        );
        assert_eq!(json["format"], "camt.053.001.08");
        let raw = json["raw_path"].as_str().unwrap();
        assert_eq!(std::fs::read(raw).unwrap(), body, "the raw file is kept");

        let r = post(Some("op"), body.clone()).await.unwrap();
        assert_eq!(r.status(), 200);
        let json: serde_json::Value = r.json().await.unwrap();
        assert_eq!(json["duplicate"], true);

        let bad = std::fs::read(fixture("mt940_bad_amount.txt")).unwrap();
        let r = post(Some("op"), bad).await.unwrap();
        assert_eq!(r.status(), 422);
        let json: serde_json::Value = r.json().await.unwrap();
        assert_eq!(json["error"]["at"], "line 5", "{json}");

        let mut big = body.clone();
        big.resize(9000, b' ');
        let r = post(Some("op"), big).await.unwrap();
        assert_eq!(r.status(), 413);
        assert_eq!(counts(&db.store).await, (1, 4, 1), "{}", db.label);
        let incoming = dir.path().join("statements/incoming");
        assert_eq!(
            std::fs::read_dir(incoming).unwrap().count(),
            0,
            "no temporary file left"
        );
        running.shutdown().await;
        db
    })
    .await;
}

#[tokio::test]
async fn drop_folder_picks_each_file_up_once_and_moves_it_aside() {
    on_each_store("drop_folder", |db| async move {
        let dir = tempfile::tempdir().unwrap();
        let drop = dir.path().join("drop");
        std::fs::create_dir_all(&drop).unwrap();
        let config = gateway_config(dir.path(), Some(&drop), 1 << 20);
        let run = corridor::recon::statements::drop_folder::run_once;

        std::fs::copy(fixture("camt053_v08.xml"), drop.join("a-eod.xml")).unwrap();
        std::fs::copy(fixture("mt940_bad_amount.txt"), drop.join("b-bad.txt")).unwrap();
        std::fs::copy(fixture("mt940.txt"), drop.join("c-stmt.txt.part")).unwrap();
        let picked = run(&db.store, &config).await.unwrap();
        let outcomes: Vec<_> = picked
            .iter()
            .map(|p| (p.file_name.as_str(), p.outcome))
            .collect();
        assert_eq!(
            outcomes,
            vec![("a-eod.xml", "imported"), ("b-bad.txt", "refused")]
        );
        assert!(drop.join("imported/a-eod.xml").is_file());
        let note = std::fs::read_to_string(drop.join("refused/b-bad.txt.error.txt")).unwrap();
        assert!(note.contains("line 5"), "{note}");
        assert!(
            drop.join("c-stmt.txt.part").is_file(),
            "a file still being written is left alone"
        );

        // Nothing new: nothing happens. The same file dropped again: a duplicate, moved aside.
        assert!(run(&db.store, &config).await.unwrap().is_empty());
        std::fs::copy(fixture("camt053_v08.xml"), drop.join("a-eod.xml")).unwrap();
        std::fs::rename(drop.join("c-stmt.txt.part"), drop.join("c-stmt.txt")).unwrap();
        let picked = run(&db.store, &config).await.unwrap();
        let outcomes: Vec<_> = picked
            .iter()
            .map(|p| (p.file_name.as_str(), p.outcome))
            .collect();
        assert_eq!(
            outcomes,
            vec![("a-eod.xml", "duplicate"), ("c-stmt.txt", "imported")]
        );
        assert!(drop.join("duplicate/a-eod.xml").is_file());
        assert_eq!(counts(&db.store).await, (2, 7, 1), "{}", db.label);
        db
    })
    .await;
}
