-- Migrating a collection to another embedding model (issue 19 item 5; docs/architecture.md section
-- 11, "Embedding generations"): the mechanics, in SQL, of what io.ragline.core.collections.
-- CollectionMigrations checks and calls (it refuses bad requests first, with the CLI's and the API's
-- messages, and writes collection.migrated through the contracts' codec in the same transaction).
-- Each function works in the caller's transaction and locks the collection's row FOR NO KEY UPDATE
-- (the ingest-worker's FOR KEY SHARE of a document's collection does not wait for it).
SELECT set_config('search_path', '${schema}, public', true);

-- How far the building generation of a collection is: the searchable chunks (those with a vector
-- of the serving generation) and how many of them have a vector of the building one. The switch
-- happens when both are equal. Index-only scans of chunk_embeddings' primary key.
CREATE FUNCTION collection_migration_progress(p_collection_id integer,
    OUT generation integer, OUT done bigint, OUT needed bigint)
LANGUAGE sql STABLE AS $$
    SELECT b.generation,
           (SELECT count(*) FROM ${schema}.chunk_embeddings s
             WHERE s.collection_id = p_collection_id AND s.generation = ${schema}.serving_generation(p_collection_id)
               AND EXISTS (SELECT 1 FROM ${schema}.chunk_embeddings n
                            WHERE n.chunk_id = s.chunk_id AND n.generation = b.generation)),
           (SELECT count(*) FROM ${schema}.chunk_embeddings s
             WHERE s.collection_id = p_collection_id AND s.generation = ${schema}.serving_generation(p_collection_id))
      FROM ${schema}.collection_generations b
     WHERE b.collection_id = p_collection_id AND b.state = 'building'
$$;

-- Whether a searchable chunk of the collection (one with a vector of the serving generation) lacks
-- a vector of generation p_generation. It stops at the first such chunk, and reaches the
-- collection's chunks through documents' (collection_id, status) index, chunks' (document_id, seq)
-- one and chunk_embeddings' primary key, where the progress above counts every vector. A rollback
-- asks it of the kept generation it would serve.
CREATE FUNCTION collection_generation_incomplete(p_collection_id integer, p_generation integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (
        SELECT 1 FROM ${schema}.documents d
          JOIN ${schema}.chunks ch ON ch.document_id = d.id
          JOIN ${schema}.chunk_embeddings s
            ON s.chunk_id = ch.id AND s.generation = ${schema}.serving_generation(p_collection_id)
         WHERE d.collection_id = p_collection_id
           AND NOT EXISTS (SELECT 1 FROM ${schema}.chunk_embeddings n
                            WHERE n.chunk_id = ch.id AND n.generation = p_generation))
$$;

-- The same of the building generation (null when no migration runs): the embedding-worker's check
-- every 2 s; only a check that finds none missing counts (and then switches).
CREATE FUNCTION collection_migration_incomplete(p_collection_id integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT ${schema}.collection_generation_incomplete(p_collection_id, b.generation)
      FROM ${schema}.collection_generations b
     WHERE b.collection_id = p_collection_id AND b.state = 'building'
$$;

-- A new building generation of the collection with the model given, and its vector index (an HNSW
-- one now, empty; an IVFFlat one at the switch, trained on its vectors). Returns its number.
CREATE FUNCTION collection_migrate(p_collection_id integer, p_provider text, p_model text, p_dimensions integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    made integer;
BEGIN
    PERFORM 1 FROM ${schema}.collections WHERE id = p_collection_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no collection with id %', p_collection_id USING ERRCODE = 'no_data_found';
    END IF;
    SELECT coalesce(max(g.generation), 0) + 1 INTO made
      FROM ${schema}.collection_generations g WHERE g.collection_id = p_collection_id;
    -- collection_generations_building refuses a second building generation.
    INSERT INTO ${schema}.collection_generations (collection_id, generation, embedding_provider, embedding_model,
                                                  dimensions, state)
    VALUES (p_collection_id, made, p_provider, p_model, p_dimensions, 'building');
    PERFORM ${schema}.ensure_collection_index(p_collection_id, made);
    RETURN made;
END
$$;

-- Makes generation p_to serving and the serving one kept, and copies p_to's model into the
-- collection's row (the serving generation's copy, V25), in one statement's time: a search that read
-- the collection before it searches the generation it read, which is kept and still answers. The
-- vector index of p_to is built first if it has none (IVFFlat). Returns the generation that served.
CREATE FUNCTION collection_switch_generation(p_collection_id integer, p_to integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    was integer;
    g ${schema}.collection_generations%ROWTYPE;
BEGIN
    PERFORM 1 FROM ${schema}.collections WHERE id = p_collection_id FOR NO KEY UPDATE;
    was := ${schema}.serving_generation(p_collection_id);
    g := ${schema}.collection_generation(p_collection_id, p_to);
    IF g.state = 'serving' THEN
        RETURN was;
    END IF;
    PERFORM ${schema}.ensure_collection_index(p_collection_id, p_to);
    UPDATE ${schema}.collection_generations SET state = 'kept', switched_at = now()
     WHERE collection_id = p_collection_id AND generation = was;
    UPDATE ${schema}.collection_generations SET state = 'serving', switched_at = now()
     WHERE collection_id = p_collection_id AND generation = p_to;
    UPDATE ${schema}.collections
       SET embedding_provider = g.embedding_provider, embedding_model = g.embedding_model,
           dimensions = g.dimensions, updated_at = now()
     WHERE id = p_collection_id;
    RETURN was;
END
$$;

-- Deletes generation p_generation (kept, or building: an abandoned migration) with its vectors and
-- its index. The row goes first: a vector write of the generation holds its row FOR KEY SHARE until
-- it commits, so the delete waits for writes under way, and writes after it find no generation and
-- write none of its vectors. Returns the vectors deleted.
CREATE FUNCTION collection_drop_generation(p_collection_id integer, p_generation integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    deleted bigint;
BEGIN
    DELETE FROM ${schema}.collection_generations
     WHERE collection_id = p_collection_id AND generation = p_generation AND state <> 'serving';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'generation % of collection % is serving or does not exist', p_generation, p_collection_id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    DELETE FROM ${schema}.chunk_embeddings WHERE collection_id = p_collection_id AND generation = p_generation;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    EXECUTE format('DROP INDEX IF EXISTS ${schema}.%I', ${schema}.collection_index_name(p_collection_id, p_generation));
    RETURN deleted;
END
$$;
