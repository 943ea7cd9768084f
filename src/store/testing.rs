//! Stores for the crate's own tests: SQLite in a temporary file always, and PostgreSQL in a
//! new database when `DATABASE_URL` names a server (else a SKIPPED line), as tests/common does
//! for the integration tests.

use super::Store;
use crate::config::Config;
use std::sync::Arc;

/// A gateway with one bank (never reached: tests that use it step no dispatch), taking EUR.
const CONFIG: &str = r#"
[gateway]
bic = "CORRGB2LXXX"
[[ledgers]]
id = "l"
secrets = ["s"]
[[banks]]
id = "b"
bic = "DEUTDEFFXXX"
endpoint = "https://127.0.0.1:9/mx"
ca_file = "ca.pem"
cert_file = "c.pem"
key_file = "k.pem"
[[routes]]
currencies = ["EUR"]
rail = "iso20022"
counterparty = "b"
"#;

pub(crate) fn config() -> Arc<Config> {
    Arc::new(Config::from_toml(CONFIG, Vec::new()).expect("test configuration"))
}

/// [`config`] with a wallet switch `w` (never reached) taking PHP to mobile numbers.
pub(crate) fn config_with_wallet() -> Arc<Config> {
    let wallet = r#"
[[switches]]
id = "w"
addr = "127.0.0.1:9"
spec = "mobile-money"
[[routes]]
currencies = ["PHP"]
account_kinds = ["msisdn"]
rail = "wallet"
counterparty = "w"
"#;
    let toml = format!("{CONFIG}{wallet}");
    Arc::new(Config::from_toml(&toml, Vec::new()).expect("test configuration"))
}

/// A valid PHP event of ledger `l` to the mobile number `msisdn` (the wallet rail).
pub(crate) fn wallet_event(id: &str, amount: &str, msisdn: &str) -> serde_json::Value {
    let mut e = event(id, amount);
    e["currency"] = "PHP".into();
    e["creditor"]["account"] = serde_json::json!({ "msisdn": msisdn });
    for party in ["debtor", "creditor"] {
        e[party].as_object_mut().unwrap().remove("address");
    }
    e
}

/// A valid EUR event of ledger `l` to the bank.
pub(crate) fn event(id: &str, amount: &str) -> serde_json::Value {
    serde_json::json!({
        "event_id": id, "type": "settlement.requested", "amount": amount, "currency": "EUR",
        "debtor": {"name": "Acme GmbH", "account": {"iban": "DE89370400440532013000"}, "agent": {"bic": "COBADEFFXXX"},
                   "address": {"street_name": "Am Sandtorkai", "building_number": "50", "post_code": "20457", "town_name": "Hamburg", "country": "DE"}},
        "creditor": {"name": "Jane Roe", "account": {"iban": "FR1420041010050500013M02606"}, "agent": {"bic": "BNPAFRPPXXX"}, "country": "FR",
                     "address": {"street_name": "Rue de Rivoli", "building_number": "10", "post_code": "75001", "town_name": "Paris", "country": "FR"}},
        "remittance_info": "test"
    })
}

/// A journal entry of ledger `l` (body `{}`) for events a test applies directly; its id.
pub(crate) async fn journaled(store: &Store) -> i64 {
    use crate::store::journal::{self, AuthenticatedBy, Channel};
    journal::record(
        store,
        Channel::LedgerHttp,
        Some("l"),
        None,
        b"{}",
        AuthenticatedBy::Signature,
    )
    .await
    .unwrap()
}

/// Writes `items` in one transaction as a group writer does: merged where
/// [`Merge::write_all`](super::group::Merge::write_all) takes them, each of the rest alone
/// after it. Which ones merged, and every item's answer.
pub(crate) async fn merged_then_rest<M: super::group::Merge>(
    store: &Store,
    mut items: Vec<M>,
) -> (Vec<bool>, Vec<M::Output>) {
    // What a group writer does before the group's transaction.
    let mut conn = store.pool().acquire().await.unwrap();
    M::before_group(&mut conn, items.iter_mut().collect()).await;
    drop(conn);
    let mut tx = store.begin().await.unwrap();
    let out = M::write_all(&mut tx, &items).await.unwrap();
    let merged = out.iter().map(Option::is_some).collect();
    let mut answers = Vec::new();
    for (item, out) in items.into_iter().zip(out) {
        answers.push(match out {
            Some(answer) => answer,
            None => item.write_one(&mut tx).await.unwrap(),
        });
    }
    tx.commit().await.unwrap();
    (merged, answers)
}

/// Writes each of `items` alone, in a transaction of its own; their answers.
pub(crate) async fn each_alone<M: super::group::Merge>(
    store: &Store,
    items: Vec<M>,
) -> Vec<M::Output> {
    let mut answers = Vec::new();
    for item in items {
        let mut tx = store.begin().await.unwrap();
        answers.push(item.write_one(&mut tx).await.unwrap());
        tx.commit().await.unwrap();
    }
    answers
}

/// A settlement's jobs, a line each: kind, status, attempts and lease owner.
pub(crate) async fn job_lines(
    conn: &mut sqlx::AnyConnection,
    sid: &crate::domain::SettlementId,
) -> Vec<String> {
    use sqlx::Row;
    let jobs = sqlx::query(
        "SELECT kind, status, attempts, lease_owner FROM outbox WHERE settlement_id = $1 \
         ORDER BY kind",
    )
    .bind(sid.as_str())
    .fetch_all(conn)
    .await
    .unwrap();
    jobs.iter()
        .map(|job| {
            format!(
                "job {} {} {} {:?}",
                job.get::<String, _>("kind"),
                job.get::<String, _>("status"),
                job.get::<i64, _>("attempts"),
                job.get::<Option<String>, _>("lease_owner")
            )
        })
        .collect()
}

/// A store for one test, with what it takes to remove it afterwards.
pub(crate) struct TestStore {
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
    /// The server's URL and the database made for the test.
    postgres: Option<(String, String)>,
}

/// One store of each kind available.
pub(crate) async fn each(test: &str) -> Vec<TestStore> {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("corridor.db").display());
    let mut out = vec![TestStore {
        store: Store::connect(&url, 4).await.expect("sqlite store"),
        _dir: Some(dir),
        postgres: None,
    }];
    let Ok(admin_url) = std::env::var("DATABASE_URL") else {
        // Written past the test harness's capture (which takes `eprintln!`), so that a skip
        // is seen even when the test passes.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED [postgres] {test}: DATABASE_URL is not set"
        );
        return out;
    };
    let name = format!("corridor_u_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::AnyPool::connect(&admin_url)
        .await
        .expect("connect to DATABASE_URL");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .expect("create test database");
    admin.close().await;
    let (server, _) = admin_url
        .split('?')
        .next()
        .and_then(|base| base.rsplit_once('/'))
        .expect("DATABASE_URL names a database");
    let store = Store::connect(&format!("{server}/{name}"), 8)
        .await
        .expect("postgres store");
    out.push(TestStore {
        store,
        _dir: None,
        postgres: Some((admin_url, name)),
    });
    out
}

/// The PostgreSQL store of [`each`], for a test of what only PostgreSQL does: none without
/// `DATABASE_URL` (and `each`'s SKIPPED line says so).
pub(crate) async fn postgres_only(test: &str) -> Option<TestStore> {
    let mut stores = each(test).await;
    let postgres = stores
        .iter()
        .position(|s| s.postgres.is_some())
        .map(|i| stores.remove(i));
    for other in stores {
        other.finish().await;
    }
    postgres
}

impl TestStore {
    /// Closes the store and drops its PostgreSQL database.
    pub async fn finish(self) {
        self.store.close().await;
        if let Some((admin_url, name)) = self.postgres {
            if let Ok(admin) = sqlx::AnyPool::connect(&admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&admin)
                    .await;
                admin.close().await;
            }
        }
    }
}

/// `count` events of EUR 10.00 (`e0`, `e1`, …) taken in with the test configuration and
/// claimed, as [`taken_in_and_claimed`] does.
pub(crate) async fn some_taken_in_and_claimed(
    store: &Store,
    count: usize,
) -> Vec<(crate::domain::SettlementId, super::outbox::Job)> {
    let events = (0..count)
        .map(|i| event(&format!("e{i}"), "10.00"))
        .collect();
    taken_in_and_claimed(store, &config(), events).await
}

/// The plan PostgreSQL makes for `explain` (an `EXPLAIN …` with its parameters bound), as
/// for a table of any size: sequential scans are switched off on `conn` first, so that a
/// test's few rows do not hide an index left unused.
pub(crate) async fn plan<'q>(
    conn: &mut sqlx::AnyConnection,
    explain: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
) -> String {
    use sqlx::Row;
    sqlx::query("SET enable_seqscan = off")
        .execute(&mut *conn)
        .await
        .expect("switching sequential scans off");
    let rows = explain.fetch_all(&mut *conn).await.expect("EXPLAIN");
    let lines: Vec<String> = rows
        .iter()
        .map(|row| row.try_get(0).expect("a plan's line"))
        .collect();
    lines.join("\n")
}

/// Takes `events` in from ledger `l` (one journaled request) and claims every due job as
/// worker `w`: each event's settlement with its job, in the events' order.
pub(crate) async fn taken_in_and_claimed(
    store: &Store,
    config: &Config,
    events: Vec<serde_json::Value>,
) -> Vec<(crate::domain::SettlementId, super::outbox::Job)> {
    let inbound = journaled(store).await;
    let created = crate::intake::accept_events(store, config, "l", inbound, events)
        .await
        .unwrap();
    let jobs = super::outbox::claim(store, "w", super::now_ms(), 60_000, 100)
        .await
        .unwrap();
    created
        .iter()
        .map(|result| {
            let id = result.settlement_id.as_deref().unwrap();
            let sid = crate::domain::SettlementId::parse(id).unwrap();
            let job = jobs
                .iter()
                .find(|j| j.settlement_id == sid)
                .unwrap()
                .clone();
            (sid, job)
        })
        .collect()
}
