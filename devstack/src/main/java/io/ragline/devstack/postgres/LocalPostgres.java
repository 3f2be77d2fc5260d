package io.ragline.devstack.postgres;

import io.ragline.devstack.Command;
import io.ragline.devstack.DevStackException;
import io.ragline.devstack.Ports;
import io.ragline.devstack.Privilege;
import io.ragline.devstack.Progress;
import io.ragline.devstack.ServiceStatus;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * A private PostgreSQL cluster under {@code .ragline/postgres}: initdb'd once with a generated
 * password, started with pg_ctl on a loopback port that is remembered across restarts, with a
 * {@code ragline} database that has the vector extension. Data survives {@link #stop()}. On
 * request ({@link #start(boolean)}) it has a synchronous streaming standby under {@code
 * .ragline/postgres-standby} that {@link #promoteStandby()} makes the primary.
 */
public final class LocalPostgres {
    public static final String USER = "ragline";
    public static final String DATABASE = "ragline";

    private static final String HOST = "127.0.0.1";

    private final Path dir;
    private final Path standbyDir;
    private final Progress progress;
    private final Privilege privilege;

    public LocalPostgres(Path raglineDir, Progress progress, Privilege privilege) {
        this.dir = raglineDir.resolve("postgres");
        this.standbyDir = raglineDir.resolve("postgres-standby");
        this.progress = progress;
        this.privilege = privilege;
    }

    /**
     * Starts the cluster unless it runs already, with a synchronous standby ({@link
     * SynchronousStandby}) under {@code .ragline/postgres-standby} if {@code withStandby}; returns
     * the libpq URL: of both servers with {@code target_session_attrs=read-write} if {@code
     * withStandby}. Without it, a standby left from before is stopped and its copy removed (the
     * primary's WAL moves on without it; the next standby is a fresh copy).
     */
    public String start(boolean withStandby) {
        Path data = dir.resolve("data");
        Path bin = binDirFor(data)
                .filter(PostgresInstallation::hasPgvector)
                .orElseGet(() -> new PostgresInstallation(progress, privilege).ensureServerWithPgvector());
        new PostgresInstallation(progress, privilege).offerPgCron(bin);
        String runAs = serviceUser();
        String password = password();
        boolean pgCron = PostgresInstallation.hasPgCron(bin);
        SynchronousStandby standby = new SynchronousStandby(bin, runAs, standbyDir.resolve("data"));
        if (standby.promoted()) {
            return startPromoted(standby, withStandby, bin, runAs, password, pgCron);
        }
        if (!Files.exists(data.resolve("PG_VERSION"))) {
            initdb(bin, data, runAs, password);
        }
        int port;
        boolean running = PgCtl.isRunning(bin, data, runAs);
        if (running && SynchronousStandby.awaitedBy(data) == withStandby) {
            port = Ports.remembered(dir.resolve("port"), true);
            progress.step("PostgreSQL already running on 127.0.0.1:" + port);
        } else {
            if (running) {
                progress.step("restarting PostgreSQL " + (withStandby ? "to wait for" : "without")
                        + " a synchronous standby");
                PgCtl.stop(bin, data, runAs, "fast");
            }
            port = Ports.remembered(dir.resolve("port"), false);
            progress.step("starting PostgreSQL " + PostgresInstallation.major(bin) + " on 127.0.0.1:" + port);
            PgCtl.start(bin, data, dir.resolve("postgres.log"), runAs, serverOptions(port, pgCron, withStandby));
        }
        if (!withStandby) {
            removeStandby(standby);
            ensureDatabase(port, password);
            return url(port, password);
        }
        int standbyPort = startStandby(standby, runAs, port, password, pgCron);
        // Only now: until the standby streams, every commit on the primary waits for it.
        ensureDatabase(port, password);
        return url(List.of(port, standbyPort), password);
    }

    private int startStandby(
            SynchronousStandby standby, String runAs, int primaryPort, String password, boolean pgCron) {
        if (standby.isRunning()) {
            int port = Ports.remembered(standbyDir.resolve("port"), true);
            progress.step("PostgreSQL standby already running on 127.0.0.1:" + port);
            standby.awaitSynchronous(HOST, primaryPort, USER, password);
            return port;
        }
        if (!standby.exists()) {
            progress.step("copying PostgreSQL into a standby in " + standby.data() + " (pg_basebackup)");
            createOwnedDirectory(standbyDir, runAs);
            standby.copyFrom(HOST, primaryPort, USER, password);
        }
        int port = Ports.remembered(standbyDir.resolve("port"), false);
        progress.step("starting the PostgreSQL standby on 127.0.0.1:" + port
                + " (synchronous: every commit on the primary waits for it)");
        standby.start(
                standbyDir.resolve("postgres.log"),
                serverOptions(port, pgCron, false),
                HOST,
                primaryPort,
                USER,
                password);
        return port;
    }

    /**
     * After {@link #promoteStandby()}: the promoted standby is the primary and serves alone; the old
     * primary, behind it, stays stopped. Only {@code withStandby} (the URL of both) keeps using it.
     */
    private String startPromoted(
            SynchronousStandby standby, boolean withStandby, Path bin, String runAs, String password, boolean pgCron) {
        if (!withStandby) {
            throw new DevStackException("the standby in " + standby.data() + " was promoted (`ragline dev postgres"
                    + " promote`) and holds what was written since, which " + dir.resolve("data") + " lacks:"
                    + " `ragline dev up --postgres-standby` goes on using it; to return to the single server, run"
                    + " `ragline dev down` and delete " + standbyDir
                    + " (what was written after the promotion is lost)");
        }
        Path oldPrimary = dir.resolve("data");
        if (PgCtl.isRunning(bin, oldPrimary, runAs)) {
            progress.step("stopping the old PostgreSQL primary: the promoted standby is the primary now");
            PgCtl.stop(bin, oldPrimary, runAs, "fast");
        }
        int oldPort = Ports.remembered(dir.resolve("port"), true);
        int port;
        if (standby.isRunning()) {
            port = Ports.remembered(standbyDir.resolve("port"), true);
        } else {
            port = Ports.remembered(standbyDir.resolve("port"), false);
            PgCtl.start(
                    bin, standby.data(), standbyDir.resolve("postgres.log"), runAs, serverOptions(port, pgCron, false));
        }
        progress.step("PostgreSQL runs on 127.0.0.1:" + port + ", the promoted standby, alone (the old primary in "
                + oldPrimary + " stays stopped: no new standby is made from it)");
        ensureDatabase(port, password);
        return url(List.of(oldPort, port), password);
    }

    /**
     * Fails the primary over to its standby: stops the primary as a crash would ({@code pg_ctl stop
     * -m immediate}; with a synchronous standby nothing a client saw committed is lost), then
     * promotes the standby, which accepts writes when this returns. The URL {@code dev up} wrote
     * names both servers, so clients find the new primary.
     */
    public void promoteStandby() {
        Path data = dir.resolve("data");
        Path bin = binDirFor(data)
                .orElseThrow(() -> new DevStackException("cannot promote: no PostgreSQL server binaries found"));
        String runAs = serviceUser();
        SynchronousStandby standby = new SynchronousStandby(bin, runAs, standbyDir.resolve("data"));
        if (standby.promoted()) {
            throw new DevStackException("the standby in " + standby.data() + " was promoted already");
        }
        if (!standby.isRunning()) {
            throw new DevStackException(
                    "no PostgreSQL standby runs here: start one with `ragline dev up --postgres-standby`");
        }
        if (PgCtl.isRunning(bin, data, runAs)) {
            progress.step("stopping the PostgreSQL primary as a crash would (pg_ctl stop -m immediate)");
            PgCtl.stop(bin, data, runAs, "immediate");
        }
        progress.step(
                "promoting the PostgreSQL standby on 127.0.0.1:" + Ports.remembered(standbyDir.resolve("port"), true));
        standby.promote();
    }

    /** The primary and, where one was made, the standby: their addresses and whether they run. */
    public List<ServiceStatus> status() {
        Path data = dir.resolve("data");
        Optional<Path> bin = binDirFor(data);
        if (!Files.exists(data.resolve("PG_VERSION")) || bin.isEmpty()) {
            return List.of(new ServiceStatus("postgres", "-", false, "not created yet"));
        }
        String runAs = serviceUser();
        SynchronousStandby standby = new SynchronousStandby(bin.get(), runAs, standbyDir.resolve("data"));
        List<ServiceStatus> services = new ArrayList<>();
        services.add(new ServiceStatus(
                standby.exists() ? "postgres primary" : "postgres",
                address(dir.resolve("port")),
                PgCtl.isRunning(bin.get(), data, runAs),
                standby.promoted() ? "replaced by the promoted standby" : ""));
        if (standby.exists()) {
            services.add(new ServiceStatus(
                    "postgres standby",
                    address(standbyDir.resolve("port")),
                    standby.isRunning(),
                    standby.promoted() ? "promoted: the primary now" : "synchronous"));
        }
        return services;
    }

    private static String address(Path portFile) {
        return Files.exists(portFile) ? HOST + ":" + Ports.remembered(portFile, true) : "-";
    }

    /** Stops the primary, then its standby if one runs. Data stays. */
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
        SynchronousStandby standby = new SynchronousStandby(bin, runAs, standbyDir.resolve("data"));
        if (standby.isRunning()) {
            progress.step("stopping the PostgreSQL standby (data stays in " + standby.data() + ")");
            standby.stop();
        }
    }

    private void removeStandby(SynchronousStandby standby) {
        if (!standby.exists()) {
            return;
        }
        if (standby.isRunning()) {
            progress.step("stopping the PostgreSQL standby: PostgreSQL runs alone now");
        }
        standby.stop();
        progress.step("removing the standby's copy in " + standbyDir
                + " (the primary goes on without it; a new standby is a fresh copy)");
        try (var files = Files.walk(standbyDir)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + standbyDir, e);
        }
    }

    private static void createOwnedDirectory(Path directory, String runAs) {
        try {
            Files.createDirectories(directory);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (runAs != null) {
            Command.of("chown", runAs + ":", directory.toString()).run();
        }
    }

    /**
     * The binaries of the cluster's own major version ({@code data/PG_VERSION}) when it exists,
     * so that a newer server installed later does not try to start an older cluster.
     */
    private static Optional<Path> binDirFor(Path data) {
        try {
            if (Files.exists(data.resolve("PG_VERSION"))) {
                String major = Files.readString(data.resolve("PG_VERSION")).strip();
                Path bin = Path.of("/usr/lib/postgresql", major, "bin");
                if (Files.isExecutable(bin.resolve("pg_ctl"))) {
                    return Optional.of(bin);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return PostgresInstallation.findBinDir();
    }

    public static String url(int port, String password) {
        return url(List.of(port), password);
    }

    /**
     * The libpq URL of the servers on {@code ports}; of several, with {@code
     * target_session_attrs=read-write}, so that clients connect to whichever is the primary.
     */
    public static String url(List<Integer> ports, String password) {
        String hosts = ports.stream().map(p -> HOST + ":" + p).collect(Collectors.joining(","));
        return "postgresql://" + USER + ":" + password + "@" + hosts + "/" + DATABASE + "?sslmode=disable"
                + (ports.size() > 1 ? "&target_session_attrs=read-write" : "");
    }

    private String serverOptions(int port, boolean pgCron, boolean waitForStandby) {
        // A development cluster: durability traded for speed (fsync off), as the tests restart it
        // cleanly and never need crash safety of the server itself.
        // TCP on loopback only: a Unix socket under the repository could exceed the 107-byte path
        // limit in a deep workspace.
        return "-p " + port
                + " -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c max_connections=300 -c fsync=off -c full_page_writes=off"
                // Without a standby, commits need not even wait for the local WAL flush.
                + (waitForStandby ? " " + SynchronousStandby.PRIMARY_OPTIONS : " -c synchronous_commit=off")
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
