-- Reconciliation reads what changed (throughput, issue 10). Keep in step with
-- ../sqlite/0017_recon_calendar.sql.
--
-- Each run records the calendar that set its statement due days (recon.statement_business_days
-- and recon.holidays, as JSON). A run reads only the open settlements (see recon::run::Scope)
-- when no statement entry waits and the last run recorded the calendar it has now: the due
-- days recorded are then the ones it would compute. NULL (runs before this migration, or a
-- changed calendar): the next run reads every settlement and records the due days again.
ALTER TABLE recon_runs ADD COLUMN calendar TEXT;
