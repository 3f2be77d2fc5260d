package io.ragline.core;

import io.ragline.core.config.ConfigException;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.db.Database;
import io.ragline.core.db.Migrations;
import io.ragline.core.db.SchemaAccess;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/** Start-up's check of a worker login's access to its schema ({@link WorkerRuntime}). */
final class WorkerAccess {
    private WorkerAccess() {}

    /**
     * With {@code RAGLINE_MIGRATE_ON_START=false} (a worker login): the schema must be current and
     * the login must hold the privileges of {@code ragline_worker}, else start-up stops (exit 2).
     */
    static void require(CoreSettings settings, String processName, Migrations migrations, StartupWait wait) {
        List<String> problems;
        try {
            problems = wait.postgres(settings.database(), "checking the privileges on its schema", () -> {
                try (Connection c = Database.connect(
                        settings.database(), settings.schema(), processName + "-access", settings.startupTimeout())) {
                    return SchemaAccess.workerProblems(c, settings.schema(), migrations);
                }
            });
        } catch (SQLException e) {
            throw new IllegalStateException(
                    "cannot check the privileges on schema " + settings.schema() + ": " + e.getMessage(), e);
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems.stream()
                    .map(p -> CoreSettings.MIGRATE_ON_START + "=false: " + p)
                    .toList());
        }
    }
}
