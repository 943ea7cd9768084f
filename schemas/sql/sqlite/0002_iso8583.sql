-- ISO 8583 identifiers on outbound messages (DESIGN.md decision 3: STAN, RRN and DE7 are
-- assigned once and persisted before the first send), and the per-counterparty STAN counter.

ALTER TABLE outbound_messages ADD COLUMN stan TEXT;
ALTER TABLE outbound_messages ADD COLUMN rrn TEXT;
ALTER TABLE outbound_messages ADD COLUMN transmitted_at TEXT;
CREATE INDEX outbound_messages_trace ON outbound_messages (counterparty, stan, rrn);

CREATE TABLE trace_numbers (
    counterparty TEXT PRIMARY KEY,
    next_stan    BIGINT NOT NULL
);
