-- Room on each page for the rows updated after they are written (throughput, issue 10).
-- Keep in step with ../sqlite/0019_room_to_update_in_place.sql, which changes nothing.
--
-- PostgreSQL writes an update as a new version of the row. When the new version fits on the
-- same page and no indexed column changed, it is a heap-only tuple (HOT): none of the table's
-- indexes gets a new entry, and the old version is reclaimed from the page without VACUUM.
-- Pages filled to 100 % (the default) leave no room, so every update went elsewhere and into
-- every index: a message's send count (six indexes), a settlement's write-back time (three),
-- an outbox lease (three). Measured flat out before this change, under one update in ten on
-- these tables was HOT.
--
-- Inserts now leave 30 % of each page free; only pages written from now on are affected.
ALTER TABLE settlements SET (fillfactor = 70);
ALTER TABLE outbound_messages SET (fillfactor = 70);
ALTER TABLE outbox SET (fillfactor = 70);
