//! Test helpers: every store test runs on SQLite (a fresh file) and on PostgreSQL (a fresh
//! database) when `DATABASE_URL` names a server. Without it the PostgreSQL half says it was
//! skipped, loudly, instead of passing in silence.
#![allow(dead_code)]

pub mod invariants;
pub mod scan;
pub mod statements;
pub mod world;

use corridor::store::Store;
use std::future::Future;

/// A store for one test, with what it takes to remove it afterwards.
pub struct TestDb {
    pub label: &'static str,
    pub url: String,
    pub store: Store,
    _dir: Option<tempfile::TempDir>,
    pg_admin: Option<(String, String)>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("corridor.db").display());
        let store = Store::connect(&url, 4).await.expect("sqlite store");
        TestDb {
            label: "sqlite",
            url,
            store,
            _dir: Some(dir),
            pg_admin: None,
        }
    }

    /// A new database on the server named by `DATABASE_URL`, or None (with a message).
    pub async fn postgres(test: &str) -> Option<TestDb> {
        let Ok(admin_url) = std::env::var("DATABASE_URL") else {
            // Written past the test harness's capture, so that a skip is seen even on a pass.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED [postgres] {test}: DATABASE_URL is not set"
            );
            return None;
        };
        sqlx::any::install_default_drivers();
        let name = format!("corridor_t_{}", uuid::Uuid::new_v4().simple());
        let admin = sqlx::AnyPool::connect(&admin_url)
            .await
            .expect("connect to DATABASE_URL");
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .expect("create test database");
        admin.close().await;
        let url = with_database(&admin_url, &name);
        let store = Store::connect(&url, 8).await.expect("postgres store");
        Some(TestDb {
            label: "postgres",
            url,
            store,
            _dir: None,
            pg_admin: Some((admin_url, name)),
        })
    }

    /// Closes the pool and drops a PostgreSQL test database.
    pub async fn finish(self) {
        self.store.close().await;
        if let Some((admin_url, name)) = self.pg_admin {
            if let Ok(admin) = sqlx::AnyPool::connect(&admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&admin)
                    .await;
                admin.close().await;
            }
        }
    }
}

/// A new, empty database (no migrations run) for tests that migrate by hand.
pub struct EmptyDb {
    pub label: &'static str,
    pub url: String,
    /// Where the migrations of this dialect are.
    pub migrations: &'static str,
    _dir: Option<tempfile::TempDir>,
    pg_admin: Option<(String, String)>,
}

impl EmptyDb {
    /// One of each kind: SQLite always, PostgreSQL when `DATABASE_URL` is set (else a
    /// SKIPPED line, as for [`TestDb::postgres`]).
    pub async fn each(test: &str) -> Vec<EmptyDb> {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut out = vec![EmptyDb {
            label: "sqlite",
            url: format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("corridor.db").display()
            ),
            migrations: "schemas/sql/sqlite",
            _dir: Some(dir),
            pg_admin: None,
        }];
        if let Some(db) = TestDb::postgres(test).await {
            // Reuse the server and naming, but start from an empty database.
            let (admin_url, _) = db.pg_admin.clone().expect("postgres admin");
            db.finish().await;
            let name = format!("corridor_t_{}", uuid::Uuid::new_v4().simple());
            let admin = sqlx::AnyPool::connect(&admin_url).await.expect("admin");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin)
                .await
                .expect("create test database");
            admin.close().await;
            out.push(EmptyDb {
                label: "postgres",
                url: with_database(&admin_url, &name),
                migrations: "schemas/sql/postgres",
                _dir: None,
                pg_admin: Some((admin_url, name)),
            });
        }
        out
    }

    pub async fn finish(self) {
        if let Some((admin_url, name)) = self.pg_admin {
            if let Ok(admin) = sqlx::AnyPool::connect(&admin_url).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&admin)
                    .await;
                admin.close().await;
            }
        }
    }
}

/// Replaces the database name (the path) of a postgres:// URL.
pub fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_end = base[scheme_end..]
        .find('/')
        .map(|i| i + scheme_end)
        .unwrap_or(base.len());
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// Runs `body` once on SQLite and once on PostgreSQL (when available).
pub async fn on_each_store<F, Fut>(test: &str, body: F)
where
    F: Fn(TestDb) -> Fut,
    Fut: Future<Output = TestDb>,
{
    let db = TestDb::sqlite().await;
    body(db).await.finish().await;

    if let Some(db) = TestDb::postgres(test).await {
        body(db).await.finish().await;
    }
}

/// A valid event as a ledger would post it.
pub fn event_json(event_id: &str, amount: &str, remittance: &str) -> serde_json::Value {
    serde_json::json!({
        "event_id": event_id,
        "type": "settlement.requested",
        "occurred_at": "2026-11-25T12:00:00Z",
        "amount": amount,
        "currency": "EUR",
        "debtor": {"name": "Acme GmbH", "account": {"iban": "DE89370400440532013000"}, "agent": {"bic": "COBADEFFXXX"},
                   "address": {"street_name": "Friedrichstraße", "building_number": "123", "post_code": "10117", "town_name": "Berlin", "country": "DE"}},
        "creditor": {"name": "Jane Roe", "account": {"iban": "FR1420041010050500013M02606"}, "agent": {"bic": "BNPAFRPPXXX"}, "country": "FR",
                     "address": {"street_name": "Rue de Rivoli", "building_number": "10", "post_code": "75001", "town_name": "Paris", "country": "FR"}},
        "remittance_info": remittance
    })
}

pub fn settlement(event_id: &str) -> corridor::domain::Settlement {
    let json = corridor::intake::event::parse_json(event_json(event_id, "100.00", "test")).unwrap();
    corridor::intake::event::to_settlement("test-ledger", &json).unwrap()
}

/// Writes `settlement` as received through the store's group writer; its id.
pub async fn write_received(
    store: &corridor::store::Store,
    settlement: corridor::domain::Settlement,
) -> corridor::domain::SettlementId {
    let id = settlement.id.clone();
    store
        .write(move |conn| {
            Box::pin(async move {
                corridor::store::settlements::insert_received(
                    conn,
                    &settlement,
                    "hash",
                    "test",
                    None,
                )
                .await
            })
        })
        .await
        .unwrap();
    id
}

/// A PHP wallet credit to `msisdn` (an ISO 8583 payment: no postal addresses).
pub fn wallet_event(event_id: &str, amount: &str, msisdn: &str) -> serde_json::Value {
    let mut event = event_json(event_id, amount, "wallet top-up");
    event["currency"] = "PHP".into();
    event["creditor"]["account"] = serde_json::json!({"msisdn": msisdn});
    for party in ["debtor", "creditor"] {
        event[party].as_object_mut().unwrap().remove("address");
    }
    event
}
