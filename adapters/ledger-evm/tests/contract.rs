//! The contract's rules on a real anvil: who may call what, one outcome per settlement, and
//! at most one correction and one refund request appended to it.

mod common;

use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::Provider as _;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use common::{id, request_call, within, Chain};
use ledger_evm::contract::{self, Entry, OutcomeStatus, Settlement, SettlementErrors};
use ledger_evm::writer::{Outcome, PendingTx, RecordedBy, Writer, WriterConfig, WriterError};

fn record_call(id: B256, status: u8) -> Bytes {
    Settlement::recordOutcomeCall {
        id,
        status,
        reasonCode: String::new(),
        counterpartyRef: "UETR-1".into(),
        evidence: B256::repeat_byte(0xee),
    }
    .abi_encode()
    .into()
}

/// The contract's error for `input` sent from `from` (simulated with eth_call).
async fn refusal(chain: &Chain, from: Address, input: Bytes) -> SettlementErrors {
    let tx = TransactionRequest::default()
        .from(from)
        .to(chain.contract)
        .input(input.into());
    let error = chain
        .provider
        .call(tx)
        .await
        .expect_err("the call should revert");
    contract::decode_refusal(&error).unwrap_or_else(|| panic!("not a Settlement error: {error}"))
}

fn outcome(n: u64, status: OutcomeStatus) -> Outcome {
    Outcome {
        entry: Entry::Outcome,
        amount: ledger_evm::U256::ZERO,
        id: id(n),
        status,
        reason_code: String::new(),
        counterparty_ref: "UETR-1".into(),
        evidence: B256::repeat_byte(0xee),
    }
}

async fn writer(chain: &Chain) -> Writer {
    let mut config = WriterConfig::new(chain.contract);
    config.confirmations = 1;
    config.poll_interval_ms = 20;
    Writer::new(chain.provider.clone(), chain.gateway.clone(), config)
        .await
        .unwrap()
}

#[tokio::test]
async fn only_the_operator_requests_and_only_the_gateway_records() {
    let Some(chain) = Chain::start(
        "only_the_operator_requests_and_only_the_gateway_records",
        &[],
    )
    .await
    else {
        return;
    };
    within(60, async {
        let stranger = chain.provider.get_accounts().await.unwrap()[2];
        let request = Bytes::from(request_call(id(1), 100).abi_encode());
        for caller in [stranger, chain.gateway.address()] {
            let error = refusal(&chain, caller, request.clone()).await;
            assert_eq!(
                error,
                SettlementErrors::NotOperator(Settlement::NotOperator { caller })
            );
        }
        chain.request(id(1), 100).await;

        for caller in [stranger, chain.operator] {
            let error = refusal(&chain, caller, record_call(id(1), 1)).await;
            assert_eq!(
                error,
                SettlementErrors::NotGateway(Settlement::NotGateway { caller })
            );
        }
        // Sent for real from the operator: mined, reverted, nothing stored.
        let tx = TransactionRequest::default()
            .from(chain.operator)
            .to(chain.contract)
            .input(record_call(id(1), 1).into())
            .gas_limit(300_000);
        let hash = *chain.provider.send_transaction(tx).await.unwrap().tx_hash();
        assert!(!chain.receipt(hash).await.status());
        assert_eq!(
            contract::read_outcome(&chain.provider, chain.contract, id(1))
                .await
                .unwrap(),
            None
        );

        let recorded = writer(&chain)
            .await
            .record(&outcome(1, OutcomeStatus::Settled), |_| Ok::<_, String>(()))
            .await
            .unwrap();
        assert!(matches!(recorded.by, RecordedBy::ThisTransaction { .. }));
        assert_eq!(recorded.stored.status, OutcomeStatus::Settled);
    })
    .await;
}

#[tokio::test]
async fn one_request_and_one_outcome_per_settlement() {
    let Some(chain) = Chain::start("one_request_and_one_outcome_per_settlement", &[]).await else {
        return;
    };
    within(60, async {
        let gateway = chain.gateway.address();
        let error = refusal(&chain, gateway, record_call(id(7), 1)).await;
        assert_eq!(
            error,
            SettlementErrors::UnknownSettlement(Settlement::UnknownSettlement { id: id(7) })
        );

        chain.request(id(7), 100).await;
        let again = Bytes::from(request_call(id(7), 100).abi_encode());
        let error = refusal(&chain, chain.operator, again).await;
        assert_eq!(
            error,
            SettlementErrors::AlreadyRequested(Settlement::AlreadyRequested { id: id(7) })
        );

        let error = refusal(&chain, gateway, record_call(id(7), 0)).await;
        assert_eq!(
            error,
            SettlementErrors::InvalidStatus(Settlement::InvalidStatus {
                id: id(7),
                status: 0
            })
        );
        let error = refusal(&chain, gateway, record_call(id(7), 7)).await;
        assert_eq!(
            error,
            SettlementErrors::InvalidStatus(Settlement::InvalidStatus {
                id: id(7),
                status: 7
            })
        );

        let writer = writer(&chain).await;
        writer
            .record(
                &outcome(7, OutcomeStatus::Rejected),
                |_| Ok::<_, String>(()),
            )
            .await
            .unwrap();
        let error = refusal(&chain, gateway, record_call(id(7), 1)).await;
        assert_eq!(
            error,
            SettlementErrors::OutcomeAlreadyRecorded(Settlement::OutcomeAlreadyRecorded {
                id: id(7),
                status: 2
            })
        );
        // The writer refuses to overwrite with another outcome, and says so.
        let error = writer
            .record(&outcome(7, OutcomeStatus::Settled), |_| Ok::<_, String>(()))
            .await
            .unwrap_err();
        assert!(
            matches!(
                error,
                WriterError::Conflict {
                    on_chain: OutcomeStatus::Rejected,
                    wanted: OutcomeStatus::Settled,
                    ..
                }
            ),
            "{error}"
        );
        let stored = contract::read_outcome(&chain.provider, chain.contract, id(7))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.status, OutcomeStatus::Rejected);
    })
    .await;
}

#[tokio::test]
async fn requests_are_bounded_and_readable() {
    let Some(chain) = Chain::start("requests_are_bounded_and_readable", &[]).await else {
        return;
    };
    within(60, async {
        let mut long = request_call(id(3), 100);
        long.creditorRef = "9".repeat(65);
        let error = refusal(&chain, chain.operator, long.abi_encode().into()).await;
        assert!(matches!(error, SettlementErrors::FieldLength(ref f) if f.field == "creditorRef" && f.length == alloy::primitives::U256::from(65)), "{error:?}");
        let zero = request_call(id(3), 0);
        let error = refusal(&chain, chain.operator, zero.abi_encode().into()).await;
        assert_eq!(error, SettlementErrors::ZeroAmount(Settlement::ZeroAmount { id: id(3) }));

        let block = chain.request(id(3), 1_234_567).await;
        let instance = Settlement::new(chain.contract, &chain.provider);
        let request = instance.getRequest(id(3)).call().await.unwrap();
        assert_eq!(request.amount, alloy::primitives::U256::from(1_234_567u64));
        assert_eq!((request.decimals, request.currency.as_str()), (6, "USDC"));
        assert_eq!(request.requestedInBlock, block);
        let missing = instance.getRequest(id(4)).call().await.unwrap();
        assert_eq!(missing.requestedInBlock, 0);
        assert_eq!(instance.operator().call().await.unwrap(), chain.operator);
        assert_eq!(instance.gateway().call().await.unwrap(), chain.gateway.address());
    })
    .await;
}

/// The appended records: a correction only of a settled outcome to returned, once; a refund
/// request only about the recorded outcome, once; both only from the gateway, both read back,
/// and a repeated write through the writer is "already recorded", not a second record.
#[tokio::test]
async fn corrections_and_refund_requests_are_appended_once() {
    let Some(chain) = Chain::start("corrections_and_refund_requests_are_appended_once", &[]).await
    else {
        return;
    };
    within(90, async {
        let gateway = chain.gateway.address();
        let writer = writer(&chain).await;
        let appended = |n: u64, entry: Entry, status: OutcomeStatus, amount: u64| Outcome {
            entry,
            amount: U256::from(amount),
            reason_code: "AC04".into(),
            counterparty_ref: "break 9".into(),
            ..outcome(n, status)
        };
        let correction = |n: u64, status: u8| -> Bytes {
            Settlement::recordCorrectionCall {
                id: id(n),
                status,
                reasonCode: "AC04".into(),
                counterpartyRef: "UETR-1".into(),
                evidence: B256::repeat_byte(0xee),
            }
            .abi_encode()
            .into()
        };
        chain.request(id(20), 100).await;
        chain.request(id(21), 100).await;

        // Nothing to correct or refund before an outcome.
        let error = refusal(&chain, gateway, correction(20, 3)).await;
        assert_eq!(
            error,
            SettlementErrors::NoOutcome(Settlement::NoOutcome { id: id(20) })
        );
        let ok = |_: &PendingTx| Ok::<_, String>(());
        writer
            .record(&outcome(20, OutcomeStatus::Settled), ok)
            .await
            .unwrap();
        writer
            .record(&outcome(21, OutcomeStatus::Rejected), ok)
            .await
            .unwrap();

        // Only the gateway, only settled -> returned.
        let stranger = chain.provider.get_accounts().await.unwrap()[2];
        let error = refusal(&chain, stranger, correction(20, 3)).await;
        assert_eq!(
            error,
            SettlementErrors::NotGateway(Settlement::NotGateway { caller: stranger })
        );
        for (n, status, recorded) in [(20, 4u8, 1u8), (21, 3, 2)] {
            let error = refusal(&chain, gateway, correction(n, status)).await;
            assert_eq!(
                error,
                SettlementErrors::NotCorrectable(Settlement::NotCorrectable {
                    id: id(n),
                    recorded,
                    status
                })
            );
        }
        let corrected = appended(20, Entry::Correction, OutcomeStatus::Returned, 0);
        let done = writer.record(&corrected, ok).await.unwrap();
        assert!(matches!(done.by, RecordedBy::ThisTransaction { .. }));
        let again = writer.record(&corrected, ok).await.unwrap();
        assert_eq!(again.by, RecordedBy::AlreadyOnChain);
        let error = refusal(&chain, gateway, correction(20, 3)).await;
        assert_eq!(
            error,
            SettlementErrors::CorrectionAlreadyRecorded(Settlement::CorrectionAlreadyRecorded {
                id: id(20),
                status: 3
            })
        );
        let read = |entry, n| contract::read_entry(&chain.provider, chain.contract, entry, id(n));
        assert_eq!(
            read(Entry::Outcome, 20).await.unwrap().unwrap().status,
            OutcomeStatus::Settled
        );
        assert_eq!(
            read(Entry::Correction, 20).await.unwrap().unwrap().status,
            OutcomeStatus::Returned
        );
        assert_eq!(read(Entry::Correction, 21).await.unwrap(), None);

        // A refund request names the outcome it is about, once.
        let wrong = appended(21, Entry::Refund, OutcomeStatus::Settled, 5);
        let error = writer.record(&wrong, ok).await.unwrap_err();
        assert!(matches!(error, WriterError::Refused { .. }), "{error}");
        let refund = appended(21, Entry::Refund, OutcomeStatus::Rejected, 12_350_000);
        writer.record(&refund, ok).await.unwrap();
        assert_eq!(
            writer.record(&refund, ok).await.unwrap().by,
            RecordedBy::AlreadyOnChain
        );
        let stored = read(Entry::Refund, 21).await.unwrap().unwrap();
        assert_eq!(
            (stored.amount, stored.status),
            (U256::from(12_350_000u64), OutcomeStatus::Rejected)
        );
        assert_eq!(stored.counterparty_ref, "break 9");
        // Another amount for the same settlement is a conflict, not a second request.
        let other = appended(21, Entry::Refund, OutcomeStatus::Rejected, 1);
        let error = writer.record(&other, ok).await.unwrap_err();
        assert!(matches!(error, WriterError::Conflict { .. }), "{error}");
    })
    .await;
}
