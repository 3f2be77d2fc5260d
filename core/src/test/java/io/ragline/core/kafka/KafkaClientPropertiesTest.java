package io.ragline.core.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.config.Env;
import io.ragline.core.kafka.KafkaClientProperties.Client;
import io.ragline.core.kafka.KafkaClientProperties.Origin;
import io.ragline.testkit.ReadmeConfiguration;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaClientPropertiesTest {
    private static final String JAAS =
            "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"ragline\""
                    + " password=\"Sc-ram-Pa55word\";";

    @TempDir
    Path dir;

    @Test
    void aVariableNamesItsPropertyLowerCasedWithDotsAndWinsOverTheFile() throws IOException {
        Path file = file("security.protocol=SSL\nsasl.mechanism=SCRAM-SHA-512\n");
        Env env = new Env(Map.of(
                "RAGLINE_KAFKA_PROPERTIES_FILE", file.toString(),
                "RAGLINE_KAFKA_SECURITY_PROTOCOL", "SASL_SSL",
                "RAGLINE_KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM", ""));

        KafkaClientProperties properties = KafkaClientProperties.from(env);

        assertThat(env.problems()).isEmpty();
        assertThat(properties.get("security.protocol").orElseThrow())
                .isEqualTo(new KafkaClientProperties.Property("security.protocol", "SASL_SSL", Origin.VARIABLE));
        assertThat(properties.get("sasl.mechanism").orElseThrow().origin()).isEqualTo(Origin.FILE);
        assertThat(properties
                        .get("ssl.endpoint.identification.algorithm")
                        .orElseThrow()
                        .value())
                .as("an empty value turns hostname verification off, as in Kafka's own files")
                .isEmpty();
        assertThat(properties.origins("sasl.mechanism", "security.protocol", "sasl.jaas.config"))
                .isEqualTo("RAGLINE_KAFKA_PROPERTIES_FILE (sasl.mechanism), RAGLINE_KAFKA_SECURITY_PROTOCOL");
    }

    @Test
    void thePropertiesFileVariableAndTheComposePortAreNotProperties() {
        Env env = new Env(Map.of("RAGLINE_KAFKA_PORT", "59092"));

        assertThat(KafkaClientProperties.from(env).all()).isEmpty();
        assertThat(env.problems()).isEmpty();
    }

    @Test
    void everyPropertyRaglineControlsAndEveryUnknownNameIsRefusedAtOnceNamingItsVariable() throws IOException {
        Path file = file("bootstrap.servers=elsewhere:9092\nisolation.level=read_uncommitted\n");
        Env env = new Env(Map.of(
                "RAGLINE_KAFKA_PROPERTIES_FILE", file.toString(),
                "RAGLINE_KAFKA_ENABLE_IDEMPOTENCE", "false",
                "RAGLINE_KAFKA_GROUP_ID", "mine",
                "RAGLINE_KAFKA_SECURITY_PROTOKOL", "SSL"));

        KafkaClientProperties properties = KafkaClientProperties.from(env);

        assertThat(properties.all()).isEmpty();
        assertThat(env.problems())
                .containsExactlyInAnyOrder(
                        "RAGLINE_KAFKA_PROPERTIES_FILE (bootstrap.servers) is refused: set KAFKA_BOOTSTRAP_SERVERS"
                                + " instead: the start-up check and every client read it there",
                        "RAGLINE_KAFKA_ENABLE_IDEMPOTENCE is refused: Ragline's producers are idempotent: a retried"
                                + " send neither duplicates nor reorders a record",
                        "RAGLINE_KAFKA_GROUP_ID is refused: set RAGLINE_GROUP_PREFIX instead: each worker names its"
                                + " consumer groups from it",
                        "RAGLINE_KAFKA_PROPERTIES_FILE (isolation.level) is refused: Ragline reads committed records"
                                + " only: an aborted outbox transaction must stay invisible",
                        "RAGLINE_KAFKA_SECURITY_PROTOKOL is not a property of Kafka's producer, consumer or admin"
                                + " client");
    }

    @Test
    void partitioningRetriesAndTwoPhaseCommitAreRefusedWithTheGuaranteeTheyWouldBreak() {
        Env env = new Env(Map.of(
                "RAGLINE_KAFKA_PARTITIONER_IGNORE_KEYS", "true",
                "RAGLINE_KAFKA_PARTITIONER_CLASS", "org.apache.kafka.clients.producer.RoundRobinPartitioner",
                "RAGLINE_KAFKA_RETRIES", "0",
                "RAGLINE_KAFKA_TRANSACTION_TWO_PHASE_COMMIT_ENABLE", "true"));

        KafkaClientProperties properties = KafkaClientProperties.from(env);

        assertThat(properties.all()).isEmpty();
        assertThat(env.problems())
                .hasSize(4)
                .anySatisfy(p -> assertThat(p)
                        .startsWith("RAGLINE_KAFKA_PARTITIONER_IGNORE_KEYS is refused:")
                        .contains("every record of a key")
                        .contains("in order"))
                .anySatisfy(p -> assertThat(p)
                        .startsWith("RAGLINE_KAFKA_PARTITIONER_CLASS is refused:")
                        .contains("in order"))
                .anySatisfy(p -> assertThat(p)
                        .startsWith("RAGLINE_KAFKA_RETRIES is refused:")
                        .contains("idempotence"))
                .anySatisfy(p -> assertThat(p)
                        .startsWith("RAGLINE_KAFKA_TRANSACTION_TWO_PHASE_COMMIT_ENABLE is refused:")
                        .contains("transaction timeout")
                        .contains("fencing"));
    }

    @Test
    void everyControlledPropertyIsOneOfKafkasOwnAndTheSecurityOnesAreNot() {
        List<String> known = new java.util.ArrayList<>(ProducerConfig.configNames());
        known.addAll(ConsumerConfig.configNames());
        known.addAll(AdminClientConfig.configNames());

        assertThat(known).containsAll(KafkaClients.CONTROLLED.keySet());
        assertThat(KafkaClients.CONTROLLED)
                .doesNotContainKeys(
                        "security.protocol", "sasl.mechanism", "sasl.jaas.config", "ssl.truststore.location");
    }

    @Test
    void aValueKafkaRefusesAndAStoreThatCannotBeReadAreNamed() {
        Env env = new Env(Map.of(
                "RAGLINE_KAFKA_SECURITY_PROTOCOL", "TLS",
                "RAGLINE_KAFKA_SSL_TRUSTSTORE_LOCATION",
                        dir.resolve("missing.p12").toString(),
                "RAGLINE_KAFKA_SASL_LOGIN_CALLBACK_HANDLER_CLASS", "com.example.NotOnTheClassPath"));

        KafkaClientProperties.from(env);

        assertThat(env.problems())
                .hasSize(3)
                .anySatisfy(p -> assertThat(p)
                        .startsWith("RAGLINE_KAFKA_SECURITY_PROTOCOL='TLS' is refused by Kafka:")
                        .contains("SASL_SSL"))
                .anySatisfy(p -> assertThat(p)
                        .isEqualTo("RAGLINE_KAFKA_SSL_TRUSTSTORE_LOCATION='" + dir.resolve("missing.p12")
                                + "' names a file that does not exist"))
                .anySatisfy(p -> assertThat(p)
                        .startsWith("RAGLINE_KAFKA_SASL_LOGIN_CALLBACK_HANDLER_CLASS='com.example.NotOnTheClassPath'")
                        .contains("could not be found"));
    }

    @Test
    void aJaasLineThatCannotBeParsedIsRefusedAtStartUpWithoutKafkasWordsWhichQuoteIt() {
        Env env = new Env(Map.of(
                "RAGLINE_KAFKA_SASL_JAAS_CONFIG",
                "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"u\" password= pw"));

        KafkaClientProperties.from(env);

        assertThat(env.problems())
                .containsExactly("RAGLINE_KAFKA_SASL_JAAS_CONFIG='<masked>' cannot be parsed as a JAAS line (expected:"
                        + " <LoginModule class> required <option>=\"<value>\" ...;)");
    }

    @Test
    void aSingleQuotedJaasPasswordIsMaskedWithoutItsQuotes() {
        KafkaClientProperties properties = KafkaClientProperties.from(new Env(Map.of(
                "RAGLINE_KAFKA_SASL_JAAS_CONFIG",
                "org.apache.kafka.common.security.plain.PlainLoginModule required username='u'"
                        + " password='S3cret-pw';")));

        assertThat(properties.mask("login failed for password S3cret-pw"))
                .isEqualTo("login failed for password <masked>");
    }

    @Test
    void aPropertiesFileThatCannotBeReadIsNamed() {
        Env env = new Env(Map.of(
                "RAGLINE_KAFKA_PROPERTIES_FILE",
                dir.resolve("client.properties").toString()));

        KafkaClientProperties.from(env);

        assertThat(env.problems())
                .containsExactly("RAGLINE_KAFKA_PROPERTIES_FILE='" + dir.resolve("client.properties")
                        + "' cannot be read as a properties file (NoSuchFileException)");
    }

    @Test
    void secretsAreMaskedInTheirDescriptionInProblemsAndInKafkasMessages() throws IOException {
        Path file = file("sasl.jaas.config=" + JAAS.replace("\"", "\\\"") + "\nssl.truststore.password=Tru5t-Me\n"
                + "ssl.keystore.password=Key-Pa55\n");
        Map<String, String> values = new HashMap<>(Map.of(
                "RAGLINE_KAFKA_PROPERTIES_FILE", file.toString(), "RAGLINE_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"));
        KafkaClientProperties properties = KafkaClientProperties.from(new Env(values));
        values.put("RAGLINE_KAFKA_ACKS", "1");
        values.put("RAGLINE_KAFKA_SSL_KEY_PASSWORD", "Key-Pa55");
        Env refused = new Env(values);
        KafkaSettings settings = KafkaSettings.from(refused);

        assertThat(properties.get("sasl.jaas.config").orElseThrow().value()).isEqualTo(JAAS);
        assertThat(properties.toString())
                .contains("sasl.jaas.config=<masked> (RAGLINE_KAFKA_PROPERTIES_FILE (sasl.jaas.config))")
                .contains("sasl.mechanism=SCRAM-SHA-512 (RAGLINE_KAFKA_SASL_MECHANISM)")
                .doesNotContain("Sc-ram-Pa55word", "Tru5t-Me", "Key-Pa55");
        assertThat(String.join("\n", refused.problems()) + settings)
                .contains("RAGLINE_KAFKA_ACKS is refused")
                .doesNotContain("Sc-ram-Pa55word", "Tru5t-Me", "Key-Pa55");
        assertThat(properties.mask("Login failed for password=\"Sc-ram-Pa55word\" or Sc-ram-Pa55word, store Key-Pa55"))
                .isEqualTo("Login failed for password=<masked> or <masked>, store <masked>");
    }

    @Test
    void everyPropertyKafkaTypesAsAPasswordIsASecret() {
        assertThat(List.of(
                        "sasl.jaas.config",
                        "ssl.keystore.key",
                        "ssl.keystore.password",
                        "ssl.key.password",
                        "ssl.truststore.password",
                        "sasl.oauthbearer.client.credentials.client.secret"))
                .allMatch(KafkaClientProperties::isSecret);
        assertThat(KafkaClientProperties.isSecret("ssl.truststore.location")).isFalse();
        assertThat(KafkaClientProperties.isSecret("sasl.mechanism")).isFalse();
    }

    @Test
    void eachKindOfClientGetsOnlyThePropertiesKafkaDefinesForIt() {
        KafkaClientProperties properties = KafkaClientProperties.from(new Env(Map.of(
                "RAGLINE_KAFKA_SECURITY_PROTOCOL", "SSL",
                "RAGLINE_KAFKA_BATCH_SIZE", "131072",
                "RAGLINE_KAFKA_FETCH_MAX_BYTES", "1048576")));
        Properties producer = new Properties();
        Properties consumer = new Properties();
        Properties admin = new Properties();

        properties.addTo(producer, Client.PRODUCER);
        properties.addTo(consumer, Client.CONSUMER);
        properties.addTo(admin, Client.ADMIN);

        assertThat(producer).containsOnlyKeys("security.protocol", "batch.size");
        assertThat(consumer).containsOnlyKeys("security.protocol", "fetch.max.bytes");
        assertThat(admin).containsOnlyKeys("security.protocol");
    }

    @Test
    void aPropertyMapsToItsVariableAndBack() {
        assertThat(KafkaClientProperties.variableOf("sasl.jaas.config")).isEqualTo("RAGLINE_KAFKA_SASL_JAAS_CONFIG");
        assertThat(KafkaClientProperties.from(
                                new Env(Map.of(KafkaClientProperties.variableOf("sasl.mechanism"), "PLAIN")))
                        .get("sasl.mechanism"))
                .isPresent();
    }

    @Test
    void theReadmeListsBothWaysToGiveProperties() {
        ReadmeConfiguration readme = ReadmeConfiguration.read();

        assertThat(readme.variables())
                .containsAll(ReadmeConfiguration.variablesOf(KafkaClientProperties.class))
                .contains(KafkaClientProperties.PROPERTIES_FILE, KafkaClientProperties.VARIABLE_PREFIX + "<NAME>");
    }

    private Path file(String text) throws IOException {
        Path file = dir.resolve("client.properties");
        Files.writeString(file, text);
        return file;
    }
}
