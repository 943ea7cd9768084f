-- The inbound journal records how each entry's sender was authenticated (DESIGN.md decision
-- 7): recovery at start applies only entries that were. What an unauthenticated caller sent
-- is kept bounded (its headers, size, SHA-256 and a prefix) and expires.
--   authenticated_by: signature | mutual-tls | switch-link | operator; NULL = never
--   authenticated (such an entry is never applied).

ALTER TABLE inbound_journal ADD COLUMN authenticated_by TEXT
    CHECK (authenticated_by IN ('signature', 'mutual-tls', 'switch-link', 'operator'));
ALTER TABLE inbound_journal ADD COLUMN size_bytes BIGINT;
ALTER TABLE inbound_journal ADD COLUMN sha256 TEXT;
ALTER TABLE inbound_journal ADD COLUMN headers TEXT;

-- Entries written before this migration: whatever the old code applied or classified had
-- passed its check; bank answers over mutual TLS and switch answers on the link are
-- authenticated by their transport. A bank callback or ledger post still `received` is of
-- unknown standing and stays unauthenticated: recovery will not apply it.
UPDATE inbound_journal SET authenticated_by = 'mutual-tls' WHERE channel = 'bank-response';
UPDATE inbound_journal SET authenticated_by = 'switch-link'
    WHERE channel IN ('switch-response', 'switch-message');
UPDATE inbound_journal SET authenticated_by = 'operator' WHERE channel = 'ledger-file';
UPDATE inbound_journal SET authenticated_by = 'signature'
    WHERE channel IN ('ledger-http', 'bank-callback')
      AND status IN ('applied', 'duplicate', 'conflict', 'unmatched');
UPDATE inbound_journal SET size_bytes = octet_length(raw);

CREATE INDEX inbound_journal_refused ON inbound_journal (status, received_at_ms)
    WHERE authenticated_by IS NULL;
