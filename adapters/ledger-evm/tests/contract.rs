//! The contract's rules on a real anvil: who may call what, and one outcome per settlement.

mod common;

use alloy::primitives::{Address, Bytes, B256};
use alloy::providers::Provider as _;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use common::{id, request_call, within, Chain};
use ledger_evm::contract::{self, OutcomeStatus, Settlement, SettlementErrors};
use ledger_evm::writer::{Outcome, RecordedBy, Writer, WriterConfig, WriterError};

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
