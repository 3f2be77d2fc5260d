-- A vector index built after a load instead of row by row during it (issue 17 item 3;
-- docs/architecture.md section 11, "An index after the load"). pgvector inserts each vector into a
-- collection's HNSW graph as it is written: on this project's 2-core machine that was 6-8 % of the
-- machine during a bulk load, and building the index once over the loaded vectors cost 4.3-5.4 times
-- less CPU than those inserts (docs/benchmarks.md). So a collection's creation, and a migration's new
-- generation, may leave the index out when the transaction that makes them sets
--
--     SET LOCAL ragline.index_after_load = on
--
-- (the CLI's and API's `index after load`). Nothing else changes: a generation without its index is
-- searched by exact scans (`collections show` says "built: no"), a migration whose building
-- generation lacks its index waits for it before switching (collection_migration_awaits_index, V31,
-- as for an IVFFlat one), and the schema owner's `ragline collections reindex NAME` builds it.
SELECT set_config('search_path', '${schema}, public', true);

-- Whether the transaction asked for the vector index after the load. Only the owner gets this far:
-- collection_created_by_owner (below) refuses a worker's insert into collections, and
-- collection_migrate a worker's migration.
CREATE FUNCTION index_after_load() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('ragline.index_after_load', true), '') IN ('on', 'true')
$$;

-- V34's, leaving the index out when asked.
CREATE OR REPLACE FUNCTION collection_created() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ${schema}.collection_chunkings (collection_id, chunking, chunk_size_tokens, chunk_overlap_tokens)
    VALUES (NEW.id, 1, NEW.chunk_size_tokens, NEW.chunk_overlap_tokens);
    INSERT INTO ${schema}.collection_generations (collection_id, generation, embedding_provider, embedding_model,
                                                  dimensions, state, chunking)
    VALUES (NEW.id, 1, NEW.embedding_provider, NEW.embedding_model, NEW.dimensions, 'serving', 1);
    IF NOT ${schema}.index_after_load() THEN
        PERFORM ${schema}.ensure_collection_index(NEW.id, 1);
    END IF;
    RETURN NULL;
END
$$;

-- V34's, leaving the building generation's index out when asked: its switch then waits for it. And
-- refused at once to a login that may not build vector indexes: starting a migration is the schema
-- owner's, which before rested on the index's CREATE INDEX alone, and an IVFFlat generation, whose
-- index waits for its vectors, had none to refuse it.
CREATE OR REPLACE FUNCTION collection_migrate(p_collection_id integer, p_provider text, p_model text,
                                              p_dimensions integer, p_chunk_size integer, p_chunk_overlap integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    made integer;
    chunk integer := ${schema}.serving_chunking(p_collection_id);
BEGIN
    IF NOT ${schema}.may_build_collection_index() THEN
        RAISE EXCEPTION 'permission denied to start a migration: only the owner of chunk_embeddings may'
              ' (the new generation''s vector index is DDL)' USING ERRCODE = 'insufficient_privilege';
    END IF;
    PERFORM 1 FROM ${schema}.collections WHERE id = p_collection_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no collection with id %', p_collection_id USING ERRCODE = 'no_data_found';
    END IF;
    SELECT greatest(coalesce(max(g.generation), 0), k.generations_made) + 1 INTO made
      FROM ${schema}.collections k LEFT JOIN ${schema}.collection_generations g ON g.collection_id = k.id
     WHERE k.id = p_collection_id
     GROUP BY k.generations_made;
    UPDATE ${schema}.collections SET generations_made = made WHERE id = p_collection_id;
    IF p_chunk_size IS NOT NULL OR p_chunk_overlap IS NOT NULL THEN
        IF p_chunk_size IS NULL OR p_chunk_overlap IS NULL THEN
            RAISE EXCEPTION 'a chunking needs both a size and an overlap' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        SELECT k.chunking INTO chunk
          FROM ${schema}.collection_chunkings k
         WHERE k.collection_id = p_collection_id AND k.chunk_size_tokens = p_chunk_size
           AND k.chunk_overlap_tokens = p_chunk_overlap
           AND EXISTS (SELECT 1 FROM ${schema}.collection_generations g
                        WHERE g.collection_id = p_collection_id AND g.chunking = k.chunking)
         ORDER BY k.chunking = ${schema}.serving_chunking(p_collection_id) DESC, k.chunking DESC
         LIMIT 1;
        IF NOT FOUND THEN
            chunk := made;
            INSERT INTO ${schema}.collection_chunkings (collection_id, chunking, chunk_size_tokens, chunk_overlap_tokens)
            VALUES (p_collection_id, made, p_chunk_size, p_chunk_overlap);
        END IF;
    END IF;
    -- collection_generations_building refuses a second building generation.
    INSERT INTO ${schema}.collection_generations (collection_id, generation, embedding_provider, embedding_model,
                                                  dimensions, state, chunking)
    VALUES (p_collection_id, made, p_provider, p_model, p_dimensions, 'building', chunk);
    IF NOT ${schema}.index_after_load() THEN
        PERFORM ${schema}.ensure_collection_index(p_collection_id, made);
    END IF;
    RETURN made;
END
$$;

-- Whether collection p_collection_id's serving generation has its vector index: the one home of that
-- question for `collections list|show` and the API's index_built (CollectionRegistry) and for the
-- embedding-worker's gauge of collections searched by exact scans (CollectionCatalog.unindexed).
CREATE FUNCTION collection_index_built(p_collection_id integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT to_regclass(format('${schema}.%I', ${schema}.collection_index_name(p_collection_id,
                                                  ${schema}.serving_generation(p_collection_id)))) IS NOT NULL
$$;

-- Creating a collection is the schema owner's (grants.sql; LeastPrivilegeIT). That rested on DDL the
-- insert's triggers happen to run: the HNSW index's CREATE INDEX in collection_created, which an
-- IVFFlat collection and one whose index is left for after the load skip, and the full-text index's
-- (collection_text_index_created, V19), which one GIN index for every collection would remove. This
-- trigger says it, first (triggers fire by name) and by name. Not a REVOKE of INSERT: a worker of
-- the release before checks at start-up that its login may INSERT into every table, and would stop
-- on restarting mid-upgrade. (A BEFORE trigger fires before ON CONFLICT's check, so a non-owner's
-- upsert of an existing collection is refused too.)
CREATE FUNCTION collection_created_by_owner() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT ${schema}.may_build_collection_index() THEN
        RAISE EXCEPTION 'permission denied to create collection %: only the owner of chunk_embeddings may'
              ' (its vector index is DDL)', NEW.name USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER collection_created_by_owner BEFORE INSERT ON collections
    FOR EACH ROW EXECUTE FUNCTION collection_created_by_owner();
