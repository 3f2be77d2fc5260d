package io.ragline.cli;

import io.ragline.core.config.ConfigException;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.db.ConnectFailure;
import io.ragline.core.db.ConnectionProperties;
import io.ragline.core.db.Database;
import io.ragline.core.db.Migrations;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code ragline migrate}: applies the schema; safe while workers start or other migrations run. Then,
 * with {@code --worker-login} / {@code --reader-login}, grants {@code ragline_worker} / {@code
 * ragline_reader} to those existing logins through {@link LoginGrants}, as {@code ragline roles grant}
 * does: what a deployment's one-shot migration (compose's {@code migrate} service, the chart's Job)
 * runs so that its workers' login may work. Exit 0, 1 when the database refuses, 2 on bad settings.
 */
@Command(
        name = "migrate",
        mixinStandardHelpOptions = true,
        description = {
            "Apply the database migrations to the schema RAGLINE_DB_SCHEMA (default rag) of DATABASE_URL.",
            "Safe to run from several processes at once; a second run changes nothing.",
            "Then grants ragline_worker (ragline_reader) to each --worker-login (--reader-login), as `ragline"
                    + " roles grant` does."
        })
final class MigrateCommand implements Callable<Integer> {
    @Option(
            names = "--worker-login",
            paramLabel = "NAME",
            description = "An existing login to grant ragline_worker after migrating (repeatable).")
    List<String> workerLogins = new ArrayList<>();

    @Option(
            names = "--reader-login",
            paramLabel = "NAME",
            description = "An existing login to grant ragline_reader after migrating (repeatable).")
    List<String> readerLogins = new ArrayList<>();

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
            return grantLogins(url, schema);
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

    /** Grants each login its role; stops at the first refusal (its exit status, the reason on stderr). */
    private int grantLogins(DatabaseUrl url, String schema) {
        if (workerLogins.isEmpty() && readerLogins.isEmpty()) {
            return 0;
        }
        try (Connection c = Database.connect(url, schema, "migrate", ConnectionProperties.Use.LONG_STATEMENTS)) {
            for (String login : workerLogins) {
                int status = LoginGrants.grant(c, "migrate", login, LoginGrants.Kind.worker);
                if (status != 0) {
                    return status;
                }
            }
            for (String login : readerLogins) {
                int status = LoginGrants.grant(c, "migrate", login, LoginGrants.Kind.reader);
                if (status != 0) {
                    return status;
                }
            }
            return 0;
        } catch (SQLException e) {
            System.err.println("ragline migrate: schema " + schema + " is migrated, but the logins cannot be granted"
                    + " their roles on " + url + ": " + ConnectFailure.explain(url, e));
            return 1;
        }
    }
}
