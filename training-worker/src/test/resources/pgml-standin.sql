-- A stand-in for PostgresML in schema __PGML__ (tests only; there is no PostgresML here): the
-- documented named arguments of pgml.train / pgml.tune / pgml.deploy, as plpgsql functions that
-- record their arguments in __PGML__.calls and leave a pgml.models row with metrics the way
-- PostgresML does. The enum-typed arguments of the real functions (algorithm, search,
-- test_sampling, strategy) are text here, and the result columns are prefixed r_ because plpgsql
-- does not allow them to share the arguments' names (Ragline reads none of them). hyperparams->>'sleep_seconds' makes a call slow.
CREATE SCHEMA __PGML__;
CREATE TABLE __PGML__.projects (id bigserial PRIMARY KEY, name text UNIQUE NOT NULL, task text);
CREATE TABLE __PGML__.models (
    id bigserial PRIMARY KEY, project_id bigint NOT NULL REFERENCES __PGML__.projects (id), algorithm text,
    hyperparams jsonb, status text, search text, search_params jsonb, search_args jsonb, metrics jsonb,
    created_at timestamp DEFAULT clock_timestamp());
CREATE TABLE __PGML__.deployments (
    id bigserial PRIMARY KEY, project_id bigint NOT NULL, model_id bigint NOT NULL, strategy text,
    created_at timestamp DEFAULT clock_timestamp());
CREATE TABLE __PGML__.calls (id bigserial PRIMARY KEY, fn text, args jsonb);

CREATE FUNCTION __PGML__.record_model(p_project text, p_task text, p_algorithm text, p_hyperparams jsonb,
        p_search text, p_search_params jsonb, p_search_args jsonb, p_deploy boolean) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_project bigint;
    v_model bigint;
    v_best float8;
    v_score float8 := coalesce((p_hyperparams->>'score')::float8, 0.9);
BEGIN
    IF p_hyperparams ? 'sleep_seconds' THEN
        PERFORM pg_sleep((p_hyperparams->>'sleep_seconds')::float8);
    END IF;
    INSERT INTO __PGML__.projects (name, task) VALUES (p_project, p_task)
        ON CONFLICT (name) DO UPDATE SET task = excluded.task RETURNING id INTO v_project;
    SELECT (m.metrics->>'f1')::float8 INTO v_best FROM __PGML__.deployments d JOIN __PGML__.models m ON m.id = d.model_id
     WHERE d.project_id = v_project ORDER BY d.id DESC LIMIT 1;
    INSERT INTO __PGML__.models (project_id, algorithm, hyperparams, status, search, search_params, search_args, metrics)
    VALUES (v_project, p_algorithm, p_hyperparams, 'successful', p_search, p_search_params, p_search_args,
            jsonb_build_object('f1', v_score, 'precision', v_score, 'recall', v_score, 'fit_time', 0.1))
    RETURNING id INTO v_model;
    IF p_deploy AND (v_best IS NULL OR v_score > v_best) THEN
        INSERT INTO __PGML__.deployments (project_id, model_id, strategy) VALUES (v_project, v_model, 'new_score');
        RETURN true;
    END IF;
    RETURN false;
END $$;

CREATE FUNCTION __PGML__.train(
    project_name text, task text DEFAULT NULL, relation_name text DEFAULT NULL, y_column_name text DEFAULT NULL,
    algorithm text DEFAULT 'linear', hyperparams jsonb DEFAULT '{}', search text DEFAULT NULL,
    search_params jsonb DEFAULT '{}', search_args jsonb DEFAULT '{}', test_size real DEFAULT 0.25,
    test_sampling text DEFAULT 'stratified', runtime text DEFAULT NULL, automatic_deploy boolean DEFAULT true,
    materialize_snapshot boolean DEFAULT false, preprocess jsonb DEFAULT '{}')
RETURNS TABLE (r_project text, r_task text, r_algorithm text, r_deployed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_deployed boolean;
BEGIN
    INSERT INTO __PGML__.calls (fn, args) VALUES ('train', jsonb_build_object(
        'project_name', project_name, 'task', task, 'relation_name', relation_name, 'y_column_name', y_column_name,
        'algorithm', algorithm, 'hyperparams', hyperparams, 'search', search, 'search_params', search_params,
        'search_args', search_args, 'test_size', test_size, 'test_sampling', test_sampling,
        'automatic_deploy', automatic_deploy));
    PERFORM 1 FROM pg_class WHERE oid = relation_name::regclass; -- an unknown relation fails, as in pgml
    v_deployed := __PGML__.record_model(project_name, task, algorithm, hyperparams, search, search_params,
        search_args, automatic_deploy);
    IF search IS NOT NULL THEN
        -- A search trains one model per combination and deploys the best: here a worse one
        -- follows, so the newest model of the call is not the one PostgresML deployed.
        PERFORM __PGML__.record_model(project_name, task, algorithm, hyperparams || '{"score": 0.5}', search,
            search_params, search_args, automatic_deploy);
    END IF;
    RETURN QUERY SELECT project_name, task, algorithm, v_deployed;
END $$;

CREATE FUNCTION __PGML__.tune(
    project_name text, task text DEFAULT NULL, relation_name text DEFAULT NULL, y_column_name text DEFAULT NULL,
    model_name text DEFAULT NULL, hyperparams jsonb DEFAULT '{}', test_size real DEFAULT 0.25,
    test_sampling text DEFAULT 'last', automatic_deploy boolean DEFAULT true, materialize_snapshot boolean DEFAULT false)
RETURNS TABLE (r_status text, r_task text, r_algorithm text, r_deployed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_deployed boolean;
BEGIN
    INSERT INTO __PGML__.calls (fn, args) VALUES ('tune', jsonb_build_object(
        'project_name', project_name, 'task', task, 'relation_name', relation_name, 'y_column_name', y_column_name,
        'model_name', model_name, 'hyperparams', hyperparams, 'test_size', test_size, 'test_sampling', test_sampling,
        'automatic_deploy', automatic_deploy));
    v_deployed := __PGML__.record_model(project_name, task, 'transformers', hyperparams, NULL, '{}', '{}',
        automatic_deploy);
    RETURN QUERY SELECT 'successful'::text, task, 'transformers'::text, v_deployed;
END $$;

CREATE FUNCTION __PGML__.deploy(project_name text, strategy text DEFAULT 'best_score', algorithm text DEFAULT NULL)
RETURNS TABLE (r_project text, r_strategy text, r_algorithm text)
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO __PGML__.calls (fn, args) VALUES ('deploy', jsonb_build_object('project_name', project_name,
        'strategy', strategy));
    INSERT INTO __PGML__.deployments (project_id, model_id, strategy)
    SELECT p.id, max(m.id), strategy FROM __PGML__.projects p JOIN __PGML__.models m ON m.project_id = p.id
     WHERE p.name = project_name GROUP BY p.id;
    RETURN QUERY SELECT project_name, strategy, algorithm;
END $$;
