package io.ragline.testkit;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.ServiceLoader;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fresh schema in the real test database for one test class, dropped afterwards. Register it
 * as {@code @RegisterExtension static final PostgresSchema db = new PostgresSchema(false);}. Code
 * under test gets it through {@link #env()} ({@code RAGLINE_DB_SCHEMA}) or {@link #connect()}
 * ({@code search_path = schema, public}, as the owner, for fixtures).
 *
 * <p>Three kinds:
 *
 * <ul>
 *   <li>{@code new PostgresSchema(false)}, Ragline's schema as production runs it: migrated by the
 *       owner before the tests (through the {@link SchemaMigrator} of the test class path), and
 *       handed to the code under test with a login that only holds the role {@code ragline_worker}
 *       ({@link #databaseUrl()}; {@link #env()} adds {@code RAGLINE_MIGRATE_ON_START=false});
 *   <li>{@link #unmigrated()}: only the name is reserved, and the code under test works as the
 *       owner: for tests of what creates or migrates the schema; {@link #unmigratedPerTest()}, a
 *       name of its own for each test (upgrade tests that each start from nothing);
 *   <li>{@code new PostgresSchema()}: an empty schema, as the owner: for tests with tables of
 *       their own.
 * </ul>
 */
public final class PostgresSchema
        implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {
    private enum Kind {
        EMPTY,
        RAGLINE,
        UNMIGRATED
    }

    /** The login of this JVM's worker processes, made once (roles are cluster-wide). */
    private static String workerUrl;

    private String schema;
    private final Kind kind;
    /** A schema for each test instead of one for the class. */
    private final boolean perTest;

    /** An empty schema that exists before the tests run; the code under test works as the owner. */
    public PostgresSchema() {
        this(Kind.EMPTY);
    }

    /**
     * {@code create = false}: Ragline's schema, migrated by the owner and used by the code under
     * test as a {@code ragline_worker} login; {@code true}: as {@link #PostgresSchema()}.
     */
    public PostgresSchema(boolean create) {
        this(create ? Kind.EMPTY : Kind.RAGLINE);
    }

    private PostgresSchema(Kind kind) {
        this(kind, false);
    }

    private PostgresSchema(Kind kind, boolean perTest) {
        this.kind = kind;
        this.perTest = perTest;
    }

    /** Only the name is reserved, and the code under test is the owner: for tests of migrations. */
    public static PostgresSchema unmigrated() {
        return new PostgresSchema(Kind.UNMIGRATED);
    }

    /** As {@link #unmigrated()}, with a name of its own for each test, dropped after it. */
    public static PostgresSchema unmigratedPerTest() {
        return new PostgresSchema(Kind.UNMIGRATED, true);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        if (!perTest) {
            create(context);
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) throws Exception {
        if (perTest) {
            create(context);
        }
    }

    @Override
    public void afterEach(ExtensionContext context) throws SQLException {
        if (perTest) {
            drop();
        }
    }

    private void create(ExtensionContext context) throws Exception {
        String base = context.getRequiredTestClass().getSimpleName().toLowerCase(Locale.ROOT);
        String cleaned = base.replaceAll("[^a-z0-9]", "_");
        // At most 2 + 30 + 1 + 13 = 46 characters: schema names are capped at 56.
        schema = "t_" + cleaned.substring(0, Math.min(30, cleaned.length())) + "_"
                + Long.toString(ThreadLocalRandom.current().nextLong(Long.MAX_VALUE), 36);
        try (Connection c = connectUnscoped();
                Statement s = c.createStatement()) {
            s.execute("create extension if not exists vector with schema public");
            if (kind == Kind.EMPTY) {
                s.execute("create schema " + schema);
            }
        }
        if (kind == Kind.RAGLINE) {
            migrator().migrate(ownerDatabaseUrl(), schema);
            workerLogin();
        }
    }

    static SchemaMigrator migrator() {
        return ServiceLoader.load(SchemaMigrator.class)
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("no " + SchemaMigrator.class.getName()
                        + " on the test class path: add ragline-core's test-jar as a test dependency"));
    }

    private static synchronized void workerLogin() throws SQLException {
        if (workerUrl == null) {
            workerUrl = newLogin("ragline_worker");
        }
    }

    /**
     * Creates a login (dropped when the JVM exits) that is a member of {@code roles} (none for a
     * login without any privilege), and returns its libpq URL.
     */
    public static String newLogin(String... roles) throws SQLException {
        String name = "t_login_" + Long.toString(ThreadLocalRandom.current().nextLong(Long.MAX_VALUE), 36);
        String password = Long.toString(ThreadLocalRandom.current().nextLong(Long.MAX_VALUE), 36)
                + Long.toString(ThreadLocalRandom.current().nextLong(Long.MAX_VALUE), 36);
        try (Connection c = connectUnscoped();
                Statement s = c.createStatement()) {
            s.execute("create role " + name + " login password '" + password + "'");
            for (String role : roles) {
                s.execute("grant " + role + " to " + name);
            }
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> dropLogin(name)));
        return LibpqUrl.withLogin(TestServices.get().databaseUrl(), name, password);
    }

    private static void dropLogin(String name) {
        try (Connection c = connectUnscoped();
                Statement s = c.createStatement()) {
            s.execute("drop role if exists " + name);
        } catch (SQLException e) {
            System.err.println("cannot drop the test login " + name + ": " + e.getMessage());
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws SQLException {
        if (!perTest) {
            drop();
        }
    }

    private void drop() throws SQLException {
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

    /** The URL the code under test uses: a {@code ragline_worker} login for Ragline's schema, else the owner's. */
    public String databaseUrl() {
        return kind == Kind.RAGLINE ? workerUrl : ownerDatabaseUrl();
    }

    /** The URL of the owner of every test schema (the test database's own user). */
    public String ownerDatabaseUrl() {
        return TestServices.get().databaseUrl();
    }

    /**
     * The environment a Ragline process under test needs to use this schema and the test broker:
     * for Ragline's schema a worker login that does not migrate, as in production.
     */
    public Map<String, String> env() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("DATABASE_URL", databaseUrl());
        env.put("KAFKA_BOOTSTRAP_SERVERS", TestServices.get().kafkaBootstrapServers());
        env.put("RAGLINE_DB_SCHEMA", schema);
        if (kind == Kind.RAGLINE) {
            env.put("RAGLINE_MIGRATE_ON_START", "false");
        }
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

    /**
     * pg_cron in the test database as an operator installs it: created once, in {@code public}, and
     * left there. Created from a connection whose search path starts with a test schema, the
     * extension (whose control file names no schema) would belong to that schema and be dropped
     * with it, and each test class after would create it again, its job ids starting at 1 again
     * under a scheduler that still remembers the old ones. Skips the calling test (a failed
     * assumption) where this server does not load pg_cron or runs its jobs in another database.
     */
    public void assumePgCron() throws SQLException {
        try (Connection c = connectUnscoped();
                Statement s = c.createStatement()) {
            String loaded = String.valueOf(value(s, "select current_setting('shared_preload_libraries')"));
            Object cronDatabase = value(s, "select current_setting('cron.database_name', true)");
            Object database = value(s, "select current_database()");
            Assumptions.assumeTrue(
                    loaded.contains("pg_cron") && database.equals(cronDatabase),
                    "this server does not load pg_cron for the test database (shared_preload_libraries='" + loaded
                            + "', cron.database_name=" + cronDatabase + ")");
            s.execute("create extension if not exists pg_cron with schema public");
        }
    }

    /**
     * What pg_cron shows of job {@code job}, for the message of a test that waited on it in vain:
     * whether its launcher runs, the job, and its last runs.
     */
    public String pgCronState(long job) {
        StringBuilder out = new StringBuilder("pg_cron: ");
        try (Connection c = connectUnscoped();
                Statement s = c.createStatement()) {
            out.append("launcher processes ")
                    .append(value(s, "select count(*) from pg_stat_activity where backend_type = 'pg_cron launcher'"))
                    .append("; now ")
                    .append(value(s, "select now()"))
                    .append("; job ")
                    .append(value(
                            s,
                            "select row(jobid, schedule, active, database, username, command)::text"
                                    + " from cron.job where jobid = " + job))
                    .append("; last runs ")
                    .append(value(
                            s,
                            "select string_agg(row(status, start_time, end_time, return_message)::text,"
                                    + " ' | ' order by runid desc) from (select * from cron.job_run_details where jobid = "
                                    + job + " order by runid desc limit 5) r"));
        } catch (SQLException e) {
            out.append("cannot read its tables: ").append(e.getMessage());
        }
        return out.toString();
    }

    private static Object value(Statement s, String sql) throws SQLException {
        try (var rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getObject(1) : null;
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
