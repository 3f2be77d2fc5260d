package io.ragline.core.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
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
     * A pool whose connections have {@code search_path = schema, public}, so SQL names Ragline's
     * tables unqualified and finds the vector extension's type and operators in {@code public}.
     */
    public static HikariDataSource pool(
            DatabaseUrl url, String schema, int size, String applicationName, MeterRegistry registry) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url.jdbcUrl());
        config.setUsername(url.user());
        config.setPassword(url.password().reveal());
        config.setPoolName("ragline-" + applicationName);
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(Math.min(2, size));
        config.setConnectionTimeout(Duration.ofSeconds(10).toMillis());
        config.setValidationTimeout(Duration.ofSeconds(3).toMillis());
        // Fail fast only through our own start-up check, which reports every problem at once.
        config.setInitializationFailTimeout(-1);
        config.addDataSourceProperty("ApplicationName", "ragline-" + applicationName);
        config.addDataSourceProperty("currentSchema", schema + ",public");
        config.addDataSourceProperty("reWriteBatchedInserts", "true");
        config.addDataSourceProperty("tcpKeepAlive", "true");
        // The server's DETAIL ("Failing row contains (...)") is row content: keep it out of
        // exception messages, which reach logs and dead-letter headers.
        config.addDataSourceProperty("logServerErrorDetail", "false");
        if (registry != null) {
            config.setMetricRegistry(registry);
        }
        return new HikariDataSource(config);
    }

    /** One connection outside the pool (LISTEN, advisory locks held for a session, checks). */
    public static Connection connect(DatabaseUrl url, String schema, String applicationName, Duration timeout)
            throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", url.user());
        props.setProperty("password", url.password().reveal());
        props.setProperty("ApplicationName", "ragline-" + applicationName);
        props.setProperty("currentSchema", schema + ",public");
        props.setProperty("connectTimeout", String.valueOf(Math.max(1, timeout.toSeconds())));
        props.setProperty("loginTimeout", String.valueOf(Math.max(1, timeout.toSeconds())));
        props.setProperty("logServerErrorDetail", "false");
        return DriverManager.getConnection(url.jdbcUrl(), props);
    }
}
