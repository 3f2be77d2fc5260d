package io.ragline.dispatcher;

import io.ragline.testkit.KafkaTopics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.awaitility.Awaitility;

/**
 * An independent {@code read_committed} consumer that reads a topic while the relay publishes it
 * and checks each record as it becomes visible: a key's rows carry {@code {"seq": n}} from 0 up,
 * and a record whose seq is not the next one of its key is a violation (a later row seen while
 * an earlier one is missing). A record whose outbox id was seen already is a duplicate (allowed by
 * the consumers' dedup contract, counted).
 */
final class KeyOrderWatcher implements AutoCloseable {
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final Thread thread;
    private final Set<Long> seen = new HashSet<>();
    private final Map<String, Integer> last = new HashMap<>();
    private final List<String> violations = new ArrayList<>();
    private int duplicates;
    private volatile Throwable failure;

    KeyOrderWatcher(String topic) {
        this(KafkaTopics.bootstrapServers(), topic);
    }

    /** A watcher of {@code topic} on the brokers at {@code bootstrapServers}. */
    KeyOrderWatcher(String bootstrapServers, String topic) {
        thread = new Thread(() -> watch(bootstrapServers, topic), "key-order-watcher");
        thread.setDaemon(true);
        thread.start();
    }

    private void watch(String bootstrapServers, String topic) {
        try (KafkaConsumer<String, String> consumer = KafkaTopics.consumer(bootstrapServers, "watcher-" + topic)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                    .map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            while (running.get()) {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(100))) {
                    check(r);
                }
            }
        } catch (Throwable e) {
            failure = e;
        }
    }

    private synchronized void check(ConsumerRecord<String, String> r) {
        if (!seen.add(OutboxRelayIT.outboxId(r))) {
            duplicates++;
            return;
        }
        int seq = Integer.parseInt(r.value().replaceAll("\\D", ""));
        int expected = last.getOrDefault(r.key(), -1) + 1;
        if (seq != expected) {
            violations.add("key " + r.key() + ": seq " + seq + " visible while " + expected + " was not");
        }
        last.put(r.key(), Math.max(seq, expected - 1));
    }

    /** Waits until {@code count} distinct outbox ids were read. */
    void awaitDistinct(int count, Duration atMost) {
        Awaitility.await()
                .alias(count + " distinct outbox ids visible to the read_committed watcher")
                .atMost(atMost)
                .pollInterval(Duration.ofMillis(50))
                .until(() -> {
                    if (failure != null) {
                        throw new AssertionError("the watcher failed", failure);
                    }
                    return distinct() >= count;
                });
    }

    synchronized int distinct() {
        return seen.size();
    }

    synchronized List<String> violations() {
        return List.copyOf(violations);
    }

    synchronized int duplicates() {
        return duplicates;
    }

    @Override
    public void close() throws InterruptedException {
        running.set(false);
        thread.join(10_000);
    }
}
