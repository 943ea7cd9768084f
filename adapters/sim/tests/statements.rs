//! The bank's statements come from its own books: what it settled, with the gateway's
//! references and its own; each scripted discrepancy shows in the statement; both camt
//! versions, camt.054 and MT940 are served on `GET /statements/eod`.

mod common;

use common::{mtls_client, pacs008, pacs008_in, post, start_bank, Ids};
use iso20022::statement_flat::{FlatEntry, FlatItem, FlatReader};
use sim::bank::StatementRequest;
use sim::statements::{Plant, Script, StatementLine};
use std::time::Duration;

fn read(xml: &str) -> (String, Vec<i64>, Vec<FlatEntry>) {
    let mut reader = FlatReader::new(xml.as_bytes(), iso20022::Limits::default());
    let (mut balances, mut entries) = (Vec::new(), Vec::new());
    while let Some(item) = reader.next_item().unwrap() {
        match item {
            FlatItem::Report(r) => balances = r.balances.iter().map(|b| b.signed_minor).collect(),
            FlatItem::Entry(e) => entries.push(e),
        }
    }
    (
        reader.format().unwrap().msg_def_idr().to_string(),
        balances,
        entries,
    )
}

fn e2e(e: &FlatEntry) -> &str {
    e.transactions[0].end_to_end_id.as_deref().unwrap()
}

#[tokio::test]
async fn the_banks_statement_shows_what_it_settled_and_what_was_planted() {
    let (pki, bank) = start_bank(None).await;
    let client = mtls_client(&pki, Duration::from_secs(5));
    let ids: Vec<Ids> = (1..=4).map(Ids::new).collect();
    for id in &ids {
        let (status, _) = post(&client, &bank, &pacs008(id, bank.bic(), "invoice"))
            .await
            .unwrap();
        assert_eq!(status, 200);
    }
    // A rejected payment is not on the statement.
    let rejected = Ids::new(9);
    post(
        &client,
        &bank,
        &pacs008(&rejected, bank.bic(), "SIM:REJECT:AC04"),
    )
    .await
    .unwrap();

    let url = |q: &str| format!("https://{}/statements/eod?{q}", bank.addr());
    let body = client
        .get(url("format=camt053&opening_minor=100000"))
        .send()
        .await
        .unwrap();
    assert_eq!(body.status(), 200);
    let (format, balances, entries) = read(&body.text().await.unwrap());
    assert_eq!(format, "camt.053.001.08");
    assert_eq!(entries.len(), 4);
    let keys: Vec<_> = entries.iter().map(e2e).collect();
    assert_eq!(keys, ["E2E-0001", "E2E-0002", "E2E-0003", "E2E-0004"]);
    let uetr = entries[0].transactions[0].uetr.as_deref().unwrap();
    assert_eq!(uetr, ids[0].uetr.to_ascii_lowercase());
    assert!(entries
        .iter()
        .all(|e| !e.credit && e.acct_svcr_ref.is_some()));
    let total: i64 = entries.iter().map(|e| e.amount.minor()).sum();
    assert_eq!(
        balances,
        vec![100_000, 100_000 - total],
        "opening, closing add up"
    );

    bank.script_statements(Script {
        plants: vec![
            Plant::Missing("E2E-0001".into()),
            Plant::Charge("E2E-0002".into(), 250),
            Plant::Duplicate("E2E-0003".into()),
            Plant::Return("E2E-0004".into(), "AC04".into()),
            Plant::Unexpected(Box::new(StatementLine {
                amount_minor: 777,
                currency: "EUR".into(),
                credit: true,
                date: entries[0].value_date.clone().unwrap(),
                end_to_end_id: Some("NOBODY".into()),
                ..Default::default()
            })),
            Plant::BalanceOff(5),
        ],
    });
    let xml = bank.statement(&StatementRequest {
        version: sim::statements::CamtVersion::V02,
        ..Default::default()
    });
    let (format, balances, planted) = read(&xml);
    assert_eq!(format, "camt.053.001.02");
    let keys: Vec<_> = planted.iter().map(e2e).collect();
    assert_eq!(
        keys,
        ["E2E-0002", "E2E-0003", "E2E-0003", "E2E-0004", "E2E-0004", "NOBODY"]
    );
    assert_eq!(planted[0].amount.minor(), entries[1].amount.minor() - 250);
    assert_eq!(planted[0].charges_minor, Some(250));
    assert_eq!(
        planted[4].transactions[0].return_reason.as_deref(),
        Some("AC04")
    );
    assert!(planted[4].credit, "the return comes back as a credit");
    let net: i64 = planted
        .iter()
        .map(|e| {
            if e.credit {
                e.amount.minor()
            } else {
                -e.amount.minor()
            }
        })
        .sum();
    assert_eq!(
        balances[1] - balances[0],
        net + 5,
        "the closing balance is off by what was planted"
    );

    let body = client
        .get(url("format=camt054"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(read(&body).0, "camt.054.001.08");
    let mt940 = client
        .get(url("format=mt940"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        mt940.starts_with("{1:F01") && mt940.contains(":61:") && mt940.contains("/RTRN/AC04"),
        "{mt940}"
    );
    let bad = client.get(url("format=pdf")).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    bank.shutdown().await;
}

/// A bank keeps one account per currency: one statement each, with its own balances, so that
/// payments in several currencies never add up under one balance.
#[tokio::test]
async fn one_statement_per_currency_account_each_adding_up() {
    let (pki, bank) = start_bank(None).await;
    let client = mtls_client(&pki, Duration::from_secs(5));
    let payments = [
        (1, "100.00", "EUR"),
        (2, "250.00", "USD"),
        (3, "40.00", "EUR"),
        (4, "5000", "JPY"),
    ];
    for (n, amount, ccy) in payments {
        let ids = Ids::new(n);
        let (status, _) = post(
            &client,
            &bank,
            &pacs008_in(&ids, bank.bic(), "invoice", amount, ccy),
        )
        .await
        .unwrap();
        assert_eq!(status, 200);
    }
    bank.script_statements(Script {
        plants: vec![Plant::BalanceOff(7)],
    });
    let all = bank.statements(&StatementRequest {
        opening_minor: 1_000_000,
        ..Default::default()
    });
    let currencies: Vec<&str> = all.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(
        currencies,
        ["EUR", "USD", "JPY"],
        "in order of first booking"
    );
    let mut ids = std::collections::HashSet::new();
    for (ccy, xml) in &all {
        let (_, balances, entries) = read(xml);
        assert!(
            entries.iter().all(|e| e.amount.currency().alpha == ccy),
            "{ccy}: only its own currency"
        );
        let total: i64 = entries.iter().map(|e| e.amount.minor()).sum();
        let planted = if ccy == "EUR" { 7 } else { 0 };
        assert_eq!(
            balances,
            vec![1_000_000, 1_000_000 - total + planted],
            "{ccy}: the balances add up (the planted gap only in the first)"
        );
        let id = xml
            .split("<Stmt><Id>")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap();
        assert!(ids.insert(id.to_string()), "statement ids differ: {id}");
    }
    let (_, _, eur) = read(&all[0].1);
    assert_eq!(
        eur.iter().map(e2e).collect::<Vec<_>>(),
        ["E2E-0001", "E2E-0003"]
    );
    let (_, _, jpy) = read(&all[2].1);
    assert_eq!(jpy[0].amount.minor(), 5000, "JPY has no minor digits");

    let url = format!(
        "https://{}/statements/eod?format=camt053&currency=USD&opening_minor=1000000",
        bank.addr()
    );
    let usd = client.get(url).send().await.unwrap().text().await.unwrap();
    assert_eq!(usd, all[1].1, "the same statement over HTTP");
    bank.shutdown().await;
}
