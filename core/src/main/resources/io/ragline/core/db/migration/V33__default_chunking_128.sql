-- The default chunking becomes 128 tokens with 16 of overlap (256 and 32 before; issue 17 item 4,
-- docs/benchmarks.md "Chunk size and overlap, chosen on long documents"): within noise of 256/32 on
-- Debian's package descriptions (mostly one chunk each), as good in hybrid search and as good or
-- better in vector search on long manual pages, and 1.0-1.2 times the corpus rate depending on the corpus. A
-- collection made without a chunking gets it, and so does the collection 'default' of an
-- installation that has stored nothing in it yet. A 'default' collection that holds documents or
-- vectors keeps its chunking, the one its chunks were cut with, and so does one a classifier was
-- trained on; its operator changes it, if wanted, with `ragline collections update default
-- --chunk-size 128 --chunk-overlap 16`, which applies to content published after it (unchanged
-- content published again is skipped: delete and publish again to cut it anew).
--
-- The ALTERs stay before the UPDATE: ALTER TABLE takes an ACCESS EXCLUSIVE lock on collections, so
-- it waits for every ingest transaction in flight (each holds a lock on its collection's row and on
-- the table) and the UPDATE's NOT EXISTS then sees every document they committed. Workers cache a
-- collection's settings for up to 10 s, so a document published into an empty 'default' in those
-- seconds can still be cut 256/32 (docs/operations.md, "Rolling upgrades").
SELECT set_config('search_path', '${schema}, public', true);

ALTER TABLE collections ALTER COLUMN chunk_size_tokens SET DEFAULT 128;
ALTER TABLE collections ALTER COLUMN chunk_overlap_tokens SET DEFAULT 16;

UPDATE collections c
   SET chunk_size_tokens = 128, chunk_overlap_tokens = 16
 WHERE c.name = 'default' AND c.chunk_size_tokens = 256 AND c.chunk_overlap_tokens = 32
   AND NOT EXISTS (SELECT 1 FROM documents d WHERE d.collection_id = c.id)
   AND NOT EXISTS (SELECT 1 FROM chunk_embeddings e WHERE e.collection_id = c.id)
   AND NOT EXISTS (SELECT 1 FROM models m WHERE m.collection_id = c.id);
