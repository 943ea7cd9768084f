//! The writer on a real anvil: confirmed outcomes, a crash after sending, a stuck
//! transaction replaced, duplicates as success, and the endpoint going away.

mod common;

use alloy::primitives::B256;
use alloy::providers::Provider as _;
use alloy::rpc::types::Filter;
use alloy::sol_types::SolEvent;
use common::{id, set_automine, within, Chain, Proxy};
use ledger_evm::contract::{OutcomeStatus, SettlementOutcome};
use ledger_evm::rpc::Provider;
use ledger_evm::writer::{Outcome, PendingTx, Prepared, RecordedBy, Step, Writer, WriterConfig};

fn outcome(n: u64) -> Outcome {
    Outcome {
        entry: ledger_evm::contract::Entry::Outcome,
        amount: ledger_evm::U256::ZERO,
        id: id(n),
        status: OutcomeStatus::Settled,
        reason_code: "ACSC".into(),
        counterparty_ref: "eb6305c9-1f7f-49de-aed0-16487c27b42d".into(),
        evidence: B256::repeat_byte(n as u8),
    }
}

fn config(chain: &Chain, confirmations: u64) -> WriterConfig {
    let mut config = WriterConfig::new(chain.contract);
    config.confirmations = confirmations;
    config.resubmit_after_ms = 30_000;
    config.poll_interval_ms = 10;
    config
}

async fn writer_on(provider: Provider, chain: &Chain, config: WriterConfig) -> Writer {
    Writer::new(provider, chain.gateway.clone(), config)
        .await
        .unwrap()
}

async fn prepared(writer: &Writer, outcome: &Outcome) -> PendingTx {
    match writer.prepare(outcome).await.unwrap() {
        Prepared::Send(pending) => pending,
        other => panic!("expected a transaction to send, got {other:?}"),
    }
}

/// `SettlementOutcome` events for `id` on chain.
async fn outcome_logs(chain: &Chain, id: B256) -> usize {
    let filter = Filter::new()
        .address(chain.contract)
        .event_signature(SettlementOutcome::SIGNATURE_HASH)
        .topic1(id)
        .from_block(0);
    chain.provider.get_logs(&filter).await.unwrap().len()
}

async fn gateway_nonce(chain: &Chain) -> u64 {
    chain
        .provider
        .get_transaction_count(chain.gateway.address())
        .await
        .unwrap()
}

#[tokio::test]
async fn records_and_waits_for_confirmations() {
    let Some(chain) = Chain::start("records_and_waits_for_confirmations", &[]).await else {
        return;
    };
    within(60, async {
        chain.request(id(1), 100).await;
        let writer = writer_on(chain.provider.clone(), &chain, config(&chain, 3)).await;
        let pending = prepared(&writer, &outcome(1)).await;
        assert_eq!(pending.nonce, 0);
        assert_eq!(
            writer.step(&pending).await.unwrap(),
            Step::Waiting {
                mined_in: None,
                confirmations: 0
            }
        );
        // Automine mines it at once, but the node may take a moment to say so on a busy
        // machine: step until the receipt shows (bounded).
        let mut block = None;
        for _ in 0..200 {
            match writer.step(&pending).await.unwrap() {
                Step::Waiting {
                    mined_in: Some(mined),
                    confirmations,
                } => {
                    assert_eq!(confirmations, 1, "mined in the head block");
                    block = Some(mined);
                    break;
                }
                Step::Waiting { mined_in: None, .. } => {
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await
                }
                other => panic!("not mined: {other:?}"),
            }
        }
        let block = block.expect("mined within 4 s");
        chain.mine(1).await;
        assert!(matches!(
            writer.step(&pending).await.unwrap(),
            Step::Waiting {
                confirmations: 2,
                ..
            }
        ));
        chain.mine(1).await;
        let Step::Done(recorded) = writer.step(&pending).await.unwrap() else {
            panic!("not done")
        };
        let RecordedBy::ThisTransaction {
            tx_hash,
            block_number,
            gas_used,
            fee_wei,
        } = recorded.by
        else {
            panic!("not recorded by this transaction: {:?}", recorded.by)
        };
        assert_eq!((tx_hash, block_number), (pending.current().tx_hash, block));
        assert!(
            gas_used > 21_000,
            "a contract call's gas from the receipt: {gas_used}"
        );
        assert!(
            fee_wei >= u128::from(gas_used),
            "fee {fee_wei} for gas {gas_used}"
        );
        assert_eq!(recorded.stored.status, OutcomeStatus::Settled);
        assert_eq!(recorded.stored.reason_code, "ACSC");
        assert_eq!(recorded.stored.evidence, outcome(1).evidence);
        assert_eq!(outcome_logs(&chain, id(1)).await, 1);
    })
    .await;
}

#[tokio::test]
async fn a_writer_that_died_is_resumed_from_its_persisted_transaction() {
    let Some(chain) = Chain::start(
        "a_writer_that_died_is_resumed_from_its_persisted_transaction",
        &[],
    )
    .await
    else {
        return;
    };
    within(60, async {
        for n in 1..=3 {
            chain.request(id(n), 100 * n).await;
        }
        let store = tempfile::tempdir().unwrap();
        let path = store.path().join("pending.json");

        // Died after sending: persisted, broadcast (and mined), receipt never seen.
        {
            let writer = writer_on(chain.provider.clone(), &chain, config(&chain, 1)).await;
            let pending = prepared(&writer, &outcome(1)).await;
            std::fs::write(&path, serde_json::to_vec(&pending).unwrap()).unwrap();
            writer.step(&pending).await.unwrap();
        }
        let stored: PendingTx = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let writer = writer_on(chain.provider.clone(), &chain, config(&chain, 1)).await;
        writer.resume(std::slice::from_ref(&stored)).await.unwrap();
        let recorded = writer.drive(stored.clone(), |_| Ok::<_, String>(())).await.unwrap();
        let head = chain.head().await;
        assert!(
            matches!(recorded.by, RecordedBy::ThisTransaction { tx_hash, block_number, .. }
                if tx_hash == stored.current().tx_hash && block_number == head),
            "{:?}",
            recorded.by
        );
        assert_eq!(gateway_nonce(&chain).await, 1, "one transaction in all");
        assert_eq!(outcome_logs(&chain, id(1)).await, 1);

        // Died after persisting, before the broadcast: the next process sends the stored bytes.
        {
            let writer = writer_on(chain.provider.clone(), &chain, config(&chain, 1)).await;
            let pending = prepared(&writer, &outcome(2)).await;
            std::fs::write(&path, serde_json::to_vec(&pending).unwrap()).unwrap();
        }
        let stored: PendingTx = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(stored.nonce, 1);
        let writer = writer_on(chain.provider.clone(), &chain, config(&chain, 1)).await;
        writer.resume(std::slice::from_ref(&stored)).await.unwrap();
        // New nonces follow the stored one, although the chain has not seen it yet.
        let next = prepared(&writer, &outcome(3)).await;
        assert_eq!(next.nonce, 2);
        let recorded = writer.drive(stored.clone(), |_| Ok::<_, String>(())).await.unwrap();
        assert!(matches!(recorded.by, RecordedBy::ThisTransaction { tx_hash, .. } if tx_hash == stored.current().tx_hash));
        assert_eq!(outcome_logs(&chain, id(2)).await, 1);
        assert_eq!(gateway_nonce(&chain).await, 2, "the stored transaction, nothing more");
        writer.drive(next, |_| Ok::<_, String>(())).await.unwrap();
        assert_eq!(gateway_nonce(&chain).await, 3);
    })
    .await;
}

#[tokio::test]
async fn a_stuck_transaction_is_replaced_with_a_higher_fee() {
    let Some(chain) = Chain::start("a_stuck_transaction_is_replaced_with_a_higher_fee", &[]).await
    else {
        return;
    };
    within(60, async {
        chain.request(id(1), 100).await;
        set_automine(&chain.provider, false).await;
        let config = config(&chain, 1);
        let resubmit_after_ms = config.resubmit_after_ms;
        let writer = writer_on(chain.provider.clone(), &chain, config).await;
        let first = prepared(&writer, &outcome(1)).await;
        assert!(matches!(writer.step(&first).await.unwrap(), Step::Waiting { mined_in: None, .. }));
        assert!(matches!(writer.step(&first).await.unwrap(), Step::Waiting { mined_in: None, .. }), "not mined, not yet bumped");

        let later = first.current().signed_at_unix_ms + resubmit_after_ms;
        let Step::Persist(second) = writer.step_at(&first, later).await.unwrap() else { panic!("no replacement") };
        assert_eq!((second.nonce, second.versions.len()), (first.nonce, 2));
        let (old, new) = (&second.versions[0], &second.versions[1]);
        assert!(new.max_fee_per_gas >= old.max_fee_per_gas * 120 / 100, "{} -> {}", old.max_fee_per_gas, new.max_fee_per_gas);
        assert!(new.max_priority_fee_per_gas > old.max_priority_fee_per_gas);
        assert!(matches!(writer.step(&second).await.unwrap(), Step::Waiting { mined_in: None, .. }));

        let _: String = chain.provider.raw_request("evm_mine".into(), ()).await.unwrap();
        let Step::Done(recorded) = writer.step(&second).await.unwrap() else { panic!("not done") };
        assert!(matches!(recorded.by, RecordedBy::ThisTransaction { tx_hash, .. } if tx_hash == new.tx_hash));
        assert!(chain.provider.get_transaction_receipt(old.tx_hash).await.unwrap().is_none(), "the old version was replaced");
        assert_eq!(gateway_nonce(&chain).await, 1);
        assert_eq!(outcome_logs(&chain, id(1)).await, 1);
    })
    .await;
}

#[tokio::test]
async fn a_duplicate_outcome_is_success_and_is_not_written_again() {
    let Some(chain) = Chain::start(
        "a_duplicate_outcome_is_success_and_is_not_written_again",
        &[],
    )
    .await
    else {
        return;
    };
    within(60, async {
        chain.request(id(1), 100).await;
        chain.request(id(2), 100).await;
        let writer = writer_on(chain.provider.clone(), &chain, config(&chain, 1)).await;
        writer
            .record(&outcome(1), |_| Ok::<_, String>(()))
            .await
            .unwrap();
        let nonce = gateway_nonce(&chain).await;
        let again = writer
            .record(&outcome(1), |_| Ok::<_, String>(()))
            .await
            .unwrap();
        assert_eq!(again.by, RecordedBy::AlreadyOnChain);
        assert_eq!(
            gateway_nonce(&chain).await,
            nonce,
            "nothing sent for a duplicate"
        );

        // Two transactions for one outcome in one block: the second reverts with
        // OutcomeAlreadyRecorded, and the writer counts it as recorded.
        set_automine(&chain.provider, false).await;
        let a = prepared(&writer, &outcome(2)).await;
        let b = prepared(&writer, &outcome(2)).await;
        assert_eq!(b.nonce, a.nonce + 1);
        writer.step(&a).await.unwrap();
        writer.step(&b).await.unwrap();
        let _: String = chain
            .provider
            .raw_request("evm_mine".into(), ())
            .await
            .unwrap();
        let Step::Done(first) = writer.step(&a).await.unwrap() else {
            panic!("a not done")
        };
        let Step::Done(second) = writer.step(&b).await.unwrap() else {
            panic!("b not done")
        };
        assert!(matches!(first.by, RecordedBy::ThisTransaction { .. }));
        assert_eq!(second.by, RecordedBy::AlreadyOnChain);
        let receipt = chain
            .provider
            .get_transaction_receipt(b.current().tx_hash)
            .await
            .unwrap()
            .unwrap();
        assert!(!receipt.status(), "the duplicate was mined and reverted");
        assert_eq!(outcome_logs(&chain, id(2)).await, 1);
    })
    .await;
}

#[tokio::test]
async fn survives_the_endpoint_going_away() {
    let Some(chain) = Chain::start("writer_survives_the_endpoint_going_away", &[]).await else {
        return;
    };
    within(60, async {
        chain.request(id(1), 100).await;
        chain.request(id(2), 100).await;
        let mut proxy = Proxy::start(chain.anvil.port).await;
        let writer = writer_on(common::provider(&proxy.url()), &chain, config(&chain, 1)).await;

        // Gone before the broadcast.
        let pending = prepared(&writer, &outcome(1)).await;
        proxy.down().await;
        let error = writer.step(&pending).await.unwrap_err();
        assert!(error.is_transient(), "{error}");
        assert_eq!(gateway_nonce(&chain).await, 0, "nothing was sent");
        proxy.up().await;
        let recorded = writer.drive(pending.clone(), |_| Ok::<_, String>(())).await.unwrap();
        assert!(matches!(recorded.by, RecordedBy::ThisTransaction { .. }));

        // Gone after the broadcast, before the receipt.
        let pending = prepared(&writer, &outcome(2)).await;
        assert!(matches!(writer.step(&pending).await.unwrap(), Step::Waiting { .. }));
        proxy.down().await;
        assert!(writer.step(&pending).await.unwrap_err().is_transient());
        proxy.up().await;
        let recorded = writer.drive(pending.clone(), |_| Ok::<_, String>(())).await.unwrap();
        assert!(matches!(recorded.by, RecordedBy::ThisTransaction { tx_hash, .. } if tx_hash == pending.current().tx_hash));
        assert_eq!(gateway_nonce(&chain).await, 2);
        assert_eq!(outcome_logs(&chain, id(1)).await + outcome_logs(&chain, id(2)).await, 2);
    })
    .await;
}
