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
        assertThat(ConnectionProperties.socketTimeout(url("postgresql://app@db/rag?socketTimeout=0"), Use.PIPELINE))
                .isEmpty();
    }

    @Test
    void aSocketTimeoutWrittenInTheUrlNeverReachesALongStatementOrAPgmlConnection() {
        DatabaseUrl u = url("postgresql://app@db/rag?socketTimeout=7&sslmode=disable");

        assertThat(ConnectionProperties.jdbcUrl(u, Use.PIPELINE)).contains("socketTimeout=7");
        assertThat(ConnectionProperties.jdbcUrl(u, Use.LONG_STATEMENTS))
                .doesNotContain("socketTimeout")
                .contains("sslmode=disable");
        assertThat(ConnectionProperties.of(u, "rag", "migrate", Use.LONG_STATEMENTS))
                .containsEntry(
                        "socketTimeout", String.valueOf(Duration.ofHours(4).toSeconds()));
        assertThat(ConnectionProperties.socketTimeout(u, Use.LONG_STATEMENTS)).contains(Duration.ofHours(4));
        assertThat(ConnectionProperties.of(
                        u, "rag", "training-pgml", Use.LONG_STATEMENTS, Optional.of(Duration.ofMinutes(121))))
                .containsEntry("socketTimeout", "7260");

        DatabaseUrl defaults = DatabaseUrl.parse("postgresql://app@db/rag?socketTimeout=7")
                .url()
                .orElseThrow();
        assertThat(ConnectionProperties.of(defaults, "rag", "migrate", Use.LONG_STATEMENTS))
                .doesNotContainKey("socketTimeout");
        assertThat(ConnectionProperties.socketTimeout(defaults, Use.LONG_STATEMENTS))
                .isEmpty();
    }

    @Test
    void theLoginTimeoutCoversEveryHostOfTheUrlSoASilentFirstHostLeavesTimeForTheNext() {
        DatabaseUrl two = url("postgresql://app@db1:5432,db2:5432/rag?target_session_attrs=read-write");

        assertThat(ConnectionProperties.of(two, "rag", "ingest", Use.PIPELINE))
                .containsEntry("connectTimeout", "3")
                .containsEntry("loginTimeout", "5.0");
        assertThat(ConnectionProperties.login(two)).isEqualTo(Duration.ofSeconds(5));
        assertThat(ConnectionProperties.effective(two))
                .startsWith("connect 2500ms per host, login 5s (2 hosts), socket 20s, long statements' socket 4h");
    }

    @Test
    void libpqsConnectTimeoutInTheUrlSetsTheLoginTimeoutForEveryHost() {
        DatabaseUrl u = url("postgresql://app@db1,db2,db3/rag?connect_timeout=4");

        Properties p = ConnectionProperties.of(u, "rag", "ingest", Use.PIPELINE);

        assertThat(p).doesNotContainKey("connectTimeout").containsEntry("loginTimeout", "12.0");
        assertThat(ConnectionProperties.connectPerHost(u)).isEqualTo(Duration.ofSeconds(4));
        assertThat(ConnectionProperties.login(u)).isEqualTo(Duration.ofSeconds(12));
        assertThat(ConnectionProperties.effective(url("postgresql://app@db/rag?socketTimeout=7")))
                .isEqualTo("connect 2500ms, login 2500ms, socket 7s, long statements' socket 4h, keep-alive 30s,"
                        + " max lifetime 30m");
    }
}
