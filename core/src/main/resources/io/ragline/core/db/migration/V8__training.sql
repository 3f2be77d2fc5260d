-- Training (training-worker, ARCHITECTURE.md section 7): predictions of deployed builtin models,
-- cancelling a job from SQL, requesting training from SQL (pg_cron) and recurring schedules.
-- (V6 and V7 are reserved for other changes.)
SELECT set_config('search_path', '${schema}, public', true);

-- One row per document and project: the label the project's deployed builtin model gave the
-- document's latest embedded version, and its probability.
CREATE TABLE document_predictions (
    document_id      bigint NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    project          text NOT NULL,
    model_id         bigint NOT NULL REFERENCES models (id) ON DELETE CASCADE,
    document_version bigint NOT NULL,
    label            text NOT NULL,
    confidence       double precision NOT NULL CHECK (confidence BETWEEN 0 AND 1),
    predicted_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (document_id, project)
);
CREATE INDEX document_predictions_label_idx ON document_predictions (project, label);
CREATE INDEX models_deployed_collection_idx ON models (collection_id) WHERE deployed;
CREATE INDEX training_jobs_running_idx ON training_jobs (heartbeat_at) WHERE status = 'running';

-- Asks a job to stop. A queued job is cancelled at once (with its training.cancelled event); a
-- running one is stopped by its worker (between epochs, or by cancelling its pgml statement), which
-- then marks it cancelled. Returns the job's status afterwards, or null when there is no such job.
CREATE FUNCTION cancel_training_job(p_job_id bigint) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    j ${schema}.training_jobs%ROWTYPE;
BEGIN
    SELECT * INTO j FROM ${schema}.training_jobs WHERE id = p_job_id FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF j.status IN ('succeeded', 'failed', 'cancelled') THEN
        RETURN j.status;
    END IF;
    IF j.status = 'queued' THEN
        UPDATE ${schema}.training_jobs
           SET cancel_requested = true, status = 'cancelled', finished_at = now(),
               error = 'cancelled before it started'
         WHERE id = p_job_id;
        INSERT INTO ${schema}.outbox (topic, key, payload)
        VALUES ('pipeline-events', j.project, jsonb_build_object(
            'schema_version', 1, 'type', 'training.cancelled', 'project', j.project, 'job', j.id,
            'request_id', j.request_id, 'backend', j.backend, 'task', j.task));
        RETURN 'cancelled';
    END IF;
    UPDATE ${schema}.training_jobs SET cancel_requested = true WHERE id = p_job_id;
    RETURN j.status;
END
$$;

-- Requests training through the outbox (the event-dispatcher publishes it to the training topic,
-- key = project). With p_min_new_labelled > 0 (builtin requests only), only when at least that many
-- labelled documents of the collection were embedded since the project's last succeeded job
-- started. The request_id defaults to 'scheduled:<project>:<UTC time>'. Returns the request_id, or
-- null when there was not enough new data. Callable from psql, PostgREST or pg_cron.
CREATE FUNCTION request_training(p_request jsonb, p_min_new_labelled integer DEFAULT 0) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    v_project text := p_request->>'project';
    v_request_id text;
    v_since timestamptz;
    v_fresh bigint;
BEGIN
    IF jsonb_typeof(p_request) IS DISTINCT FROM 'object' OR v_project IS NULL THEN
        RAISE EXCEPTION 'a training request is a JSON object with a project' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_request_id := coalesce(p_request->>'request_id',
        'scheduled:' || v_project || ':' || to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'));
    IF coalesce(p_min_new_labelled, 0) > 0 THEN
        IF p_request->>'backend' IS DISTINCT FROM 'builtin' OR p_request->'data'->>'collection' IS NULL
                OR p_request->'data'->>'label_path' IS NULL THEN
            RAISE EXCEPTION 'p_min_new_labelled needs a builtin request with data.collection and data.label_path'
                USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT max(started_at) INTO v_since FROM ${schema}.training_jobs
         WHERE project = v_project AND status = 'succeeded';
        SELECT count(*) INTO v_fresh
          FROM ${schema}.documents d JOIN ${schema}.collections c ON c.id = d.collection_id
         WHERE c.name = p_request->'data'->>'collection'
           AND d.status = 'embedded'
           AND d.metadata #>> string_to_array(p_request->'data'->>'label_path', '.') IS NOT NULL
           AND (v_since IS NULL OR d.embedded_at > v_since);
        IF v_fresh < p_min_new_labelled THEN
            RETURN NULL;
        END IF;
    END IF;
    INSERT INTO ${schema}.outbox (topic, key, payload)
    VALUES ('training', v_project,
            p_request || jsonb_build_object('schema_version', 1, 'request_id', v_request_id));
    RETURN v_request_id;
END
$$;

-- Recurring training: each row requests its training every `every` (when enough new labelled
-- data exists), run by run_training_schedules(), which pg_cron calls every minute where it is
-- installed, and the training-worker's in-process scheduler otherwise.
CREATE TABLE training_schedules (
    name             text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$'),
    request          jsonb NOT NULL CHECK (jsonb_typeof(request) = 'object' AND request ? 'project'),
    every            interval NOT NULL CHECK (every >= interval '1 minute'),
    min_new_labelled integer NOT NULL DEFAULT 0 CHECK (min_new_labelled >= 0),
    enabled          boolean NOT NULL DEFAULT true,
    next_run_at      timestamptz NOT NULL DEFAULT now(),
    last_run_at      timestamptz,
    last_request_id  text,
    last_result      text
);

-- Runs every due schedule once (rows another caller is running are skipped) and returns how many
-- requested training. Safe to call from several places at once.
CREATE FUNCTION run_training_schedules() RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    s ${schema}.training_schedules%ROWTYPE;
    v_request_id text;
    v_requested integer := 0;
BEGIN
    FOR s IN SELECT * FROM ${schema}.training_schedules
              WHERE enabled AND next_run_at <= now()
              ORDER BY next_run_at FOR UPDATE SKIP LOCKED LOOP
        v_request_id := ${schema}.request_training(s.request - 'request_id', s.min_new_labelled);
        UPDATE ${schema}.training_schedules
           SET last_run_at = now(),
               next_run_at = greatest(s.next_run_at + s.every, now()),
               last_request_id = coalesce(v_request_id, last_request_id),
               last_result = CASE WHEN v_request_id IS NULL
                                  THEN 'skipped: fewer than ' || s.min_new_labelled || ' new labelled documents'
                                  ELSE 'requested ' || v_request_id END
         WHERE name = s.name;
        IF v_request_id IS NOT NULL THEN
            v_requested := v_requested + 1;
        END IF;
    END LOOP;
    RETURN v_requested;
END
$$;
