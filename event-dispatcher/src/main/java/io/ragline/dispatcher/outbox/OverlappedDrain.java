package io.ragline.dispatcher.outbox;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The relay's drain with two or more producers ({@code RAGLINE_OUTBOX_PRODUCERS}, 3 by default):
 * while batch N commits on the {@value OutboxPublisher#COMMIT_THREAD} thread, batch N+1 is claimed
 * (leaving N's rows out) and sent on the next producer in turn, every send acknowledged; N+1's
 * commit is asked for only once N committed, and N+1 is aborted when N did not, so both go again
 * in order. A commit asked for is always awaited before this returns, whatever ends the drain, so
 * its rows are deleted if it committed and no producer is closed under it (docs/architecture.md, section 10). After a full
 * batch (a backlog) the same, but while rows are urgent: the next is then claimed only once it
 * committed ({@link OutboxClaims#overlapsAfter}). Runs on the relay's thread only.
 */
final class OverlappedDrain {
    private static final Logger log = LoggerFactory.getLogger(OverlappedDrain.class);

    /** How long each wait on the doorbell lasts while N commits: N's outcome is looked at in between. */
    static final int SLICE_MILLIS = 1;

    private final OutboxRelay relay;
    private final OutboxClaims claims;
    private final OutboxRefusals refusals;
    private final OutboxPublisher publisher;

    /**
     * The producer the next batch goes on. The producers take turns across drains too, so that a
     * producer's next transaction begins as long after its last commit as the rotation allows:
     * until that commit's markers are written the coordinator answers the new transaction's first
     * produce request with {@code CONCURRENT_TRANSACTIONS}, and the partition's leader tries again
     * only after {@code add.partitions.to.txn.retry.backoff.ms} (20 ms by default), a wait the
     * batch's rows then carry (docs/architecture.md, section 10).
     */
    private int slot;

    /** A batch whose commit was asked for and whose outcome is not known yet. */
    private record Committing(List<OutboxRow> rows, Future<OutboxPublisher.Result> outcome) {}

    OverlappedDrain(OutboxRelay relay, OutboxClaims claims, OutboxRefusals refusals, OutboxPublisher publisher) {
        this.relay = relay;
        this.claims = claims;
        this.refusals = refusals;
        this.publisher = publisher;
    }

    /** Publishes batches until the outbox is empty, leadership is lost or the relay stops. */
    void drain() throws Exception {
        Committing committing = null;
        try {
            while (relay.running()) {
                relay.refreshBacklog(false);
                if (!relay.linger()) { // rows arriving meanwhile join the next batch (N's commit goes on)
                    return; // stopped: the finally settles N
                }
                OutboxHolds holds = refusals.holds();
                List<OutboxRow> rows = claims.next(holds); // leaves the committing batch's rows out
                if (rows.isEmpty()) {
                    if (committing == null) {
                        relay.nothingToPublish(holds);
                        return;
                    }
                    if (rings(committing)) {
                        continue; // rows arrived while N commits: they are N+1
                    }
                    Committing n = committing;
                    committing = null;
                    if (!relay.after(n.rows(), settle(n))) {
                        return;
                    }
                    continue; // the next claim deletes N's rows and looks again
                }
                if (!relay.leading() || !relay.running()) {
                    if (committing != null) {
                        Committing n = committing;
                        committing = null;
                        settleQuietly(n); // before standBy() closes the producers
                    }
                    relay.standBy();
                    return;
                }
                rows = refusals.withoutMissingTopics(rows);
                if (rows.isEmpty()) {
                    continue; // all of them held back now
                }
                // N+1 is sent only now: N's sends were all acknowledged before its commit was asked for.
                relay.batchBegins(rows.size());
                OutboxPublisher.Staged next = publisher.stage(slot, rows, relay::leading);
                if (committing != null) {
                    next = topUp(committing, next, holds);
                    rows = next.rows();
                }
                if (committing != null) {
                    Committing n = committing;
                    committing = null;
                    OutboxPublisher.Result outcome = awaitOrAbort(n, next);
                    if (!outcome.committed()) {
                        publisher.abort(next); // never committed: N+1 goes again after N
                        if (!relay.after(n.rows(), outcome)) {
                            return;
                        }
                        continue;
                    }
                    relay.published(n.rows(), outcome.at());
                }
                if (!next.sent()) {
                    if (!relay.after(rows, next.failure())) {
                        return;
                    }
                    continue;
                }
                claims.committing(rows);
                committing = new Committing(rows, publisher.commitLater(next, relay::leading));
                relay.doorbell().forwardBridged(); // what rang on a bridged channel while N+1 was open
                slot = (slot + 1) % publisher.producers();
                if (!claims.overlapsAfter(rows)) { // a full batch while rows are urgent: the next claim waits
                    Committing n = committing;
                    committing = null;
                    if (!relay.after(n.rows(), settle(n))) {
                        return;
                    }
                }
            }
        } finally {
            if (committing != null) {
                settleQuietly(committing);
            }
        }
    }

    /**
     * While N commits, N+1 (sent, its transaction open) takes the rows that arrive, so that each is
     * committed right after N rather than after N+1 in turn: the relay waits for N's outcome in
     * slices of {@value #SLICE_MILLIS} ms on the doorbell, and each ring claims what came (leaving
     * N's and N+1's rows out: a prefix of every key's rows still waiting, so behind N+1's rows of the
     * key) and sends it into N+1, every send acknowledged before N+1's commit is asked for. N+1
     * grows up to a full batch; nothing rings in poll mode. Only rows of the topics N and N+1 sent
     * to join (no send may wait for a new topic's metadata while N+1 holds consumers back; the
     * others, whole topics and so whole keys, wait for the next claim), and rows claimed when N's
     * outcome is known already are left for the next batch: N+1's commit is asked for at most one
     * round (a claim, then sends acknowledged) after N's outcome. A claim or a doorbell that fails
     * with an SQLException ends the growing only: N's outcome is awaited as ever, and the trouble is
     * met again by the next claim or wait; any other failure aborts N+1 and ends the drain (N's
     * outcome awaited first), as a failure of N+1's own claim would.
     */
    private OutboxPublisher.Staged topUp(Committing n, OutboxPublisher.Staged next, OutboxHolds holds)
            throws OutboxPublisher.FencedException {
        OutboxPublisher.Staged grown = next;
        try {
            Set<String> topics = new HashSet<>();
            n.rows().forEach(row -> topics.add(row.topic()));
            next.rows().forEach(row -> topics.add(row.topic()));
            while (grown.sent() && grown.rows().size() < claims.batchSize() && rings(n)) {
                List<OutboxRow> more = new ArrayList<>();
                for (OutboxRow row : claims.more(holds, grown.rows())) {
                    if (topics.contains(row.topic())) {
                        more.add(row);
                    }
                }
                if (n.outcome().isDone()) {
                    break; // N+1 commits now; these rows go in a later batch
                }
                grown = publisher.topUp(grown, more, relay::leading);
            }
        } catch (SQLException e) {
            log.debug("the batch under way stops growing: {}", e.toString());
        } catch (RuntimeException | Error e) {
            publisher.abort(grown); // never committed: its rows go again after N
            throw e;
        }
        return grown;
    }

    /**
     * Waits, in slices of {@value #SLICE_MILLIS} ms on the doorbell, until rows arrive (true) or
     * {@code n}'s outcome is known, the relay stops, no longer leads or has no doorbell (false). A doorbell that
     * fails here says false: the relay's next wait on it meets the trouble.
     */
    private boolean rings(Committing n) {
        OutboxDoorbell doorbell = relay.doorbell();
        try {
            while (!n.outcome().isDone() && relay.running() && relay.leading() && doorbell.listening()) {
                if (doorbell.rang(SLICE_MILLIS)) {
                    return !n.outcome().isDone();
                }
            }
        } catch (SQLException e) {
            log.debug("the doorbell failed while a commit was under way: {}", e.toString());
        }
        return false;
    }

    /** N's outcome; when Kafka fenced N's producer, N+1 is aborted before the fence is thrown. */
    private OutboxPublisher.Result awaitOrAbort(Committing n, OutboxPublisher.Staged next)
            throws OutboxPublisher.FencedException {
        try {
            return settle(n);
        } catch (OutboxPublisher.FencedException | RuntimeException | Error e) {
            publisher.abort(next);
            throw e;
        }
    }

    /**
     * Waits for {@code n}'s outcome (the commit is bounded by the producer's {@code max.block.ms},
     * so an interrupt is kept for later rather than leave a commit behind) and records it: rows
     * committed are deleted by the next claim or the drain's end; rows not committed are claimed
     * again.
     */
    private OutboxPublisher.Result settle(Committing n) throws OutboxPublisher.FencedException {
        OutboxPublisher.Result outcome = null;
        try {
            outcome = await(n.outcome());
            return outcome;
        } finally {
            if (outcome == null || !outcome.committed()) {
                claims.notCommitted();
            }
        }
    }

    /** As {@link #settle}, when the drain ends for another reason: a committed batch is recorded. */
    private void settleQuietly(Committing n) {
        try {
            OutboxPublisher.Result outcome = settle(n);
            if (outcome.committed()) {
                relay.published(n.rows(), outcome.at());
            }
        } catch (OutboxPublisher.FencedException e) {
            // not committed: the rows stay in the outbox for whoever leads
        }
    }

    private static OutboxPublisher.Result await(Future<OutboxPublisher.Result> f)
            throws OutboxPublisher.FencedException {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return f.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    Throwable cause = e.getCause();
                    if (cause instanceof OutboxPublisher.FencedException fenced) {
                        throw fenced;
                    }
                    if (cause instanceof Error error) {
                        throw error; // the relay's contract: an Error escapes
                    }
                    return OutboxPublisher.Result.failed(
                            null, cause instanceof Exception ex ? ex : new IllegalStateException(cause));
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
