package io.ragline.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.WorkerRuntime;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.KafkaException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The relay claims the next batch while a small one commits in Kafka (OutboxClaims), and that
 * claim carries the delete of the batches committed before. A batch claimed ahead of a commit that
 * then fails must not be published before the failed rows go again, or a key would overtake itself.
 * With one producer the claim ahead runs on its own thread; with two, the batch claimed is also
 * sent while the one before commits, and aborted if that commit fails.
 */
class ClaimAheadIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final int ROWS = 600;

    WorkerRuntime runtime;

    @AfterEach
    void stop() {
        if (runtime != null) {
            runtime.close();
        }
    }

    @ParameterizedTest(name = "with {0} producer(s)")
    @ValueSource(ints = {1, 2})
    void batchesClaimedWhileACommitFailsAreNotPublishedAheadOfTheFailedRows(int producers) throws Exception {
        String topic = KafkaTopics.create("claim-ahead", 1);
        AtomicInteger commits = new AtomicInteger();
        AtomicInteger failed = new AtomicInteger();
        runtime = WiredDispatcher.start(db.env(), producers, (id, p) -> failingEveryThirdCommit(p, commits, failed));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> OutboxRelayIT.isLeader(runtime));
        try (Connection c = db.connect();
                PreparedStatement s =
                        c.prepareStatement("insert into outbox (topic, key, payload) values (?, ?, ?::jsonb)")) {
            for (int i = 0; i < ROWS; i++) { // one row per transaction: small batches, each claimed ahead
                s.setString(1, topic);
                s.setString(2, "k" + (i % 3));
                s.setString(3, "{\"seq\":" + i + "}");
                s.execute();
            }
        }

        List<ConsumerRecord<String, String>> records = KafkaTopics.read(topic, ROWS, Duration.ofSeconds(120));

        assertThat(failed.get()).as("commits that failed").isPositive();
        assertThat(records)
                .extracting(OutboxRelayIT::outboxId)
                .doesNotHaveDuplicates()
                .hasSize(ROWS);
        Map<String, Integer> last = new HashMap<>();
        for (ConsumerRecord<String, String> r : records) {
            int seq = Integer.parseInt(r.value().replaceAll("\\D", ""));
            Integer previous = last.put(r.key(), seq);
            assertThat(previous == null || previous < seq)
                    .as("key %s went from %s to %s", r.key(), previous, seq)
                    .isTrue();
        }
        assertThat(OutboxRelayIT.gauge(runtime, "ragline_outbox_claimed_ahead_total"))
                .as("batches claimed ahead")
                .isPositive();
        org.awaitility.Awaitility.await()
                .atMost(Duration.ofSeconds(30))
                .until(() -> (long) db.queryValue("select count(*) from outbox") == 0);
    }

    /** Every third {@code commitTransaction} fails before it reaches Kafka; the relay aborts it. */
    private static Producer<byte[], byte[]> failingEveryThirdCommit(
            Producer<byte[], byte[]> real, AtomicInteger commits, AtomicInteger failed) {
        return InterceptedProducer.of(real, (method, args) -> {
            if (method.equals("commitTransaction") && commits.incrementAndGet() % 3 == 2) {
                failed.incrementAndGet();
                throw new KafkaException("injected: the commit failed");
            }
        });
    }
}
