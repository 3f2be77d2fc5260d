package io.ragline.core.consumer;

import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The batch loop's write in flight: while batch N's transaction ({@link BatchSink.PreparedWrite})
 * runs on this loop's writer thread, the consumer thread polls batch N+1 and prepares it (the
 * reads and the model's inference of {@link BatchWriter#prepare}). It holds at most one write:
 * the loop {@link #await waits} for N before it starts N+1's, so N+1's transaction never begins
 * before N's ended, and the loop settles N (its Kafka commit, or its failure: N+1 discarded and
 * both rewound) on the consumer thread, which alone touches the consumer.
 *
 * <p>A rebalance that takes partitions away while N is in flight waits here, inside Kafka's
 * callback, until N's transaction ended ({@link #release}): its next owner then reads the offsets
 * N stored. Those partitions are left out when N is settled: neither committed to Kafka by this
 * member (the next owner compares the stored offsets) nor rewound.
 *
 * <p>The writer thread runs nothing but transactions the consumer thread waits for: whatever a
 * transaction throws, an {@link Error} included, comes back to the consumer thread with its batch,
 * so it is never lost on this thread. The time the consumer thread waits for the previous write
 * is {@code ragline_consumer_write_wait_seconds}: near zero while the model (the prepare) is the
 * bound, most of each transaction while the database is.
 */
final class OverlappedWrites<T> implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OverlappedWrites.class);

    /** A batch whose transaction ended: {@code failure} null when it committed. */
    record Finished<T>(
            List<InboundRecord<T>> records,
            List<ConsumerRecord<byte[], byte[]>> consumed,
            Throwable failure,
            long startNanos,
            Set<TopicPartition> released) {
        /** The batch's records of partitions still this loop's (none released while in flight). */
        List<InboundRecord<T>> recordsKept() {
            return records.stream()
                    .filter(r -> !released.contains(new TopicPartition(r.topic(), r.partition())))
                    .toList();
        }

        /** Every consumed record of the batch, dead-lettered ones included, of partitions still this loop's. */
        List<ConsumerRecord<byte[], byte[]>> consumedKept() {
            return consumed.stream()
                    .filter(r -> !released.contains(new TopicPartition(r.topic(), r.partition())))
                    .toList();
        }
    }

    private record InFlight<T>(
            List<InboundRecord<T>> records,
            List<ConsumerRecord<byte[], byte[]>> consumed,
            long startNanos,
            Future<?> transaction,
            Set<TopicPartition> released) {}

    /** What the loop does with a batch whose transaction ended, on the consumer thread. */
    @FunctionalInterface
    interface Written<T> {
        /**
         * {@code failure} null: committed (its offsets go to Kafka); else failed: handled as the
         * loop handles a failed batch, without overlap. {@code records} and {@code consumed} are
         * those of partitions still the loop's, never none.
         */
        void written(
                Exception failure,
                List<InboundRecord<T>> records,
                List<ConsumerRecord<byte[], byte[]>> consumed,
                long startNanos);
    }

    private final ExecutorService writer;
    private final ConsumerMetrics metrics;
    private final PauseSchedule schedule;
    private final Written<T> loop;
    private InFlight<T> inFlight;

    /**
     * @param threadName the writer thread's name, e.g. {@code embedding-worker-embedding-requests-0-writer};
     *     null: no overlap (no thread; nothing is ever in flight)
     * @param schedule the loop's, which rewinds a batch discarded
     * @param loop what the loop does with a batch written
     */
    OverlappedWrites(String threadName, ConsumerMetrics metrics, PauseSchedule schedule, Written<T> loop) {
        this.metrics = metrics;
        this.schedule = schedule;
        this.loop = loop;
        this.writer = threadName == null
                ? null
                : Executors.newSingleThreadExecutor(r -> {
                    Thread t = new Thread(r, threadName);
                    t.setDaemon(true); // a transaction stuck past the shutdown bound does not hold the JVM
                    return t;
                });
    }

    /** True when batches are overlapped (a writer thread exists). */
    boolean overlapping() {
        return writer != null;
    }

    /** True while a batch's transaction was started and not yet {@link #await awaited}. */
    boolean inFlight() {
        return inFlight != null;
    }

    /**
     * Starts {@code prepared}, the transaction of {@code records} ({@code consumed}: the poll's
     * records), on the writer thread.
     *
     * @throws IllegalStateException when a write is in flight: the loop awaits it first
     */
    void start(
            BatchSink.PreparedWrite prepared,
            List<InboundRecord<T>> records,
            List<ConsumerRecord<byte[], byte[]>> consumed,
            long startNanos) {
        if (inFlight != null) {
            throw new IllegalStateException("a write is in flight: await it before starting the next");
        }
        Future<?> transaction = writer.submit(() -> {
            prepared.write();
            return null;
        });
        inFlight = new InFlight<>(records, consumed, startNanos, transaction, new HashSet<>());
    }

    /**
     * Waits for the write in flight to end and hands it over (null when none); the wait is
     * counted. An interrupt does not cut the wait short (the write's end decides what comes
     * next); the thread's interrupt flag is set again afterwards.
     */
    Finished<T> await() {
        if (inFlight == null) {
            return null;
        }
        InFlight<T> batch = inFlight;
        inFlight = null;
        long start = System.nanoTime();
        Throwable failure = end(batch.transaction());
        metrics.writeWait(System.nanoTime() - start);
        return new Finished<>(batch.records(), batch.consumed(), failure, batch.startNanos(), batch.released());
    }

    /**
     * Partitions are being revoked or lost (Kafka's callback, on the consumer thread): waits for
     * the write in flight to end, so that it ends before the partitions are given up, and leaves
     * them out when it is settled.
     */
    void release(Collection<TopicPartition> partitions) {
        if (inFlight == null
                || Collections.disjoint(
                        PauseSchedule.firstOffsets(inFlight.consumed()).keySet(), partitions)) {
            return; // nothing of the batch in flight is in them: the next owner need not wait for it
        }
        log.info(
                "partitions {} leave this consumer while a batch is written: waiting for its transaction",
                PauseSchedule.names(partitions));
        long start = System.nanoTime();
        end(inFlight.transaction());
        metrics.writeWait(System.nanoTime() - start);
        inFlight.released().addAll(partitions);
    }

    /**
     * Waits for the write in flight and settles it ({@link Written}). When it failed, the batch
     * polled after it ({@code next}; {@code prepared}, its prepared write, when there is one) is
     * discarded and rewound to its first offsets before the failure is handled, so that both are
     * read again in order. True when nothing was in flight or it committed.
     */
    boolean settle(List<ConsumerRecord<byte[], byte[]>> next, BatchSink.PreparedWrite prepared) {
        Finished<T> done = await();
        if (done == null) {
            return true;
        }
        if (done.failure() instanceof Error e) {
            if (prepared != null) {
                prepared.discard(); // never to be started: it gives back what it holds
            }
            throw e; // the loop dies as it would have on its own thread
        }
        try {
            return settle(done, next, prepared);
        } catch (RuntimeException | Error e) {
            // N's settlement failed for good (a fatal Kafka commit): the loop dies, and N+1, never
            // to be started, gives back what it holds (a breaker permission); a failed N discarded it
            if (prepared != null && done.failure() == null) {
                prepared.discard();
            }
            throw e;
        }
    }

    private boolean settle(
            Finished<T> done, List<ConsumerRecord<byte[], byte[]>> next, BatchSink.PreparedWrite prepared) {
        List<ConsumerRecord<byte[], byte[]>> kept = done.consumedKept();
        if (done.failure() != null) {
            if (prepared != null) {
                prepared.discard();
            }
            schedule.rewind(next);
            log.info(
                    "writing {} records of {} failed; the {} records polled after them are read again: {}",
                    done.consumed().size(),
                    PauseSchedule.names(
                            PauseSchedule.firstOffsets(done.consumed()).keySet()),
                    next.size(),
                    done.failure().toString());
        }
        if (!kept.isEmpty()) {
            loop.written((Exception) done.failure(), done.recordsKept(), kept, done.startNanos());
        }
        return done.failure() == null;
    }

    /**
     * The loop ends: waits for the write in flight; committed, it is settled (its offsets go to
     * Kafka); failed, it is left for redelivery (nothing stored, nothing committed). Then the
     * writer thread ends.
     */
    void finish() {
        try {
            Finished<T> done = await();
            if (done == null || done.consumedKept().isEmpty()) {
                return;
            }
            if (done.failure() == null) {
                loop.written(null, done.recordsKept(), done.consumedKept(), done.startNanos());
            } else {
                if (done.failure() instanceof Error e) {
                    throw e;
                }
                log.warn(
                        "writing {} records failed as the consumer stopped; they are read again",
                        done.consumed().size(),
                        done.failure());
            }
        } finally {
            close();
        }
    }

    /** The writer thread ends; call once nothing is in flight. */
    @Override
    public void close() {
        if (writer == null) {
            return;
        }
        writer.shutdown();
        try {
            if (!writer.awaitTermination(1, TimeUnit.SECONDS)) {
                log.warn("the writer thread did not end within 1 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits for {@code transaction}; its failure, or null when it committed. */
    private static Throwable end(Future<?> transaction) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    transaction.get();
                    return null;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    return e.getCause();
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
