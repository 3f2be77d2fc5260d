package io.ragline.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.testkit.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link DatabaseUrl#from}: the one reader of the database variables, and its checks of the TLS files. */
class DatabaseUrlFromEnvTest {
    private static final String BASE = "postgresql://app@db:5432/rag";

    @TempDir
    static Path certs;

    @TempDir
    Path dir;

    private static TestCertificates ca;
    private static TestCertificates.Issued client;

    @BeforeAll
    static void authority() {
        ca = TestCertificates.authority(certs, "from-env-test-ca");
        client = ca.issue("app");
    }

    @Test
    void databasePasswordFillsAUrlThatHoldsNone() {
        Env env = env(Map.of("DATABASE_URL", BASE, "DATABASE_PASSWORD", "pw-from-variable"));

        DatabaseUrl url = DatabaseUrl.from(env);

        assertThat(env.problems()).isEmpty();
        assertThat(url.password().reveal()).isEqualTo("pw-from-variable");
        assertThat(url.toString()).isEqualTo("postgresql://app:<masked>@db:5432/rag");
    }

    @Test
    void theUrlAndThePasswordAreReadFromTheirFiles() throws Exception {
        Path urlFile = Files.writeString(dir.resolve("url"), BASE + "?sslmode=require\n");
        Path passwordFile = Files.writeString(dir.resolve("password"), "pw-from-file\n");
        Env env =
                env(Map.of("DATABASE_URL_FILE", urlFile.toString(), "DATABASE_PASSWORD_FILE", passwordFile.toString()));

        DatabaseUrl url = DatabaseUrl.from(env);

        assertThat(env.problems()).isEmpty();
        assertThat(url.password().reveal()).isEqualTo("pw-from-file");
        assertThat(url.parameters()).containsEntry("sslmode", "require");
    }

    @Test
    void withNoPasswordAnywhereThePasswordIsLeftToThePgpassLookup() {
        Env env = env(Map.of("DATABASE_URL", BASE));

        assertThat(DatabaseUrl.from(env).password().isEmpty()).isTrue();
        assertThat(env.problems()).isEmpty();
    }

    @Test
    void aPasswordInTheUrlAndInDatabasePasswordIsAProblemHoldingNeither() {
        Env env = env(Map.of("DATABASE_URL", "postgresql://app:pw-in-url@db/rag", "DATABASE_PASSWORD", "pw-too"));

        assertThat(DatabaseUrl.from(env)).isNull();
        assertThat(env.problems())
                .singleElement()
                .asString()
                .startsWith("DATABASE_URL='postgresql://app:<masked>@db:5432/rag' holds a password and"
                        + " DATABASE_PASSWORD (or DATABASE_PASSWORD_FILE) is set too: keep one")
                .doesNotContain("pw-in-url", "pw-too");
    }

    @Test
    void aUrlInLibpqsKeywordFormIsRefusedShowingNothingOfIt() {
        Env env = env(Map.of("DATABASE_URL", "host=db user=rag password = S3cretDb dbname=rag"));

        assertThat(DatabaseUrl.from(env)).isNull();
        assertThat(env.problems())
                .containsExactly("DATABASE_URL is not a postgresql:// URL (its value is not shown, as it may hold a"
                        + " password): expected postgresql://user:password@host:5432/database");
    }

    @Test
    void aBadPasswordFileStopsTheUrlToo() throws Exception {
        Env env = env(Map.of(
                "DATABASE_URL",
                BASE,
                "DATABASE_PASSWORD_FILE",
                dir.resolve("absent").toString()));

        assertThat(DatabaseUrl.from(env)).isNull();
        assertThat(env.problems()).singleElement().asString().startsWith("DATABASE_PASSWORD_FILE='");
    }

    @Test
    void coreSettingsReportOnlyTheDatabaseProblemsThatExist() {
        Map<String, String> values = new HashMap<>(Map.of(
                "DATABASE_URL", "postgresql://app:pw@db/rag",
                "DATABASE_PASSWORD", "pw",
                "KAFKA_BOOTSTRAP_SERVERS", "k:9092",
                "RAGLINE_DB_POOL_SIZE", "0"));
        Env env = new Env(values);

        assertThat(CoreSettings.from(env, 9080)).isNull();
        assertThat(env.problems())
                .hasSize(2)
                .anySatisfy(p -> assertThat(p).contains("keep one"))
                .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_DB_POOL_SIZE='0'"));
    }

    @Test
    void verifiedTlsWithReadableFilesPasses() {
        for (Path key : new Path[] {client.keyDer(), client.keyPem()}) {
            Env env = env(Map.of("DATABASE_URL", tls("sslcert=" + client.certPem() + "&sslkey=" + key)));

            assertThat(DatabaseUrl.from(env)).isNotNull();
            assertThat(env.problems()).isEmpty();
        }
    }

    @Test
    void anUnknownSslmodeAndMissingFilesAreNamedByTheirParameter() {
        Path absent = dir.resolve("absent.pk8");
        Env env = env(Map.of(
                "DATABASE_URL",
                BASE + "?sslmode=verify_full&sslrootcert=" + dir.resolve("ca.pem") + "&sslcert=" + client.certPem()
                        + "&sslkey=" + absent));

        assertThat(DatabaseUrl.from(env)).isNull();
        assertThat(env.problems())
                .allSatisfy(p -> assertThat(p).startsWith("DATABASE_URL='postgresql://app@db:5432/rag?"))
                .satisfiesExactly(
                        p -> assertThat(p)
                                .endsWith("': sslmode='verify_full' must be one of disable, allow, prefer, require,"
                                        + " verify-ca, verify-full"),
                        p -> assertThat(p).endsWith("': sslrootcert='" + dir.resolve("ca.pem") + "' does not exist"),
                        p -> assertThat(p).endsWith("': sslkey='" + absent + "' does not exist"));
    }

    @Test
    void requireWithARootCertificateIsRefusedBecauseTheDriverWouldNotCheckIt() {
        Env env = env(Map.of("DATABASE_URL", BASE + "?sslmode=require&sslrootcert=" + ca.caPem()));

        assertThat(DatabaseUrl.from(env)).isNull();
        assertThat(env.problems())
                .singleElement()
                .asString()
                .contains("sslmode=require with sslrootcert: libpq would check the server's certificate against it,"
                        + " the JDBC driver does not")
                .endsWith("write sslmode=verify-full");
    }

    @Test
    void sslmodeIsReadWithoutRegardToCaseAsTheDriverReadsIt() {
        Env env = env(Map.of("DATABASE_URL", BASE + "?sslmode=Verify-Full&sslrootcert=" + ca.caPem()));

        assertThat(DatabaseUrl.from(env)).isNotNull();
        assertThat(env.problems()).isEmpty();
    }

    @Test
    void aRootCertificateThatIsNoCertificateIsRefused() throws Exception {
        Path notACert = Files.writeString(dir.resolve("ca.pem"), "hello\n");
        Env env = env(Map.of("DATABASE_URL", BASE + "?sslmode=verify-full&sslrootcert=" + notACert));

        assertThat(DatabaseUrl.from(env)).isNull();
        assertThat(env.problems())
                .singleElement()
                .asString()
                .contains("sslrootcert='" + notACert + "' is not an X.509 certificate in PEM or DER");
    }

    @Test
    void aKeyInOpenSslsOldPemFormIsRefusedWithTheCommandThatConvertsIt() throws Exception {
        Path old = ownerOnly(
                dir.resolve("client.key"), "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n");
        Env env = env(Map.of("DATABASE_URL", tls("sslcert=" + client.certPem() + "&sslkey=" + old)));

        assertThat(DatabaseUrl.from(env)).isNull();
        assertThat(env.problems())
                .singleElement()
                .asString()
                .contains("sslkey='" + old + "' is a PEM 'RSA PRIVATE KEY', which the JDBC driver cannot read")
                .contains("openssl pkcs8 -topk8 -nocrypt -outform DER -in " + old + " -out " + old + ".pk8");
    }

    @Test
    void aKeyOthersCanReadIsRefused() throws Exception {
        Path key = Files.copy(client.keyDer(), dir.resolve("open.pk8"));
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));
        Env env = env(Map.of("DATABASE_URL", tls("sslcert=" + client.certPem() + "&sslkey=" + key)));

        assertThat(DatabaseUrl.from(env)).isNull();
        assertThat(env.problems())
                .singleElement()
                .asString()
                .contains("can be read by others than its owner: chmod 600");
    }

    @Test
    void aPkcs12KeyNeedsItsPasswordAndTheAliasTheDriverReads() {
        Env noPassword = env(Map.of("DATABASE_URL", tls("sslkey=" + client.keystore())));
        Env wrongAlias =
                env(Map.of("DATABASE_URL", tls("sslkey=" + client.keystore() + "&sslpassword=" + client.password())));

        assertThat(DatabaseUrl.from(noPassword)).isNull();
        assertThat(DatabaseUrl.from(wrongAlias)).isNull();
        assertThat(noPassword.problems()).singleElement().asString().contains("is PKCS#12: add sslpassword");
        assertThat(wrongAlias.problems())
                .singleElement()
                .asString()
                .contains("holds no key under the alias 'user'")
                .doesNotContain(client.password());
    }

    @Test
    void aCertificateWithoutItsKeyIsAProblem() {
        Env env = env(Map.of("DATABASE_URL", tls("sslcert=" + client.certPem())));

        assertThat(DatabaseUrl.from(env)).isNull();
        assertThat(env.problems()).singleElement().asString().contains("sslcert is set but not sslkey");
    }

    private static String tls(String more) {
        return BASE + "?sslmode=verify-full&sslrootcert=" + ca.caPem() + "&" + more;
    }

    private static Env env(Map<String, String> values) {
        return new Env(values);
    }

    private static Path ownerOnly(Path file, String contents) throws Exception {
        Files.writeString(file, contents);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }
}
