-- A migration of an IVFFlat collection waits for its index (issue 19 item 5; docs/architecture.md
-- section 11, "Embedding generations"). An IVFFlat index is trained on the vectors present, so the
-- building generation's is made once its vectors are complete, before the switch; that is DDL, which
-- only chunk_embeddings' owner may run. The embedding-worker's least-privilege login therefore does
-- not try: it asks these two functions, says the migration waits, and switches once the owner's
-- `ragline collections reindex NAME` has built the index.
SELECT set_config('search_path', '${schema}, public', true);

-- Whether generation p_generation of the collection lacks a vector index it can have: false when the
-- index exists, and for an IVFFlat generation without vectors (nothing to train on: no index needed).
CREATE FUNCTION collection_index_missing(p_collection_id integer, p_generation integer) RETURNS boolean
LANGUAGE plpgsql STABLE AS $$
DECLARE
    index_name text := ${schema}.collection_index_name(p_collection_id, p_generation);
BEGIN
    IF to_regclass(format('${schema}.%I', index_name)) IS NOT NULL THEN
        RETURN false;
    END IF;
    RETURN ${schema}.collection_index_ddl(p_collection_id, p_generation, index_name) IS NOT NULL;
END
$$;

-- Whether the current login may build vector indexes: CREATE INDEX needs the table's owner (or a
-- member of its role).
CREATE FUNCTION may_build_collection_index() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT pg_has_role(current_user, c.relowner, 'USAGE')
      FROM pg_class c WHERE c.oid = '${schema}.chunk_embeddings'::regclass
$$;

-- A document version the building generation's model refused (an OpenAI-compatible endpoint's 400,
-- 413 or 422, an ONNX run that failed): the migration cannot complete while its chunks lack vectors,
-- so the refusal is recorded for `collections migrate NAME --status` and GET .../migration, and the
-- embedding-worker logs it once (the row's insert decides). Gone with the generation (a rollback or
-- prune) or the document; a new version of the document is counted only if refused again.
CREATE TABLE generation_refusals (
    collection_id    integer NOT NULL,
    generation       integer NOT NULL,
    document_id      bigint NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    document_version bigint NOT NULL,
    error            text NOT NULL,
    refused_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (collection_id, generation, document_id, document_version),
    FOREIGN KEY (collection_id, generation) REFERENCES collection_generations (collection_id, generation)
        ON DELETE CASCADE
);
CREATE INDEX generation_refusals_document ON generation_refusals (document_id);
