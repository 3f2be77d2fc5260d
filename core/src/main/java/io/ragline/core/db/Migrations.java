package io.ragline.core.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;
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
    static final long LOCK_KEY = 0x7261676c696e6521L;

    private final DataSource dataSource;
    private final String schema;

    public Migrations(DataSource dataSource, String schema) {
        this.dataSource = dataSource;
        this.schema = schema;
    }

    /** Result of a migration run: how many migrations ran and the version the schema is at. */
    public record Outcome(int applied, String version) {}

    public Outcome migrate() throws SQLException {
        try (Connection lock = dataSource.getConnection()) {
            lock.setAutoCommit(true);
            try (PreparedStatement s = lock.prepareStatement("select pg_advisory_lock(?, hashtext(?))")) {
                s.setInt(1, (int) (LOCK_KEY >>> 32));
                s.setString(2, schema);
                s.execute();
            }
            try {
                ensureVectorExtension(lock);
                MigrateResult result = flyway().migrate();
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
                return new Outcome(result.migrationsExecuted, version);
            } finally {
                try (PreparedStatement s = lock.prepareStatement("select pg_advisory_unlock(?, hashtext(?))")) {
                    s.setInt(1, (int) (LOCK_KEY >>> 32));
                    s.setString(2, schema);
                    s.execute();
                }
            }
        }
    }

    /** True when every migration this build knows has been applied (readiness). */
    public boolean upToDate() {
        return flyway().info().pending().length == 0;
    }

    /** How many migrations this build has that the schema has not applied yet. */
    public int pendingCount() {
        return flyway().info().pending().length;
    }

    public String currentVersion() {
        MigrationInfo current = flyway().info().current();
        return current == null ? "none" : current.getVersion().getVersion();
    }

    private Flyway flyway() {
        return Flyway.configure(Migrations.class.getClassLoader())
                .dataSource(dataSource)
                .schemas(schema)
                .defaultSchema(schema)
                .createSchemas(true)
                .locations("classpath:io/ragline/core/db/migration")
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
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select 1 from pg_extension where extname = 'vector'")) {
            if (rs.next()) {
                return;
            }
        }
        try (Statement s = c.createStatement()) {
            s.execute("create extension if not exists vector with schema public");
        } catch (SQLException e) {
            throw new SQLException(
                    "the vector extension is not installed in this database and this role cannot"
                            + " create it (" + e.getMessage() + "); ask a superuser to run: create extension vector"
                            + " with schema public",
                    e.getSQLState(),
                    e);
        }
    }
}
