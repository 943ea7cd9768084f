-- Every kind and status is one of a known set (DESIGN.md decision 8), checked by the store as
-- well as by the Rust enums; the rails get their one name each (bank, wallet).
--
-- SQLite cannot add a CHECK constraint to a table, so each table is rebuilt: a new table,
-- a copy, the old one dropped, the new one renamed, its indexes made again. The settlements
-- table is the exception: the other tables' foreign keys name it, and with foreign keys on
-- (they cannot be switched off inside a migration's transaction) dropping it would break
-- them. Its values are checked by triggers instead, which refuse exactly what the CHECK
-- constraints of the PostgreSQL dialect refuse.

UPDATE settlements SET rail = CASE rail WHEN 'iso20022' THEN 'bank' ELSE 'wallet' END
    WHERE rail IN ('iso20022', 'iso8583');
CREATE TRIGGER settlements_values_insert BEFORE INSERT ON settlements
BEGIN
    SELECT RAISE(ABORT, 'settlements.state: not a known state') WHERE NEW.state NOT IN
        ('received', 'routed', 'submitted', 'sent', 'accepted', 'settled', 'rejected',
         'returned', 'reversed', 'failed', 'unroutable');
    SELECT RAISE(ABORT, 'settlements.rail: not a known rail') WHERE NEW.rail IS NOT NULL
        AND NEW.rail NOT IN ('bank', 'wallet');
    SELECT RAISE(ABORT, 'settlements.amount_minor: must be positive')
        WHERE NEW.amount_minor <= 0;
END;
CREATE TRIGGER settlements_values_update BEFORE UPDATE OF state, rail, amount_minor
    ON settlements
BEGIN
    SELECT RAISE(ABORT, 'settlements.state: not a known state') WHERE NEW.state NOT IN
        ('received', 'routed', 'submitted', 'sent', 'accepted', 'settled', 'rejected',
         'returned', 'reversed', 'failed', 'unroutable');
    SELECT RAISE(ABORT, 'settlements.rail: not a known rail') WHERE NEW.rail IS NOT NULL
        AND NEW.rail NOT IN ('bank', 'wallet');
    SELECT RAISE(ABORT, 'settlements.amount_minor: must be positive')
        WHERE NEW.amount_minor <= 0;
END;

CREATE TABLE settlement_transitions_new (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    settlement_id TEXT NOT NULL REFERENCES settlements (id),
    from_state    TEXT CHECK (from_state IN ('received', 'routed', 'submitted', 'sent',
                      'accepted', 'settled', 'rejected', 'returned', 'reversed', 'failed',
                      'unroutable')),
    to_state      TEXT NOT NULL CHECK (to_state IN ('received', 'routed', 'submitted', 'sent',
                      'accepted', 'settled', 'rejected', 'returned', 'reversed', 'failed',
                      'unroutable')),
    cause         TEXT NOT NULL,
    detail        TEXT,
    inbound_id    BIGINT,
    at_ms         BIGINT NOT NULL
);
INSERT INTO settlement_transitions_new SELECT id, settlement_id, from_state, to_state, cause,
    detail, inbound_id, at_ms FROM settlement_transitions;
DROP TABLE settlement_transitions;
ALTER TABLE settlement_transitions_new RENAME TO settlement_transitions;
CREATE INDEX settlement_transitions_settlement ON settlement_transitions (settlement_id, id);

CREATE TABLE outbox_new (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT NOT NULL CHECK (kind IN ('deliver', 'writeback', 'reverse', 'status')),
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

CREATE TABLE inbound_journal_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at_ms   BIGINT NOT NULL,
    channel          TEXT NOT NULL CHECK (channel IN ('ledger-http', 'ledger-file',
                         'bank-response', 'bank-callback', 'switch-response',
                         'switch-message')),
    source           TEXT,
    content_type     TEXT,
    raw              BLOB NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('received', 'applied', 'rejected',
                         'duplicate', 'conflict', 'unmatched')),
    detail           TEXT,
    settlement_id    TEXT,
    message_kind     TEXT,
    message_ref      TEXT,
    updated_at_ms    BIGINT NOT NULL,
    authenticated_by TEXT CHECK (authenticated_by IN ('signature', 'mutual-tls', 'switch-link',
                         'operator')),
    size_bytes       BIGINT,
    sha256           TEXT,
    headers          TEXT
);
INSERT INTO inbound_journal_new SELECT id, received_at_ms, channel, source, content_type, raw,
    status, detail, settlement_id, message_kind, message_ref, updated_at_ms, authenticated_by,
    size_bytes, sha256, headers FROM inbound_journal;
DROP TABLE inbound_journal;
ALTER TABLE inbound_journal_new RENAME TO inbound_journal;
CREATE INDEX inbound_journal_status ON inbound_journal (status, id);
CREATE INDEX inbound_journal_settlement ON inbound_journal (settlement_id);
CREATE INDEX inbound_journal_refused ON inbound_journal (status, received_at_ms)
    WHERE authenticated_by IS NULL;

CREATE TABLE outbound_messages_new (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    settlement_id    TEXT NOT NULL REFERENCES settlements (id),
    rail             TEXT NOT NULL CHECK (rail IN ('bank', 'wallet')),
    counterparty     TEXT NOT NULL,
    kind             TEXT NOT NULL,
    msg_id           TEXT NOT NULL UNIQUE,
    biz_msg_idr      TEXT NOT NULL,
    instr_id         TEXT,
    end_to_end_id    TEXT,
    tx_id            TEXT,
    uetr             TEXT UNIQUE,
    body             BLOB NOT NULL,
    send_count       BIGINT NOT NULL DEFAULT 0,
    first_sent_at_ms BIGINT,
    last_sent_at_ms  BIGINT,
    created_at_ms    BIGINT NOT NULL,
    stan             TEXT,
    rrn              TEXT,
    transmitted_at   TEXT,
    UNIQUE (settlement_id, kind)
);
INSERT INTO outbound_messages_new SELECT id, settlement_id,
    CASE rail WHEN 'iso20022' THEN 'bank' WHEN 'iso8583' THEN 'wallet' ELSE rail END,
    counterparty, kind, msg_id, biz_msg_idr, instr_id, end_to_end_id, tx_id, uetr, body,
    send_count, first_sent_at_ms, last_sent_at_ms, created_at_ms, stan, rrn, transmitted_at
    FROM outbound_messages;
DROP TABLE outbound_messages;
ALTER TABLE outbound_messages_new RENAME TO outbound_messages;
CREATE INDEX outbound_messages_e2e ON outbound_messages (end_to_end_id);
CREATE INDEX outbound_messages_trace ON outbound_messages (counterparty, stan, rrn);
