package io.ragline.core.config;

import java.time.Duration;
import java.util.Optional;

/**
 * How long Ragline waits on PostgreSQL, for every pool and dedicated connection it opens (applied in
 * one place, {@code io.ragline.core.db.ConnectionProperties}). A server that vanishes without a TCP
 * reset (a partition, a failed-over VM whose address is gone, a frozen primary) answers nothing:
 * without a socket timeout a JDBC call would wait for ever.
 *
 * @param connect opening a connection to one host (TCP connect, TLS, login); the whole login and the
 *     longest wait for one from a pool (HikariCP's {@code connectionTimeout}) get it once per host
 *     of the URL; an idle pooled connection is checked within half of it, at most 3 s
 * @param socket the longest silence on a pipeline connection's socket (pools, the LISTEN connection,
 *     the dispatcher's lease, checks) before the driver gives the connection up; empty: none
 * @param longSocket the same for connections whose statements legitimately run long (migrations and
 *     their index builds, {@code collections reindex}, {@code migrate}, the console's long routes,
 *     the builtin trainer's read); empty (the default): none, TCP keep-alive only; when set, longer
 *     than {@link #MIGRATION_LOCK_WAIT}
 * @param keepalive how often HikariCP checks an idle pooled connection ({@code keepaliveTime})
 * @param maxLifetime the age at which HikariCP replaces a pooled connection ({@code maxLifetime}),
 *     so that a pool drifts to a failed-over server's new address
 */
public record DatabaseTimeouts(
        Duration connect,
        Optional<Duration> socket,
        Optional<Duration> longSocket,
        Duration keepalive,
        Duration maxLifetime) {

    public static final String CONNECT_TIMEOUT = "RAGLINE_DB_CONNECT_TIMEOUT";
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
    public static final String SOCKET_TIMEOUT = "RAGLINE_DB_SOCKET_TIMEOUT";
    public static final Duration DEFAULT_SOCKET_TIMEOUT = Duration.ofSeconds(60);
    public static final String LONG_SOCKET_TIMEOUT = "RAGLINE_DB_LONG_SOCKET_TIMEOUT";
    public static final String KEEPALIVE_TIME = "RAGLINE_DB_KEEPALIVE_TIME";
    public static final Duration DEFAULT_KEEPALIVE_TIME = Duration.ofSeconds(30);
    public static final String MAX_LIFETIME = "RAGLINE_DB_MAX_LIFETIME";
    public static final Duration DEFAULT_MAX_LIFETIME = Duration.ofMinutes(30);

    /** HikariCP's floor for a connection timeout: a shorter one silently becomes 30 s. */
    public static final Duration MIN_CONNECT_TIMEOUT = Duration.ofMillis(250);
    /** The driver counts socket timeouts in whole seconds. */
    public static final Duration MIN_SOCKET_TIMEOUT = Duration.ofSeconds(1);
    /**
     * How long a migration waits for the schema's migration lock (another process migrating): a
     * long statements' socket timeout must be longer, or it would cut that wait.
     */
    public static final Duration MIGRATION_LOCK_WAIT = Duration.ofMinutes(5);
    /** HikariCP's floor for keep-alive and lifetime: a shorter one is silently ignored. */
    public static final Duration MIN_POOL_PERIOD = Duration.ofSeconds(30);

    private static final Duration MAX = Duration.ofDays(1);

    public static final DatabaseTimeouts DEFAULT = new DatabaseTimeouts(
            DEFAULT_CONNECT_TIMEOUT,
            Optional.of(DEFAULT_SOCKET_TIMEOUT),
            Optional.empty(),
            DEFAULT_KEEPALIVE_TIME,
            DEFAULT_MAX_LIFETIME);

    /** Every rule; each problem names its variable. */
    public DatabaseTimeouts {
        Problems p = new Problems();
        p.present(CONNECT_TIMEOUT, connect);
        p.present(SOCKET_TIMEOUT, socket);
        p.present(LONG_SOCKET_TIMEOUT, longSocket);
        p.present(KEEPALIVE_TIME, keepalive);
        p.present(MAX_LIFETIME, maxLifetime);
        p.throwIfAny();
        within(p, CONNECT_TIMEOUT, connect, MIN_CONNECT_TIMEOUT, "HikariCP's floor");
        socket.ifPresent(
                s -> within(p, SOCKET_TIMEOUT, s, MIN_SOCKET_TIMEOUT, "the driver counts whole seconds; off for none"));
        longSocket.ifPresent(s ->
                within(p, LONG_SOCKET_TIMEOUT, s, MIN_SOCKET_TIMEOUT, "the driver counts whole seconds; off for none"));
        longSocket.ifPresent(s -> p.check(
                s.compareTo(MIGRATION_LOCK_WAIT) > 0,
                Problems.quoted(LONG_SOCKET_TIMEOUT, Problems.text(s)) + " must be longer than "
                        + Problems.text(MIGRATION_LOCK_WAIT) + " (a migration waits up to "
                        + Problems.text(MIGRATION_LOCK_WAIT) + " for another's lock; off for none)"));
        if (socket.isPresent() && longSocket.isPresent()) {
            p.check(
                    longSocket.get().compareTo(socket.get()) >= 0,
                    Problems.quoted(LONG_SOCKET_TIMEOUT, Problems.text(longSocket.get())) + " must not be shorter than "
                            + Problems.quoted(SOCKET_TIMEOUT, Problems.text(socket.get()))
                            + " (long statements would be cut before the pipeline's)");
        }
        if (socket.isEmpty() && longSocket.isPresent()) {
            p.check(
                    false,
                    Problems.quoted(LONG_SOCKET_TIMEOUT, Problems.text(longSocket.get())) + " is set while "
                            + SOCKET_TIMEOUT + "=off: long statements would be cut, the pipeline's not");
        }
        within(p, KEEPALIVE_TIME, keepalive, MIN_POOL_PERIOD, "HikariCP ignores a shorter one");
        within(p, MAX_LIFETIME, maxLifetime, MIN_POOL_PERIOD, "HikariCP ignores a shorter one");
        p.check(
                maxLifetime.compareTo(keepalive) > 0,
                Problems.quoted(MAX_LIFETIME, Problems.text(maxLifetime)) + " must be longer than "
                        + Problems.quoted(KEEPALIVE_TIME, Problems.text(keepalive)));
        p.throwIfAny();
    }

    /** Reads the five variables; bad values are recorded in {@code env} and the defaults stand in. */
    public static DatabaseTimeouts from(Env env) {
        Duration connect = env.duration(CONNECT_TIMEOUT, DEFAULT_CONNECT_TIMEOUT);
        Optional<Duration> socket = env.durationOrOff(SOCKET_TIMEOUT, Optional.of(DEFAULT_SOCKET_TIMEOUT));
        Optional<Duration> longSocket = env.durationOrOff(LONG_SOCKET_TIMEOUT, Optional.empty());
        Duration keepalive = env.duration(KEEPALIVE_TIME, DEFAULT_KEEPALIVE_TIME);
        Duration maxLifetime = env.duration(MAX_LIFETIME, DEFAULT_MAX_LIFETIME);
        return env.build(
                () -> new DatabaseTimeouts(connect, socket, longSocket, keepalive, maxLifetime), () -> DEFAULT);
    }

    /**
     * These timeouts with {@code budget} for both opening a connection and a socket's silence: for a
     * pool whose callers must hear an answer within a budget of their own (the webhook receiver).
     */
    public DatabaseTimeouts within(Duration budget) {
        Duration c = budget.compareTo(MIN_CONNECT_TIMEOUT) < 0 ? MIN_CONNECT_TIMEOUT : budget;
        Duration s = budget.compareTo(MIN_SOCKET_TIMEOUT) < 0 ? MIN_SOCKET_TIMEOUT : budget;
        Optional<Duration> l = longSocket.map(x -> x.compareTo(s) < 0 ? s : x);
        return new DatabaseTimeouts(c, Optional.of(s), l, keepalive, maxLifetime);
    }

    /** These timeouts with {@code connect} for opening a connection (a check with its own bound). */
    public DatabaseTimeouts withConnect(Duration connect) {
        Duration c = connect.compareTo(MIN_CONNECT_TIMEOUT) < 0 ? MIN_CONNECT_TIMEOUT : connect;
        return new DatabaseTimeouts(c, socket, longSocket, keepalive, maxLifetime);
    }

    /** These timeouts with {@code socket} as the pipeline's socket timeout (tests, benchmarks). */
    public DatabaseTimeouts withSocket(Duration socket) {
        Optional<Duration> l = longSocket.map(x -> x.compareTo(socket) < 0 ? socket : x);
        return new DatabaseTimeouts(connect, Optional.of(socket), l, keepalive, maxLifetime);
    }

    private static void within(Problems p, String variable, Duration value, Duration min, String why) {
        p.check(
                value.compareTo(min) >= 0 && value.compareTo(MAX) <= 0,
                Problems.quoted(variable, Problems.text(value)) + " must be between " + Problems.text(min) + " and 1d ("
                        + why + ")");
    }

    @Override
    public String toString() {
        return "connect " + Problems.text(connect) + ", socket "
                + socket.map(Problems::text).orElse("off")
                + ", long statements' socket " + longSocket.map(Problems::text).orElse("off") + ", keep-alive "
                + Problems.text(keepalive) + ", max lifetime " + Problems.text(maxLifetime);
    }
}
