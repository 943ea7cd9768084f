//! `corridor recon` and `corridor breaks` as an operator uses them, on a store holding a
//! statement with an entry that matches nothing.

mod common;

use common::statements::{insert_statement, StatementRow};
use serde_json::Value;
use std::process::{Command, Output};

fn corridor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_corridor"))
        .args(args)
        .env_remove("CORRIDOR_CONFIG")
        .output()
        .expect("run corridor")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test]
async fn run_list_show_and_resolve_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("corridor.toml");
    std::fs::write(
        &config,
        format!(
            "[gateway]\nbic = \"CORRGB2LXXX\"\n[store]\ndatabase_url = \"sqlite://corridor.db\"\ndata_dir = \"{}\"\n",
            dir.path().display()
        ),
    )
    .unwrap();
    let url = format!("sqlite://{}", dir.path().join("corridor.db").display());
    let store = corridor::store::Store::connect(&url, 1).await.unwrap();
    let row = StatementRow {
        amount_minor: 1_234,
        reference: Some("nobody's"),
        ..Default::default()
    };
    insert_statement(&store, "STMT-CLI", (0, -1_234, true), &[row]).await;
    store.close().await;
    let c = config.to_str().unwrap();

    let dry = corridor(&[
        "recon",
        "run",
        "--dry-run",
        "--json",
        "--config",
        c,
        "--actor",
        "ops",
    ]);
    assert!(dry.status.success(), "{}", text(&dry));
    let dry: Value = serde_json::from_slice(&dry.stdout).unwrap();
    assert_eq!(dry["breaks_opened"], 1);
    assert_eq!(dry["breaks"][0]["kind"], "unexpected_entry");
    let listed = corridor(&["breaks", "list", "--json", "--config", c]);
    assert_eq!(
        serde_json::from_slice::<Value>(&listed.stdout).unwrap(),
        serde_json::json!([]),
        "a dry run writes nothing"
    );

    let run = corridor(&["recon", "run", "--config", c, "--actor", "ops"]);
    assert!(text(&run).contains("1 breaks opened"), "{}", text(&run));
    let again = corridor(&["recon", "run", "--config", c, "--actor", "ops"]);
    assert!(text(&again).contains("0 breaks opened"), "{}", text(&again));

    let listed: Value =
        serde_json::from_slice(&corridor(&["breaks", "list", "--json", "--config", c]).stdout)
            .unwrap();
    let id = listed[0]["id"].as_i64().unwrap().to_string();
    assert_eq!(listed[0]["amount_at_risk"], "12.34 EUR");

    let refused = corridor(&[
        "breaks", "resolve", &id, "--code", "resent", "--config", c, "--actor", "ann",
    ]);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("resent needs a settlement, and this break names none"),
        "{}",
        text(&refused)
    );
    let resolved = corridor(&[
        "breaks",
        "resolve",
        &id,
        "--code",
        "written_off",
        "--comment",
        "bank fee",
        "--config",
        c,
        "--actor",
        "ann",
    ]);
    assert!(resolved.status.success(), "{}", text(&resolved));
    let shown = text(&corridor(&["breaks", "show", &id, "--config", c]));
    assert!(shown.contains("resolved: written_off"), "{shown}");
    assert!(
        shown.contains("ann") && shown.contains("written_off: bank fee"),
        "{shown}"
    );
    assert!(
        shown.contains("STMT-CLI line 1"),
        "the statement line as evidence: {shown}"
    );

    let csv = text(&corridor(&["breaks", "export", "--all", "--config", c]));
    assert_eq!(csv.lines().count(), 2, "{csv}");
    let status = text(&corridor(&["recon", "status", "--config", c]));
    assert!(status.contains("resolved breaks: 1"), "{status}");
}
