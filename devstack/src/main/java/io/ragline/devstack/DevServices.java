package io.ragline.devstack;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Addresses of the services a developer or a test suite uses.
 *
 * @param databaseUrl a libpq URL, {@code postgresql://user:pass@host:port/db?sslmode=disable}
 * @param kafkaBootstrapServers {@code host:port[,host:port]}
 */
public record DevServices(String databaseUrl, String kafkaBootstrapServers) {
    public static final String DATABASE_URL = "DATABASE_URL";
    public static final String KAFKA_BOOTSTRAP_SERVERS = "KAFKA_BOOTSTRAP_SERVERS";

    @Override
    public String toString() {
        // Up to the last '@': a password given by the environment may hold '/', '?', '#' or '@'.
        return "DevServices[databaseUrl=" + databaseUrl.replaceAll("(://[^:/@]*):.*@", "$1:<masked>@")
                + ", kafkaBootstrapServers=" + kafkaBootstrapServers + "]";
    }

    public Map<String, String> asEnv() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put(DATABASE_URL, databaseUrl);
        env.put(KAFKA_BOOTSTRAP_SERVERS, kafkaBootstrapServers);
        return env;
    }
}
