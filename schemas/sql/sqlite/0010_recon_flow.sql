-- Reconciliation's resolutions that move money, and its corrections, are outbox jobs like any
-- other instruction (issue 9): `resend` (the stored pacs.008 again, same identifiers),
-- `refund` (a refund request posted to the ledger that owns the money) and `correction` (a
-- final outcome corrected by evidence, a return on the statement for a settled payment,
-- posted to the ledger as a correction write-back).
--
-- SQLite cannot change a CHECK constraint in place: the table is rebuilt (nothing refers to
-- outbox rows by a foreign key).

CREATE TABLE outbox_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT NOT NULL CHECK (kind IN ('deliver', 'writeback', 'reverse', 'status',
                       'resend', 'refund', 'correction')),
    settlement_id  TEXT NOT NULL REFERENCES settlements (id),
    status         TEXT NOT NULL CHECK (status IN ('pending', 'leased', 'done', 'dead')),
    attempts       BIGINT NOT NULL DEFAULT 0,
    due_at_ms      BIGINT NOT NULL,
    lease_owner    TEXT,
    lease_until_ms BIGINT,
    last_error     TEXT,
    created_at_ms  BIGINT NOT NULL,
    updated_at_ms  BIGINT NOT NULL,
    UNIQUE (kind, settlement_id)
);
INSERT INTO outbox_new SELECT id, kind, settlement_id, status, attempts, due_at_ms, lease_owner,
    lease_until_ms, last_error, created_at_ms, updated_at_ms FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (status, due_at_ms);

-- What an operator asked to refund, kept with the request (the break may be reopened later;
-- the request stands): one per settlement, read by the `refund` job.
CREATE TABLE refund_requests (
    settlement_id TEXT PRIMARY KEY REFERENCES settlements (id),
    break_id      BIGINT NOT NULL REFERENCES breaks (id),
    break_kind    TEXT NOT NULL,
    amount_minor  BIGINT NOT NULL CHECK (amount_minor > 0),
    currency      TEXT NOT NULL,
    comment       TEXT,
    actor         TEXT NOT NULL,
    at_ms         BIGINT NOT NULL
);
