-- pacs.028 status requests (DESIGN.md decision 6: a bank that does not answer is asked, not
-- guessed). Each request is stored, identifiers and bytes, before it is sent.

CREATE TABLE status_requests (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    settlement_id  TEXT NOT NULL REFERENCES settlements (id),
    counterparty   TEXT NOT NULL,
    msg_id         TEXT NOT NULL UNIQUE,
    body           BLOB NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    outcome        TEXT
);
CREATE INDEX status_requests_settlement ON status_requests (settlement_id);
