package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.TestCertificates;
import io.ragline.testkit.TestServices;
import io.ragline.testkit.TlsPostgres;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Ragline against a PostgreSQL server that speaks TLS only ({@link TlsPostgres}): {@code
 * sslmode=verify-full}, client certificates, and every way of giving the password, each through
 * the real {@code ragline} command; the failures stop start-up with exit status 2 and a message
 * naming the variable, the parameter and the cause, and never the password.
 */
class PostgresTlsIT {
    @RegisterExtension
    static final TlsPostgres pg = new TlsPostgres();

    private static final String SCHEMA = "tls_it";
    private static final String CERT_SCHEMA = "tls_cert_it";

    @Test
    void migrateAndStatusWorkOverVerifyFull() throws Exception {
        Map<String, String> env = env(pg.url(passwordUser(), TlsPostgres.HOST, pg.verifyFull()));

        JavaProcess migrate = CliProcess.start(env, "migrate");
        assertThat(migrate.waitFor(120)).as(migrate.stderr()).isZero();
        JavaProcess status = CliProcess.start(env, "status");

        assertThat(status.waitFor(60)).as(status.stderr()).isZero();
        assertThat(status.stdout()).contains("sslmode=verify-full", "outbox: 0 rows waiting");
        assertThat(migrate.stdout() + migrate.stderr() + status.stdout() + status.stderr())
                .doesNotContain(pg.password());
    }

    @Test
    void aWorkerBecomesReadyOverVerifyFullWithItsPoolTakingThePasswordFromPgpass() throws Exception {
        Map<String, String> env = env(pg.url(TlsPostgres.PASSWORD_USER, TlsPostgres.HOST, pg.verifyFull()));
        env.put("PGPASSFILE", ownerOnly(pg.scratch().resolve("worker-pgpass"), "*:*:*:*:" + pg.password() + "\n"));
        int adminPort = freePort();
        env.put("RAGLINE_ADMIN_PORT", String.valueOf(adminPort));
        JavaProcess worker = CliProcess.start(env, "event-dispatcher");
        CliProcess.awaitReady(adminPort, Duration.ofSeconds(90));
        worker.terminate();

        assertThat(worker.waitFor(30)).as(worker.stderr()).isZero();
        assertThat(worker.stdout() + worker.stderr()).doesNotContain(pg.password());
    }

    @ParameterizedTest
    @ValueSource(strings = {"DATABASE_PASSWORD", "DATABASE_PASSWORD_FILE", "DATABASE_URL_FILE", "PGPASSFILE"})
    void eachWayOfGivingThePasswordLogsIn(String way) throws Exception {
        String withoutPassword = pg.url(TlsPostgres.PASSWORD_USER, TlsPostgres.HOST, pg.verifyFull());
        Map<String, String> env = env(withoutPassword);
        Path scratch = pg.scratch();
        switch (way) {
            case "DATABASE_PASSWORD" -> env.put(way, pg.password());
            case "DATABASE_PASSWORD_FILE" -> env.put(way, ownerOnly(scratch.resolve("password"), pg.password() + "\n"));
            case "DATABASE_URL_FILE" -> {
                env.remove("DATABASE_URL");
                env.put(way, ownerOnly(scratch.resolve("url"), pg.url(passwordUser(), "localhost", pg.verifyFull())));
            }
            case "PGPASSFILE" ->
                env.put(
                        way,
                        ownerOnly(
                                scratch.resolve("pgpass"),
                                "# host:port:database:user:password\nlocalhost:" + pg.port() + ":"
                                        + TlsPostgres.DATABASE + ":" + TlsPostgres.PASSWORD_USER + ":"
                                        + pg.password() + "\n"));
            default -> throw new IllegalArgumentException(way);
        }

        JavaProcess migrate = CliProcess.start(env, "migrate");

        assertThat(migrate.waitFor(120)).as(migrate.stderr()).isZero();
        assertThat(migrate.stdout()).contains("schema " + SCHEMA);
        assertThat(migrate.stdout() + migrate.stderr()).doesNotContain(pg.password());
    }

    @Test
    void aPasswordInTheUrlAndInDatabasePasswordIsRefused() throws Exception {
        Map<String, String> env = env(pg.url(passwordUser(), TlsPostgres.HOST, pg.verifyFull()));
        env.put("DATABASE_PASSWORD", pg.password());

        JavaProcess migrate = CliProcess.start(env, "migrate");

        assertThat(migrate.waitFor(60)).isEqualTo(2);
        assertThat(migrate.stderr())
                .contains("DATABASE_URL='postgresql://ragline_tls:<masked>@localhost:")
                .contains("holds a password and DATABASE_PASSWORD (or DATABASE_PASSWORD_FILE) is set too: keep one");
        assertThat(migrate.stdout() + migrate.stderr()).doesNotContain(pg.password());
    }

    @Test
    void aCertificateNamingAnotherHostStopsStartUpClearly() throws Exception {
        // The server's certificate names localhost only; 127.0.0.1 is the same server by another name.
        JavaProcess worker = worker(pg.url(passwordUser(), "127.0.0.1", pg.verifyFull()));

        assertThat(worker.waitFor(60)).isEqualTo(2);
        assertThat(worker.stderr())
                .contains("DATABASE_URL='postgresql://ragline_tls:<masked>@127.0.0.1:")
                .contains("cannot connect: the server's certificate does not name the host '127.0.0.1'")
                .contains("sslmode=verify-full");
        assertThat(worker.stdout() + worker.stderr()).doesNotContain(pg.password());
    }

    @Test
    void anAuthorityThatDidNotSignTheServersCertificateStopsStartUp() throws Exception {
        TestCertificates other = TestCertificates.authority(pg.scratch().resolve("other-ca"), "another-ca");
        JavaProcess worker =
                worker(pg.url(passwordUser(), TlsPostgres.HOST, "sslmode=verify-full&sslrootcert=" + other.caPem()));

        assertThat(worker.waitFor(60)).isEqualTo(2);
        assertThat(worker.stderr())
                .contains("DATABASE_URL='postgresql://ragline_tls:<masked>@localhost:")
                .contains("cannot connect: the server's certificate is not signed by the authority in sslrootcert='"
                        + other.caPem() + "'");
        assertThat(worker.stdout() + worker.stderr()).doesNotContain(pg.password());
    }

    @Test
    void aMissingClientKeyStopsStartUp() throws Exception {
        Path absent = pg.scratch().resolve("absent.pk8");
        JavaProcess worker = worker(pg.url(
                passwordUser(),
                TlsPostgres.HOST,
                pg.verifyFull() + "&sslcert=" + pg.clientCertificate().certPem() + "&sslkey=" + absent));

        assertThat(worker.waitFor(60)).isEqualTo(2);
        assertThat(worker.stderr())
                .contains("DATABASE_URL='postgresql://ragline_tls:<masked>@localhost:")
                .contains("sslkey='" + absent + "' does not exist");
        assertThat(worker.stdout() + worker.stderr()).doesNotContain(pg.password());
    }

    @ParameterizedTest
    @ValueSource(strings = {"pkcs8-der", "pkcs8-pem", "pkcs12"})
    void aClientCertificateLogsInWithoutAPassword(String keyForm) throws Exception {
        TestCertificates.Issued client = pg.clientCertificate();
        String key = switch (keyForm) {
            case "pkcs8-der" -> "&sslkey=" + client.keyDer();
            case "pkcs8-pem" -> "&sslkey=" + client.keyPem();
            case "pkcs12" -> "&sslkey=" + keyAsUser(client) + "&sslpassword=" + client.password();
            default -> throw new IllegalArgumentException(keyForm);
        };
        Map<String, String> env = env(pg.url(
                TlsPostgres.CERTIFICATE_USER,
                TlsPostgres.HOST,
                pg.verifyFull() + "&sslcert=" + client.certPem() + key));
        env.put("RAGLINE_DB_SCHEMA", CERT_SCHEMA);

        JavaProcess migrate = CliProcess.start(env, "migrate");
        assertThat(migrate.waitFor(120)).as(migrate.stderr()).isZero();
        JavaProcess status = CliProcess.start(env, "status");

        assertThat(status.waitFor(60)).as(status.stderr()).isZero();
        assertThat(status.stdout()).contains("postgresql://ragline_cert@localhost:", "outbox: 0 rows waiting");
    }

    @Test
    void thePlaintextConnectionThatTheServerRefusesIsExplained() throws Exception {
        JavaProcess migrate =
                CliProcess.start(env(pg.url(passwordUser(), TlsPostgres.HOST, "sslmode=disable")), "migrate");

        assertThat(migrate.waitFor(60)).isEqualTo(1);
        assertThat(migrate.stderr())
                .contains("the server accepts only TLS connections: set sslmode=verify-full")
                .doesNotContain(pg.password());
    }

    private static String passwordUser() {
        return TlsPostgres.PASSWORD_USER + ":" + pg.password();
    }

    private static Map<String, String> env(String databaseUrl) {
        Map<String, String> env = new HashMap<>();
        env.put("DATABASE_URL", databaseUrl);
        env.put("KAFKA_BOOTSTRAP_SERVERS", TestServices.get().kafkaBootstrapServers());
        env.put("RAGLINE_DB_SCHEMA", SCHEMA);
        env.put("RAGLINE_STARTUP_TIMEOUT", "10s");
        return env;
    }

    /** The event-dispatcher, the lightest worker: its start-up check is every worker's. */
    private static JavaProcess worker(String databaseUrl) throws Exception {
        Map<String, String> env = env(databaseUrl);
        env.put("RAGLINE_ADMIN_PORT", "0");
        return CliProcess.start(env, "event-dispatcher");
    }

    /** The client's PKCS#12 store with its key under the alias {@code user}, the one the driver reads. */
    private static Path keyAsUser(TestCertificates.Issued client) throws Exception {
        Path store = pg.scratch().resolve("client-user.p12");
        Files.deleteIfExists(store);
        Process keytool = new ProcessBuilder(
                        Path.of(System.getProperty("java.home"), "bin", "keytool")
                                .toString(),
                        "-importkeystore",
                        "-srckeystore",
                        client.keystore().toString(),
                        "-srcstorepass",
                        client.password(),
                        "-srcalias",
                        TlsPostgres.CERTIFICATE_USER,
                        "-destkeystore",
                        store.toString(),
                        "-deststoretype",
                        "PKCS12",
                        "-deststorepass",
                        client.password(),
                        "-destalias",
                        "user")
                .redirectErrorStream(true)
                .start();
        String out = new String(keytool.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(keytool.waitFor()).as(out).isZero();
        return store;
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static String ownerOnly(Path file, String contents) throws Exception {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(file, contents);
        return file.toString();
    }
}
