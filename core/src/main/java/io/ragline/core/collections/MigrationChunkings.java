package io.ragline.core.collections;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;

/**
 * What {@link CollectionMigrations} asks about chunkings (V34; docs/architecture.md section 11,
 * "Chunkings"): the chunking a migration asks for, whether a live one has it, the refusal while
 * documents lack a kept text, and the lock a rollback or prune takes when it may drop a chunking.
 */
final class MigrationChunkings {
    private MigrationChunkings() {}

    /**
     * The chunking asked for as {size, overlap}, or null when none is asked or it is the serving
     * one's. @throws CollectionException INVALID naming the bad field
     */
    static int[] chunking(Collection stored, Integer size, Integer overlap) throws CollectionException {
        if (size == null && overlap == null) {
            return null;
        }
        int s = size != null ? size : stored.chunkSizeTokens();
        int o = overlap != null ? overlap : stored.chunkOverlapTokens() < s ? stored.chunkOverlapTokens() : s / 8;
        Map<String, String> errors = new java.util.LinkedHashMap<>();
        if (s < 1) {
            errors.put("chunk_size_tokens", "must be at least 1, was " + s);
        }
        if (o < 0) {
            errors.put("chunk_overlap_tokens", "must not be negative, was " + o);
        } else if (s >= 1 && o >= s) {
            errors.put("chunk_overlap_tokens", "must be below the chunk size (" + s + "), was " + o);
        }
        if (!errors.isEmpty()) {
            throw CollectionException.invalid(errors);
        }
        return s == stored.chunkSizeTokens() && o == stored.chunkOverlapTokens() ? null : new int[] {s, o};
    }

    /**
     * Refuses a new chunking while a searchable document of {@code stored} has no kept text: it
     * cannot be cut again, and the new generation could never serve it.
     */
    static void refuseWithoutText(Connection c, Collection stored) throws SQLException, CollectionException {
        try (PreparedStatement s = c.prepareStatement("select count(*), (array_agg(d.external_id order by d.id))[1:3]"
                + " from documents d where d.collection_id = ? and d.status in ('chunked', 'embedded', 'failed') and"
                + " not exists"
                + " (select 1 from document_texts t where t.document_id = d.id)")) {
            s.setInt(1, stored.id());
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                long n = rs.getLong(1);
                if (n > 0) {
                    throw CollectionException.conflict(n + " document(s) of collection '" + stored.name() + "' (such"
                            + " as "
                            + String.join(", ", (String[]) rs.getArray(2).getArray()) + ") were stored"
                            + " before Ragline kept each document's text, so they cannot be cut again: publish them"
                            + " again (unchanged content is enough) or delete them, then migrate");
                }
            }
        }
    }

    /** The live chunking of collection {@code collectionId} with this size and overlap, or null. */
    static Integer liveChunking(Connection c, int collectionId, int size, int overlap) throws SQLException {
        return Chunking.live(c, collectionId).stream()
                .filter(k -> k.sameAs(size, overlap))
                .map(Chunking::number)
                .findFirst()
                .orElse(null);
    }

    /**
     * Collection {@code name} locked for a rollback or ({@code prune}) a prune: {@code FOR NO KEY
     * UPDATE} (documents keep arriving; a migrate waits), then, when a drop may delete a chunking (a
     * prune, or a rollback that stops a running migration, and its generations have more than one), {@code FOR UPDATE}, before any generation row: the drop
     * waits for the ingest transactions and cuts in flight, and taking that lock after the
     * generation rows would close a cycle with an ingest that waits for a document an embedding
     * write holds, which waits for the generation rows.
     */
    static Collection lockedForDrop(Connection c, String name, boolean prune) throws SQLException, CollectionException {
        Collection stored = CollectionRegistry.lockedNoKey(c, name);
        // Under that lock no migrate runs: a rollback drops only a running migration's generation.
        if (!prune && CollectionMigrations.building(c, stored.id()).isEmpty()) {
            return stored;
        }
        try (PreparedStatement s = c.prepareStatement(
                "select count(distinct chunking) > 1 from collection_generations where collection_id = ?")) {
            s.setInt(1, stored.id());
            try (ResultSet rs = s.executeQuery()) {
                if (rs.next() && rs.getBoolean(1)) {
                    return CollectionRegistry.locked(c, name);
                }
            }
        }
        return stored;
    }

    static int servingChunking(Connection c, int collectionId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select serving_chunking(?)")) {
            s.setInt(1, collectionId);
            return CollectionMigrations.single(s);
        }
    }

    static int searchableDocuments(Connection c, int collectionId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select count(*)::integer from documents where collection_id = ?"
                + " and status in ('chunked', 'embedded')")) {
            s.setInt(1, collectionId);
            return CollectionMigrations.single(s);
        }
    }
}
