-- The journal's indexes hold what is looked up through them (throughput, issue 10). Keep in
-- step with ../sqlite/0022_journal_indexes_of_what_is_looked_for.sql, which changes nothing.
--
-- An entry is inserted `received`, without its settlement, and updated once applied with
-- both: the update changes indexed columns, so it is never made in place, and each version
-- went into all three indexes. Nothing looks up applied entries by status (the listing by
-- status and the recovery of entries left `received` ask for the others, with the status
-- written into the statement), nor entries without a settlement by settlement (every such
-- lookup is `settlement_id = …`, which excludes NULL). Four of about 47 B-tree insertions
-- per settlement (two entries, an event and its answer) were entries nothing reads.
DROP INDEX inbound_journal_status;
CREATE INDEX inbound_journal_status ON inbound_journal (status, id) WHERE status <> 'applied';
DROP INDEX inbound_journal_settlement;
CREATE INDEX inbound_journal_settlement ON inbound_journal (settlement_id)
    WHERE settlement_id IS NOT NULL;
