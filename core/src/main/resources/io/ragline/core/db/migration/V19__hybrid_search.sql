-- Retrieval (issue 19, items 1, 2 and 4): full-text search beside the vector search, fused by
-- reciprocal rank fusion; metadata filters with operators, evaluated here so that psql users and
-- the HTTP surfaces share one language; one hit per document with its other matching chunks and
-- its neighbouring chunks as context; a minimum score.
--
-- Full text: a stored generated tsvector column on chunks, to_tsvector(text_search_config,
-- content), with the collection's configuration copied into each chunk row, and a partial GIN
-- index over it per collection (built like the collection's HNSW index). Measured on 20,000
-- chunks of 1 kB (two cores, docs/data-model.md): inserting costs the same either way (to_tsvector,
-- about 0.25 ms a chunk, dominates: 4.9 s with the column and its index, 5.5 s with a GIN
-- expression index, 0.56 s with neither), but ranking a query that matches all of them took
-- 70 ms from the stored column and 5.1 s from an expression index, which must compute the tsvector
-- again for each match (for the recheck and for ts_rank_cd). The column costs heap (22 MB to 39 MB
-- there) and this migration rewrites chunks once, under an exclusive lock. Writers need not know:
-- a BEFORE INSERT trigger copies the collection's configuration into a chunk that has none (a
-- primary-key lookup, small beside to_tsvector), and the configuration cannot change afterwards.
SELECT set_config('search_path', '${schema}, public', true);

ALTER TABLE collections ADD COLUMN text_search_config regconfig NOT NULL DEFAULT 'english';

-- Fixed once created: each of the collection's chunks holds a copy of it (below).
CREATE FUNCTION collection_text_search_config_fixed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'text_search_config of collection "%" is changeable only through a migration (% to %)',
        OLD.name, OLD.text_search_config, NEW.text_search_config USING ERRCODE = 'feature_not_supported';
END
$$;
CREATE TRIGGER collection_text_search_config_fixed BEFORE UPDATE OF text_search_config ON collections
    FOR EACH ROW WHEN (OLD.text_search_config IS DISTINCT FROM NEW.text_search_config)
    EXECUTE FUNCTION collection_text_search_config_fixed();

-- Every existing collection's configuration is 'english' (the default above), so existing chunks
-- take it as the column's default while the table is rewritten once for the generated column;
-- from then on the trigger below fills it.
ALTER TABLE chunks
    ADD COLUMN text_search_config regconfig NOT NULL DEFAULT 'english',
    ADD COLUMN tsv tsvector GENERATED ALWAYS AS (to_tsvector(text_search_config, content)) STORED;
ALTER TABLE chunks ALTER COLUMN text_search_config DROP DEFAULT;

CREATE FUNCTION chunk_text_search_config() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT k.text_search_config INTO NEW.text_search_config FROM ${schema}.collections k WHERE k.id = NEW.collection_id;
    RETURN NEW; -- a chunk of no collection fails its NOT NULL (and its foreign key)
END
$$;
CREATE TRIGGER chunk_text_search_config BEFORE INSERT ON chunks
    FOR EACH ROW WHEN (NEW.text_search_config IS NULL)
    EXECUTE FUNCTION chunk_text_search_config();

-- Creates (if missing) the full-text GIN index of one collection over chunks.tsv.
CREATE FUNCTION ensure_collection_text_index(p_collection_id integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    index_name text := format('chunks_text_c%s_idx', p_collection_id);
BEGIN
    PERFORM FROM ${schema}.collections WHERE id = p_collection_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no collection with id %', p_collection_id USING ERRCODE = 'no_data_found';
    END IF;
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON ${schema}.chunks USING gin (tsv) WHERE collection_id = %s',
        index_name, p_collection_id);
    RETURN index_name;
END
$$;

-- Its own triggers, beside collection_created (the HNSW index's, which V20 may replace).
CREATE FUNCTION collection_text_index_created() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ${schema}.ensure_collection_text_index(NEW.id);
    RETURN NULL;
END
$$;
CREATE TRIGGER collection_text_index_created AFTER INSERT ON collections
    FOR EACH ROW EXECUTE FUNCTION collection_text_index_created();

-- Deleting a collection (the owner's) drops its full-text index with it.
CREATE FUNCTION collection_text_index_dropped() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DROP INDEX IF EXISTS ${schema}.%I', format('chunks_text_c%s_idx', OLD.id));
    RETURN NULL;
END
$$;
CREATE TRIGGER collection_text_index_dropped AFTER DELETE ON collections
    FOR EACH ROW EXECUTE FUNCTION collection_text_index_dropped();

SELECT ensure_collection_text_index(id) FROM collections ORDER BY id;

-- The seam between search and the collection's vector index (replaced in V20 by the
-- per-collection distance, storage and index). Every value comes from the collections row,
-- never from the caller. score_sql is a format() template over the distance expression, higher
-- is better: cosine similarity 1 - distance.
CREATE FUNCTION vector_search_terms(p_collection_id integer,
    OUT vector_type text, OUT operator text, OUT score_sql text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    dims integer;
BEGIN
    SELECT dimensions INTO dims FROM ${schema}.collections WHERE id = p_collection_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no collection with id %', p_collection_id USING ERRCODE = 'no_data_found';
    END IF;
    vector_type := format('public.vector(%s)', dims);
    operator := 'OPERATOR(public.<=>)';
    score_sql := '1 - (%s)';
END
$$;

-- The index's settings for one search, for the transaction: HNSW returns at most ef_search
-- candidates (raised to the candidate list, at most pgvector's 1000), and iterative scans
-- (pgvector 0.8) go on past them while filters reject rows, in relaxed order (search_documents
-- sorts the candidates again by distance), up to max_scan_tuples: 100 per candidate wanted, so a
-- filter that keeps 1 % of a collection still fills the list.
CREATE FUNCTION prepare_vector_search(p_collection_id integer, p_match_count integer) RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('hnsw.ef_search', least(greatest(p_match_count, 40), 1000)::text, true);
    IF current_setting('hnsw.iterative_scan', true) IS NOT NULL THEN -- pgvector 0.8 and later
        PERFORM set_config('hnsw.iterative_scan', 'relaxed_order', true);
        PERFORM set_config('hnsw.max_scan_tuples', greatest(20000, p_match_count * 100)::text, true);
    END IF;
END
$$;

-- Filters (README, "Search"): {"key": value} is containment (metadata @> {"key": value}, as before);
-- {"key": {"$eq"|"$ne"|"$gt"|"$gte"|"$lt"|"$lte"|"$in"|"$nin"|"$exists": argument, ...}};
-- {"$and": [filter, ...]}, {"$or": [filter, ...]}, {"$not": filter}; several keys mean and.
-- A filter is data: it is walked here and never becomes SQL text. A bad one raises
-- invalid_parameter_value (22023) naming its path, e.g. filter.year.$gt.
CREATE FUNCTION search_filter_check(f jsonb, path text DEFAULT 'filter', depth integer DEFAULT 1) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    key text;
    val jsonb;
    op text;
    arg jsonb;
    i integer;
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
                IF op IN ('$gt', '$gte', '$lt', '$lte') THEN
                    IF jsonb_typeof(arg) NOT IN ('number', 'string', 'boolean') THEN
                        RAISE EXCEPTION '%.%.%: a range compares with a number, a string or a boolean, not %',
                            path, key, op, jsonb_typeof(arg) USING ERRCODE = 'invalid_parameter_value';
                    END IF;
                ELSIF op IN ('$in', '$nin') THEN
                    IF jsonb_typeof(arg) <> 'array' THEN
                        RAISE EXCEPTION '%.%.%: takes an array of values, not %', path, key, op, jsonb_typeof(arg)
                            USING ERRCODE = 'invalid_parameter_value';
                    END IF;
                ELSIF op = '$exists' THEN
                    IF jsonb_typeof(arg) <> 'boolean' THEN
                        RAISE EXCEPTION '%.%.%: takes true or false, not %', path, key, op, jsonb_typeof(arg)
                            USING ERRCODE = 'invalid_parameter_value';
                    END IF;
                ELSIF op NOT IN ('$eq', '$ne') THEN
                    RAISE EXCEPTION '%.%.%: unknown operator (a key''s are $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists)',
                        path, key, op USING ERRCODE = 'invalid_parameter_value';
                END IF;
            END LOOP;
        END IF;
    END LOOP;
END
$$;

-- Whether document metadata m matches filter f (checked by search_filter_check first; what it
-- refuses is refused here too). A key's operators: $eq is JSON equality; $ne and $nin also match
-- a document without the key; ranges compare values of the argument's JSON type only (numbers as
-- numbers, strings by the database's collation); $in matches a value equal to an element, or an
-- array holding one.
CREATE FUNCTION search_filter_matches(m jsonb, f jsonb, depth integer DEFAULT 1) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    key text;
    val jsonb;
    op text;
    arg jsonb;
    field jsonb;
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
        ELSIF jsonb_typeof(val) = 'object' AND EXISTS (SELECT 1 FROM jsonb_object_keys(val) k WHERE left(k, 1) = '$') THEN
            field := m -> key;
            FOR op, arg IN SELECT e.key, e.value FROM jsonb_each(val) e LOOP
                found := CASE op
                    WHEN '$eq' THEN coalesce(field = arg, false)
                    WHEN '$ne' THEN field IS NULL OR field <> arg
                    WHEN '$gt' THEN coalesce(jsonb_typeof(field) = jsonb_typeof(arg) AND field > arg, false)
                    WHEN '$gte' THEN coalesce(jsonb_typeof(field) = jsonb_typeof(arg) AND field >= arg, false)
                    WHEN '$lt' THEN coalesce(jsonb_typeof(field) = jsonb_typeof(arg) AND field < arg, false)
                    WHEN '$lte' THEN coalesce(jsonb_typeof(field) = jsonb_typeof(arg) AND field <= arg, false)
                    WHEN '$in' THEN field IS NOT NULL AND EXISTS (SELECT 1 FROM jsonb_array_elements(arg) a(v)
                        WHERE a.v = field OR (jsonb_typeof(field) = 'array' AND field @> jsonb_build_array(a.v)))
                    WHEN '$nin' THEN field IS NULL OR NOT EXISTS (SELECT 1 FROM jsonb_array_elements(arg) a(v)
                        WHERE a.v = field OR (jsonb_typeof(field) = 'array' AND field @> jsonb_build_array(a.v)))
                    WHEN '$exists' THEN (field IS NOT NULL) = (arg = 'true'::jsonb)
                END;
                IF found IS NULL THEN
                    RAISE EXCEPTION 'filter.%.%: unknown operator', key, op USING ERRCODE = 'invalid_parameter_value';
                END IF;
                IF NOT found THEN
                    RETURN false;
                END IF;
            END LOOP;
        ELSIF NOT m @> jsonb_build_object(key, val) THEN
            RETURN false;
        END IF;
    END LOOP;
    RETURN true;
END
$$;

DROP FUNCTION search_documents(vector, integer, text, jsonb);

-- Search for SQL clients (psql, PostgREST) and for Ragline's own surfaces (README, "Search").
-- mode 'vector' ranks chunks by the query vector, 'text' by full text (query_text through
-- websearch_to_tsquery with the collection's text_search_config; ts_rank_cd normalised to 0..1),
-- 'hybrid' fuses both rankings by reciprocal rank fusion, sum of 1 / (60 + rank) over the rankings
-- that found the chunk. Each ranking is a candidate list of at most greatest(10 * match_count, 100)
-- chunks (1000 at most; vector mode without grouping takes greatest(match_count, 40)), filtered
-- by the filter before it is cut. similarity is the score of the mode, higher is better;
-- vector_score and text_score are each ranking's own (null when it did not find the chunk).
-- min_score drops chunks below it. With group_by_document a document is one hit, its best
-- chunk, with the seq of its other chunks in the candidate lists in matching_chunks (so fewer than
-- match_count hits come back only when the candidates hold fewer documents). context_chunks
-- (0 to 5) adds the chunks that many positions either side of the hit as [{"seq", "content"}].
-- Without a mode: hybrid when both query and query_text are given, else vector (or text without a
-- vector), so the four-argument call of V10 still ranks by the vector (one row per document now:
-- group_by_document => false gives the nearest chunks as V10 did).
CREATE FUNCTION search_documents(
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
    -- The plain top-level values go to metadata @> (documents_metadata_idx serves them); the rest
    -- to search_filter_matches, null when there is none.
    SELECT coalesce(jsonb_object_agg(e.key, e.value) FILTER (WHERE NOT e.op), '{}'::jsonb),
           jsonb_object_agg(e.key, e.value) FILTER (WHERE e.op)
      INTO contained, rest
      FROM (SELECT j.key, j.value,
                   left(j.key, 1) = '$' OR (jsonb_typeof(j.value) = 'object'
                       AND EXISTS (SELECT 1 FROM jsonb_object_keys(j.value) k WHERE left(k, 1) = '$')) AS op
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
                        AND d.metadata @> $3 AND ($4::jsonb IS NULL OR ${schema}.search_filter_matches(d.metadata, $4))
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
                        AND d.metadata @> $3 AND ($4::jsonb IS NULL OR ${schema}.search_filter_matches(d.metadata, $4))
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
                                       AND n.seq BETWEEN h.pos - $12 AND h.pos + $12), ''[]'') END,
                h.vs, h.ts
           FROM hits h
           JOIN ${schema}.chunks ch ON ch.id = h.chunk_id
           JOIN ${schema}.documents d ON d.id = h.doc
          ORDER BY h.score DESC, h.chunk_id',
        terms.vector_type, terms.operator, format(terms.score_sql, 'v.dist'))
    USING query, c.id, contained, rest, candidates, search_mode, c.text_search_config, query_text,
          min_score, coalesce(group_by_document, true), match_count, context_chunks;
END
$$;
