-- One schedule that cannot request training (its request_training() raises, e.g. a pgml request
-- with min_new_labelled) no longer aborts run_training_schedules() for every schedule on every
-- run: each row runs in its own subtransaction, a failure is recorded in last_result, and the row
-- still moves to its next run.
SELECT set_config('search_path', '${schema}, public', true);

CREATE OR REPLACE FUNCTION run_training_schedules() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    s ${schema}.training_schedules%ROWTYPE;
    v_request_id text;
    v_result text;
    v_requested integer := 0;
BEGIN
    FOR s IN SELECT * FROM ${schema}.training_schedules
              WHERE enabled AND next_run_at <= now()
              ORDER BY next_run_at FOR UPDATE SKIP LOCKED LOOP
        BEGIN
            v_request_id := ${schema}.request_training(s.request - 'request_id', s.min_new_labelled);
            v_result := CASE WHEN v_request_id IS NULL
                             THEN 'skipped: fewer than ' || s.min_new_labelled || ' new labelled documents'
                             ELSE 'requested ' || v_request_id END;
        EXCEPTION WHEN OTHERS THEN
            v_request_id := NULL;
            v_result := 'failed: ' || SQLERRM;
            RAISE WARNING 'training schedule %: %', s.name, SQLERRM;
        END;
        UPDATE ${schema}.training_schedules
           SET last_run_at = now(),
               next_run_at = greatest(s.next_run_at + s.every, now()),
               last_request_id = coalesce(v_request_id, last_request_id),
               last_result = v_result
         WHERE name = s.name;
        IF v_request_id IS NOT NULL THEN
            v_requested := v_requested + 1;
        END IF;
    END LOOP;
    RETURN v_requested;
END
$$;
