-- Retention (issue 20): rows the pipeline no longer needs are removed after a window each, in small
-- batches so the pipeline never waits on them. One home for what is removed: retention_delete()
-- removes one batch of one kind; run_retention() (pg_cron: CALL it) and the event-dispatcher's
-- in-process scheduler (io.ragline.core.retention) both call it, batch after batch, committing
-- between batches. Each delete picks its rows FOR UPDATE SKIP LOCKED: a row a worker holds is
-- left for the next run, and a worker never waits behind retention for more than one batch.
--
-- Also: pg_cron_runs(function), the one home of "does a pg_cron job of this schema call it?",
-- which V13/V14's pg_cron_runs_training_schedules() now delegates to.
SELECT set_config('search_path', '${schema}, public', true);

-- Whether pg_cron is installed here and one of its active jobs, in this database, calls this
-- schema's function p_function (a lower-case identifier): the in-process schedulers stand aside
-- then. SECURITY DEFINER for the reasons V13/V14 give (pg_cron shows each user only its own jobs);
-- pg_temp last and every relation qualified; the schema and the function name are taken literally.
CREATE FUNCTION ${schema}.pg_cron_runs(p_function text) RETURNS boolean
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_schema text := pg_catalog.regexp_replace('${schema}', '([^[:alnum:]_])', '\\\1', 'g');
    v_found boolean;
BEGIN
    IF p_function IS NULL OR p_function !~ '^[a-z_][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'pg_cron_runs: "%" is not a function name', p_function
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
        RETURN false;
    END IF;
    EXECUTE 'SELECT exists (SELECT 1 FROM cron.job WHERE active AND database = pg_catalog.current_database()'
            ' AND command ~ $1)'
       INTO v_found
       USING '(^|[^[:alnum:]_$"])(' || v_schema || '|"' || v_schema || '")[[:space:]]*\.[[:space:]]*'
             || p_function || '[[:space:]]*\(';
    RETURN v_found;
EXCEPTION WHEN insufficient_privilege THEN
    RETURN false;
END
$$;
REVOKE EXECUTE ON FUNCTION ${schema}.pg_cron_runs(text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION ${schema}.pg_cron_runs_training_schedules() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT ${schema}.pg_cron_runs('run_training_schedules')
$$;

-- What retention can remove; each is a key of run_retention()'s policy and a RAGLINE_RETENTION_*
-- variable (RetentionSettings; RetentionIT holds the two lists equal).
CREATE FUNCTION ${schema}.retention_targets() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['claude_events', 'training_jobs', 'document_tombstones', 'outbox_dead_letters',
                 'dead_letter_dispositions', 'consumer_offsets', 'conversation_sessions']
$$;

-- Finds deleted documents' tombstones by age without reading the whole table.
CREATE INDEX documents_tombstones_idx ON documents (deleted_at) WHERE status = 'deleted';

-- Removes at most p_batch rows of p_target older than p_keep and returns how many. The rules:
--
-- claude_events: processed or ignored, and processed (created, if never processed) before the
--   window. received and failed events stay (a replay or an operator may still need them). A
--   removed event's (source, delivery_id) no longer deduplicates: a sender that redelivers it after
--   the window gets it stored again, so keep the window longer than any sender retries.
-- training_jobs: succeeded, failed or cancelled before the window, with their metrics
--   (model_metrics) and their models that were never deployed. A job is kept, whole, while one of
--   its models is deployed or was deployed once (a rollback may redeploy it, V18) or is its
--   project's newest (a running job of the project compares with it). queued and running jobs
--   stay. A removed job's request_id no longer deduplicates a redelivered training request: keep
--   the window longer than the training topic's retention.
-- document_tombstones: a deleted document's row, deleted before the window and with no chunk
--   left. Tombstones exist so that a stale upsert (an older version arriving after the delete)
--   is recognised by its version and ignored; once removed, such an upsert would bring the
--   document back. Keep the window longer than the documents topic's retention plus the longest
--   lag a consumer may have.
-- outbox_dead_letters: a row that waits for an operator, dead-lettered before the window. It is
--   discarded as an operator would: a dead_letter_dispositions row (action 'discarded', actor
--   'retention') keeps it as it was.
-- dead_letter_dispositions: what was done with an outbox dead letter, done before the window (the
--   row it names is gone already). A Kafka dead letter's disposition is kept: its record may still
--   be in its .dlq topic (kept as long as the operator chose), and without the row it would show as
--   waiting again and could be redriven a second time.
-- consumer_offsets: every row of a consumer group none of whose rows moved within the window (a
--   group gone: renamed, or its worker retired). They only skip a batch redelivered after a crash,
--   so a group that comes back after the window applies what Kafka gives it; keep the window
--   longer than Kafka's offsets.retention.minutes (7 days by default).
-- conversation_sessions: a conversation session idle (updated_at, moved by every message stored)
--   before the window, with its messages and its memory documents, each through
--   delete_conversation_session() (V22, the one home of a session's deletion; this function is
--   resolved when it runs, after V22 made it). Off by default: conversation history is the user's.
CREATE FUNCTION ${schema}.retention_delete(p_target text, p_keep interval, p_batch integer DEFAULT 1000)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_cutoff timestamptz;
    v_ids bigint[];
    v_n integer;
BEGIN
    IF p_target IS NULL OR NOT p_target = ANY (${schema}.retention_targets()) THEN
        RAISE EXCEPTION 'unknown retention target "%" (known: %)', p_target,
            array_to_string(${schema}.retention_targets(), ', ') USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- At least an hour, as RAGLINE_RETENTION_* (RetentionSettings.MIN_WINDOW): younger rows may still
    -- be in the pipeline's hands, and a pg_cron policy of '30' (seconds) must not empty the tables.
    IF p_keep IS NULL OR p_keep < interval '1 hour' THEN
        RAISE EXCEPTION 'retention of %: the window must be at least 1 hour, not %', p_target, p_keep
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF p_batch IS NULL OR p_batch NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION 'retention of %: the batch must be between 1 and 100000, not %', p_target, p_batch
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_cutoff := now() - p_keep;
    CASE p_target
    WHEN 'claude_events' THEN
        DELETE FROM ${schema}.claude_events WHERE id = ANY (ARRAY(
            SELECT id FROM ${schema}.claude_events
             WHERE status IN ('processed', 'ignored') AND created_at < v_cutoff
               AND coalesce(processed_at, created_at) < v_cutoff
             LIMIT p_batch FOR UPDATE SKIP LOCKED));
    WHEN 'training_jobs' THEN
        v_ids := ARRAY(
            SELECT j.id FROM ${schema}.training_jobs j
             WHERE j.status IN ('succeeded', 'failed', 'cancelled') AND j.finished_at < v_cutoff
               AND NOT EXISTS (
                   SELECT 1 FROM ${schema}.models m
                    WHERE m.job_id = j.id
                      AND (m.deployed OR m.deployed_at IS NOT NULL
                           OR m.id = (SELECT max(n.id) FROM ${schema}.models n WHERE n.project = m.project)))
             LIMIT p_batch FOR UPDATE OF j SKIP LOCKED);
        -- Checked again on the rows themselves: a deploy that committed since the selection (the
        -- console deploys an old model) keeps its model, and the model keeps its job.
        DELETE FROM ${schema}.models WHERE job_id = ANY (v_ids) AND NOT deployed AND deployed_at IS NULL;
        DELETE FROM ${schema}.training_jobs j WHERE j.id = ANY (v_ids)
           AND NOT EXISTS (SELECT 1 FROM ${schema}.models m WHERE m.job_id = j.id);
    WHEN 'document_tombstones' THEN
        DELETE FROM ${schema}.documents WHERE id = ANY (ARRAY(
            SELECT d.id FROM ${schema}.documents d
             WHERE d.status = 'deleted' AND d.deleted_at < v_cutoff
               AND NOT EXISTS (SELECT 1 FROM ${schema}.chunks c WHERE c.document_id = d.id)
             LIMIT p_batch FOR UPDATE SKIP LOCKED));
    WHEN 'outbox_dead_letters' THEN
        WITH gone AS (
            DELETE FROM ${schema}.outbox_dead_letters WHERE id = ANY (ARRAY(
                SELECT id FROM ${schema}.outbox_dead_letters WHERE dead_lettered_at < v_cutoff
                 LIMIT p_batch FOR UPDATE SKIP LOCKED))
            RETURNING *)
        INSERT INTO ${schema}.dead_letter_dispositions
               (kind, topic, outbox_id, action, actor, actor_role, detail, dead_letter)
        SELECT 'outbox', g.topic, g.id, 'discarded', 'retention', 'system',
               jsonb_build_object('reason', 'dead-lettered more than ' || p_keep || ' ago'), to_jsonb(g)
          FROM gone g
        ON CONFLICT (outbox_id) WHERE kind = 'outbox' DO NOTHING;
    WHEN 'dead_letter_dispositions' THEN
        DELETE FROM ${schema}.dead_letter_dispositions WHERE id = ANY (ARRAY(
            SELECT id FROM ${schema}.dead_letter_dispositions WHERE kind = 'outbox' AND at < v_cutoff
             LIMIT p_batch FOR UPDATE SKIP LOCKED));
    WHEN 'conversation_sessions' THEN
        SELECT count(*)::integer INTO v_n FROM (
            SELECT ${schema}.delete_conversation_session(s.id)
              FROM (SELECT id FROM ${schema}.conversation_sessions WHERE updated_at < v_cutoff
                     LIMIT p_batch FOR UPDATE SKIP LOCKED) s) gone;
        RETURN v_n;
    WHEN 'consumer_offsets' THEN
        DELETE FROM ${schema}.consumer_offsets WHERE ctid = ANY (ARRAY(
            SELECT o.ctid FROM ${schema}.consumer_offsets o
             WHERE o.group_id IN (SELECT group_id FROM ${schema}.consumer_offsets
                                   GROUP BY group_id HAVING max(updated_at) < v_cutoff)
             LIMIT p_batch FOR UPDATE SKIP LOCKED))
           AND updated_at < v_cutoff; -- a row a worker moved since the selection stays
    END CASE;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    RETURN v_n;
END
$$;

-- Removes everything p_policy ({"target": "window", ...}, windows as intervals: '30 days') allows,
-- p_batch rows per transaction, committing between batches; for pg_cron or psql (a CALL outside a
-- transaction block; inside one, Postgres refuses the COMMIT). Targets left out are kept. E.g.
--   CALL rag.run_retention('{"claude_events": "30 days", "document_tombstones": "30 days"}');
CREATE PROCEDURE ${schema}.run_retention(p_policy jsonb, p_batch integer DEFAULT 1000)
LANGUAGE plpgsql AS $$
DECLARE
    v_targets text[];
    v_target text;
    v_keep interval;
    v_n integer;
    v_total bigint;
BEGIN
    IF jsonb_typeof(p_policy) IS DISTINCT FROM 'object' THEN
        RAISE EXCEPTION 'a retention policy is a JSON object of target: window' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    v_targets := ARRAY(SELECT jsonb_object_keys(p_policy) ORDER BY 1);
    FOREACH v_target IN ARRAY v_targets LOOP -- every problem before anything is removed
        IF NOT v_target = ANY (${schema}.retention_targets()) THEN
            RAISE EXCEPTION 'unknown retention target "%" (known: %)', v_target,
                array_to_string(${schema}.retention_targets(), ', ') USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF (p_policy->>v_target) IS NULL OR (p_policy->>v_target)::interval < interval '1 hour' THEN
            RAISE EXCEPTION 'retention of %: the window must be at least 1 hour, not %', v_target,
                p_policy->>v_target USING ERRCODE = 'invalid_parameter_value';
        END IF;
    END LOOP;
    FOREACH v_target IN ARRAY v_targets LOOP
        v_keep := (p_policy->>v_target)::interval;
        v_total := 0;
        LOOP
            v_n := ${schema}.retention_delete(v_target, v_keep, p_batch);
            v_total := v_total + v_n;
            COMMIT;
            EXIT WHEN v_n < p_batch;
        END LOOP;
        RAISE LOG 'ragline retention: removed % row(s) of % older than %', v_total, v_target, v_keep;
    END LOOP;
END
$$;
