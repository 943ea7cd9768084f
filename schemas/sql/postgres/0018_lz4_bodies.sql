-- Message bodies compressed with LZ4 (throughput, issue 10). Keep in step with
-- ../sqlite/0018_lz4_bodies.sql, which changes nothing.
--
-- A row past about 2 KB has its large values compressed before it is stored (TOAST). With
-- the server's default method (pglz) that was the compression of every pacs.008 sent
-- (about 1.9 KB, stored in 1.1 KB), 1-2 % of the server's CPU flat out; LZ4 compresses
-- several times faster for a little less saving. Values stored before keep their method
-- and are read as they are.
--
-- LZ4 needs PostgreSQL 14 or later built with it (Debian's and most packages are). Where it
-- is missing, the columns keep the server's default: nothing else depends on the method.
DO $$
BEGIN
    EXECUTE 'ALTER TABLE outbound_messages ALTER COLUMN body SET COMPRESSION lz4';
    EXECUTE 'ALTER TABLE inbound_journal ALTER COLUMN raw SET COMPRESSION lz4';
    EXECUTE 'ALTER TABLE status_requests ALTER COLUMN body SET COMPRESSION lz4';
EXCEPTION
    WHEN feature_not_supported OR syntax_error OR invalid_parameter_value THEN
        RAISE NOTICE 'LZ4 compression not available (%); the default stays', SQLERRM;
END
$$;
