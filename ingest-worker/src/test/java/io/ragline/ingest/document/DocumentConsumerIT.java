package io.ragline.ingest.document;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.contracts.Topic;
import io.ragline.contracts.document.DocumentCodec;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.config.Env;
import io.ragline.core.consumer.ConsumerBinding;
import io.ragline.core.consumer.ContractDecoder;
import io.ragline.ingest.chunking.ModelTokenCounter;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The {@code documents} consumer on a real Postgres and a real broker, with a collection catalog
 * that keeps what it read for an hour, so every record below arrives inside the cache's life.
 * One partition, so a record that follows a dead letter shows that the partition kept flowing.
 */
class DocumentConsumerIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static String topic;
    static WorkerRuntime runtime;
    static KafkaProducer<String, String> producer;

    @BeforeAll
    static void start() {
        String prefix = "docs" + UUID.randomUUID().toString().substring(0, 8) + ".";
        topic = KafkaTopics.createNamed(prefix + Topic.DOCUMENTS.topic(), 1);
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_TOPIC_PREFIX", prefix);
        env.put("RAGLINE_RETRY_BACKOFF_INITIAL", "200ms");
        env.put("RAGLINE_RETRY_BACKOFF_MAX", "1s");
        Env e = new Env(env);
        runtime = WorkerRuntime.start("document-consumer-it", 0, e);
        runtime.consume(new ConsumerBinding<>(
                Topic.DOCUMENTS.topic(),
                List.of(topic),
                new ContractDecoder<>(new DocumentCodec(1 << 20)),
                new DocumentWriter(
                        new CollectionCatalog(Duration.ofHours(1)),
                        new ModelTokenCounter.Chunkers(),
                        runtime.registry())));
        producer = KafkaTopics.producer();
    }

    @AfterAll
    static void stop() {
        if (producer != null) {
            producer.close();
        }
        if (runtime != null) {
            runtime.close();
        }
    }

    @Test
    void aCollectionDroppedAndCreatedAgainUnderItsNameTakesDocumentsAtOnce() throws Exception {
        db.execute("insert into collections (name) values ('again')");
        publish("again/first", upsert("again", "first", "Stored while the first collection lives."));
        awaitStored("again", "first");

        db.execute("delete from collections where name = 'again'");
        db.execute("insert into collections (name) values ('again')");
        publish("again/second", upsert("again", "second", "Stored in the collection made again."));

        awaitStored("again", "second");
        assertThat(deadLetters("again/")).isEmpty();

        db.execute("delete from collections where name = 'again'");
        publish("again/third", upsert("again", "third", "Its collection is gone for good."));
        publish("default/after-gone", upsert("default", "after-gone", "Follows a dead letter."));

        awaitStored("default", "after-gone");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> !deadLetters("again/").isEmpty());
        assertThat(deadLetters("again/"))
                .singleElement()
                .satisfies(r -> assertThat(r.key()).isEqualTo("again/third"))
                .satisfies(r -> assertThat(reason(r)).isEqualTo("unknown collection 'again'"));
    }

    @Test
    void aRecordWithoutAKeyIsDeadLetteredAndThePartitionMovesOn() throws Exception {
        publish(null, upsert("default", "keyless", "Published without a key."));
        publish("default/after-keyless", upsert("default", "after-keyless", "Follows the keyless record."));

        awaitStored("default", "after-keyless");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> KafkaTopics.readAll(topic + ".dlq", Duration.ofSeconds(30)).stream()
                        .anyMatch(r -> r.key() == null));
        assertThat(KafkaTopics.readAll(topic + ".dlq", Duration.ofSeconds(30)).stream()
                        .filter(r -> r.key() == null))
                .singleElement()
                .satisfies(
                        r -> assertThat(reason(r)).isEqualTo("the record has no key: it needs the key collection/id"));
        assertThat(db.queryValue("select count(*) from documents where external_id = 'keyless'"))
                .isEqualTo(0L);
    }

    private static String upsert(String collection, String id, String content) {
        return "{\"schema_version\":1,\"op\":\"upsert\",\"collection\":\"" + collection + "\",\"id\":\"" + id
                + "\",\"title\":\"" + id + "\",\"content\":\"" + content + "\"}";
    }

    private static void publish(String key, String value) throws Exception {
        producer.send(new ProducerRecord<>(topic, key, value)).get();
    }

    private static void awaitStored(String collection, String id) {
        await().atMost(Duration.ofSeconds(60))
                .until(() -> "chunked"
                        .equals(db.queryValue("select d.status from documents d join collections c on c.id ="
                                + " d.collection_id where c.name = '" + collection + "' and d.external_id = '" + id
                                + "'")));
    }

    private static List<ConsumerRecord<String, String>> deadLetters(String keyPrefix) {
        return KafkaTopics.readAll(topic + ".dlq", Duration.ofSeconds(30)).stream()
                .filter(r -> r.key() != null && r.key().startsWith(keyPrefix))
                .toList();
    }

    private static String reason(ConsumerRecord<String, String> r) {
        var header = r.headers().lastHeader("ragline.dlq.error.message");
        return header == null ? "" : new String(header.value(), StandardCharsets.UTF_8);
    }
}
