package io.ragline.core.consumer;

import io.github.resilience4j.core.IntervalFunction;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One consumer on one thread (the runner of {@code KafkaConsumer}'s Javadoc). Each poll is a
 * batch: records are decoded (poison ones dead-lettered at once), the rest written by the
 * {@link BatchSink}, and only then are the offsets committed. A transient failure rewinds the
 * batch, pauses the partitions and backs off (exponential, with jitter) while polling goes on, so
 * the consumer stays in its group; a poison record is dead-lettered alone; a fatal failure stops
 * the loop without committing. Other threads only call {@link #stop()}.
 *
 * <p>A record is dead-lettered once per offset in a process: a batch is rewound after its poison
 * records went to the dead-letter topic (a transient failure writing the rest), so the loop
 * remembers their offsets per partition and leaves them out of the retries, until the batch
 * commits or the partition is revoked. Only records already dead-lettered are left out, so the
 * others are retried as before.
 */
public final class ConsumerLoop<T> implements PollLoop {
    private static final Logger log = LoggerFactory.getLogger(ConsumerLoop.class);

    private final org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer;
    private final List<String> topics;
    private final RecordDecoder<T> decoder;
    private final BatchSink<T> sink;
    private final DeadLetters deadLetters;
    private final FailurePolicy policy;
    private final Settings settings;
    private final Clock clock;
    private final ConsumerMetrics metrics;
    private final Consumer<Throwable> onFatal;

    private volatile boolean running = true;
    private Instant pausedUntil;
    private Map<TopicPartition, Long> failingBatch = Map.of();
    private int failedAttempts;
    /** Offsets dead-lettered and not yet committed, per partition. */
    private final Map<TopicPartition, Set<Long>> deadLettered = new HashMap<>();

    /**
     * How the loop retries and how long it waits.
     *
     * @param backoff wait before attempt n+1 after n failed attempts (resilience4j)
     * @param maxUnknownAttempts attempts at a batch failing for an unrecognised reason before its
     *     records are written one by one and those still failing are dead-lettered
     */
    public record Settings(
            Duration pollTimeout,
            Duration commitTimeout,
            Duration closeTimeout,
            IntervalFunction backoff,
            int maxUnknownAttempts) {

        public static Settings of(Duration initialBackoff, Duration maxBackoff, int maxUnknownAttempts) {
            IntervalFunction backoff = IntervalFunction.ofExponentialRandomBackoff(
                    initialBackoff.toMillis(), 2.0, 0.5, maxBackoff.toMillis());
            return new Settings(
                    Duration.ofMillis(500),
                    Duration.ofSeconds(30),
                    Duration.ofSeconds(10),
                    backoff,
                    maxUnknownAttempts);
        }
    }

    public ConsumerLoop(
            org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer,
            List<String> topics,
            RecordDecoder<T> decoder,
            BatchSink<T> sink,
            DeadLetters deadLetters,
            FailurePolicy policy,
            Settings settings,
            Clock clock,
            ConsumerMetrics metrics,
            Consumer<Throwable> onFatal) {
        this.consumer = consumer;
        this.topics = List.copyOf(topics);
        this.decoder = decoder;
        this.sink = sink;
        this.deadLetters = deadLetters;
        this.policy = policy;
        this.settings = settings;
        this.clock = clock;
        this.metrics = metrics;
        this.onFatal = onFatal;
    }

    /** Asks the loop to stop after the current poll or batch; the batch is finished or abandoned. */
    @Override
    public void stop() {
        running = false;
        consumer.wakeup();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /**
     * Polls until {@link #stop()}. Whatever else ends the loop, an {@link Error} from a decoder or
     * writer included, stops it and goes to {@code onFatal}: a thread that died quietly would leave
     * the process looking ready while its partitions sit unconsumed.
     */
    @Override
    public void run() {
        try {
            subscribe();
            while (running) {
                pollOnce();
            }
        } catch (FatalFailure e) {
            running = false;
            log.error("consumer of {} stopped: {}", topics, e.getMessage(), e.getCause());
            onFatal.accept(e.getCause());
        } catch (WakeupException e) {
            if (running) {
                log.error("consumer of {} woken up unexpectedly", topics, e);
                onFatal.accept(e);
            }
        } catch (RuntimeException e) {
            running = false;
            log.error("consumer of {} failed: {}", topics, e.toString(), e);
            onFatal.accept(e);
        } catch (Throwable e) { // an Error: not retried, never swallowed; the process stops (exit 1)
            running = false;
            log.error("consumer of {} died: {}", topics, e.toString(), e);
            onFatal.accept(e);
        } finally {
            running = false;
            try {
                consumer.close(CloseOptions.timeout(settings.closeTimeout()));
            } catch (RuntimeException e) {
                log.warn("closing the consumer of {} failed: {}", topics, e.toString());
            }
        }
    }

    /** Subscribes with the loop's rebalance listener. Visible for tests. */
    void subscribe() {
        consumer.subscribe(topics, new Rebalance());
    }

    /** One iteration: poll, resume when the backoff has elapsed, process what came. Visible for tests. */
    void pollOnce() {
        ConsumerRecords<byte[], byte[]> records;
        try {
            records = consumer.poll(settings.pollTimeout());
        } catch (WakeupException e) {
            if (running) {
                throw e;
            }
            return;
        } catch (KafkaException e) {
            if (policy.classify(e) == FailureKind.FATAL) {
                throw new FatalFailure("polling failed", e);
            }
            log.warn("poll of {} failed, retrying: {}", topics, e.toString());
            return;
        }
        resumeWhenDue();
        if (!records.isEmpty()) {
            List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>(records.count());
            records.forEach(all::add);
            process(all);
        }
    }

    private void process(List<ConsumerRecord<byte[], byte[]>> all) {
        long start = System.nanoTime();
        List<InboundRecord<T>> decoded = new ArrayList<>(all.size());
        for (ConsumerRecord<byte[], byte[]> r : all) {
            if (wasDeadLettered(r)) {
                log.debug(
                        "{}-{}@{} was dead-lettered before this batch was rewound",
                        r.topic(),
                        r.partition(),
                        r.offset());
                continue;
            }
            try {
                decoded.add(new InboundRecord<>(r, decoder.decode(r)));
            } catch (PoisonRecordException | RuntimeException e) {
                if (!deadLetter(r, e, 1, all)) {
                    return;
                }
            }
        }
        if (write(decoded, all)) {
            metrics.batch(all.size(), System.nanoTime() - start);
        }
    }

    /** Writes the batch; true when it was written (and committed), false when it was rewound. */
    private boolean write(List<InboundRecord<T>> decoded, List<ConsumerRecord<byte[], byte[]>> all) {
        List<InboundRecord<T>> pending = new ArrayList<>(decoded);
        while (true) {
            try {
                sink.write(pending, all);
                succeeded(pending, all);
                return true;
            } catch (Exception e) {
                FailureKind kind = policy.classify(e);
                metrics.failure(all.get(0).topic(), kind);
                switch (kind) {
                    case POISON -> {
                        Optional<InboundRecord<T>> culprit = culprit(e, pending);
                        if (culprit.isEmpty()) {
                            return writeOneByOne(pending, all);
                        }
                        if (!deadLetter(culprit.get().raw(), e, attempts(all) + 1, all)) {
                            return false;
                        }
                        pending.remove(culprit.get());
                    }
                    case FATAL -> throw new FatalFailure("writing a batch of " + all.size() + " records failed", e);
                    case UNKNOWN -> {
                        if (attempts(all) + 1 >= settings.maxUnknownAttempts()) {
                            return writeOneByOne(pending, all);
                        }
                        backOff(all, e, kind);
                        return false;
                    }
                    case TRANSIENT -> {
                        backOff(all, e, kind);
                        return false;
                    }
                }
            }
        }
    }

    /**
     * Isolates what the batch could not name: each record on its own (in order, so per-key order
     * holds), dead-lettering those that fail for their content. Records already written are
     * skipped on a retry because the sink stores their offsets.
     */
    private boolean writeOneByOne(List<InboundRecord<T>> pending, List<ConsumerRecord<byte[], byte[]>> all) {
        log.info("writing {} records of {} one by one to isolate a failing record", pending.size(), partitions(all));
        for (InboundRecord<T> r : pending) {
            try {
                sink.write(List.of(r), List.of(r.raw()));
            } catch (Exception e) {
                FailureKind kind = policy.classify(e);
                switch (kind) {
                    case POISON, UNKNOWN -> {
                        if (!deadLetter(r.raw(), e, attempts(all) + 1, all)) {
                            return false;
                        }
                    }
                    case FATAL -> throw new FatalFailure("writing a record failed", e);
                    case TRANSIENT -> {
                        backOff(all, e, kind);
                        return false;
                    }
                }
            }
        }
        try {
            sink.write(List.of(), all); // records how far the batch went, dead letters included
        } catch (Exception e) {
            FailureKind kind = policy.classify(e);
            if (kind == FailureKind.FATAL) {
                throw new FatalFailure("storing offsets failed", e);
            }
            backOff(all, e, kind);
            return false;
        }
        succeeded(List.of(), all);
        return true;
    }

    private void succeeded(List<InboundRecord<T>> written, List<ConsumerRecord<byte[], byte[]>> all) {
        commit(all);
        // Written with the batch's offsets (and committed, or stored by the sink): not redelivered.
        PostgresBatchSink.nextOffsets(all).forEach((tp, next) -> {
            Set<Long> offsets = deadLettered.get(tp);
            if (offsets != null) {
                offsets.removeIf(o -> o < next);
                if (offsets.isEmpty()) {
                    deadLettered.remove(tp);
                }
            }
        });
        Map<String, Integer> perTopic = new HashMap<>();
        for (InboundRecord<T> r : written) {
            perTopic.merge(r.topic(), 1, Integer::sum);
        }
        perTopic.forEach(metrics::processed);
        failingBatch = Map.of();
        failedAttempts = 0;
    }

    /** Dead-letters {@code record}; when that fails (Kafka down), rewinds the batch and returns false. */
    private boolean deadLetter(
            ConsumerRecord<byte[], byte[]> record,
            Throwable reason,
            int attempts,
            List<ConsumerRecord<byte[], byte[]>> all) {
        try {
            deadLetters.publish(record, reason, attempts);
            deadLettered
                    .computeIfAbsent(new TopicPartition(record.topic(), record.partition()), tp -> new HashSet<>())
                    .add(record.offset());
            metrics.deadLettered(record.topic());
            log.warn(
                    "dead-lettered {}-{}@{} to {}: {}",
                    record.topic(),
                    record.partition(),
                    record.offset(),
                    DeadLetters.topicOf(record.topic()),
                    reason.toString());
            return true;
        } catch (Exception e) {
            if (policy.classify(e) == FailureKind.FATAL) {
                throw new FatalFailure("dead-lettering failed", e);
            }
            backOff(all, e, FailureKind.TRANSIENT);
            return false;
        }
    }

    /** Rewinds the batch's partitions to its first offsets, pauses everything assigned, backs off. */
    private void backOff(List<ConsumerRecord<byte[], byte[]>> all, Throwable reason, FailureKind kind) {
        Map<TopicPartition, Long> first = firstOffsets(all);
        if (!first.equals(failingBatch)) {
            failingBatch = first;
            failedAttempts = 0;
        }
        failedAttempts++;
        first.forEach(consumer::seek);
        Duration wait = Duration.ofMillis(settings.backoff().apply(failedAttempts));
        Collection<TopicPartition> assigned = consumer.assignment();
        consumer.pause(assigned);
        pausedUntil = clock.instant().plus(wait);
        metrics.paused(assigned.size(), kind);
        log.warn(
                "paused partitions {} for {} ms (attempt {}, {}): {}",
                names(assigned),
                wait.toMillis(),
                failedAttempts,
                kind.name().toLowerCase(java.util.Locale.ROOT),
                reason.toString());
    }

    private void resumeWhenDue() {
        if (pausedUntil != null && !clock.instant().isBefore(pausedUntil)) {
            Collection<TopicPartition> paused = consumer.paused();
            consumer.resume(paused);
            pausedUntil = null;
            metrics.resumed();
            log.info("resumed partitions {}", names(paused));
        }
    }

    private boolean wasDeadLettered(ConsumerRecord<byte[], byte[]> r) {
        Set<Long> offsets = deadLettered.get(new TopicPartition(r.topic(), r.partition()));
        return offsets != null && offsets.contains(r.offset());
    }

    private int attempts(List<ConsumerRecord<byte[], byte[]>> all) {
        return firstOffsets(all).equals(failingBatch) ? failedAttempts : 0;
    }

    private void commit(List<ConsumerRecord<byte[], byte[]>> all) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new LinkedHashMap<>();
        PostgresBatchSink.nextOffsets(all).forEach((tp, next) -> offsets.put(tp, new OffsetAndMetadata(next)));
        for (int tries = 0; tries < 2; tries++) {
            try {
                consumer.commitSync(offsets, settings.commitTimeout());
                return;
            } catch (WakeupException e) {
                // stop() woke us while committing a written batch: commit it anyway, once more.
            } catch (KafkaException e) {
                if (policy.classify(e) == FailureKind.FATAL) {
                    throw new FatalFailure("committing offsets failed", e);
                }
                // The sink holds these offsets too: a redelivered batch is skipped there.
                log.warn("offsets {} not committed to Kafka: {}", offsets, e.toString());
                return;
            }
        }
    }

    private Optional<InboundRecord<T>> culprit(Throwable e, List<InboundRecord<T>> pending) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof PoisonRecordException p && p.record().isPresent()) {
                ConsumerRecord<byte[], byte[]> bad = p.record().get();
                return pending.stream()
                        .filter(r -> r.topic().equals(bad.topic())
                                && r.partition() == bad.partition()
                                && r.offset() == bad.offset())
                        .findFirst();
            }
        }
        return Optional.empty();
    }

    private static Map<TopicPartition, Long> firstOffsets(List<ConsumerRecord<byte[], byte[]>> all) {
        Map<TopicPartition, Long> first = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : all) {
            first.merge(new TopicPartition(r.topic(), r.partition()), r.offset(), Math::min);
        }
        return first;
    }

    private static String partitions(List<ConsumerRecord<byte[], byte[]>> all) {
        return names(firstOffsets(all).keySet());
    }

    private static String names(Collection<TopicPartition> partitions) {
        return partitions.stream().map(TopicPartition::toString).sorted().collect(Collectors.joining(","));
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            // Batches are written and committed inside one loop iteration, so nothing written is
            // left uncommitted here, and nothing unwritten is ever committed.
            if (!partitions.isEmpty()) {
                log.info("revoked partitions {}", names(partitions));
            }
            failingBatch = Map.of();
            failedAttempts = 0;
            // Another consumer takes them from their committed offsets and decides anew.
            deadLettered.keySet().removeAll(partitions);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (partitions.isEmpty()) {
                return;
            }
            log.info("assigned partitions {}", names(partitions));
            if (pausedUntil != null) {
                consumer.pause(partitions); // backing off: new partitions wait too
            }
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            log.warn(
                    "lost partitions {} (session expired); their uncommitted batch will be redelivered",
                    names(partitions));
            failingBatch = Map.of();
            failedAttempts = 0;
            deadLettered.keySet().removeAll(partitions);
        }
    }

    /** Stops the loop: the cause is fatal. */
    private static final class FatalFailure extends RuntimeException {
        FatalFailure(String message, Throwable cause) {
            super(message + ": " + cause, cause);
        }
    }
}
