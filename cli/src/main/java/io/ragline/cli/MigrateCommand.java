package io.ragline.cli;

import io.ragline.core.config.ConfigException;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.db.ConnectFailure;
import io.ragline.core.db.Migrations;
import java.sql.SQLException;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code ragline migrate}: applies the schema; safe while workers start or other migrations run. */
@Command(
        name = "migrate",
        mixinStandardHelpOptions = true,
        description = {
            "Apply the database migrations to the schema RAGLINE_DB_SCHEMA (default rag) of DATABASE_URL.",
            "Safe to run from several processes at once; a second run changes nothing."
        })
final class MigrateCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        Env env = Env.load();
        DatabaseUrl url = DatabaseUrl.from(env);
        String schema =
                env.string(CoreSettings.SCHEMA, CoreSettings.DEFAULT_SCHEMA).toLowerCase(Locale.ROOT);
        if (!schema.matches("[a-z_][a-z0-9_]{0,55}")) {
            env.problem(CoreSettings.SCHEMA + "='" + schema + "' must be a lower-case SQL identifier of at most 56"
                    + " characters");
        }
        try {
            env.validate();
        } catch (ConfigException e) {
            System.err.println("ragline migrate: " + e.getMessage());
            return 2;
        }
        try {
            Migrations.Outcome outcome = new Migrations(url, schema, "migrate").migrate();
            System.out.println(
                    outcome.applied() == 0
                            ? "schema " + schema + " is up to date at version " + outcome.version()
                            : "schema " + schema + " migrated to version " + outcome.version() + " ("
                                    + outcome.applied() + " migrations applied)");
            return 0;
        } catch (SQLException e) {
            System.err.println("ragline migrate: cannot migrate schema " + schema + " of " + url + ": "
                    + ConnectFailure.explain(url, e));
            return 1;
        } catch (RuntimeException e) {
            System.err.println(
                    "ragline migrate: cannot migrate schema " + schema + " of " + url + ": " + e.getMessage());
            return 1;
        }
    }
}
