//! A local anvil node with the `Settlement` contract, and a simulated operator posting
//! instructions to it: for `corridor demo --ledger evm` and the tests.
//!
//! The node itself is `ledger_evm::anvil` (where its binary is looked for is said there).

use alloy::providers::Provider as _;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use ledger_evm::contract::{self, Settlement};
use ledger_evm::rpc::Provider;
use ledger_evm::{Address, B256, U256};
use std::time::Duration;

pub use ledger_evm::anvil::{binary, Anvil, MISSING};

/// A key for tests and the demo only (never for a real chain): the gateway's account.
pub const DEMO_GATEWAY_KEY_HEX: &str =
    "0x2222222222222222222222222222222222222222222222222222222222222222";

/// The contract on a chain, and the operator that posts instructions to it (an account the
/// node signs for).
#[derive(Clone)]
pub struct Operator {
    pub provider: Provider,
    pub account: Address,
    pub contract: Address,
    /// The block that deployed the contract.
    pub deployed_in: u64,
}

/// One settlement instruction as the operator posts it.
#[derive(Clone, Debug)]
pub struct Instruction {
    pub id: B256,
    pub units: U256,
    pub decimals: u8,
    pub currency: String,
    pub debtor_ref: String,
    pub creditor_ref: String,
}

impl Operator {
    /// Funds `gateway`, deploys the contract from the node's first account, with `gateway` as
    /// the only account allowed to record outcomes.
    pub async fn deploy(provider: Provider, gateway: Address) -> Result<Operator, String> {
        let accounts = provider
            .get_accounts()
            .await
            .map_err(|e| format!("eth_accounts: {e}"))?;
        let account = *accounts.first().ok_or("the node has no unlocked account")?;
        let _: () = provider
            .raw_request(
                "anvil_setBalance".into(),
                (gateway, U256::from(10u128.pow(20))),
            )
            .await
            .map_err(|e| format!("anvil_setBalance: {e}"))?;
        let contract = contract::deploy_unlocked(&provider, account, Address::ZERO, gateway)
            .await
            .map_err(|e| e.to_string())?;
        let deployed_in = provider
            .get_block_number()
            .await
            .map_err(|e| format!("eth_blockNumber: {e}"))?;
        Ok(Operator {
            provider,
            account,
            contract,
            deployed_in,
        })
    }

    /// Sends `requestSettlement`; returns its transaction hash once the node has it.
    pub async fn send(&self, instruction: &Instruction) -> Result<B256, String> {
        let call = Settlement::requestSettlementCall {
            id: instruction.id,
            amount: instruction.units,
            decimals: instruction.decimals,
            currency: instruction.currency.clone(),
            debtorRef: instruction.debtor_ref.clone(),
            creditorRef: instruction.creditor_ref.clone(),
        };
        let tx = TransactionRequest::default()
            .from(self.account)
            .to(self.contract)
            .input(call.abi_encode().into());
        let pending = self
            .provider
            .send_transaction(tx)
            .await
            .map_err(|e| format!("requestSettlement: {e}"))?;
        Ok(*pending.tx_hash())
    }

    /// Sends and waits for the receipt (automine); returns the block number.
    pub async fn request(&self, instruction: &Instruction) -> Result<u64, String> {
        let hash = self.send(instruction).await?;
        for _ in 0..2_000 {
            if let Some(receipt) = self
                .provider
                .get_transaction_receipt(hash)
                .await
                .map_err(|e| format!("receipt: {e}"))?
            {
                if !receipt.status() {
                    return Err(format!("requestSettlement {} reverted", instruction.id));
                }
                return receipt
                    .block_number
                    .ok_or_else(|| "receipt without block".into());
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Err(format!("no receipt for {hash}"))
    }

    /// Mines `blocks` empty blocks.
    pub async fn mine(&self, blocks: u64) -> Result<(), String> {
        let _: () = self
            .provider
            .raw_request("anvil_mine".into(), (U256::from(blocks),))
            .await
            .map_err(|e| format!("anvil_mine: {e}"))?;
        Ok(())
    }

    /// The outcome on chain of `id`.
    pub async fn outcome(&self, id: B256) -> Result<Option<contract::StoredOutcome>, String> {
        contract::read_outcome(&self.provider, self.contract, id)
            .await
            .map_err(|e| e.to_string())
    }
}

/// A settlement id for instruction number `n` of a run tagged `tag`.
pub fn instruction_id(tag: u64, n: u64) -> B256 {
    B256::from((U256::from(tag) << 128) + U256::from(n) + U256::from(1))
}
