package io.ragline.core.consumer;

import io.ragline.core.resilience.Backoff;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
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
 *
 * <p>Kafka's committed offsets catch up with the offsets the sink stored with the work: a commit
 * Kafka refuses (during a rebalance) is made again after a later poll while the partition stays
 * assigned, and a partition assigned whose stored offset is ahead of Kafka's is committed there
 * ({@link OffsetCommitter}), so Kafka's lag never counts records already applied.
 *
 * <p>Built from the poll-loop toolkit of this package, like the training loop: {@link
 * LoopLifecycle} (poll, stop, close), {@link OffsetCommitter}, {@link DeadLetterBook}, {@link
 * PauseSchedule} (the {@link Backoff} on the injected clock) and {@link PartitionAssignment}.
 */
public final class ConsumerLoop<T> implements PollLoop {
    private static final Logger log = LoggerFactory.getLogger(ConsumerLoop.class);

    private final org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer;
    private final List<String> topics;
    private final RecordDecoder<T> decoder;
    private final BatchSink<T> sink;
    private final FailurePolicy policy;
    private final Settings settings;
    private final ConsumerMetrics metrics;
    private final LoopLifecycle lifecycle;
    private final OffsetCommitter committer;
    private final DeadLetterBook deadLetters;
    private final PauseSchedule schedule;
    private final PartitionAssignment assignment;

    /**
     * How a poll loop waits and retries (the batch loop's, and the training loop's).
     *
     * @param pollTimeout longest wait of one {@code poll}
     * @param commitTimeout longest wait of one offset commit
     * @param closeTimeout longest wait for the consumer to close when the loop ends
     * @param backoff wait after n failed attempts at the same records
     * @param maxUnknownAttempts attempts at a batch failing for an unrecognised reason before its
     *     records are written one by one and those still failing are dead-lettered (the training
     *     loop: attempts at admitting a request before it is dead-lettered)
     */
    public record Settings(
            Duration pollTimeout,
            Duration commitTimeout,
            Duration closeTimeout,
            Backoff backoff,
            int maxUnknownAttempts) {
        public static final Duration DEFAULT_POLL_TIMEOUT = Duration.ofMillis(500);
        public static final Duration DEFAULT_COMMIT_TIMEOUT = Duration.ofSeconds(30);
        public static final Duration DEFAULT_CLOSE_TIMEOUT = Duration.ofSeconds(10);

        public Settings {
            Objects.requireNonNull(backoff, "backoff");
            if (pollTimeout.isNegative() || closeTimeout.isNegative()) {
                throw new IllegalArgumentException("poll and close timeouts must not be negative");
            }
            if (commitTimeout.isNegative() || commitTimeout.isZero()) {
                throw new IllegalArgumentException("the commit timeout must be positive, not " + commitTimeout);
            }
            if (maxUnknownAttempts < 1) {
                throw new IllegalArgumentException("maxUnknownAttempts must be at least 1, not " + maxUnknownAttempts);
            }
        }

        /** The consumer's close within a process's shutdown budget: a quarter of {@code shutdownTimeout}. */
        public static Duration closeTimeoutWithin(Duration shutdownTimeout) {
            return shutdownTimeout.dividedBy(4);
        }

        /**
         * These settings with the consumer's close bounded by {@link #closeTimeoutWithin} the
         * process's {@code RAGLINE_SHUTDOWN_TIMEOUT} (the runtime's loops), not the fixed default.
         */
        public Settings withinShutdown(Duration shutdownTimeout) {
            return new Settings(
                    pollTimeout, commitTimeout, closeTimeoutWithin(shutdownTimeout), backoff, maxUnknownAttempts);
        }

        /** The default timeouts with {@link Backoff#of Backoff.of(initialBackoff, maxBackoff)}. */
        public static Settings of(Duration initialBackoff, Duration maxBackoff, int maxUnknownAttempts) {
            return new Settings(
                    DEFAULT_POLL_TIMEOUT,
                    DEFAULT_COMMIT_TIMEOUT,
                    DEFAULT_CLOSE_TIMEOUT,
                    Backoff.of(initialBackoff, maxBackoff),
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
        this.policy = policy;
        this.settings = settings;
        this.metrics = metrics;
        this.lifecycle = new LoopLifecycle(
                consumer,
                "consumer of " + this.topics,
                policy,
                settings.pollTimeout(),
                settings.closeTimeout(),
                onFatal);
        this.committer = new OffsetCommitter(consumer, policy, settings, clock, metrics, sink::storedOffsets);
        this.deadLetters = new DeadLetterBook(deadLetters, policy, metrics);
        this.schedule = new PauseSchedule(consumer, settings.backoff(), clock, metrics);
        // Backing off, the loop waits as a whole: partitions assigned meanwhile wait too.
        this.assignment =
                new PartitionAssignment(schedule, this.deadLetters, committer).whenAssigned(schedule::extendTo);
    }

    /** Asks the loop to stop after the current poll or batch; the batch is finished or abandoned. */
    @Override
    public void stop() {
        lifecycle.stop();
    }

    @Override
    public boolean isRunning() {
        return lifecycle.isRunning();
    }

    /**
     * Polls until {@link #stop()}. Whatever else ends the loop, an {@link Error} from a decoder or
     * writer included, stops it and goes to {@code onFatal} ({@link LoopLifecycle#run}).
     */
    @Override
    public void run() {
        lifecycle.run(this::subscribe, this::pollOnce, () -> {});
    }

    /** Subscribes with the loop's rebalance listener. Visible for tests. */
    void subscribe() {
        consumer.subscribe(topics, assignment);
    }

    /**
     * One iteration: poll, resume when the backoff has elapsed, process what came, commit what
     * Kafka owes. Visible for tests.
     */
    void pollOnce() {
        Optional<ConsumerRecords<byte[], byte[]>> polled = lifecycle.poll();
        if (polled.isEmpty()) {
            return;
        }
        schedule.resumeDue();
        ConsumerRecords<byte[], byte[]> records = polled.get();
        if (!records.isEmpty()) {
            List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>(records.count());
            records.forEach(all::add);
            process(all);
        }
        if (lifecycle.isRunning()) { // stopping: the shutdown budget is for the last batch, not retries
            committer.afterPoll(); // offsets Kafka refused before, or had behind the stored ones
        }
    }

    private void process(List<ConsumerRecord<byte[], byte[]>> all) {
        long start = System.nanoTime();
        List<InboundRecord<T>> decoded = new ArrayList<>(all.size());
        for (ConsumerRecord<byte[], byte[]> r : all) {
            if (deadLetters.wasDeadLettered(r)) {
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
                    case FATAL -> throw new LoopFailure("writing a batch of " + all.size() + " records failed", e);
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
                    case FATAL -> throw new LoopFailure("writing a record failed", e);
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
                throw new LoopFailure("storing offsets failed", e);
            }
            backOff(all, e, kind);
            return false;
        }
        succeeded(List.of(), all);
        return true;
    }

    private void succeeded(List<InboundRecord<T>> written, List<ConsumerRecord<byte[], byte[]>> all) {
        Map<TopicPartition, Long> next = PostgresBatchSink.nextOffsets(all);
        committer.commit(next); // refused: owed, committed again later; the sink holds them meanwhile
        // Written with the batch's offsets (and committed, or stored by the sink): not redelivered.
        deadLetters.movedTo(next);
        schedule.succeeded(next.keySet());
        Map<String, Integer> perTopic = new HashMap<>();
        for (InboundRecord<T> r : written) {
            perTopic.merge(r.topic(), 1, Integer::sum);
        }
        perTopic.forEach(metrics::processed);
    }

    /** Dead-letters {@code record}; when that fails (Kafka down), rewinds the batch and returns false. */
    private boolean deadLetter(
            ConsumerRecord<byte[], byte[]> record,
            Throwable reason,
            int attempts,
            List<ConsumerRecord<byte[], byte[]>> all) {
        try {
            deadLetters.publish(record, reason, attempts);
            return true;
        } catch (DeadLetterBook.Unavailable e) {
            backOff(all, e.getCause(), FailureKind.TRANSIENT);
            return false;
        }
    }

    /** Rewinds the batch's partitions to its first offsets, pauses everything assigned, backs off. */
    private void backOff(List<ConsumerRecord<byte[], byte[]>> all, Throwable reason, FailureKind kind) {
        schedule.backOff(firstOffsets(all), consumer.assignment(), reason, kind);
    }

    private int attempts(List<ConsumerRecord<byte[], byte[]>> all) {
        return schedule.attempts(firstOffsets(all));
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
        return PauseSchedule.names(firstOffsets(all).keySet());
    }
}
