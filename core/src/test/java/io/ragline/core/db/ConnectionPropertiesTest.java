package io.ragline.core.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.config.DatabaseTimeouts;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.ConnectionProperties.Use;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class ConnectionPropertiesTest {
    private static final DatabaseTimeouts TIMEOUTS = new DatabaseTimeouts(
            Duration.ofMillis(2500),
            Optional.of(Duration.ofSeconds(20)),
            Optional.of(Duration.ofHours(4)),
            Duration.ofSeconds(30),
            Duration.ofMinutes(30));

    private static DatabaseUrl url(String raw) {
        return DatabaseUrl.parse(raw).url().orElseThrow().withTimeouts(TIMEOUTS);
    }

    @Test
    void aPipelineConnectionGetsEveryTimeoutAndKeepAlive() {
        Properties p = ConnectionProperties.of(url("postgresql://app@db/rag"), "rag", "ingest", Use.PIPELINE);

        assertThat(p)
                .containsEntry("connectTimeout", "3")
                .containsEntry("loginTimeout", "2.5")
                .containsEntry("socketTimeout", "20")
                .containsEntry("tcpKeepAlive", "true")
                .containsEntry("currentSchema", "rag,public")
                .containsEntry("ApplicationName", "ragline-ingest")
                .doesNotContainKeys("user", "password");
    }

    @Test
    void longStatementsGetTheirOwnSocketTimeoutAndNoneByDefault() {
        assertThat(ConnectionProperties.of(url("postgresql://app@db/rag"), "rag", "migrate", Use.LONG_STATEMENTS))
                .containsEntry(
                        "socketTimeout", String.valueOf(Duration.ofHours(4).toSeconds()));

        DatabaseUrl defaults =
                DatabaseUrl.parse("postgresql://app@db/rag").url().orElseThrow();
        assertThat(ConnectionProperties.of(defaults, "rag", "migrate", Use.LONG_STATEMENTS))
                .doesNotContainKey("socketTimeout")
                .containsEntry("tcpKeepAlive", "true");
        assertThat(ConnectionProperties.socketTimeout(defaults, Use.LONG_STATEMENTS))
                .isEmpty();
        assertThat(ConnectionProperties.socketTimeout(defaults, Use.PIPELINE))
                .contains(DatabaseTimeouts.DEFAULT_SOCKET_TIMEOUT);
    }

    @Test
    void aConnectionWithItsOwnStatementTimeoutGetsTheSocketTimeoutItAsksFor() {
        Properties p = ConnectionProperties.of(
                url("postgresql://app@db/rag"),
                "rag",
                "training-pgml",
                Use.LONG_STATEMENTS,
                Optional.of(Duration.ofMinutes(121)));

        assertThat(p).containsEntry("socketTimeout", "7260");
    }

    @Test
    void aTimeoutWrittenInTheUrlWinsAndIsTheOneReportedInForce() {
        DatabaseUrl u = url("postgresql://app@db/rag?socketTimeout=7&connect_timeout=4&tcpKeepAlive=false");

        Properties p = ConnectionProperties.of(u, "rag", "ingest", Use.PIPELINE);

        assertThat(p).doesNotContainKeys("socketTimeout", "connectTimeout", "tcpKeepAlive");
        assertThat(u.jdbcUrl())
                .contains("socketTimeout=7")
                .contains("connectTimeout=4")
                .contains("tcpKeepAlive=false");
        assertThat(ConnectionProperties.socketTimeout(u, Use.PIPELINE)).contains(Duration.ofSeconds(7));
        assertThat(ConnectionProperties.socketTimeout(u, Use.LONG_STATEMENTS)).contains(Duration.ofSeconds(7));
        assertThat(ConnectionProperties.socketTimeout(url("postgresql://app@db/rag?socketTimeout=0"), Use.PIPELINE))
                .isEmpty();
    }
}
