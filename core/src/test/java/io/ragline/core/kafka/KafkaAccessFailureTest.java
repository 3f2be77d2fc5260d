package io.ragline.core.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.ragline.core.config.Env;
import io.ragline.testkit.TestCertificates;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Failures of real Kafka clients, explained: the stores are made with keytool and loaded by
 * Kafka's own TLS code when the client is built (no broker is needed for that).
 */
class KafkaAccessFailureTest {
    @TempDir
    Path dir;

    @Test
    void aKeyStoreWhosePasswordIsWrongIsNamedWithItsVariablesAndThePasswordIsNotShown() {
        TestCertificates ca = TestCertificates.authority(dir, "test-ca");
        TestCertificates.Issued client = ca.issue("client");
        KafkaClientProperties properties = KafkaClientProperties.from(new Env(Map.of(
                "RAGLINE_KAFKA_SECURITY_PROTOCOL",
                "SSL",
                "RAGLINE_KAFKA_SSL_KEYSTORE_TYPE",
                "PKCS12",
                "RAGLINE_KAFKA_SSL_KEYSTORE_LOCATION",
                client.keystore().toString(),
                "RAGLINE_KAFKA_SSL_KEYSTORE_PASSWORD",
                "Not-" + client.password())));

        Throwable failure = catchThrowable(
                () -> KafkaClients.admin("127.0.0.1:9", properties, "access-failure-test", Duration.ofSeconds(1))
                        .close());
        String explained = KafkaAccessFailure.explain(failure, properties);

        assertThat(explained)
                .startsWith("the client key store cannot be loaded (RAGLINE_KAFKA_SSL_KEYSTORE_LOCATION,"
                        + " RAGLINE_KAFKA_SSL_KEYSTORE_TYPE, RAGLINE_KAFKA_SSL_KEYSTORE_PASSWORD)")
                .contains(client.keystore().toString())
                .doesNotContain(client.password());
        assertThat(KafkaAccessFailure.retryable(failure))
                .as("start-up does not wait for it")
                .isFalse();
    }

    @Test
    void aTrustStoreWhosePasswordIsWrongIsNamedAsTheTrustStoreThoughKafkaCallsItAKeystore() {
        TestCertificates ca = TestCertificates.authority(dir, "test-ca");
        KafkaClientProperties properties = KafkaClientProperties.from(new Env(Map.of(
                "RAGLINE_KAFKA_SECURITY_PROTOCOL",
                "SSL",
                "RAGLINE_KAFKA_SSL_TRUSTSTORE_TYPE",
                "PKCS12",
                "RAGLINE_KAFKA_SSL_TRUSTSTORE_LOCATION",
                ca.truststore().toString(),
                "RAGLINE_KAFKA_SSL_TRUSTSTORE_PASSWORD",
                "Not-" + ca.password())));

        Throwable failure = catchThrowable(
                () -> KafkaClients.admin("127.0.0.1:9", properties, "access-failure-test", Duration.ofSeconds(1))
                        .close());
        String explained = KafkaAccessFailure.explain(failure, properties);

        assertThat(explained)
                .startsWith("the trust store cannot be loaded (RAGLINE_KAFKA_SSL_TRUSTSTORE_LOCATION,"
                        + " RAGLINE_KAFKA_SSL_TRUSTSTORE_TYPE, RAGLINE_KAFKA_SSL_TRUSTSTORE_PASSWORD)")
                .contains(ca.truststore().toString())
                .doesNotContain(ca.password());
    }

    @Test
    void aJaasParseFailureNamesTheLinesOriginAndNoneOfKafkasWordsWhichQuoteTheLine() {
        KafkaClientProperties properties = KafkaClientProperties.from(new Env(Map.of(
                "RAGLINE_KAFKA_SASL_JAAS_CONFIG",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\""
                        + " password=\"Pa55-w0rd\";")));

        String explained = KafkaAccessFailure.explain(
                new org.apache.kafka.common.KafkaException(
                        "Failed to create new KafkaAdminClient",
                        new IllegalArgumentException("Value not specified for key 'w0rd' in JAAS config")),
                properties);

        assertThat(explained).isEqualTo("sasl.jaas.config cannot be parsed (RAGLINE_KAFKA_SASL_JAAS_CONFIG)");
    }

    @Test
    void aRefusedLoginNamesTheJaasLinesOriginAndMasksItsPasswordIfKafkaEverEchoedIt() {
        KafkaClientProperties properties = KafkaClientProperties.from(new Env(Map.of(
                "RAGLINE_KAFKA_SASL_JAAS_CONFIG",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\""
                        + " password=\"Pa55-w0rd\";")));

        String explained = KafkaAccessFailure.explain(
                new SaslAuthenticationException("bad login for password Pa55-w0rd"), properties);

        assertThat(explained)
                .isEqualTo("the broker refused the SASL login (RAGLINE_KAFKA_SASL_JAAS_CONFIG):"
                        + " SaslAuthenticationException: bad login for password <masked>");
    }

    @Test
    void timeoutsAndBrokersThatWentAwayAreRetryableARefusedLoginOrATlsFailureIsNot() {
        assertThat(KafkaAccessFailure.retryable(
                        new org.apache.kafka.common.errors.TimeoutException("Timed out waiting for a node assignment")))
                .isTrue();
        assertThat(KafkaAccessFailure.retryable(new org.apache.kafka.common.errors.DisconnectException()))
                .isTrue();
        assertThat(KafkaAccessFailure.retryable(new java.util.concurrent.TimeoutException()))
                .isTrue();

        assertThat(KafkaAccessFailure.retryable(new SaslAuthenticationException("invalid credentials")))
                .isFalse();
        assertThat(KafkaAccessFailure.retryable(new org.apache.kafka.common.errors.SslAuthenticationException(
                        "SSL handshake failed", new javax.net.ssl.SSLHandshakeException("PKIX path building failed"))))
                .isFalse();
        assertThat(KafkaAccessFailure.retryable(new org.apache.kafka.common.errors.TimeoutException(
                        "timed out", new javax.net.ssl.SSLHandshakeException("no cipher suites in common"))))
                .as("a TLS failure under a timeout")
                .isFalse();
        assertThat(KafkaAccessFailure.retryable(new org.apache.kafka.common.KafkaException("Failed to construct")))
                .isFalse();
    }
}
