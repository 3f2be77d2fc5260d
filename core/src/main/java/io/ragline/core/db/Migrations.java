package io.ragline.core.db;

import io.ragline.core.config.DatabaseUrl;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.MigrationInfo;
import org.flywaydb.core.api.MigrationInfoService;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the schema with Flyway. Several processes may start at once: each takes a session
 * advisory lock first, so one migrates while the others wait and then find nothing to do.
 */
public final class Migrations {
    private static final Logger log = LoggerFactory.getLogger(Migrations.class);
    /** Advisory lock key: the first 8 bytes of "ragline!" as a bigint. */
    /** Flyway's history table in the schema (its default name). */
    public static final String HISTORY_TABLE = "flyway_schema_history";

    static final long LOCK_KEY = 0x7261676c696e6521L;

    /** How long a migrator waits for another one before it gives up. */
    public static final java.time.Duration LOCK_TIMEOUT = io.ragline.core.config.DatabaseTimeouts.MIGRATION_LOCK_WAIT;

    private final DatabaseUrl url;
    private final String schema;
    private final String applicationName;
    /** Migrating: index builds and data migrations run long, not cut by the pipeline's socket timeout. */
    private final DataSource dataSource;
    /** Reading the history (readiness, start-up checks): short, under the pipeline's socket timeout. */
    private final DataSource infoSource;

    /**
     * Migrations never borrow a worker's pool: Flyway needs more than one connection at a time,
     * and the lock holds another, so a small pool would deadlock. They open their own.
     */
    public Migrations(DatabaseUrl url, String schema, String applicationName) {
        this.url = url;
        this.schema = schema;
        this.applicationName = applicationName;
        this.dataSource = new DriverDataSource(url, schema, applicationName, ConnectionProperties.Use.LONG_STATEMENTS);
        this.infoSource = new DriverDataSource(url, schema, applicationName, ConnectionProperties.Use.PIPELINE);
    }

    private void unlock(Connection lock) throws SQLException {
        try (PreparedStatement s = lock.prepareStatement("select pg_advisory_unlock(?, hashtext(?))")) {
            s.setInt(1, (int) (LOCK_KEY >>> 32));
            s.setString(2, schema);
            s.execute();
        }
    }

    /** Result of a migration run: how many migrations ran and the version the schema is at. */
    public record Outcome(int applied, String version) {}

    public Outcome migrate() throws SQLException {
        return migrate(null);
    }

    /** Migrates up to {@code target} (a version such as "9"), or to the latest when null; for upgrade tests. */
    Outcome migrate(String target) throws SQLException {
        try (Connection lock =
                Database.connect(url, schema, applicationName + "-lock", ConnectionProperties.Use.LONG_STATEMENTS)) {
            lock.setAutoCommit(true);
            try (Statement s = lock.createStatement()) {
                s.execute("set lock_timeout = '" + LOCK_TIMEOUT.toSeconds() + "s'");
            }
            try (PreparedStatement s = lock.prepareStatement("select pg_advisory_lock(?, hashtext(?))")) {
                s.setInt(1, (int) (LOCK_KEY >>> 32));
                s.setString(2, schema);
                s.execute();
            }
            // The unlock after a failure must not hide it: a broken connection fails the unlock too
            // ("This connection has been closed", 08003), and start-up decides by the migration's own
            // failure whether waiting for the database can help (StartupWait).
            Outcome outcome;
            try {
                requireDdl(lock, schema);
                ensureVectorExtension(lock);
                MigrateResult result = migrateUnwrapped(target);
                String version = result.targetSchemaVersion != null ? result.targetSchemaVersion : currentVersion();
                if (result.migrationsExecuted > 0) {
                    log.info(
                            "schema {} migrated to version {} ({} migrations applied)",
                            schema,
                            version,
                            result.migrationsExecuted);
                } else {
                    log.info("schema {} is up to date at version {}", schema, version);
                }
                outcome = new Outcome(result.migrationsExecuted, version);
            } catch (Throwable failure) {
                try {
                    unlock(lock);
                } catch (SQLException e) {
                    failure.addSuppressed(e);
                }
                throw failure;
            }
            unlock(lock);
            return outcome;
        }
    }

    /**
     * Flyway's own exception wraps the server's message in a page of context: the server's error
     * (a missing privilege, the roles the DBA must create) is what the operator needs to read.
     */
    private MigrateResult migrateUnwrapped(String target) throws SQLException {
        try {
            return flyway(target, dataSource).migrate();
        } catch (FlywayException e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof SQLException sql && sql.getSQLState() != null) {
                    throw new SQLException(sql.getMessage(), sql.getSQLState(), e);
                }
            }
            throw e;
        }
    }

    /**
     * Migrating needs CREATE on the schema (or on the database while the schema does not exist):
     * a worker login has neither, and is told so before Flyway fails on its first statement.
     */
    private static void requireDdl(Connection c, String schema) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select current_user, coalesce((select"
                + " has_schema_privilege(oid, 'CREATE') from pg_namespace where nspname = ?),"
                + " has_database_privilege(current_database(), 'CREATE'))")) {
            s.setString(1, schema);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(2)) {
                    throw new SQLException(
                            "user " + rs.getString(1) + " cannot migrate schema " + schema + " (it has no CREATE"
                                    + " privilege there): run `ragline migrate` as the schema's owner, and start"
                                    + " the workers with RAGLINE_MIGRATE_ON_START=false",
                            INSUFFICIENT_PRIVILEGE);
                }
            }
        }
    }

    /** The SQL state of a missing privilege: a configuration problem (the wrong user), not a failure. */
    public static final String INSUFFICIENT_PRIVILEGE = "42501";

    /** True when every migration this build knows has been applied (readiness). */
    public boolean upToDate() {
        return flyway().info().pending().length == 0;
    }

    /** How many migrations this build has that the schema has not applied yet. */
    public int pendingCount() {
        return flyway().info().pending().length;
    }

    /**
     * Names the version the schema is at and those pending, when any are: "schema rag is at version
     * 11, 12 is pending: run `ragline migrate` as the owner".
     */
    public Optional<String> pendingProblem() {
        MigrationInfoService info = flyway().info();
        MigrationInfo[] pending = info.pending();
        if (pending.length == 0) {
            return Optional.empty();
        }
        MigrationInfo current = info.current();
        List<String> versions =
                Arrays.stream(pending).map(m -> m.getVersion().getVersion()).toList();
        return Optional.of("schema " + schema + " is "
                + (current == null
                        ? "not migrated"
                        : "at version " + current.getVersion().getVersion()) + ", "
                + String.join(", ", versions) + (versions.size() == 1 ? " is" : " are")
                + " pending: run `ragline migrate` as the owner");
    }

    public String currentVersion() {
        MigrationInfo current = flyway().info().current();
        return current == null ? "none" : current.getVersion().getVersion();
    }

    /** Flyway for reading the history only. */
    private Flyway flyway() {
        return flyway(null, infoSource);
    }

    private Flyway flyway(String target, DataSource dataSource) {
        return Flyway.configure(Migrations.class.getClassLoader())
                .target(target == null ? "latest" : target)
                .dataSource(dataSource)
                .schemas(schema)
                .defaultSchema(schema)
                .createSchemas(true)
                .locations("classpath:io/ragline/core/db/migration")
                .table(HISTORY_TABLE)
                .callbacks(new RoleGrants(schema, HISTORY_TABLE))
                .placeholders(Map.of("schema", schema))
                .validateMigrationNaming(true)
                .load();
    }

    /**
     * The vector extension is database-wide and belongs in {@code public}, never in our schema
     * (dropping a schema must not drop it). Creating it needs a superuser once; after that any
     * role can migrate.
     */
    private static void ensureVectorExtension(Connection c) throws SQLException {
        if (vectorVersion(c) == null) {
            try (Statement s = c.createStatement()) {
                s.execute("create extension if not exists vector with schema public");
            } catch (SQLException e) {
                // Another schema's migrator may have created it this instant (unique violation).
                if (vectorVersion(c) == null) {
                    throw new SQLException(
                            "the vector extension is not installed in this database and this role"
                                    + " cannot create it (" + e.getMessage()
                                    + "); ask a superuser to run: create extension"
                                    + " vector with schema public",
                            e.getSQLState(),
                            e);
                }
            }
        }
        String version = vectorVersion(c);
        if (compareVersions(version, MIN_PGVECTOR) < 0) {
            throw new SQLException(
                    "pgvector " + version + " is too old: Ragline needs " + MIN_PGVECTOR
                            + " or newer (HNSW indexes); run: alter extension vector update",
                    "0A000");
        }
    }

    /** HNSW indexes arrived in pgvector 0.5.0. */
    static final String MIN_PGVECTOR = "0.5.0";

    private static String vectorVersion(Connection c) throws SQLException {
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select extversion from pg_extension where extname = 'vector'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    static int compareVersions(String a, String b) {
        String[] x = a.split("\\.");
        String[] y = b.split("\\.");
        for (int i = 0; i < Math.max(x.length, y.length); i++) {
            int xi = i < x.length ? Integer.parseInt(x[i].replaceAll("\\D.*", "")) : 0;
            int yi = i < y.length ? Integer.parseInt(y[i].replaceAll("\\D.*", "")) : 0;
            if (xi != yi) {
                return Integer.compare(xi, yi);
            }
        }
        return 0;
    }

    /** Unpooled connections for Flyway, with Ragline's search path. */
    private record DriverDataSource(
            DatabaseUrl url, String schema, String applicationName, ConnectionProperties.Use use)
            implements DataSource {
        @Override
        public Connection getConnection() throws SQLException {
            return Database.connect(url, schema, applicationName, use);
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            throw new SQLFeatureNotSupportedException("credentials come from DATABASE_URL");
        }

        @Override
        public PrintWriter getLogWriter() {
            return null;
        }

        @Override
        public void setLogWriter(PrintWriter out) {}

        @Override
        public void setLoginTimeout(int seconds) {}

        @Override
        public int getLoginTimeout() {
            return 10;
        }

        @Override
        public java.util.logging.Logger getParentLogger() throws SQLFeatureNotSupportedException {
            throw new SQLFeatureNotSupportedException();
        }

        @Override
        public <T> T unwrap(Class<T> iface) throws SQLException {
            throw new SQLException("not a wrapper");
        }

        @Override
        public boolean isWrapperFor(Class<?> iface) {
            return false;
        }

        @Override
        public String toString() {
            return "DriverDataSource[" + url + "]";
        }
    }
}
