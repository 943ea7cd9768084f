-- Corridor store, SQLite dialect. Keep in step with ../postgres/0001_init.sql: same tables,
-- same columns, same meaning. Times are unix milliseconds (BIGINT), money is minor units.

CREATE TABLE settlements (
    id                 TEXT PRIMARY KEY,
    ledger             TEXT NOT NULL,
    event_id           TEXT NOT NULL,
    content_hash       TEXT NOT NULL,
    state              TEXT NOT NULL,
    amount_minor       BIGINT NOT NULL,
    currency           TEXT NOT NULL,
    rail               TEXT,
    counterparty       TEXT,
    reason_code        TEXT,
    reason             TEXT,
    payload            TEXT NOT NULL,
    created_at_ms      BIGINT NOT NULL,
    updated_at_ms      BIGINT NOT NULL,
    final_at_ms        BIGINT,
    written_back_at_ms BIGINT,
    UNIQUE (ledger, event_id)
);
CREATE INDEX settlements_state ON settlements (state, updated_at_ms);

CREATE TABLE settlement_transitions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    settlement_id TEXT NOT NULL REFERENCES settlements (id),
    from_state    TEXT,
    to_state      TEXT NOT NULL,
    cause         TEXT NOT NULL,
    detail        TEXT,
    inbound_id    BIGINT,
    at_ms         BIGINT NOT NULL
);
CREATE INDEX settlement_transitions_settlement ON settlement_transitions (settlement_id, id);

CREATE TABLE outbox (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT NOT NULL,
    settlement_id  TEXT NOT NULL REFERENCES settlements (id),
    status         TEXT NOT NULL,
    attempts       BIGINT NOT NULL DEFAULT 0,
    due_at_ms      BIGINT NOT NULL,
    lease_owner    TEXT,
    lease_until_ms BIGINT,
    last_error     TEXT,
    created_at_ms  BIGINT NOT NULL,
    updated_at_ms  BIGINT NOT NULL,
    UNIQUE (kind, settlement_id)
);
CREATE INDEX outbox_due ON outbox (status, due_at_ms);

CREATE TABLE inbound_journal (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    received_at_ms BIGINT NOT NULL,
    channel        TEXT NOT NULL,
    source         TEXT,
    content_type   TEXT,
    raw            BLOB NOT NULL,
    status         TEXT NOT NULL,
    detail         TEXT,
    settlement_id  TEXT,
    message_kind   TEXT,
    message_ref    TEXT,
    updated_at_ms  BIGINT NOT NULL
);
CREATE INDEX inbound_journal_status ON inbound_journal (status, id);
CREATE INDEX inbound_journal_settlement ON inbound_journal (settlement_id);

CREATE TABLE outbound_messages (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    settlement_id    TEXT NOT NULL REFERENCES settlements (id),
    rail             TEXT NOT NULL,
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
    UNIQUE (settlement_id, kind)
);
CREATE INDEX outbound_messages_e2e ON outbound_messages (end_to_end_id);
