-- The self-healing sweep of a migration (issue 19 item 5, review finding 3; docs/architecture.md
-- section 11, "Embedding generations"). A building or kept generation's model that fails for a while
-- (unavailable, or refusing the worker: its key, URL or model) no longer fails the batch: the serving
-- vectors are written and that generation's are owed. Any document left without a live non-serving
-- generation's vector (those, and any a race let slip past) is asked for again through the normal
-- embedding requests by the embedding-worker's MigrationSwitcher, one worker per collection at a
-- time, a bounded number per pass, with a doubling wait per document so that a backfill still in
-- Kafka is not asked for over and over. Refusals (generation_refusals, V27) are never asked again.
SELECT set_config('search_path', '${schema}, public', true);

-- When the sweep last asked for a document's vectors of a generation, and how many times: the next
-- ask waits p_after * 2^(asks - 1), at most 64 times p_after. A migrate's own backfill counts as the
-- first ask, made when the generation was created.
CREATE TABLE generation_asks (
    collection_id integer NOT NULL,
    generation    integer NOT NULL,
    document_id   bigint NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    asks          integer NOT NULL CHECK (asks >= 1),
    asked_at      timestamptz NOT NULL,
    PRIMARY KEY (collection_id, generation, document_id),
    FOREIGN KEY (collection_id, generation) REFERENCES collection_generations (collection_id, generation)
        ON DELETE CASCADE
);
CREATE INDEX generation_asks_document ON generation_asks (document_id);

-- Writes an embedding request to the outbox for each embedded document of the collection (at most
-- p_limit asks) one of whose searchable chunks (with a vector of the serving generation) lacks a
-- vector of a building or kept generation, unless: the collection is not active (a paused one's
-- requests wait; the sweep after its resume asks); the generation refused the document's version
-- for good; a request for the document waits in the outbox already; or it was asked less than its
-- wait ago (a building generation younger than p_after: its migrate's backfill is still coming).
-- Returns the documents asked for. The writer writes only the vectors a document lacks, so a request
-- that meets one already written (in Kafka when the sweep ran) writes nothing.
CREATE FUNCTION request_owed_vectors(p_collection_id integer, p_limit integer, p_after interval) RETURNS integer
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
         WHERE g.collection_id = p_collection_id AND g.state <> 'serving' AND k.status = 'active'
           AND (g.state <> 'building' OR g.created_at <= now() - p_after)
           AND EXISTS (SELECT 1 FROM ${schema}.chunks ch
                         JOIN ${schema}.chunk_embeddings s
                           ON s.chunk_id = ch.id AND s.generation = ${schema}.serving_generation(p_collection_id)
                        WHERE ch.document_id = d.id
                          AND NOT EXISTS (SELECT 1 FROM ${schema}.chunk_embeddings n
                                           WHERE n.chunk_id = ch.id AND n.generation = g.generation))
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
