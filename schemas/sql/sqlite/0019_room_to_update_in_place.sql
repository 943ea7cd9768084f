-- Room on each page for rows updated in place, on PostgreSQL (throughput, issue 10). Keep in
-- step with ../postgres/0019_room_to_update_in_place.sql. SQLite updates rows in their B-tree
-- pages and has no fill factor to set: nothing to change.
SELECT 1;
