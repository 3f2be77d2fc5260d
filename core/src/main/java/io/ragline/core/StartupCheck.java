package io.ragline.core;

import io.ragline.core.config.ConfigException;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.db.ConnectFailure;
import io.ragline.core.db.Database;
import io.ragline.core.kafka.KafkaClientProperties;
import io.ragline.core.kafka.KafkaConnectivity;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
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
        // Each endpoint whose own variable is good is tried even when another variable is bad,
        // so that one report names every problem.
        Env quiet = new Env(env.all()); // reads again what env read: its problems are env's own
        Duration timeout = settings != null ? settings.startupTimeout() : timeout(quiet);
        String schema = settings != null ? settings.schema() : CoreSettings.DEFAULT_SCHEMA;
        Optional<DatabaseUrl> database = Optional.ofNullable(DatabaseUrl.from(quiet));
        // Kafka is tried only with client properties that are good: a refused one is reported already.
        Env kafkaEnv = new Env(env.all());
        KafkaClientProperties kafkaProperties = KafkaClientProperties.from(kafkaEnv);
        Optional<String> kafka = quiet.raw(CoreSettings.KAFKA_BOOTSTRAP_SERVERS)
                .filter(k -> kafkaEnv.problems().isEmpty())
                .filter(k -> problems.stream().noneMatch(p -> p.startsWith(CoreSettings.KAFKA_BOOTSTRAP_SERVERS)));
        CompletableFuture<String> db = database.isEmpty()
                ? CompletableFuture.completedFuture(null)
                : CompletableFuture.supplyAsync(() -> checkDatabase(database.get(), schema, processName, timeout));
        CompletableFuture<String> broker = kafka.isEmpty()
                ? CompletableFuture.completedFuture(null)
                : CompletableFuture.supplyAsync(() -> KafkaConnectivity.check(kafka.get(), kafkaProperties, timeout)
                        .map(why -> CoreSettings.KAFKA_BOOTSTRAP_SERVERS + "='" + kafka.get()
                                + "': cannot reach Kafka: " + why)
                        .orElse(null));
        if (db.join() != null) {
            problems.add(db.join());
        }
        if (broker.join() != null) {
            problems.add(broker.join());
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return settings;
    }

    /** {@code RAGLINE_STARTUP_TIMEOUT} when it is good, else its default. */
    private static Duration timeout(Env quiet) {
        Duration t = quiet.duration(CoreSettings.STARTUP_TIMEOUT, CoreSettings.DEFAULT_STARTUP_TIMEOUT);
        return !t.isZero() && !t.isNegative() && quiet.problems().isEmpty() ? t : CoreSettings.DEFAULT_STARTUP_TIMEOUT;
    }

    private static String checkDatabase(DatabaseUrl url, String schema, String processName, Duration timeout) {
        try (Connection c = Database.connect(url, schema, processName, timeout)) {
            c.isValid((int) Math.max(1, timeout.toSeconds()));
            return null;
        } catch (SQLException e) {
            // The driver's messages name host, port, user and database, never the password.
            return CoreSettings.DATABASE_URL + "='" + url + "': cannot connect: " + ConnectFailure.explain(url, e);
        }
    }
}
