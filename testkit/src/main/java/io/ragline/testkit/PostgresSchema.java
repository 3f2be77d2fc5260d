package io.ragline.testkit;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fresh, empty schema in the real test database for one test class, dropped afterwards.
 * Register it as {@code @RegisterExtension static final PostgresSchema db = new PostgresSchema();}.
 * Code under test gets it through {@link #env()} ({@code RAGLINE_DB_SCHEMA}) or
 * {@link #connect()} ({@code search_path = schema, public}).
 */
public final class PostgresSchema implements BeforeAllCallback, AfterAllCallback {
    private String schema;
    private final boolean create;

    /** A schema that exists (empty) before the tests run. */
    public PostgresSchema() {
        this(true);
    }

    /** {@code create = false}: only the name is reserved, for tests of what creates it (migrations). */
    public PostgresSchema(boolean create) {
        this.create = create;
    }

    @Override
    public void beforeAll(ExtensionContext context) throws SQLException {
        String base = context.getRequiredTestClass().getSimpleName().toLowerCase(Locale.ROOT);
        String cleaned = base.replaceAll("[^a-z0-9]", "_");
        // At most 2 + 30 + 1 + 13 = 46 characters: schema names are capped at 56.
        schema = "t_" + cleaned.substring(0, Math.min(30, cleaned.length())) + "_"
                + Long.toString(ThreadLocalRandom.current().nextLong(Long.MAX_VALUE), 36);
        try (Connection c = connectUnscoped();
                Statement s = c.createStatement()) {
            s.execute("create extension if not exists vector with schema public");
            if (create) {
                s.execute("create schema " + schema);
            }
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws SQLException {
        if (schema == null || Boolean.getBoolean("ragline.keepTestSchemas")) {
            return;
        }
        try (Connection c = connectUnscoped();
                Statement s = c.createStatement()) {
            s.execute("drop schema if exists " + schema + " cascade");
        }
    }

    public String schema() {
        return schema;
    }

    public String databaseUrl() {
        return TestServices.get().databaseUrl();
    }

    /** The environment a Ragline process under test needs to use this schema and the test broker. */
    public Map<String, String> env() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("DATABASE_URL", databaseUrl());
        env.put("KAFKA_BOOTSTRAP_SERVERS", TestServices.get().kafkaBootstrapServers());
        env.put("RAGLINE_DB_SCHEMA", schema);
        return env;
    }

    /** A connection whose search path is this schema, then public. */
    public Connection connect() throws SQLException {
        Connection c = connectUnscoped();
        try (Statement s = c.createStatement()) {
            s.execute("set search_path = " + schema + ", public");
        }
        return c;
    }

    /** Runs one statement and returns the first column of the first row, or null. */
    public Object queryValue(String sql) throws SQLException {
        try (Connection c = connect();
                Statement s = c.createStatement();
                var rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getObject(1) : null;
        }
    }

    /** Runs one statement that returns no rows (DDL, DML), autocommitted. */
    public void execute(String sql) throws SQLException {
        try (Connection c = connect();
                Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private static Connection connectUnscoped() throws SQLException {
        LibpqUrl url = LibpqUrl.parse(TestServices.get().databaseUrl());
        Properties props = new Properties();
        props.setProperty("user", url.user());
        props.setProperty("password", url.password());
        return DriverManager.getConnection(url.jdbcUrl(), props);
    }
}
