-- Statements for reconciliation (issue 9): each imported statement file, its entries, and the
-- files that were refused. The `recon` module reads these tables; their columns are a contract
-- (add, never rename or drop). Keep in step with ../sqlite/0006_statements.sql.
--
-- A statement is one per file: a file is imported in one transaction, wholly or not at all.
-- `sequence` is '' when the file carries none, so that UNIQUE (account, statement_id,
-- sequence) also holds for statements without a sequence number.

CREATE TABLE statements (
    id             BIGSERIAL PRIMARY KEY,
    format         TEXT NOT NULL CHECK (format IN ('camt.053.001.02', 'camt.053.001.08',
                       'camt.052.001.02', 'camt.052.001.08', 'camt.054.001.02',
                       'camt.054.001.08', 'mt940', 'mt950', 'wallet-csv')),
    account        TEXT NOT NULL,
    statement_id   TEXT NOT NULL,
    sequence       TEXT NOT NULL DEFAULT '',
    currency       TEXT,
    opening_minor  BIGINT,
    closing_minor  BIGINT,
    entries        BIGINT NOT NULL,
    balance_ok     BOOLEAN,
    balance_detail TEXT,
    content_sha256 TEXT NOT NULL UNIQUE,
    source         TEXT NOT NULL CHECK (source IN ('cli', 'upload', 'drop')),
    file_name      TEXT,
    raw_path       TEXT,
    size_bytes     BIGINT NOT NULL,
    created_at     TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    UNIQUE (account, statement_id, sequence)
);

CREATE TABLE statement_entries (
    id             BIGSERIAL PRIMARY KEY,
    statement      BIGINT NOT NULL REFERENCES statements (id),
    line           BIGINT NOT NULL,
    booking_date   TEXT,
    value_date     TEXT,
    amount_minor   BIGINT NOT NULL CHECK (amount_minor >= 0),
    currency       TEXT NOT NULL,
    direction      TEXT NOT NULL CHECK (direction IN ('credit', 'debit')),
    status         TEXT NOT NULL CHECK (status IN ('booked', 'pending', 'info')),
    reversal       BOOLEAN NOT NULL,
    uetr           TEXT,
    end_to_end_id  TEXT,
    instr_id       TEXT,
    tx_id          TEXT,
    acct_svcr_ref  TEXT,
    msg_id         TEXT,
    msisdn         TEXT,
    rrn            TEXT,
    stan           TEXT,
    return_reason  TEXT,
    reference      TEXT,
    charges_minor  BIGINT,
    batch_refs     TEXT,
    evidence       TEXT NOT NULL
);
CREATE INDEX statement_entries_statement ON statement_entries (statement, line);
CREATE INDEX statement_entries_uetr ON statement_entries (uetr);
CREATE INDEX statement_entries_end_to_end_id ON statement_entries (end_to_end_id);
CREATE INDEX statement_entries_rrn_stan ON statement_entries (rrn, stan);

-- A file that could not be imported: kept (raw_path) and reported with its error, never
-- dropped. The same content refused twice is one row.
CREATE TABLE statement_refusals (
    id             BIGSERIAL PRIMARY KEY,
    content_sha256 TEXT NOT NULL UNIQUE,
    source         TEXT NOT NULL CHECK (source IN ('cli', 'upload', 'drop')),
    file_name      TEXT,
    raw_path       TEXT,
    size_bytes     BIGINT NOT NULL,
    error          TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    created_at_ms  BIGINT NOT NULL
);
