-- Message bodies compressed with LZ4 on PostgreSQL (throughput, issue 10). Keep in step with
-- ../postgres/0018_lz4_bodies.sql. SQLite stores values as they are: nothing to change.
SELECT 1;
