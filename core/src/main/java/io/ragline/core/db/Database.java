package io.ragline.core.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.SQLExceptionOverride;
import io.micrometer.core.instrument.MeterRegistry;
import io.ragline.core.config.DatabaseUrl;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;

/** Connections to the Ragline schema: a HikariCP pool, and single unpooled connections for LISTEN. */
public final class Database {
    private Database() {}

    /**
     * How long a pool's callers wait. HikariCP copies these when the pool is built (changing them
     * later through its MXBean has no effect), so they are given here.
     *
     * @param connection longest wait for a connection from the pool, which also bounds opening one
     *     (login) and, halved, checking an idle one; at least 250 ms (HikariCP's floor)
     * @param socket longest silence on a connection's socket before the driver gives it up (the
     *     server or the network is gone without a reset); zero for none, for pools whose statements
     *     may legitimately run long
     */
    /** SQLSTATE read_only_sql_transaction: a write reached a server (or session) that is read-only. */
    static final String READ_ONLY = "25006";

    public record Timeouts(Duration connection, Duration socket) {
        /** HikariCP's floor: a shorter connection timeout would silently become 30 s. */
        public static final Duration MINIMUM = Duration.ofMillis(250);

        /** What the runtime's shared pool uses: 10 s for a connection, no socket timeout. */
        public static final Timeouts DEFAULT = new Timeouts(Duration.ofSeconds(10), Duration.ZERO);

        public Timeouts {
            connection = connection.compareTo(MINIMUM) < 0 ? MINIMUM : connection;
            if (socket.isNegative()) {
                throw new IllegalArgumentException("socket timeout " + socket + " is negative");
            }
        }
    }

    /**
     * A pool whose connections have {@code search_path = schema, public}, so SQL names Ragline's
     * tables unqualified and finds the vector extension's type and operators in {@code public}.
     */
    public static HikariDataSource pool(
            DatabaseUrl url, String schema, int size, String applicationName, MeterRegistry registry) {
        return pool(url, schema, size, applicationName, registry, Timeouts.DEFAULT);
    }

    /** {@link #pool(DatabaseUrl, String, int, String, MeterRegistry)} with its own timeouts. */
    public static HikariDataSource pool(
            DatabaseUrl url,
            String schema,
            int size,
            String applicationName,
            MeterRegistry registry,
            Timeouts timeouts) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url.jdbcUrl());
        config.setUsername(url.user());
        if (!url.password().isEmpty()) {
            // Set even as "", a password would keep the driver from looking in PGPASSFILE / ~/.pgpass.
            config.setPassword(url.password().reveal());
        }
        config.setPoolName("ragline-" + applicationName);
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(Math.min(2, size));
        long connectionMillis = timeouts.connection().toMillis();
        config.setConnectionTimeout(connectionMillis);
        // Checking an idle connection happens inside the wait for one: keep it well within it.
        config.setValidationTimeout(Math.max(Timeouts.MINIMUM.toMillis(), Math.min(3000, connectionMillis / 2)));
        // Fail fast only through our own start-up check, which reports every problem at once.
        config.setInitializationFailTimeout(-1);
        config.addDataSourceProperty("ApplicationName", "ragline-" + applicationName);
        config.addDataSourceProperty("currentSchema", schema + ",public");
        config.addDataSourceProperty("reWriteBatchedInserts", "true");
        config.addDataSourceProperty("tcpKeepAlive", "true");
        // Opening a connection (TCP connect, TLS, authentication) is bounded per pool: HikariCP's
        // own login timeout goes to DriverManager, which every pool in the JVM shares.
        config.addDataSourceProperty("connectTimeout", String.valueOf(seconds(timeouts.connection())));
        config.addDataSourceProperty("loginTimeout", String.valueOf(connectionMillis / 1000.0));
        if (!timeouts.socket().isZero()) {
            config.addDataSourceProperty("socketTimeout", String.valueOf(seconds(timeouts.socket())));
        }
        // The server's DETAIL ("Failing row contains (...)") is row content: keep it out of
        // exception messages, which reach logs and dead-letter headers.
        config.addDataSourceProperty("logServerErrorDetail", "false");
        // A connection whose server refused a write as read-only (a standby, or a primary demoted
        // in a failover) is not handed out again: the next one is opened anew, and a multi-host
        // URL that asks for the primary then finds the new one.
        config.setExceptionOverride(new ReadOnlyEviction());
        if (registry != null) {
            config.setMetricRegistry(registry);
        }
        return new HikariDataSource(config);
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

    /** Whole seconds, rounded up, at least one: what the driver's timeouts take. */
    private static long seconds(Duration d) {
        return Math.max(1, (d.toMillis() + 999) / 1000);
    }

    /** One connection outside the pool (LISTEN, advisory locks held for a session, checks). */
    public static Connection connect(DatabaseUrl url, String schema, String applicationName, Duration timeout)
            throws SQLException {
        return connect(url, schema, applicationName, timeout, Duration.ZERO);
    }

    /**
     * {@link #connect(DatabaseUrl, String, String, Duration)} whose reads give up after {@code
     * socket} of silence (zero for never), with TCP keep-alive: for a connection whose statements
     * run long, where a network that drops packets silently must not block its thread for ever.
     */
    public static Connection connect(
            DatabaseUrl url, String schema, String applicationName, Duration timeout, Duration socket)
            throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", url.user());
        if (!url.password().isEmpty()) {
            props.setProperty("password", url.password().reveal()); // none: PGPASSFILE / ~/.pgpass
        }
        props.setProperty("ApplicationName", "ragline-" + applicationName);
        props.setProperty("currentSchema", schema + ",public");
        props.setProperty("connectTimeout", String.valueOf(Math.max(1, timeout.toSeconds())));
        props.setProperty("loginTimeout", String.valueOf(Math.max(1, timeout.toSeconds())));
        props.setProperty("logServerErrorDetail", "false");
        if (!socket.isZero()) {
            props.setProperty("tcpKeepAlive", "true");
            props.setProperty("socketTimeout", String.valueOf(seconds(socket)));
        }
        return DriverManager.getConnection(url.jdbcUrl(), props);
    }
}
