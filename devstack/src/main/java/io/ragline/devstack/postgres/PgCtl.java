package io.ragline.devstack.postgres;

import io.ragline.devstack.Command;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The PostgreSQL server's own tools on a private cluster, as the dev stack and the tests' own
 * clusters run them: {@code initdb} with a password file, {@code pg_ctl start | status | stop |
 * promote}, {@code pg_basebackup} for a standby.
 * {@code runAs} is the user the cluster runs as ({@code postgres} when we are root, as initdb
 * refuses root), or null for the current user.
 */
public final class PgCtl {
    private PgCtl() {}

    /**
     * A new cluster in {@code data} whose superuser {@code user} logs in with {@code password}
     * (scram-sha-256), UTF-8 and the C locale. The password passes through a file readable by its
     * owner only, deleted afterwards; {@code data}'s parent must belong to {@code runAs}.
     */
    public static void initdb(Path bin, Path data, String runAs, String user, String password, String... options) {
        Path pwfile = data.resolveSibling("initdb.pw");
        try {
            Files.deleteIfExists(pwfile);
            Files.createFile(
                    pwfile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(pwfile, password + "\n");
            if (runAs != null) {
                Command.of("chown", runAs + ":", pwfile.toString()).run();
            }
            List<String> argv = new ArrayList<>(List.of(
                    bin.resolve("initdb").toString(),
                    "-D",
                    data.toString(),
                    "-U",
                    user,
                    "--auth=scram-sha-256",
                    "--pwfile=" + pwfile,
                    "-E",
                    "UTF8",
                    "--locale=C"));
            argv.addAll(List.of(options));
            Command.of(argv).asUser(runAs).timeout(Duration.ofSeconds(120)).run();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            try {
                Files.deleteIfExists(pwfile);
            } catch (IOException ignored) {
                // reported by the next initdb
            }
        }
    }

    /** Starts the cluster with {@code serverOptions} ({@code -p 5432 -c ...}), its log in {@code log}, and waits. */
    public static void start(Path bin, Path data, Path log, String runAs, String serverOptions) {
        Command.of(
                        bin.resolve("pg_ctl").toString(),
                        "-D",
                        data.toString(),
                        "-l",
                        log.toString(),
                        "-w",
                        "-t",
                        "60",
                        "-o",
                        serverOptions,
                        "start")
                .asUser(runAs)
                .timeout(Duration.ofSeconds(90))
                .run();
    }

    public static boolean isRunning(Path bin, Path data, String runAs) {
        return Command.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "status")
                        .asUser(runAs)
                        .tryRun()
                        .exitCode()
                == 0;
    }

    /**
     * A streaming copy of the running cluster at {@code host:port} in {@code data}, made by
     * {@code pg_basebackup -R}: the copy holds {@code standby.signal} and a {@code primary_conninfo}
     * (with {@code password}, as given), so started it follows the primary as a standby. WAL is
     * streamed during the copy ({@code -X stream}); {@code data} must not exist yet.
     */
    public static void baseBackup(
            Path bin, Path data, String runAs, String host, int port, String user, String password) {
        Command.of(
                        bin.resolve("pg_basebackup").toString(),
                        "-h",
                        host,
                        "-p",
                        String.valueOf(port),
                        "-U",
                        user,
                        "-D",
                        data.toString(),
                        "-R",
                        "-X",
                        "stream",
                        "-c",
                        "fast",
                        "--no-sync")
                .env("PGPASSWORD", password)
                .asUser(runAs)
                .timeout(Duration.ofSeconds(120))
                .run();
    }

    /** Promotes the standby in {@code data} to a primary and waits until it accepts writes. */
    public static void promote(Path bin, Path data, String runAs) {
        Command.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-w", "-t", "60", "promote")
                .asUser(runAs)
                .timeout(Duration.ofSeconds(90))
                .run();
    }

    /** Stops the cluster ({@code mode}: {@code fast} or {@code immediate}) and waits. */
    public static void stop(Path bin, Path data, String runAs, String mode) {
        Command.of(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", mode, "-w", "stop")
                .asUser(runAs)
                .run();
    }
}
