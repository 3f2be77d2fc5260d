package io.ragline.dispatcher.outbox;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.InvalidTxnStateException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes each batch of outbox rows as one Kafka transaction, so a batch becomes visible to
 * {@code read_committed} consumers all at once or not at all. Every dispatcher of a schema uses
 * the same {@code transactional.id}s (the schema's, and it with {@code -1} to {@code -3}, every
 * one initialised by each new leader): the producers of a new leader fence those of an old one
 * that froze past its lease, and a send that timed out cannot surface later behind a newer
 * row of its key, because its transaction was aborted. With one producer a batch is published by
 * {@link #publish}; with more, by {@link #stage} then {@link #commitLater}, so that the next batch
 * is sent on the next producer while this one commits (docs/architecture.md, section 10); the
 * sends of a batch are {@link OutboxSends}. Every message carries the outbox id
 * ({@value #OUTBOX_ID}) so that consumers can drop the duplicates a crash between Kafka's commit
 * and the delete of the rows produces.
 */
public final class OutboxPublisher implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OutboxPublisher.class);
    public static final String OUTBOX_ID = "ragline.outbox.id";
    public static final String CREATED_AT = "ragline.outbox.created_at";

    /** The thread that commits a staged batch while the relay sends the next ({@link #commitLater}). */
    public static final String COMMIT_THREAD = "outbox-commit";

    private final OutboxProducers family;
    private final LeaderGroups leaders;

    private final String topicPrefix;
    private final OutboxMetrics metrics;

    private ExecutorService committer;

    /**
     * {@code factory} makes a transactional producer for the {@code transactional.id} it is given:
     * {@code transactionalId} for the first of {@code producers} (1 to 4), then {@link
     * #transactionalId(String, int)}. The phases {@code send} and {@code commit} of each batch are
     * timed into {@code metrics}.
     */
    public OutboxPublisher(
            Function<String, Producer<byte[], byte[]>> factory,
            String transactionalId,
            int producers,
            String topicPrefix,
            OutboxMetrics metrics) {
        this(factory, transactionalId, producers, topicPrefix, metrics, false);
    }

    /**
     * As above; {@code leaderByLeader} true (under Kafka's transaction protocol 2) sends each
     * batch's rows to one partition leader at a time ({@link LeaderGroups}).
     */
    public OutboxPublisher(
            Function<String, Producer<byte[], byte[]>> factory,
            String transactionalId,
            int producers,
            String topicPrefix,
            OutboxMetrics metrics,
            boolean leaderByLeader) {
        this.family = new OutboxProducers(factory, transactionalId, producers);
        this.topicPrefix = topicPrefix;
        this.metrics = metrics;
        this.leaders = new LeaderGroups(topicPrefix, leaderByLeader);
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
     * names it; {@code at} ({@link System#nanoTime}) is when the outcome was known, on the thread
     * that committed: with two or more producers the relay learns it only after the next batch's sends, and
     * the rows' publish latency must not count that.
     */
    public record Result(Outcome outcome, OutboxRow failedRow, Exception failure, long at) {
        Result(Outcome outcome, OutboxRow failedRow, Exception failure) {
            this(outcome, failedRow, failure, System.nanoTime());
        }

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
            super(
                    "fenced by a newer dispatcher of the same outbox (or its transaction state invalidated): "
                            + cause.getMessage(),
                    cause);
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
        Result opened = begin(0, leading);
        if (opened != null) {
            return opened;
        }
        Producer<byte[], byte[]> p = slot(0);
        OutboxSends sending = OutboxSends.sendGroups(p, leaders.of(0, p, rows), topicPrefix);
        if (sending.broken != null) {
            return broken(0, sending);
        }
        Exception failure = sending.failure;
        if (fenced(failure)) { // found at the flush between two leaders' sends
            discard(0);
            throw new FencedException(failure);
        }
        if (failure == null && !leading.getAsBoolean()) {
            // Frozen or slow past the lease: a standby may be publishing these rows already.
            abort(0);
            return new Result(Outcome.NOT_LEADING, null, null);
        }
        if (failure == null) {
            metrics.phase(OutboxMetrics.Phase.SEND, started);
            beforeCommit.run();
            Result committed = commit(0, p, sending);
            if (committed != null) {
                if (committed.committed()) {
                    leaders.acknowledged(0, rows);
                }
                return committed;
            }
            failure = sending.rowError.get() != null ? sending.rowError.get() : sending.commitFailure;
        }
        abort(0);
        return Result.failed(sending.firstFailed.get(), failure);
    }

    /**
     * A batch sent in an open transaction of producer {@code slot} with every send acknowledged
     * ({@link #stage}), or, when {@code failure} is set, a batch that will not be committed (its
     * transaction already aborted, or its producer closed).
     */
    public record Staged(int slot, List<OutboxRow> rows, Result failure) {
        public boolean sent() {
            return failure == null;
        }
    }

    /**
     * With two or more producers: begins a transaction on producer {@code slot}, sends {@code rows} and
     * waits for every acknowledgement ({@code flush()}), leaving the transaction open for {@link
     * #commitLater}. Nothing of a later batch may be sent before this returns (per-key order).
     */
    public Staged stage(int slot, List<OutboxRow> rows, BooleanSupplier leading) throws FencedException {
        long started = System.nanoTime();
        Result opened = begin(slot, leading);
        if (opened != null) {
            return new Staged(slot, rows, opened);
        }
        Producer<byte[], byte[]> p = slot(slot);
        return acknowledged(slot, rows, OutboxSends.sendGroups(p, leaders.of(slot, p, rows), topicPrefix), started);
    }

    /**
     * With two or more producers, while the batch before {@code staged} commits: sends {@code more} (rows
     * claimed since, leaving out {@code staged}'s) into {@code staged}'s open transaction, behind
     * its rows, and waits for every acknowledgement, as {@link #stage} did. Returns the grown batch;
     * when a send failed, the whole batch as not sent (its transaction aborted, or its producer
     * closed), its failed row named. Sends nothing when {@code leading} no longer holds: the commit's
     * own check aborts the batch then.
     */
    public Staged topUp(Staged staged, List<OutboxRow> more, BooleanSupplier leading) throws FencedException {
        if (!staged.sent()) {
            throw new IllegalArgumentException("a batch that was not sent cannot grow");
        }
        if (more.isEmpty() || !leading.getAsBoolean()) {
            return staged;
        }
        long started = System.nanoTime();
        List<OutboxRow> rows = new ArrayList<>(staged.rows().size() + more.size());
        rows.addAll(staged.rows());
        rows.addAll(more);
        int slot = staged.slot();
        Producer<byte[], byte[]> p = slot(slot);
        if (p == null) {
            throw new IllegalStateException("the staged batch's producer is gone");
        }
        Staged grown =
                acknowledged(slot, rows, OutboxSends.sendGroups(p, leaders.of(slot, p, more), topicPrefix), started);
        if (grown.sent()) {
            metrics.toppedUp(more.size());
        }
        return grown;
    }

    /**
     * What {@code sending} (a batch's sends into producer {@code slot}'s open transaction) came to
     * once every send is acknowledged: the batch {@code rows} staged, or not sent (its transaction
     * aborted, or its producer closed) with its first failed row. A fence is thrown.
     */
    private Staged acknowledged(int slot, List<OutboxRow> rows, OutboxSends sending, long started)
            throws FencedException {
        Producer<byte[], byte[]> p = slot(slot);
        if (sending.broken != null) {
            return new Staged(slot, rows, broken(slot, sending));
        }
        if (sending.failure == null) {
            try {
                p.flush(); // every acknowledgement, or the first failure through the callbacks
            } catch (RuntimeException e) {
                discard(slot);
                if (fenced(e)) {
                    throw new FencedException(e);
                }
                return new Staged(slot, rows, Result.failed(null, e));
            }
        }
        Exception failure = sending.failure != null ? sending.failure : sending.rowError.get();
        if (fenced(failure)) {
            discard(slot); // a newer leader initialised this id: its sends are refused
            throw new FencedException(failure);
        }
        if (failure != null) {
            abort(slot);
            return new Staged(slot, rows, Result.failed(sending.firstFailed.get(), failure));
        }
        metrics.phase(OutboxMetrics.Phase.SEND, started);
        leaders.acknowledged(slot, rows);
        return new Staged(slot, rows, null);
    }

    /**
     * Commits a {@link #stage staged} batch on the {@value #COMMIT_THREAD} thread, if {@code
     * leading} still holds just before; otherwise aborts it. The future's {@link Result} says how
     * it ended; it fails with a {@link FencedException} when Kafka fenced the producer. The caller
     * touches the slot's producer again only after the future completed.
     */
    public Future<Result> commitLater(Staged staged, BooleanSupplier leading) {
        if (!staged.sent()) {
            throw new IllegalArgumentException("a batch that was not sent cannot be committed");
        }
        int slot = staged.slot();
        Producer<byte[], byte[]> p = slot(slot);
        return committer().submit(() -> {
            if (!leading.getAsBoolean()) {
                abort(slot, p);
                return new Result(Outcome.NOT_LEADING, null, null);
            }
            OutboxSends sending = new OutboxSends();
            Result committed = commit(slot, p, sending);
            if (committed != null) {
                return committed;
            }
            abort(slot, p);
            return Result.failed(null, sending.commitFailure);
        });
    }

    /** Aborts a {@link #stage staged} batch that will not be committed. */
    public void abort(Staged staged) {
        if (staged.sent()) {
            abort(staged.slot());
        }
    }

    /** How many producers take turns: {@code RAGLINE_OUTBOX_PRODUCERS}. */
    public int producers() {
        return family.producers();
    }

    /**
     * Whether {@code e} (or a cause) says a newer producer of the same id fenced this one. Under
     * transaction protocol 2 (KIP-890) a producer whose epoch another's {@code initTransactions()}
     * bumped may be told INVALID_TXN_STATE instead ({@link InvalidTxnStateException}), which also
     * follows a coordinator's own abort racing a commit: treated as a fence either way, so that the
     * dispatcher stands by until a renewal of its lease in the database wins again (at most one
     * renewal interval) rather than starting producers again on its own clock's word, which would
     * fence a newer leader in turn.
     */
    static boolean fenced(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ProducerFencedException
                    || t instanceof InvalidProducerEpochException
                    || t instanceof InvalidTxnStateException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Starts the slot's producer if needed and begins a transaction; null when one is open, else
     * why the batch will not be published.
     */
    private Result begin(int slot, BooleanSupplier leading) throws FencedException {
        if (!leading.getAsBoolean()) { // before starting a producer, whose init would fence a newer leader
            discard(slot);
            return new Result(Outcome.NOT_LEADING, null, null);
        }
        try {
            Producer<byte[], byte[]> p = family.get(slot);
            if (!leading.getAsBoolean()) {
                discard(slot);
                return new Result(Outcome.NOT_LEADING, null, null);
            }
            p.beginTransaction();
            return null;
        } catch (RuntimeException e) { // KafkaException, or IllegalStateException from a stuck producer
            discard(slot);
            if (fenced(e)) { // also wrapped: a producer in a fatal state says why in the cause
                throw new FencedException(e);
            }
            return Result.failed(null, e);
        }
    }

    /** The producer refused a send from the state it is in: it is discarded, and the batch failed. */
    private Result broken(int slot, OutboxSends sending) {
        discard(slot);
        return Result.failed(null, sending.broken);
    }

    /**
     * Commits the slot's open transaction: COMMITTED, a failed result with the producer discarded,
     * or null when Kafka refused the commit with the producer still usable ({@code
     * sending.commitFailure}; the caller aborts). Fencing is thrown.
     */
    private Result commit(int slot, Producer<byte[], byte[]> p, OutboxSends sending) throws FencedException {
        try {
            long committing = System.nanoTime();
            p.commitTransaction(); // flushes and waits for every acknowledgement
            metrics.phase(OutboxMetrics.Phase.COMMIT, committing);
            return new Result(Outcome.COMMITTED, null, null);
        } catch (RuntimeException e) {
            return commitFailed(slot, p, sending, e);
        }
    }

    /** How a failed commit ends: fenced (thrown), the producer discarded, or aborted by the caller (null). */
    private Result commitFailed(int slot, Producer<byte[], byte[]> p, OutboxSends sending, RuntimeException failure)
            throws FencedException {
        if (fenced(failure)) {
            discard(slot, p);
            throw new FencedException(failure);
        }
        if (failure instanceof TimeoutException) {
            // Not acknowledged within max.block.ms: the commit may still complete or not. The
            // client refuses to abort now; a new producer's initTransactions() settles it.
            discard(slot, p);
            return Result.failed(null, failure);
        }
        if (failure instanceof KafkaException refused) {
            sending.commitFailure = refused;
            return null;
        }
        discard(slot, p);
        return Result.failed(null, failure);
    }

    /**
     * Aborts the slot's open transaction; if even that fails (Kafka unreachable, or the client
     * refuses), the producer is thrown away and the next one's {@code initTransactions()} aborts
     * the transaction on the broker.
     */
    private void abort(int slot) {
        abort(slot, slot(slot));
    }

    private void abort(int slot, Producer<byte[], byte[]> p) {
        if (p == null) {
            return;
        }
        try {
            p.abortTransaction();
        } catch (RuntimeException e) { // fenced, Kafka unreachable, or a state the client refuses
            log.debug("outbox transaction not aborted, discarding the producer: {}", e.toString());
            discard(slot, p);
        }
    }

    /** The {@code transactional.id} of producer {@code slot}: the schema's id, then {@code -1}, {@code -2}... */
    public static String transactionalId(String base, int slot) {
        return OutboxProducers.transactionalId(base, slot);
    }

    /** Closes every producer without waiting; new ones are made (and fence) for the next batch. */
    public void discard() {
        family.discard();
        leaders.forgetAll();
    }

    private void discard(int slot) {
        family.discard(slot);
        leaders.forget(slot);
    }

    private void discard(int slot, Producer<byte[], byte[]> p) {
        family.discard(slot, p);
        leaders.forget(slot);
    }

    private Producer<byte[], byte[]> slot(int slot) {
        return family.current(slot);
    }

    private synchronized ExecutorService committer() {
        if (committer == null) {
            committer = Executors.newSingleThreadExecutor(r -> {
                Thread t = new Thread(r, COMMIT_THREAD);
                t.setDaemon(true);
                return t;
            });
        }
        return committer;
    }

    @Override
    public synchronized void close() {
        family.discard();
        if (committer != null) {
            committer.shutdownNow();
        }
    }
}
