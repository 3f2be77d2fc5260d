package io.ragline.core;

import io.ragline.core.config.ConfigException;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.Env;
import io.ragline.core.db.Database;
import io.ragline.core.kafka.KafkaConnectivity;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * Start-up validation: every variable parsed, then Postgres and Kafka reached (in parallel, each
 * bounded by {@code RAGLINE_STARTUP_TIMEOUT}). All problems are reported in one
 * {@link ConfigException}, each naming its variable, none holding a secret.
 */
public final class StartupCheck {
    private StartupCheck() {}

    public static CoreSettings run(Env env, String processName, int defaultAdminPort) {
        CoreSettings settings = CoreSettings.from(env, defaultAdminPort);
        List<String> problems = new ArrayList<>(env.problems());
        CompletableFuture<String> db = settings.database() == null
                ? CompletableFuture.completedFuture(null)
                : CompletableFuture.supplyAsync(() -> checkDatabase(settings, processName));
        CompletableFuture<String> kafka = settings.kafkaBootstrapServers() == null
                        || problems.stream().anyMatch(p -> p.startsWith(CoreSettings.KAFKA_BOOTSTRAP_SERVERS))
                ? CompletableFuture.completedFuture(null)
                : CompletableFuture.supplyAsync(
                        () -> KafkaConnectivity.check(settings.kafkaBootstrapServers(), settings.startupTimeout())
                                .map(why -> CoreSettings.KAFKA_BOOTSTRAP_SERVERS + "='"
                                        + settings.kafkaBootstrapServers() + "': cannot reach Kafka: " + why)
                                .orElse(null));
        if (db.join() != null) {
            problems.add(db.join());
        }
        if (kafka.join() != null) {
            problems.add(kafka.join());
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return settings;
    }

    private static String checkDatabase(CoreSettings settings, String processName) {
        try (Connection c =
                Database.connect(settings.database(), settings.schema(), processName, settings.startupTimeout())) {
            c.isValid((int) Math.max(1, settings.startupTimeout().toSeconds()));
            return null;
        } catch (SQLException e) {
            // The driver's messages name host, port, user and database, never the password.
            return CoreSettings.DATABASE_URL + "='" + settings.database() + "': cannot connect: " + e.getMessage();
        }
    }
}
