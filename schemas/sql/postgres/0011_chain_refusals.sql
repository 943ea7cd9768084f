-- Chain instructions the intake refused (issue 11). Keep in step with ../sqlite/0011_chain_refusals.sql.
--
-- A SettlementRequested log that the intake refuses (an unknown currency, a bad IBAN, a party
-- missing from the ledger's directory) becomes no settlement, yet its instruction on chain
-- still needs exactly one outcome: `failed`, with the reason. The row is written in the
-- same transaction as the intake of the log (so a crash loses none and adds none); the
-- recordOutcome transaction is stored in `pending` before it is first broadcast, as for
-- evm_outcome_txs.
CREATE TABLE evm_refusals (
    ledger         TEXT NOT NULL,
    event_id       TEXT NOT NULL,
    request_id     TEXT NOT NULL,
    reason_code    TEXT NOT NULL,
    detail         TEXT NOT NULL,
    inbound_id     BIGINT,
    nonce          BIGINT,
    pending        TEXT,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'recorded', 'gone', 'failed')),
    tx_hash        TEXT,
    block_number   BIGINT,
    gas_used       BIGINT,
    created_at_ms  BIGINT NOT NULL,
    updated_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (ledger, event_id)
);
CREATE INDEX evm_refusals_status ON evm_refusals (ledger, status);
