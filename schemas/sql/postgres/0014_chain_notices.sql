-- Corrections and refund requests on chain (issue 9). Keep in step with ../sqlite/0014_chain_notices.sql.
--
-- The Settlement contract appends what reconciliation learns after an outcome: a correction
-- (recordCorrection: settled, then returned) and a refund request (requestRefund), at most
-- one of each per settlement. Their transactions are stored here before they are first
-- broadcast and replaced on each fee bump, as the outcomes' are in evm_outcome_txs, so a
-- gateway killed between sending and the receipt finishes the same transaction.
CREATE TABLE evm_notice_txs (
    settlement_id  TEXT NOT NULL REFERENCES settlements (id),
    entry          TEXT NOT NULL CHECK (entry IN ('correction', 'refund')),
    ledger         TEXT NOT NULL,
    nonce          BIGINT NOT NULL,
    pending        TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('pending', 'done')),
    tx_hash        TEXT,
    block_number   BIGINT,
    gas_used       BIGINT,
    created_at_ms  BIGINT NOT NULL,
    updated_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (settlement_id, entry)
);
CREATE INDEX evm_notice_txs_status ON evm_notice_txs (ledger, status);
