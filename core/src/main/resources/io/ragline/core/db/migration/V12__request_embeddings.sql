-- The SQL home of the embedding-requests payload (its Java home is EmbeddingRequestCodec in
-- ragline-contracts; OutboxIT holds the two to the same message). Writes one request per document
-- of the collection in p_status, in the caller's transaction, and returns how many. Used by every
-- bulk re-request: `ragline collections update NAME --status active` (Outbox.requestEmbeddings), and
-- any SQL client. Their order against a concurrent ingest does not matter (a request names its
-- version, and an older one is obsolete), so the per-key lock of the outbox trigger is not taken
-- for these rows (a large collection would otherwise hold a lock per document); the caller's own
-- setting is back in force afterwards.
SELECT set_config('search_path', '${schema}, public', true);

CREATE FUNCTION embedding_request_message(d documents, k collections) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object(
        'schema_version', 1,
        'collection', k.name,
        'id', d.external_id,
        'document', d.id,
        'version', d.version)
$$;

CREATE FUNCTION request_embeddings(p_collection text, p_status text DEFAULT 'chunked') RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
    v_count integer;
    v_key_lock text := coalesce(current_setting('ragline.outbox_key_lock', true), '');
BEGIN
    PERFORM set_config('ragline.outbox_key_lock', 'off', true);
    INSERT INTO ${schema}.outbox (topic, key, payload)
    SELECT 'embedding-requests', k.name || '/' || d.external_id, ${schema}.embedding_request_message(d, k)
      FROM ${schema}.documents d JOIN ${schema}.collections k ON k.id = d.collection_id
     WHERE k.name = p_collection AND d.status = p_status
     ORDER BY d.id;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    PERFORM set_config('ragline.outbox_key_lock', v_key_lock, true);
    RETURN v_count;
END
$$;
