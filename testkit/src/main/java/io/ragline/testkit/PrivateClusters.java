package io.ragline.testkit;

import io.ragline.devstack.Command;
import io.ragline.devstack.postgres.PgCtl;
import io.ragline.devstack.postgres.PostgresInstallation;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * A directory of PostgreSQL clusters of a test class's own ({@link TlsPostgres}, {@link
 * ReplicatedPostgres}), run from the machine's server binaries by devstack's {@link PgCtl}: as the
 * {@code postgres} user when the tests run as root (initdb and postgres refuse root), the files
 * handed to that user; stopped and deleted by {@link #delete()}.
 */
final class PrivateClusters {
    private final Path bin;
    private final Path dir;
    private final String runAs;

    private PrivateClusters(Path bin, Path dir, String runAs) {
        this.bin = bin;
        this.dir = dir;
        this.runAs = runAs;
    }

    /**
     * A new directory {@code prefix*} under the system's temporary directory, or the test class
     * skipped, saying {@code why} it needs the server binaries, where this machine has none (a
     * machine whose tests use Docker, or a given {@code DATABASE_URL} without a local server).
     */
    static PrivateClusters create(String prefix, String why) throws IOException {
        Optional<Path> found = PostgresInstallation.findBinDir();
        Assumptions.assumeTrue(
                found.isPresent(),
                "no PostgreSQL server binaries (initdb, pg_ctl) on this machine: " + why
                        + "; set RAGLINE_PG_BINDIR or install the postgresql package");
        Path dir = Files.createTempDirectory(prefix);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        String runAs = "0".equals(Command.of("id", "-u").run().strip()) ? "postgres" : null;
        PrivateClusters clusters = new PrivateClusters(found.get(), dir, runAs);
        clusters.chown(false, dir);
        return clusters;
    }

    Path bin() {
        return bin;
    }

    Path dir() {
        return dir;
    }

    /** The user the clusters run as: {@code postgres} when we are root, else null (ourselves). */
    String runAs() {
        return runAs;
    }

    /** Whether the server of these binaries has the vector extension installed. */
    boolean hasPgvector() {
        return PostgresInstallation.hasPgvector(bin);
    }

    /** A new cluster in {@code name} whose superuser {@code user} logs in with {@code password}. */
    Path initdb(String name, String user, String password) {
        Path data = dir.resolve(name);
        PgCtl.initdb(bin, data, runAs, user, password, "--no-sync");
        return data;
    }

    /** Starts the cluster in {@code data} on loopback {@code port}, TCP only, with {@code options}. */
    void start(Path data, String listen, int port, String options) {
        PgCtl.start(bin, data, dir.resolve(data.getFileName() + ".log"), runAs, serverOptions(listen, port, options));
    }

    /** Server options for a cluster on {@code listen:port}, TCP only, with {@code options}. */
    static String serverOptions(String listen, int port, String options) {
        return "-p " + port + " -c listen_addresses=" + listen + " -c unix_socket_directories= " + options;
    }

    /** Stops the cluster in {@code data} at once (no checkpoint: as a crash), if it runs. */
    void stopImmediately(Path data) {
        if (Files.exists(data.resolve("postmaster.pid"))) {
            PgCtl.stop(bin, data, runAs, "immediate");
        }
    }

    /** Gives {@code paths} to the server's user. */
    void chown(boolean recursive, Path... paths) {
        if (runAs != null) {
            List<String> argv = new ArrayList<>(List.of("chown"));
            if (recursive) {
                argv.add("-R");
            }
            argv.add(runAs + ":");
            Stream.of(paths).map(Path::toString).forEach(argv::add);
            Command.of(argv).run();
        }
    }

    /** Stops every cluster under the directory, whatever happened, and deletes it. */
    void delete() {
        try (Stream<Path> pids = Files.find(dir, 2, (p, a) -> p.endsWith("postmaster.pid"))) {
            for (Path pid : pids.toList()) {
                try {
                    stopImmediately(pid.getParent());
                } catch (RuntimeException e) {
                    // the files go below whatever happened; a server still running dies with its data
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
