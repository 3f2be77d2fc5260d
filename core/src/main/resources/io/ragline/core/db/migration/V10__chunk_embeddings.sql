-- Vectors get their own table. Writing a vector into chunks was an UPDATE: a new version of the
-- whole chunk row (about 1 kB of text) and of both its B-tree entries, which held the
-- embedding-worker's writes at about 37,000 vectors/s on two cores whatever the batch size. A
-- row of chunk_embeddings is inserted once by a plain binary COPY: a heap tuple and a primary key
-- entry (docs/benchmarks.md, "Vector writes into pgvector").
--
-- A chunk has at most one vector, and deleting chunks (a new version of their document, a
-- delete, a dropped collection) deletes their vectors, by the statement trigger below. Not by a
-- foreign key: its check locks the chunk row of every inserted vector (FOR KEY SHARE: a WAL
-- record and a dirtied 1 kB-row page per vector), which cost about a third of the write rate
-- (medians of 9 alternating runs: 51,000 against 73,000 vectors/s). Writers keep the rule a foreign key
-- would enforce: the embedding-worker writes the vectors of chunks it read while holding their
-- document's row lock, and every path that deletes chunks takes that lock first.
-- collection_id is the chunk's, copied so that each collection keeps its own partial HNSW index.
SELECT set_config('search_path', '${schema}, public', true);

CREATE TABLE chunk_embeddings (
    chunk_id      bigint PRIMARY KEY, -- chunks (id); see above
    collection_id integer NOT NULL,
    embedding     vector NOT NULL,
    model         text NOT NULL,
    embedded_at   timestamptz NOT NULL DEFAULT now()
);
-- A 384-dimension vector is 1,544 bytes and stays in the row anyway; 1,536 dimensions (6 kB)
-- would otherwise go to TOAST (pgvector's storage is EXTERNAL), a second read per search hit.
ALTER TABLE chunk_embeddings SET (toast_tuple_target = 8160);

INSERT INTO chunk_embeddings (chunk_id, collection_id, embedding, model, embedded_at)
SELECT id, collection_id, embedding, coalesce(model, 'unknown'), coalesce(embedded_at, now())
  FROM chunks
 WHERE embedding IS NOT NULL;

CREATE FUNCTION chunks_deleted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    -- The planner knows a transition table's row count: a document's few chunks are looked up
    -- by primary key, a dropped collection's many are joined (VectorWriterIT checks the first).
    DELETE FROM ${schema}.chunk_embeddings e USING deleted_chunks d WHERE e.chunk_id = d.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER chunks_deleted AFTER DELETE ON chunks
    REFERENCING OLD TABLE AS deleted_chunks
    FOR EACH STATEMENT EXECUTE FUNCTION chunks_deleted();

CREATE FUNCTION chunks_truncated() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE ${schema}.chunk_embeddings;
    RETURN NULL;
END
$$;
CREATE TRIGGER chunks_truncated AFTER TRUNCATE ON chunks
    FOR EACH STATEMENT EXECUTE FUNCTION chunks_truncated();

-- Drops the per-collection HNSW indexes on chunks and chunks_pending_idx with the column.
ALTER TABLE chunks DROP COLUMN embedding, DROP COLUMN model, DROP COLUMN embedded_at;
-- V6 kept vectors beside the text in the row; the text alone needs no setting.
ALTER TABLE chunks RESET (toast_tuple_target);

CREATE OR REPLACE FUNCTION ensure_collection_index(p_collection_id integer) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    dims integer;
    index_name text := format('chunk_embeddings_c%s_idx', p_collection_id);
BEGIN
    SELECT dimensions INTO dims FROM ${schema}.collections WHERE id = p_collection_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no collection with id %', p_collection_id USING ERRCODE = 'no_data_found';
    END IF;
    EXECUTE format(
        'CREATE INDEX IF NOT EXISTS %I ON ${schema}.chunk_embeddings USING hnsw ((embedding::public.vector(%s)) public.vector_cosine_ops) WHERE collection_id = %s',
        index_name, dims, p_collection_id);
    RETURN index_name;
END
$$;

SELECT ensure_collection_index(id) FROM collections ORDER BY id;

CREATE OR REPLACE FUNCTION search_documents(
    query       vector,
    match_count integer DEFAULT 10,
    collection  text DEFAULT 'default',
    filter      jsonb DEFAULT '{}'
) RETURNS TABLE (
    chunk_id    bigint,
    document_id text,
    title       text,
    content     text,
    metadata    jsonb,
    similarity  double precision
)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    c ${schema}.collections%ROWTYPE;
BEGIN
    SELECT * INTO c FROM ${schema}.collections WHERE name = collection;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown collection "%"', collection USING ERRCODE = 'no_data_found';
    END IF;
    IF public.vector_dims(query) <> c.dimensions THEN
        RAISE EXCEPTION 'query vector has % dimensions, collection "%" has %',
            public.vector_dims(query), collection, c.dimensions USING ERRCODE = 'data_exception';
    END IF;
    IF match_count IS NULL OR match_count < 1 OR match_count > 1000 THEN
        RAISE EXCEPTION 'match_count must be between 1 and 1000' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM set_config('hnsw.ef_search', greatest(match_count, 40)::text, true);
    IF current_setting('hnsw.iterative_scan', true) IS NOT NULL THEN -- pgvector 0.8 and later
        PERFORM set_config('hnsw.iterative_scan', 'strict_order', true);
    END IF;
    RETURN QUERY EXECUTE format(
        'SELECT ch.id, d.external_id, d.title, ch.content, d.metadata,
                1 - (e.embedding::public.vector(%1$s) OPERATOR(public.<=>) $1::public.vector(%1$s))
           FROM ${schema}.chunk_embeddings e
           JOIN ${schema}.chunks ch ON ch.id = e.chunk_id
           JOIN ${schema}.documents d ON d.id = ch.document_id
          WHERE e.collection_id = $2
            AND d.status <> ''deleted''
            AND d.metadata @> $3
          ORDER BY e.embedding::public.vector(%1$s) OPERATOR(public.<=>) $1::public.vector(%1$s)
          LIMIT $4', c.dimensions)
    USING query, c.id, coalesce(filter, '{}'::jsonb), match_count;
END
$$;

-- Repairs what a bug fixed with this migration left behind. Content published again unchanged
-- while its document waited for embeddings made the waiting request obsolete (the document stayed
-- 'chunked'), and a later request then looked for chunks of the new version, found none and marked
-- the document 'embedded' without vectors. Such documents go back to 'chunked', and every
-- 'chunked' document of an active collection is asked for again under its current version (a
-- request that turns out to be a duplicate is skipped by the embedding-worker).
UPDATE documents d SET status = 'chunked', embedded_at = NULL, updated_at = now()
 WHERE d.status = 'embedded'
   AND EXISTS (SELECT 1 FROM chunks ch WHERE ch.document_id = d.id
                  AND NOT EXISTS (SELECT 1 FROM chunk_embeddings e WHERE e.chunk_id = ch.id));

SELECT set_config('ragline.outbox_key_lock', 'off', true); -- one lock per document is not needed here
INSERT INTO outbox (topic, key, payload)
SELECT 'embedding-requests', k.name || '/' || d.external_id,
       jsonb_build_object('schema_version', 1, 'collection', k.name, 'id', d.external_id,
                          'document', d.id, 'version', d.version)
  FROM documents d JOIN collections k ON k.id = d.collection_id
 WHERE d.status = 'chunked' AND k.status = 'active'
 ORDER BY d.id;
