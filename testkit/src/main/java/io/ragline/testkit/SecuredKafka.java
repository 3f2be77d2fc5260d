package io.ragline.testkit;

import io.ragline.devstack.Ports;
import io.ragline.devstack.kafka.LocalKafka;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ScramCredentialInfo;
import org.apache.kafka.clients.admin.ScramMechanism;
import org.apache.kafka.clients.admin.UserScramCredentialUpsertion;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A Kafka broker of a test class's own, with secured listeners: the KRaft broker {@link LocalKafka}
 * runs (Maven artifacts, a JVM of its own: only a JDK is needed, so it runs beside Testcontainers
 * too), in one process with three listeners on loopback:
 *
 * <ul>
 *   <li>{@code SASL_SSL} with SCRAM-SHA-512 ({@link #saslSslBootstrap()}; the user {@link
 *       #scramUser()} is created over the PLAINTEXT listener with {@code alterUserScramCredentials});
 *   <li>{@code SSL} with client certificates required, mutual TLS ({@link #mtlsBootstrap()});
 *   <li>{@code PLAINTEXT}, for set-up and inter-broker traffic only.
 * </ul>
 *
 * The broker's certificate and the client's are signed by a certificate authority made when the
 * broker starts ({@link TestCertificates}). Register it as {@code @RegisterExtension static final
 * SecuredKafka kafka = new SecuredKafka();}: started before the class's tests, stopped after them.
 */
public final class SecuredKafka implements BeforeAllCallback, AfterAllCallback {
    /** SCRAM credentials are hashed with this many iterations (Kafka's minimum is 4096). */
    private static final int SCRAM_ITERATIONS = 8192;

    private Path dir;
    private LocalKafka broker;
    private String plaintext;
    private int saslSslPort;
    private int mtlsPort;
    private TestCertificates authority;
    private TestCertificates.Issued client;
    private final String scramUser = "ragline";
    private final String scramPassword = "scram-" + UUID.randomUUID();

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        dir = Files.createTempDirectory("ragline-secured-kafka");
        authority = TestCertificates.authority(dir.resolve("ca"), "ragline-test-ca");
        TestCertificates.Issued server = authority.issue("broker", "dns:localhost", "ip:127.0.0.1");
        client = authority.issue("ragline-client");
        saslSslPort = Ports.free();
        mtlsPort = Ports.free();
        Map<String, String> tls = new HashMap<>();
        tls.put("ssl.keystore.type", "PKCS12");
        tls.put("ssl.keystore.location", server.keystore().toString());
        tls.put("ssl.keystore.password", server.password());
        tls.put("ssl.key.password", server.password());
        tls.put("ssl.truststore.type", "PKCS12");
        tls.put("ssl.truststore.location", authority.truststore().toString());
        tls.put("ssl.truststore.password", authority.password());
        Map<String, String> sasl = new HashMap<>(tls);
        sasl.put("sasl.enabled.mechanisms", "SCRAM-SHA-512");
        sasl.put(
                "listener.name.secured.scram-sha-512.sasl.jaas.config",
                "org.apache.kafka.common.security.scram.ScramLoginModule required;");
        Map<String, String> mtls = new HashMap<>(tls);
        mtls.put("listener.name.mtls.ssl.client.auth", "required");
        broker = new LocalKafka(dir, message -> {})
                .withListener(new LocalKafka.Listener("SECURED", "SASL_SSL", saslSslPort, sasl))
                .withListener(new LocalKafka.Listener("MTLS", "SSL", mtlsPort, mtls));
        plaintext = broker.start();
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, plaintext))) {
            admin.alterUserScramCredentials(List.of(new UserScramCredentialUpsertion(
                            scramUser,
                            new ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS),
                            scramPassword)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
            awaitCredentials(admin);
        }
    }

    /** Until the broker describes the user's credentials: a login made before that would be refused. */
    private void awaitCredentials(Admin admin) throws InterruptedException, ExecutionException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (!admin.describeUserScramCredentials(List.of(scramUser))
                        .description(scramUser)
                        .get(5, TimeUnit.SECONDS)
                        .credentialInfos()
                        .isEmpty()) {
                    return;
                }
            } catch (java.util.concurrent.TimeoutException | ExecutionException notYet) {
                // asked again below
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("the SCRAM user " + scramUser + " did not appear within 30 s");
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        if (broker != null) {
            broker.stop();
        }
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** The PLAINTEXT listener: for set-up only (topics, users), never for what a test proves. */
    public String plaintextBootstrap() {
        return plaintext;
    }

    /** The SASL_SSL (SCRAM-SHA-512) listener. */
    public String saslSslBootstrap() {
        return "127.0.0.1:" + saslSslPort;
    }

    /** The SSL listener that requires a client certificate. */
    public String mtlsBootstrap() {
        return "127.0.0.1:" + mtlsPort;
    }

    /** The authority that signed the broker's certificate and {@link #client()}'s. */
    public TestCertificates authority() {
        return authority;
    }

    /** A client certificate the mutual-TLS listener accepts (PKCS#12 key store, {@link TestCertificates#password()}). */
    public TestCertificates.Issued client() {
        return client;
    }

    public String scramUser() {
        return scramUser;
    }

    public String scramPassword() {
        return scramPassword;
    }

    /** {@code sasl.jaas.config} logging in as {@code user} with {@code password}. */
    public static String scramJaas(String user, String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"" + user + "\" password=\""
                + password + "\";";
    }

    /**
     * The variables of a Ragline process that uses the SASL_SSL listener: the security protocol
     * and mechanism as {@code RAGLINE_KAFKA_*} variables, the login and the trust store in a
     * properties file ({@code RAGLINE_KAFKA_PROPERTIES_FILE}), written under this broker's directory;
     * the trust store is {@code trusted}'s.
     */
    public Map<String, String> saslSslEnv(String user, String password, TestCertificates trusted) {
        Path file = dir.resolve("client-" + UUID.randomUUID() + ".properties");
        String text = String.join(
                "\n",
                "sasl.jaas.config=" + scramJaas(user, password),
                "ssl.truststore.type=PKCS12",
                "ssl.truststore.location=" + trusted.truststore(),
                "ssl.truststore.password=" + trusted.password(),
                "");
        try {
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> env = new LinkedHashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", saslSslBootstrap());
        env.put("RAGLINE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL");
        env.put("RAGLINE_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512");
        env.put("RAGLINE_KAFKA_PROPERTIES_FILE", file.toString());
        return env;
    }

    /** {@link #saslSslEnv(String, String, TestCertificates)} with this broker's user and authority. */
    public Map<String, String> saslSslEnv() {
        return saslSslEnv(scramUser, scramPassword, authority);
    }

    /**
     * The variables of a Ragline process that uses the mutual-TLS listener, every one a {@code
     * RAGLINE_KAFKA_*} variable: the trust store, and {@code keystore} as the client's certificate.
     */
    public Map<String, String> mtlsEnv(Path keystore) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", mtlsBootstrap());
        env.put("RAGLINE_KAFKA_SECURITY_PROTOCOL", "SSL");
        env.put("RAGLINE_KAFKA_SSL_TRUSTSTORE_TYPE", "PKCS12");
        env.put("RAGLINE_KAFKA_SSL_TRUSTSTORE_LOCATION", authority.truststore().toString());
        env.put("RAGLINE_KAFKA_SSL_TRUSTSTORE_PASSWORD", authority.password());
        env.put("RAGLINE_KAFKA_SSL_KEYSTORE_TYPE", "PKCS12");
        env.put("RAGLINE_KAFKA_SSL_KEYSTORE_LOCATION", keystore.toString());
        env.put("RAGLINE_KAFKA_SSL_KEYSTORE_PASSWORD", client.password());
        env.put("RAGLINE_KAFKA_SSL_KEY_PASSWORD", client.password());
        return env;
    }

    /** {@link #mtlsEnv(Path)} with {@link #client()}'s certificate. */
    public Map<String, String> mtlsEnv() {
        return mtlsEnv(client.keystore());
    }
}
