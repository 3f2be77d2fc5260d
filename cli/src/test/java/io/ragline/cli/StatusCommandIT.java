package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class StatusCommandIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @Test
    void statusShowsTheOutboxBacklogAndThatNoDispatcherHoldsTheLease() throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("insert into outbox (topic, key, payload) values ('t', 'a', '{}'), ('t', 'b', '{}')");
        }

        JavaProcess status =
                CliProcess.start(Map.of("DATABASE_URL", db.databaseUrl(), "RAGLINE_DB_SCHEMA", db.schema()), "status");

        assertThat(status.waitFor(60)).as(status.stderr()).isZero();
        assertThat(status.stdout())
                .contains("outbox: 2 rows waiting")
                .contains("dispatcher: none holds the lease")
                .contains("<masked>")
                .doesNotContain(db.databaseUrl().replaceFirst("^[^:]+://[^:]+:([^@]+)@.*$", "$1"));
    }
}
