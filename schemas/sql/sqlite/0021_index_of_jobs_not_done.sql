-- The index of the jobs not done, on PostgreSQL (throughput, issue 10). Keep in step with
-- ../postgres/0021_index_of_jobs_not_done.sql. SQLite uses a partial index only where a
-- statement repeats its condition, which `status = 'pending'` does not (it does not reason
-- that it excludes `done`), and its one writer's B-tree inserts are cheap: nothing to change.
SELECT 1;
