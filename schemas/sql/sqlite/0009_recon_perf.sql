-- Reconciliation at scale (issue 9 benchmark): whether a settlement is already joined to a
-- statement entry is asked once per settlement on every run. With only (settlement_id) and
-- the unique (source, source_id, settlement_id), SQLite's planner chose the unique index by
-- its `source` prefix and scanned every statement match for each settlement: a re-run over
-- 100,000 settlements did not finish in minutes. (settlement_id, source) answers it with one
-- seek and also serves every lookup by settlement alone, so it replaces the old index: one
-- index fewer to keep up on each match written.
CREATE INDEX recon_matches_settlement_source ON recon_matches (settlement_id, source);
DROP INDEX recon_matches_settlement;
