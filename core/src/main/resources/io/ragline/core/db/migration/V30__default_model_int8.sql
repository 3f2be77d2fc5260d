-- The default embedding model becomes all-MiniLM-L6-v2-q, MiniLM quantised to int8 (issue 17 item 4;
-- docs/benchmarks.md, "int8 against fp32 in the default mode"): within noise of fp32 in hybrid search,
-- the default mode, at about 1.7 times the pipeline's rate. A collection made without a model gets it,
-- and so does the collection 'default' of an installation that has stored nothing in it yet. A
-- 'default' collection that holds documents or vectors keeps its model, whose vectors it holds, and so
-- does one a classifier was trained on (its documents may be gone, its model scores that model's
-- vectors); its operator changes it, if wanted, with `ragline collections migrate default --model
-- all-MiniLM-L6-v2-q`.
SELECT set_config('search_path', '${schema}, public', true);

ALTER TABLE collections ALTER COLUMN embedding_model SET DEFAULT 'all-MiniLM-L6-v2-q';

DO $$
DECLARE
    v_id integer;
BEGIN
    SELECT c.id INTO v_id FROM collections c
     WHERE c.name = 'default' AND c.embedding_provider = 'onnx' AND c.embedding_model = 'all-MiniLM-L6-v2'
       AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.collection_id = c.id)
       AND NOT EXISTS (SELECT 1 FROM chunk_embeddings e WHERE e.collection_id = c.id)
       AND NOT EXISTS (SELECT 1 FROM models m WHERE m.collection_id = c.id);
    IF v_id IS NULL THEN
        RETURN;
    END IF;
    -- With embedding generations (a collection's model is its serving generation's, copied into
    -- collections), the one generation of an empty collection changes first, so the guard on
    -- collections.embedding_model finds the serving generation it names.
    IF to_regclass('collection_generations') IS NOT NULL THEN
        IF (SELECT count(*) FROM collection_generations WHERE collection_id = v_id) <> 1 THEN
            RETURN;
        END IF;
        UPDATE collection_generations SET embedding_model = 'all-MiniLM-L6-v2-q' WHERE collection_id = v_id;
    END IF;
    UPDATE collections SET embedding_model = 'all-MiniLM-L6-v2-q' WHERE id = v_id;
END
$$;
