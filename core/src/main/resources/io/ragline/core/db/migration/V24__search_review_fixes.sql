-- Search after an independent review of issue 19 (README, "Search"; docs/architecture.md section 11).
--
-- The filter grammar, all of it checked (search_filter_check): V19 took an operator object where a
-- value was expected as a literal JSON value, so {"price": {"$eq": {"$lt": 3}}} or
-- {"source": {"kind": {"$gt": 1}}} matched nothing instead of being refused. Now:
--   filter    := {entry, ...}                       (several entries: all must match)
--   entry     := "$and" | "$or": [filter, ...]       (non-empty)
--              | "$not": filter
--              | key: {operator: argument, ...}      (an object whose keys are all operators)
--              | key: value                          (no "$" key anywhere inside it)
--   $eq, $ne       a scalar: string, number, boolean or null
--   $gt $gte $lt $lte   a string, number or boolean
--   $in, $nin      an array of scalars
--   $exists        true or false
-- Anything else is SQLSTATE 22023 naming its path (filter.price.$eq).
SELECT set_config('search_path', '${schema}, public', true);

CREATE OR REPLACE FUNCTION search_filter_check(f jsonb, path text DEFAULT 'filter', depth integer DEFAULT 1) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    key text;
    val jsonb;
    op text;
    arg jsonb;
    i integer;
    nested text;
BEGIN
    IF depth > 32 THEN
        RAISE EXCEPTION '%: a filter may nest at most 32 levels', path USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF f IS NULL OR jsonb_typeof(f) <> 'object' THEN
        RAISE EXCEPTION '%: a filter is a JSON object, not %', path, coalesce(jsonb_typeof(f), 'nothing')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR key, val IN SELECT e.key, e.value FROM jsonb_each(f) e LOOP
        IF key IN ('$and', '$or') THEN
            IF jsonb_typeof(val) <> 'array' OR jsonb_array_length(val) = 0 THEN
                RAISE EXCEPTION '%.%: takes a non-empty array of filters, not %', path, key,
                    CASE WHEN jsonb_typeof(val) = 'array' THEN 'an empty one' ELSE jsonb_typeof(val) END
                    USING ERRCODE = 'invalid_parameter_value';
            END IF;
            FOR i IN 0 .. jsonb_array_length(val) - 1 LOOP
                PERFORM ${schema}.search_filter_check(val -> i, format('%s.%s[%s]', path, key, i), depth + 1);
            END LOOP;
        ELSIF key = '$not' THEN
            PERFORM ${schema}.search_filter_check(val, path || '.$not', depth + 1);
        ELSIF left(key, 1) = '$' THEN
            RAISE EXCEPTION '%.%: unknown operator (a filter''s own are $and, $or, $not; a key''s are $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists)',
                path, key USING ERRCODE = 'invalid_parameter_value';
        ELSIF jsonb_typeof(val) = 'object' AND EXISTS (SELECT 1 FROM jsonb_object_keys(val) k WHERE left(k, 1) = '$') THEN
            FOR op, arg IN SELECT e.key, e.value FROM jsonb_each(val) e LOOP
                IF left(op, 1) <> '$' THEN
                    RAISE EXCEPTION '%.%.%: a key''s operators cannot be mixed with plain keys (write {"%": {"$eq": ...}} or a plain value)',
                        path, key, op, key USING ERRCODE = 'invalid_parameter_value';
                ELSIF op IN ('$eq', '$ne') THEN
                    IF jsonb_typeof(arg) NOT IN ('string', 'number', 'boolean', 'null') THEN
                        RAISE EXCEPTION '%.%.%: takes a string, a number, a boolean or null, not %',
                            path, key, op, CASE WHEN EXISTS (SELECT 1 FROM jsonb_object_keys(CASE WHEN jsonb_typeof(arg) = 'object'
                                THEN arg ELSE '{}' END) k WHERE left(k, 1) = '$') THEN 'an operator (operators do not nest)'
                                ELSE jsonb_typeof(arg) END
                            USING ERRCODE = 'invalid_parameter_value';
                    END IF;
                ELSIF op IN ('$gt', '$gte', '$lt', '$lte') THEN
                    IF jsonb_typeof(arg) NOT IN ('number', 'string', 'boolean') THEN
                        RAISE EXCEPTION '%.%.%: a range compares with a number, a string or a boolean, not %',
                            path, key, op, jsonb_typeof(arg) USING ERRCODE = 'invalid_parameter_value';
                    END IF;
                ELSIF op IN ('$in', '$nin') THEN
                    IF jsonb_typeof(arg) <> 'array' THEN
                        RAISE EXCEPTION '%.%.%: takes an array of values, not %', path, key, op, jsonb_typeof(arg)
                            USING ERRCODE = 'invalid_parameter_value';
                    END IF;
                    FOR i IN 0 .. jsonb_array_length(arg) - 1 LOOP
                        IF jsonb_typeof(arg -> i) NOT IN ('string', 'number', 'boolean', 'null') THEN
                            RAISE EXCEPTION '%.%.%[%]: an element is a string, a number, a boolean or null, not %',
                                path, key, op, i, jsonb_typeof(arg -> i) USING ERRCODE = 'invalid_parameter_value';
                        END IF;
                    END LOOP;
                ELSIF op = '$exists' THEN
                    IF jsonb_typeof(arg) <> 'boolean' THEN
                        RAISE EXCEPTION '%.%.%: takes true or false, not %', path, key, op, jsonb_typeof(arg)
                            USING ERRCODE = 'invalid_parameter_value';
                    END IF;
                ELSE
                    RAISE EXCEPTION '%.%.%: unknown operator (a key''s are $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists)',
                        path, key, op USING ERRCODE = 'invalid_parameter_value';
                END IF;
            END LOOP;
        ELSE
            -- A plain value is matched as it is: an operator anywhere inside it is a misplaced one.
            SELECT o.kv ->> 'key' INTO nested
              FROM jsonb_path_query(val, 'strict $.** ? (@.type() == "object").keyvalue() ? (@.key starts with "$")',
                                    silent => true) o(kv)
             LIMIT 1;
            IF nested IS NOT NULL THEN
                RAISE EXCEPTION '%.%: % inside a plain value (an operator applies directly to a top-level key, as {"%": {"$eq": ...}}; keys are not paths)',
                    path, key, nested, key USING ERRCODE = 'invalid_parameter_value';
            END IF;
        END IF;
    END LOOP;
END
$$;

-- Arrays, one rule for every operator: a metadata field holding an array is the set of its
-- elements (one level), and a key's condition holds when one element satisfies it. $eq, a plain
-- scalar ({"tags": "x"}), $in and the ranges match when an element does; $ne and $nin are their
-- negations (no element does, or the key is absent); $exists is about the key. V19 compared a whole
-- array with $eq, $ne and the ranges (so {"tags": {"$eq": "x"}} missed ["x", "y"]) and took a
-- plain scalar as containment (which missed it too) while $in looked inside. A plain array or
-- object stays containment: {"tags": ["x", "y"]} matches an array holding both.
CREATE OR REPLACE FUNCTION search_filter_matches(m jsonb, f jsonb, depth integer DEFAULT 1) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    key text;
    val jsonb;
    op text;
    arg jsonb;
    field jsonb;
    elems jsonb;
    elem jsonb;
    found boolean;
BEGIN
    IF depth > 32 THEN
        RAISE EXCEPTION 'filter: a filter may nest at most 32 levels' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    FOR key, val IN SELECT e.key, e.value FROM jsonb_each(f) e LOOP
        IF key = '$and' THEN
            FOR elem IN SELECT jsonb_array_elements(val) LOOP
                IF NOT ${schema}.search_filter_matches(m, elem, depth + 1) THEN
                    RETURN false;
                END IF;
            END LOOP;
        ELSIF key = '$or' THEN
            found := false;
            FOR elem IN SELECT jsonb_array_elements(val) LOOP
                IF ${schema}.search_filter_matches(m, elem, depth + 1) THEN
                    found := true;
                    EXIT;
                END IF;
            END LOOP;
            IF NOT found THEN
                RETURN false;
            END IF;
        ELSIF key = '$not' THEN
            IF ${schema}.search_filter_matches(m, val, depth + 1) THEN
                RETURN false;
            END IF;
        ELSIF left(key, 1) = '$' THEN
            RAISE EXCEPTION 'filter: unknown operator %', key USING ERRCODE = 'invalid_parameter_value';
        ELSIF jsonb_typeof(val) IN ('object', 'array') AND NOT (jsonb_typeof(val) = 'object'
                AND EXISTS (SELECT 1 FROM jsonb_object_keys(val) k WHERE left(k, 1) = '$')) THEN
            IF NOT m @> jsonb_build_object(key, val) THEN
                RETURN false;
            END IF;
        ELSE
            field := m -> key;
            elems := CASE WHEN field IS NULL THEN '[]'::jsonb
                          WHEN jsonb_typeof(field) = 'array' THEN field
                          ELSE jsonb_build_array(field) END;
            FOR op, arg IN SELECT e.key, e.value FROM jsonb_each(
                    CASE WHEN jsonb_typeof(val) = 'object' THEN val ELSE jsonb_build_object('$eq', val) END) e LOOP
                found := CASE op
                    WHEN '$eq' THEN EXISTS (SELECT 1 FROM jsonb_array_elements(elems) x(v) WHERE x.v = arg)
                    WHEN '$ne' THEN NOT EXISTS (SELECT 1 FROM jsonb_array_elements(elems) x(v) WHERE x.v = arg)
                    WHEN '$gt' THEN EXISTS (SELECT 1 FROM jsonb_array_elements(elems) x(v)
                                             WHERE jsonb_typeof(x.v) = jsonb_typeof(arg) AND x.v > arg)
                    WHEN '$gte' THEN EXISTS (SELECT 1 FROM jsonb_array_elements(elems) x(v)
                                              WHERE jsonb_typeof(x.v) = jsonb_typeof(arg) AND x.v >= arg)
                    WHEN '$lt' THEN EXISTS (SELECT 1 FROM jsonb_array_elements(elems) x(v)
                                             WHERE jsonb_typeof(x.v) = jsonb_typeof(arg) AND x.v < arg)
                    WHEN '$lte' THEN EXISTS (SELECT 1 FROM jsonb_array_elements(elems) x(v)
                                              WHERE jsonb_typeof(x.v) = jsonb_typeof(arg) AND x.v <= arg)
                    WHEN '$in' THEN EXISTS (SELECT 1 FROM jsonb_array_elements(elems) x(v)
                                             JOIN jsonb_array_elements(arg) a(v) ON a.v = x.v)
                    WHEN '$nin' THEN NOT EXISTS (SELECT 1 FROM jsonb_array_elements(elems) x(v)
                                                  JOIN jsonb_array_elements(arg) a(v) ON a.v = x.v)
                    WHEN '$exists' THEN (field IS NOT NULL) = (arg = 'true'::jsonb)
                END;
                IF found IS NULL THEN
                    RAISE EXCEPTION 'filter.%.%: unknown operator', key, op USING ERRCODE = 'invalid_parameter_value';
                END IF;
                IF NOT found THEN
                    RETURN false;
                END IF;
            END LOOP;
        END IF;
    END LOOP;
    RETURN true;
END
$$;

-- search_documents as V23 left it, with the plain scalars of a filter matched by the same rule
-- (one jsonpath the metadata GIN index serves) rather than by containment alone (whether a chunk
-- has a vector is asked of chunk_embeddings' primary key alone: a vector's collection_id is its
-- chunk's, V10, and the key answers by an index-only scan), and one rule of what is searchable for
-- every mode, the vector mode's: a chunk whose vector of the collection is stored, of a document not
-- deleted. V19's text ranking (so hybrid too) took every chunk, so the new text of a document being
-- replaced showed before it was embedded (its chunks are written at ingest, their vectors later);
-- now text arrives in all modes at once, when its vector is committed. Context chunks follow the
-- same rule. A deleted document has no chunks (the ingest-worker deletes them with its status).
CREATE OR REPLACE FUNCTION search_documents(
    query             vector,
    match_count       integer DEFAULT 10,
    collection        text DEFAULT 'default',
    filter            jsonb DEFAULT '{}',
    mode              text DEFAULT NULL,
    query_text        text DEFAULT NULL,
    min_score         double precision DEFAULT NULL,
    group_by_document boolean DEFAULT true,
    context_chunks    integer DEFAULT 0
) RETURNS TABLE (
    chunk_id        bigint,
    document_id     text,
    title           text,
    content         text,
    metadata        jsonb,
    similarity      double precision,
    seq             integer,
    matching_chunks integer[],
    context         jsonb,
    vector_score    double precision,
    text_score      double precision
)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    c ${schema}.collections%ROWTYPE;
    terms record;
    -- No mode: hybrid when both the vector and the text are given (the best mode on the retrieval
    -- benchmark for every bundled model, docs/benchmarks.md), else the one the arguments allow.
    search_mode text := coalesce(mode, CASE WHEN query IS NULL THEN 'text'
                                            WHEN query_text IS NULL OR btrim(query_text) = '' THEN 'vector'
                                            ELSE 'hybrid' END);
    f jsonb := coalesce(filter, '{}'::jsonb);
    contained jsonb;
    scalars jsonpath;
    rest jsonb;
    candidates integer;
BEGIN
    SELECT * INTO c FROM ${schema}.collections WHERE name = collection;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown collection "%"', collection USING ERRCODE = 'no_data_found';
    END IF;
    IF search_mode NOT IN ('vector', 'text', 'hybrid') THEN
        RAISE EXCEPTION 'mode must be vector, text or hybrid, not "%"', search_mode USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF match_count IS NULL OR match_count < 1 OR match_count > 1000 THEN
        RAISE EXCEPTION 'match_count must be between 1 and 1000' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF context_chunks IS NULL OR context_chunks < 0 OR context_chunks > 5 THEN
        RAISE EXCEPTION 'context_chunks must be between 0 and 5' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF search_mode <> 'text' AND query IS NULL THEN
        RAISE EXCEPTION '% mode needs a query vector', search_mode USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF search_mode <> 'vector' AND (query_text IS NULL OR btrim(query_text) = '') THEN
        RAISE EXCEPTION '% mode needs query_text', search_mode USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF query IS NOT NULL AND public.vector_dims(query) <> c.dimensions THEN
        RAISE EXCEPTION 'query vector has % dimensions, collection "%" has %',
            public.vector_dims(query), collection, c.dimensions USING ERRCODE = 'data_exception';
    END IF;
    PERFORM ${schema}.search_filter_check(f);
    -- The plain top-level arrays and objects go to metadata @> (documents_metadata_idx serves
    -- them); the plain scalars to one jsonpath, $."k" == v && ..., whose lax mode matches a key
    -- holding the scalar or an array with it, and which the same GIN index serves (metadata @@),
    -- however many keys; the rest to search_filter_matches, null when there is none. Keys and
    -- values enter the path as JSON literals (to_jsonb(key)::text, the jsonb value's text), never
    -- spliced in raw.
    SELECT coalesce(jsonb_object_agg(e.key, e.value) FILTER (WHERE e.kind = 'contained'), '{}'::jsonb),
           string_agg(format('$.%s == %s', to_jsonb(e.key)::text, e.value::text), ' && ')
               FILTER (WHERE e.kind = 'scalar')::jsonpath,
           jsonb_object_agg(e.key, e.value) FILTER (WHERE e.kind = 'rest')
      INTO contained, scalars, rest
      FROM (SELECT j.key, j.value,
                   CASE WHEN left(j.key, 1) = '$' THEN 'rest'
                        WHEN jsonb_typeof(j.value) NOT IN ('object', 'array') THEN 'scalar'
                        WHEN jsonb_typeof(j.value) = 'object'
                             AND EXISTS (SELECT 1 FROM jsonb_object_keys(j.value) k WHERE left(k, 1) = '$') THEN 'rest'
                        ELSE 'contained' END AS kind
              FROM jsonb_each(f) j) e;
    candidates := CASE WHEN search_mode = 'vector' AND NOT coalesce(group_by_document, true)
                       THEN greatest(match_count, 40)
                       ELSE least(greatest(10 * match_count, 100), 1000) END;
    SELECT * INTO terms FROM ${schema}.vector_search_terms(c.id);
    IF search_mode <> 'text' THEN
        PERFORM ${schema}.prepare_vector_search(c.id, candidates);
    END IF;
    RETURN QUERY EXECUTE format(
        'WITH v AS MATERIALIZED (
             SELECT x.chunk_id, x.dist, row_number() OVER (ORDER BY x.dist, x.chunk_id) AS r
               FROM (SELECT e.chunk_id, e.embedding::%1$s %2$s $1::%1$s AS dist
                       FROM ${schema}.chunk_embeddings e
                       JOIN ${schema}.chunks ch ON ch.id = e.chunk_id
                       JOIN ${schema}.documents d ON d.id = ch.document_id
                      WHERE $6 <> ''text'' AND e.collection_id = $2 AND d.status <> ''deleted''
                        AND d.metadata @> $3 AND ($13::jsonpath IS NULL OR d.metadata @@ $13::jsonpath)
                        AND ($4::jsonb IS NULL OR ${schema}.search_filter_matches(d.metadata, $4))
                      ORDER BY dist
                      LIMIT $5) x),
         t AS MATERIALIZED (
             SELECT y.chunk_id, y.s, row_number() OVER (ORDER BY y.s DESC, y.chunk_id) AS r
               FROM (SELECT ch.id AS chunk_id, ts_rank_cd(ch.tsv, q, 32)::double precision AS s
                       FROM ${schema}.chunks ch
                       JOIN ${schema}.documents d ON d.id = ch.document_id
                      CROSS JOIN websearch_to_tsquery($7, $8) q
                      WHERE $6 <> ''vector'' AND ch.collection_id = $2 AND ch.tsv @@ q
                        AND d.status <> ''deleted''
                        AND EXISTS (SELECT 1 FROM ${schema}.chunk_embeddings e
                                     WHERE e.chunk_id = ch.id)
                        AND d.metadata @> $3 AND ($13::jsonpath IS NULL OR d.metadata @@ $13::jsonpath)
                        AND ($4::jsonb IS NULL OR ${schema}.search_filter_matches(d.metadata, $4))
                      ORDER BY s DESC, ch.id
                      LIMIT $5) y),
         fused AS (
             SELECT coalesce(v.chunk_id, t.chunk_id) AS chunk_id,
                    %3$s AS vs,
                    t.s AS ts,
                    CASE $6 WHEN ''vector'' THEN %3$s
                            WHEN ''text'' THEN t.s
                            ELSE coalesce(1.0 / (60 + v.r), 0) + coalesce(1.0 / (60 + t.r), 0) END::double precision AS score
               FROM v FULL JOIN t ON t.chunk_id = v.chunk_id),
         matched AS (
             SELECT fused.*, ch.document_id AS doc, ch.seq AS pos,
                    row_number() OVER (PARTITION BY ch.document_id ORDER BY fused.score DESC, ch.seq) AS nth
               FROM fused JOIN ${schema}.chunks ch ON ch.id = fused.chunk_id
              WHERE $9::double precision IS NULL OR fused.score >= $9),
         hits AS (
             SELECT * FROM matched WHERE NOT $10 OR nth = 1
              ORDER BY score DESC, chunk_id
              LIMIT $11)
         SELECT h.chunk_id, d.external_id, d.title, ch.content, d.metadata, h.score, h.pos,
                CASE WHEN $10 THEN coalesce((SELECT array_agg(o.pos ORDER BY o.pos) FROM matched o
                                              WHERE o.doc = h.doc AND o.chunk_id <> h.chunk_id), ''{}'')
                     ELSE ''{}''::integer[] END,
                CASE WHEN $12 = 0 THEN ''[]''::jsonb
                     ELSE coalesce((SELECT jsonb_agg(jsonb_build_object(''seq'', n.seq, ''content'', n.content) ORDER BY n.seq)
                                      FROM ${schema}.chunks n
                                     WHERE n.document_id = h.doc AND n.seq <> h.pos
                                       AND n.seq BETWEEN h.pos - $12 AND h.pos + $12
                                       AND EXISTS (SELECT 1 FROM ${schema}.chunk_embeddings e
                                                    WHERE e.chunk_id = n.id)), ''[]'') END,
                h.vs, h.ts
           FROM hits h
           JOIN ${schema}.chunks ch ON ch.id = h.chunk_id
           JOIN ${schema}.documents d ON d.id = h.doc
          ORDER BY h.score DESC, h.chunk_id',
        terms.vector_type, terms.operator, format(terms.score_sql, 'v.dist'))
    USING query, c.id, contained, rest, candidates, search_mode, c.text_search_config::regconfig, query_text,
          min_score, coalesce(group_by_document, true), match_count, context_chunks,
          scalars;
END
$$;

-- One home for the name of a collection's vector index: V10 and V20 spelled it in three functions
-- and the registry (Java) twice. ensure_collection_index, collection_reindex and
-- prepare_vector_search are V20's with the name taken from here (nothing else changes).
CREATE FUNCTION collection_index_name(p_collection_id integer) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT format('chunk_embeddings_c%s_idx', p_collection_id)
$$;

CREATE OR REPLACE FUNCTION ensure_collection_index(p_collection_id integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    index_name text := ${schema}.collection_index_name(p_collection_id);
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

CREATE OR REPLACE FUNCTION collection_reindex(p_collection_id integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    index_name text := ${schema}.collection_index_name(p_collection_id);
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
              WHERE i.oid = to_regclass(format('${schema}.%I', ${schema}.collection_index_name(p_collection_id)))
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

-- Deleting a collection drops its vector index with it, as V19's trigger drops its full-text
-- index, also for a psql user's delete (the registry dropped it in Java before, by a name pattern).
CREATE FUNCTION collection_index_dropped() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DROP INDEX IF EXISTS ${schema}.%I', ${schema}.collection_index_name(OLD.id));
    RETURN NULL;
END
$$;
CREATE TRIGGER collection_index_dropped AFTER DELETE ON collections
    FOR EACH ROW EXECUTE FUNCTION collection_index_dropped();

-- The vector indexes of collections deleted by hand before (which the registry's next delete
-- would have dropped): once, here.
DO $$
DECLARE
    orphan text;
BEGIN
    FOR orphan IN SELECT i.indexname FROM pg_indexes i
                   WHERE i.schemaname = '${schema}' AND i.tablename = 'chunk_embeddings'
                     AND i.indexname ~ '^chunk_embeddings_c[0-9]+_idx$'
                     AND i.indexname = ${schema}.collection_index_name(substring(i.indexname FROM '[0-9]+')::integer)
                     AND NOT EXISTS (SELECT 1 FROM ${schema}.collections k
                                      WHERE ${schema}.collection_index_name(k.id) = i.indexname) LOOP
        EXECUTE format('DROP INDEX ${schema}.%I', orphan);
    END LOOP;
END
$$;
