-- Statement import speed (issue 9). Keep in step with ../postgres/0016_statement_evidence_spans.sql.
--
-- A statement file is kept whole (statements.raw_path, named by its SHA-256), so an XML
-- entry's evidence need not be copied into its row: evidence_at and evidence_bytes say where
-- the entry is in the kept file (from the '<' of <Ntry> to just past </Ntry>), and evidence
-- is then ''. Copying it made each row about five times larger, and a large statement wrote
-- every entry's XML twice more (into the WAL, then into the database). Rows of a file that
-- was not kept, and MT940 and CSV lines (a few lines each), keep their evidence in the row.
ALTER TABLE statement_entries ADD COLUMN evidence_at BIGINT;
ALTER TABLE statement_entries ADD COLUMN evidence_bytes BIGINT;
