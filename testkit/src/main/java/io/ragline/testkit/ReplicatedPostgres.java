package io.ragline.testkit;

import io.ragline.devstack.Ports;
import io.ragline.devstack.postgres.SynchronousStandby;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A PostgreSQL primary with a streaming standby, of one test class's own, for failover tests: the
 * primary is initdb'd under a temporary directory with the vector extension in {@value #DATABASE},
 * the standby copied from it by {@code pg_basebackup -R} and replicating <b>synchronously</b>
 * ({@code synchronous_standby_names} names it, {@code synchronous_commit=on}): a commit returns only
 * once the standby has flushed it, so a promotion loses nothing a client saw committed. {@link
 * #stopPrimaryImmediately()} crashes the primary ({@code pg_ctl -m immediate}), {@link
 * #promoteStandby()} makes the standby the primary. The promoted standby names no synchronous
 * standby of its own (it has none), so it accepts commits alone.
 *
 * <p>Runs from the machine's server binaries as {@link TlsPostgres} does (skipped, saying so,
 * where there are none); both clusters are stopped and deleted after the class.
 */
public final class ReplicatedPostgres implements BeforeAllCallback, AfterAllCallback {
    public static final String USER = "ragline";
    public static final String DATABASE = "ragline";
    private static final String HOST = "127.0.0.1";
    /** A test server: durability of the machine traded for speed, as the test never restarts a crashed one. */
    private static final String COMMON_OPTIONS =
            "-c fsync=off -c full_page_writes=off -c max_connections=200 -c wal_level=replica";

    private PrivateClusters clusters;
    private Path primaryData;
    private SynchronousStandby standby;
    private int primaryPort;
    private int standbyPort;
    private String password;
    private Thread cleanup;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        clusters = PrivateClusters.create(
                "ragline-replicated-pg", "the failover tests need a private primary and a standby to promote");
        cleanup = new Thread(clusters::delete, "replicated-postgres-delete");
        Runtime.getRuntime().addShutdownHook(cleanup);
        if (!clusters.hasPgvector()) {
            throw new IllegalStateException("the PostgreSQL server in " + clusters.bin()
                    + " has no vector extension (pgvector): `./ragline dev up` installs it, or see docs/operations.md");
        }
        password = "repl-" + Long.toString(ThreadLocalRandom.current().nextLong(Long.MAX_VALUE), 36);
        primaryPort = Ports.free();
        primaryData = clusters.initdb("primary", USER, password);
        clusters.start(primaryData, HOST, primaryPort, COMMON_OPTIONS + " " + SynchronousStandby.PRIMARY_OPTIONS);
        standbyPort = Ports.free();
        standby = new SynchronousStandby(
                clusters.bin(), clusters.runAs(), clusters.dir().resolve("standby"));
        standby.copyFrom(HOST, primaryPort, USER, password);
        standby.start(
                clusters.dir().resolve("standby.log"),
                PrivateClusters.serverOptions(HOST, standbyPort, COMMON_OPTIONS),
                HOST,
                primaryPort,
                USER,
                password);
        // Only now: until the standby streams, every commit on the primary waits for it.
        prepareDatabase();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (cleanup != null) {
            clusters.delete();
            Runtime.getRuntime().removeShutdownHook(cleanup);
            cleanup = null;
        }
    }

    public int primaryPort() {
        return primaryPort;
    }

    public int standbyPort() {
        return standbyPort;
    }

    /** The password of the superuser {@value #USER}. */
    public String password() {
        return password;
    }

    /**
     * A libpq URL to {@value #DATABASE} as {@code user} with {@code password} listing both servers,
     * primary first, with {@code query} ({@code target_session_attrs=read-write}, ...).
     */
    public String url(String user, String password, String query) {
        return "postgresql://" + user + ":" + password + "@" + HOST + ":" + primaryPort + "," + HOST + ":" + standbyPort
                + "/" + DATABASE + (query.isEmpty() ? "" : "?" + query);
    }

    /** {@link #url} as the superuser {@value #USER}: the owner of what the test migrates. */
    public String ownerUrl(String query) {
        return url(USER, password, query);
    }

    /** Brings {@code schema} to the product's current version as the owner ({@link SchemaMigrator}). */
    public void migrate(String schema) throws Exception {
        PostgresSchema.migrator()
                .migrate(
                        "postgresql://" + USER + ":" + password + "@" + HOST + ":" + primaryPort + "/" + DATABASE
                                + "?sslmode=disable",
                        schema);
    }

    /** A new login holding {@code role} (such as {@code ragline_worker}); returns its password. */
    public String createLogin(String name, String role) throws SQLException {
        String secret = Long.toString(ThreadLocalRandom.current().nextLong(Long.MAX_VALUE), 36);
        execute(primaryPort, "create role " + name + " login password '" + secret + "' in role " + role);
        return secret;
    }

    /** Crashes the primary: {@code pg_ctl stop -m immediate}, no shutdown checkpoint, sessions cut. */
    public void stopPrimaryImmediately() {
        clusters.stopImmediately(primaryData);
    }

    /** Promotes the standby ({@code pg_ctl promote}) and waits until it accepts writes. */
    public void promoteStandby() {
        standby.promote();
    }

    /** The first column of the first row of {@code sql} on the server at {@code port}, or null. */
    public Object query(int port, String sql) throws SQLException {
        try (Connection c = connect(port);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getObject(1) : null;
        }
    }

    /** Runs {@code sql} (no rows) on the server at {@code port}. */
    public void execute(int port, String sql) throws SQLException {
        try (Connection c = connect(port);
                Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    private void prepareDatabase() throws SQLException {
        execute(primaryPort, "create database " + DATABASE);
        execute(primaryPort, "create extension if not exists vector with schema public");
    }

    /** A connection as {@value #USER} to {@value #DATABASE} (or {@code postgres} before it exists). */
    private Connection connect(int port) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", USER);
        props.setProperty("password", password);
        props.setProperty("connectTimeout", "5");
        String base = "jdbc:postgresql://" + HOST + ":" + port + "/";
        try {
            return DriverManager.getConnection(base + DATABASE, props);
        } catch (SQLException e) {
            if ("3D000".equals(e.getSQLState())) { // not created yet
                return DriverManager.getConnection(base + "postgres", props);
            }
            throw e;
        }
    }
}
