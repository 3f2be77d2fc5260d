package io.ragline.embeddings.chunking;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Puts a document's new chunks of one chunking ({@code chunks.chunking}, V34) in place of its old
 * ones, in the caller's transaction and under the document's row lock, keeping every row whose text comes again: its id stays, so its vector
 * in {@code chunk_embeddings} stays, and the embedding-worker embeds only the chunks without one.
 * Texts are matched by {@code text_hash} (the SHA-256 of the rendered text, what the model
 * embeds), one to one: a text twice in the new cut keeps at most as many rows as held it before.
 * A kept row moves to its new {@code seq} and keeps its {@code document_version} (the version
 * that cut it); rows whose text is gone are deleted (their vectors with them, by the {@code
 * chunks_deleted} trigger); new texts are inserted.
 */
public final class ChunkWriter {
    private ChunkWriter() {}

    /** A stored chunk row. A row without a hash (written by hand) matches nothing. */
    public record Stored(long id, int seq, byte[] hash) {}

    /**
     * What to do: delete the rows {@code deleted}; move the row {@code moved.get(i)} to seq {@code
     * movedTo.get(i)}; insert the new chunks at the indexes {@code inserted}. Rows kept at their
     * seq are in none of them; {@code kept} counts every kept row; {@code stored} is one more than the
     * highest seq stored.
     */
    public record Plan(
            List<Long> deleted,
            List<Long> moved,
            List<Integer> movedTo,
            List<Integer> inserted,
            int kept,
            int stored) {}

    /** The plan that turns {@code stored} (in seq order) into chunks with {@code hashes}, in order. */
    public static Plan plan(List<Stored> stored, List<byte[]> hashes) {
        Map<ByteBuffer, ArrayDeque<Stored>> byHash = new HashMap<>();
        for (Stored s : stored) {
            if (s.hash != null) {
                byHash.computeIfAbsent(ByteBuffer.wrap(s.hash), h -> new ArrayDeque<>())
                        .add(s);
            }
        }
        List<Long> moved = new ArrayList<>();
        List<Integer> movedTo = new ArrayList<>();
        List<Integer> inserted = new ArrayList<>();
        Map<Long, Boolean> keptIds = new HashMap<>();
        for (int seq = 0; seq < hashes.size(); seq++) {
            ArrayDeque<Stored> same = byHash.get(ByteBuffer.wrap(hashes.get(seq)));
            Stored match = same == null ? null : same.poll();
            if (match == null) {
                inserted.add(seq);
                continue;
            }
            keptIds.put(match.id, true);
            if (match.seq != seq) {
                moved.add(match.id);
                movedTo.add(seq);
            }
        }
        List<Long> deleted = new ArrayList<>();
        int above = 0;
        for (Stored s : stored) {
            above = Math.max(above, s.seq + 1);
            if (!keptIds.containsKey(s.id)) {
                deleted.add(s.id);
            }
        }
        return new Plan(deleted, moved, movedTo, inserted, keptIds.size(), above);
    }

    /**
     * Writes {@code chunks} as the chunks of chunking {@code chunking} of document {@code
     * documentId}: all of them if {@code isNew}, else only what {@link #plan} finds changed.
     */
    public static Plan write(
            Connection c,
            long documentId,
            int collectionId,
            long version,
            int chunking,
            List<RecursiveChunker.Chunk> chunks,
            boolean isNew)
            throws SQLException {
        List<byte[]> hashes = new ArrayList<>(chunks.size());
        chunks.forEach(ch -> hashes.add(sha256(ch.text())));
        Plan plan = plan(isNew ? List.of() : stored(c, documentId, chunking), hashes);
        if (!plan.deleted.isEmpty()) {
            try (PreparedStatement s = c.prepareStatement("delete from chunks where id = any(?)")) {
                s.setArray(1, c.createArrayOf("bigint", plan.deleted.toArray()));
                s.executeUpdate();
            }
        }
        if (!plan.moved.isEmpty()) {
            // In two steps, so that no row takes a seq another still holds (unique per document,
            // and never negative): first each to its seq plus an offset past every seq, then back.
            int offset = hashes.size() + plan.stored;
            try (PreparedStatement s = c.prepareStatement(
                    "update chunks set seq = ? + m.seq from unnest(?, ?)" + " as m(id, seq) where chunks.id = m.id")) {
                s.setInt(1, offset);
                s.setArray(2, c.createArrayOf("bigint", plan.moved.toArray()));
                s.setArray(3, c.createArrayOf("integer", plan.movedTo.toArray()));
                s.executeUpdate();
            }
            try (PreparedStatement s = c.prepareStatement(
                    "update chunks set seq = seq - ? where document_id = ? and chunking = ? and seq >= ?")) {
                s.setInt(1, offset);
                s.setLong(2, documentId);
                s.setInt(3, chunking);
                s.setInt(4, offset);
                s.executeUpdate();
            }
        }
        if (!plan.inserted.isEmpty()) {
            try (PreparedStatement s = c.prepareStatement("insert into chunks (document_id, collection_id,"
                    + " document_version, seq, content, token_count, text_hash, chunking) values (?, ?, ?, ?, ?, ?, ?,"
                    + " ?)")) {
                for (int seq : plan.inserted) {
                    s.setLong(1, documentId);
                    s.setInt(2, collectionId);
                    s.setLong(3, version);
                    s.setInt(4, seq);
                    s.setString(5, chunks.get(seq).text());
                    s.setInt(6, chunks.get(seq).tokens());
                    s.setBytes(7, hashes.get(seq));
                    s.setInt(8, chunking);
                    s.addBatch();
                }
                s.executeBatch();
            }
        }
        return plan;
    }

    private static List<Stored> stored(Connection c, long documentId, int chunking) throws SQLException {
        List<Stored> stored = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(
                "select id, seq, text_hash from chunks where document_id = ? and chunking = ? order by seq")) {
            s.setLong(1, documentId);
            s.setInt(2, chunking);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    stored.add(new Stored(rs.getLong(1), rs.getInt(2), rs.getBytes(3)));
                }
            }
        }
        return stored;
    }

    /** The SHA-256 of {@code text} as UTF-8: {@code chunks.text_hash} (migration V15 computes the same). */
    public static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
