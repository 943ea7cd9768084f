//! The EVM ledger: a `Settlement` contract on a chain, through `ledger_evm`.
//!
//! - [`follow`]: a task per ledger polls `ledger_evm::Follower`, journals the released logs
//!   raw, and feeds them to the shared intake with the cursor in the same transaction.
//! - [`sink`]: the write-back of a final outcome as `recordOutcome`, its `PendingTx` stored
//!   before it is sent.
//! - [`status`]: what `corridor ledger status` and `ledger verify` report.
//! - [`store`]: the rows behind them (migration 0008_chain).
//!
//! A chain log carries the amount in token units, the currency, and an account reference per
//! party (IBAN or MSISDN). [`to_event`] writes it as a ledger event of the shared schema, so
//! that validation, checked scaling of token units, routing and idempotency are the intake's,
//! not a copy: the event id is `evm:<chain id>:<tx hash>:<log index>`, and the party names and
//! addresses a bank payment needs come from the ledger's `parties` directory.

pub mod anvil;
#[cfg(feature = "sim")]
pub mod demo;
pub mod follow;
pub mod sink;
pub mod status;
pub mod store;

use crate::config::{EvmFinality, EvmKeySource, EvmLedger, LedgerConfig};
use ledger_evm::follower::{Confirmation, FollowerConfig, SettlementRequest};
use ledger_evm::key::GatewayKey;
use ledger_evm::rpc::{Provider, RpcConfig};
use ledger_evm::writer::WriterConfig;
use ledger_evm::Address;
use serde_json::{json, Value};

/// Why an EVM ledger could not be set up or read.
#[derive(Debug, thiserror::Error)]
pub enum EvmError {
    #[error("ledger {ledger:?}: {reason}")]
    Setup { ledger: String, reason: String },
    #[error("ledger {ledger:?}: the node at rpc_url reports chain id {found}, the configuration says {expected}")]
    ChainId {
        ledger: String,
        expected: u64,
        found: u64,
    },
    #[error(transparent)]
    Follower(#[from] ledger_evm::follower::FollowerError),
    #[error(transparent)]
    Contract(#[from] ledger_evm::contract::ContractError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Intake(#[from] crate::intake::IntakeError),
}

impl EvmError {
    /// Whether trying again later may succeed without a change by a person.
    pub fn is_transient(&self) -> bool {
        match self {
            EvmError::Follower(e) => e.is_transient(),
            EvmError::Contract(ledger_evm::contract::ContractError::Rpc { .. }) => true,
            EvmError::Store(_) => true,
            _ => false,
        }
    }
}

/// An `evm` ledger's checked settings with its id.
#[derive(Clone, Debug)]
pub struct EvmLedgerRef {
    pub id: String,
    pub settings: EvmLedger,
    pub contract: Address,
}

impl EvmLedgerRef {
    /// The `evm` ledger `config`, or `None` for another kind.
    pub fn of(config: &LedgerConfig) -> Result<Option<Self>, EvmError> {
        let setup = |reason: String| EvmError::Setup {
            ledger: config.id.clone(),
            reason,
        };
        let Some(settings) = config.evm().map_err(setup)? else {
            return Ok(None);
        };
        let contract = settings
            .contract
            .parse()
            .map_err(|e| setup(format!("contract: {e}")))?;
        Ok(Some(EvmLedgerRef {
            id: config.id.clone(),
            settings,
            contract,
        }))
    }

    /// A provider for the ledger's node (nothing is sent yet).
    pub fn provider(&self) -> Result<Provider, EvmError> {
        let mut rpc = RpcConfig::new(&self.settings.rpc_url);
        rpc.request_timeout_ms = self.settings.rpc_timeout_ms;
        ledger_evm::rpc::connect(&rpc).map_err(|e| EvmError::Setup {
            ledger: self.id.clone(),
            reason: e.to_string(),
        })
    }

    pub fn follower_config(&self) -> FollowerConfig {
        FollowerConfig {
            contract: self.contract,
            from_block: self.settings.start_block,
            confirmation: match self.settings.finality {
                EvmFinality::Confirmations(n) => Confirmation::Blocks(n),
                EvmFinality::Finalized => Confirmation::Finalized,
            },
            range_blocks_max: self.settings.range_blocks_max,
            ranges_per_poll_max: self.settings.ranges_per_poll_max,
        }
    }

    pub fn writer_config(&self) -> WriterConfig {
        let s = &self.settings;
        let mut config = WriterConfig::new(self.contract);
        config.confirmations = s.outcome_confirmations;
        config.gas_limit_max = s.gas_limit_max;
        config.max_fee_per_gas_max_wei = s.max_fee_per_gas_max_wei;
        config.resubmit_after_ms = s.resubmit_after_ms;
        config.fee_bump_percent = s.fee_bump_percent;
        config.poll_interval_ms = s.poll_interval_ms.min(1_000);
        config
    }

    /// The gateway key; the error names the file or variable, never the key.
    pub fn key(&self) -> Result<GatewayKey, EvmError> {
        let setup = |reason: String| EvmError::Setup {
            ledger: self.id.clone(),
            reason,
        };
        match &self.settings.key {
            EvmKeySource::Env(var) => {
                GatewayKey::from_env_hex(var).map_err(|e| setup(e.to_string()))
            }
            EvmKeySource::Keystore { path, password_env } => {
                let password =
                    zeroize::Zeroizing::new(std::env::var(password_env).map_err(|_| {
                        setup(format!(
                            "environment variable {password_env} (key_password_env) is not set"
                        ))
                    })?);
                GatewayKey::from_keystore(path, &password).map_err(|e| setup(e.to_string()))
            }
        }
    }
}

/// Every `evm` ledger of the configuration.
pub fn ledgers(config: &crate::config::Config) -> Result<Vec<EvmLedgerRef>, EvmError> {
    let mut out = Vec::new();
    for ledger in &config.ledgers {
        if let Some(evm) = EvmLedgerRef::of(ledger)? {
            out.push(evm);
        }
    }
    Ok(out)
}

/// What the chain said about one log, kept raw in the journal.
pub fn raw_log(request: &SettlementRequest) -> Value {
    json!({
        "chain_id": request.key.chain_id,
        "tx_hash": request.key.tx_hash.to_string(),
        "log_index": request.key.log_index,
        "block_number": request.block_number,
        "block_hash": request.block_hash.to_string(),
        "id": request.id.to_string(),
        "amount_units": request.amount.units_decimal(),
        "decimals": request.amount.decimals,
        "currency": request.currency,
        "debtor_ref": request.debtor_ref,
        "creditor_ref": request.creditor_ref,
    })
}

/// An account reference as the event's account object: `+` or digits only is an MSISDN,
/// two letters then two digits an IBAN, anything else `other` (which the intake and the
/// routes decide on).
fn account(reference: &str) -> Value {
    let r = reference.trim();
    let b = r.as_bytes();
    if r.starts_with('+') || (!r.is_empty() && b.iter().all(u8::is_ascii_digit)) {
        json!({ "msisdn": r })
    } else if b.len() > 4
        && b[..2].iter().all(u8::is_ascii_alphabetic)
        && b[2..4].iter().all(u8::is_ascii_digit)
    {
        json!({ "iban": r })
    } else {
        json!({ "other": r })
    }
}

fn party(ledger: &LedgerConfig, reference: &str) -> Value {
    let mut party = json!({ "account": account(reference) });
    match ledger.party(reference) {
        Some(entry) => {
            party["name"] = json!(entry.name);
            if let Some(bic) = &entry.bic {
                party["agent"] = json!({ "bic": bic });
            }
            if let Some(country) = &entry.country {
                party["country"] = json!(country);
            }
            if let Some(address) = &entry.address {
                party["address"] = json!(address);
            }
        }
        None => party["name"] = json!(reference.trim()),
    }
    party
}

/// The ledger event (shared schema) for a released log.
pub fn to_event(ledger: &LedgerConfig, request: &SettlementRequest) -> Value {
    json!({
        "event_id": store::event_id(request),
        "type": "settlement.requested",
        "amount": {
            "units": request.amount.units_decimal(),
            "decimals": request.amount.decimals,
        },
        "currency": request.currency,
        "debtor": party(ledger, &request.debtor_ref),
        "creditor": party(ledger, &request.creditor_ref),
        "remittance_info": format!("chain settlement {}", request.id),
    })
}

/// The contract's status for a final settlement state.
pub fn outcome_status(
    state: crate::domain::SettlementState,
) -> Option<ledger_evm::contract::OutcomeStatus> {
    ledger_evm::contract::OutcomeStatus::ALL
        .into_iter()
        .find(|s| s.as_str() == state.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_references_become_account_objects() {
        assert_eq!(account("+254712345678"), json!({"msisdn": "+254712345678"}));
        assert_eq!(account("254712345678"), json!({"msisdn": "254712345678"}));
        assert_eq!(
            account("DE89370400440532013000"),
            json!({"iban": "DE89370400440532013000"})
        );
        assert_eq!(account("ACC-9"), json!({"other": "ACC-9"}));
    }

    #[test]
    fn every_final_state_has_a_contract_status() {
        use crate::domain::SettlementState;
        for state in SettlementState::ALL {
            assert_eq!(outcome_status(state).is_some(), state.is_final(), "{state}");
        }
    }
}
