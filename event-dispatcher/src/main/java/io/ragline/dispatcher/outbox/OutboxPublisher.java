package io.ragline.dispatcher.outbox;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes each batch of outbox rows as one Kafka transaction, so a batch becomes visible to
 * {@code read_committed} consumers all at once or not at all. Every dispatcher of a schema uses
 * the same {@code transactional.id}: the producer of a new leader fences the producer of an old
 * one that froze past its lease, and a send that timed out cannot surface later behind a newer
 * row of its key, because its transaction was aborted. Every message carries the outbox id
 * ({@value #OUTBOX_ID}) so that consumers can drop the duplicates a crash between Kafka's commit
 * and the delete of the rows produces.
 */
public final class OutboxPublisher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OutboxPublisher.class);
    public static final String OUTBOX_ID = "ragline.outbox.id";
    public static final String CREATED_AT = "ragline.outbox.created_at";

    private final Supplier<Producer<byte[], byte[]>> factory;
    private final String topicPrefix;
    private final OutboxMetrics metrics;
    private Producer<byte[], byte[]> producer;

    /**
     * {@code factory} makes a transactional producer; it is created when first needed. The phases
     * {@code send} and {@code commit} of each batch are timed into {@code metrics}.
     */
    public OutboxPublisher(Supplier<Producer<byte[], byte[]>> factory, String topicPrefix, OutboxMetrics metrics) {
        this.factory = factory;
        this.topicPrefix = topicPrefix;
        this.metrics = metrics;
    }

    /** How a batch ended. */
    public enum Outcome {
        /** Kafka committed every row of the batch. */
        COMMITTED,
        /** Nothing of the batch is visible (or, after a commit that timed out, it may be): send it again. */
        FAILED,
        /** This dispatcher stopped leading before the commit: the transaction was not committed. */
        NOT_LEADING
    }

    /**
     * The outcome of one batch. When the failure came from one row's own send, {@code failedRow}
     * names it.
     */
    public record Result(Outcome outcome, OutboxRow failedRow, Exception failure) {
        public boolean committed() {
            return outcome == Outcome.COMMITTED;
        }

        static Result failed(OutboxRow failedRow, Exception failure) {
            return new Result(Outcome.FAILED, failedRow, failure);
        }
    }

    /** Another dispatcher initialised the same transactional id: this one is no longer the leader. */
    public static final class FencedException extends Exception {
        FencedException(Throwable cause) {
            super("fenced by a newer dispatcher of the same outbox: " + cause.getMessage(), cause);
        }
    }

    /**
     * Publishes {@code rows} in one transaction, committed only if {@code leading} still holds
     * after the producer is ready and again just before the commit. Returns with no transaction
     * open: whenever the producer's transactional state is not known to be clean (a commit or an
     * abort that timed out or failed, a state the client refuses to go on from), the producer is
     * closed and the next batch starts a new one, whose {@code initTransactions()} completes or
     * aborts what the old one left open before anything else of this id is written.
     */
    public Result publish(List<OutboxRow> rows, BooleanSupplier leading) throws FencedException {
        return publish(rows, leading, () -> {});
    }

    /**
     * As {@link #publish(List, BooleanSupplier)}, running {@code beforeCommit} right before the
     * commit is asked for (every row sent, leadership checked), so the caller can do something
     * useful while Kafka commits; it is not run when the batch will not be committed.
     */
    public Result publish(List<OutboxRow> rows, BooleanSupplier leading, Runnable beforeCommit) throws FencedException {
        long started = System.nanoTime();
        Producer<byte[], byte[]> p;
        try {
            p = producer();
            if (!leading.getAsBoolean()) {
                discard();
                return new Result(Outcome.NOT_LEADING, null, null);
            }
            p.beginTransaction();
        } catch (ProducerFencedException | InvalidProducerEpochException e) {
            discard();
            throw new FencedException(e);
        } catch (RuntimeException e) { // KafkaException, or IllegalStateException from a stuck producer
            discard();
            return Result.failed(null, e);
        }
        AtomicReference<OutboxRow> firstFailed = new AtomicReference<>();
        AtomicReference<Exception> rowError = new AtomicReference<>();
        Exception failure = null;
        for (OutboxRow row : rows) {
            CompletableFuture<Void> done = new CompletableFuture<>();
            try {
                p.send(record(row), (metadata, e) -> {
                    if (e != null && firstFailed.compareAndSet(null, row)) {
                        rowError.set(e);
                    }
                    done.complete(null);
                });
            } catch (KafkaException e) { // no metadata within max.block.ms, record too large, ...
                firstFailed.compareAndSet(null, row);
                rowError.compareAndSet(null, e);
                failure = e;
                break;
            } catch (RuntimeException e) { // a producer in a state it cannot send from
                discard();
                return Result.failed(null, e);
            }
            // Without metadata (Kafka down) send() blocks up to max.block.ms and then reports the
            // failure through the callback at once: stop rather than wait again for every row.
            if (done.isDone() && firstFailed.get() != null) {
                failure = rowError.get();
                break;
            }
        }
        if (failure == null && !leading.getAsBoolean()) {
            // Frozen or slow past the lease: a standby may be publishing these rows already.
            abort();
            return new Result(Outcome.NOT_LEADING, null, null);
        }
        if (failure == null) {
            try {
                metrics.phase(OutboxMetrics.Phase.SEND, started);
                beforeCommit.run();
                long committing = System.nanoTime();
                p.commitTransaction(); // flushes and waits for every acknowledgement
                metrics.phase(OutboxMetrics.Phase.COMMIT, committing);
                return new Result(Outcome.COMMITTED, null, null);
            } catch (ProducerFencedException | InvalidProducerEpochException e) {
                discard();
                throw new FencedException(e);
            } catch (TimeoutException e) {
                // Not acknowledged within max.block.ms: the commit may still complete or not. The
                // client refuses to abort now; a new producer's initTransactions() settles it.
                discard();
                return Result.failed(null, e);
            } catch (KafkaException e) {
                failure = rowError.get() != null ? rowError.get() : e;
            } catch (RuntimeException e) {
                discard();
                return Result.failed(null, e);
            }
        }
        abort();
        return Result.failed(firstFailed.get(), failure);
    }

    private ProducerRecord<byte[], byte[]> record(OutboxRow row) {
        RecordHeaders headers = new RecordHeaders();
        row.headers().forEach((k, v) -> headers.add(k, v == null ? null : v.getBytes(StandardCharsets.UTF_8)));
        headers.add(OUTBOX_ID, Long.toString(row.id()).getBytes(StandardCharsets.UTF_8));
        headers.add(CREATED_AT, row.createdAt().toString().getBytes(StandardCharsets.UTF_8));
        return new ProducerRecord<>(
                topicPrefix + row.topic(),
                null,
                row.key() == null ? null : row.key().getBytes(StandardCharsets.UTF_8),
                row.payload() == null ? null : row.payload().getBytes(StandardCharsets.UTF_8),
                headers);
    }

    /**
     * Aborts the open transaction; if even that fails (Kafka unreachable, or the client refuses),
     * the producer is thrown away and the next one's {@code initTransactions()} aborts the
     * transaction on the broker.
     */
    private void abort() {
        try {
            producer.abortTransaction();
        } catch (RuntimeException e) {
            log.debug("outbox transaction not aborted, discarding the producer: {}", e.toString());
            discard();
        }
    }

    private Producer<byte[], byte[]> producer() {
        if (producer == null) {
            Producer<byte[], byte[]> created = factory.get();
            try {
                created.initTransactions(); // fences every older producer of this transactional id
            } catch (RuntimeException e) {
                created.close(Duration.ZERO);
                throw e;
            }
            producer = created;
        }
        return producer;
    }

    /** Closes the producer without waiting; a new one is made for the next batch. */
    public void discard() {
        if (producer != null) {
            try {
                producer.close(Duration.ZERO);
            } catch (RuntimeException e) {
                log.debug("closing the outbox producer: {}", e.toString());
            }
            producer = null;
        }
    }

    @Override
    public void close() {
        discard();
    }
}
