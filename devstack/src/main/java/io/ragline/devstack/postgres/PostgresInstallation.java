package io.ragline.devstack.postgres;

import io.ragline.devstack.Command;
import io.ragline.devstack.DevStackException;
import io.ragline.devstack.Privilege;
import io.ragline.devstack.Progress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Finds the PostgreSQL server binaries and the pgvector extension, installing what is missing
 * from the distribution: the server from its packages, pgvector from its package or, where the
 * release has none (Debian bookworm), built from Debian's source package of a newer release.
 */
public final class PostgresInstallation {
    /** Debian suite whose source package of pgvector we build when the running release has none. */
    static final String PGVECTOR_SOURCE_SUITE = "trixie";

    static final String DEBIAN_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";

    static final String SOURCES_FILE = "/etc/apt/sources.list.d/ragline-pgvector-src.sources";

    private final Progress progress;
    private final Privilege privilege;
    private boolean aptUpdated;

    public PostgresInstallation(Progress progress, Privilege privilege) {
        this.progress = progress;
        this.privilege = privilege;
    }

    /** The bin directory of a PostgreSQL server that has the vector extension, installing as needed. */
    public Path ensureServerWithPgvector() {
        Path bin = findBinDir().orElseGet(this::installServer);
        if (!hasPgvector(bin)) {
            installPgvector(bin);
        }
        return bin;
    }

    /** {@code RAGLINE_PG_BINDIR}, else the newest {@code /usr/lib/postgresql/N/bin}, else pg_config on PATH. */
    public static Optional<Path> findBinDir() {
        String override = System.getenv("RAGLINE_PG_BINDIR");
        if (override != null && !override.isBlank()) {
            return Optional.of(Path.of(override));
        }
        Path debian = Path.of("/usr/lib/postgresql");
        if (Files.isDirectory(debian)) {
            try (Stream<Path> versions = Files.list(debian)) {
                Optional<Path> newest = versions.filter(v -> Files.isExecutable(v.resolve("bin/initdb")))
                        .max(Comparator.comparingInt(PostgresInstallation::majorOf))
                        .map(v -> v.resolve("bin"));
                if (newest.isPresent()) {
                    return newest;
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        if (Command.onPath("pg_config")) {
            Path bin = Path.of(Command.of("pg_config", "--bindir").run().strip());
            if (Files.isExecutable(bin.resolve("initdb"))) {
                return Optional.of(bin);
            }
        }
        return Optional.empty();
    }

    public static int major(Path bin) {
        String version = Command.of(bin.resolve("pg_config").toString(), "--version")
                .tryRun()
                .output();
        // "PostgreSQL 15.18 (Debian 15.18-0+deb12u1)"
        String[] words = version.strip().split("\\s+");
        if (words.length >= 2) {
            return Integer.parseInt(words[1].split("\\.")[0]);
        }
        return majorOf(bin.getParent());
    }

    private static int majorOf(Path versionDir) {
        try {
            return Integer.parseInt(versionDir.getFileName().toString());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    public static boolean hasPgvector(Path bin) {
        return hasExtension(bin, "vector");
    }

    /** Whether pg_cron's files are installed for this server (loading it is the cluster's business). */
    public static boolean hasPgCron(Path bin) {
        return hasExtension(bin, "pg_cron");
    }

    private static boolean hasExtension(Path bin, String name) {
        Path pgConfig = bin.resolve("pg_config");
        String share = Files.isExecutable(pgConfig)
                ? Command.of(pgConfig.toString(), "--sharedir").run().strip()
                : "/usr/share/postgresql/" + major(bin);
        return Files.exists(Path.of(share, "extension", name + ".control"));
    }

    /**
     * Installs pg_cron ({@code postgresql-N-cron}) where the distribution packages it and we may
     * install; optional (docs/architecture.md section 8), so anything else only says why not.
     */
    public void offerPgCron(Path bin) {
        if (hasPgCron(bin)) {
            return;
        }
        String pkg = "postgresql-" + major(bin) + "-cron";
        if (!Command.onPath("apt-get") || !privilege.canInstall()) {
            progress.step("pg_cron is not installed (optional, for training schedules): apt-get install " + pkg);
            return;
        }
        aptUpdate();
        if (!aptHasCandidate(pkg)) {
            progress.step("pg_cron is not packaged for this release (optional, for training schedules)");
            return;
        }
        progress.step("installing " + pkg + " from the distribution's packages (optional: training schedules)");
        privilege
                .system("apt-get", "install", "-y", "--no-install-recommends", pkg)
                .run();
    }

    private Path installServer() {
        requireInstallRights("the PostgreSQL server", "postgresql");
        progress.step("installing PostgreSQL from the distribution's packages (apt-get install postgresql)");
        aptUpdate();
        privilege
                .system("apt-get", "install", "-y", "--no-install-recommends", "postgresql", "postgresql-contrib")
                .run();
        return findBinDir()
                .orElseThrow(() -> new DevStackException(
                        "apt-get installed postgresql but no initdb was found under /usr/lib/postgresql"));
    }

    private void installPgvector(Path bin) {
        int major = major(bin);
        String pkg = "postgresql-" + major + "-pgvector";
        requireInstallRights("the pgvector extension for PostgreSQL " + major, pkg);
        aptUpdate();
        if (aptHasCandidate(pkg)) {
            progress.step("installing " + pkg + " from the distribution's packages");
            privilege
                    .system("apt-get", "install", "-y", "--no-install-recommends", pkg)
                    .run();
        } else {
            buildPgvectorFromSource(bin, major);
        }
        if (!hasPgvector(bin)) {
            throw new DevStackException("pgvector was installed but " + bin.resolve("pg_config")
                    + " --sharedir has no extension/vector.control");
        }
    }

    private void buildPgvectorFromSource(Path bin, int major) {
        progress.step("pgvector is not packaged for this release: building it from Debian's " + PGVECTOR_SOURCE_SUITE
                + " source package");
        privilege
                .system(
                        "apt-get",
                        "install",
                        "-y",
                        "--no-install-recommends",
                        "postgresql-server-dev-" + major,
                        "build-essential",
                        "dpkg-dev")
                .run();
        boolean addedSources = false;
        if (!Files.exists(Path.of(SOURCES_FILE))) {
            String sources = "Types: deb-src\n"
                    + "URIs: http://deb.debian.org/debian\n"
                    + "Suites: " + PGVECTOR_SOURCE_SUITE + "\n"
                    + "Components: main\n"
                    + "Signed-By: " + DEBIAN_KEYRING + "\n";
            privilege
                    .system("sh", "-c", "cat > " + SOURCES_FILE + " <<'EOF'\n" + sources + "EOF")
                    .run();
            addedSources = true;
        }
        Path work;
        try {
            work = Files.createTempDirectory("ragline-pgvector");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            aptUpdated = false;
            aptUpdate();
            Command.of("apt-get", "source", "-y", "pgvector").in(work).run();
            Path src;
            try (Stream<Path> dirs = Files.list(work)) {
                src = dirs.filter(Files::isDirectory)
                        .filter(d -> d.getFileName().toString().startsWith("pgvector"))
                        .findFirst()
                        .orElseThrow(
                                () -> new DevStackException("apt-get source pgvector unpacked nothing in " + work));
            }
            String pgConfig = "PG_CONFIG=" + bin.resolve("pg_config");
            progress.step("compiling " + src.getFileName());
            Command.of("make", "-j", String.valueOf(Runtime.getRuntime().availableProcessors()), pgConfig, "OPTFLAGS=")
                    .in(src)
                    .run();
            privilege
                    .system("make", "-C", src.toString(), pgConfig, "OPTFLAGS=", "install")
                    .run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            if (addedSources) {
                // Leave apt as we found it: the source line was only needed for this build.
                privilege.system("rm", "-f", SOURCES_FILE).tryRun();
                aptUpdated = false;
            }
            Command.of("rm", "-rf", work.toString()).tryRun();
        }
    }

    private boolean aptHasCandidate(String pkg) {
        String policy = Command.of("apt-cache", "policy", pkg)
                .env("LC_ALL", "C")
                .tryRun()
                .output();
        return policy.contains("Candidate:") && !policy.contains("Candidate: (none)");
    }

    private void aptUpdate() {
        if (aptUpdated) {
            return;
        }
        progress.step("apt-get update");
        // Exit status ignored on purpose: one unreachable third-party list must not stop us when
        // Debian's own lists were fetched; a later install reports what is really missing.
        privilege.system("apt-get", "update", "-q").tryRun();
        aptUpdated = true;
    }

    private void requireInstallRights(String what, String packages) {
        if (!Command.onPath("apt-get")) {
            throw new DevStackException(what + " is missing and this system has no apt-get. Install "
                    + what + " yourself, or point Ragline at a server with DATABASE_URL="
                    + "postgresql://user:pass@host:5432/db (it needs the vector extension).");
        }
        if (!privilege.canInstall()) {
            throw new DevStackException(what + " is missing and installing it needs root. Run as root or with"
                    + " password-less sudo, or install it yourself: sudo apt-get install " + packages
                    + " (pgvector on Debian bookworm: build it from source, see docs/operations.md),"
                    + " or set DATABASE_URL to a PostgreSQL server that has pgvector.");
        }
    }
}
