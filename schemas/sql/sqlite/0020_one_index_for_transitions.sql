-- A settlement's transitions under one index on PostgreSQL (throughput, issue 10). Keep in
-- step with ../postgres/0020_one_index_for_transitions.sql. In SQLite `id` is the row id,
-- the table itself, not an index of its own: the index on (settlement_id, id) is already the
-- only one written. Nothing to change.
SELECT 1;
