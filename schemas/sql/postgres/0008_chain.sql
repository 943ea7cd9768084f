-- The EVM chain as a ledger (issue 11). Keep in step with ../sqlite/0008_chain.sql.
--
-- The inbound journal takes a new channel, `ledger-evm` (logs read from a chain node), whose
-- entries are authenticated by `chain-node` (the contract admits requests from its operator
-- only, and we read them from the node we are configured to trust).
ALTER TABLE inbound_journal DROP CONSTRAINT inbound_journal_channel_known;
ALTER TABLE inbound_journal ADD CONSTRAINT inbound_journal_channel_known CHECK (channel IN (
    'ledger-http', 'ledger-file', 'bank-response', 'bank-callback', 'switch-response',
    'switch-message', 'ledger-evm'));
ALTER TABLE inbound_journal DROP CONSTRAINT inbound_journal_authenticated_by_check;
ALTER TABLE inbound_journal ADD CONSTRAINT inbound_journal_authenticated_by_check CHECK (
    authenticated_by IN ('signature', 'mutual-tls', 'switch-link', 'operator', 'chain-node'));

-- Where each EVM ledger's follower stands: every log at or before (block, log index) has been
-- taken in. Written in the same transaction as the intake of the logs it covers.
CREATE TABLE evm_cursors (
    ledger        TEXT PRIMARY KEY,
    chain_id      BIGINT NOT NULL,
    block_number  BIGINT NOT NULL,
    block_hash    TEXT NOT NULL,
    log_index     BIGINT,
    head_block    BIGINT,
    updated_at_ms BIGINT NOT NULL
);

-- Every released SettlementRequested log, by its event id (chain id, tx hash, log index), with
-- the block it was in (to find what a reorg below the cursor undid) and the contract's
-- settlement id (what recordOutcome names).
CREATE TABLE evm_events (
    ledger         TEXT NOT NULL,
    event_id       TEXT NOT NULL,
    chain_id       BIGINT NOT NULL,
    tx_hash        TEXT NOT NULL,
    log_index      BIGINT NOT NULL,
    block_number   BIGINT NOT NULL,
    block_hash     TEXT NOT NULL,
    request_id     TEXT NOT NULL,
    settlement_id  TEXT,
    status         TEXT NOT NULL CHECK (status IN ('released', 'reorged', 'gone')),
    reorged_below  BIGINT,
    inbound_id     BIGINT,
    updated_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (ledger, event_id)
);
CREATE INDEX evm_events_block ON evm_events (ledger, block_number);
CREATE INDEX evm_events_settlement ON evm_events (settlement_id);

-- What an operator must look at: an event already acted on that a reorg removed from the
-- chain, or an outcome on chain other than ours.
CREATE TABLE evm_conflicts (
    id             BIGSERIAL PRIMARY KEY,
    ledger         TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('reorg', 'outcome')),
    event_id       TEXT,
    settlement_id  TEXT,
    detail         TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    detected_at_ms BIGINT NOT NULL
);
CREATE INDEX evm_conflicts_ledger ON evm_conflicts (ledger, status);

-- recordOutcome transactions, stored before they are sent (the writer's PendingTx, JSON: it
-- holds the signed bytes of every fee version, no secret) and updated on each fee bump.
CREATE TABLE evm_outcome_txs (
    settlement_id  TEXT PRIMARY KEY REFERENCES settlements (id),
    ledger         TEXT NOT NULL,
    nonce          BIGINT NOT NULL,
    pending        TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'done')),
    tx_hash        TEXT,
    block_number   BIGINT,
    gas_used       BIGINT,
    created_at_ms  BIGINT NOT NULL,
    updated_at_ms  BIGINT NOT NULL
);
CREATE INDEX evm_outcome_txs_status ON evm_outcome_txs (ledger, status);
