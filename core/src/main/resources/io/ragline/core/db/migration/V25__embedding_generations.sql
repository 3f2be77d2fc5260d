-- Embedding generations (issue 19 item 5, model migration without downtime; docs/architecture.md
-- section 11, "Embedding generations"). A collection's vectors belong to a generation: a model with
-- its provider and dimensions. Exactly one generation of a collection is 'serving' (searches use it
-- unless they name another); a migration adds a 'building' one, whose vectors the embedding-worker
-- writes beside the serving ones; the switch makes it 'serving' and the former one 'kept' (its
-- vectors and index stay, so a rollback is a switch back); prune deletes the kept ones.
--
--   collection_generations   one row per generation; state is the truth of which one serves
--   collections.embedding_*  the serving generation's provider, model and dimensions: a copy that
--                            only collection_switch_generation writes (in the switch's transaction),
--                            kept because every reader of a collection (workers, CLI, API) reads them
--   chunk_embeddings         + generation; the key is (chunk_id, generation); one vector index per
--                            (collection, generation), partial on both
--
-- Existing data migrates in place (no pg_upgrade, no copy): every collection gets generation 1,
-- serving, with its model; the new column's constant default makes every stored vector generation 1
-- without rewriting the table (PostgreSQL 11+), the primary key is rebuilt on two columns, and each
-- collection's vector index is rebuilt once with the generation in its predicate (a vector of
-- generation 2 must not enter generation 1's index: its dimensions may differ). Generation 1's index
-- keeps its name, chunk_embeddings_c<id>_idx; generation g's is chunk_embeddings_c<id>_g<g>_idx.
SELECT set_config('search_path', '${schema}, public', true);

CREATE TABLE collection_generations (
    collection_id      integer NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    generation         integer NOT NULL CHECK (generation >= 1),
    embedding_provider text NOT NULL,
    embedding_model    text NOT NULL,
    dimensions         integer NOT NULL CHECK (dimensions BETWEEN 1 AND 16000),
    state              text NOT NULL CHECK (state IN ('building', 'serving', 'kept')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    switched_at        timestamptz,
    PRIMARY KEY (collection_id, generation)
);
-- One serving and at most one building generation per collection.
CREATE UNIQUE INDEX collection_generations_serving ON collection_generations (collection_id) WHERE state = 'serving';
CREATE UNIQUE INDEX collection_generations_building ON collection_generations (collection_id) WHERE state = 'building';

INSERT INTO collection_generations (collection_id, generation, embedding_provider, embedding_model, dimensions,
                                    state, created_at)
SELECT id, 1, embedding_provider, embedding_model, dimensions, 'serving', created_at FROM collections;

-- Rows inserted without a generation are generation 1 (scripts and dumps of earlier releases); the
-- embedding-worker always names it.
ALTER TABLE chunk_embeddings ADD COLUMN generation integer NOT NULL DEFAULT 1;
ALTER TABLE chunk_embeddings DROP CONSTRAINT chunk_embeddings_pkey, ADD PRIMARY KEY (chunk_id, generation);

-- The serving generation of a collection (NULL for no collection): one home for "which one serves".
CREATE FUNCTION serving_generation(p_collection_id integer) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT g.generation FROM ${schema}.collection_generations g
     WHERE g.collection_id = p_collection_id AND g.state = 'serving'
$$;

-- A collection's generation p_generation, or its serving one when p_generation is NULL.
CREATE FUNCTION collection_generation(p_collection_id integer, p_generation integer)
RETURNS ${schema}.collection_generations
LANGUAGE plpgsql STABLE AS $$
DECLARE
    g ${schema}.collection_generations%ROWTYPE;
BEGIN
    SELECT * INTO g FROM ${schema}.collection_generations x
     WHERE x.collection_id = p_collection_id
       AND CASE WHEN p_generation IS NULL THEN x.state = 'serving' ELSE x.generation = p_generation END;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'collection % has no generation %', p_collection_id, coalesce(p_generation::text, 'serving')
            USING ERRCODE = 'no_data_found';
    END IF;
    RETURN g;
END
$$;

-- The dimensions, model and provider of a collection (a copy of its serving generation's) change
-- only with its serving generation: the trigger now watches all three (V1's watched the dimensions).
CREATE OR REPLACE FUNCTION collection_dimensions_fixed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM ${schema}.collection_generations g
                WHERE g.collection_id = NEW.id AND g.state = 'serving' AND g.dimensions = NEW.dimensions
                  AND g.embedding_model = NEW.embedding_model AND g.embedding_provider = NEW.embedding_provider) THEN
        RETURN NEW; -- collection_switch_generation, which made that generation serving first
    END IF;
    RAISE EXCEPTION 'the model and dimensions of a collection change only through a migration (collection "%":'
        ' %/% (%) to %/% (%)): ragline collections migrate', OLD.name, OLD.embedding_provider, OLD.embedding_model,
        OLD.dimensions, NEW.embedding_provider, NEW.embedding_model, NEW.dimensions
        USING ERRCODE = 'feature_not_supported';
END
$$;
DROP TRIGGER collection_dimensions_fixed ON collections;
CREATE TRIGGER collection_dimensions_fixed BEFORE UPDATE OF dimensions, embedding_model, embedding_provider
    ON collections FOR EACH ROW
    WHEN (OLD.dimensions IS DISTINCT FROM NEW.dimensions OR OLD.embedding_model IS DISTINCT FROM NEW.embedding_model
          OR OLD.embedding_provider IS DISTINCT FROM NEW.embedding_provider)
    EXECUTE FUNCTION collection_dimensions_fixed();

-- Index names: generation 1 keeps the name indexes had before generations.
DROP FUNCTION collection_index_name(integer);
CREATE FUNCTION collection_index_name(p_collection_id integer, p_generation integer DEFAULT 1) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_generation = 1 THEN format('chunk_embeddings_c%s_idx', p_collection_id)
                ELSE format('chunk_embeddings_c%s_g%s_idx', p_collection_id, p_generation) END
$$;

-- V20's, for one generation: its dimensions, and both the collection and the generation in the
-- predicate.
DROP FUNCTION collection_index_ddl(integer, text);
CREATE FUNCTION collection_index_ddl(p_collection_id integer, p_generation integer, p_index_name text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    c ${schema}.collections%ROWTYPE;
    g ${schema}.collection_generations%ROWTYPE;
    opclass text;
    options text[] := '{}';
    vectors bigint;
BEGIN
    SELECT * INTO c FROM ${schema}.collections WHERE id = p_collection_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no collection with id %', p_collection_id USING ERRCODE = 'no_data_found';
    END IF;
    g := ${schema}.collection_generation(p_collection_id, p_generation);
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
        SELECT count(*) INTO vectors FROM ${schema}.chunk_embeddings
         WHERE collection_id = p_collection_id AND generation = g.generation;
        IF vectors = 0 THEN
            RETURN NULL;
        END IF;
        options := options || format('lists = %s', coalesce((c.index_options ->> 'lists')::integer,
            greatest(1, CASE WHEN vectors <= 1000000 THEN vectors / 1000 ELSE floor(sqrt(vectors)) END)::integer));
    END IF;
    RETURN format(
        'CREATE INDEX %I ON ${schema}.chunk_embeddings USING %s ((embedding::public.%s(%s)) public.%s)%s'
        ' WHERE collection_id = %s AND generation = %s',
        p_index_name, c.index_type, c.vector_storage, g.dimensions, opclass,
        CASE WHEN cardinality(options) = 0 THEN '' ELSE ' WITH (' || array_to_string(options, ', ') || ')' END,
        p_collection_id, g.generation);
END
$$;

-- Creates the index of a generation (NULL: the serving one) if it has none.
DROP FUNCTION ensure_collection_index(integer);
CREATE FUNCTION ensure_collection_index(p_collection_id integer, p_generation integer DEFAULT NULL) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    gen integer := (${schema}.collection_generation(p_collection_id, p_generation)).generation;
    index_name text := ${schema}.collection_index_name(p_collection_id, gen);
    ddl text;
BEGIN
    IF to_regclass(format('${schema}.%I', index_name)) IS NOT NULL THEN
        RETURN index_name;
    END IF;
    ddl := ${schema}.collection_index_ddl(p_collection_id, gen, index_name);
    IF ddl IS NULL THEN
        RETURN NULL;
    END IF;
    EXECUTE ddl;
    RETURN index_name;
END
$$;

-- V24's rebuild, of one generation (NULL: the serving one).
DROP FUNCTION collection_reindex(integer);
CREATE FUNCTION collection_reindex(p_collection_id integer, p_generation integer DEFAULT NULL) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    gen integer;
    index_name text;
    building text;
    ddl text;
BEGIN
    -- One reindex at a time, of any collection (V24): SHARE ROW EXCLUSIVE conflicts with itself.
    LOCK TABLE ${schema}.chunk_embeddings IN SHARE ROW EXCLUSIVE MODE;
    PERFORM 1 FROM ${schema}.collections WHERE id = p_collection_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no collection with id %', p_collection_id USING ERRCODE = 'no_data_found';
    END IF;
    gen := (${schema}.collection_generation(p_collection_id, p_generation)).generation;
    index_name := ${schema}.collection_index_name(p_collection_id, gen);
    building := format('chunk_embeddings_c%s_g%s_rebuild', p_collection_id, gen);
    ddl := ${schema}.collection_index_ddl(p_collection_id, gen, building);
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

-- A new collection's generation 1, then its index (V1's trigger, which built the index alone).
CREATE OR REPLACE FUNCTION collection_created() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ${schema}.collection_generations (collection_id, generation, embedding_provider, embedding_model,
                                                  dimensions, state)
    VALUES (NEW.id, 1, NEW.embedding_provider, NEW.embedding_model, NEW.dimensions, 'serving');
    PERFORM ${schema}.ensure_collection_index(NEW.id, 1);
    RETURN NULL;
END
$$;

-- Deleting a collection drops the indexes of all its generations (their rows are gone by then: the
-- foreign key's cascade runs first).
CREATE OR REPLACE FUNCTION collection_index_dropped() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    idx text;
BEGIN
    FOR idx IN SELECT i.indexname FROM pg_indexes i
                WHERE i.schemaname = '${schema}' AND i.tablename = 'chunk_embeddings'
                  AND (i.indexname = ${schema}.collection_index_name(OLD.id, 1)
                       OR i.indexname ~ ('^chunk_embeddings_c' || OLD.id || '_g[0-9]+_idx$')) LOOP
        EXECUTE format('DROP INDEX IF EXISTS ${schema}.%I', idx);
    END LOOP;
    RETURN NULL;
END
$$;

-- The vector ranking and scan settings of one generation (NULL: the serving one).
DROP FUNCTION vector_search_terms(integer);
CREATE FUNCTION vector_search_terms(p_collection_id integer, p_generation integer DEFAULT NULL,
    OUT vector_type text, OUT operator text, OUT score_sql text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    c ${schema}.collections%ROWTYPE;
    g ${schema}.collection_generations%ROWTYPE;
BEGIN
    SELECT * INTO c FROM ${schema}.collections WHERE id = p_collection_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no collection with id %', p_collection_id USING ERRCODE = 'no_data_found';
    END IF;
    g := ${schema}.collection_generation(p_collection_id, p_generation);
    vector_type := format('public.%s(%s)', c.vector_storage, g.dimensions);
    operator := CASE c.distance WHEN 'cosine' THEN 'OPERATOR(public.<=>)'
                                WHEN 'l2' THEN 'OPERATOR(public.<->)'
                                ELSE 'OPERATOR(public.<#>)' END;
    score_sql := CASE c.distance WHEN 'cosine' THEN '1 - (%s)'
                                 WHEN 'l2' THEN '-(%s)'
                                 ELSE '(%s) * -1' END;
END
$$;

DROP FUNCTION prepare_vector_search(integer, integer);
CREATE FUNCTION prepare_vector_search(p_collection_id integer, p_match_count integer, p_generation integer DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    c ${schema}.collections%ROWTYPE;
    gen integer;
    lists integer;
    probes integer;
BEGIN
    SELECT * INTO c FROM ${schema}.collections WHERE id = p_collection_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no collection with id %', p_collection_id USING ERRCODE = 'no_data_found';
    END IF;
    gen := (${schema}.collection_generation(p_collection_id, p_generation)).generation;
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
              WHERE i.oid = to_regclass(format('${schema}.%I', ${schema}.collection_index_name(p_collection_id, gen)))
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

-- Every existing index again, with the generation in its predicate (see the top).
DO $$
DECLARE
    k integer;
BEGIN
    FOR k IN SELECT id FROM ${schema}.collections ORDER BY id LOOP
        IF to_regclass(format('${schema}.%I', ${schema}.collection_index_name(k, 1))) IS NOT NULL THEN
            IF ${schema}.collection_reindex(k, 1) IS NULL THEN -- an IVFFlat index left without vectors
                EXECUTE format('DROP INDEX ${schema}.%I', ${schema}.collection_index_name(k, 1));
            END IF;
        ELSE
            PERFORM ${schema}.ensure_collection_index(k, 1);
        END IF;
    END LOOP;
END
$$;

-- search_documents as V24 left it, over one generation: the one named by `generation`, or the
-- serving one. The Searcher names the generation whose model embedded the query, so a switch
-- between reading the collection and running the query never ranks one model's query among
-- another's vectors: the generation it named is 'kept' by then and still answers.
DROP FUNCTION search_documents(vector, integer, text, jsonb, text, text, double precision, boolean, integer);
CREATE FUNCTION search_documents(
    query             vector,
    match_count       integer DEFAULT 10,
    collection        text DEFAULT 'default',
    filter            jsonb DEFAULT '{}',
    mode              text DEFAULT NULL,
    query_text        text DEFAULT NULL,
    min_score         double precision DEFAULT NULL,
    group_by_document boolean DEFAULT true,
    context_chunks    integer DEFAULT 0,
    generation        integer DEFAULT NULL
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
    g ${schema}.collection_generations%ROWTYPE;
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
    -- The generation asked for (the serving one when none is): its vectors are ranked, and the
    -- query must be its model's. A generation pruned meanwhile is no_data_found, as a collection is.
    g := ${schema}.collection_generation(c.id, search_documents.generation);
    IF query IS NOT NULL AND public.vector_dims(query) <> g.dimensions THEN
        RAISE EXCEPTION 'query vector has % dimensions, generation % of collection "%" (model %) has %',
            public.vector_dims(query), g.generation, collection, g.embedding_model, g.dimensions
            USING ERRCODE = 'data_exception';
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
    SELECT * INTO terms FROM ${schema}.vector_search_terms(c.id, g.generation);
    IF search_mode <> 'text' THEN
        PERFORM ${schema}.prepare_vector_search(c.id, candidates, g.generation);
    END IF;
    RETURN QUERY EXECUTE format(
        'WITH v AS MATERIALIZED (
             SELECT x.chunk_id, x.dist, row_number() OVER (ORDER BY x.dist, x.chunk_id) AS r
               FROM (SELECT e.chunk_id, e.embedding::%1$s %2$s $1::%1$s AS dist
                       FROM ${schema}.chunk_embeddings e
                       JOIN ${schema}.chunks ch ON ch.id = e.chunk_id
                       JOIN ${schema}.documents d ON d.id = ch.document_id
                      WHERE $6 <> ''text'' AND e.collection_id = $2 AND e.generation = $14 AND d.status <> ''deleted''
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
                                     WHERE e.chunk_id = ch.id AND e.generation = $14)
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
                                                    WHERE e.chunk_id = n.id AND e.generation = $14)), ''[]'') END,
                h.vs, h.ts
           FROM hits h
           JOIN ${schema}.chunks ch ON ch.id = h.chunk_id
           JOIN ${schema}.documents d ON d.id = h.doc
          ORDER BY h.score DESC, h.chunk_id',
        terms.vector_type, terms.operator, format(terms.score_sql, 'v.dist'))
    USING query, c.id, contained, rest, candidates, search_mode, c.text_search_config::regconfig, query_text,
          min_score, coalesce(group_by_document, true), match_count, context_chunks,
          scalars, g.generation;
END
$$;
