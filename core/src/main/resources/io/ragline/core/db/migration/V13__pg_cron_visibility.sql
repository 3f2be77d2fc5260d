-- Whether a pg_cron job runs this schema's run_training_schedules() (the training-worker's
-- scheduler stands aside then). pg_cron shows each user only its own jobs (row-level security on
-- cron.job) and grants no USAGE on its schema: a worker login would see no job, or fail. This
-- function reads cron.job as the owner, who schedules the job (operations.md); where the owner
-- cannot read it either, the answer is false and the in-process scheduler runs as well, which is
-- harmless (run_training_schedules() takes each due row FOR UPDATE SKIP LOCKED).
SELECT set_config('search_path', '${schema}, public', true);

CREATE FUNCTION pg_cron_runs_training_schedules() RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog AS $$
DECLARE
    v_found boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
        RETURN false;
    END IF;
    -- Dynamic: cron.job exists only where pg_cron is installed. Cron runs in no search path, so
    -- the job's command names the schema, and jobs of other Ragline schemas are not this one's.
    EXECUTE 'SELECT exists (SELECT 1 FROM cron.job WHERE active AND command LIKE $1)'
       INTO v_found USING '%${schema}.run_training_schedules%';
    RETURN v_found;
EXCEPTION WHEN insufficient_privilege THEN
    RETURN false;
END
$$;
