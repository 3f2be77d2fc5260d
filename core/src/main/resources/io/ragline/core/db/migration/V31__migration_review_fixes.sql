-- Second review of the model migration (issue 19 item 5; docs/architecture.md section 11,
-- "Embedding generations"; docs/operations.md, "Migrating a collection to another model").
--
-- 1. chunk_embeddings gets an index on (collection_id, generation): a migration's progress counts
--    one generation of one collection, and whether a generation has any vector at all decides whether
--    an IVFFlat one needs an index; without it both read every collection's vectors. CREATE INDEX
--    (not CONCURRENTLY: Flyway runs a migration in a transaction) holds writes to chunk_embeddings
--    for the build, about as long as a scan of the table.
-- 2. collection_index_missing (V27) no longer counts the generation's vectors (V25's
--    collection_index_ddl did): the index's name and, for IVFFlat, whether one vector exists. The
--    embedding-worker asks it before taking any lock, every 2 s, while a migration waits for its index.
-- 3. request_owed_vectors (V28) also asks again for an embedded document one of whose chunks lacks a
--    vector of the SERVING generation: a write whose outcome for a generation was owed and that
--    committed across a switch (or, before this fix, across a rollback) leaves one, and the sweep
--    looked only at chunks that have a serving vector. The writer writes every generation's vector a
--    document lacks, the serving one included.
SELECT set_config('search_path', '${schema}, public', true);

CREATE INDEX chunk_embeddings_collection_generation ON chunk_embeddings (collection_id, generation);

-- Whether generation p_generation of the collection lacks a vector index it can have: false when the
-- index exists, and for an IVFFlat generation without vectors (nothing to train on: no index needed).
-- No count: the index's name, the collection's index type, and one vector found through the index above.
CREATE OR REPLACE FUNCTION collection_index_missing(p_collection_id integer, p_generation integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT to_regclass(format('${schema}.%I', ${schema}.collection_index_name(p_collection_id, p_generation))) IS NULL
       AND (k.index_type <> 'ivfflat'
            OR EXISTS (SELECT 1 FROM ${schema}.chunk_embeddings e
                        WHERE e.collection_id = p_collection_id AND e.generation = p_generation))
      FROM ${schema}.collections k
     WHERE k.id = p_collection_id
$$;

-- A building generation whose switch waits for its index: the embedding-worker asks it before taking
-- any lock and, when true, says so without locking anything; the schema owner's `ragline collections
-- reindex NAME` builds the index (a statement as long as the whole generation's scan, which the
-- worker's pool, with its socket timeout, would cut and retry forever). False when no migration runs.
CREATE FUNCTION collection_migration_awaits_index(p_collection_id integer) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT ${schema}.collection_index_missing(p_collection_id, b.generation)
                       FROM ${schema}.collection_generations b
                      WHERE b.collection_id = p_collection_id AND b.state = 'building'), false)
$$;

-- V28's sweep, which also asks for documents lacking a vector of the serving generation (see 3. above).
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
           AND CASE WHEN g.state = 'serving' THEN
                    EXISTS (SELECT 1 FROM ${schema}.chunks ch
                             WHERE ch.document_id = d.id
                               AND NOT EXISTS (SELECT 1 FROM ${schema}.chunk_embeddings n
                                                WHERE n.chunk_id = ch.id AND n.generation = g.generation))
                ELSE
                    EXISTS (SELECT 1 FROM ${schema}.chunks ch
                              JOIN ${schema}.chunk_embeddings s
                                ON s.chunk_id = ch.id AND s.generation = ${schema}.serving_generation(p_collection_id)
                             WHERE ch.document_id = d.id
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
