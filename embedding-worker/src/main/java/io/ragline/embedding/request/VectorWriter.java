package io.ragline.embedding.request;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import org.postgresql.PGConnection;

/**
 * Writes the vectors of chunks into {@code chunk_embeddings} with one binary {@code COPY}: one
 * statement per batch however many rows, no text formatting of floats, and each row an insert
 * (not an update of the wide chunk row). pgvector's binary form of a vector is int16 dimensions,
 * int16 zero, then the floats.
 *
 * <p>The chunks must have no vector yet (the primary key refuses a second one): the caller holds
 * the document's row lock and writes the vectors of a version that has none.
 */
public final class VectorWriter {
    private static final byte[] HEADER = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xFF, '\r', '\n', 0};

    static final String COPY =
            "copy chunk_embeddings (chunk_id, collection_id, generation, embedding, model) from stdin (format binary)";

    private VectorWriter() {}

    /** The vectors of some chunks of one collection's embedding generation, computed by its model. */
    public record Rows(int collectionId, int generation, List<Long> chunkIds, List<float[]> vectors, String model) {
        public Rows {
            if (chunkIds.size() != vectors.size()) {
                throw new IllegalArgumentException(chunkIds.size() + " chunks but " + vectors.size() + " vectors");
            }
        }
    }

    /**
     * Inserts one vector per chunk of {@code chunkIds} (all of {@code collectionId}) into its
     * generation 1, in the caller's transaction.
     */
    public static long write(Connection c, int collectionId, List<Long> chunkIds, List<float[]> vectors, String model)
            throws SQLException, IOException {
        return write(c, List.of(new Rows(collectionId, 1, chunkIds, vectors, model)));
    }

    /** Inserts the vectors of every group with one {@code COPY}, in the caller's transaction. */
    public static long write(Connection c, List<Rows> groups) throws SQLException, IOException {
        int size = HEADER.length + 8 + 2;
        for (Rows g : groups) {
            int modelBytes = g.model.getBytes(StandardCharsets.UTF_8).length;
            for (float[] v : g.vectors) {
                size += 2 + (4 + 8) + (4 + 4) + (4 + 4) + (4 + 4 + 4 * v.length) + (4 + modelBytes);
            }
        }
        if (size == HEADER.length + 8 + 2) {
            return 0;
        }
        // One exact buffer, filled in bulk: a DataOutputStream over a ByteArrayOutputStream takes
        // a synchronized call per byte group, and at 384 floats per row that was most of the time.
        ByteBuffer out = ByteBuffer.allocate(size); // big-endian, as COPY's binary format is
        out.put(HEADER).putInt(0).putInt(0); // flags, header extension
        for (Rows g : groups) {
            byte[] model = g.model.getBytes(StandardCharsets.UTF_8);
            for (int i = 0; i < g.chunkIds.size(); i++) {
                float[] v = g.vectors.get(i);
                out.putShort((short) 5); // fields
                out.putInt(8).putLong(g.chunkIds.get(i));
                out.putInt(4).putInt(g.collectionId);
                out.putInt(4).putInt(g.generation);
                out.putInt(4 + 4 * v.length).putShort((short) v.length).putShort((short) 0);
                out.asFloatBuffer().put(v);
                out.position(out.position() + 4 * v.length);
                out.putInt(model.length).put(model);
            }
        }
        out.putShort((short) -1);
        return c.unwrap(PGConnection.class)
                .getCopyAPI()
                .copyIn(COPY, new ByteArrayInputStream(out.array(), 0, out.position()));
    }
}
