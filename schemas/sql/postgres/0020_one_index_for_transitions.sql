-- A settlement's transitions under one index instead of two (throughput, issue 10). Keep in
-- step with ../sqlite/0020_one_index_for_transitions.sql, which changes nothing.
--
-- The history is only ever read by settlement, in the order it was written
-- (`WHERE settlement_id = $1 ORDER BY id`), and rows are never updated or looked up by `id`
-- alone. The primary key on `id` and the index on `(settlement_id, id)` were each written
-- for every transition, about five per settlement: measured at 1,000 settlements/s with
-- pg_walinspect, 54 B-tree leaf insertions per settlement, 5 of them for the key on `id`.
-- `(settlement_id, id)` as the primary key keeps every row unique (`id` still comes from its
-- identity) and serves the reads.
ALTER TABLE settlement_transitions DROP CONSTRAINT settlement_transitions_pkey;
DROP INDEX settlement_transitions_settlement;
ALTER TABLE settlement_transitions ADD PRIMARY KEY (settlement_id, id);
