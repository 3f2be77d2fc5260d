-- V13's pg_cron_runs_training_schedules() again, for two flaws (V13 is applied: never edited).
--
-- 1. It is SECURITY DEFINER (it runs as the owner) with `search_path = pg_catalog` alone, and
--    Postgres searches pg_temp FIRST for relations unless the path names it: a worker login could
--    `create temp view pg_extension as select pg_temp.f() ...` and have f run as the owner. Now
--    pg_temp is named last and every relation is qualified (pg_catalog.pg_extension, cron.job).
-- 2. Its `LIKE '%schema.run_training_schedules%'` also matched other schemas' jobs
--    (staging_rag.run_training_schedules(), and `_` is a wildcard): a job counts only where the
--    schema, unquoted or quoted, stands alone before `.run_training_schedules(`, and runs in this
--    database. The schema name is taken literally (its regex characters escaped).
CREATE OR REPLACE FUNCTION ${schema}.pg_cron_runs_training_schedules() RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_schema text := pg_catalog.regexp_replace('${schema}', '([^[:alnum:]_])', '\\\1', 'g');
    v_found boolean;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        RETURN false;
    END IF;
    -- Dynamic: cron.job exists only where pg_cron is installed. Cron runs in no search path, so
    -- the job's command names the schema.
    EXECUTE 'SELECT exists (SELECT 1 FROM cron.job WHERE active AND database = pg_catalog.current_database()'
            ' AND command ~ $1)'
       INTO v_found
       USING '(^|[^[:alnum:]_$"])(' || v_schema || '|"' || v_schema || '")[[:space:]]*\.[[:space:]]*'
             'run_training_schedules[[:space:]]*\(';
    RETURN v_found;
EXCEPTION WHEN insufficient_privilege THEN
    RETURN false;
END
$$;

-- A SECURITY DEFINER function is closed to PUBLIC by the migration that makes it, not only by the
-- grants that run after a successful migrate (grants.sql gives it to ragline_worker).
REVOKE EXECUTE ON FUNCTION ${schema}.pg_cron_runs_training_schedules() FROM PUBLIC;
