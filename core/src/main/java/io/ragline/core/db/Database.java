package io.ragline.core.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.SQLExceptionOverride;
import io.micrometer.core.instrument.MeterRegistry;
import io.ragline.core.config.DatabaseTimeouts;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.ConnectionProperties.Use;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.Properties;

/** Connections to the Ragline schema: a HikariCP pool, and single unpooled connections for LISTEN. */
public final class Database {
    private Database() {}

    /** SQLSTATE read_only_sql_transaction: a write reached a server (or session) that is read-only. */
    static final String READ_ONLY = "25006";

    /**
     * A pool whose connections have {@code search_path = schema, public}, so SQL names Ragline's
     * tables unqualified and finds the vector extension's type and operators in {@code public}.
     */
    public static HikariDataSource pool(
            DatabaseUrl url, String schema, int size, String applicationName, MeterRegistry registry) {
        return pool(url, schema, size, applicationName, registry, Use.PIPELINE);
    }

    /**
     * {@link #pool(DatabaseUrl, String, int, String, MeterRegistry)} whose connections are of {@code
     * use}: {@link Use#LONG_STATEMENTS} for the console's operations that legitimately run long (an
     * index build, a re-embed's bulk update), which the pipeline's socket timeout would cut.
     */
    public static HikariDataSource pool(
            DatabaseUrl url, String schema, int size, String applicationName, MeterRegistry registry, Use use) {
        HikariConfig config = config(url, schema, size, applicationName, use);
        // A connection whose server refused a write as read-only (a standby, or a primary demoted
        // in a failover) is not handed out again: the next one is opened anew, and a multi-host
        // URL that asks for the primary then finds the new one.
        config.setExceptionOverride(new ReadOnlyEviction());
        if (registry != null) {
            config.setMetricRegistry(registry);
        }
        return new HikariDataSource(config);
    }

    /**
     * {@link #pool(DatabaseUrl, String, int, String, MeterRegistry)} with {@code timeouts} in place
     * of the URL's (the webhook receiver's budget, tests).
     */
    public static HikariDataSource pool(
            DatabaseUrl url,
            String schema,
            int size,
            String applicationName,
            MeterRegistry registry,
            DatabaseTimeouts timeouts) {
        return pool(url.withTimeouts(timeouts), schema, size, applicationName, registry);
    }

    private static HikariConfig config(DatabaseUrl url, String schema, int size, String applicationName, Use use) {
        DatabaseTimeouts t = url.timeouts();
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(ConnectionProperties.jdbcUrl(url, use));
        config.setUsername(url.user());
        if (!url.password().isEmpty()) {
            // Set even as "", a password would keep the driver from looking in PGPASSFILE / ~/.pgpass.
            config.setPassword(url.password().reveal());
        }
        config.setPoolName("ragline-" + applicationName);
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(use == Use.PIPELINE ? Math.min(2, size) : 0);
        // Long enough for a new connection to try every host of the URL (the driver's login timeout).
        long connectMillis = ConnectionProperties.login(url).toMillis();
        config.setConnectionTimeout(connectMillis);
        // Checking an idle connection happens inside the wait for one: keep it well within it.
        config.setValidationTimeout(
                Math.max(DatabaseTimeouts.MIN_CONNECT_TIMEOUT.toMillis(), Math.min(3000, connectMillis / 2)));
        config.setKeepaliveTime(t.keepalive().toMillis());
        config.setMaxLifetime(t.maxLifetime().toMillis());
        // Fail fast only through our own start-up check, which reports every problem at once.
        config.setInitializationFailTimeout(-1);
        config.setDataSourceProperties(ConnectionProperties.of(url, schema, applicationName, use));
        config.addDataSourceProperty("reWriteBatchedInserts", "true");
        return config;
    }

    /** Evicts a connection that got {@value #READ_ONLY}; everything else as HikariCP decides. */
    private static final class ReadOnlyEviction implements SQLExceptionOverride {
        @java.lang.Override
        public SQLExceptionOverride.Override adjudicate(SQLException e) {
            return READ_ONLY.equals(e.getSQLState())
                    ? SQLExceptionOverride.Override.MUST_EVICT
                    : SQLExceptionOverride.Override.CONTINUE_EVICT;
        }
    }

    /**
     * One connection outside the pool for the pipeline's statements (LISTEN, session locks, checks),
     * opened within {@code timeout}.
     */
    public static Connection connect(DatabaseUrl url, String schema, String applicationName, Duration timeout)
            throws SQLException {
        return connect(url.withTimeouts(url.timeouts().withConnect(timeout)), schema, applicationName, Use.PIPELINE);
    }

    /**
     * One connection outside the pool whose statements are of {@code use}: {@link
     * Use#LONG_STATEMENTS} for migrations, index builds and the like, which the pipeline's socket
     * timeout must not cut.
     */
    public static Connection connect(DatabaseUrl url, String schema, String applicationName, Use use)
            throws SQLException {
        return open(url, use, ConnectionProperties.of(url, schema, applicationName, use));
    }

    /**
     * {@link #connect(DatabaseUrl, String, String, Duration)} whose reads give up after {@code
     * socket} of silence: for a connection whose statements run long under a statement timeout of
     * their own, where a network that drops packets silently must not block its thread for ever.
     */
    public static Connection connect(
            DatabaseUrl url, String schema, String applicationName, Duration timeout, Duration socket)
            throws SQLException {
        DatabaseUrl u = url.withTimeouts(url.timeouts().withConnect(timeout));
        return open(
                u,
                Use.LONG_STATEMENTS,
                ConnectionProperties.of(u, schema, applicationName, Use.LONG_STATEMENTS, Optional.of(socket)));
    }

    private static Connection open(DatabaseUrl url, Use use, Properties props) throws SQLException {
        props.setProperty("user", url.user());
        if (!url.password().isEmpty()) {
            props.setProperty("password", url.password().reveal()); // none: PGPASSFILE / ~/.pgpass
        }
        return DriverManager.getConnection(ConnectionProperties.jdbcUrl(url, use), props);
    }
}
