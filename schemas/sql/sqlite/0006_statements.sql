-- Statements (issue 9): owned by the statements work; this file is recon's copy of the agreed
-- contract so that reconciliation can be built and tested before that work is merged. When
-- it is, theirs replaces this one.
CREATE TABLE statements (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    format         TEXT NOT NULL,
    account        TEXT NOT NULL,
    statement_id   TEXT NOT NULL,
    sequence       TEXT,
    currency       TEXT NOT NULL,
    opening_minor  BIGINT,
    closing_minor  BIGINT,
    entries        BIGINT NOT NULL DEFAULT 0,
    balance_ok     BOOLEAN NOT NULL,
    content_sha256 TEXT NOT NULL UNIQUE,
    source         TEXT,
    file_name      TEXT,
    created_at     BIGINT NOT NULL
);

CREATE TABLE statement_entries (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    statement      BIGINT NOT NULL REFERENCES statements (id),
    line           BIGINT NOT NULL,
    booking_date   TEXT,
    value_date     TEXT,
    amount_minor   BIGINT NOT NULL,
    currency       TEXT NOT NULL,
    direction      TEXT NOT NULL CHECK (direction IN ('credit', 'debit')),
    status         TEXT NOT NULL CHECK (status IN ('booked', 'pending', 'info')),
    reversal       BOOLEAN NOT NULL DEFAULT FALSE,
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
    evidence       TEXT
);
CREATE INDEX statement_entries_statement ON statement_entries (statement, line);
