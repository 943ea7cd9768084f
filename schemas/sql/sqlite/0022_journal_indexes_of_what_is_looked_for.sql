-- The journal's indexes of what is looked up through them, on PostgreSQL (throughput, issue
-- 10). Keep in step with ../postgres/0022_journal_indexes_of_what_is_looked_for.sql. SQLite
-- uses a partial index only where a statement repeats its condition, and its one writer's
-- B-tree inserts are cheap: nothing to change.
SELECT 1;
