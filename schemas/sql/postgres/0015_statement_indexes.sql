-- Statement import speed (issue 9). Keep in step with ../sqlite/0015_statement_indexes.sql.
--
-- No query reads statement entries by UETR, EndToEndId or RRN and STAN: reconciliation loads
-- the unmatched entries once per run and matches them in memory (src/recon/engine.rs), and
-- the review pages find entries by id, by statement or through recon_matches. These three
-- indexes only cost every import: each entry's keys arrive in random order, so in a large
-- statement each insert into them missed the page cache. The entries' order index
-- (statement, line) stays: paging a statement's entries and its balance check read by it.
DROP INDEX statement_entries_uetr;
DROP INDEX statement_entries_end_to_end_id;
DROP INDEX statement_entries_rrn_stan;
