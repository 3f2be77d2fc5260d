package io.ragline.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.WorkerRuntime;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The producers take turns across drains, not only within one. Until a commit's markers are
 * written, the coordinator answers the first produce request of that producer's next transaction
 * with {@code CONCURRENT_TRANSACTIONS}, and the partition's leader tries again only after {@code
 * add.partitions.to.txn.retry.backoff.ms} (20 ms by default): a batch begun on the producer that
 * has just committed often carries that wait. At a few hundred rows a second most drains are one
 * batch, and when every drain began on the first producer, the same producer carried nearly every
 * batch, back to back (docs/benchmarks.md, "The producers' turns"). Here each row is a drain of its
 * own (inserted once the row before it is visible and the drain has ended), and the transactions
 * must go round the producers in turn, with two producers and with three (the default).
 */
class ProducerTurnsIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final int DRAINS = 9;

    WorkerRuntime runtime;

    @AfterEach
    void stop() {
        if (runtime != null) {
            runtime.close();
        }
    }

    @ParameterizedTest(name = "with {0} producers")
    @ValueSource(ints = {2, 3})
    void eachDrainBeginsOnTheProducerAfterTheLastOneUsed(int producers) throws Exception {
        String topic = KafkaTopics.create("producer-turns", 1);
        List<String> begun = Collections.synchronizedList(new ArrayList<>());
        runtime = WiredDispatcher.start(
                db.env(),
                producers,
                (id, p) -> InterceptedProducer.of(p, (method, args) -> {
                    if (method.equals("beginTransaction")) {
                        begun.add(id); // which producer: its transactional.id
                    }
                }));
        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> OutboxRelayIT.isLeader(runtime));
        try (Connection c = db.connect();
                PreparedStatement s =
                        c.prepareStatement("insert into outbox (topic, key, payload) values (?, 'k', ?::jsonb)")) {
            for (int i = 0; i < DRAINS; i++) {
                s.setString(1, topic);
                s.setString(2, "{\"seq\":" + i + "}");
                s.execute();
                Awaitility.await() // published, and the drain ended: its last claim deleted the row, found nothing
                        .atMost(Duration.ofSeconds(30))
                        .until(() -> (long) db.queryValue("select count(*) from outbox") == 0);
            }
        }

        assertThat(KafkaTopics.read(topic, DRAINS, Duration.ofSeconds(30))).hasSize(DRAINS);
        assertThat(begun).as("one transaction per row").hasSize(DRAINS);
        assertThat(new HashSet<>(begun)).as("producers used").hasSize(producers);
        for (int i = producers; i < begun.size(); i++) {
            assertThat(begun.get(i))
                    .as(
                            "transaction %d: on the producer of transaction %d, %d turns before",
                            i, i - producers, producers)
                    .isEqualTo(begun.get(i - producers));
        }
        for (int i = 1; i < begun.size(); i++) {
            assertThat(begun.get(i))
                    .as("transaction %d: not on the producer that committed the one before", i)
                    .isNotEqualTo(begun.get(i - 1));
        }
    }
}
