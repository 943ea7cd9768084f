-- The outbox's index on (status, due_at_ms) holds the jobs not done (throughput, issue 10).
-- Keep in step with ../sqlite/0021_index_of_jobs_not_done.sql, which changes nothing.
--
-- Every read through it asks for jobs not done: the claims (pending, and leased past their
-- lease), the oldest due job, whether anything is pending or leased, the depth per kind and
-- status, an operator's listing of one status (written into the statement, so that the
-- planner sees it is not `done`). A job's completion changes its status, so it is never an
-- update in place, and it added an entry to this index for a row never read through it
-- again: two of about 49 B-tree insertions per settlement. The index now holds the live
-- jobs, not the whole history.
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox (status, due_at_ms) WHERE status <> 'done';
