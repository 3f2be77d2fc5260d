package io.ragline.dispatcher.outbox;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's batches: each claim ({@link OutboxStore#next}) also deletes the batches Kafka has
 * committed since the last one, in the same round trip. While a small batch (at most {@value
 * #AHEAD_MAX_ROWS} rows, fewer than a full batch: the outbox is nearly empty and a row's latency is
 * the relay's cycle) commits in Kafka, the next batch is claimed ahead on the {@value #THREAD}
 * thread, leaving out the rows in flight, so a cycle costs the longer of the commit and the claim
 * instead of both. The batch claimed ahead is published only after the batch in flight committed
 * ({@link #committed}); if that one did not commit, it is dropped ({@link #dropAhead}) and claimed
 * again, so a key's later row never overtakes an earlier one. With two or more producers ({@link
 * OverlappedDrain}) the relay's thread itself claims while a batch commits, after a small batch and,
 * while claims read in id order, after a full one ({@link #overlapsAfter}): {@link #committing}
 * names the rows every claim leaves out until {@link #committed} or {@link #notCommitted}. Only the
 * relay's thread calls this class; the claim ahead reads nothing of it but what it is handed.
 */
final class OutboxClaims implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(OutboxClaims.class);

    /** The thread that claims ahead. */
    static final String THREAD = "outbox-claim";
    /** The largest batch in flight during whose commit the next batch is claimed. */
    static final int AHEAD_MAX_ROWS = 500;

    private final OutboxStore store;
    private final OutboxMetrics metrics;
    private final int batchSize;
    private final int lookahead;
    private final ExecutorService ahead = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, THREAD);
        t.setDaemon(true);
        return t;
    });
    /** Ids of rows Kafka committed that no claim has deleted yet. */
    private final List<Long> published = new ArrayList<>();
    /** Ids of the batch whose commit is under way while the next is claimed: every claim leaves them out. */
    private List<Long> inFlight = List.of();
    /** The claim started ahead during the last commit, if any. */
    private Future<Claimed> claimedAhead;

    /** What one claim deleted and read. */
    private record Claimed(List<Long> deleted, List<OutboxRow> rows) {}

    OutboxClaims(OutboxStore store, OutboxMetrics metrics, int batchSize, int lookahead) {
        this.store = store;
        this.metrics = metrics;
        this.batchSize = batchSize;
        this.lookahead = lookahead;
    }

    /** The next batch: the one claimed ahead during the last commit, or one claimed now. */
    List<OutboxRow> next(OutboxHolds holds) throws SQLException, InterruptedException {
        if (claimedAhead != null) {
            Future<Claimed> f = claimedAhead;
            claimedAhead = null;
            return settle(f).rows();
        }
        List<Long> leftOut = new ArrayList<>(holds.ids());
        leftOut.addAll(inFlight);
        Claimed c = claim(List.copyOf(published), holds.topics(), holds.keys(), leftOut, batchSize);
        forget(c.deleted());
        if (!inFlight.isEmpty() && !c.rows().isEmpty()) {
            metrics.claimedAhead(); // 2+ producers: claimed on this thread while the batch before commits
        }
        return c.rows();
    }

    /**
     * Two or more producers: the rows that arrived since {@code staged} (the next batch, sent, its
     * transaction open) was claimed, at most enough to make it a full batch, leaving out its rows,
     * the committing batch's ({@link #committing}) and whatever {@code holds} holds. Empty when
     * {@code staged} is full already.
     */
    List<OutboxRow> more(OutboxHolds holds, List<OutboxRow> staged) throws SQLException {
        int room = batchSize - staged.size();
        if (room <= 0) {
            return List.of();
        }
        List<Long> leftOut = new ArrayList<>(holds.ids());
        leftOut.addAll(inFlight);
        for (OutboxRow row : staged) {
            leftOut.add(row.id());
        }
        Claimed c = claim(List.copyOf(published), holds.topics(), holds.keys(), leftOut, room);
        forget(c.deleted());
        return c.rows();
    }

    /**
     * Called just before {@code batch}'s commit: claims the next batch on the {@value #THREAD}
     * thread when {@code batch} is small, leaving out its rows and whatever {@code holds} holds.
     */
    void claimAhead(List<OutboxRow> batch, OutboxHolds holds) {
        claimAhead(batch, holds, 0);
    }

    /**
     * As {@link #claimAhead(List, OutboxHolds)}, the claim made no sooner than {@code notBefore}
     * ({@link System#nanoTime}; 0: at once): the end of the relay's linger, so that the batch
     * claimed ahead holds the rows that arrive until then, as a claim made after it would.
     */
    void claimAhead(List<OutboxRow> batch, OutboxHolds holds, long notBefore) {
        if (claimedAhead != null || !worthClaimingAhead(batch)) {
            return;
        }
        List<Long> deleting = List.copyOf(published);
        List<String> topics = List.copyOf(holds.topics());
        List<String> keys = List.copyOf(holds.keys());
        List<Long> leftOut = new ArrayList<>(holds.ids());
        for (OutboxRow row : batch) {
            leftOut.add(row.id());
        }
        try {
            claimedAhead = ahead.submit(() -> {
                long wait = notBefore == 0 ? 0 : notBefore - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                return claim(deleting, topics, keys, leftOut, batchSize);
            });
            metrics.claimedAhead();
        } catch (RejectedExecutionException e) { // closing: the next batch is claimed in turn, if at all
            claimedAhead = null;
        }
    }

    /** The most rows a batch holds: {@code RAGLINE_OUTBOX_BATCH}. */
    int batchSize() {
        return batchSize;
    }

    /**
     * The most rows one claim returns: {@code RAGLINE_OUTBOX_BATCH}, or {@code
     * RAGLINE_OUTBOX_LOOKAHEAD} if that is smaller (a claim looks at no more rows than that). A
     * batch of this many is a full one: a backlog.
     */
    int fullBatch() {
        return Math.min(batchSize, lookahead);
    }

    /**
     * One producer: whether the next batch is claimed ahead while {@code batch} commits: only after
     * a small batch (the latency regime). After a full one (a backlog), a claim that leaves thousands
     * of ids out costs more than the commit it would hide (the ranked claim: 150-230 ms against 60-95
     * ms per 5,000-row claim; the in-order claim did not make one producer's drain faster either:
     * docs/benchmarks.md, "The claim in id order").
     */
    boolean worthClaimingAhead(List<OutboxRow> batch) {
        return batch.size() <= AHEAD_MAX_ROWS && batch.size() < batchSize;
    }

    /**
     * Two or more producers: whether the next batch is claimed and sent while {@code batch} commits. Always
     * after a small batch; after a larger one while claims read in id order ({@link
     * OutboxStore#ranking} false), where leaving a full batch's 5,000 ids out costs about 6 ms more
     * a claim (psql, 20,000 rows) and the drain of a backlog then overlaps each batch's claim and
     * sends with the commit before (1.6-2.1 times the events a second of waiting for each commit in
     * two pairs of runs: docs/benchmarks.md, "The claim in id order"). While rows are urgent the
     * ranked claim that leaves out 5,000 ids costs more than the commit it would hide.
     */
    boolean overlapsAfter(List<OutboxRow> batch) {
        return worthClaimingAhead(batch) || !store.ranking();
    }

    /**
     * {@code batch} is committing (two or more producers): the claims made until {@link #committed} or
     * {@link #notCommitted} leave its rows out.
     */
    void committing(List<OutboxRow> batch) {
        List<Long> ids = new ArrayList<>(batch.size());
        for (OutboxRow row : batch) {
            ids.add(row.id());
        }
        inFlight = ids;
    }

    /** The batch that was committing did not commit: its rows are claimed again. */
    void notCommitted() {
        inFlight = List.of();
    }

    /** {@code batch} committed in Kafka: its rows are deleted by the next claim (or {@link #flush}). */
    void committed(List<OutboxRow> batch) {
        inFlight = List.of();
        for (OutboxRow row : batch) {
            published.add(row.id());
        }
    }

    /** The batch in flight did not commit: the batch claimed ahead (if any) is not published. */
    void dropAhead() throws InterruptedException {
        Future<Claimed> f = claimedAhead;
        claimedAhead = null;
        if (f == null) {
            return;
        }
        try {
            settle(f); // what it deleted is gone; its rows are claimed again later
        } catch (SQLException | RuntimeException e) {
            log.debug("the outbox claim made ahead failed too: {}", e.toString());
        }
    }

    /**
     * Drops any claim made ahead and deletes what Kafka committed and no claim deleted yet. If the
     * database refuses now, the ids are kept for the next claim; should another dispatcher lead
     * first, it publishes those rows again, which consumers drop by their {@value
     * OutboxPublisher#OUTBOX_ID}.
     */
    void flush() throws InterruptedException {
        InterruptedException interrupted = null;
        try {
            dropAhead();
        } catch (InterruptedException e) {
            // Stopping while the claim ahead still ran: the committed rows are deleted all the same
            // (the claim ahead deletes only ids it was given, so the two never undo each other),
            // else the lease released next would hand them to another dispatcher to publish again.
            interrupted = e;
        }
        if (!published.isEmpty()) {
            long deleting = System.nanoTime();
            try {
                store.delete(published);
                published.clear();
                metrics.phase(OutboxMetrics.Phase.DELETE, deleting);
            } catch (SQLException e) {
                log.debug("published outbox rows not deleted yet ({}): {}", published.size(), e.toString());
            }
        }
        if (interrupted != null) {
            throw interrupted;
        }
    }

    private Claimed claim(
            List<Long> deleting, Iterable<String> topics, Iterable<String> keys, Iterable<Long> ids, int limit)
            throws SQLException {
        long claiming = System.nanoTime();
        List<OutboxRow> rows = store.next(deleting, limit, lookahead, list(topics), list(keys), list(ids));
        metrics.phase(OutboxMetrics.Phase.CLAIM, claiming);
        if (store.rankedLast()) { // read on the thread that claimed: claims never run two at a time
            metrics.ranked();
        }
        return new Claimed(deleting, rows);
    }

    private Claimed settle(Future<Claimed> f) throws SQLException, InterruptedException {
        try {
            Claimed c = f.get();
            forget(c.deleted());
            return c;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof SQLException sql) {
                throw sql;
            }
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (e.getCause() instanceof Error error) {
                throw error; // the relay's contract: an Error escapes
            }
            throw new IllegalStateException("the outbox claim failed: " + e.getCause(), e.getCause());
        }
    }

    private void forget(List<Long> deleted) {
        if (!deleted.isEmpty()) {
            Set<Long> gone = new HashSet<>(deleted);
            published.removeIf(gone::contains);
        }
    }

    private static <T> List<T> list(Iterable<T> items) {
        List<T> out = new ArrayList<>();
        items.forEach(out::add);
        return out;
    }

    @Override
    public void close() {
        ahead.shutdownNow();
    }
}
