//! Follows `SettlementRequested` logs: bounded `eth_getLogs` ranges from a [`Cursor`],
//! release only once confirmed, and reorgs told apart by what they undo.
//!
//! # Cursor
//! A [`Cursor`] says "every event up to and including this position has been released":
//! `(block_number, Some(log_index))` after an event, `(block_number, None)` after a whole
//! block. It also holds the hash the block had, so that the next poll can see whether the
//! chain still agrees. The caller persists the cursor after acting on what was released
//! (each released event carries its own [`SettlementRequest::cursor`], so a caller may
//! persist event by event); a new follower resumes from it.
//!
//! # Confirmation and reorgs
//! An event is *released* once its block has `N` confirmations (the head counts as one) or
//! is at or below the `finalized` block ([`Confirmation`]). Before that it is only *seen*.
//! Each poll ([`Follower::poll`]) gives one of:
//! - [`Poll::Advanced`]: events newly `released` (act on them), newly `seen` (awaiting
//!   confirmation: for display only), and `withdrawn` (seen earlier, never released, and no
//!   longer in the chain: a shallow reorg; nothing was acted on, so nothing to undo).
//! - [`Poll::ReorgBelowCursor`]: the cursor's block is no longer the chain's block at that
//!   height: a reorg deeper than the confirmation depth replaced blocks whose events were
//!   already released. The caller must treat every event at or before the cursor that it
//!   acted on as a possible conflict, choose where to restart ([`Follower::restart_from`],
//!   [`Follower::cursor_at_block`]) and compare what is released again by event key and
//!   content. The follower stays stopped until then.
//!
//! # Limits
//! One poll makes at most `ranges_per_poll_max` `eth_getLogs` calls of at most
//! `range_blocks_max` blocks each, so a long backlog is read over several polls. Within a
//! poll, the hash of each range's last block is read before its logs and checked again at the
//! end: if the chain moved meanwhile, the poll's results are dropped and it fails with a
//! transient [`FollowerError::ChainMoved`], to be retried.

use std::collections::HashMap;
use std::fmt;

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::Provider as _;
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::SolEvent;
use alloy::transports::TransportError;

use crate::contract::SettlementRequested;
use crate::rpc::Provider;

/// When an event counts as confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Confirmation {
    /// After this many confirmations (at least 1; the block that holds the event is the first).
    Blocks(u64),
    /// Once the node's `finalized` block is at or above the event's block.
    Finalized,
}

/// What to follow and how.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowerConfig {
    /// The `Settlement` contract.
    pub contract: Address,
    /// The first block to read when there is no cursor (the contract's deployment block).
    pub from_block: u64,
    /// When an event is released.
    pub confirmation: Confirmation,
    /// Blocks per `eth_getLogs` call (nodes cap this, often at 1,000 to 10,000).
    pub range_blocks_max: u64,
    /// `eth_getLogs` calls per poll, confirmed and unconfirmed ranges together.
    pub ranges_per_poll_max: u32,
}

/// Where the follower stands: everything at or before this position has been released.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    /// The block.
    pub block_number: u64,
    /// Its hash when it was read.
    pub block_hash: B256,
    /// The last released log of that block, or `None` when the whole block is done.
    pub log_index: Option<u64>,
}

/// An EVM ledger event's identity: (chain id, transaction hash, log index).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct EventKey {
    /// The chain (EIP-155 id).
    pub chain_id: u64,
    /// The transaction that emitted the event.
    pub tx_hash: B256,
    /// The log's index in its block.
    pub log_index: u64,
}

/// A token amount exactly as the chain states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TokenAmount {
    /// Integer units (the amount is `units / 10^decimals`).
    pub units: U256,
    /// Decimals of the token or currency.
    pub decimals: u8,
}

impl TokenAmount {
    /// The units as a decimal string (what the gateway stores).
    pub fn units_decimal(&self) -> String {
        self.units.to_string()
    }
}

/// One `SettlementRequested` event, decoded, with where it sits in the chain.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SettlementRequest {
    /// The event's key.
    pub key: EventKey,
    /// The block that holds it.
    pub block_number: u64,
    /// That block's hash.
    pub block_hash: B256,
    /// The settlement id the operator chose.
    pub id: B256,
    /// The amount.
    pub amount: TokenAmount,
    /// ISO 4217 code or token symbol, as emitted.
    pub currency: String,
    /// Debtor's account (IBAN or MSISDN), as emitted.
    pub debtor_ref: String,
    /// Creditor's account (IBAN or MSISDN), as emitted.
    pub creditor_ref: String,
}

impl SettlementRequest {
    /// The cursor to persist once this event has been acted on.
    pub fn cursor(&self) -> Cursor {
        Cursor {
            block_number: self.block_number,
            block_hash: self.block_hash,
            log_index: Some(self.key.log_index),
        }
    }

    fn position(&self) -> (u64, u64) {
        (self.block_number, self.key.log_index)
    }
}

/// Account references are personal data: `Debug` shows their last four characters only.
impl fmt::Debug for SettlementRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SettlementRequest")
            .field("key", &self.key)
            .field("block_number", &self.block_number)
            .field("block_hash", &self.block_hash)
            .field("id", &self.id)
            .field("amount", &self.amount)
            .field("currency", &self.currency)
            .field("debtor_ref", &Masked(&self.debtor_ref))
            .field("creditor_ref", &Masked(&self.creditor_ref))
            .finish()
    }
}

struct Masked<'a>(&'a str);

impl fmt::Debug for Masked<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chars: Vec<char> = self.0.chars().collect();
        let shown = chars.len().saturating_sub(4);
        let tail: String = chars[shown..].iter().collect();
        write!(f, "\"{}{}\"", "*".repeat(shown), tail)
    }
}

/// What one poll found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub enum Poll {
    /// The follower moved on (possibly by nothing).
    Advanced(Advance),
    /// The chain no longer has the cursor's block: see the module documentation.
    ReorgBelowCursor(ReorgBelowCursor),
}

/// Progress made by one poll.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Advance {
    /// Confirmed events, in chain order: act on them, then persist `cursor`.
    pub released: Vec<SettlementRequest>,
    /// Events seen for the first time and not yet confirmed, in chain order.
    pub seen: Vec<SettlementRequest>,
    /// Events reported in `seen` earlier that are no longer in the chain; never released.
    pub withdrawn: Vec<SettlementRequest>,
    /// The position after this poll; `None` while nothing has been read yet.
    pub cursor: Option<Cursor>,
    /// The chain's head at this poll.
    pub head: u64,
    /// The highest block that counts as confirmed at this poll (`None`: none yet).
    pub confirmed_through: Option<u64>,
    /// Whether every confirmed block has been read (false: a backlog remains for next polls).
    pub caught_up: bool,
    /// `eth_getLogs` calls made by this poll.
    pub ranges_read: u32,
}

/// The chain replaced the block the cursor stands on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReorgBelowCursor {
    /// The cursor the caller had persisted (or the follower had reached).
    pub cursor: Cursor,
    /// The hash the chain has at that height now; `None` when the chain is now shorter.
    pub chain_block_hash: Option<B256>,
}

/// Why a poll failed. Nothing was released by a failed poll; calling again is safe.
#[derive(Debug, thiserror::Error)]
pub enum FollowerError {
    /// The node could not be reached or refused the request.
    #[error("follower: {action}: RPC failed (will retry from the same cursor): {source}")]
    Rpc {
        /// What was being done.
        action: &'static str,
        /// The transport's error.
        source: TransportError,
    },
    /// The node did not return a block below its own head (a pruned or lagging node?).
    #[error("follower: the node has no block {number} although its head is {head}")]
    MissingBlock {
        /// The block asked for.
        number: u64,
        /// The head at that poll.
        head: u64,
    },
    /// The chain changed between reading a range's last block and the end of the poll.
    #[error("follower: block {number} changed during the poll ({expected} then {found:?}); the poll was dropped, retry")]
    ChainMoved {
        /// The block.
        number: u64,
        /// Its hash when the range was read.
        expected: B256,
        /// Its hash at the end of the poll (`None`: gone).
        found: Option<B256>,
    },
    /// A log from the contract does not decode as `SettlementRequested` (wrong contract?).
    #[error("follower: log {log_index} of transaction {tx_hash} does not decode as SettlementRequested: {reason}")]
    Decode {
        /// The transaction.
        tx_hash: B256,
        /// The log's index.
        log_index: u64,
        /// The decoder's reason.
        reason: String,
    },
    /// The configuration cannot work.
    #[error("follower configuration: {0}")]
    Config(&'static str),
}

impl FollowerError {
    /// Whether calling `poll` again later may succeed without a change by a person.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Rpc { .. } | Self::MissingBlock { .. } | Self::ChainMoved { .. }
        )
    }
}

/// Follows one `Settlement` contract on one chain.
#[derive(Debug)]
pub struct Follower {
    provider: Provider,
    config: FollowerConfig,
    chain_id: u64,
    cursor: Option<Cursor>,
    /// Seen, not yet released, by key.
    pending: HashMap<EventKey, SettlementRequest>,
    stopped: Option<ReorgBelowCursor>,
}

/// A block range read in this poll, with the hash its last block had before the read.
struct RangeRead {
    to: u64,
    to_hash: B256,
}

impl Follower {
    /// A follower starting after `cursor`, or at `config.from_block` when there is none.
    /// Asks the node for its chain id, which becomes part of every event key.
    pub async fn new(
        provider: Provider,
        config: FollowerConfig,
        cursor: Option<Cursor>,
    ) -> Result<Self, FollowerError> {
        if config.range_blocks_max == 0 || config.ranges_per_poll_max == 0 {
            return Err(FollowerError::Config(
                "range_blocks_max and ranges_per_poll_max must be at least 1",
            ));
        }
        if config.confirmation == Confirmation::Blocks(0) {
            return Err(FollowerError::Config(
                "confirmation blocks must be at least 1 (the including block)",
            ));
        }
        let chain_id = provider
            .get_chain_id()
            .await
            .map_err(|source| FollowerError::Rpc {
                action: "eth_chainId",
                source,
            })?;
        Ok(Self {
            provider,
            config,
            chain_id,
            cursor,
            pending: HashMap::new(),
            stopped: None,
        })
    }

    /// The chain id read at start.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// Where the follower stands.
    pub fn cursor(&self) -> Option<Cursor> {
        self.cursor
    }

    /// Events seen and not yet released (nor withdrawn), in chain order.
    pub fn pending(&self) -> Vec<SettlementRequest> {
        let mut pending: Vec<_> = self.pending.values().cloned().collect();
        pending.sort_by_key(SettlementRequest::position);
        pending
    }

    /// Restarts after a [`Poll::ReorgBelowCursor`] (or at any time) from `cursor`; the seen
    /// events are forgotten and will be seen again.
    pub fn restart_from(&mut self, cursor: Option<Cursor>) {
        self.cursor = cursor;
        self.pending.clear();
        self.stopped = None;
    }

    /// A cursor after the whole of block `number` as the chain has it now.
    pub async fn cursor_at_block(&self, number: u64) -> Result<Cursor, FollowerError> {
        let head = self.head().await?;
        let block_hash = self
            .block_hash(number)
            .await?
            .ok_or(FollowerError::MissingBlock { number, head })?;
        Ok(Cursor {
            block_number: number,
            block_hash,
            log_index: None,
        })
    }

    /// Reads what is new since the last poll. See the module documentation.
    pub async fn poll(&mut self) -> Result<Poll, FollowerError> {
        if let Some(stopped) = &self.stopped {
            return Ok(Poll::ReorgBelowCursor(stopped.clone()));
        }
        let head = self.head().await?;
        if let Some(cursor) = self.cursor {
            let chain_block_hash = self.block_hash(cursor.block_number).await?;
            if chain_block_hash != Some(cursor.block_hash) {
                let reorg = ReorgBelowCursor {
                    cursor,
                    chain_block_hash,
                };
                self.stopped = Some(reorg.clone());
                return Ok(Poll::ReorgBelowCursor(reorg));
            }
        }
        let confirmed_through = self.confirmed_through(head).await?;
        let mut budget = self.config.ranges_per_poll_max;
        let mut reads = Vec::new();

        let start = match self.cursor {
            Some(c) if c.log_index.is_some() => c.block_number,
            Some(c) => c.block_number + 1,
            None => self.config.from_block,
        };
        let (released, cursor, next) = self
            .read_confirmed(start, confirmed_through, &mut budget, &mut reads)
            .await?;
        let caught_up = confirmed_through.is_none_or(|through| next > through);

        let mut unconfirmed = Vec::new();
        let mut unconfirmed_through = next.saturating_sub(1);
        if caught_up {
            let mut from = next;
            while from <= head && budget > 0 {
                let to = head.min(from + self.config.range_blocks_max - 1);
                unconfirmed.extend(self.logs(from, to).await?);
                budget -= 1;
                unconfirmed_through = to;
                from = to + 1;
            }
        }
        self.check_unchanged(&reads).await?;

        let ranges_read = self.config.ranges_per_poll_max - budget;
        let scanned = start..=unconfirmed_through;
        let (seen, withdrawn) = self.reconcile(&released, unconfirmed, head, scanned);
        if cursor.is_some() {
            self.cursor = cursor;
        }
        Ok(Poll::Advanced(Advance {
            released,
            seen,
            withdrawn,
            cursor: self.cursor,
            head,
            confirmed_through,
            caught_up,
            ranges_read,
        }))
    }

    /// Reads confirmed ranges from `start`; returns the events to release, the cursor after
    /// them (`None` if nothing was read) and the next block to read.
    async fn read_confirmed(
        &self,
        start: u64,
        confirmed_through: Option<u64>,
        budget: &mut u32,
        reads: &mut Vec<RangeRead>,
    ) -> Result<(Vec<SettlementRequest>, Option<Cursor>, u64), FollowerError> {
        let Some(through) = confirmed_through else {
            return Ok((Vec::new(), None, start));
        };
        let mut released = Vec::new();
        let mut cursor = None;
        let mut from = start;
        while from <= through && *budget > 0 {
            let to = through.min(from + self.config.range_blocks_max - 1);
            let to_hash = self
                .block_hash(to)
                .await?
                .ok_or(FollowerError::MissingBlock {
                    number: to,
                    head: through,
                })?;
            let logs = self.logs(from, to).await?;
            *budget -= 1;
            for event in logs {
                if event.block_number == to && event.block_hash != to_hash {
                    return Err(FollowerError::ChainMoved {
                        number: to,
                        expected: to_hash,
                        found: Some(event.block_hash),
                    });
                }
                if self.already_released(&event) {
                    continue;
                }
                released.push(event);
            }
            reads.push(RangeRead { to, to_hash });
            cursor = Some(Cursor {
                block_number: to,
                block_hash: to_hash,
                log_index: None,
            });
            from = to + 1;
        }
        Ok((released, cursor, from))
    }

    fn already_released(&self, event: &SettlementRequest) -> bool {
        match self.cursor {
            Some(Cursor {
                block_number,
                log_index: Some(index),
                ..
            }) => event.block_number == block_number && event.key.log_index <= index,
            _ => false,
        }
    }

    /// Drops the poll when a range's last block changed while the poll ran: the logs read may
    /// then come from two different chains.
    async fn check_unchanged(&self, reads: &[RangeRead]) -> Result<(), FollowerError> {
        for read in reads {
            let found = self.block_hash(read.to).await?;
            if found != Some(read.to_hash) {
                return Err(FollowerError::ChainMoved {
                    number: read.to,
                    expected: read.to_hash,
                    found,
                });
            }
        }
        Ok(())
    }

    /// Updates the seen set: returns what is newly seen and what was withdrawn.
    fn reconcile(
        &mut self,
        released: &[SettlementRequest],
        unconfirmed: Vec<SettlementRequest>,
        head: u64,
        scanned: std::ops::RangeInclusive<u64>,
    ) -> (Vec<SettlementRequest>, Vec<SettlementRequest>) {
        for event in released {
            self.pending.remove(&event.key);
        }
        let present: HashMap<EventKey, &SettlementRequest> =
            unconfirmed.iter().map(|e| (e.key, e)).collect();
        let mut withdrawn: Vec<SettlementRequest> = Vec::new();
        self.pending.retain(|key, event| {
            let gone = event.block_number > head
                || (scanned.contains(&event.block_number) && !present.contains_key(key));
            if gone {
                withdrawn.push(event.clone());
            }
            !gone
        });
        let mut seen = Vec::new();
        for event in unconfirmed {
            // A transaction mined again in another block keeps its key: it stays seen.
            if let Some(known) = self.pending.get_mut(&event.key) {
                *known = event;
            } else {
                self.pending.insert(event.key, event.clone());
                seen.push(event);
            }
        }
        withdrawn.sort_by_key(SettlementRequest::position);
        (seen, withdrawn)
    }

    async fn head(&self) -> Result<u64, FollowerError> {
        self.provider
            .get_block_number()
            .await
            .map_err(|source| FollowerError::Rpc {
                action: "eth_blockNumber",
                source,
            })
    }

    async fn confirmed_through(&self, head: u64) -> Result<Option<u64>, FollowerError> {
        match self.config.confirmation {
            Confirmation::Blocks(n) => Ok((head + 1).checked_sub(n)),
            Confirmation::Finalized => {
                let block = self
                    .provider
                    .get_block_by_number(BlockNumberOrTag::Finalized)
                    .await
                    .map_err(|source| FollowerError::Rpc {
                        action: "eth_getBlockByNumber(finalized)",
                        source,
                    })?;
                Ok(block.map(|b| b.header.number.min(head)))
            }
        }
    }

    async fn block_hash(&self, number: u64) -> Result<Option<B256>, FollowerError> {
        let block = self
            .provider
            .get_block_by_number(BlockNumberOrTag::Number(number))
            .await
            .map_err(|source| FollowerError::Rpc {
                action: "eth_getBlockByNumber",
                source,
            })?;
        Ok(block.map(|b| b.header.hash))
    }

    /// The contract's `SettlementRequested` logs in `from..=to`, in chain order.
    async fn logs(&self, from: u64, to: u64) -> Result<Vec<SettlementRequest>, FollowerError> {
        let filter = Filter::new()
            .address(self.config.contract)
            .event_signature(SettlementRequested::SIGNATURE_HASH)
            .from_block(from)
            .to_block(to);
        let logs = self
            .provider
            .get_logs(&filter)
            .await
            .map_err(|source| FollowerError::Rpc {
                action: "eth_getLogs",
                source,
            })?;
        let mut events = logs
            .iter()
            .map(|log| self.decode(log))
            .collect::<Result<Vec<_>, _>>()?;
        events.sort_by_key(SettlementRequest::position);
        Ok(events)
    }

    fn decode(&self, log: &Log) -> Result<SettlementRequest, FollowerError> {
        let tx_hash = log.transaction_hash.unwrap_or_default();
        let log_index = log.log_index.unwrap_or_default();
        let error = |reason: String| FollowerError::Decode {
            tx_hash,
            log_index,
            reason,
        };
        let (Some(block_number), Some(block_hash), Some(_), Some(_)) = (
            log.block_number,
            log.block_hash,
            log.transaction_hash,
            log.log_index,
        ) else {
            return Err(error(
                "the node left out the block, transaction or index of a mined log".into(),
            ));
        };
        let decoded = log
            .log_decode::<SettlementRequested>()
            .map_err(|e| error(e.to_string()))?;
        let event = decoded.inner.data;
        Ok(SettlementRequest {
            key: EventKey {
                chain_id: self.chain_id,
                tx_hash,
                log_index,
            },
            block_number,
            block_hash,
            id: event.id,
            amount: TokenAmount {
                units: event.amount,
                decimals: event.decimals,
            },
            currency: event.currency,
            debtor_ref: event.debtorRef,
            creditor_ref: event.creditorRef,
        })
    }
}
