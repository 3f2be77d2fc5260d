package io.ragline.embeddings.pgml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.Database;
import io.ragline.embeddings.EmbeddingException;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Against the real test Postgres, which has no PostgresML (it cannot be installed here): the
 * missing-extension check, and our SQL against a stand-in function with pgml.embed's signature in
 * this test's own schema. Real PostgresML inference is not tested.
 */
class PgmlEmbeddingProviderIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema();

    private static HikariDataSource pool;

    @BeforeAll
    static void pool() throws Exception {
        pool = Database.pool(DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow(), db.schema(), 2, "pgml-it", null);
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            // pgml's signature; the vector is [length(text), 1, 2] so order and content are checkable.
            s.execute("create function " + db.schema() + ".embed(transformer text, text text,"
                    + " kwargs jsonb default '{}') returns real[] language sql immutable as"
                    + " $$ select array[length(text), 1, 2]::real[] $$");
        }
    }

    @AfterAll
    static void close() {
        pool.close();
    }

    @Test
    void aDatabaseWithoutPgmlIsRefusedAtOnceNamingTheDatabase() throws Exception {
        String database = (String) db.queryValue("select current_database()");
        assertThat(db.queryValue("select count(*) from pg_extension where extname = 'pgml'"))
                .isEqualTo(0L);
        assertThatThrownBy(() -> PgmlEmbeddingProvider.connect(pool, "intfloat/e5-small-v2", 384, 512))
                .isInstanceOfSatisfying(
                        EmbeddingException.class, e -> assertThat(e.retryable()).isFalse())
                .hasMessageStartingWith(
                        "PostgresML extension \"pgml\" is not installed in database \"" + database + "\"");
    }

    @Test
    void aCheckInterruptedWhileItWaitsForAConnectionIsRetryableNotAModelThatCannotRun() throws Exception {
        // The embedding-worker interrupts a non-serving call it throws away; if that call was
        // creating this provider, the model must not be reported "cannot run here" until a restart.
        try (Connection first = pool.getConnection();
                Connection second = pool.getConnection()) {
            Thread.currentThread().interrupt(); // the pool has none free: the check waits, interrupted
            try {
                assertThatThrownBy(() -> PgmlEmbeddingProvider.connect(pool, "intfloat/e5-small-v2", 384, 512))
                        .isInstanceOfSatisfying(
                                EmbeddingException.class,
                                e -> assertThat(e.retryable()).isTrue())
                        .hasMessageContaining("cannot check for the pgml extension");
            } finally {
                Thread.interrupted();
            }
        }
    }

    @Test
    void oneRoundTripReturnsOneVectorPerTextInOrder() {
        PgmlEmbeddingProvider p = new PgmlEmbeddingProvider(pool, "intfloat/e5-small-v2", 3, 512, db.schema());
        List<float[]> v = p.embed(List.of("a", "", "three", "héllo, 'quoted' \"text\""));
        assertThat(v).extracting(x -> x[0]).containsExactly(1f, 0f, 5f, 22f);
        assertThat(p.embed(List.of())).isEmpty();
        assertThat(p.embedQuery("four")).containsExactly(4f, 1f, 2f);
    }

    @Test
    void vectorsOfTheWrongLengthAreRefused() {
        PgmlEmbeddingProvider p = new PgmlEmbeddingProvider(pool, "intfloat/e5-small-v2", 384, 512, db.schema());
        assertThatThrownBy(() -> p.embed(List.of("a")))
                .isInstanceOf(EmbeddingException.class)
                .hasMessageContaining("returned 3 dimensions, expected 384");
    }
}
