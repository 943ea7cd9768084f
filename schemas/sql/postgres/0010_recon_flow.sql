-- Reconciliation's resolutions that move money, and its corrections, are outbox jobs like any
-- other instruction (issue 9): `resend` (the stored pacs.008 again, same identifiers),
-- `refund` (a refund request posted to the ledger that owns the money) and `correction` (a
-- final outcome corrected by evidence, a return on the statement for a settled payment,
-- posted to the ledger as a correction write-back).

ALTER TABLE outbox DROP CONSTRAINT outbox_kind_known;
ALTER TABLE outbox
    ADD CONSTRAINT outbox_kind_known CHECK (kind IN ('deliver', 'writeback', 'reverse',
        'status', 'resend', 'refund', 'correction'));

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
