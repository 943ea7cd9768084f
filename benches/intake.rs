//! Intake throughput on the embedded default: events validated, routed, rendered (pacs.008 +
//! head.001, CBPR+-checked) and stored with their outbox rows, one transaction per batch
//! (group commit) on SQLite with synchronous=FULL.
//!
//!     cargo bench --bench intake

use corridor::config::Config;
use corridor::store::journal::{self, Channel};
use corridor::store::Store;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::sync::atomic::{AtomicU64, Ordering};

const CONFIG: &str = r#"
[gateway]
bic = "CORRGB2LXXX"
[[ledgers]]
id = "bench"
secrets = ["s"]
[[banks]]
id = "b"
bic = "DEUTDEFFXXX"
endpoint = "https://127.0.0.1:9/mx"
ca_file = "ca.pem"
cert_file = "c.pem"
key_file = "k.pem"
[[routes]]
rail = "iso20022"
counterparty = "b"
"#;

fn event(n: u64) -> serde_json::Value {
    serde_json::json!({
        "event_id": format!("bench-{n}"), "type": "settlement.requested",
        "amount": format!("{}.{:02}", 10 + n % 90_000, n % 100), "currency": "EUR",
        "debtor": {"name": "Nordwind Logistik AG", "account": {"iban": "DE89370400440532013000"}, "agent": {"bic": "COBADEFFXXX"},
                   "address": {"street_name": "Am Sandtorkai", "building_number": "50", "post_code": "20457", "town_name": "Hamburg", "country": "DE"}},
        "creditor": {"name": "Jane Roe", "account": {"iban": "FR1420041010050500013M02606"}, "agent": {"bic": "BNPAFRPPXXX"}, "country": "FR",
                     "address": {"street_name": "Rue de Rivoli", "building_number": "10", "post_code": "75001", "town_name": "Paris", "country": "FR"}},
        "remittance_info": format!("Invoice {n}")
    })
}

fn intake(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let store = runtime.block_on(Store::connect(&url, 1)).unwrap();
    let config = Config::from_toml(CONFIG, Vec::new()).unwrap();
    let next = AtomicU64::new(0);
    let mut group = c.benchmark_group("intake");
    for batch in [1u64, 100] {
        group.throughput(Throughput::Elements(batch));
        group.bench_function(format!("sqlite, {batch} events per request"), |b| {
            b.iter_batched(
                || {
                    let start = next.fetch_add(batch, Ordering::Relaxed);
                    (start..start + batch).map(event).collect::<Vec<_>>()
                },
                |events| {
                    runtime.block_on(async {
                        let raw = serde_json::to_vec(&events).unwrap();
                        let inbound = journal::record(
                            &store,
                            Channel::LedgerHttp,
                            Some("bench"),
                            None,
                            &raw,
                            journal::AuthenticatedBy::Signature,
                        )
                        .await
                        .unwrap();
                        let results = corridor::intake::accept_events(
                            &store, &config, "bench", inbound, events,
                        )
                        .await
                        .unwrap();
                        assert!(results
                            .iter()
                            .all(|r| r.outcome == corridor::intake::Intake::Created));
                    })
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

criterion_group!(benches, intake);
criterion_main!(benches);
