package io.ragline.core.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.ragline.core.config.ConfigException;
import io.ragline.testkit.TestCertificates;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.util.Arrays;
import java.util.Base64;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PEM certificates and keys as operators have them, made at test time by {@link TestCertificates}. */
class HttpTlsTest {
    @TempDir
    static Path dir;

    static TestCertificates ca;
    static TestCertificates.Issued server;
    static TestCertificates.Issued other;

    @BeforeAll
    static void certificates() {
        ca = TestCertificates.authority(dir.resolve("ca"), "ragline-test-ca");
        server = ca.issue("server", "dns:localhost", "ip:127.0.0.1");
        other = ca.issue("other", "dns:localhost");
    }

    static HttpTls load(Path cert, Path key) {
        return HttpTls.load("RAGLINE_HTTP_TLS_CERT", cert, "RAGLINE_HTTP_TLS_KEY", key);
    }

    static ConfigException refused(Path cert, Path key) {
        return catchThrowableOfType(() -> load(cert, key), ConfigException.class);
    }

    @Test
    void aCertificateAndItsPkcs8KeyServeTls() {
        HttpTls tls = load(server.certPem(), server.keyPem());

        assertThat(tls.context().getProtocol()).isEqualTo("TLS");
    }

    @Test
    void aPkcs1RsaKeyIsReadToo() throws Exception {
        byte[] pkcs8 = Files.readAllBytes(server.keyDer());
        // PrivateKeyInfo of a 2048-bit RSA key: 22 bytes of header, then the OCTET STRING's tag and
        // length (04 82 xx xx) around the PKCS#1 RSAPrivateKey.
        assertThat(pkcs8[22]).isEqualTo((byte) 0x04);
        byte[] pkcs1 = Arrays.copyOfRange(pkcs8, 26, pkcs8.length);
        Path key = write("rsa.key", pem("RSA PRIVATE KEY", pkcs1));

        assertThat(load(server.certPem(), key).context()).isNotNull();
    }

    @Test
    void theCertificateChainMayHoldTheAuthorityAfterTheServer() throws Exception {
        Path chain = write("chain.pem", Files.readString(server.certPem()) + Files.readString(ca.caPem()));

        assertThat(load(chain, server.keyPem()).context()).isNotNull();
    }

    @Test
    void aKeyOfAnotherCertificateIsRefused() {
        ConfigException e = refused(server.certPem(), other.keyPem());

        assertThat(e.problems())
                .singleElement()
                .asString()
                .startsWith("RAGLINE_HTTP_TLS_KEY='" + other.keyPem() + "' is not the key of the first certificate"
                        + " in RAGLINE_HTTP_TLS_CERT");
    }

    @Test
    void aKeyFileThatIsNoPemKeyIsRefusedNamingTheVariableButNotItsContents() throws Exception {
        String contents = "not-a-key-but-a-secret-looking-line-7f3a";
        Path key = write("garbage.key", contents + "\n");

        ConfigException e = refused(server.certPem(), key);

        assertThat(e.problems())
                .containsExactly(
                        "RAGLINE_HTTP_TLS_KEY='" + key + "' holds no PEM private key (-----BEGIN PRIVATE KEY-----)");
        assertThat(e.getMessage()).doesNotContain(contents);
    }

    @Test
    void aDamagedKeyIsRefusedWithoutItsContents() throws Exception {
        byte[] pkcs8 = Files.readAllBytes(server.keyDer());
        byte[] damaged = Arrays.copyOf(pkcs8, pkcs8.length / 2);
        String body = pem("PRIVATE KEY", damaged);
        Path key = write("damaged.key", body);

        ConfigException e = refused(server.certPem(), key);

        assertThat(e.problems()).singleElement().asString().contains("holds a PRIVATE KEY that cannot be read");
        assertThat(e.getMessage())
                .doesNotContain(body.lines().skip(1).findFirst().orElseThrow());
    }

    @Test
    void anEncryptedKeyIsRefusedWithTheWayToConvertIt() throws Exception {
        Path key = write("encrypted.key", pem("ENCRYPTED PRIVATE KEY", new byte[] {1, 2, 3}));

        assertThat(refused(server.certPem(), key).problems())
                .singleElement()
                .asString()
                .contains("holds a ENCRYPTED PRIVATE KEY that cannot be read")
                .contains("openssl pkcs8 -topk8 -nocrypt");
    }

    @Test
    void aCertificateFileWithoutACertificateAndAMissingKeyAreBothReported() throws Exception {
        Path cert = write("empty.pem", "nothing here\n");

        ConfigException e = refused(cert, dir.resolve("missing.key"));

        assertThat(e.problems())
                .hasSize(2)
                .anySatisfy(
                        p -> assertThat(p).startsWith("RAGLINE_HTTP_TLS_CERT='" + cert + "' holds no PEM certificate"))
                .anySatisfy(p -> assertThat(p)
                        .startsWith("RAGLINE_HTTP_TLS_KEY='" + dir.resolve("missing.key") + "' cannot be read"));
    }

    @Test
    void anEcKeyInPkcs8IsReadButRefusedForAnRsaCertificate() throws Exception {
        KeyPairGenerator ec = KeyPairGenerator.getInstance("EC");
        ec.initialize(256);
        Path key = write(
                "ec.key", pem("PRIVATE KEY", ec.generateKeyPair().getPrivate().getEncoded()));

        assertThat(refused(server.certPem(), key).problems())
                .singleElement()
                .asString()
                .contains("is not the key of the first certificate");
    }

    private static Path write(String name, String text) throws Exception {
        Path file = dir.resolve(name);
        Files.writeString(file, text);
        return file;
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                        .encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
