package io.ragline.devstack.postgres;

import io.ragline.devstack.Command;
import io.ragline.devstack.DevStackException;
import io.ragline.devstack.Ports;
import io.ragline.devstack.Privilege;
import io.ragline.devstack.Progress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;
import java.util.Properties;

/**
 * A private PostgreSQL cluster under {@code .ragline/postgres}: initdb'd once with a generated
 * password, started with pg_ctl on a loopback port that is remembered across restarts, with a
 * {@code ragline} database that has the vector extension. Data survives {@link #stop()}.
 */
public final class LocalPostgres {
    public static final String USER = "ragline";
    public static final String DATABASE = "ragline";

    private final Path dir;
    private final Progress progress;
    private final Privilege privilege;

    public LocalPostgres(Path raglineDir, Progress progress, Privilege privilege) {
        this.dir = raglineDir.resolve("postgres");
        this.progress = progress;
        this.privilege = privilege;
    }

    /** Starts the cluster unless it runs already; returns its libpq URL. */
    public String start() {
        Path data = dir.resolve("data");
        Path bin = binDirFor(data)
                .filter(PostgresInstallation::hasPgvector)
                .orElseGet(() -> new PostgresInstallation(progress, privilege).ensureServerWithPgvector());
        new PostgresInstallation(progress, privilege).offerPgCron(bin);
        String runAs = serviceUser();
        String password = password();
        if (!Files.exists(data.resolve("PG_VERSION"))) {
            initdb(bin, data, runAs, password);
        }
        int port;
        if (PgCtl.isRunning(bin, data, runAs)) {
            port = Ports.remembered(dir.resolve("port"), true);
            progress.step("PostgreSQL already running on 127.0.0.1:" + port);
        } else {
            port = Ports.remembered(dir.resolve("port"), false);
            progress.step("starting PostgreSQL " + PostgresInstallation.major(bin) + " on 127.0.0.1:" + port);
            PgCtl.start(
                    bin,
                    data,
                    dir.resolve("postgres.log"),
                    runAs,
                    serverOptions(port, PostgresInstallation.hasPgCron(bin)));
        }
        ensureDatabase(port, password);
        return url(port, password);
    }

    public void stop() {
        Path data = dir.resolve("data");
        if (!Files.exists(data.resolve("PG_VERSION"))) {
            return;
        }
        Path bin = binDirFor(data)
                .orElseThrow(() -> new DevStackException("cannot stop PostgreSQL: no server binaries found"));
        String runAs = serviceUser();
        if (PgCtl.isRunning(bin, data, runAs)) {
            progress.step("stopping PostgreSQL (data stays in " + data + ")");
            PgCtl.stop(bin, data, runAs, "fast");
        }
    }

    /**
     * The binaries of the cluster's own major version ({@code data/PG_VERSION}) when it exists,
     * so that a newer server installed later does not try to start an older cluster.
     */
    private static java.util.Optional<Path> binDirFor(Path data) {
        try {
            if (Files.exists(data.resolve("PG_VERSION"))) {
                String major = Files.readString(data.resolve("PG_VERSION")).strip();
                Path bin = Path.of("/usr/lib/postgresql", major, "bin");
                if (Files.isExecutable(bin.resolve("pg_ctl"))) {
                    return java.util.Optional.of(bin);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return PostgresInstallation.findBinDir();
    }

    public static String url(int port, String password) {
        return "postgresql://" + USER + ":" + password + "@127.0.0.1:" + port + "/" + DATABASE + "?sslmode=disable";
    }

    private String serverOptions(int port, boolean pgCron) {
        // A development cluster: durability traded for speed (fsync off), as the tests restart it
        // cleanly and never need crash safety of the server itself.
        // TCP on loopback only: a Unix socket under the repository could exceed the 107-byte path
        // limit in a deep workspace.
        return "-p " + port
                + " -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                + " -c shared_buffers=256MB"
                // Logical decoding available, so a benchmark can run a peer relay that reads the WAL
                // (Debezium) and a test can stream to a standby against the same cluster.
                + " -c wal_level=logical"
                // pg_cron, where installed, loads at start and runs its jobs in the ragline database
                // on background workers (no password-authenticated connection back to the server).
                + (pgCron
                        ? " -c shared_preload_libraries=pg_cron -c cron.database_name=" + DATABASE
                                + " -c cron.use_background_workers=on -c max_worker_processes=16"
                        : "");
    }

    private void initdb(Path bin, Path data, String runAs, String password) {
        progress.step("creating a PostgreSQL cluster in " + data);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (runAs != null) {
            Command.of("chown", "-R", runAs + ":", dir.toString()).run();
        }
        PgCtl.initdb(bin, data, runAs, USER, password);
    }

    /** initdb refuses to run as root; as root we run the cluster as the distribution's postgres user. */
    private String serviceUser() {
        if (privilege != Privilege.ROOT) {
            return null;
        }
        if (Command.of("id", "-u", "postgres").tryRun().exitCode() != 0) {
            throw new DevStackException("running as root, PostgreSQL needs an unprivileged user to run the"
                    + " cluster and there is no 'postgres' user: run as a normal user or create one");
        }
        requireTraversable(dir.getParent());
        return "postgres";
    }

    /** The postgres user must reach {@code .ragline/}: each parent directory needs o+x. */
    private static void requireTraversable(Path from) {
        for (Path p = from.toAbsolutePath(); p != null; p = p.getParent()) {
            try {
                if (Files.exists(p)
                        && !Files.getPosixFilePermissions(p)
                                .contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
                    throw new DevStackException("the postgres user cannot reach " + from + " because " + p
                            + " is not world-searchable (chmod o+x " + p + "), or set DATABASE_URL");
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private String password() {
        Path file = dir.resolve("password");
        try {
            if (Files.exists(file)) {
                return Files.readString(file).strip();
            }
            byte[] bytes = new byte[18];
            new SecureRandom().nextBytes(bytes);
            String password = HexFormat.of().formatHex(bytes);
            Files.createDirectories(dir);
            Files.writeString(file, password + "\n");
            Files.setPosixFilePermissions(file, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            return password;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void ensureDatabase(int port, String password) {
        Properties props = new Properties();
        props.setProperty("user", USER);
        props.setProperty("password", password);
        props.setProperty("connectTimeout", "10");
        String base = "jdbc:postgresql://127.0.0.1:" + port + "/";
        try (Connection c = DriverManager.getConnection(base + "postgres", props);
                Statement s = c.createStatement()) {
            var rs = s.executeQuery("select 1 from pg_database where datname = '" + DATABASE + "'");
            if (!rs.next()) {
                s.execute("create database " + DATABASE);
            }
        } catch (SQLException e) {
            if (!"42P04".equals(e.getSQLState())) { // created concurrently by another dev up
                throw new DevStackException("cannot create database " + DATABASE + " on 127.0.0.1:" + port, e);
            }
        }
        try (Connection c = DriverManager.getConnection(base + DATABASE, props);
                Statement s = c.createStatement()) {
            s.execute("create extension if not exists vector");
        } catch (SQLException e) {
            throw new DevStackException("cannot create extension vector in " + DATABASE + ": " + e.getMessage(), e);
        }
    }
}
