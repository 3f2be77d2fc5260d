package io.ragline.dispatcher.outbox;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the relay does with rows Kafka refuses for good ({@link RowFaults}): count the attempt on
 * the row, hold back what must wait, and after the last attempt move the row to {@code
 * outbox_dead_letters}. A row's own fault holds back its key (a key-less row alone). A fault of
 * the topic holds back the whole topic and counts against every row of the topic in the batch,
 * since Kafka refuses each of them for the same reason; the other topics keep flowing. A topic
 * found missing is asked about again (one admin lookup) before its rows are sent again, rather
 * than sent into a wait of {@code max.block.ms} that would hold up the whole batch. Used by the
 * relay's thread only.
 */
final class OutboxRefusals {
    private static final Logger log = LoggerFactory.getLogger(OutboxRefusals.class);

    private final OutboxStore store;
    private final OutboxMetrics metrics;
    private final RowFaults faults;
    private final int maxAttempts;
    private final OutboxHolds holds = new OutboxHolds();
    /** Topics Kafka said do not exist; asked about again before their next send. */
    private final Set<String> missingTopics = new HashSet<>();

    OutboxRefusals(OutboxStore store, OutboxMetrics metrics, RowFaults faults, int maxAttempts) {
        this.store = store;
        this.metrics = metrics;
        this.faults = faults;
        this.maxAttempts = maxAttempts;
    }

    /** What the next batch leaves out; expired holds are forgotten first. */
    OutboxHolds holds() {
        holds.expire(System.nanoTime());
        return holds;
    }

    /**
     * {@code batch} without the rows of topics that were missing and that the cluster says are
     * still missing; those rows are counted and held as if Kafka had refused them again.
     */
    List<OutboxRow> withoutMissingTopics(List<OutboxRow> batch) throws SQLException {
        if (missingTopics.isEmpty()) {
            return batch;
        }
        Set<String> stillMissing = new HashSet<>();
        for (OutboxRow row : batch) {
            String topic = row.topic();
            if (missingTopics.contains(topic) && !stillMissing.contains(topic)) {
                Boolean exists = faults.exists(topic);
                if (Boolean.FALSE.equals(exists)) {
                    stillMissing.add(topic);
                } else if (Boolean.TRUE.equals(exists)) {
                    missingTopics.remove(topic);
                } // unknown (Kafka unreachable): the send will tell
            }
        }
        if (stillMissing.isEmpty()) {
            return batch;
        }
        List<OutboxRow> rest = new ArrayList<>(batch.size());
        Map<String, List<OutboxRow>> refused = new LinkedHashMap<>();
        for (OutboxRow row : batch) {
            if (stillMissing.contains(row.topic())) {
                refused.computeIfAbsent(row.topic(), t -> new ArrayList<>()).add(row);
            } else {
                rest.add(row);
            }
        }
        for (Map.Entry<String, List<OutboxRow>> e : refused.entrySet()) {
            topicRefused(
                    e.getKey(),
                    e.getValue(),
                    new UnknownTopicOrPartitionException(
                            "topic " + e.getKey() + " does not exist (the cluster says so)"));
        }
        return rest;
    }

    /**
     * Handles a batch that Kafka did not commit because of {@code failure}, met while sending
     * {@code culprit} (null when no one row's send failed). Returns true when it was a refusal of
     * the row or of its topic, now counted and held back, so the rest of the batch can go again at
     * once; false when it was Kafka's own fault, which counts against no row.
     */
    boolean refused(List<OutboxRow> batch, OutboxRow culprit, Exception failure) throws SQLException {
        if (culprit == null) {
            return false;
        }
        switch (faults.classify(culprit, failure)) {
            case ROW -> rowRefused(culprit, failure);
            case MISSING_TOPIC -> {
                missingTopics.add(culprit.topic());
                topicRefused(culprit.topic(), rowsOf(culprit.topic(), batch), failure);
            }
            case TOPIC -> topicRefused(culprit.topic(), rowsOf(culprit.topic(), batch), failure);
            default -> {
                return false;
            }
        }
        return true;
    }

    /** Forgets every hold and suspicion: a later leadership starts afresh. */
    void clear() {
        holds.clear();
        missingTopics.clear();
    }

    private void rowRefused(OutboxRow row, Exception failure) throws SQLException {
        int attempts =
                store.recordFailures(List.of(row.id()), failure.toString()).getOrDefault(row.id(), 0);
        if (attempts >= maxAttempts) {
            if (store.deadLetter(List.of(row.id())) == 1) {
                metrics.deadLettered(1);
                log.error(
                        "outbox row {} (topic {}, key {}) dead-lettered to outbox_dead_letters after {} attempts: {}",
                        row.id(),
                        row.topic(),
                        row.key(),
                        attempts,
                        failure.toString());
            }
            holds.release(row);
            return;
        }
        Duration wait = OutboxHolds.backoff(attempts);
        holds.hold(row, System.nanoTime() + wait.toNanos());
        log.warn(
                "outbox row {} (topic {}, key {}) refused (attempt {} of {}), holding its key back for {} ms: {}",
                row.id(),
                row.topic(),
                row.key(),
                attempts,
                maxAttempts,
                wait.toMillis(),
                failure.toString());
    }

    /**
     * Counts an attempt on every row of {@code topic} in the batch, dead-letters those past the
     * last attempt, and holds the topic back for the backoff of its oldest remaining row.
     */
    private void topicRefused(String topic, List<OutboxRow> rows, Exception failure) throws SQLException {
        List<Long> ids = rows.stream().map(OutboxRow::id).toList();
        Map<Long, Integer> attempts = store.recordFailures(ids, failure.toString());
        List<Long> dead = new ArrayList<>();
        int oldestLeft = 0;
        for (Long id : ids) {
            Integer a = attempts.get(id);
            if (a == null) {
                continue; // gone meanwhile
            }
            if (a >= maxAttempts) {
                dead.add(id);
            } else if (oldestLeft == 0) {
                oldestLeft = a;
            }
        }
        if (!dead.isEmpty()) {
            int moved = store.deadLetter(dead);
            metrics.deadLettered(moved);
            log.error(
                    "{} outbox rows of topic {} (first id {}, last id {}) dead-lettered to outbox_dead_letters after {} attempts: {}",
                    moved,
                    topic,
                    dead.get(0),
                    dead.get(dead.size() - 1),
                    maxAttempts,
                    failure.toString());
        }
        if (oldestLeft == 0) {
            holds.releaseTopic(topic); // the topic's next rows start their own attempts
            return;
        }
        Duration wait = OutboxHolds.backoff(oldestLeft);
        holds.holdTopic(topic, System.nanoTime() + wait.toNanos());
        log.warn(
                "outbox topic {} refused ({} rows, attempt {} of {}), holding the whole topic back for {} ms: {}",
                topic,
                ids.size() - dead.size(),
                oldestLeft,
                maxAttempts,
                wait.toMillis(),
                failure.toString());
    }

    private static List<OutboxRow> rowsOf(String topic, List<OutboxRow> batch) {
        return batch.stream().filter(r -> r.topic().equals(topic)).toList();
    }
}
