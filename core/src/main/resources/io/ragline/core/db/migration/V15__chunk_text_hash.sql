-- Only changed chunks are embedded again. A document updated used to lose every chunk, and so
-- every vector (the chunks_deleted trigger), and the embedding-worker computed them all again.
-- Now the ingest-worker keeps the chunk rows whose text it cuts again (the same id, so the same
-- vector in chunk_embeddings), deletes those whose text is gone and inserts the new ones; the
-- embedding-worker embeds only the chunks that have no vector of the collection's model.
--
-- text_hash is the SHA-256 of the chunk's content as UTF-8. content is the rendered text (the
-- collection's template around the chunk, title included), exactly what the model embeds, so two
-- chunks of a document with the same hash give the same vector under the same model. The
-- ingest-worker writes it with every chunk; a row written without one (by hand) is never matched,
-- so it is cut and embedded again on its document's next update.
SELECT set_config('search_path', '${schema}, public', true);

ALTER TABLE chunks ADD COLUMN text_hash bytea;

-- sha256() is built in since PostgreSQL 11 (no pgcrypto); convert_to gives UTF-8 whatever the
-- database's encoding, as Java's getBytes(UTF_8) does.
UPDATE chunks SET text_hash = sha256(convert_to(content, 'UTF8'));
