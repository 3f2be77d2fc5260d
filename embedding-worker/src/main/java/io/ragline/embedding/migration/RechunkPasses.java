package io.ragline.embedding.migration;

import io.ragline.core.collections.GenerationSweep;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * Where this worker's cut of the documents a chunking lacks ({@link Rechunker}) stands in each
 * collection, and when the next walk through it is due. A pass walks a collection's documents once,
 * in id order, batch after batch ({@code chunking_owed} from the last document id it was given), over
 * as many checks as it takes. A pass that cut something is followed at once by another (a document
 * an ingest in flight wrote without the new chunking, or one that was locked, is met by it); a pass
 * that cut nothing is followed at the generation sweep's pace ({@link GenerationSweep.Pace#after}:
 * its period, or its spacing times what the pass's statements took if that is longer), so that a
 * large collection whose documents all have their chunkings is not read whole at every check of
 * its migration. A change of the collection's live chunkings (a migration begins, a rollback or
 * prune drops one) starts a pass at once, from the first document, and for {@code settling} after it
 * the passes follow each other whatever they cut: an ingest in flight at the change (it read the
 * chunkings before it) may commit a document without the new one, or hold a document's row while a
 * pass skips it, and its document is met at once rather than a pace later.
 *
 * <p>Only the migration switcher's thread uses it.
 */
final class RechunkPasses {
    private final GenerationSweep.Pace pace;
    private final Duration settling;
    private final Map<Integer, State> states = new HashMap<>();

    private static final class State {
        String chunkings;
        long changedAt;
        /** The next batch's first document id; 0 when no pass is under way. */
        long from;

        boolean underWay;
        long cut;
        long spentNanos;
        /** When the next pass may begin ({@link System#nanoTime()}). */
        long dueAt;
        /** When the last pass ended. */
        long endedAt;

        boolean everDone;
    }

    RechunkPasses(GenerationSweep.Pace pace, Duration settling) {
        this.pace = pace;
        this.settling = settling;
    }

    /**
     * Where collection {@code collection}'s next batch starts, its live chunkings being {@code
     * chunkings} (the same numbers in the same order for the same set): the pass under way goes on,
     * or a new one begins from 0 when one is due, or when {@code forcedSince} is given (a sweep's pass
     * that began then) and no pass ended since; empty otherwise.
     */
    OptionalLong from(int collection, String chunkings, long now, OptionalLong forcedSince) {
        State s = states.computeIfAbsent(collection, k -> new State());
        if (!chunkings.equals(s.chunkings)) {
            s.chunkings = chunkings;
            s.changedAt = now;
            s.underWay = false;
            s.everDone = false;
        }
        if (!s.underWay) {
            boolean forced = forcedSince.isPresent() && (!s.everDone || s.endedAt - forcedSince.getAsLong() < 0);
            if (s.everDone && !forced && now - s.dueAt < 0) {
                return OptionalLong.empty();
            }
            s.underWay = true;
            s.from = 0;
            s.cut = 0;
            s.spentNanos = 0;
        }
        return OptionalLong.of(s.from);
    }

    /**
     * Records a batch of collection {@code collection}'s pass: {@code cut} documents' chunkings
     * given (of at most {@code limit}), the last document id among them ({@code last}), its
     * statements' time. Returns whether the pass goes on (the batch was full).
     */
    boolean batch(int collection, int cut, long last, int limit, long tookNanos, long now) {
        State s = states.get(collection);
        if (s == null || !s.underWay) {
            throw new IllegalStateException("no pass under way in collection " + collection);
        }
        s.cut += cut;
        s.spentNanos += tookNanos;
        if (cut >= limit) {
            s.from = last; // inclusive: a document whose chunkings the limit split is taken up again
            return true;
        }
        s.underWay = false;
        s.everDone = true;
        s.endedAt = now;
        boolean settled = s.cut == 0 && now - s.changedAt >= settling.toNanos();
        s.dueAt = now
                + (settled ? pace.after(Duration.ofNanos(s.spentNanos), false).toNanos() : 0);
        return false;
    }

    /** A batch failed: the pass goes on from where it stood at the next check. */
    void failed(int collection, long tookNanos) {
        State s = states.get(collection);
        if (s != null) {
            s.spentNanos += tookNanos;
        }
    }
}
