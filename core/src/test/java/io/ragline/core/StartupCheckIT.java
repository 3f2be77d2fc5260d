package io.ragline.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.ragline.core.config.ConfigException;
import io.ragline.core.config.Env;
import io.ragline.testkit.PostgresSchema;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class StartupCheckIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @Test
    void unparsableDatabaseUrlAndUnreachableKafkaAreReportedTogetherWithoutTheSecret() throws Exception {
        Map<String, String> env = Map.of(
                "DATABASE_URL", "postgresql://ragline:Sup3r-Secret@db.example:nope/rag",
                "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:" + closedPort(),
                "RAGLINE_STARTUP_TIMEOUT", "2s");

        ConfigException e =
                catchThrowableOfType(ConfigException.class, () -> StartupCheck.run(new Env(env), "startup-it", 0));

        assertThat(e.problems()).hasSize(2);
        assertThat(e.getMessage())
                .contains("DATABASE_URL='postgresql://ragline:<masked>@db.example:nope/rag' has a port that is not")
                .contains("KAFKA_BOOTSTRAP_SERVERS='127.0.0.1:")
                .contains("cannot reach Kafka")
                .doesNotContain("Sup3r-Secret");
    }

    /** One problem a retry cannot fix (the password): the other, which it could, is not waited for. */
    @Test
    void wrongPasswordAndUnreachableKafkaAreReportedTogetherAtOnceWithTheUrlMasked() throws Exception {
        String good = db.databaseUrl();
        String wrong = good.replaceFirst("://([^:]+):[^@]*@", "://$1:Wr0ng-Secret@");
        Map<String, String> env = new HashMap<>(db.env());
        env.put("DATABASE_URL", wrong);
        env.put("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:" + closedPort());
        env.put("RAGLINE_STARTUP_TIMEOUT", "2s");

        long started = System.nanoTime();
        ConfigException e =
                catchThrowableOfType(ConfigException.class, () -> StartupCheck.run(new Env(env), "startup-it", 0));

        assertThat(Duration.ofNanos(System.nanoTime() - started))
                .as("not the default RAGLINE_STARTUP_WAIT of 60 s")
                .isLessThan(Duration.ofSeconds(20));
        assertThat(e.problems()).hasSize(2);
        assertThat(e.getMessage())
                .doesNotContain("retried for")
                .contains("DATABASE_URL='postgresql://")
                .contains("cannot connect")
                .contains("<masked>")
                .contains("KAFKA_BOOTSTRAP_SERVERS")
                .doesNotContain("Wr0ng-Secret");
    }

    @Test
    void reachableServicesPass() {
        assertThat(StartupCheck.run(new Env(db.env()), "startup-it", 0).schema())
                .isEqualTo(db.schema());
    }

    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
