package io.ragline.core.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.ragline.core.config.DatabaseTimeouts;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.ConnectionProperties.Use;
import io.ragline.testkit.PostgresSchema;
import io.ragline.testkit.TcpProxy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Connections to a server that goes silent without a reset (TcpProxy.blackhole(): bytes swallowed,
 * nothing answered), as a partition or a vanished host: every call ends within its timeout instead
 * of blocking its thread for ever, and connections whose statements legitimately run long are not
 * cut by the pipeline's socket timeout.
 */
class SilentDatabaseIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final Duration SOCKET = Duration.ofSeconds(2);
    static final DatabaseTimeouts SHORT =
            DatabaseTimeouts.DEFAULT.withConnect(Duration.ofSeconds(2)).withSocket(SOCKET);

    TcpProxy proxy;

    @AfterEach
    void close() {
        if (proxy != null) {
            proxy.close();
        }
    }

    private DatabaseUrl throughProxy() {
        proxy = TcpProxy.forDatabase();
        return DatabaseUrl.parse(proxy.databaseUrl(db.databaseUrl()))
                .url()
                .orElseThrow()
                .withTimeouts(SHORT);
    }

    @Test
    void aStatementOnAPooledConnectionThatGoesSilentFailsAfterTheSocketTimeoutAndThePoolRecovers() throws Exception {
        DatabaseUrl url = throughProxy();
        try (var pool = Database.pool(url, db.schema(), 2, "silent-it", null)) {
            try (Connection c = pool.getConnection();
                    Statement s = c.createStatement()) {
                assertThat(one(s)).isEqualTo(1);
                proxy.blackhole();
                long started = System.nanoTime();

                assertThatThrownBy(() -> one(s))
                        .isInstanceOfSatisfying(
                                SQLException.class,
                                e -> assertThat(e.getSQLState()).startsWith("08"));
                assertThat(Duration.ofNanos(System.nanoTime() - started))
                        .isGreaterThanOrEqualTo(SOCKET.minusMillis(100))
                        .isLessThan(SOCKET.plusSeconds(5));
            }
            long started = System.nanoTime();
            assertThatThrownBy(pool::getConnection)
                    .as("no connection from a pool whose server is silent, within the connect timeout")
                    .isInstanceOf(SQLException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - started))
                    .isLessThan(SHORT.connect().plusSeconds(5));

            proxy.restore();
            await().atMost(Duration.ofSeconds(15)).ignoreExceptions().until(() -> {
                try (Connection c = pool.getConnection();
                        Statement s = c.createStatement()) {
                    return one(s) == 1;
                }
            });
        }
    }

    @Test
    void aNewConnectionToASilentServerFailsWithinTheConnectTimeout() {
        DatabaseUrl url = throughProxy();
        proxy.blackhole();
        long started = System.nanoTime();

        assertThatThrownBy(() -> Database.connect(url, db.schema(), "silent-it", Use.PIPELINE)
                        .close())
                .isInstanceOf(SQLException.class);
        assertThat(Duration.ofNanos(System.nanoTime() - started))
                .isLessThan(SHORT.connect().plusSeconds(5));
    }

    @Test
    void aLongStatementIsNotCutByThePipelinesSocketTimeout() throws Exception {
        DatabaseUrl url =
                DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow().withTimeouts(SHORT);
        String longerThanTheSocketTimeout = "select pg_sleep(" + (SOCKET.toSeconds() + 1.5) + ")";
        try (var pool = Database.pool(url, db.schema(), 1, "silent-it", null);
                Connection c = pool.getConnection();
                Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute(longerThanTheSocketTimeout))
                    .as("the pipeline's connections give up")
                    .isInstanceOf(SQLException.class);
        }

        try (Connection c = Database.connect(url, db.schema(), "silent-it-long", Use.LONG_STATEMENTS);
                Statement s = c.createStatement()) {
            s.execute(longerThanTheSocketTimeout);
        }
    }

    private static int one(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("select 1")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
