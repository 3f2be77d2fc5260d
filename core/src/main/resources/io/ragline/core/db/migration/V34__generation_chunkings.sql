-- A migration that changes the chunk size (issue 19 item 5, `collections migrate NAME --chunk-size N`;
-- docs/architecture.md section 11, "Chunkings"). A generation's vectors are of its model AND of its
-- chunking: the chunk size and overlap its chunks were cut with. Generations that share both share
-- their chunks (a model-only migration, as before); a generation with another chunking has chunks
-- of its own, cut from the same text.
--
--   document_texts        each document's normalised text, written with its chunks by the
--                         ingest-worker (the text was not kept before: a document stored before
--                         this migration must be published again before its chunking can change)
--   collection_chunkings  (collection, chunking) -> size and overlap; numbered as the generation
--                         that first used it (a stopped migration's number can come again: its
--                         chunks are all deleted first, see collection_drop_generation)
--   collection_generations.chunking   the chunking of each generation
--   chunks.chunking       which chunking a chunk belongs to; unique (document_id, chunking, seq)
--   collections.chunk_size_tokens / chunk_overlap_tokens   the serving generation's chunking's copy
--                         (as embedding_model is its model's): `collections update --chunk-size`
--                         writes them and a trigger writes them through to that chunking; the
--                         switch copies the new serving chunking into them
--
-- The ingest-worker cuts every live chunking (serving, building, kept) of a document it writes; the
-- embedding-worker cuts the documents a building chunking lacks (those stored before the migration
-- began, and any an ingest transaction in flight at its start missed) from document_texts, under
-- each document's row lock. Completeness is per document for a generation with a chunking of its
-- own: a searchable document is done when it has chunks of that chunking and each has the
-- generation's vector.
--
-- The unique constraint is rebuilt on three columns: CREATE UNIQUE INDEX (not CONCURRENTLY: Flyway
-- runs a migration in a transaction) holds writes to chunks for about a scan of the table.
-- Existing chunks and generations are chunking 1, the collections' current settings; chunks.chunking
-- keeps that constant default (no rewrite, and an older ingest-worker in a rolling upgrade writes
-- chunking 1: finish an upgrade before a migration that changes the chunk size).
SELECT set_config('search_path', '${schema}, public', true);

CREATE TABLE document_texts (
    document_id bigint PRIMARY KEY REFERENCES documents (id) ON DELETE CASCADE,
    content     text NOT NULL
);

CREATE TABLE collection_chunkings (
    collection_id        integer NOT NULL REFERENCES collections (id) ON DELETE CASCADE,
    chunking             integer NOT NULL CHECK (chunking >= 1),
    chunk_size_tokens    integer NOT NULL CHECK (chunk_size_tokens > 0),
    chunk_overlap_tokens integer NOT NULL CHECK (chunk_overlap_tokens >= 0),
    CHECK (chunk_overlap_tokens < chunk_size_tokens),
    PRIMARY KEY (collection_id, chunking)
);
INSERT INTO collection_chunkings (collection_id, chunking, chunk_size_tokens, chunk_overlap_tokens)
SELECT id, 1, chunk_size_tokens, chunk_overlap_tokens FROM collections;

ALTER TABLE collection_generations ADD COLUMN chunking integer NOT NULL DEFAULT 1;
ALTER TABLE collection_generations ALTER COLUMN chunking DROP DEFAULT;
ALTER TABLE collection_generations
    ADD FOREIGN KEY (collection_id, chunking) REFERENCES collection_chunkings (collection_id, chunking);

ALTER TABLE chunks ADD COLUMN chunking integer NOT NULL DEFAULT 1;
CREATE UNIQUE INDEX chunks_document_chunking_seq_key ON chunks (document_id, chunking, seq);
ALTER TABLE chunks DROP CONSTRAINT chunks_document_id_seq_key,
    ADD CONSTRAINT chunks_document_chunking_seq_key UNIQUE USING INDEX chunks_document_chunking_seq_key;

-- The chunking of collection p_collection_id's serving generation.
CREATE FUNCTION serving_chunking(p_collection_id integer) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT chunking FROM ${schema}.collection_generations WHERE collection_id = p_collection_id AND state = 'serving'
$$;

-- A new collection's chunking 1 and generation 1 (with its index), from its row.
CREATE OR REPLACE FUNCTION collection_created() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ${schema}.collection_chunkings (collection_id, chunking, chunk_size_tokens, chunk_overlap_tokens)
    VALUES (NEW.id, 1, NEW.chunk_size_tokens, NEW.chunk_overlap_tokens);
    INSERT INTO ${schema}.collection_generations (collection_id, generation, embedding_provider, embedding_model,
                                                  dimensions, state, chunking)
    VALUES (NEW.id, 1, NEW.embedding_provider, NEW.embedding_model, NEW.dimensions, 'serving', 1);
    PERFORM ${schema}.ensure_collection_index(NEW.id, 1);
    RETURN NULL;
END
$$;

-- `collections update --chunk-size/--chunk-overlap` changes the serving chunking (documents published
-- afterwards are cut with it, as before); the switch's copy into the row changes nothing here.
CREATE FUNCTION collection_chunking_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE ${schema}.collection_chunkings k
       SET chunk_size_tokens = NEW.chunk_size_tokens, chunk_overlap_tokens = NEW.chunk_overlap_tokens
     WHERE k.collection_id = NEW.id AND k.chunking = ${schema}.serving_chunking(NEW.id)
       AND (k.chunk_size_tokens, k.chunk_overlap_tokens)
           IS DISTINCT FROM (NEW.chunk_size_tokens, NEW.chunk_overlap_tokens);
    RETURN NULL;
END
$$;
CREATE TRIGGER collections_chunking_changed
    AFTER UPDATE OF chunk_size_tokens, chunk_overlap_tokens ON collections
    FOR EACH ROW
    WHEN ((OLD.chunk_size_tokens, OLD.chunk_overlap_tokens) IS DISTINCT FROM (NEW.chunk_size_tokens, NEW.chunk_overlap_tokens))
    EXECUTE FUNCTION collection_chunking_changed();

-- A new building generation with the model and the chunking given (null size and overlap: the serving
-- generation's chunking, whose chunks it shares). A chunking equal to a live one's is that one; another
-- is new, numbered as the generation. Returns the generation's number.
CREATE FUNCTION collection_migrate(p_collection_id integer, p_provider text, p_model text, p_dimensions integer,
                                   p_chunk_size integer, p_chunk_overlap integer)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    made integer;
    chunk integer := ${schema}.serving_chunking(p_collection_id);
BEGIN
    PERFORM 1 FROM ${schema}.collections WHERE id = p_collection_id FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no collection with id %', p_collection_id USING ERRCODE = 'no_data_found';
    END IF;
    SELECT coalesce(max(g.generation), 0) + 1 INTO made
      FROM ${schema}.collection_generations g WHERE g.collection_id = p_collection_id;
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
    PERFORM ${schema}.ensure_collection_index(p_collection_id, made);
    RETURN made;
END
$$;

-- V26's form (an older CLI in a rolling upgrade): the serving chunking.
CREATE OR REPLACE FUNCTION collection_migrate(p_collection_id integer, p_provider text, p_model text,
                                              p_dimensions integer)
RETURNS integer
LANGUAGE sql AS $$
    SELECT ${schema}.collection_migrate(p_collection_id, p_provider, p_model, p_dimensions, NULL, NULL)
$$;

-- Whether a searchable document of the collection (one with a vector of the serving generation)
-- lacks what generation p_generation needs to serve it. With the serving chunking: a chunk with a
-- serving vector and none of p_generation (V26, chunk by chunk). With a chunking of its own: the
-- document has no chunk of that chunking, or one without a vector of p_generation. Stops at the
-- first; reaches chunks through (document_id, chunking, seq).
CREATE OR REPLACE FUNCTION collection_generation_incomplete(p_collection_id integer, p_generation integer)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    WITH s AS (SELECT ${schema}.serving_generation(p_collection_id) AS generation,
                      ${schema}.serving_chunking(p_collection_id) AS chunking),
         g AS (SELECT chunking FROM ${schema}.collection_generations
                WHERE collection_id = p_collection_id AND generation = p_generation)
    SELECT CASE WHEN g.chunking = s.chunking THEN EXISTS (
                   SELECT 1 FROM ${schema}.documents d
                     JOIN ${schema}.chunks ch ON ch.document_id = d.id AND ch.chunking = s.chunking
                     JOIN ${schema}.chunk_embeddings e ON e.chunk_id = ch.id AND e.generation = s.generation
                    WHERE d.collection_id = p_collection_id
                      AND NOT EXISTS (SELECT 1 FROM ${schema}.chunk_embeddings n
                                       WHERE n.chunk_id = ch.id AND n.generation = p_generation))
                ELSE EXISTS (
                   SELECT 1 FROM ${schema}.documents d
                    WHERE d.collection_id = p_collection_id
                      AND EXISTS (SELECT 1 FROM ${schema}.chunks ch
                                    JOIN ${schema}.chunk_embeddings e
                                      ON e.chunk_id = ch.id AND e.generation = s.generation
                                   WHERE ch.document_id = d.id AND ch.chunking = s.chunking)
                      AND (NOT EXISTS (SELECT 1 FROM ${schema}.chunks x
                                        WHERE x.document_id = d.id AND x.chunking = g.chunking)
                           OR EXISTS (SELECT 1 FROM ${schema}.chunks x
                                       WHERE x.document_id = d.id AND x.chunking = g.chunking
                                         AND NOT EXISTS (SELECT 1 FROM ${schema}.chunk_embeddings n
                                                          WHERE n.chunk_id = x.id AND n.generation = p_generation))))
                END
      FROM s, g
$$;

-- How far the building generation is. With the serving chunking, in vectors (V26): the searchable
-- chunks and those with a vector of the building generation. With a chunking of its own, in
-- documents: the searchable documents, and those with chunks of the new chunking that all have its
-- vector. `unit` says which.
DROP FUNCTION collection_migration_progress(integer);
CREATE FUNCTION collection_migration_progress(p_collection_id integer,
    OUT generation integer, OUT done bigint, OUT needed bigint, OUT unit text)
LANGUAGE sql STABLE AS $$
    WITH s AS (SELECT ${schema}.serving_generation(p_collection_id) AS generation,
                      ${schema}.serving_chunking(p_collection_id) AS chunking),
         searchable AS (
             SELECT d.id FROM ${schema}.documents d, s
              WHERE d.collection_id = p_collection_id
                AND EXISTS (SELECT 1 FROM ${schema}.chunks ch
                              JOIN ${schema}.chunk_embeddings e ON e.chunk_id = ch.id AND e.generation = s.generation
                             WHERE ch.document_id = d.id AND ch.chunking = s.chunking))
    SELECT b.generation,
           CASE WHEN b.chunking = s.chunking THEN
                (SELECT count(*) FROM ${schema}.chunk_embeddings e
                  WHERE e.collection_id = p_collection_id AND e.generation = s.generation
                    AND EXISTS (SELECT 1 FROM ${schema}.chunk_embeddings n
                                 WHERE n.chunk_id = e.chunk_id AND n.generation = b.generation))
           ELSE
                (SELECT count(*) FROM searchable d
                  WHERE EXISTS (SELECT 1 FROM ${schema}.chunks x WHERE x.document_id = d.id AND x.chunking = b.chunking)
                    AND NOT EXISTS (SELECT 1 FROM ${schema}.chunks x
                                     WHERE x.document_id = d.id AND x.chunking = b.chunking
                                       AND NOT EXISTS (SELECT 1 FROM ${schema}.chunk_embeddings n
                                                        WHERE n.chunk_id = x.id AND n.generation = b.generation)))
           END,
           CASE WHEN b.chunking = s.chunking THEN
                (SELECT count(*) FROM ${schema}.chunk_embeddings e
                  WHERE e.collection_id = p_collection_id AND e.generation = s.generation)
           ELSE (SELECT count(*) FROM searchable)
           END,
           CASE WHEN b.chunking = s.chunking THEN 'vectors' ELSE 'documents' END
      FROM ${schema}.collection_generations b, s
     WHERE b.collection_id = p_collection_id AND b.state = 'building'
$$;

-- Documents of collection p_collection_id that its building generation's own chunking lacks (at most
-- p_limit, oldest first): searchable in the serving generation, with their text kept, and no chunk of
-- that chunking. Each is locked FOR UPDATE (the ingest-worker's lock on a document it writes),
-- skipping those locked by another worker or an ingest in flight; empty when no migration runs or its
-- chunking is the serving one. The embedding-worker cuts each from document_texts.
CREATE FUNCTION chunking_owed(p_collection_id integer, p_limit integer)
RETURNS TABLE (document_id bigint, chunking integer)
LANGUAGE sql AS $$
    SELECT d.id, b.chunking
      FROM ${schema}.collection_generations b
      JOIN ${schema}.documents d ON d.collection_id = b.collection_id AND d.status IN ('chunked', 'embedded')
     WHERE b.collection_id = p_collection_id AND b.state = 'building'
       AND b.chunking <> ${schema}.serving_chunking(p_collection_id)
       AND EXISTS (SELECT 1 FROM ${schema}.document_texts t WHERE t.document_id = d.id)
       AND EXISTS (SELECT 1 FROM ${schema}.chunks ch
                    WHERE ch.document_id = d.id AND ch.chunking = ${schema}.serving_chunking(p_collection_id))
       AND NOT EXISTS (SELECT 1 FROM ${schema}.chunks x WHERE x.document_id = d.id AND x.chunking = b.chunking)
     ORDER BY d.id
     LIMIT p_limit
       FOR UPDATE OF d SKIP LOCKED
$$;

-- The switch, as V26's, also copying p_to's chunking into the collection's row (the serving
-- chunking's copy) and, when the chunking changes, each document's chunk_count.
CREATE OR REPLACE FUNCTION collection_switch_generation(p_collection_id integer, p_to integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    was integer;
    was_chunking integer;
    g ${schema}.collection_generations%ROWTYPE;
    k ${schema}.collection_chunkings%ROWTYPE;
BEGIN
    PERFORM 1 FROM ${schema}.collections WHERE id = p_collection_id FOR NO KEY UPDATE;
    was := ${schema}.serving_generation(p_collection_id);
    was_chunking := ${schema}.serving_chunking(p_collection_id);
    g := ${schema}.collection_generation(p_collection_id, p_to);
    IF g.state = 'serving' THEN
        RETURN was;
    END IF;
    SELECT * INTO k FROM ${schema}.collection_chunkings WHERE collection_id = p_collection_id AND chunking = g.chunking;
    PERFORM ${schema}.ensure_collection_index(p_collection_id, p_to);
    UPDATE ${schema}.collection_generations SET state = 'kept', switched_at = now()
     WHERE collection_id = p_collection_id AND generation = was;
    UPDATE ${schema}.collection_generations SET state = 'serving', switched_at = now()
     WHERE collection_id = p_collection_id AND generation = p_to;
    UPDATE ${schema}.collections
       SET embedding_provider = g.embedding_provider, embedding_model = g.embedding_model,
           dimensions = g.dimensions, chunk_size_tokens = k.chunk_size_tokens,
           chunk_overlap_tokens = k.chunk_overlap_tokens, updated_at = now()
     WHERE id = p_collection_id;
    IF g.chunking <> was_chunking THEN
        UPDATE ${schema}.documents d SET chunk_count = x.n
          FROM (SELECT ch.document_id, count(*)::integer AS n
                  FROM ${schema}.documents dd JOIN ${schema}.chunks ch
                    ON ch.document_id = dd.id AND ch.chunking = g.chunking
                 WHERE dd.collection_id = p_collection_id
                 GROUP BY ch.document_id) x
         WHERE d.id = x.document_id AND d.chunk_count <> x.n;
    END IF;
    RETURN was;
END
$$;

-- The drop, as V26's, also deleting the generation's chunking when no generation has it any more:
-- its chunks (their vectors go with them, chunks_deleted) and its row. The collection's row is then
-- locked FOR UPDATE first: that waits for the ingest transactions and the embedding-worker's cuts in
-- flight (each holds it FOR KEY SHARE and may be cutting that chunking) and holds new ones until this
-- commits, when they no longer see it: no chunk of the chunking is left behind. A drop that leaves the chunking to another generation locks nothing more than V26's.
CREATE OR REPLACE FUNCTION collection_drop_generation(p_collection_id integer, p_generation integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    deleted bigint;
    gone integer;
BEGIN
    SELECT chunking INTO gone FROM ${schema}.collection_generations
     WHERE collection_id = p_collection_id AND generation = p_generation;
    IF gone IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ${schema}.collection_generations
                                         WHERE collection_id = p_collection_id AND generation <> p_generation
                                           AND chunking = gone) THEN
        PERFORM 1 FROM ${schema}.collections WHERE id = p_collection_id FOR UPDATE;
    END IF;
    DELETE FROM ${schema}.collection_generations
     WHERE collection_id = p_collection_id AND generation = p_generation AND state <> 'serving';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'generation % of collection % is serving or does not exist', p_generation, p_collection_id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    DELETE FROM ${schema}.chunk_embeddings WHERE collection_id = p_collection_id AND generation = p_generation;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    EXECUTE format('DROP INDEX IF EXISTS ${schema}.%I', ${schema}.collection_index_name(p_collection_id, p_generation));
    IF NOT EXISTS (SELECT 1 FROM ${schema}.collection_generations
                    WHERE collection_id = p_collection_id AND chunking = gone) THEN
        DELETE FROM ${schema}.chunks ch USING ${schema}.documents d
         WHERE d.collection_id = p_collection_id AND ch.document_id = d.id AND ch.chunking = gone;
        DELETE FROM ${schema}.collection_chunkings WHERE collection_id = p_collection_id AND chunking = gone;
    END IF;
    RETURN deleted;
END
$$;

-- V31's sweep with chunkings: a generation's chunks are those of its chunking. A generation with a
-- chunking of its own is owed a document one of whose chunks of that chunking lacks its vector (a
-- document without any is the embedding-worker's cut's, chunking_owed).
CREATE OR REPLACE FUNCTION request_owed_vectors(p_collection_id integer, p_limit integer, p_after interval) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_count integer;
    v_key_lock text := coalesce(current_setting('ragline.outbox_key_lock', true), '');
BEGIN
    PERFORM set_config('ragline.outbox_key_lock', 'off', true);
    WITH owed AS (
        SELECT g.generation, d.id AS document_id
          FROM ${schema}.collection_generations g
          JOIN ${schema}.collections k ON k.id = g.collection_id
          JOIN ${schema}.documents d ON d.collection_id = g.collection_id AND d.status = 'embedded'
         WHERE g.collection_id = p_collection_id AND k.status = 'active'
           AND (g.state <> 'building' OR g.created_at <= now() - p_after)
           AND CASE WHEN g.state = 'serving' OR g.chunking <> ${schema}.serving_chunking(p_collection_id) THEN
                    EXISTS (SELECT 1 FROM ${schema}.chunks ch
                             WHERE ch.document_id = d.id AND ch.chunking = g.chunking
                               AND NOT EXISTS (SELECT 1 FROM ${schema}.chunk_embeddings n
                                                WHERE n.chunk_id = ch.id AND n.generation = g.generation))
                ELSE
                    EXISTS (SELECT 1 FROM ${schema}.chunks ch
                              JOIN ${schema}.chunk_embeddings s
                                ON s.chunk_id = ch.id AND s.generation = ${schema}.serving_generation(p_collection_id)
                             WHERE ch.document_id = d.id AND ch.chunking = g.chunking
                               AND NOT EXISTS (SELECT 1 FROM ${schema}.chunk_embeddings n
                                                WHERE n.chunk_id = ch.id AND n.generation = g.generation))
                END
           AND NOT EXISTS (SELECT 1 FROM ${schema}.generation_refusals f
                            WHERE f.collection_id = g.collection_id AND f.generation = g.generation
                              AND f.document_id = d.id AND f.document_version = d.version)
           AND NOT EXISTS (SELECT 1 FROM ${schema}.generation_asks a
                            WHERE a.collection_id = g.collection_id AND a.generation = g.generation
                              AND a.document_id = d.id
                              AND a.asked_at > now() - p_after * power(2, least(a.asks - 1, 6)))
           AND NOT EXISTS (SELECT 1 FROM ${schema}.outbox o
                            WHERE o.topic = 'embedding-requests' AND o.key = k.name || '/' || d.external_id)
         ORDER BY d.id, g.generation
         LIMIT p_limit
    ), asked AS (
        -- a data-modifying WITH runs once whether or not the statement reads it
        INSERT INTO ${schema}.generation_asks AS a (collection_id, generation, document_id, asks, asked_at)
        SELECT p_collection_id, o.generation, o.document_id, 1, now() FROM owed o
        ON CONFLICT (collection_id, generation, document_id)
        DO UPDATE SET asks = a.asks + 1, asked_at = now()
    )
    INSERT INTO ${schema}.outbox (topic, key, payload)
    SELECT 'embedding-requests', k.name || '/' || d.external_id, ${schema}.embedding_request_message(d, k)
      FROM ${schema}.documents d JOIN ${schema}.collections k ON k.id = d.collection_id
     WHERE d.id IN (SELECT o.document_id FROM owed o)
     ORDER BY d.id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    PERFORM set_config('ragline.outbox_key_lock', v_key_lock, true);
    RETURN v_count;
END
$$;
