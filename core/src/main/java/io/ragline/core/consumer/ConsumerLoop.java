package io.ragline.core.consumer;

import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.ragline.core.resilience.Backoff;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
 * <p>With overlapped writes ({@link OverlappedWrites}), a batch's transaction runs on a writer
 * thread while this thread polls and prepares the next batch; that one's transaction starts only
 * after the first committed, and a failure of the first discards the second and rewinds both.
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
    /** The write in flight while the next batch is prepared (none when batches are not overlapped). */
    private final OverlappedWrites<T> writes;

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

    /** A loop that writes each batch before it polls the next (no overlapped writes). */
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
        this(consumer, topics, decoder, sink, deadLetters, policy, settings, clock, metrics, onFatal, null);
    }

    /**
     * @param writerThread the name of the thread that writes batch N while the consumer thread
     *     prepares N+1 ({@link OverlappedWrites}); null: each batch is written before the next poll
     */
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
            Consumer<Throwable> onFatal,
            String writerThread) {
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
        this.writes = new OverlappedWrites<>(writerThread, metrics, schedule, this::written);
        this.assignment = new PartitionAssignment(schedule, this.deadLetters, committer)
                .whenAssigned(schedule::extendTo)
                .beforeRelease(writes::release); // a write in flight ends before its partitions go
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
        lifecycle.run(this::subscribe, this::pollOnce, writes::finish); // the write in flight ends first
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
        boolean writing = writes.inFlight();
        // A write in flight: take what was fetched already, never wait in poll while it may have ended.
        Optional<ConsumerRecords<byte[], byte[]>> polled =
                lifecycle.poll(writing ? Duration.ZERO : settings.pollTimeout());
        if (polled.isPresent()) {
            schedule.resumeDue();
        }
        if (polled.isPresent() && !polled.get().isEmpty()) {
            List<ConsumerRecord<byte[], byte[]>> all =
                    new ArrayList<>(polled.get().count());
            polled.get().forEach(all::add);
            process(all);
        } else if (writing) {
            writes.settle(List.of(), null); // nothing to prepare meanwhile
        }
        if (lifecycle.isRunning()) { // stopping: the shutdown budget is for the last batch, not retries
            committer.afterPoll(); // offsets Kafka refused before, or had behind the stored ones
        }
    }

    private void process(List<ConsumerRecord<byte[], byte[]>> all) {
        long start = System.nanoTime();
        List<InboundRecord<T>> decoded = new ArrayList<>(all.size());
        Map<ConsumerRecord<byte[], byte[]>, Exception> refused = new LinkedHashMap<>();
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
                refused.put(r, e);
            }
        }
        if (writes.overlapping() && refused.isEmpty()) {
            overlap(decoded, all, start);
            return;
        }
        // Poison, or no overlap: this batch is written here, after the write in flight.
        if (!writes.settle(all, null)) {
            return;
        }
        for (Map.Entry<ConsumerRecord<byte[], byte[]>, Exception> r : refused.entrySet()) {
            if (!deadLetter(r.getKey(), r.getValue(), 1, all)) {
                return;
            }
        }
        if (write(null, decoded, all)) {
            metrics.batch(all.size(), System.nanoTime() - start);
        }
    }

    /**
     * Prepares the batch while the write before it runs, then starts its transaction once that
     * one committed. A failed prepare is handled as a failed batch, after the write in flight.
     */
    private void overlap(List<InboundRecord<T>> decoded, List<ConsumerRecord<byte[], byte[]>> all, long start) {
        BatchSink.PreparedWrite prepared;
        try {
            prepared = sink.prepare(decoded, all);
        } catch (Exception e) {
            boolean behindAWrite = writes.inFlight();
            if (!writes.settle(all, null)) {
                return;
            }
            // A half-open circuit breaker lets a trial call through: the write in flight took it,
            // and this prepare was refused though that write then committed (and closed the
            // breaker): written afresh, not counted as a failure and backed off.
            Exception first = behindAWrite && e instanceof CallNotPermittedException ? null : e;
            if (write(first, decoded, all)) {
                metrics.batch(all.size(), System.nanoTime() - start);
            }
            return;
        }
        if (writes.settle(all, prepared)) {
            writes.start(prepared, decoded, all, start);
        }
    }

    /** A batch written on the writer thread: committed, or failed and handled here without overlap. */
    private void written(
            Exception failure, List<InboundRecord<T>> records, List<ConsumerRecord<byte[], byte[]>> all, long start) {
        if (failure == null) {
            succeeded(records, all);
        }
        if (failure == null || write(failure, records, all)) {
            metrics.batch(all.size(), System.nanoTime() - start);
        }
    }

    /**
     * Writes the batch, whose first attempt failed with {@code failure} when not null; true when
     * it was written (and committed), false when it was rewound.
     */
    private boolean write(Exception failure, List<InboundRecord<T>> decoded, List<ConsumerRecord<byte[], byte[]>> all) {
        List<InboundRecord<T>> pending = new ArrayList<>(decoded);
        Exception e = failure;
        while (true) {
            if (e == null) {
                try {
                    sink.write(pending, all);
                    succeeded(pending, all);
                    return true;
                } catch (Exception thrown) {
                    e = thrown;
                }
            }
            FailureKind kind = policy.classify(e);
            metrics.failure(all.get(0).topic(), kind);
            switch (kind) {
                case POISON -> {
                    Optional<InboundRecord<T>> culprit = PoisonRecordException.culpritAmong(e, pending);
                    if (culprit.isEmpty()) {
                        return writeOneByOne(pending, all);
                    }
                    if (!deadLetter(culprit.get().raw(), e, attempts(all) + 1, all)) {
                        return false;
                    }
                    pending.remove(culprit.get());
                    e = null;
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

    /**
     * Isolates what the batch could not name: each record on its own (in order, so per-key order
     * holds), dead-lettering those that fail for their content. Records already written are
     * skipped on a retry because the sink stores their offsets.
     */
    private boolean writeOneByOne(List<InboundRecord<T>> pending, List<ConsumerRecord<byte[], byte[]>> all) {
        log.info(
                "writing {} records of {} one by one to isolate a failing record",
                pending.size(),
                PauseSchedule.names(PauseSchedule.firstOffsets(all).keySet()));
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
        metrics.processed(written);
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
        schedule.backOff(PauseSchedule.firstOffsets(all), consumer.assignment(), reason, kind);
    }

    private int attempts(List<ConsumerRecord<byte[], byte[]>> all) {
        return schedule.attempts(PauseSchedule.firstOffsets(all));
    }
}
