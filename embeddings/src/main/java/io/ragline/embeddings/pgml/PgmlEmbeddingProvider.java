package io.ragline.embeddings.pgml;

import io.ragline.embeddings.EmbeddingException;
import io.ragline.embeddings.EmbeddingProvider;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLTransientException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * Embeddings computed inside Postgres by PostgresML: {@code pgml.embed(transformer => ?, text => ?)}
 * (PostgresML's documented signature, {@code (transformer TEXT, text TEXT, kwargs JSONB DEFAULT
 * '{}') RETURNS REAL[]}), one round trip per batch through {@code unnest(...) WITH ORDINALITY}.
 *
 * <p>{@link #connect} checks at once that the extension is installed, so a misconfigured worker
 * fails at start-up, not on its first message.
 */
public final class PgmlEmbeddingProvider implements EmbeddingProvider {
    private final DataSource dataSource;
    private final String transformer;
    private final int dimensions;
    private final int maxTokens;
    private final String sql;

    PgmlEmbeddingProvider(DataSource dataSource, String transformer, int dimensions, int maxTokens, String schema) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.transformer = Objects.requireNonNull(transformer, "transformer");
        this.dimensions = dimensions;
        this.maxTokens = maxTokens;
        this.sql = "select " + schema + ".embed(transformer => ?, text => t.input)"
                + " from unnest(?::text[]) with ordinality as t(input, n) order by t.n";
    }

    /**
     * A provider for the Hugging Face model {@code transformer} (e.g. {@code intfloat/e5-small-v2}),
     * after checking that the {@code pgml} extension is installed in {@code dataSource}'s database.
     *
     * @throws EmbeddingException not retryable when the extension is missing or the check is refused
     *     for good; retryable when the check could not run now (the database unreachable, no
     *     connection in time, the caller interrupted while it waited): that says nothing of the
     *     model, and a later use tries again
     */
    public static PgmlEmbeddingProvider connect(
            DataSource dataSource, String transformer, int dimensions, int maxTokens) {
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement("select current_database(),"
                        + " (select extversion from pg_extension where extname = 'pgml')");
                ResultSet rs = s.executeQuery()) {
            rs.next();
            if (rs.getString(2) == null) {
                throw new EmbeddingException(
                        "PostgresML extension \"pgml\" is not installed in database \"" + rs.getString(1)
                                + "\": install PostgresML and run CREATE EXTENSION pgml, or choose another"
                                + " RAGLINE_EMBEDDING_PROVIDER (onnx, openai)",
                        false);
            }
        } catch (SQLException e) {
            boolean now = retryable(e) || e instanceof SQLTransientException || interrupted(e);
            throw new EmbeddingException("cannot check for the pgml extension: " + e.getMessage(), now, e);
        }
        return new PgmlEmbeddingProvider(dataSource, transformer, dimensions, maxTokens, "pgml");
    }

    @Override
    public String model() {
        return transformer;
    }

    @Override
    public int dimensions() {
        return dimensions;
    }

    @Override
    public int maxTokens() {
        return maxTokens;
    }

    @Override
    public List<float[]> embed(List<String> texts) {
        if (texts.isEmpty()) {
            return List.of();
        }
        List<float[]> out = new ArrayList<>(texts.size());
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement(sql)) {
            s.setString(1, transformer);
            s.setArray(2, c.createArrayOf("text", texts.toArray()));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    out.add(vector(rs.getArray(1)));
                }
            }
        } catch (SQLException e) {
            throw new EmbeddingException(
                    "pgml.embed with model " + transformer + " failed: " + e.getMessage(), retryable(e), e);
        }
        if (out.size() != texts.size()) {
            throw new EmbeddingException(
                    "pgml.embed returned " + out.size() + " vectors for " + texts.size() + " texts", false);
        }
        return out;
    }

    private float[] vector(Array array) throws SQLException {
        if (array == null) {
            throw new EmbeddingException("pgml.embed with model " + transformer + " returned null", false);
        }
        Object[] values = (Object[]) array.getArray();
        if (values.length != dimensions) {
            throw new EmbeddingException(
                    "pgml.embed with model " + transformer + " returned " + values.length + " dimensions, expected "
                            + dimensions + " (RAGLINE_EMBEDDING_DIMENSIONS)",
                    false);
        }
        float[] v = new float[values.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = ((Number) values[i]).floatValue();
        }
        return v;
    }

    /**
     * Whether {@code e} came of an interrupt (HikariCP's "Interrupted during connection acquisition",
     * the driver's interrupted wait): the caller gave up, nothing was refused.
     */
    private static boolean interrupted(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof InterruptedException) {
                return true;
            }
        }
        return Thread.currentThread().isInterrupted();
    }

    /** Lost connections, serialization failures and shutdowns may pass; anything else will not. */
    private static boolean retryable(SQLException e) {
        String state = e.getSQLState();
        return state != null && (state.startsWith("08") || state.startsWith("40") || state.startsWith("57P"));
    }

    @Override
    public float[] embedQuery(String text) {
        return embed(List.of(text)).get(0);
    }

    /** The data source belongs to the caller; nothing to release here. */
    @Override
    public void close() {}
}
