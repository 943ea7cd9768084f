//! The `Settlement` contract as Rust: bindings from the committed ABI, the outcome status
//! codes, the contract's custom errors, and deployment from the committed bytecode.
//!
//! The ABI and bytecode are generated from `contracts/Settlement.sol` by
//! `contracts/build.mjs` and committed; `tests/abi_current.rs` fails when they are older
//! than the source.

use std::fmt;

use alloy::primitives::{Address, Bytes, B256, U256};
use alloy::providers::Provider as _;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::{SolCall, SolConstructor, SolInterface};

use crate::rpc::Provider;

alloy::sol!(
    #[sol(rpc)]
    #[derive(Debug, PartialEq, Eq)]
    Settlement,
    "contracts/Settlement.abi.json"
);

pub use Settlement::{
    RefundRequested, SettlementCorrected, SettlementErrors, SettlementOutcome, SettlementRequested,
};

/// Which of the contract's write-once records a transaction writes or a read reads.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Entry {
    /// The final outcome (`recordOutcome` / `getOutcome`).
    #[default]
    Outcome,
    /// The correction appended to it (`recordCorrection` / `getCorrection`).
    Correction,
    /// A refund request (`requestRefund` / `getRefundRequest`).
    Refund,
}

impl Entry {
    /// The contract's function that reads this record.
    pub fn getter(self) -> &'static str {
        match self {
            Self::Outcome => "getOutcome",
            Self::Correction => "getCorrection",
            Self::Refund => "getRefundRequest",
        }
    }
}

/// The contract's creation bytecode, hex (see `contracts/Settlement.build.json` for the
/// compiler that made it).
pub const SETTLEMENT_BIN_HEX: &str = include_str!("../contracts/Settlement.bin");

/// Where a settlement ended, as the contract stores it (`uint8`; 0 is "no outcome yet").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeStatus {
    /// 1: the counterparty confirmed the credit.
    Settled,
    /// 2: the counterparty refused it before settlement.
    Rejected,
    /// 3: settled, then sent back by the counterparty.
    Returned,
    /// 4: cancelled after submission (e.g. an ISO 8583 reversal).
    Reversed,
    /// 5: the gateway gave up (retries exhausted, dead letter).
    Failed,
    /// 6: no rail serves the currency or the account.
    Unroutable,
}

impl OutcomeStatus {
    /// Every status, in code order.
    pub const ALL: [OutcomeStatus; 6] = [
        Self::Settled,
        Self::Rejected,
        Self::Returned,
        Self::Reversed,
        Self::Failed,
        Self::Unroutable,
    ];

    /// The contract's code for this status.
    pub fn code(self) -> u8 {
        match self {
            Self::Settled => 1,
            Self::Rejected => 2,
            Self::Returned => 3,
            Self::Reversed => 4,
            Self::Failed => 5,
            Self::Unroutable => 6,
        }
    }

    /// The status for a contract code; 0 ("none yet") and unknown codes are `None`.
    pub fn from_code(code: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// The lowercase name, as in Corridor's state machine.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Settled => "settled",
            Self::Rejected => "rejected",
            Self::Returned => "returned",
            Self::Reversed => "reversed",
            Self::Failed => "failed",
            Self::Unroutable => "unroutable",
        }
    }
}

impl fmt::Display for OutcomeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong talking to the contract outside the follower and the writer.
#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    /// The node could not be reached or refused the call.
    #[error("{action}: RPC failed: {source}")]
    Rpc {
        /// What was being done.
        action: &'static str,
        /// The transport's error.
        source: alloy::transports::TransportError,
    },
    /// The contract refused with one of its own errors.
    #[error("{action}: the contract refused: {reason}")]
    Refused {
        /// What was being done.
        action: &'static str,
        /// The decoded custom error, printed.
        reason: String,
    },
    /// The deployment's receipt could not be had.
    #[error("deployment transaction {tx_hash}: no receipt: {source}")]
    Receipt {
        /// The deployment transaction.
        tx_hash: B256,
        /// Why.
        source: alloy::providers::PendingTransactionError,
    },
    /// The node's answer does not decode as the ABI says (wrong contract address?).
    #[error("{action}: the answer does not decode with the Settlement ABI (is the address a Settlement contract?): {reason}")]
    Decode {
        /// What was being done.
        action: &'static str,
        /// The decoder's reason.
        reason: String,
    },
    /// The committed bytecode is not hex (a broken checkout).
    #[error("contracts/Settlement.bin is not valid hex: {0}")]
    Bytecode(String),
    /// The deployment transaction was mined but created no contract.
    #[error("deployment transaction {tx_hash} did not create a contract (reverted?)")]
    NotDeployed {
        /// The deployment transaction.
        tx_hash: B256,
    },
    /// A stored outcome has a status code this crate does not know (a newer contract?).
    #[error(
        "settlement {id}: the contract holds outcome status code {code}, unknown to this crate"
    )]
    UnknownStatus {
        /// The settlement id.
        id: B256,
        /// The code read.
        code: u8,
    },
}

/// The contract's custom error in a failed call, when there is one.
pub fn decode_refusal(error: &alloy::transports::TransportError) -> Option<SettlementErrors> {
    error
        .as_error_resp()?
        .as_decoded_interface_error::<SettlementErrors>()
}

/// A custom error as a person reads it, e.g. `OutcomeAlreadyRecorded(id=0x…, status=1)`.
pub fn describe(error: &SettlementErrors) -> String {
    format!("{error:?}")
}

/// The creation code followed by the constructor's arguments.
pub fn creation_code(operator: Address, gateway: Address) -> Result<Bytes, ContractError> {
    let code = alloy::hex::decode(SETTLEMENT_BIN_HEX.trim())
        .map_err(|e| ContractError::Bytecode(e.to_string()))?;
    let args = Settlement::constructorCall {
        operator_: operator,
        gateway_: gateway,
    }
    .abi_encode();
    Ok([code, args].concat().into())
}

/// Deploys the contract from `from` (an account the node signs for, e.g. an anvil or dev-node
/// account) and waits for the receipt. `operator` zero means the deployer.
pub async fn deploy_unlocked(
    provider: &Provider,
    from: Address,
    operator: Address,
    gateway: Address,
) -> Result<Address, ContractError> {
    let rpc = |action, source| ContractError::Rpc { action, source };
    let tx = TransactionRequest::default()
        .from(from)
        .input(creation_code(operator, gateway)?.into());
    let pending = provider
        .send_transaction(tx)
        .await
        .map_err(|e| match decode_refusal(&e) {
            Some(reason) => ContractError::Refused {
                action: "deploy",
                reason: describe(&reason),
            },
            None => rpc("deploy: send", e),
        })?;
    let tx_hash = *pending.tx_hash();
    let receipt = pending
        .get_receipt()
        .await
        .map_err(|source| ContractError::Receipt { tx_hash, source })?;
    match receipt.contract_address {
        Some(address) if receipt.status() => Ok(address),
        _ => Err(ContractError::NotDeployed { tx_hash }),
    }
}

/// An outcome as stored on chain (or a correction, or a refund request: see [`Entry`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOutcome {
    /// The status: the outcome's, the corrected one, or the outcome a refund is about.
    pub status: OutcomeStatus,
    /// A refund request's amount in the request's decimals; zero for the other records.
    pub amount: U256,
    /// ISO 20022 or proprietary reason code; empty when there is none.
    pub reason_code: String,
    /// The counterparty's reference (UETR, RRN...); empty when there is none.
    pub counterparty_ref: String,
    /// SHA-256 of the counterparty's confirmation as journaled.
    pub evidence: B256,
    /// The block that recorded it.
    pub recorded_in_block: u64,
}

/// Reads the outcome of `id`; `None` when none is recorded (or the id is unknown).
pub async fn read_outcome(
    provider: &Provider,
    contract: Address,
    id: B256,
) -> Result<Option<StoredOutcome>, ContractError> {
    read_entry(provider, contract, Entry::Outcome, id).await
}

/// Calls the view function `action` with `input` (`eth_call`): the raw answer.
async fn view(
    provider: &Provider,
    contract: Address,
    action: &'static str,
    input: Bytes,
) -> Result<Bytes, ContractError> {
    let tx = TransactionRequest::default()
        .to(contract)
        .input(input.into());
    provider
        .call(tx)
        .await
        .map_err(|source| ContractError::Rpc { action, source })
}

/// Reads the record `entry` of `id`; `None` when there is none.
pub async fn read_entry(
    provider: &Provider,
    contract: Address,
    entry: Entry,
    id: B256,
) -> Result<Option<StoredOutcome>, ContractError> {
    let action = entry.getter();
    let input: Bytes = match entry {
        Entry::Outcome => Settlement::getOutcomeCall { id }.abi_encode(),
        Entry::Correction => Settlement::getCorrectionCall { id }.abi_encode(),
        Entry::Refund => Settlement::getRefundRequestCall { id }.abi_encode(),
    }
    .into();
    let data = view(provider, contract, action, input).await?;
    let decode = |e: alloy::sol_types::Error| ContractError::Decode {
        action,
        reason: e.to_string(),
    };
    // An outcome and a correction have the same fields under two type names.
    macro_rules! plain {
        ($call:ty) => {{
            let o = <$call>::abi_decode_returns(&data).map_err(decode)?;
            let fields = (o.reasonCode, o.counterpartyRef, o.evidence);
            (o.status, U256::ZERO, fields, o.recordedInBlock)
        }};
    }
    let (code, amount, (reason_code, counterparty_ref, evidence), block) = match entry {
        Entry::Outcome => plain!(Settlement::getOutcomeCall),
        Entry::Correction => plain!(Settlement::getCorrectionCall),
        Entry::Refund => {
            let o = Settlement::getRefundRequestCall::abi_decode_returns(&data).map_err(decode)?;
            let fields = (o.reasonCode, o.breakRef, o.evidence);
            (o.status, o.amount, fields, o.recordedInBlock)
        }
    };
    if code == 0 {
        return Ok(None);
    }
    let status = OutcomeStatus::from_code(code).ok_or(ContractError::UnknownStatus { id, code })?;
    Ok(Some(StoredOutcome {
        status,
        amount,
        reason_code,
        counterparty_ref,
        evidence,
        recorded_in_block: block,
    }))
}

/// A settlement request as stored on chain: its amount in integer units and the decimals.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRequest {
    /// Integer units (the amount is `units / 10^decimals`).
    pub units: U256,
    /// The decimals of `units`.
    pub decimals: u8,
    /// The currency as the operator wrote it.
    pub currency: String,
}

/// Reads the request of `id`; `None` when there is none.
pub async fn read_request(
    provider: &Provider,
    contract: Address,
    id: B256,
) -> Result<Option<StoredRequest>, ContractError> {
    let action = "getRequest";
    let input: Bytes = Settlement::getRequestCall { id }.abi_encode().into();
    let data = view(provider, contract, action, input).await?;
    let r = Settlement::getRequestCall::abi_decode_returns(&data).map_err(|e| {
        ContractError::Decode {
            action,
            reason: e.to_string(),
        }
    })?;
    Ok((r.requestedInBlock != 0).then_some(StoredRequest {
        units: r.amount,
        decimals: r.decimals,
        currency: r.currency,
    }))
}

/// Decodes revert data (from a receipt's replay or an `eth_call`) into the contract's error.
pub fn decode_revert_data(data: &[u8]) -> Option<SettlementErrors> {
    SettlementErrors::abi_decode(data).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_match_the_contract() {
        for (status, code) in OutcomeStatus::ALL.iter().zip(1u8..) {
            assert_eq!(status.code(), code);
            assert_eq!(OutcomeStatus::from_code(code), Some(*status));
        }
        assert_eq!(OutcomeStatus::from_code(0), None);
        assert_eq!(OutcomeStatus::from_code(7), None);
        assert_eq!(OutcomeStatus::Unroutable.as_str(), "unroutable");
    }

    #[test]
    fn creation_code_ends_with_the_constructor_arguments() {
        let (operator, gateway) = (Address::repeat_byte(1), Address::repeat_byte(2));
        let code = creation_code(operator, gateway).unwrap();
        let hex_len = SETTLEMENT_BIN_HEX.trim().len();
        assert_eq!(code.len(), hex_len / 2 + 64);
        assert_eq!(&code[code.len() - 20..], gateway.as_slice());
    }
}
