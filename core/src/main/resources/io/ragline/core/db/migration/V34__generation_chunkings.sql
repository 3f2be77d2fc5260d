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
--                         that first used it (generation numbers are never taken twice)
--   collection_generations.chunking   the chunking of each generation
--   chunks.chunking       which chunking a chunk belongs to; unique (document_id, chunking, seq)
--   collections.chunk_size_tokens / chunk_overlap_tokens   the serving generation's chunking's copy
--                         (as embedding_model is its model's): `collections update --chunk-size`
--                         writes them and a trigger writes them through to that chunking; the
--                         switch copies the new serving chunking into them
--
-- The ingest-worker cuts every live chunking (serving, building, kept) of a document it writes; the
-- embedding-worker cuts the documents a live chunking lacks (those stored before a migration began,
-- and any an ingest transaction in flight at a migrate or a switch missed) from document_texts,
-- under each document's row lock. Completeness is per document for a generation with a chunking of
-- its own: every document with chunks of the serving chunking has chunks of the new one, each with
-- the generation's vector when the document is searchable.
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

-- The default (chunking 1, the one every collection starts with) is for a row inserted by hand, as
-- the functions below always name it.
ALTER TABLE collection_generations ADD COLUMN chunking integer NOT NULL DEFAULT 1;
ALTER TABLE collection_generations
    ADD FOREIGN KEY (collection_id, chunking) REFERENCES collection_chunkings (collection_id, chunking);

ALTER TABLE chunks ADD COLUMN chunking integer NOT NULL DEFAULT 1;
CREATE UNIQUE INDEX chunks_document_chunking_seq_key ON chunks (document_id, chunking, seq);
ALTER TABLE chunks DROP CONSTRAINT chunks_document_id_seq_key,
    ADD CONSTRAINT chunks_document_chunking_seq_key UNIQUE USING INDEX chunks_document_chunking_seq_key;

-- Generation numbers are no longer reused: a stopped migration's number (its rows deleted) could
-- otherwise come again with another chunking, and an embedding write that read the old generation's
-- chunks would take the new one for it. collection_migrate counts them here.
ALTER TABLE collections ADD COLUMN generations_made integer NOT NULL DEFAULT 0;

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
-- generation's chunking, whose chunks it shares), numbered above every generation the collection ever
-- had. A chunking equal to a live one's is that one; another is new, numbered as the generation.
-- Returns the generation's number.
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

-- Whether document p_document_id is ready for generation p_generation of chunking p_chunking (one of
-- its own, not the serving one's): it has chunks of that chunking, and each has the generation's vector
-- if the document is searchable (has a vector of the serving generation, on a chunk of the serving
-- chunking). The one home of that judgement: the completeness check and the progress both ask it.
CREATE FUNCTION chunking_document_ready(p_document_id bigint, p_serving_generation integer,
                                        p_serving_chunking integer, p_generation integer, p_chunking integer)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM ${schema}.chunks x WHERE x.document_id = p_document_id AND x.chunking = p_chunking)
       AND NOT (EXISTS (SELECT 1 FROM ${schema}.chunks ch
                          JOIN ${schema}.chunk_embeddings e ON e.chunk_id = ch.id AND e.generation = p_serving_generation
                         WHERE ch.document_id = p_document_id AND ch.chunking = p_serving_chunking)
                AND EXISTS (SELECT 1 FROM ${schema}.chunks x
                             WHERE x.document_id = p_document_id AND x.chunking = p_chunking
                               AND NOT EXISTS (SELECT 1 FROM ${schema}.chunk_embeddings n
                                                WHERE n.chunk_id = x.id AND n.generation = p_generation)))
$$;

-- Whether generation p_generation lacks what it needs to serve the collection. With the serving
-- chunking (V26, chunk by chunk): a chunk with a serving vector and none of p_generation. With a
-- chunking of its own, document by document: a document with chunks of the serving chunking
-- (`chunked`, `embedded` or `failed`, searchable or not yet) that is not ready for it
-- (chunking_document_ready). Stops at the first; reaches chunks through (document_id, chunking, seq).
-- A generation that does not exist is judged as one with the serving chunking.
CREATE OR REPLACE FUNCTION collection_generation_incomplete(p_collection_id integer, p_generation integer)
RETURNS boolean
LANGUAGE sql STABLE AS $$
    WITH s AS (SELECT ${schema}.serving_generation(p_collection_id) AS generation,
                      ${schema}.serving_chunking(p_collection_id) AS chunking),
         g AS (SELECT coalesce((SELECT chunking FROM ${schema}.collection_generations
                                 WHERE collection_id = p_collection_id AND generation = p_generation),
                               (SELECT chunking FROM s)) AS chunking)
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
                                   WHERE ch.document_id = d.id AND ch.chunking = s.chunking)
                      AND NOT ${schema}.chunking_document_ready(d.id, s.generation, s.chunking, p_generation,
                                                                g.chunking))
                END
      FROM s, g
$$;

-- How far the building generation is. With the serving chunking, in vectors (V26): the searchable
-- chunks and those with a vector of the building generation. With a chunking of its own, in
-- documents: those with chunks of the serving chunking, and those of them ready for it
-- (chunking_document_ready, as collection_generation_incomplete judges), so done = needed exactly when
-- the switch may happen. `unit` says which.
DROP FUNCTION collection_migration_progress(integer);
CREATE FUNCTION collection_migration_progress(p_collection_id integer,
    OUT generation integer, OUT done bigint, OUT needed bigint, OUT unit text)
LANGUAGE sql STABLE AS $$
    WITH s AS (SELECT ${schema}.serving_generation(p_collection_id) AS generation,
                      ${schema}.serving_chunking(p_collection_id) AS chunking),
         b AS (SELECT b.generation, b.chunking FROM ${schema}.collection_generations b
                WHERE b.collection_id = p_collection_id AND b.state = 'building'),
         cut AS (
             SELECT ${schema}.chunking_document_ready(d.id, s.generation, s.chunking, b.generation, b.chunking) AS done
               FROM ${schema}.documents d, s, b
              WHERE d.collection_id = p_collection_id AND b.chunking <> s.chunking
                AND EXISTS (SELECT 1 FROM ${schema}.chunks ch WHERE ch.document_id = d.id AND ch.chunking = s.chunking))
    SELECT b.generation,
           CASE WHEN b.chunking = s.chunking THEN
                (SELECT count(*) FROM ${schema}.chunk_embeddings e
                  WHERE e.collection_id = p_collection_id AND e.generation = s.generation
                    AND EXISTS (SELECT 1 FROM ${schema}.chunk_embeddings n
                                 WHERE n.chunk_id = e.chunk_id AND n.generation = b.generation))
           ELSE (SELECT count(*) FILTER (WHERE cut.done) FROM cut)
           END,
           CASE WHEN b.chunking = s.chunking THEN
                (SELECT count(*) FROM ${schema}.chunk_embeddings e
                  WHERE e.collection_id = p_collection_id AND e.generation = s.generation)
           ELSE (SELECT count(*) FROM cut)
           END,
           CASE WHEN b.chunking = s.chunking THEN 'vectors' ELSE 'documents' END
      FROM b, s
$$;

-- Documents of collection p_collection_id that a live chunking lacks (at most p_limit, oldest first):
-- `chunked`, `embedded` or `failed` (their chunks stay), their text kept, with chunks of another live chunking and none of it. A
-- migration's own chunking lacks those stored before it began; any live chunking lacks a document an
-- ingest in flight at a migrate or a switch cut without it (its chunkings read before). Each is locked
-- FOR UPDATE (the ingest-worker's lock on a document it writes), skipping those locked by another
-- worker or an ingest in flight. Empty when the collection has one chunking. The embedding-worker
-- cuts each from document_texts.
CREATE FUNCTION chunking_owed(p_collection_id integer, p_limit integer)
RETURNS TABLE (document_id bigint, chunking integer)
LANGUAGE sql AS $$
    WITH live AS (SELECT DISTINCT g.chunking FROM ${schema}.collection_generations g
                   WHERE g.collection_id = p_collection_id)
    SELECT d.id, k.chunking
      FROM live k
      JOIN ${schema}.documents d ON d.collection_id = p_collection_id
                                 AND d.status IN ('chunked', 'embedded', 'failed')
     WHERE (SELECT count(*) FROM live) > 1
       AND EXISTS (SELECT 1 FROM ${schema}.document_texts t WHERE t.document_id = d.id)
       AND NOT EXISTS (SELECT 1 FROM ${schema}.chunks x WHERE x.document_id = d.id AND x.chunking = k.chunking)
       AND EXISTS (SELECT 1 FROM ${schema}.chunks ch
                    WHERE ch.document_id = d.id AND ch.chunking <> k.chunking
                      AND ch.chunking IN (SELECT chunking FROM live))
     ORDER BY d.id, k.chunking
     LIMIT p_limit
       FOR UPDATE OF d SKIP LOCKED
$$;

-- The switch, as V26's, also copying p_to's chunking into the collection's row (the serving
-- chunking's copy). documents.chunk_count stays as the ingest-worker wrote it (the chunks it cut for
-- the then serving chunking): an UPDATE of every document here would hold the generation rows, which
-- each embedding write takes after its documents' rows, for the whole collection.
CREATE OR REPLACE FUNCTION collection_switch_generation(p_collection_id integer, p_to integer) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    was integer;
    g ${schema}.collection_generations%ROWTYPE;
    k ${schema}.collection_chunkings%ROWTYPE;
BEGIN
    PERFORM 1 FROM ${schema}.collections WHERE id = p_collection_id FOR NO KEY UPDATE;
    was := ${schema}.serving_generation(p_collection_id);
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
    -- A document whose only chunks are of the chunking going (an ingest that read the chunkings before
    -- a switch cut only the old one) would be left with none: refused until the embedding-worker has
    -- cut it for the serving chunking (chunking_owed, within a sweep's period).
    IF NOT EXISTS (SELECT 1 FROM ${schema}.collection_generations
                    WHERE collection_id = p_collection_id AND chunking = gone)
       AND EXISTS (SELECT 1 FROM ${schema}.documents d
                    WHERE d.collection_id = p_collection_id
                      AND EXISTS (SELECT 1 FROM ${schema}.chunks ch WHERE ch.document_id = d.id AND ch.chunking = gone)
                      AND NOT EXISTS (SELECT 1 FROM ${schema}.chunks ch
                                       WHERE ch.document_id = d.id
                                         AND ch.chunking = ${schema}.serving_chunking(p_collection_id))) THEN
        RAISE EXCEPTION 'collection %: a document has chunks only of the chunking of generation % (cut by an ingest'
            ' that read the chunkings before the switch); the embedding-worker cuts it again within a minute: try'
            ' again then', p_collection_id, p_generation
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
