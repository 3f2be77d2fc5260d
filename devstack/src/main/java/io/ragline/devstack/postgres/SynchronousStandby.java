package io.ragline.devstack.postgres;

import io.ragline.devstack.DevStackException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.Properties;

/**
 * A streaming standby of a private PostgreSQL cluster that its primary waits for: every commit on
 * the primary returns only once the standby has flushed it, so a promotion loses nothing a client
 * saw committed. The one home of how Ragline runs such a pair, for {@code ragline dev up
 * --postgres-standby} ({@link LocalPostgres}) and for the test kit's {@code ReplicatedPostgres}:
 * the primary's options ({@link #PRIMARY_OPTIONS}), the copy ({@code pg_basebackup -R}), the
 * standby's start and name, the wait until it replicates synchronously, and its promotion.
 */
public final class SynchronousStandby {
    /** The standby's {@code cluster_name}, hence its replication connection's application_name. */
    public static final String NAME = "ragline_standby";

    /**
     * Server options of the primary: commits wait for {@value #NAME}. Given on the command line,
     * not in {@code postgresql.auto.conf}, so that the standby's copy of the files does not wait
     * for a synchronous standby of its own once promoted.
     */
    public static final String PRIMARY_OPTIONS = "-c synchronous_commit=on -c synchronous_standby_names=" + NAME;

    private static final Duration SYNC_TIMEOUT = Duration.ofSeconds(60);

    private final Path bin;
    private final String runAs;
    private final Path data;

    /**
     * @param bin the server binaries
     * @param runAs the user the clusters run as ({@code postgres} when we are root), or null
     * @param data the standby's data directory; its parent must belong to {@code runAs}
     */
    public SynchronousStandby(Path bin, String runAs, Path data) {
        this.bin = bin;
        this.runAs = runAs;
        this.data = data;
    }

    public Path data() {
        return data;
    }

    /** Whether the standby's copy was made. */
    public boolean exists() {
        return Files.exists(data.resolve("PG_VERSION"));
    }

    /** Whether the copy was promoted: a primary of its own now, which no longer follows the old one. */
    public boolean promoted() {
        return exists() && !Files.exists(data.resolve("standby.signal"));
    }

    public boolean isRunning() {
        return exists() && PgCtl.isRunning(bin, data, runAs);
    }

    /**
     * Copies the primary running on {@code host:primaryPort} (started with {@link #PRIMARY_OPTIONS})
     * as the superuser {@code user}; the copy follows it once started ({@code pg_basebackup -R}).
     */
    public void copyFrom(String host, int primaryPort, String user, String password) {
        PgCtl.baseBackup(bin, data, runAs, host, primaryPort, user, password);
    }

    /**
     * Starts the standby with {@code serverOptions} (its port, listen address, ...) and its name,
     * its log in {@code log}, then waits until the primary on {@code host:primaryPort} counts it as
     * its synchronous standby. Until then every commit on the primary waits.
     */
    public void start(Path log, String serverOptions, String host, int primaryPort, String user, String password) {
        PgCtl.start(bin, data, log, runAs, serverOptions + " -c cluster_name=" + NAME);
        awaitSynchronous(host, primaryPort, user, password);
    }

    /** Whether the primary in {@code primaryData} runs with {@link #PRIMARY_OPTIONS} (its {@code postmaster.opts}). */
    public static boolean awaitedBy(Path primaryData) {
        try {
            Path opts = primaryData.resolve("postmaster.opts");
            // The options as given, each quoted: "-c" "synchronous_standby_names=ragline_standby".
            return Files.exists(opts) && Files.readString(opts).contains("synchronous_standby_names=" + NAME);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the options of " + primaryData, e);
        }
    }

    /** Promotes the standby ({@code pg_ctl promote}) and waits until it accepts writes. */
    public void promote() {
        PgCtl.promote(bin, data, runAs);
    }

    /** Stops the standby ({@code fast}), if it runs. */
    public void stop() {
        if (isRunning()) {
            PgCtl.stop(bin, data, runAs, "fast");
        }
    }

    /** Until the primary on {@code host:primaryPort} counts the standby as its synchronous standby. */
    public void awaitSynchronous(String host, int primaryPort, String user, String password) {
        Instant deadline = Instant.now().plus(SYNC_TIMEOUT);
        String state = "(not asked)";
        while (Instant.now().isBefore(deadline)) {
            try {
                state = syncState(host, primaryPort, user, password);
                if ("sync".equals(state)) {
                    return;
                }
            } catch (SQLException e) {
                state = "cannot ask the primary: " + e.getMessage();
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new DevStackException("interrupted while waiting for the PostgreSQL standby", e);
            }
        }
        throw new DevStackException("the PostgreSQL standby " + NAME + " did not replicate synchronously from "
                + host + ":" + primaryPort + " within " + SYNC_TIMEOUT + " (sync_state: " + state
                + "); its log is beside "
                + data + "; a copy too far behind to catch up is made anew once its directory is deleted");
    }

    private static String syncState(String host, int port, String user, String password) throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", user);
        props.setProperty("password", password);
        props.setProperty("connectTimeout", "5");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + host + ":" + port + "/postgres", props);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(
                        "select sync_state from pg_stat_replication where application_name = '" + NAME + "'")) {
            return rs.next() ? rs.getString(1) : "not connected";
        }
    }
}
