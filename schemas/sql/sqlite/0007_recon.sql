-- Reconciliation (issue 9): runs, matches, expectations, breaks and their audit trail.
-- Statement entries are referenced by id without a foreign key, so that this migration does
-- not depend on how 0006 (statements) defines its tables beyond the agreed contract.

CREATE TABLE recon_runs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    actor           TEXT NOT NULL,
    as_of_ms        BIGINT NOT NULL,
    started_at_ms   BIGINT NOT NULL,
    finished_at_ms  BIGINT,
    matches         BIGINT NOT NULL DEFAULT 0,
    breaks_opened   BIGINT NOT NULL DEFAULT 0,
    expectations_met BIGINT NOT NULL DEFAULT 0
);

-- One row per source joined to a settlement. A group (1:1, 1:N, N:1) shares `group_key`.
CREATE TABLE recon_matches (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    run           BIGINT NOT NULL REFERENCES recon_runs (id),
    group_key     TEXT NOT NULL,
    settlement_id TEXT NOT NULL REFERENCES settlements (id),
    source        TEXT NOT NULL CHECK (source IN ('message', 'answer', 'statement')),
    source_id     BIGINT NOT NULL,
    rule          TEXT NOT NULL,
    cardinality   TEXT NOT NULL CHECK (cardinality IN ('1:1', '1:N', 'N:1')),
    at_ms         BIGINT NOT NULL,
    UNIQUE (source, source_id, settlement_id)
);
CREATE INDEX recon_matches_settlement ON recon_matches (settlement_id);

CREATE TABLE recon_expectations (
    settlement_id TEXT NOT NULL REFERENCES settlements (id),
    kind          TEXT NOT NULL CHECK (kind IN ('confirmation', 'statement')),
    due_at_ms     BIGINT NOT NULL,
    met_at_ms     BIGINT,
    PRIMARY KEY (settlement_id, kind)
);
CREATE INDEX recon_expectations_due ON recon_expectations (met_at_ms, due_at_ms);

CREATE TABLE breaks (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    natural_key          TEXT NOT NULL UNIQUE,
    kind                 TEXT NOT NULL CHECK (kind IN ('missing_confirmation',
                             'missing_on_statement', 'unexpected_entry', 'amount_mismatch',
                             'currency_mismatch', 'duplicate_confirmation', 'duplicate_entry',
                             'status_conflict', 'late', 'balance_mismatch')),
    severity             TEXT NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
    state                TEXT NOT NULL CHECK (state IN ('open', 'assigned', 'resolved')),
    assignee             TEXT,
    settlement_id        TEXT,
    counterparty         TEXT,
    currency             TEXT,
    amount_at_risk_minor BIGINT NOT NULL DEFAULT 0,
    detail               TEXT NOT NULL,
    inbound_id           BIGINT,
    statement_id         BIGINT,
    entry_ids            TEXT,
    run                  BIGINT,
    opened_at_ms         BIGINT NOT NULL,
    updated_at_ms        BIGINT NOT NULL,
    resolved_at_ms       BIGINT,
    resolution           TEXT CHECK (resolution IN ('matched_manually', 'written_off',
                             'refund_requested', 'resent', 'ledger_corrected'))
);
CREATE INDEX breaks_queue ON breaks (state, kind, opened_at_ms);
CREATE INDEX breaks_settlement ON breaks (settlement_id);

-- Append-only: who did what to a break, and when.
CREATE TABLE break_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    break_id  BIGINT NOT NULL REFERENCES breaks (id),
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL CHECK (action IN ('opened', 'assigned', 'commented', 'resolved',
                  'reopened')),
    comment   TEXT,
    at_ms     BIGINT NOT NULL
);
CREATE INDEX break_events_break ON break_events (break_id, id);
CREATE TRIGGER break_events_no_update BEFORE UPDATE ON break_events
BEGIN
    SELECT RAISE(ABORT, 'break_events is append-only');
END;
CREATE TRIGGER break_events_no_delete BEFORE DELETE ON break_events
BEGIN
    SELECT RAISE(ABORT, 'break_events is append-only');
END;
