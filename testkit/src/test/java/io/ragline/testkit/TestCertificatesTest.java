package io.ragline.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The certificates are checked by the two peers that use them: a JDK TLS handshake and OpenSSL. */
class TestCertificatesTest {
    @TempDir
    static Path dir;

    static TestCertificates ca;
    static TestCertificates.Issued localhost;
    static TestCertificates.Issued elsewhere;

    @BeforeAll
    static void issue() {
        ca = TestCertificates.authority(dir, "ragline-test-ca");
        localhost = ca.issue("localhost", "dns:localhost", "ip:127.0.0.1");
        elsewhere = ca.issue("elsewhere", "dns:db.elsewhere.example");
    }

    @Test
    void aClientTrustingTheAuthorityVerifiesTheServerByItsHostName() throws Exception {
        assertThat(handshake(localhost, "localhost")).isEqualTo("CN=localhost");
    }

    @Test
    void aCertificateNamingAnotherHostFailsHostNameVerification() {
        assertThatThrownBy(() -> handshake(elsewhere, "localhost")).isInstanceOf(SSLHandshakeException.class);
    }

    @Test
    void openSslVerifiesThePemChainAndReadsTheKey() throws Exception {
        assertThat(run(
                        "openssl",
                        "verify",
                        "-CAfile",
                        ca.caPem().toString(),
                        localhost.certPem().toString()))
                .contains(": OK");
        assertThat(run("openssl", "pkey", "-in", localhost.keyPem().toString(), "-noout", "-check"))
                .contains("valid");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(localhost.keyPem())))
                .isEqualTo("rw-------");
    }

    /** A TLS handshake on loopback; returns the subject the client saw. */
    private static String handshake(TestCertificates.Issued server, String host) throws Exception {
        SSLContext serverContext = SSLContext.getInstance("TLS");
        KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(load(server.keystore(), server.password()), server.password().toCharArray());
        serverContext.init(kmf.getKeyManagers(), null, null);
        SSLContext clientContext = SSLContext.getInstance("TLS");
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(load(ca.truststore(), ca.password()));
        clientContext.init(null, tmf.getTrustManagers(), null);
        try (SSLServerSocket listener =
                (SSLServerSocket) serverContext.getServerSocketFactory().createServerSocket(0)) {
            CompletableFuture<Void> accepted = CompletableFuture.runAsync(() -> {
                try (SSLSocket s = (SSLSocket) listener.accept()) {
                    s.startHandshake();
                } catch (Exception e) {
                    // the client's failure is what the test looks at
                }
            });
            try (SSLSocket client =
                    (SSLSocket) clientContext.getSocketFactory().createSocket(host, listener.getLocalPort())) {
                SSLParameters params = client.getSSLParameters();
                params.setEndpointIdentificationAlgorithm("HTTPS");
                client.setSSLParameters(params);
                client.startHandshake();
                return client.getSession().getPeerPrincipal().getName();
            } finally {
                accepted.get(10, TimeUnit.SECONDS);
            }
        }
    }

    private static KeyStore load(Path file, String password) throws Exception {
        try (InputStream in = Files.newInputStream(file)) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, password.toCharArray());
            return ks;
        }
    }

    private static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }
}
