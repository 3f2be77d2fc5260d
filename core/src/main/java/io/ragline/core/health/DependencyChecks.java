package io.ragline.core.health;

import io.ragline.core.config.CoreSettings;
import io.ragline.core.db.Database;
import io.ragline.core.db.Migrations;
import io.ragline.core.kafka.KafkaConnectivity;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The readiness checks of what every process depends on: Postgres answers, Kafka answers, the
 * schema has no pending migration. Each probe is bounded (2 s) so {@code /health/ready} answers
 * quickly when a dependency hangs.
 */
public final class DependencyChecks {
    private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);

    private final CoreSettings settings;
    private final String processName;
    private final Migrations migrations;
    private volatile boolean migrationsApplied;

    /** {@code migrated}: this process applied the migrations at start-up. */
    public DependencyChecks(CoreSettings settings, String processName, Migrations migrations, boolean migrated) {
        this.settings = settings;
        this.processName = processName;
        this.migrations = migrations;
        this.migrationsApplied = migrated;
    }

    public List<HealthCheck> checks() {
        return List.of(
                HealthCheck.of("postgres", this::postgresProblem),
                HealthCheck.of(
                        "kafka",
                        () -> KafkaConnectivity.check(
                                settings.kafkaBootstrapServers(),
                                settings.kafka().clientProperties(),
                                PROBE_TIMEOUT)),
                HealthCheck.of("migrations", this::migrationsProblem));
    }

    /** A fresh connection with a 2 s bound: a pool would make the probe wait its full timeout. */
    private Optional<String> postgresProblem() {
        try (Connection c =
                Database.connect(settings.database(), settings.schema(), processName + "-health", PROBE_TIMEOUT)) {
            return c.isValid((int) PROBE_TIMEOUT.toSeconds())
                    ? Optional.empty()
                    : Optional.of("connection is not valid");
        } catch (SQLException e) {
            return Optional.of(e.getMessage());
        }
    }

    /** Once up to date, the schema stays so for this process (migrations only ever add). */
    private Optional<String> migrationsProblem() {
        if (migrationsApplied) {
            return Optional.empty();
        }
        if (migrations.upToDate()) {
            migrationsApplied = true;
            return Optional.empty();
        }
        return Optional.of("schema " + settings.schema() + " has pending migrations: run `ragline migrate`");
    }
}
