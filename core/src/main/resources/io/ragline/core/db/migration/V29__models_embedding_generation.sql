-- A builtin classifier is trained on one embedding generation's vectors (issue 19 item 5, review
-- finding 4; docs/architecture.md section 12): after a model migration switches the collection, the
-- classifier must keep scoring vectors of the model it learned from, not the new serving one's (of
-- the same dimensions it would score them silently and wrongly). The generation and its model are
-- recorded with the model; predictions read that generation's vectors while it exists with that
-- model, and `collections prune` refuses to drop it while a deployed model depends on it (--force
-- drops it, and that model's predictions stop).
SELECT set_config('search_path', '${schema}, public', true);

ALTER TABLE models ADD COLUMN embedding_generation integer, ADD COLUMN embedding_model text;

-- Builtin models trained before this release were trained on their collection's vectors of then,
-- which are generation 1's: V25 and this migration ship in one release, so no collection has been
-- migrated yet where models exist.
UPDATE models m SET embedding_generation = g.generation, embedding_model = g.embedding_model
  FROM collection_generations g
 WHERE m.backend = 'builtin' AND g.collection_id = m.collection_id AND g.state = 'serving';

-- The deployed models that score generation p_generation of the collection: a prune of it is refused
-- unless forced.
CREATE FUNCTION generation_dependants(p_collection_id integer, p_generation integer)
RETURNS TABLE (model_id bigint, project text)
LANGUAGE sql STABLE AS $$
    SELECT m.id, m.project
      FROM ${schema}.models m
      JOIN ${schema}.collection_generations g
        ON g.collection_id = m.collection_id AND g.generation = m.embedding_generation
       AND g.embedding_model = m.embedding_model
     WHERE m.deployed AND m.collection_id = p_collection_id AND m.embedding_generation = p_generation
     ORDER BY m.id
$$;
