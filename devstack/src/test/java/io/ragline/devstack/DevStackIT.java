package io.ragline.devstack;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.devstack.docker.DockerCompose;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * {@code dev up} against the repository's own {@code .ragline/}: the services that {@code
 * ./ragline test} started are found again, not started twice.
 */
class DevStackIT {

    @Test
    void upTwiceGivesTheSameWorkingServicesAndWritesDevEnv() throws Exception {
        Path home = Path.of(System.getProperty("ragline.home", "..")).toAbsolutePath();
        Map<String, String> ours = DevStack.readEnvFile(home);
        String given = System.getenv(DevServices.DATABASE_URL);
        // With services given by the user (not our own dev.env), dev up must not start others.
        Assumptions.assumeTrue(
                given == null || given.equals(ours.get(DevServices.DATABASE_URL)),
                "services are given in the environment: dev up manages nothing here");
        Map<String, String> env = new HashMap<>(System.getenv());
        env.remove(DevServices.DATABASE_URL);
        env.remove(DevServices.KAFKA_BOOTSTRAP_SERVERS);
        DevStack stack = new DevStack(home, env, message -> {});
        StringBuilder progress = new StringBuilder();

        DevServices first = stack.up();
        DevServices second =
                new DevStack(home, env, message -> progress.append(message).append('\n')).up();

        assertThat(second).isEqualTo(first);
        assertThat(DevEnvFile.read(stack.envFile())).isEqualTo(first.asEnv());
        assertThat(vectorExtensionVersion(first.databaseUrl())).isNotBlank();
        try (Admin admin =
                Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, first.kafkaBootstrapServers()))) {
            assertThat(admin.describeCluster().nodes().get(30, TimeUnit.SECONDS))
                    .isNotEmpty();
        }
        if (!DockerCompose.available()) {
            // The second call found the local processes running and started nothing.
            assertThat(progress.toString())
                    .contains("PostgreSQL already running", "Kafka already running")
                    .doesNotContain("starting", "creating", "formatting", "installing");
        }
    }

    private static String vectorExtensionVersion(String databaseUrl) throws Exception {
        URI uri = URI.create(databaseUrl);
        String[] userInfo = uri.getUserInfo().split(":", 2);
        Properties props = new Properties();
        props.setProperty("user", userInfo[0]);
        props.setProperty("password", userInfo[1]);
        String jdbc = "jdbc:postgresql://" + uri.getHost() + ":" + uri.getPort() + uri.getPath();
        try (Connection c = DriverManager.getConnection(jdbc, props);
                ResultSet rs = c.createStatement()
                        .executeQuery("select extversion from pg_extension where extname = 'vector'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
