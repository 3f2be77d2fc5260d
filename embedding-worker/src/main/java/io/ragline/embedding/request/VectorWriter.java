package io.ragline.embedding.request;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.postgresql.PGConnection;

/**
 * Writes vectors into {@code chunks} with one binary {@code COPY} into a session temporary table
 * (emptied at commit) and one {@code UPDATE ... FROM} join: two statements per batch however many
 * rows, and no text formatting of floats. pgvector's binary form of a vector is int16 dimensions,
 * int16 zero, then the floats.
 */
public final class VectorWriter {
    private static final byte[] HEADER = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xFF, '\r', '\n', 0};

    /** Parameters: the model, the chunk ids as {@code bigint[]}. */
    static final String UPDATE = "update chunks ch set embedding = v.embedding, model = ?, embedded_at = now()"
            + " from pg_temp.ragline_vectors v where ch.id = v.id and ch.id = any(?)";

    private VectorWriter() {}

    /** Sets the embedding, model and time of each chunk in {@code chunkIds}, in the caller's transaction. */
    public static int write(Connection c, List<Long> chunkIds, List<float[]> vectors, String model)
            throws SQLException, IOException {
        if (chunkIds.size() != vectors.size()) {
            throw new IllegalArgumentException(chunkIds.size() + " chunks but " + vectors.size() + " vectors");
        }
        if (chunkIds.isEmpty()) {
            return 0;
        }
        try (Statement s = c.createStatement()) {
            s.execute("create temporary table if not exists ragline_vectors (id bigint, embedding public.vector)"
                    + " on commit delete rows");
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(chunkIds.size() * (vectors.get(0).length * 4 + 32));
        DataOutputStream out = new DataOutputStream(bytes);
        out.write(HEADER);
        out.writeInt(0); // flags
        out.writeInt(0); // header extension
        for (int i = 0; i < chunkIds.size(); i++) {
            float[] v = vectors.get(i);
            out.writeShort(2);
            out.writeInt(8);
            out.writeLong(chunkIds.get(i));
            out.writeInt(4 + 4 * v.length);
            out.writeShort(v.length);
            out.writeShort(0);
            for (float f : v) {
                out.writeFloat(f);
            }
        }
        out.writeShort(-1);
        out.flush();
        c.unwrap(PGConnection.class)
                .getCopyAPI()
                .copyIn(
                        "copy pg_temp.ragline_vectors (id, embedding) from stdin (format binary)",
                        new java.io.ByteArrayInputStream(bytes.toByteArray()));
        // The id array is for the planner: a temporary table has no statistics, and joined alone it
        // was hashed against a sequential scan of every chunk in the schema (96 ms per batch of 500
        // over 50,000 chunks, growing with the table); with the array it reads them by primary key.
        try (PreparedStatement s = c.prepareStatement(UPDATE)) {
            s.setString(1, model);
            s.setArray(2, c.createArrayOf("bigint", chunkIds.toArray()));
            int updated = s.executeUpdate();
            // DELETE, not TRUNCATE: TRUNCATE gives the table a new file and a catalog update on
            // every batch; these dead rows vanish with the commit's ON COMMIT DELETE ROWS anyway.
            try (Statement clear = c.createStatement()) {
                clear.execute("delete from pg_temp.ragline_vectors");
            }
            return updated;
        }
    }
}
