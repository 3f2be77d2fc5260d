package io.ragline.testkit;

import io.ragline.devstack.Ports;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A small PostgreSQL cluster of its own for one test class, that speaks TLS only: {@code ssl=on}
 * with a server certificate for {@code localhost} (and no other name, no IP address) signed by an
 * authority made at test time ({@link TestCertificates}), and {@code pg_hba.conf} lines for
 * {@code hostssl} alone, so a plaintext connection is refused. {@value #PASSWORD_USER} logs in with
 * a password (scram-sha-256), {@value #CERTIFICATE_USER} with a client certificate ({@code cert},
 * which verifies it fully and maps its common name to the user). The database {@value #DATABASE}
 * has the vector extension, so Ragline's migrations run on it.
 *
 * <p>It runs from the PostgreSQL server binaries of the machine ({@code RAGLINE_PG_BINDIR}, Debian's
 * {@code /usr/lib/postgresql/N/bin}, or {@code pg_config} on PATH) that the local dev stack uses,
 * and is stopped and deleted after the class. Where there are none (a machine whose tests use
 * Docker), the class is skipped, saying so.
 */
public final class TlsPostgres implements BeforeAllCallback, AfterAllCallback {
    public static final String PASSWORD_USER = "ragline_tls";
    public static final String CERTIFICATE_USER = "ragline_cert";
    public static final String DATABASE = "ragline";
    /** The only name the server's certificate holds. */
    public static final String HOST = "localhost";

    private PrivateClusters clusters;
    private Path dir;
    private Path data;
    private int port;
    private String password;
    private TestCertificates authority;
    private TestCertificates.Issued client;
    private Thread cleanup;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        clusters = PrivateClusters.create("ragline-tls-pg", "the TLS tests need a private ssl=on cluster");
        dir = clusters.dir();
        password = "tls-" + Long.toHexString(System.nanoTime());
        authority = TestCertificates.authority(dir.resolve("ca"), "ragline-tls-test-ca");
        TestCertificates.Issued server = authority.issue("ragline-tls-server", "dns:" + HOST);
        client = authority.issue(CERTIFICATE_USER);
        port = Ports.free();
        cleanup = new Thread(this::stop, "tls-postgres-stop");
        Runtime.getRuntime().addShutdownHook(cleanup);
        data = clusters.initdb("data", PASSWORD_USER, password);
        configure(server);
        clusters.start(data, HOST, port, "-c fsync=off -c synchronous_commit=off -c max_connections=50");
        prepareDatabase();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (cleanup != null) {
            stop();
            Runtime.getRuntime().removeShutdownHook(cleanup);
        }
    }

    public int port() {
        return port;
    }

    /** The password of {@value #PASSWORD_USER}. */
    public String password() {
        return password;
    }

    /** The authority that signed the server's certificate and {@link #clientCertificate()}. */
    public TestCertificates authority() {
        return authority;
    }

    /** A certificate and key for {@value #CERTIFICATE_USER} (its common name), signed by {@link #authority()}. */
    public TestCertificates.Issued clientCertificate() {
        return client;
    }

    /** A directory of this class's own, deleted with the cluster: for the files a test writes. */
    public Path scratch() throws IOException {
        return Files.createDirectories(dir.resolve("scratch"));
    }

    /**
     * A libpq URL to this server as {@code user} (no password) at {@code host}, with {@code query}
     * ({@code sslmode=verify-full&sslrootcert=...}).
     */
    public String url(String user, String host, String query) {
        return "postgresql://" + user + "@" + host + ":" + port + "/" + DATABASE + "?" + query;
    }

    /** {@code sslmode=verify-full} with this server's authority as {@code sslrootcert}. */
    public String verifyFull() {
        return "sslmode=verify-full&sslrootcert=" + authority.caPem();
    }

    /** TLS files beside the data, owned by the server's user, and hostssl lines only. */
    private void configure(TestCertificates.Issued server) throws IOException {
        Path cert = Files.copy(server.certPem(), data.resolve("server.crt"));
        Path key = Files.copy(server.keyPem(), data.resolve("server.key"));
        Path ca = Files.copy(authority.caPem(), data.resolve("root.crt"));
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        Files.writeString(
                data.resolve("postgresql.auto.conf"),
                "ssl = on\nssl_cert_file = '" + cert + "'\nssl_key_file = '" + key + "'\nssl_ca_file = '" + ca + "'\n");
        Files.writeString(
                data.resolve("pg_hba.conf"),
                String.join(
                        "\n",
                        "# TLS only: no 'host' or 'local' line, so a plaintext connection finds no entry.",
                        "hostssl all " + CERTIFICATE_USER + " 127.0.0.1/32 cert",
                        "hostssl all " + CERTIFICATE_USER + " ::1/128 cert",
                        "hostssl all all 127.0.0.1/32 scram-sha-256",
                        "hostssl all all ::1/128 scram-sha-256",
                        ""));
        clusters.chown(true, data);
    }

    private void prepareDatabase() throws SQLException {
        Properties props = new Properties();
        props.setProperty("user", PASSWORD_USER);
        props.setProperty("password", password);
        props.setProperty("sslmode", "verify-full");
        props.setProperty("sslrootcert", authority.caPem().toString());
        String base = "jdbc:postgresql://" + HOST + ":" + port + "/";
        try (Connection c = DriverManager.getConnection(base + "postgres", props);
                Statement s = c.createStatement()) {
            s.execute("create database " + DATABASE);
            s.execute("create role " + CERTIFICATE_USER + " login");
        }
        try (Connection c = DriverManager.getConnection(base + DATABASE, props);
                Statement s = c.createStatement()) {
            s.execute("create extension if not exists vector with schema public");
            s.execute("grant create on database " + DATABASE + " to " + CERTIFICATE_USER);
        }
    }

    private synchronized void stop() {
        if (dir == null) {
            return;
        }
        clusters.delete();
        dir = null;
    }
}
