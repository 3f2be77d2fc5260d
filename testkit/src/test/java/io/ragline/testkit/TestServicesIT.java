package io.ragline.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class TestServicesIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema();

    @Test
    void theSchemaIsFreshAndTheVectorTypeResolves() throws Exception {
        assertThat(db.queryValue(
                        "select count(*) from information_schema.tables where table_schema = '" + db.schema() + "'"))
                .isEqualTo(0L);
        assertThat(db.queryValue("select '[1,2,3]'::vector <=> '[1,2,3]'::vector"))
                .isEqualTo(0.0);
    }

    @Test
    void uniqueTopicsCarryRecordsThroughTheRealBroker() throws Exception {
        String a = KafkaTopics.create("testkit", 3);
        String b = KafkaTopics.create("testkit", 3);
        assertThat(a).isNotEqualTo(b);

        try (KafkaProducer<String, String> producer = KafkaTopics.producer()) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(a, "key-" + i, "value-" + i)).get(30, TimeUnit.SECONDS);
            }
        }
        List<ConsumerRecord<String, String>> records = KafkaTopics.read(a, 10, Duration.ofSeconds(30));

        assertThat(records).hasSize(10);
        assertThat(records).extracting(ConsumerRecord::value).contains("value-0", "value-9");
        assertThat(KafkaTopics.endOffsets(b))
                .allSatisfy((partition, end) -> assertThat(end).isZero());
        assertThat(KafkaTopics.endOffsets(a).values().stream()
                        .mapToLong(Long::longValue)
                        .sum())
                .isEqualTo(10);
    }
}
