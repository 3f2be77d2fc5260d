-- collections.text_search_config and chunks.text_search_config were regconfig columns (V19), and
-- pg_upgrade refuses a cluster with reg* columns in user tables (their values are OIDs, which a new
-- cluster does not keep), so a major-version upgrade in place failed. The configuration is now text,
-- a name that a cast to regconfig resolves, checked when stored; no column is a regconfig any more.
--
-- How chunks.tsv stays right without its generated column: a generated column over
-- to_tsvector(text_search_config::regconfig, content) is refused (the cast from text resolves a
-- name through the catalogs and the search_path: not immutable), and an IMMUTABLE wrapper around it
-- would be a claim the database cannot check; re-adding the column would also rewrite chunks and
-- compute every tsvector again (about 4 minutes per million 1 kB chunks, under ACCESS EXCLUSIVE).
-- Instead tsv becomes a plain column (DROP EXPRESSION keeps the stored tsvectors and the GIN indexes
-- as they are: no rewrite) that a BEFORE INSERT OR UPDATE trigger fills from the collection's
-- configuration, which was what the chunk's own copy of it was for; that copy is dropped (no
-- rewrite either; a dropped column has no type left for pg_upgrade to refuse). Writers need not
-- know: they never set tsv (a value they give is replaced), and the trigger's primary-key lookup
-- of the collection replaces V19's, which filled the copy.
--
-- A name is stored in one canonical form, text_search_config_name: the bare name for the
-- configurations of pg_catalog ('english'), schema-qualified for any other ('rag.my_config'), so it
-- resolves to the same configuration whatever the search_path (pg_dump restores with an empty one).
SELECT set_config('search_path', '${schema}, public', true);

-- The canonical name of text search configuration p_name (resolved as a regconfig cast resolves it,
-- through the search_path), or NULL when there is none of that name. PostgreSQL has no to_regconfig,
-- hence the cast in a block (a subtransaction: this runs once per stored collection, never per chunk).
CREATE FUNCTION text_search_config_name(p_name text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
    cfg oid;
BEGIN
    BEGIN
        cfg := p_name::pg_catalog.regconfig;
    EXCEPTION WHEN undefined_object OR invalid_name OR syntax_error OR invalid_schema_name OR feature_not_supported THEN
        RETURN NULL;
    END;
    RETURN (SELECT CASE WHEN n.nspname = 'pg_catalog' THEN pg_catalog.quote_ident(t.cfgname)
                        ELSE pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(t.cfgname) END
              FROM pg_catalog.pg_ts_config t
              JOIN pg_catalog.pg_namespace n ON n.oid = t.cfgnamespace
             WHERE t.oid = cfg);
END
$$;

-- A regconfig column does not hold its configuration: one dropped since leaves a number that names
-- nothing. Such a collection could not index a chunk any more; the upgrade stops naming it.
DO $$
DECLARE
    broken text;
BEGIN
    SELECT string_agg(format('"%s" (%s)', name, text_search_config::oid), ', ' ORDER BY name) INTO broken
      FROM ${schema}.collections
     WHERE ${schema}.text_search_config_name(text_search_config::text) IS NULL;
    IF broken IS NOT NULL THEN
        RAISE EXCEPTION 'the text search configuration of collection(s) % no longer exists', broken
            USING ERRCODE = 'undefined_object',
                  HINT = 'a configuration created again gets a new number and does not help: point the collection'
                      || ' at one that exists (ALTER TABLE collections DISABLE TRIGGER'
                      || ' collection_text_search_config_fixed; UPDATE collections SET text_search_config ='
                      || ' ''english'' WHERE name = ...; ALTER TABLE collections ENABLE TRIGGER'
                      || ' collection_text_search_config_fixed), migrate again, then re-embed the collection'
                      || ' so its chunks are indexed with it; or delete the collection(s)';
    END IF;
END
$$;

-- V19's trigger refusing a change has the column in its WHEN clause, which ALTER TYPE refuses.
DROP TRIGGER collection_text_search_config_fixed ON collections;
ALTER TABLE collections ALTER COLUMN text_search_config DROP DEFAULT;
ALTER TABLE collections ALTER COLUMN text_search_config TYPE text
    USING text_search_config_name(text_search_config::text);
ALTER TABLE collections
    ALTER COLUMN text_search_config SET DEFAULT 'english',
    ADD CONSTRAINT collections_text_search_config_check
        CHECK (text_search_config_name(text_search_config) IS NOT DISTINCT FROM text_search_config);
CREATE TRIGGER collection_text_search_config_fixed BEFORE UPDATE OF text_search_config ON collections
    FOR EACH ROW WHEN (OLD.text_search_config IS DISTINCT FROM NEW.text_search_config)
    EXECUTE FUNCTION collection_text_search_config_fixed();

-- A psql user's insert names a configuration in any form that resolves ('English', 'pg_catalog.english')
-- and it is stored canonical; one that does not resolve is refused naming it (not only the CHECK).
CREATE FUNCTION collection_text_search_config_named() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    canonical text := ${schema}.text_search_config_name(NEW.text_search_config);
BEGIN
    IF canonical IS NULL THEN
        RAISE EXCEPTION 'collection "%": text_search_config "%" is not a text search configuration of this database',
            NEW.name, NEW.text_search_config USING ERRCODE = 'invalid_parameter_value';
    END IF;
    NEW.text_search_config := canonical;
    RETURN NEW;
END
$$;
CREATE TRIGGER collection_text_search_config_named BEFORE INSERT ON collections
    FOR EACH ROW EXECUTE FUNCTION collection_text_search_config_named();

DROP TRIGGER chunk_text_search_config ON chunks;
DROP FUNCTION chunk_text_search_config();
ALTER TABLE chunks ALTER COLUMN tsv DROP EXPRESSION;
ALTER TABLE chunks DROP COLUMN text_search_config;

-- The tsvector of a chunk's content with its collection's configuration, as the generated column
-- computed it; also when a writer gives tsv itself or changes the content (no path does today).
CREATE FUNCTION chunk_tsv() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    SELECT to_tsvector(k.text_search_config::regconfig, NEW.content) INTO NEW.tsv
      FROM ${schema}.collections k WHERE k.id = NEW.collection_id;
    RETURN NEW; -- a chunk of no collection fails its foreign key
END
$$;
CREATE TRIGGER chunk_tsv BEFORE INSERT OR UPDATE OF content, collection_id, tsv ON chunks
    FOR EACH ROW EXECUTE FUNCTION chunk_tsv();

-- search_documents as V19 made it (its description is there), with the collection's configuration
-- cast to regconfig for websearch_to_tsquery: the only change.
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
    USING query, c.id, contained, rest, candidates, search_mode, c.text_search_config::regconfig, query_text,
          min_score, coalesce(group_by_document, true), match_count, context_chunks;
END
$$;
