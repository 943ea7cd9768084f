//! Reconciliation end to end: a real flow (gateway, simulated bank over mutual TLS, the
//! ledger) with the bank scripted to misbehave, statement rows as the statement import would
//! write them, and every break type planted once. Recon must find each exactly once, match
//! nothing wrongly, change nothing on a re-run and write nothing on a dry run; then the
//! workflow over the API with its roles (tests/openapi.rs holds the document to the router).
//! On SQLite and on PostgreSQL.

mod common;

use common::statements::{insert_statement, StatementRow};
use common::world::{Options, World};
use common::{event_json, on_each_store};
use corridor::recon::run::{as_of_from_date, run};
use corridor::store::journal::{self, AuthenticatedBy, Channel, Status};
use corridor::store::{messages, Store};
use serde_json::{json, Value};
use sqlx::Row;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Per break type: (settlement, statement entries, statement) of each break.
type Found = BTreeMap<String, Vec<(Option<String>, Vec<i64>, Option<i64>)>>;

const VIEWER: &str = "viewer-token-for-recon";
const REVIEWER: &str = "reviewer-token-for-recon";
const OPERATOR: &str = "operator-token-for-recon";

async fn count(store: &Store, table: &str) -> i64 {
    sqlx::query(&format!("SELECT COUNT(*) AS n FROM {table}"))
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get("n")
}

async fn counts(store: &Store) -> [i64; 5] {
    [
        count(store, "breaks").await,
        count(store, "break_events").await,
        count(store, "recon_matches").await,
        count(store, "recon_expectations").await,
        count(store, "recon_runs").await,
    ]
}

/// Waits for a state of the store (an answer the bank sends by callback), polling.
async fn await_store(store: &Store, what: &str, sql: &str, want: i64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let n: i64 = sqlx::query(sql)
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get("n");
        if n >= want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {n}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

struct Sent {
    id: String,
    uetr: String,
    e2e: String,
}

async fn post(world: &World, event: &str, amount: &str, remittance: &str) -> String {
    let (status, body) = world.post(&event_json(event, amount, remittance)).await;
    assert_eq!(status, 201, "{body}");
    body["settlement_id"].as_str().unwrap().to_string()
}

async fn sent(store: &Store, id: &str) -> Sent {
    let sid = corridor::domain::SettlementId::parse(id).unwrap();
    let mut conn = store.pool().acquire().await.unwrap();
    let m = messages::all_for_settlement(&mut conn, &sid).await.unwrap();
    let m = m.first().expect("a message");
    Sent {
        id: id.to_string(),
        uetr: m.uetr.clone().unwrap(),
        e2e: m.end_to_end_id.clone().unwrap(),
    }
}

fn by_uetr(s: &Sent, amount_minor: i64) -> StatementRow {
    StatementRow {
        amount_minor,
        uetr: Some(s.uetr.clone()),
        acct_svcr_ref: Some(format!("ASR-{}-{amount_minor}", &s.uetr[..8])),
        ..Default::default()
    }
}

#[tokio::test]
async fn every_break_type_found_once_and_worked_through_the_api() {
    on_each_store("every_break_type_found_once", |db| async move {
        let tokens = format!(
            r#"[{{token = "{VIEWER}", role = "viewer", name = "vera"}}, {{token = "{REVIEWER}", role = "reviewer", name = "rita"}}, {{token = "{OPERATOR}", role = "operator", name = "otto"}}]"#
        );
        let options = Options {
            workers: false,
            extra_env: vec![
                ("CORRIDOR__SERVER__API_TOKENS", tokens),
                ("CORRIDOR__RECON__CONFIRMATION_SLA_MS", "3000".into()),
                ("CORRIDOR__RECON__INTERVAL_MS", "0".into()),
            ],
            ..Options::default()
        };
        let world = World::start(db, options).await;
        let store = world.db.store.clone();
        let a = post(&world, "evt-exact", "100.00", "Invoice A").await;
        let b = post(&world, "evt-charge", "200.00", "Invoice B").await;
        let c = post(&world, "evt-amount", "300.00", "Invoice C").await;
        let d = post(&world, "evt-currency", "400.00", "Invoice D").await;
        let e = post(&world, "evt-dup", "500.00", "Invoice E").await;
        let f = post(&world, "evt-twice", "600.00", "SIM:TWICE").await;
        let g = post(&world, "evt-return", "700.00", "Invoice G").await;
        let h = post(&world, "evt-missing", "800.00", "Invoice H").await;
        post(&world, "evt-reject", "10.00", "SIM:REJECT:AC04").await;
        let j = post(&world, "evt-late", "900.00", "SIM:ASYNC:4000").await;
        let k = post(&world, "evt-silent", "950.00", "SIM:SILENT").await;
        let m = post(&world, "evt-split", "1000.00", "Invoice M").await;
        let r = post(&world, "evt-returned", "1100.00", "SIM:SILENT").await;
        let gateway = world.gateway.as_ref().unwrap();
        gateway.dispatcher.drain("test-step", 1000).await.unwrap();
        // The late answer and the repeated one come by callback.
        await_store(&store, "the late settlement", &format!("SELECT COUNT(*) AS n FROM settlements WHERE id = '{j}' AND state = 'settled'"), 1).await;
        await_store(&store, "the repeated answer", "SELECT COUNT(*) AS n FROM inbound_journal WHERE status = 'duplicate'", 1).await;
        let (a, b, c, d, e, f, g, j, m) = (
            sent(&store, &a).await, sent(&store, &b).await, sent(&store, &c).await,
            sent(&store, &d).await, sent(&store, &e).await, sent(&store, &f).await,
            sent(&store, &g).await, sent(&store, &j).await, sent(&store, &m).await,
        );
        let r = sent(&store, &r).await;
        // An answer contradicting a final state, as the confirm step journals it.
        let conflict = journal::record(&store, Channel::BankCallback, Some("sim-bank"), Some("application/xml"), b"<Document/>", AuthenticatedBy::Signature).await.unwrap();
        {
            let mut conn = store.pool().acquire().await.unwrap();
            let outcome = journal::Outcome { detail: Some("RJCT for a settled settlement"), settlement_id: Some(&a.id), ..Default::default() };
            journal::mark(&mut conn, conflict, Status::Conflict, &outcome).await.unwrap();
        }
        let (_, entries) = insert_statement(&store, "STMT-1", (1_000_000, 0, true), &[
            by_uetr(&a, 10_000),
            StatementRow { amount_minor: 19_950, end_to_end_id: Some(b.e2e.clone()), charges_minor: Some(50), ..Default::default() },
            by_uetr(&c, 25_000),
            StatementRow { currency: "USD", ..by_uetr(&d, 40_000) },
            by_uetr(&e, 50_000),
            StatementRow { acct_svcr_ref: Some("ASR-E-AGAIN".into()), ..by_uetr(&e, 50_000) },
            by_uetr(&f, 60_000),
            by_uetr(&g, 70_000),
            StatementRow { credit: true, return_reason: Some("AC04"), acct_svcr_ref: Some("ASR-G-RET".into()), ..by_uetr(&g, 70_000) },
            by_uetr(&j, 90_000),
            StatementRow { amount_minor: 60_000, end_to_end_id: Some(m.e2e.clone()), ..Default::default() },
            StatementRow { amount_minor: 40_000, end_to_end_id: Some(m.e2e.clone()), ..Default::default() },
            StatementRow { amount_minor: 1_234, reference: Some("fee refund"), ..Default::default() },
            StatementRow { credit: true, return_reason: Some("AC01"), ..by_uetr(&r, 110_000) },
        ]).await;
        let (unbalanced, _) = insert_statement(&store, "STMT-2", (100_000, 90_000, false), &[]).await;

        // Far enough ahead that every statement expectation and the silent SLA have passed.
        let ahead = (time::OffsetDateTime::now_utc() + time::Duration::days(10)).date().to_string();
        let as_of = as_of_from_date(&ahead).unwrap();
        let config = world.config.clone();

        let dry = run(&store, &config, as_of, true, "recon-test").await.unwrap();
        assert_eq!(counts(&store).await, [0; 5], "{}: a dry run wrote", world.db.label);
        let report = run(&store, &config, as_of, false, "recon-test").await.unwrap();
        assert_eq!(dry.breaks, report.breaks, "the dry run shows what the run decides");

        let mut by_kind: Found = BTreeMap::new();
        for b in &report.breaks {
            by_kind.entry(b.kind.as_str().into()).or_default().push((b.settlement_id.clone(), b.entry_ids.clone(), b.statement_id));
        }
        let want: Found = [
            ("amount_mismatch", vec![(Some(c.id.clone()), vec![entries[2]], Some(1))]),
            ("balance_mismatch", vec![(None, vec![], Some(unbalanced))]),
            ("currency_mismatch", vec![(Some(d.id.clone()), vec![entries[3]], Some(1))]),
            ("duplicate_confirmation", vec![(Some(f.id.clone()), vec![], None)]),
            ("duplicate_entry", vec![(Some(e.id.clone()), vec![entries[5]], Some(1))]),
            ("late", vec![(Some(j.id.clone()), vec![], None)]),
            ("missing_confirmation", vec![(Some(k.clone()), vec![], None)]),
            ("missing_on_statement", vec![(Some(h.clone()), vec![], None)]),
            ("status_conflict", vec![(Some(g.id.clone()), vec![entries[8]], Some(1)), (Some(a.id.clone()), vec![], None)]),
            ("unexpected_entry", vec![(None, vec![entries[12]], Some(1))]),
        ]
        .into_iter()
        .map(|(k, mut v)| {
            v.sort();
            (k.to_string(), v)
        })
        .collect();
        for v in by_kind.values_mut() {
            v.sort();
        }
        // The statement rows' ids are per database; the first statement is id 1 in both.
        assert_eq!(by_kind, want, "{}", world.db.label);
        let gap = report.breaks.iter().find(|b| b.kind.as_str() == "balance_mismatch").unwrap();
        assert_eq!(gap.amount_at_risk_minor, 10_000, "closing 900.00 = opening 1000.00 with no entries: 100.00 missing");

        // Nothing matched wrongly: each statement entry to its own settlement, by its rule.
        let rows = sqlx::query("SELECT source_id, settlement_id, rule, cardinality FROM recon_matches WHERE source = 'statement' ORDER BY source_id")
            .fetch_all(store.pool()).await.unwrap();
        let got: Vec<(i64, String, String)> = rows.iter().map(|r| (r.get("source_id"), r.get("settlement_id"), r.get("rule"))).collect();
        let want = vec![
            (entries[0], a.id.clone(), "exact_key".into()),
            (entries[1], b.id.clone(), "charges".into()),
            (entries[2], c.id.clone(), "amount_mismatch".into()),
            (entries[3], d.id.clone(), "currency_mismatch".into()),
            (entries[4], e.id.clone(), "exact_key".into()),
            (entries[5], e.id.clone(), "duplicate".into()),
            (entries[6], f.id.clone(), "exact_key".into()),
            (entries[7], g.id.clone(), "exact_key".into()),
            (entries[8], g.id.clone(), "uetr".into()),
            (entries[9], j.id.clone(), "exact_key".into()),
            (entries[10], m.id.clone(), "split".into()),
            (entries[11], m.id.clone(), "split".into()),
            (entries[13], r.id.clone(), "uetr".into()),
        ];
        assert_eq!(got, want, "{}", world.db.label);

        // The return on the statement is the outcome of the settlement the bank never
        // answered: returned, written back to the ledger once.
        assert_eq!(report.returns.len(), 1);
        let state: String = sqlx::query(&format!("SELECT state FROM settlements WHERE id = '{}'", r.id))
            .fetch_one(store.pool()).await.unwrap().get("state");
        assert_eq!(state, "returned");
        world.gateway.as_ref().unwrap().dispatcher.drain("test-step", 1000).await.unwrap();
        assert_eq!(world.outcome("evt-returned"), ("returned".into(), Some("AC01".into())));

        // A re-run changes nothing already decided.
        let before = counts(&store).await;
        let again = run(&store, &config, as_of, false, "recon-test").await.unwrap();
        assert_eq!((again.breaks_opened, again.matches, again.expectations), (0, 0, 0), "{:?}", again.breaks);
        let after = counts(&store).await;
        assert_eq!(before[..4], after[..4], "only the run itself is recorded");
        assert_eq!(after[4], before[4] + 1);

        // The audit trail is append-only, in the store itself.
        assert!(sqlx::query("UPDATE break_events SET actor = 'mallory'").execute(store.pool()).await.is_err());
        assert!(sqlx::query("DELETE FROM break_events").execute(store.pool()).await.is_err());

        api_workflow(&world, &report).await;
        world.finish().await
    })
    .await;
}

async fn call(
    world: &World,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = world
        .http
        .request(method.parse().unwrap(), world.url(path))
        .bearer_auth(token);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn api_workflow(world: &World, report: &corridor::recon::run::Report) {
    let (s, list) = call(world, "GET", "/v1/breaks?limit=1000", VIEWER, None).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(
        list["breaks"].as_array().unwrap().len(),
        report.breaks.len()
    );
    assert_eq!(list["unresolved_by_kind"]["status_conflict"], 2);
    let (_, late) = call(world, "GET", "/v1/breaks?kind=late", VIEWER, None).await;
    assert_eq!(late["breaks"].as_array().unwrap().len(), 1);
    let (_, sorted) = call(world, "GET", "/v1/breaks?sort=amount", VIEWER, None).await;
    let amounts: Vec<i64> = sorted["breaks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["amount_at_risk_minor"].as_i64().unwrap())
        .collect();
    assert!(amounts.windows(2).all(|w| w[0] >= w[1]), "{amounts:?}");
    let (s, _) = call(world, "GET", "/v1/breaks?kind=nonsense", VIEWER, None).await;
    assert_eq!(s, 400);

    let id = late["breaks"][0]["id"].as_i64().unwrap();
    assert_eq!(late["breaks"][0]["amount_at_risk"], "900.00 EUR");
    let (s, ev) = call(world, "GET", &format!("/v1/breaks/{id}"), VIEWER, None).await;
    assert_eq!(s, 200, "{ev}");
    assert!(
        ev["messages"][0]["text"]
            .as_str()
            .unwrap()
            .contains("<UETR>"),
        "the pacs.008, readable"
    );
    assert!(
        !ev["answers"].as_array().unwrap().is_empty(),
        "the answers from the journal"
    );
    assert_eq!(ev["ledger"]["event_id"], "evt-late");

    // A viewer changes nothing; a reviewer does not run reconciliation.
    let (s, _) = call(
        world,
        "POST",
        &format!("/v1/breaks/{id}/resolve"),
        VIEWER,
        Some(json!({"resolution": "written_off"})),
    )
    .await;
    assert_eq!(s, 403);
    let (s, _) = call(world, "POST", "/v1/recon/run", REVIEWER, Some(json!({}))).await;
    assert_eq!(s, 403);

    let path = |a: &str| format!("/v1/breaks/{id}/{a}");
    let (s, b) = call(
        world,
        "POST",
        &path("assign"),
        REVIEWER,
        Some(json!({"assignee": "rita"})),
    )
    .await;
    assert_eq!(
        (s, b["break"]["state"].as_str()),
        (200, Some("assigned")),
        "{b}"
    );
    let (s, _) = call(
        world,
        "POST",
        &path("comment"),
        REVIEWER,
        Some(json!({"comment": "bank confirmed late cut-off"})),
    )
    .await;
    assert_eq!(s, 200);
    let (s, b) = call(
        world,
        "POST",
        &path("resolve"),
        REVIEWER,
        Some(json!({"resolution": "resent"})),
    )
    .await;
    assert_eq!(s, 403, "a reviewer does not move money: {b}");
    assert_eq!(b["error"]["code"], "forbidden");
    let (s, b) = call(
        world,
        "POST",
        &path("resolve"),
        REVIEWER,
        Some(json!({"resolution": "written_off", "comment": "no loss"})),
    )
    .await;
    assert_eq!(
        (s, b["break"]["state"].as_str()),
        (200, Some("resolved")),
        "{b}"
    );
    let (s, _) = call(
        world,
        "POST",
        &path("resolve"),
        REVIEWER,
        Some(json!({"resolution": "written_off"})),
    )
    .await;
    assert_eq!(s, 409, "resolved once");
    let (_, list) = call(world, "GET", "/v1/breaks?limit=1000", VIEWER, None).await;
    assert_eq!(
        list["breaks"].as_array().unwrap().len(),
        report.breaks.len() - 1,
        "it left the queue"
    );
    let (_, ev) = call(world, "GET", &format!("/v1/breaks/{id}"), VIEWER, None).await;
    let trail: Vec<(String, String)> = ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap().into(),
                e["action"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        trail,
        vec![
            ("recon-test".into(), "opened".into()),
            ("rita".into(), "assigned".into()),
            ("rita".into(), "commented".into()),
            ("rita".into(), "resolved".into())
        ]
    );
    let (s, b) = call(
        world,
        "POST",
        &path("reopen"),
        OPERATOR,
        Some(json!({"comment": "second look"})),
    )
    .await;
    assert_eq!(
        (s, b["break"]["state"].as_str()),
        (200, Some("assigned")),
        "{b}"
    );

    let res = world
        .http
        .get(world.url("/v1/breaks/export?all=true"))
        .bearer_auth(VIEWER)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = res.text().await.unwrap();
    assert_eq!(csv.lines().count(), report.breaks.len() + 1, "{csv}");
    assert!(csv.starts_with("id,kind,severity,state"));

    let (s, r) = call(
        world,
        "POST",
        "/v1/recon/run",
        OPERATOR,
        Some(json!({"dry_run": true})),
    )
    .await;
    assert_eq!((s, r["breaks_opened"].as_i64()), (200, Some(0)), "{r}");
    let (s, st) = call(world, "GET", "/v1/recon/status", VIEWER, None).await;
    assert_eq!(s, 200);
    assert_eq!(st["last_run"]["actor"], "recon-test");
}

async fn state_of(store: &Store, id: &str) -> String {
    sqlx::query(&format!("SELECT state FROM settlements WHERE id = '{id}'"))
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get("state")
}

async fn outbox_rows(store: &Store, kind: &str) -> i64 {
    number(
        store,
        &format!("SELECT COUNT(*) AS n FROM outbox WHERE kind = '{kind}'"),
    )
    .await
}

/// The column `n` of the one row `sql` reads.
async fn number(store: &Store, sql: &str) -> i64 {
    sqlx::query(sql)
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get("n")
}

/// The one unresolved break of `kind` for settlement `sid`.
async fn break_of(world: &World, kind: &str, sid: &str) -> i64 {
    let (s, list) = call(
        world,
        "GET",
        &format!("/v1/breaks?kind={kind}&settlement_id={sid}&all=true"),
        VIEWER,
        None,
    )
    .await;
    assert_eq!(s, 200, "{list}");
    let found = list["breaks"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{kind} for {sid}: {list}");
    found[0]["id"].as_i64().unwrap()
}

async fn resolve(world: &World, id: i64, token: &str, code: &str) -> (u16, Value) {
    call(
        world,
        "POST",
        &format!("/v1/breaks/{id}/resolve"),
        token,
        Some(json!({"resolution": code, "comment": format!("{code} by test")})),
    )
    .await
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Signs in to the review page with `token` and opens break `id`: (the session cookie, the
/// page, its CSRF token).
async fn review_page(world: &World, token: &str, id: i64) -> (String, String, String) {
    let client = no_redirects();
    let signed = client
        .post(world.url("/review/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(signed.status().as_u16(), 303);
    let cookie = signed.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string();
    let page = client
        .get(world.url(&format!("/review/breaks/{id}")))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or_default()
        .to_string();
    (cookie, page, csrf)
}

/// The resolutions that move money and the correction of a settled payment the statement
/// shows returned: each through the outbox, each once, each in the audit trail with its
/// actor; a resend reaches the bank with the identifiers of the first send, and the bank
/// books the payment once.
#[tokio::test]
async fn money_moving_resolutions_and_returns_after_settlement_go_through_the_outbox() {
    on_each_store("money_moving_resolutions", |db| async move {
        let tokens = format!(
            r#"[{{token = "{VIEWER}", role = "viewer", name = "vera"}}, {{token = "{REVIEWER}", role = "reviewer", name = "rita"}}, {{token = "{OPERATOR}", role = "operator", name = "otto"}}]"#
        );
        let options = Options {
            workers: false,
            extra_env: vec![
                ("CORRIDOR__SERVER__API_TOKENS", tokens),
                ("CORRIDOR__RECON__CONFIRMATION_SLA_MS", "3000".into()),
                ("CORRIDOR__RECON__INTERVAL_MS", "0".into()),
            ],
            ..Options::default()
        };
        let world = World::start(db, options).await;
        let store = world.db.store.clone();
        let label = world.db.label;
        // The bank acknowledges the first copy and loses it: no answer ever comes.
        let lost = post(&world, "evt-lost", "120.00", "SIM:LOSE").await;
        let twice = post(&world, "evt-booked-twice", "250.00", "Invoice T").await;
        let back = post(&world, "evt-back", "330.00", "Invoice B").await;
        let gone = post(&world, "evt-gone", "440.00", "Invoice G").await;
        let (status, body) = world.post(&common::wallet_event("evt-wallet", "15.00", "+639171234567")).await;
        assert_eq!(status, 201, "{body}");
        let wallet = body["settlement_id"].as_str().unwrap().to_string();
        let gateway = world.gateway.as_ref().unwrap();
        gateway.dispatcher.drain("test-step", 1000).await.unwrap();
        await_store(&store, "the wallet credit", &format!("SELECT COUNT(*) AS n FROM settlements WHERE id = '{wallet}' AND state = 'settled'"), 1).await;
        let (lost, twice, back, gone) = (
            sent(&store, &lost).await,
            sent(&store, &twice).await,
            sent(&store, &back).await,
            sent(&store, &gone).await,
        );
        assert_eq!(state_of(&store, &lost.id).await, "sent", "{label}");
        assert_eq!(world.outcome("evt-back"), ("settled".into(), None));
        insert_statement(&store, "STMT-M", (1_000_000, 0, true), &[
            by_uetr(&twice, 25_000),
            StatementRow { acct_svcr_ref: Some("ASR-T-AGAIN".into()), ..by_uetr(&twice, 25_000) },
            by_uetr(&back, 33_000),
            StatementRow { credit: true, return_reason: Some("AC04"), acct_svcr_ref: Some("ASR-B-RET".into()), ..by_uetr(&back, 33_000) },
        ]).await;
        let ahead = (time::OffsetDateTime::now_utc() + time::Duration::days(10)).date().to_string();
        let as_of = as_of_from_date(&ahead).unwrap();
        let config = world.config.clone();

        // A dry run corrects nothing.
        let dry = run(&store, &config, as_of, true, "recon-test").await.unwrap();
        assert_eq!(dry.corrections, 0);
        assert_eq!(state_of(&store, &back.id).await, "settled");

        // The return found on the statement for a settlement written back as settled: the
        // break for the audit, and the outcome applied once, with its correction write-back.
        let report = run(&store, &config, as_of, false, "recon-test").await.unwrap();
        assert_eq!(report.corrections, 1, "{label}");
        assert_eq!(state_of(&store, &back.id).await, "returned", "{label}");
        let conflict = break_of(&world, "status_conflict", &back.id).await;
        assert_eq!(outbox_rows(&store, "correction").await, 1);
        let transitions = sqlx::query(&format!("SELECT from_state, to_state, cause FROM settlement_transitions WHERE settlement_id = '{}' ORDER BY id DESC", back.id))
            .fetch_all(store.pool()).await.unwrap();
        let last: (String, String, String) = (transitions[0].get("from_state"), transitions[0].get("to_state"), transitions[0].get("cause"));
        assert_eq!(last, ("settled".into(), "returned".into(), "statement return (correction)".into()));
        gateway.dispatcher.drain("test-step", 1000).await.unwrap();
        let correction = world.ledger.correction(&back.id).expect("the correction reached the ledger");
        assert_eq!((correction.outcome.as_str(), correction.corrects.as_deref(), correction.reason_code.as_deref()), ("returned", Some("settled"), Some("AC04")));
        assert_eq!(correction.amount.as_deref(), Some("330.00"));
        assert_eq!(world.outcome("evt-back"), ("settled".into(), None), "the first outcome stays as recorded");
        // A re-run applies it again nowhere.
        let again = run(&store, &config, as_of, false, "recon-test").await.unwrap();
        assert_eq!((again.corrections, again.breaks_opened), (0, 0), "{label}: {:?}", again.breaks);
        assert_eq!(outbox_rows(&store, "correction").await, 1);
        gateway.dispatcher.drain("test-step", 1000).await.unwrap();
        assert_eq!(world.ledger.stats().notices, 1);
        let (_, ev) = call(&world, "GET", &format!("/v1/breaks/{conflict}"), VIEWER, None).await;
        let applied: Vec<&Value> = ev["events"].as_array().unwrap().iter()
            .filter(|e| e["comment"].as_str().unwrap_or("").contains("corrected from settled to returned")).collect();
        assert_eq!(applied.len(), 1, "{ev}");
        assert_eq!(applied[0]["actor"], "recon-test");

        let missing = break_of(&world, "missing_confirmation", &lost.id).await;
        let duplicate = break_of(&world, "duplicate_entry", &twice.id).await;
        let unbooked = break_of(&world, "missing_on_statement", &gone.id).await;

        // Only an operator moves money; what a break does not allow is refused, and nothing
        // is enqueued.
        let (s, b) = resolve(&world, missing, REVIEWER, "resent").await;
        assert_eq!((s, b["error"]["code"].as_str()), (403, Some("forbidden")), "{b}");
        let (s, b) = resolve(&world, duplicate, OPERATOR, "resent").await;
        assert_eq!((s, b["error"]["code"].as_str()), (409, Some("refused")), "a duplicate is not resent: {b}");
        let (s, b) = resolve(&world, missing, OPERATOR, "refund_requested").await;
        assert_eq!((s, b["error"]["code"].as_str()), (409, Some("refused")), "nothing settled to refund: {b}");
        let credit = break_of(&world, "missing_on_statement", &wallet).await;
        let (s, b) = resolve(&world, credit, OPERATOR, "resent").await;
        assert_eq!(s, 409, "{b}");
        assert!(b["error"]["message"].as_str().unwrap().contains("not on the bank rail"), "{b}");
        assert_eq!((outbox_rows(&store, "resend").await, outbox_rows(&store, "refund").await), (0, 0));

        // Resent: the stored pacs.008 again, same MsgId and UETR; the bank books it now.
        let (s, b) = resolve(&world, missing, OPERATOR, "resent").await;
        assert_eq!((s, b["break"]["resolution"].as_str()), (200, Some("resent")), "{b}");
        let (s, _) = resolve(&world, missing, OPERATOR, "resent").await;
        assert_eq!(s, 409, "resolved once");
        assert_eq!(outbox_rows(&store, "resend").await, 1);
        gateway.dispatcher.drain("test-step", 1000).await.unwrap();
        let bank = world.bank.stats();
        let stored = {
            let sid = corridor::domain::SettlementId::parse(&lost.id).unwrap();
            let mut conn = store.pool().acquire().await.unwrap();
            messages::all_for_settlement(&mut conn, &sid).await.unwrap().remove(0)
        };
        assert_eq!(stored.send_count, 2, "{label}: the one stored message, sent twice");
        assert_eq!(bank.lost, 1, "the first copy was lost");
        // The copy the bank booked carries the MsgId of the first send.
        assert_eq!(bank.msg_ids_per_uetr[&lost.uetr], vec![stored.msg_id.clone()], "{label}");
        assert_eq!(state_of(&store, &lost.id).await, "settled", "{label}");
        assert_eq!(world.outcome("evt-lost"), ("settled".into(), None));

        // Resent for a payment the bank settled but the statement lacks: the bank recognises
        // the duplicate and books nothing more.
        // This one from the review page: a reviewer is not offered the codes that move
        // money; an operator is, and resolves with it.
        let reviewer_page = review_page(&world, REVIEWER, unbooked).await;
        assert!(reviewer_page.1.contains("value=\"written_off\""), "{}", reviewer_page.1);
        assert!(!reviewer_page.1.contains("value=\"resent\""));
        assert!(!reviewer_page.1.contains("value=\"refund_requested\""));
        let (cookie, page, csrf) = review_page(&world, OPERATOR, unbooked).await;
        assert!(page.contains("value=\"resent\"") && page.contains("value=\"refund_requested\""), "{page}");
        let before = world.bank.stats();
        let posted = no_redirects()
            .post(world.url(&format!("/review/breaks/{unbooked}/resolve")))
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("resolution=resent&comment=resent+by+test&csrf={csrf}"))
            .send()
            .await
            .unwrap();
        assert_eq!(posted.status().as_u16(), 303, "{}", posted.text().await.unwrap());
        gateway.dispatcher.drain("test-step", 1000).await.unwrap();
        let after = world.bank.stats();
        assert_eq!(after.receipts_per_uetr[&gone.uetr], 2);
        assert_eq!(after.distinct_uetrs, before.distinct_uetrs, "booked once");
        assert_eq!(after.resends, before.resends + 1);
        assert_eq!(state_of(&store, &gone.id).await, "settled");
        // The bank's answer to the resend repeats its first one: expected, so no break.
        let (s, _) = call(&world, "POST", "/v1/recon/run", OPERATOR, Some(json!({}))).await;
        assert_eq!(s, 200);
        let (_, list) = call(&world, "GET", &format!("/v1/breaks?kind=duplicate_confirmation&settlement_id={}&all=true", gone.id), VIEWER, None).await;
        assert_eq!(list["breaks"].as_array().unwrap().len(), 0, "{label}: the answer to a resend is no duplicate: {list}");

        // Refund requested: posted to the ledger once, with the break's amount at risk.
        let (s, b) = resolve(&world, duplicate, REVIEWER, "refund_requested").await;
        assert_eq!(s, 403, "{b}");
        // This one from the command line, which runs with the store's own access (an
        // operator's).
        let dir = tempfile::tempdir().unwrap();
        let config_file = dir.path().join("corridor.toml");
        std::fs::write(&config_file, format!("[gateway]\nbic = \"CORRGB2LXXX\"\n[store]\ndatabase_url = \"{}\"\ndata_dir = \"{}\"\n", world.db.url, dir.path().display())).unwrap();
        let cli = std::process::Command::new(env!("CARGO_BIN_EXE_corridor"))
            .args(["breaks", "resolve", &duplicate.to_string(), "--code", "refund_requested", "--comment", "refund_requested by test", "--actor", "cli-op", "--config"])
            .arg(&config_file)
            .env_remove("CORRIDOR_CONFIG")
            .output()
            .unwrap();
        assert!(cli.status.success(), "{label}: {}{}", String::from_utf8_lossy(&cli.stdout), String::from_utf8_lossy(&cli.stderr));
        let (_, b) = call(&world, "GET", &format!("/v1/breaks/{duplicate}"), VIEWER, None).await;
        assert_eq!(b["break"]["resolution"], "refund_requested", "{b}");
        let (s, _) = call(&world, "POST", &format!("/v1/breaks/{duplicate}/reopen"), OPERATOR, Some(json!({"comment": "again?"}))).await;
        assert_eq!(s, 200);
        let (s, b) = resolve(&world, duplicate, OPERATOR, "refund_requested").await;
        assert_eq!((s, b["error"]["code"].as_str()), (409, Some("refused")), "one refund per settlement: {b}");
        assert_eq!(outbox_rows(&store, "refund").await, 1);
        gateway.dispatcher.drain("test-step", 1000).await.unwrap();
        let refund = world.ledger.refund_request(&twice.id).expect("the refund request reached the ledger");
        assert_eq!(refund.outcome, "refund_requested");
        assert_eq!((refund.amount.as_deref(), refund.currency.as_deref()), (Some("250.00"), Some("EUR")));
        assert_eq!(refund.break_id, Some(duplicate));
        assert_eq!(refund.reason.as_deref(), Some("refund_requested by test"));
        assert_eq!(world.ledger.stats().notices, 2);

        // The audit trail names the actor and the outbox job of each.
        for (id, code, actor) in [(missing, "resent", "otto"), (unbooked, "resent", "otto"), (duplicate, "refund_requested", "cli-op")] {
            let (_, ev) = call(&world, "GET", &format!("/v1/breaks/{id}"), VIEWER, None).await;
            let resolved: Vec<&Value> = ev["events"].as_array().unwrap().iter().filter(|e| e["action"] == "resolved").collect();
            assert_eq!(resolved.len(), 1, "{ev}");
            assert_eq!(resolved[0]["actor"], actor);
            let text = resolved[0]["comment"].as_str().unwrap();
            assert!(text.starts_with(code) && text.contains("outbox job"), "{text}");
        }
        world.finish().await
    })
    .await;
}

/// The statement expectation counts business days on the holiday calendar of `[recon]`: a
/// settled payment with no statement entry is not missing while its currency's settlement
/// system is closed, and is once the calendar has moved past the closing days.
#[tokio::test]
async fn holidays_push_the_statement_expectation() {
    on_each_store("holidays_push_the_statement_expectation", |db| async move {
        let today = time::OffsetDateTime::now_utc().date();
        // Closed for EUR the next fourteen days: two business days end after them.
        let closed: Vec<String> = (1..=14)
            .map(|i| format!("\"{}\"", today + time::Duration::days(i)))
            .collect();
        let options = Options {
            workers: false,
            extra_env: vec![
                ("CORRIDOR__RECON__INTERVAL_MS", "0".into()),
                ("CORRIDOR__RECON__STATEMENT_BUSINESS_DAYS", "2".into()),
                (
                    "CORRIDOR__RECON__HOLIDAYS",
                    format!("[{{currency = \"EUR\", dates = [{}]}}]", closed.join(", ")),
                ),
            ],
            ..Options::default()
        };
        let world = World::start(db, options).await;
        let store = world.db.store.clone();
        let label = world.db.label;
        let id = post(&world, "evt-holiday", "75.00", "Invoice H").await;
        world
            .gateway
            .as_ref()
            .unwrap()
            .dispatcher
            .drain("test-step", 1000)
            .await
            .unwrap();
        assert_eq!(state_of(&store, &id).await, "settled", "{label}");
        let config = world.config.clone();
        let at =
            |days: i64| as_of_from_date(&(today + time::Duration::days(days)).to_string()).unwrap();

        // Ten days on, every one of them a closing day or a weekend: not missing yet.
        let early = run(&store, &config, at(10), false, "recon-test")
            .await
            .unwrap();
        assert!(
            !early
                .breaks
                .iter()
                .any(|b| b.kind.as_str() == "missing_on_statement"),
            "{label}: {:?}",
            early.breaks
        );
        // Without the calendar the same run finds it missing (a control: the test can fail).
        let mut plain = (*config).clone();
        plain.recon.holidays.clear();
        let control = run(&store, &plain, at(10), true, "recon-test")
            .await
            .unwrap();
        assert_eq!(
            control
                .breaks
                .iter()
                .filter(|b| b.kind.as_str() == "missing_on_statement")
                .count(),
            1,
            "{label}"
        );
        // Forty days on it is missing, due two business days after the closing days.
        let late = run(&store, &config, at(40), false, "recon-test")
            .await
            .unwrap();
        let missing: Vec<_> = late
            .breaks
            .iter()
            .filter(|b| b.kind.as_str() == "missing_on_statement")
            .collect();
        assert_eq!(missing.len(), 1, "{label}: {:?}", late.breaks);
        let reopening = today + time::Duration::days(15);
        let due_text = missing[0].detail.split(" by ").nth(1).unwrap();
        let due = corridor::recon::engine::parse_date(due_text).unwrap();
        assert!(
            due > reopening,
            "{label}: due {due} must come after the closing days ({})",
            missing[0].detail
        );
        assert!(!matches!(
            due.weekday(),
            time::Weekday::Saturday | time::Weekday::Sunday
        ));
        world.finish().await
    })
    .await;
}

async fn statement_due(store: &Store, id: &str) -> i64 {
    let sql = format!(
        "SELECT due_at_ms AS n FROM recon_expectations \
         WHERE settlement_id = '{id}' AND kind = 'statement'"
    );
    number(store, &sql).await
}

/// Once a run has recorded what it decided, the next reads only the settlements whose
/// decisions can still change (new ones, those still waiting for an answer, those whose
/// statement entry is overdue without a break) and decides what a run over every settlement
/// decides. A changed calendar makes the next run read them all and record the new due days.
#[tokio::test]
async fn a_periodic_run_reads_what_can_change_and_decides_as_a_full_one() {
    use corridor::recon::run::Scope;
    on_each_store("a_periodic_run_reads_what_can_change", |db| async move {
        let options = Options {
            workers: false,
            extra_env: vec![
                ("CORRIDOR__RECON__CONFIRMATION_SLA_MS", "3000".into()),
                ("CORRIDOR__RECON__INTERVAL_MS", "0".into()),
            ],
            ..Options::default()
        };
        let world = World::start(db, options).await;
        let store = world.db.store.clone();
        let label = world.db.label;
        let config = world.config.clone();
        let gateway = world.gateway.as_ref().unwrap();
        let a = post(&world, "evt-open-a", "10.00", "Invoice A").await;
        let k = post(&world, "evt-open-silent", "20.00", "SIM:SILENT").await;
        gateway.dispatcher.drain("test-step", 1000).await.unwrap();
        assert_eq!(state_of(&store, &a).await, "settled", "{label}");
        assert_eq!(state_of(&store, &k).await, "sent", "{label}");
        let now = corridor::store::now_ms();
        let first = run(&store, &config, now, false, "recon-test")
            .await
            .unwrap();
        assert_eq!(
            (first.scope, first.settlements),
            (Scope::All, 2),
            "{label}: nothing recorded yet"
        );

        let c = post(&world, "evt-open-c", "30.00", "Invoice C").await;
        gateway.dispatcher.drain("test-step", 1000).await.unwrap();
        assert_eq!(state_of(&store, &c).await, "settled", "{label}");
        // The new settlement and the one still waiting; the first one is decided for now.
        let dry = run(&store, &config, now, true, "recon-test").await.unwrap();
        assert_eq!(
            (dry.scope, dry.settlements, dry.expectations),
            (Scope::Open, 2, 2),
            "{label}"
        );
        let second = run(&store, &config, now, false, "recon-test")
            .await
            .unwrap();
        assert_eq!(
            (second.scope, second.settlements),
            (Scope::Open, 2),
            "{label}"
        );
        let quiet = run(&store, &config, now, true, "recon-test").await.unwrap();
        assert_eq!(
            (quiet.settlements, quiet.expectations, quiet.breaks.len()),
            (1, 0, 0),
            "{label}: only the one in flight"
        );

        // Ten days on: both statement entries are overdue and the silent bank is past its SLA.
        let ahead = as_of_from_date(
            &(time::OffsetDateTime::now_utc() + time::Duration::days(10))
                .date()
                .to_string(),
        )
        .unwrap();
        let open = run(&store, &config, ahead, true, "recon-test")
            .await
            .unwrap();
        // The control: a calendar that differs only for a currency none of them is in makes
        // the run read every settlement, and it decides the same.
        let mut other = (*config).clone();
        other.recon.holidays = vec![corridor::config::ReconHolidays {
            currency: Some("JPY".into()),
            counterparty: None,
            dates: vec!["2026-01-01".into()],
        }];
        let all = run(&store, &other, ahead, true, "recon-test")
            .await
            .unwrap();
        assert_eq!(
            (open.scope, all.scope),
            (Scope::Open, Scope::All),
            "{label}"
        );
        assert_eq!((open.settlements, all.settlements), (3, 3), "{label}");
        let want = vec![
            format!("missing_confirmation:{k}"),
            format!("missing_on_statement:{a}"),
            format!("missing_on_statement:{c}"),
        ];
        let mut want = want;
        want.sort();
        assert_eq!(open.break_keys(), want, "{label}");
        assert_eq!(all.break_keys(), want, "{label}");
        assert_eq!(open.expectations, all.expectations, "{label}");
        let written = run(&store, &config, ahead, false, "recon-test")
            .await
            .unwrap();
        assert_eq!(written.break_keys(), want, "{label}");
        let after = run(&store, &config, ahead, true, "recon-test")
            .await
            .unwrap();
        assert_eq!(
            (after.scope, after.settlements, after.breaks.len()),
            (Scope::Open, 1, 0),
            "{label}: the breaks are decided"
        );

        // EUR closed for the next fourteen days: the next run reads every settlement and
        // records the later due days; the one after is open again.
        let today = time::OffsetDateTime::now_utc().date();
        let closed: Vec<String> = (1..=14)
            .map(|i| (today + time::Duration::days(i)).to_string())
            .collect();
        let mut holidays = (*config).clone();
        holidays.recon.holidays = vec![corridor::config::ReconHolidays {
            currency: Some("EUR".into()),
            counterparty: None,
            dates: closed,
        }];
        let due_before = statement_due(&store, &a).await;
        let moved = run(&store, &holidays, now, false, "recon-test")
            .await
            .unwrap();
        assert_eq!((moved.scope, moved.settlements), (Scope::All, 3), "{label}");
        let due_after = statement_due(&store, &a).await;
        assert!(
            due_after >= due_before + 14 * 86_400_000,
            "{label}: due {due_before} → {due_after}"
        );
        let next = run(&store, &holidays, now, true, "recon-test")
            .await
            .unwrap();
        assert_eq!(next.scope, Scope::Open, "{label}");
        world.finish().await
    })
    .await;
}

/// The demo ends with a reconciliation of the simulated bank's statements (one per currency
/// account, each adding up) and the wallet switch's settlement report: with nothing planted,
/// no balance is found off and no statement entry is left unexplained.
#[test]
fn the_demo_reconciles_one_statement_per_currency_and_the_wallet_report_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_corridor"))
        .args(["demo", "--events", "120", "--data-dir"])
        .arg(dir.path().join("demo"))
        .env_remove("CORRIDOR_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .expect("run the demo");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    let statements: Vec<&str> = text
        .lines()
        .filter(|l| l.trim_start().starts_with("statement: camt.053 ("))
        .collect();
    assert!(statements.len() >= 2, "several currency accounts: {text}");
    for line in &statements {
        assert!(line.ends_with("balances add up: true"), "{line}");
    }
    let mut currencies: Vec<&str> = statements
        .iter()
        .map(|l| l.split('(').nth(1).unwrap().split(')').next().unwrap())
        .collect();
    let n = currencies.len();
    currencies.sort_unstable();
    currencies.dedup();
    assert_eq!(
        currencies.len(),
        n,
        "one statement per currency: {statements:?}"
    );
    assert!(
        text.contains("statement: settlement report (PHP) as wallet-csv"),
        "the wallet report is imported: {text}"
    );
    let summary = text
        .split("reconciliation:")
        .nth(1)
        .expect("a reconciliation");
    for kind in [
        "balance_mismatch",
        "unexpected_entry",
        "missing_on_statement",
    ] {
        assert!(
            !summary.contains(kind),
            "{kind} in a demo with nothing planted: {summary}"
        );
    }
}
