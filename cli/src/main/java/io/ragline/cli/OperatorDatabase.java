package io.ragline.cli;

import com.zaxxer.hikari.HikariDataSource;
import io.ragline.core.config.ConfigException;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.db.Database;
import java.util.Locale;

/**
 * The database an operator's command works on: {@code DATABASE_URL} (read by {@link DatabaseUrl#from}, as
 * every process reads it) and {@code RAGLINE_DB_SCHEMA}
 * from the environment (or {@code .ragline/dev.env}), checked together with the command's own
 * settings so that every problem is reported at once.
 */
record OperatorDatabase(DatabaseUrl url, String schema) {
    /** Reads the database settings into {@code env}; null when they have problems (recorded in env). */
    static OperatorDatabase read(Env env) {
        DatabaseUrl url = DatabaseUrl.from(env);
        String schema =
                env.string(CoreSettings.SCHEMA, CoreSettings.DEFAULT_SCHEMA).toLowerCase(Locale.ROOT);
        return url == null ? null : new OperatorDatabase(url, schema);
    }

    /** Validates {@code env}; prints the problems and returns false if there are any. */
    static boolean valid(Env env, String command) {
        try {
            env.validate();
            return true;
        } catch (ConfigException e) {
            System.err.println("ragline " + command + ": " + e.getMessage());
            return false;
        }
    }

    HikariDataSource pool(String command, int size) {
        return Database.pool(url, schema, size, command, null);
    }
}
