-- The embedding-worker's cut of the documents a live chunking lacks walks the collection once per
-- pass instead of from its first document every time (docs/architecture.md section 11, "Chunkings").
-- V34's chunking_owed(collection, limit) started at the lowest document id on every call: the cut of
-- a collection in batches of 100 read again every document already cut (quadratic in its size), and
-- once every document was cut each 2-second check of the migration read the whole collection to find
-- nothing. chunking_owed(collection, from, limit) starts at document id p_from (inclusive: a document
-- whose chunkings the limit split is taken up again); the worker passes the last id it was given,
-- and starts a new pass from 0 only when one is due (MigrationSwitcher). The conditions on each
-- document are a LATERAL subquery of it, so they are index probes of that document's rows from p_from
-- on: as joins (V34's form), the planner merged them with whole scans of document_texts and chunks'
-- index, which read the collection however late the walk starts (docs/benchmarks.md, "The cut for a
-- new chunk size").
CREATE FUNCTION ${schema}.chunking_owed(p_collection_id integer, p_from bigint, p_limit integer)
RETURNS TABLE (document_id bigint, chunking integer)
LANGUAGE sql AS $$
    WITH live AS (SELECT DISTINCT g.chunking FROM ${schema}.collection_generations g
                   WHERE g.collection_id = p_collection_id)
    SELECT d.id, k.chunking
      FROM ${schema}.documents d
     CROSS JOIN LATERAL (
            SELECT l.chunking FROM live l
             WHERE EXISTS (SELECT 1 FROM ${schema}.document_texts t WHERE t.document_id = d.id)
               AND NOT EXISTS (SELECT 1 FROM ${schema}.chunks x WHERE x.document_id = d.id AND x.chunking = l.chunking)
               AND EXISTS (SELECT 1 FROM ${schema}.chunks ch
                            WHERE ch.document_id = d.id AND ch.chunking <> l.chunking
                              AND ch.chunking IN (SELECT chunking FROM live))) k
     WHERE d.collection_id = p_collection_id
       AND d.id >= p_from
       AND d.status IN ('chunked', 'embedded', 'failed')
       AND (SELECT count(*) FROM live) > 1
     ORDER BY d.id, k.chunking
     LIMIT p_limit
       FOR UPDATE OF d SKIP LOCKED
$$;

-- V34's form: the whole collection, from its first document.
CREATE OR REPLACE FUNCTION ${schema}.chunking_owed(p_collection_id integer, p_limit integer)
RETURNS TABLE (document_id bigint, chunking integer)
LANGUAGE sql AS $$
    SELECT * FROM ${schema}.chunking_owed(p_collection_id, 0, p_limit)
$$;
