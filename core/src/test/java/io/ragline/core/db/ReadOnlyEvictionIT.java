package io.ragline.core.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The pool after a write refused as read-only: what a session on a standby, or on a primary
 * demoted in a failover, answers. Here a session made read-only stands in for such a server.
 */
class ReadOnlyEvictionIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @Test
    void aConnectionThatRefusedAWriteAsReadOnlyIsNotHandedOutAgain() throws Exception {
        DatabaseUrl url = DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow();
        try (var pool = Database.pool(url, db.schema(), 1, "read-only-it", null)) {
            int first;
            try (Connection c = pool.getConnection();
                    Statement s = c.createStatement()) {
                first = backend(s);
                s.execute("set session characteristics as transaction read only");
                assertThatThrownBy(() -> s.execute("insert into outbox (topic, key, payload) values ('t', 'k', '{}')"))
                        .isInstanceOfSatisfying(
                                SQLException.class,
                                e -> assertThat(e.getSQLState()).isEqualTo(Database.READ_ONLY));
            }

            try (Connection c = pool.getConnection();
                    Statement s = c.createStatement()) {
                assertThat(backend(s)).isNotEqualTo(first);
                s.execute("insert into outbox (topic, key, payload) values ('t', 'k', '{}')");
            }
        }
    }

    private static int backend(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("select pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
