package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.PostgresSchema;
import io.ragline.testkit.SecuredKafka;
import io.ragline.testkit.TestCertificates;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker (or {@code ragline publish}) that cannot get into a secured broker stops with exit status 2 and one
 * message naming the variable that configures what failed and the cause in words; neither its
 * output nor its logs hold the SCRAM password or a store password. Real processes, a real broker
 * with a SASL_SSL and a mutual-TLS listener.
 */
class SecuredKafkaStartupIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @RegisterExtension
    static final SecuredKafka kafka = new SecuredKafka();

    @TempDir
    static Path dir;

    @Test
    void aWrongScramPasswordIsNamedAsARefusedLoginWithItsVariableAndNoSecret() throws Exception {
        String wrong = "wrong-" + UUID.randomUUID();
        JavaProcess worker = start(kafka.saslSslEnv(kafka.scramUser(), wrong, kafka.authority()));

        String output = exitsTwo(worker, wrong);

        assertThat(output)
                .contains("the broker refused the SASL login")
                .contains("RAGLINE_KAFKA_PROPERTIES_FILE (sasl.jaas.config)")
                .contains("RAGLINE_KAFKA_SASL_MECHANISM")
                .contains("invalid credentials")
                .doesNotContain("no answer within");
    }

    @Test
    void aBrokerCertificateFromAnotherAuthorityIsNamedAsUntrustedWithTheTrustStoresVariable() throws Exception {
        TestCertificates other = TestCertificates.authority(dir.resolve("other-ca"), "another-ca");
        JavaProcess worker = start(kafka.saslSslEnv(kafka.scramUser(), kafka.scramPassword(), other));

        String output = exitsTwo(worker, other.password());

        assertThat(output)
                .contains("the broker's certificate is not trusted")
                .contains("RAGLINE_KAFKA_PROPERTIES_FILE (ssl.truststore.location)")
                .contains("PKIX path building failed");
    }

    @Test
    void aClientKeyStoreThatIsMissingIsNamedByItsVariable() throws Exception {
        Path missing = dir.resolve("no-such-client.p12");
        JavaProcess worker = start(kafka.mtlsEnv(missing));

        String output = exitsTwo(worker);

        assertThat(output)
                .contains("RAGLINE_KAFKA_SSL_KEYSTORE_LOCATION='" + missing + "' names a file that does not exist");
    }

    @Test
    void noClientCertificateAtTheMutualTlsListenerIsNamedAsRefusedWithTheKeyStoresVariable() throws Exception {
        Map<String, String> env = new HashMap<>(kafka.mtlsEnv());
        env.keySet().removeIf(k -> k.startsWith("RAGLINE_KAFKA_SSL_KEY"));
        JavaProcess worker = start(env);

        String output = exitsTwo(worker);

        assertThat(output)
                .contains("the broker refused this client's certificate")
                .contains("RAGLINE_KAFKA_SSL_KEYSTORE_LOCATION")
                .doesNotContain("no answer within");
    }

    @Test
    void aPropertyRaglineControlsAndAnUnknownOneAreBothNamed() throws Exception {
        Map<String, String> env = new HashMap<>(kafka.mtlsEnv());
        env.put("RAGLINE_KAFKA_ENABLE_IDEMPOTENCE", "false");
        env.put("RAGLINE_KAFKA_SASL_MECHANISMS", "PLAIN");
        JavaProcess worker = start(env);

        String output = exitsTwo(worker);

        assertThat(output)
                .contains("invalid configuration (2 problems)")
                .contains("RAGLINE_KAFKA_ENABLE_IDEMPOTENCE is refused: Ragline's producers are idempotent")
                .contains("RAGLINE_KAFKA_SASL_MECHANISMS is not a property of Kafka's producer, consumer or admin"
                        + " client");
    }

    @Test
    void publishWithAWrongScramPasswordExitsTwoNamingTheLoginAndNoSecret() throws Exception {
        String wrong = "wrong-" + UUID.randomUUID();
        Path doc = Files.writeString(dir.resolve("note.txt"), "A note that never reaches the broker.");
        Map<String, String> env = new HashMap<>(db.env());
        env.putAll(kafka.saslSslEnv(kafka.scramUser(), wrong, kafka.authority()));

        String output = exitsTwo(CliProcess.start(env, "publish", doc.toString()), wrong);

        assertThat(output)
                .contains("ragline publish: Kafka (" + kafka.saslSslBootstrap() + ") did not take")
                .contains("the broker refused the SASL login (RAGLINE_KAFKA_PROPERTIES_FILE (sasl.jaas.config)");
    }

    @Test
    void publishWithAWrongTrustStorePasswordExitsTwoNamingTheTrustStoreWithoutAStackTrace() throws Exception {
        String wrong = "wrong-" + UUID.randomUUID();
        Path doc = Files.writeString(dir.resolve("unsent.txt"), "A note whose producer is never built.");
        Map<String, String> env = new HashMap<>(db.env());
        env.putAll(kafka.saslSslEnv(kafka.scramUser(), kafka.scramPassword(), kafka.authority()));
        env.put("RAGLINE_KAFKA_SSL_TRUSTSTORE_PASSWORD", wrong);

        String output = exitsTwo(CliProcess.start(env, "publish", doc.toString()), wrong);

        assertThat(output)
                .contains("ragline publish: cannot create a Kafka producer for " + kafka.saslSslBootstrap())
                .contains("the trust store cannot be loaded (")
                .contains("RAGLINE_KAFKA_SSL_TRUSTSTORE_PASSWORD")
                .doesNotContain("\tat ")
                .doesNotContain("client key store");
    }

    private static JavaProcess start(Map<String, String> kafkaEnv) throws Exception {
        Map<String, String> env = new HashMap<>(db.env());
        env.putAll(kafkaEnv);
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_HTTP_PORT", "0");
        env.put("RAGLINE_STARTUP_TIMEOUT", "15s");
        return CliProcess.start(env, "ingest-worker");
    }

    /**
     * The whole output of a worker that exited 2, after checking that it holds none of the
     * secrets of this test (the SCRAM password, the store passwords) nor {@code others}.
     */
    private static String exitsTwo(JavaProcess worker, String... others) throws Exception {
        int code = worker.waitFor(90);
        String output = worker.stdout() + worker.stderr();
        assertThat(code).as(output).isEqualTo(2);
        List<String> secrets = new java.util.ArrayList<>(List.of(
                kafka.scramPassword(),
                kafka.authority().password(),
                kafka.client().password()));
        secrets.addAll(List.of(others));
        assertThat(secrets).allSatisfy(secret -> assertThat(output).doesNotContain(secret));
        return output;
    }
}
