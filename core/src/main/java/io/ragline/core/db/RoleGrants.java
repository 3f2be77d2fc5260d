package io.ragline.core.db;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.sql.Statement;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.callback.Callback;
import org.flywaydb.core.api.callback.Context;
import org.flywaydb.core.api.callback.Event;

/**
 * Flyway's afterMigrate: runs {@code grants.sql} (the roles {@code ragline_worker} and {@code
 * ragline_reader}, and their grants on every object of the schema) after every migrate, whether or
 * not a migration was applied. A Java callback rather than an {@code afterMigrate.sql} in the
 * migration folder: a class path that holds the core jar twice (the CLI's) would make Flyway refuse
 * two scripts of that name.
 */
final class RoleGrants implements Callback {
    private static final String SCRIPT = load();

    private final String script;

    RoleGrants(String schema, String historyTable) {
        this.script = SCRIPT.replace("${schema}", schema).replace("${history}", historyTable);
    }

    private static String load() {
        try (InputStream in = RoleGrants.class.getResourceAsStream("grants.sql")) {
            if (in == null) {
                throw new IllegalStateException("grants.sql is missing from the class path");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public boolean supports(Event event, Context context) {
        return event == Event.AFTER_MIGRATE;
    }

    @Override
    public boolean canHandleInTransaction(Event event, Context context) {
        return true;
    }

    @Override
    public void handle(Event event, Context context) {
        try (Statement s = context.getConnection().createStatement()) {
            s.execute(script);
        } catch (SQLException e) {
            throw new FlywayException("granting the roles of schema failed: " + e.getMessage(), e);
        }
    }

    @Override
    public String getCallbackName() {
        return "ragline-role-grants";
    }
}
