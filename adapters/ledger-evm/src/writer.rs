//! Records outcomes with `recordOutcome`, exactly once, across crashes.
//!
//! # What the caller persists
//! [`Writer::prepare`] signs a transaction and returns it as a [`PendingTx`] without sending
//! it. The caller stores it (it is serde, and holds no secret: the signed bytes are public
//! once sent), then calls [`Writer::step`] until it gives [`Step::Done`]. When a step gives
//! [`Step::Persist`] (a fee bump, or a new nonce) the caller replaces what it stored, then
//! steps on. Because the signed bytes are stored *before* they are broadcast, a process that
//! dies anywhere leaves either nothing sent or a transaction that the next process can find,
//! re-broadcast and follow: after a restart, [`Writer::resume`] with every stored `PendingTx`
//! and step each one on. An outcome is therefore never lost; and it is never written twice,
//! because the contract refuses a second outcome and the writer reads the outcome back
//! before signing and after any failure ("already recorded" is success, a different outcome
//! is [`WriterError::Conflict`]).
//!
//! # Nonces and fees
//! Nonces come from a local counter that starts at the account's `pending` transaction count
//! (or after the highest resumed nonce). Every `PendingTx` that `prepare` returns must be
//! stepped to `Done`: one left unsent leaves a nonce gap that holds back later ones.
//! Fees are EIP-1559: the node's estimate, refused above `max_fee_per_gas_max_wei`. A
//! transaction not mined `resubmit_after_ms` after it was signed is signed again with the
//! same nonce and fees raised by `fee_bump_percent` (or to the current estimate if higher),
//! at most `replacements_max` times and never above the cap. Every version is kept in the
//! `PendingTx`, since any of them may be the one mined. Gas is estimated, raised by
//! `gas_margin_percent`, and refused above `gas_limit_max`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use alloy::consensus::{SignableTransaction, TxEip1559, TxEnvelope};
use alloy::eips::eip2718::Encodable2718;
use alloy::network::TxSignerSync;
use alloy::primitives::{Address, Bytes, TxKind, B256, U256};
use alloy::providers::Provider as _;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use alloy::transports::TransportError;
use tokio::sync::Mutex;

use crate::contract::{
    self, ContractError, Entry, OutcomeStatus, Settlement, SettlementErrors, StoredOutcome,
};
use crate::key::GatewayKey;
use crate::rpc::Provider;

/// How the writer sends and follows its transactions.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WriterConfig {
    /// The `Settlement` contract.
    pub contract: Address,
    /// Confirmations before an outcome counts as recorded (1: mined).
    pub confirmations: u64,
    /// Added to the node's gas estimate, in percent.
    pub gas_margin_percent: u64,
    /// Gas limit above which a transaction is refused instead of sent.
    pub gas_limit_max: u64,
    /// Highest `maxFeePerGas` ever signed, in wei.
    pub max_fee_per_gas_max_wei: u128,
    /// Time after signing without being mined before the fee is raised.
    pub resubmit_after_ms: u64,
    /// Fee raise per replacement, in percent (nodes refuse a replacement below 10).
    pub fee_bump_percent: u64,
    /// Replacements per nonce at most.
    pub replacements_max: u32,
    /// Pause between steps in [`Writer::drive`] and [`Writer::record`].
    pub poll_interval_ms: u64,
}

impl WriterConfig {
    /// Defaults suited to a chain with blocks every few seconds.
    pub fn new(contract: Address) -> Self {
        Self {
            contract,
            confirmations: 3,
            gas_margin_percent: 25,
            gas_limit_max: 500_000,
            max_fee_per_gas_max_wei: 500_000_000_000,
            resubmit_after_ms: 60_000,
            fee_bump_percent: 20,
            replacements_max: 5,
            poll_interval_ms: 1_000,
        }
    }
}

/// The outcome of one settlement, as the gateway decided it; or, by `entry`, the correction
/// appended to it or a refund request about it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Outcome {
    /// Which record this writes (absent in what older versions stored: an outcome).
    #[serde(default)]
    pub entry: Entry,
    /// The settlement id from `SettlementRequested`.
    pub id: B256,
    /// Where it ended (a correction: the corrected status; a refund request: the recorded
    /// outcome it is about).
    pub status: OutcomeStatus,
    /// A refund request's amount in the request's decimals; zero otherwise.
    #[serde(default)]
    pub amount: U256,
    /// ISO 20022 or proprietary reason code; may be empty.
    pub reason_code: String,
    /// The counterparty's reference; may be empty.
    pub counterparty_ref: String,
    /// SHA-256 of the counterparty's confirmation, exactly as journaled.
    pub evidence: B256,
}

impl Outcome {
    fn matches(&self, stored: &StoredOutcome) -> bool {
        self.status == stored.status
            && self.amount == stored.amount
            && self.reason_code == stored.reason_code
            && self.counterparty_ref == stored.counterparty_ref
            && self.evidence == stored.evidence
    }

    fn calldata(&self) -> Bytes {
        let (id, status, evidence) = (self.id, self.status.code(), self.evidence);
        let (reason_code, reference) = (self.reason_code.clone(), self.counterparty_ref.clone());
        // An outcome and a correction take the same arguments.
        macro_rules! record {
            ($call:ident) => {
                Settlement::$call {
                    id,
                    status,
                    reasonCode: reason_code,
                    counterpartyRef: reference,
                    evidence,
                }
                .abi_encode()
            };
        }
        match self.entry {
            Entry::Outcome => record!(recordOutcomeCall),
            Entry::Correction => record!(recordCorrectionCall),
            Entry::Refund => Settlement::requestRefundCall {
                id,
                status,
                amount: self.amount,
                reasonCode: reason_code,
                breakRef: reference,
                evidence,
            }
            .abi_encode(),
        }
        .into()
    }
}

/// One signed version of a pending transaction.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SentTx {
    /// Its hash.
    pub tx_hash: B256,
    /// `maxFeePerGas`, wei.
    pub max_fee_per_gas: u128,
    /// `maxPriorityFeePerGas`, wei.
    pub max_priority_fee_per_gas: u128,
    /// The signed transaction (EIP-2718 bytes), to broadcast again after a restart.
    pub raw: Bytes,
    /// When it was signed, Unix milliseconds.
    pub signed_at_unix_ms: u64,
}

/// A `recordOutcome` transaction that may not be mined yet: what the caller persists.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingTx {
    /// What it records.
    pub outcome: Outcome,
    /// The sending account (the gateway key's address).
    pub from: Address,
    /// Its nonce.
    pub nonce: u64,
    /// Its gas limit.
    pub gas_limit: u64,
    /// Every version signed for this nonce, oldest first; the last is the current one.
    pub versions: Vec<SentTx>,
}

impl PendingTx {
    /// The current (last signed) version.
    pub fn current(&self) -> &SentTx {
        self.versions
            .last()
            .expect("a PendingTx always holds at least one version")
    }
}

/// What `prepare` decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prepared {
    /// The same outcome is already on chain: nothing to send.
    AlreadyRecorded(StoredOutcome),
    /// Persist this, then `step` it until `Done`.
    Send(PendingTx),
}

/// What one step found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Not final yet; step again later.
    Waiting {
        /// The block that includes it, once mined.
        mined_in: Option<u64>,
        /// Confirmations so far.
        confirmations: u64,
    },
    /// A new version (fee bump, or a new nonce): persist it in place of the old one, then step it.
    Persist(PendingTx),
    /// Recorded and confirmed: nothing more to do.
    Done(Recorded),
}

/// A recorded outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    /// The outcome as the contract holds it.
    pub stored: StoredOutcome,
    /// How it got there.
    pub by: RecordedBy,
}

/// Whether this writer's transaction wrote the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordedBy {
    /// This transaction, mined and confirmed.
    ThisTransaction {
        /// The mined version's hash.
        tx_hash: B256,
        /// Its block.
        block_number: u64,
        /// Gas it used, from its receipt.
        gas_used: u64,
        /// What it cost: gas used × effective gas price, in wei.
        fee_wei: u128,
    },
    /// The same outcome was already on chain (an earlier run, or another version).
    AlreadyOnChain,
}

/// Why a write could not go on. Transient ones ([`WriterError::is_transient`]) are retried by
/// stepping the same `PendingTx` again later; the others need a person.
#[derive(Debug, thiserror::Error)]
pub enum WriterError {
    /// The node could not be reached or refused the request.
    #[error("writer: {action}: RPC failed: {source}")]
    Rpc {
        /// What was being done.
        action: &'static str,
        /// The transport's error.
        source: TransportError,
    },
    /// Reading the contract failed.
    #[error("writer: {0}")]
    Contract(#[from] ContractError),
    /// The contract refuses this outcome (unknown settlement, wrong key, bad field).
    #[error("writer: settlement {id}: the contract refuses the outcome: {reason}")]
    Refused {
        /// The settlement.
        id: B256,
        /// The contract's error, decoded.
        reason: String,
    },
    /// A different outcome is already recorded for this settlement.
    #[error("writer: settlement {id}: the chain already holds another outcome ({on_chain}, reason {on_chain_reason:?}) than the one to record ({wanted}): investigate")]
    Conflict {
        /// The settlement.
        id: B256,
        /// The status on chain.
        on_chain: OutcomeStatus,
        /// The reason code on chain.
        on_chain_reason: String,
        /// The status this writer was asked to record.
        wanted: OutcomeStatus,
    },
    /// A version of the transaction was mined but reverted, and no outcome is on chain.
    #[error("writer: settlement {id}: transaction {tx_hash} reverted and no outcome is recorded")]
    Reverted {
        /// The settlement.
        id: B256,
        /// The reverted transaction.
        tx_hash: B256,
    },
    /// The gas estimate (with margin) is above the configured cap.
    #[error("writer: settlement {id}: gas {gas} is above gas_limit_max {cap}")]
    GasAboveCap {
        /// The settlement.
        id: B256,
        /// Estimate plus margin.
        gas: u64,
        /// The cap.
        cap: u64,
    },
    /// The node's fee estimate is above the configured cap: nothing was signed.
    #[error("writer: settlement {id}: maxFeePerGas estimate {estimate_wei} wei is above max_fee_per_gas_max_wei {cap_wei}; will retry")]
    FeeAboveCap {
        /// The settlement.
        id: B256,
        /// The estimate.
        estimate_wei: u128,
        /// The cap.
        cap_wei: u128,
    },
    /// Signing failed.
    #[error("writer: signing failed: {0}")]
    Sign(String),
    /// The caller could not persist a `PendingTx`.
    #[error("writer: settlement {id}: persisting the pending transaction failed: {reason}")]
    Persist {
        /// The settlement.
        id: B256,
        /// The caller's reason.
        reason: String,
    },
}

impl WriterError {
    /// Whether stepping again later may succeed without a change by a person.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Rpc { source, .. } => !is_node_refusal(source),
            Self::Contract(ContractError::Rpc { .. }) => true,
            Self::FeeAboveCap { .. } => true,
            _ => false,
        }
    }
}

fn is_node_refusal(error: &TransportError) -> bool {
    error.as_error_resp().is_some()
}

/// Sends `recordOutcome` for one gateway key.
#[derive(Debug)]
pub struct Writer {
    provider: Provider,
    key: GatewayKey,
    config: WriterConfig,
    chain_id: u64,
    next_nonce: Mutex<Option<u64>>,
}

impl Writer {
    /// A writer for `key`; asks the node for its chain id.
    pub async fn new(
        provider: Provider,
        key: GatewayKey,
        config: WriterConfig,
    ) -> Result<Self, WriterError> {
        let chain_id = provider
            .get_chain_id()
            .await
            .map_err(|source| WriterError::Rpc {
                action: "eth_chainId",
                source,
            })?;
        Ok(Self {
            provider,
            key,
            config,
            chain_id,
            next_nonce: Mutex::new(None),
        })
    }

    /// The sending account.
    pub fn address(&self) -> Address {
        self.key.address()
    }

    /// After a restart: takes every `PendingTx` the caller had stored, so that new nonces
    /// follow them. Then step each of them on.
    pub async fn resume(&self, stored: &[PendingTx]) -> Result<(), WriterError> {
        let on_chain = self.account_nonce(true).await?;
        let after_stored = stored.iter().map(|p| p.nonce + 1).max().unwrap_or(0);
        *self.next_nonce.lock().await = Some(on_chain.max(after_stored));
        Ok(())
    }

    /// Reads the nonce again from the chain (after an operator cleared a gap by hand).
    pub async fn resync_nonce(&self) -> Result<(), WriterError> {
        *self.next_nonce.lock().await = Some(self.account_nonce(true).await?);
        Ok(())
    }

    /// What the contract holds as `entry` for `id`, whatever it is (`None`: nothing yet).
    pub async fn read(&self, entry: Entry, id: B256) -> Result<Option<StoredOutcome>, WriterError> {
        Ok(contract::read_entry(&self.provider, self.config.contract, entry, id).await?)
    }

    /// The request for `id` as the contract holds it (`None`: no such request).
    pub async fn request(&self, id: B256) -> Result<Option<contract::StoredRequest>, WriterError> {
        Ok(contract::read_request(&self.provider, self.config.contract, id).await?)
    }

    /// Checks the chain, estimates gas and fees, assigns a nonce and signs. Sends nothing.
    pub async fn prepare(&self, outcome: &Outcome) -> Result<Prepared, WriterError> {
        if let Some(stored) = self.read_back(outcome).await? {
            return Ok(Prepared::AlreadyRecorded(stored));
        }
        let input = outcome.calldata();
        let gas_limit = match self.estimate_gas(outcome, &input).await? {
            Ok(gas) => gas,
            Err(stored) => return Ok(Prepared::AlreadyRecorded(stored)),
        };
        let fees = self
            .provider
            .estimate_eip1559_fees()
            .await
            .map_err(|source| WriterError::Rpc {
                action: "fee estimate",
                source,
            })?;
        let cap = self.config.max_fee_per_gas_max_wei;
        if fees.max_fee_per_gas > cap {
            return Err(WriterError::FeeAboveCap {
                id: outcome.id,
                estimate_wei: fees.max_fee_per_gas,
                cap_wei: cap,
            });
        }
        let nonce = self.take_nonce().await?;
        let version = self.sign(
            nonce,
            gas_limit,
            fees.max_fee_per_gas,
            fees.max_priority_fee_per_gas,
            input,
        )?;
        Ok(Prepared::Send(PendingTx {
            outcome: outcome.clone(),
            from: self.address(),
            nonce,
            gas_limit,
            versions: vec![version],
        }))
    }

    /// Advances `pending` by one step at the current time. See [`Writer::step_at`].
    pub async fn step(&self, pending: &PendingTx) -> Result<Step, WriterError> {
        self.step_at(pending, now_unix_ms()).await
    }

    /// Advances `pending` by one step: looks for a receipt of any version, broadcasts the
    /// current version when the node does not know it, and signs a fee bump when it has
    /// waited `resubmit_after_ms` since `now_unix_ms`'s point of view.
    pub async fn step_at(
        &self,
        pending: &PendingTx,
        now_unix_ms: u64,
    ) -> Result<Step, WriterError> {
        if let Some(step) = self.mined(pending).await? {
            return Ok(step);
        }
        if self.account_nonce(false).await? > pending.nonce {
            // The nonce is used. Receipts first again: a version may have been mined since.
            if let Some(step) = self.mined(pending).await? {
                return Ok(step);
            }
            // Something else used the nonce: record with a new one, unless already recorded.
            return match self.prepare(&pending.outcome).await? {
                Prepared::AlreadyRecorded(stored) => Ok(Step::Done(Recorded {
                    stored,
                    by: RecordedBy::AlreadyOnChain,
                })),
                Prepared::Send(next) => Ok(Step::Persist(next)),
            };
        }
        let current = pending.current();
        let waited_ms = now_unix_ms.saturating_sub(current.signed_at_unix_ms);
        if waited_ms >= self.config.resubmit_after_ms
            && pending.versions.len() <= self.config.replacements_max as usize
        {
            if let Some(bumped) = self.bump(pending).await? {
                return Ok(Step::Persist(bumped));
            }
        }
        self.broadcast_if_unknown(current).await?;
        Ok(Step::Waiting {
            mined_in: None,
            confirmations: 0,
        })
    }

    /// Steps `pending` until it is done, persisting every new version through `persist`
    /// before it is broadcast.
    pub async fn drive<E: std::fmt::Display>(
        &self,
        mut pending: PendingTx,
        mut persist: impl FnMut(&PendingTx) -> Result<(), E>,
    ) -> Result<Recorded, WriterError> {
        let interval = Duration::from_millis(self.config.poll_interval_ms);
        loop {
            match self.step(&pending).await? {
                Step::Done(recorded) => return Ok(recorded),
                Step::Persist(next) => {
                    persist(&next).map_err(|e| WriterError::Persist {
                        id: next.outcome.id,
                        reason: e.to_string(),
                    })?;
                    pending = next;
                }
                Step::Waiting { .. } => tokio::time::sleep(interval).await,
            }
        }
    }

    /// Prepares, persists and drives one outcome to `Done`.
    pub async fn record<E: std::fmt::Display>(
        &self,
        outcome: &Outcome,
        mut persist: impl FnMut(&PendingTx) -> Result<(), E>,
    ) -> Result<Recorded, WriterError> {
        match self.prepare(outcome).await? {
            Prepared::AlreadyRecorded(stored) => Ok(Recorded {
                stored,
                by: RecordedBy::AlreadyOnChain,
            }),
            Prepared::Send(pending) => {
                persist(&pending).map_err(|e| WriterError::Persist {
                    id: outcome.id,
                    reason: e.to_string(),
                })?;
                self.drive(pending, persist).await
            }
        }
    }

    /// The step's answer when a version has a receipt; `None` when none has.
    async fn mined(&self, pending: &PendingTx) -> Result<Option<Step>, WriterError> {
        for version in pending.versions.iter().rev() {
            let receipt = self
                .provider
                .get_transaction_receipt(version.tx_hash)
                .await
                .map_err(|source| WriterError::Rpc {
                    action: "eth_getTransactionReceipt",
                    source,
                })?;
            let Some(receipt) = receipt else { continue };
            let Some(block_number) = receipt.block_number else {
                continue;
            };
            let head =
                self.provider
                    .get_block_number()
                    .await
                    .map_err(|source| WriterError::Rpc {
                        action: "eth_blockNumber",
                        source,
                    })?;
            let confirmations = (head + 1).saturating_sub(block_number);
            if confirmations < self.config.confirmations {
                return Ok(Some(Step::Waiting {
                    mined_in: Some(block_number),
                    confirmations,
                }));
            }
            let outcome = &pending.outcome;
            let stored = self.read_back(outcome).await?;
            return match (receipt.status(), stored) {
                (true, Some(stored)) => Ok(Some(Step::Done(Recorded {
                    stored,
                    by: RecordedBy::ThisTransaction {
                        tx_hash: version.tx_hash,
                        block_number,
                        gas_used: receipt.gas_used,
                        fee_wei: u128::from(receipt.gas_used)
                            .saturating_mul(receipt.effective_gas_price),
                    },
                }))),
                (false, Some(stored)) => Ok(Some(Step::Done(Recorded {
                    stored,
                    by: RecordedBy::AlreadyOnChain,
                }))),
                (_, None) => Err(WriterError::Reverted {
                    id: outcome.id,
                    tx_hash: version.tx_hash,
                }),
            };
        }
        Ok(None)
    }

    /// The outcome on chain if it is this one; a conflict if it is another.
    async fn read_back(&self, outcome: &Outcome) -> Result<Option<StoredOutcome>, WriterError> {
        let stored = contract::read_entry(
            &self.provider,
            self.config.contract,
            outcome.entry,
            outcome.id,
        )
        .await?;
        match stored {
            Some(stored) if !outcome.matches(&stored) => Err(WriterError::Conflict {
                id: outcome.id,
                on_chain: stored.status,
                on_chain_reason: stored.reason_code,
                wanted: outcome.status,
            }),
            other => Ok(other),
        }
    }

    /// The gas limit to sign, or the stored outcome when the estimate says it is recorded.
    async fn estimate_gas(
        &self,
        outcome: &Outcome,
        input: &Bytes,
    ) -> Result<Result<u64, StoredOutcome>, WriterError> {
        let request = TransactionRequest::default()
            .from(self.address())
            .to(self.config.contract)
            .input(input.clone().into());
        let estimate = match self.provider.estimate_gas(request).await {
            Ok(gas) => gas,
            Err(error) => {
                return match contract::decode_refusal(&error) {
                    Some(
                        SettlementErrors::OutcomeAlreadyRecorded(_)
                        | SettlementErrors::CorrectionAlreadyRecorded(_)
                        | SettlementErrors::RefundAlreadyRequested(_),
                    ) => match self.read_back(outcome).await? {
                        Some(stored) => Ok(Err(stored)),
                        None => Err(WriterError::Rpc {
                            action: "eth_estimateGas",
                            source: error,
                        }),
                    },
                    Some(refusal) => Err(WriterError::Refused {
                        id: outcome.id,
                        reason: contract::describe(&refusal),
                    }),
                    None => Err(WriterError::Rpc {
                        action: "eth_estimateGas",
                        source: error,
                    }),
                };
            }
        };
        let gas = estimate.saturating_mul(100 + self.config.gas_margin_percent) / 100;
        if gas > self.config.gas_limit_max {
            return Err(WriterError::GasAboveCap {
                id: outcome.id,
                gas,
                cap: self.config.gas_limit_max,
            });
        }
        Ok(Ok(gas))
    }

    /// A new version with higher fees, or `None` when the cap leaves no room for a raise.
    async fn bump(&self, pending: &PendingTx) -> Result<Option<PendingTx>, WriterError> {
        let current = pending.current();
        let fees = self
            .provider
            .estimate_eip1559_fees()
            .await
            .map_err(|source| WriterError::Rpc {
                action: "fee estimate",
                source,
            })?;
        let raise =
            |fee: u128| fee.saturating_mul(100 + u128::from(self.config.fee_bump_percent)) / 100;
        let cap = self.config.max_fee_per_gas_max_wei;
        let max_fee = raise(current.max_fee_per_gas).max(fees.max_fee_per_gas);
        let priority = raise(current.max_priority_fee_per_gas).max(fees.max_priority_fee_per_gas);
        if max_fee > cap {
            tracing::warn!(
                id = %pending.outcome.id, nonce = pending.nonce, max_fee, cap,
                "outcome transaction not mined, and a fee raise would pass max_fee_per_gas_max_wei: waiting"
            );
            return Ok(None);
        }
        let version = self.sign(
            pending.nonce,
            pending.gas_limit,
            max_fee,
            priority.min(max_fee),
            pending.outcome.calldata(),
        )?;
        tracing::info!(id = %pending.outcome.id, nonce = pending.nonce, tx_hash = %version.tx_hash, max_fee, "fee raised");
        let mut next = pending.clone();
        next.versions.push(version);
        Ok(Some(next))
    }

    async fn broadcast_if_unknown(&self, version: &SentTx) -> Result<(), WriterError> {
        let known = self
            .provider
            .get_transaction_by_hash(version.tx_hash)
            .await
            .map_err(|source| WriterError::Rpc {
                action: "eth_getTransactionByHash",
                source,
            })?;
        if known.is_some() {
            return Ok(());
        }
        match self.provider.send_raw_transaction(&version.raw).await {
            Ok(_) => Ok(()),
            // The node has it, or has mined a version, or holds an older version it prefers:
            // each is settled by the next step's receipt and nonce checks.
            Err(error) if is_benign_send_refusal(&error) => {
                tracing::debug!(tx_hash = %version.tx_hash, %error, "broadcast refused, benign");
                Ok(())
            }
            Err(source) => Err(WriterError::Rpc {
                action: "eth_sendRawTransaction",
                source,
            }),
        }
    }

    fn sign(
        &self,
        nonce: u64,
        gas_limit: u64,
        max_fee: u128,
        priority: u128,
        input: Bytes,
    ) -> Result<SentTx, WriterError> {
        let mut tx = TxEip1559 {
            chain_id: self.chain_id,
            nonce,
            gas_limit,
            max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: priority,
            to: TxKind::Call(self.config.contract),
            value: U256::ZERO,
            access_list: Default::default(),
            input,
        };
        let signature = self
            .key
            .signer()
            .sign_transaction_sync(&mut tx)
            .map_err(|e| WriterError::Sign(e.to_string()))?;
        let signed = tx.into_signed(signature);
        let tx_hash = *signed.hash();
        let raw = TxEnvelope::from(signed).encoded_2718().into();
        Ok(SentTx {
            tx_hash,
            max_fee_per_gas: max_fee,
            max_priority_fee_per_gas: priority,
            raw,
            signed_at_unix_ms: now_unix_ms(),
        })
    }

    async fn take_nonce(&self) -> Result<u64, WriterError> {
        let mut next = self.next_nonce.lock().await;
        let nonce = match *next {
            Some(nonce) => nonce,
            None => self.account_nonce(true).await?,
        };
        *next = Some(nonce + 1);
        Ok(nonce)
    }

    /// The account's transaction count, mined (`latest`) or with the node's pool (`pending`).
    async fn account_nonce(&self, pending: bool) -> Result<u64, WriterError> {
        let call = self.provider.get_transaction_count(self.address());
        let call = if pending {
            call.pending()
        } else {
            call.latest()
        };
        call.await.map_err(|source| WriterError::Rpc {
            action: "eth_getTransactionCount",
            source,
        })
    }
}

fn is_benign_send_refusal(error: &TransportError) -> bool {
    let Some(payload) = error.as_error_resp() else {
        return false;
    };
    let message = payload.message.to_ascii_lowercase();
    [
        "already known",
        "already imported",
        "nonce too low",
        "underpriced",
        "already exists",
    ]
    .iter()
    .any(|m| message.contains(m))
}

fn now_unix_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
