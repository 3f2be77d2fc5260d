-- Distance, index and storage per collection (issue 19 item 3), chosen when the collection is
-- created and fixed afterwards (changing them is a migration of the collection, issue 19 item 5):
--   distance        cosine | l2 | inner_product
--   index_type      hnsw (options m, ef_construction, ef_search) | ivfflat (options lists, probes)
--   index_options   those options, integers within pgvector's bounds; an absent one takes its default
--   vector_storage  vector | halfvec: the index holds half-precision vectors (half its memory);
--                   chunk_embeddings keeps the full vector, the ranking compares half-precision ones
-- Existing collections take the defaults: cosine, hnsw, no options, vector, as they were built.
--
-- One home for what the database does with these columns: ensure_collection_index builds the
-- collection's index, vector_search_terms gives search_documents the expression that index serves
-- (the cast, the operator, the score), prepare_vector_search sets the scan's parameters. Index
-- options reach SQL text only as integers read from this CHECK-validated row, never as text from a
-- caller.
SELECT set_config('search_path', '${schema}, public', true);

-- What is wrong with index options for an index type, or NULL when nothing is. The CHECK below and
-- the insert trigger's message use it; the registry (Java) checks the same bounds first to name
-- each field to the CLI and API. Bounds are pgvector 0.8's.
CREATE FUNCTION collection_index_problem(p_index_type text, p_options jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    bounds jsonb := CASE p_index_type
        WHEN 'hnsw' THEN '{"m": [2, 100], "ef_construction": [4, 1000], "ef_search": [1, 1000]}'::jsonb
        WHEN 'ivfflat' THEN '{"lists": [1, 32768], "probes": [1, 32768]}'::jsonb
    END;
    k text;
    v jsonb;
    n numeric;
BEGIN
    IF p_options IS NULL OR jsonb_typeof(p_options) <> 'object' THEN
        RETURN 'index_options must be a JSON object';
    END IF;
    IF bounds IS NULL THEN
        RETURN NULL; -- index_type's own CHECK refuses it
    END IF;
    FOR k, v IN SELECT * FROM jsonb_each(p_options) LOOP
        IF NOT bounds ? k THEN
            RETURN format('%s is not an option of %s (its options: %s)', k, p_index_type,
                          (SELECT string_agg(key, ', ') FROM jsonb_object_keys(bounds) key));
        END IF;
        IF jsonb_typeof(v) <> 'number' THEN
            RETURN format('%s must be an integer, not %s', k, v);
        END IF;
        n := (v #>> '{}')::numeric;
        IF n <> trunc(n) OR n < (bounds -> k ->> 0)::numeric OR n > (bounds -> k ->> 1)::numeric THEN
            RETURN format('%s must be an integer from %s to %s, not %s', k, bounds -> k ->> 0, bounds -> k ->> 1, v);
        END IF;
    END LOOP;
    IF coalesce((p_options ->> 'ef_construction')::integer, 64) < 2 * coalesce((p_options ->> 'm')::integer, 16) THEN
        RETURN format('ef_construction (%s) must be at least twice m (%s)',
                      coalesce((p_options ->> 'ef_construction')::integer, 64), coalesce((p_options ->> 'm')::integer, 16));
    END IF;
    IF (p_options ->> 'probes')::integer > (p_options ->> 'lists')::integer THEN
        RETURN format('probes (%s) must not exceed lists (%s)', p_options ->> 'probes', p_options ->> 'lists');
    END IF;
    RETURN NULL;
END
$$;

ALTER TABLE collections
    ADD COLUMN distance text NOT NULL DEFAULT 'cosine' CHECK (distance IN ('cosine', 'l2', 'inner_product')),
    ADD COLUMN index_type text NOT NULL DEFAULT 'hnsw' CHECK (index_type IN ('hnsw', 'ivfflat')),
    ADD COLUMN index_options jsonb NOT NULL DEFAULT '{}',
    ADD COLUMN vector_storage text NOT NULL DEFAULT 'vector' CHECK (vector_storage IN ('vector', 'halfvec')),
    ADD CONSTRAINT collections_index_options_check CHECK (collection_index_problem(index_type, index_options) IS NULL);

-- A psql user's insert with bad options learns what is wrong, not only the constraint's name.
CREATE FUNCTION collection_index_checked() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    problem text := ${schema}.collection_index_problem(NEW.index_type, NEW.index_options);
BEGIN
    IF problem IS NOT NULL THEN
        RAISE EXCEPTION 'collection "%": %', NEW.name, problem USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER collection_index_checked BEFORE INSERT ON collections
    FOR EACH ROW EXECUTE FUNCTION collection_index_checked();

-- Fixed after create: the index was built with them and every stored vector is ranked by them
-- (text_search_config likewise, by V19's trigger collection_text_search_config_fixed).
CREATE FUNCTION collection_index_fixed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    field text;
    was text;
    asked text;
BEGIN
    SELECT f, o, n INTO field, was, asked FROM (VALUES
        ('distance', OLD.distance, NEW.distance),
        ('index_type', OLD.index_type, NEW.index_type),
        ('index_options', OLD.index_options::text, NEW.index_options::text),
        ('vector_storage', OLD.vector_storage, NEW.vector_storage)) v (f, o, n)
     WHERE o IS DISTINCT FROM n
     LIMIT 1;
    RAISE EXCEPTION 'the % of collection "%" is changeable only through a migration (% to %)',
        field, OLD.name, was, asked USING ERRCODE = 'feature_not_supported';
END
$$;
CREATE TRIGGER collection_index_fixed
    BEFORE UPDATE OF distance, index_type, index_options, vector_storage ON collections
    FOR EACH ROW WHEN (OLD.distance IS DISTINCT FROM NEW.distance
                       OR OLD.index_type IS DISTINCT FROM NEW.index_type
                       OR OLD.index_options IS DISTINCT FROM NEW.index_options
                       OR OLD.vector_storage IS DISTINCT FROM NEW.vector_storage)
    EXECUTE FUNCTION collection_index_fixed();

-- The statement that builds a collection's index under index_name: the expression, operator
-- class and options of the collection's row. An HNSW index is built when the collection is created
-- (the graph grows with every insert). An IVFFlat index is built only once the collection has
-- vectors: its lists are k-means centres of the rows present at build time, so one built on an
-- empty collection would put every later vector into lists drawn at random. Until it exists,
-- searches of the collection are exact scans (correct, slower); `ragline collections reindex NAME`
-- (collection_reindex below) builds it after loading and rebuilds it when the data has drifted.
-- lists, when not given, is chosen at build time as pgvector recommends: rows / 1000 up to a
-- million rows, sqrt(rows) beyond, at least 1. NULL when an IVFFlat collection has no vector yet.
CREATE FUNCTION collection_index_ddl(p_collection_id integer, p_index_name text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    c ${schema}.collections%ROWTYPE;
    opclass text;
    options text[] := '{}';
    vectors bigint;
BEGIN
    SELECT * INTO c FROM ${schema}.collections WHERE id = p_collection_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no collection with id %', p_collection_id USING ERRCODE = 'no_data_found';
    END IF;
    opclass := c.vector_storage || CASE c.distance WHEN 'cosine' THEN '_cosine_ops'
                                                   WHEN 'l2' THEN '_l2_ops'
                                                   ELSE '_ip_ops' END;
    IF c.index_type = 'hnsw' THEN
        IF c.index_options ? 'm' THEN
            options := options || format('m = %s', (c.index_options ->> 'm')::integer);
        END IF;
        IF c.index_options ? 'ef_construction' THEN
            options := options || format('ef_construction = %s', (c.index_options ->> 'ef_construction')::integer);
        END IF;
    ELSE
        SELECT count(*) INTO vectors FROM ${schema}.chunk_embeddings WHERE collection_id = p_collection_id;
        IF vectors = 0 THEN
            RETURN NULL;
        END IF;
        options := options || format('lists = %s', coalesce((c.index_options ->> 'lists')::integer,
            greatest(1, CASE WHEN vectors <= 1000000 THEN vectors / 1000 ELSE floor(sqrt(vectors)) END)::integer));
    END IF;
    RETURN format(
        'CREATE INDEX %I ON ${schema}.chunk_embeddings USING %s ((embedding::public.%s(%s)) public.%s)%s WHERE collection_id = %s',
        p_index_name, c.index_type, c.vector_storage, c.dimensions, opclass,
        CASE WHEN cardinality(options) = 0 THEN '' ELSE ' WITH (' || array_to_string(options, ', ') || ')' END,
        p_collection_id);
END
$$;

-- Creates the collection's index if it has none (trigger collection_created, V1). Returns its
-- name, or NULL when an IVFFlat collection has no vector yet.
CREATE OR REPLACE FUNCTION ensure_collection_index(p_collection_id integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    index_name text := format('chunk_embeddings_c%s_idx', p_collection_id);
    ddl text;
BEGIN
    IF to_regclass(format('${schema}.%I', index_name)) IS NOT NULL THEN
        RETURN index_name;
    END IF;
    ddl := ${schema}.collection_index_ddl(p_collection_id, index_name);
    IF ddl IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE ddl;
    RETURN index_name;
END
$$;

-- Builds the collection's index again (the schema owner's: DDL), beside the old one, which serves
-- searches until the new one is built; then the old one is dropped and the new one renamed. The
-- build holds a SHARE lock on chunk_embeddings (vector writes of every collection wait); the drop
-- at the end an ACCESS EXCLUSIVE one until commit (searches wait that moment). Returns the index
-- name, or NULL when an IVFFlat collection has no vector yet (its old index, if any, is kept).
CREATE FUNCTION collection_reindex(p_collection_id integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    index_name text := format('chunk_embeddings_c%s_idx', p_collection_id);
    building text := format('chunk_embeddings_c%s_rebuild', p_collection_id);
    ddl text;
BEGIN
    -- One reindex at a time, of any collection: two builds would each hold SHARE on chunk_embeddings
    -- and then deadlock on each other's DROP INDEX. SHARE ROW EXCLUSIVE conflicts with itself and,
    -- like SHARE, lets searches read while vector writes wait.
    LOCK TABLE ${schema}.chunk_embeddings IN SHARE ROW EXCLUSIVE MODE;
    -- FOR NO KEY UPDATE: a second reindex of this collection waits, while the ingest-worker's
    -- FOR KEY SHARE of each document it writes does not.
    PERFORM 1 FROM ${schema}.collections WHERE id = p_collection_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no collection with id %', p_collection_id USING ERRCODE = 'no_data_found';
    END IF;
    ddl := ${schema}.collection_index_ddl(p_collection_id, building);
    IF ddl IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE format('DROP INDEX IF EXISTS ${schema}.%I', building);
    EXECUTE ddl;
    EXECUTE format('DROP INDEX IF EXISTS ${schema}.%I', index_name);
    EXECUTE format('ALTER INDEX ${schema}.%I RENAME TO %I', building, index_name);
    RETURN index_name;
END
$$;

-- The vector ranking of a collection, in the form its index serves (ensure_collection_index above
-- builds the index on exactly embedding::<vector_type> with the operator's class). The score is
-- higher-is-better: cosine 1 - cosine distance (1 same direction, 0 orthogonal, -1 opposite);
-- inner_product the inner product (pgvector's <#> is its negative; for unit vectors it equals the
-- cosine similarity); l2 minus the Euclidean distance (0 identical, more negative farther).
CREATE OR REPLACE FUNCTION vector_search_terms(p_collection_id integer,
    OUT vector_type text, OUT operator text, OUT score_sql text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    c ${schema}.collections%ROWTYPE;
BEGIN
    SELECT * INTO c FROM ${schema}.collections WHERE id = p_collection_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no collection with id %', p_collection_id USING ERRCODE = 'no_data_found';
    END IF;
    vector_type := format('public.%s(%s)', c.vector_storage, c.dimensions);
    operator := CASE c.distance WHEN 'cosine' THEN 'OPERATOR(public.<=>)'
                                WHEN 'l2' THEN 'OPERATOR(public.<->)'
                                ELSE 'OPERATOR(public.<#>)' END;
    score_sql := CASE c.distance WHEN 'cosine' THEN '1 - (%s)'
                                 WHEN 'l2' THEN '-(%s)'
                                 ELSE '(%s) * -1' END;
END
$$;

-- The scan parameters of one search, local to its transaction; p_match_count is the number of
-- candidates search_documents asks of the vector ranking. Iterative scans (pgvector 0.8) go on
-- while filters reject rows, in relaxed order (search_documents sorts the candidates again by
-- distance).
-- HNSW: ef_search is the option (default 40) raised to the candidates (at most pgvector's 1000);
-- iterative scans up to max(20,000, 100 x candidates) tuples, enough for a filter that keeps 1 % of
-- the collection to fill the list.
-- IVFFlat: probes is the option, else sqrt(lists) (lists as given, else as the built index has it);
-- iterative scans may probe every list, so a filter that rejects most rows still fills the list, at
-- worst at the cost of an exact scan.
CREATE OR REPLACE FUNCTION prepare_vector_search(p_collection_id integer, p_match_count integer) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    c ${schema}.collections%ROWTYPE;
    lists integer;
    probes integer;
BEGIN
    SELECT * INTO c FROM ${schema}.collections WHERE id = p_collection_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no collection with id %', p_collection_id USING ERRCODE = 'no_data_found';
    END IF;
    IF c.index_type = 'hnsw' THEN
        PERFORM set_config('hnsw.ef_search',
            least(greatest(p_match_count, coalesce((c.index_options ->> 'ef_search')::integer, 40)), 1000)::text, true);
        IF current_setting('hnsw.iterative_scan', true) IS NOT NULL THEN -- pgvector 0.8 and later
            PERFORM set_config('hnsw.iterative_scan', 'relaxed_order', true);
            PERFORM set_config('hnsw.max_scan_tuples', greatest(20000, p_match_count * 100)::text, true);
        END IF;
    ELSE
        lists := coalesce((c.index_options ->> 'lists')::integer,
            (SELECT o.option_value::integer
               FROM pg_class i, pg_options_to_table(i.reloptions) o
              WHERE i.oid = to_regclass(format('${schema}.%I', format('chunk_embeddings_c%s_idx', p_collection_id)))
                AND o.option_name = 'lists'),
            1);
        probes := least(lists, coalesce((c.index_options ->> 'probes')::integer, ceil(sqrt(lists))::integer));
        PERFORM set_config('ivfflat.probes', probes::text, true);
        IF current_setting('ivfflat.iterative_scan', true) IS NOT NULL THEN
            PERFORM set_config('ivfflat.iterative_scan', 'relaxed_order', true);
            PERFORM set_config('ivfflat.max_probes', lists::text, true);
        END IF;
    END IF;
END
$$;
