package io.ragline.core.db;

import io.ragline.core.config.DatabaseTimeouts;
import io.ragline.core.config.DatabaseUrl;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;

/**
 * The one home of the JDBC driver's properties for every pool and connection Ragline opens to
 * {@code DATABASE_URL}: search path, application name, and the timeouts of {@link DatabaseTimeouts}
 * (connect, login, socket, TCP keep-alive). A property the URL names itself (say {@code
 * socketTimeout=5} or libpq's {@code connect_timeout=3}) is not set here: the URL's wins, and
 * {@link #socketTimeout} reports it as the one in force. One exception: a {@code socketTimeout} in
 * the URL is a pipeline setting, and is taken out of the URL of a long-statement connection ({@link
 * #jdbcUrl}), whose statements (a migration's index build, a reindex, a 2-hour pgml training) it
 * would otherwise cut.
 */
public final class ConnectionProperties {
    /** What the connection's statements are: the pipeline's short ones, or ones that run long. */
    public enum Use {
        /** Pools, the LISTEN connection, the lease, checks: {@link DatabaseTimeouts#socket()}. */
        PIPELINE,
        /**
         * Migrations, index builds, {@code collections} commands, the console's long routes, the
         * builtin trainer's read: {@link DatabaseTimeouts#longSocket()}, never the URL's {@code
         * socketTimeout}.
         */
        LONG_STATEMENTS
    }

    static final String CONNECT_TIMEOUT = "connectTimeout";
    static final String LOGIN_TIMEOUT = "loginTimeout";
    static final String SOCKET_TIMEOUT = "socketTimeout";
    static final String TCP_KEEP_ALIVE = "tcpKeepAlive";

    private ConnectionProperties() {}

    /**
     * The driver's properties (no credentials) for a connection of {@code use}; {@code socket}, when
     * given, replaces the socket timeout {@code use} would get (a connection with a statement
     * timeout of its own, such as the training worker's pgml one).
     */
    public static Properties of(
            DatabaseUrl url, String schema, String applicationName, Use use, Optional<Duration> socket) {
        DatabaseTimeouts t = url.timeouts();
        Properties p = new Properties();
        p.setProperty("ApplicationName", "ragline-" + applicationName);
        p.setProperty("currentSchema", schema + ",public");
        // The server's DETAIL ("Failing row contains (...)") is row content: keep it out of
        // exception messages, which reach logs and dead-letter headers.
        p.setProperty("logServerErrorDetail", "false");
        // Opening a connection: the TCP connect, then the whole login (TLS, authentication), which a
        // silent server would otherwise hold for ever. Per connection: HikariCP's own login timeout
        // goes to DriverManager, which every pool in the JVM shares.
        // The driver tries the hosts of a multi-host URL in turn within one login timeout: it
        // covers each host's connect timeout, so that a silent first host leaves time for the next.
        setUnlessInUrl(p, url, CONNECT_TIMEOUT, String.valueOf(seconds(t.connect())));
        setUnlessInUrl(p, url, LOGIN_TIMEOUT, String.valueOf(login(url).toMillis() / 1000.0));
        // Keep-alive probes notice a dead peer on an idle connection (the LISTEN one waiting for a
        // doorbell, a pooled one between statements) where the socket timeout cannot.
        setUnlessInUrl(p, url, TCP_KEEP_ALIVE, "true");
        Optional<Duration> s = socket.isPresent() ? socket : configuredSocket(t, use);
        DatabaseUrl u = socket.isPresent() ? urlFor(url, Use.LONG_STATEMENTS) : urlFor(url, use);
        s.ifPresent(d -> setUnlessInUrl(p, u, SOCKET_TIMEOUT, String.valueOf(seconds(d))));
        return p;
    }

    /**
     * The JDBC URL of a connection of {@code use}: a long-statement one's without the URL's {@code
     * socketTimeout} (the driver lets a URL parameter win over a property).
     */
    public static String jdbcUrl(DatabaseUrl url, Use use) {
        return urlFor(url, use).jdbcUrl();
    }

    private static DatabaseUrl urlFor(DatabaseUrl url, Use use) {
        return use == Use.PIPELINE ? url : url.withoutParameter(SOCKET_TIMEOUT);
    }

    /**
     * The connect timeout in force for each host: libpq's {@code connect_timeout} or the driver's
     * {@code connectTimeout} when the URL names one above 0 (seconds), else the configured one.
     */
    public static Duration connectPerHost(DatabaseUrl url) {
        for (String name : java.util.List.of(CONNECT_TIMEOUT, DatabaseUrl.CONNECT_TIMEOUT)) {
            String inUrl = url.parameters().get(name);
            if (inUrl != null) {
                try {
                    long secs = Long.parseLong(inUrl.strip());
                    if (secs > 0) {
                        return Duration.ofSeconds(secs);
                    }
                } catch (NumberFormatException e) {
                    // the driver refuses it when connecting, naming it
                }
            }
        }
        return url.timeouts().connect();
    }

    /**
     * The longest an attempt to open a connection takes (the driver's {@code loginTimeout}, unless
     * the URL names one, and HikariCP's wait for a connection): each host's connect timeout, once
     * per host of the URL, so that every host is tried within one attempt.
     */
    public static Duration login(DatabaseUrl url) {
        return connectPerHost(url).multipliedBy(Math.max(1, url.hosts().size()));
    }

    /** The timeouts in force, URL parameters included, as the start-up log states them. */
    public static String effective(DatabaseUrl url) {
        DatabaseTimeouts t = url.timeouts();
        int hosts = url.hosts().size();
        return "connect " + text(connectPerHost(url)) + (hosts > 1 ? " per host" : "")
                + ", login " + text(login(url)) + (hosts > 1 ? " (" + hosts + " hosts)" : "")
                + ", socket "
                + socketTimeout(url, Use.PIPELINE)
                        .map(ConnectionProperties::text)
                        .orElse("off")
                + ", long statements' socket "
                + socketTimeout(url, Use.LONG_STATEMENTS)
                        .map(ConnectionProperties::text)
                        .orElse("off")
                + ", keep-alive " + text(t.keepalive()) + ", max lifetime " + text(t.maxLifetime());
    }

    private static String text(Duration d) {
        return io.ragline.core.config.Problems.text(d);
    }

    /** {@link #of} for a connection of {@code use} with its configured socket timeout. */
    public static Properties of(DatabaseUrl url, String schema, String applicationName, Use use) {
        return of(url, schema, applicationName, use, Optional.empty());
    }

    /**
     * The socket timeout in force on a connection of {@code use}: for the pipeline, the URL's {@code
     * socketTimeout} when it names one (0 there is none), else the configured one; empty for none.
     */
    public static Optional<Duration> socketTimeout(DatabaseUrl url, Use use) {
        String inUrl = urlFor(url, use).parameters().get(SOCKET_TIMEOUT);
        if (inUrl != null) {
            try {
                long secs = Long.parseLong(inUrl.strip());
                return secs > 0 ? Optional.of(Duration.ofSeconds(secs)) : Optional.empty();
            } catch (NumberFormatException e) {
                return Optional.empty(); // the driver refuses it when connecting, naming it
            }
        }
        return configuredSocket(url.timeouts(), use);
    }

    private static Optional<Duration> configuredSocket(DatabaseTimeouts t, Use use) {
        return use == Use.PIPELINE ? t.socket() : t.longSocket();
    }

    private static void setUnlessInUrl(Properties p, DatabaseUrl url, String name, String value) {
        if (!inUrl(url.parameters(), name)) {
            p.setProperty(name, value);
        }
    }

    /** Whether the URL names {@code property}, under the driver's name or libpq's. */
    static boolean inUrl(Map<String, String> parameters, String property) {
        return parameters.containsKey(property)
                || (CONNECT_TIMEOUT.equals(property) && parameters.containsKey(DatabaseUrl.CONNECT_TIMEOUT));
    }

    /** Whole seconds, rounded up, at least one: what the driver's timeouts take. */
    static long seconds(Duration d) {
        return Math.max(1, (d.toMillis() + 999) / 1000);
    }
}
