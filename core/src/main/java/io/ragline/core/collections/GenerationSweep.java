package io.ragline.core.collections;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

/**
 * The self-healing sweep of building and kept generations ({@code request_owed_vectors}, V28, V31):
 * asks again, through the normal embedding requests in the outbox, for the embedded documents one
 * of whose searchable chunks lacks a vector of a generation that is not serving, or one of whose
 * chunks lacks a vector of the serving generation (a write committed across a switch leaves one). Such a document is
 * one whose vectors of that generation were owed (its model failed for a while, which does not
 * fail the serving write) or one a race let slip past. A generation's refusal of a document version
 * is never asked again; a document already waiting in the outbox is not asked twice; a document is
 * asked again only after a wait that doubles with each ask ({@code after}, then twice, up to 64
 * times), and a building generation only once it is older than {@code after} (its migrate's own
 * backfill is the first ask), so a backfill still in Kafka is not asked for over and over.
 */
public final class GenerationSweep {
    /** The most documents one pass asks for, per collection. */
    public static final int LIMIT = 500;

    /**
     * A pass that took {@code d} puts the collection's next pass at least this many times {@code d}
     * away, for every worker ({@link #sweepIfDue}): a sweep takes at most a twentieth of one
     * backend's time per collection, however large the collection and however many workers.
     */
    public static final int SPACING = 20;

    /**
     * How often a collection is swept, for all workers together: at least {@code every} apart, and
     * {@code spacing} times a pass's duration.
     */
    public record Pace(Duration every, int spacing) {
        public Pace {
            if (every.isNegative() || spacing < 0) {
                throw new IllegalArgumentException("a sweep's pace is a period and a spacing of at least 0");
            }
        }

        /**
         * The wait after a pass that took {@code took}: {@code spacing} times that, and at least
         * {@code every} unless the pass stopped at its limit ({@code more}: more may be owed, as after
         * a long outage of a model), so that a backlog of asks goes on at the spacing alone.
         */
        public Duration after(Duration took, boolean more) {
            Duration spaced = took.multipliedBy(spacing);
            return more || spaced.compareTo(every) > 0 ? spaced : every;
        }
    }

    private GenerationSweep() {}

    /** Every collection with a building or kept generation, by id. */
    public static List<Integer> collections(Connection c) throws SQLException {
        List<Integer> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("select distinct collection_id from collection_generations"
                        + " where state <> 'serving' order by 1");
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getInt(1));
            }
        }
        return out;
    }

    /**
     * One pass over collection {@code collectionId}, in the caller's transaction, under the lock
     * one worker at a time checks a collection's migration with.
     *
     * @return the documents asked for, or empty when another worker holds the collection's lock
     */
    public static OptionalInt sweep(Connection c, int collectionId, int limit, Duration after) throws SQLException {
        if (!CollectionMigrations.checkLock(c, collectionId)) {
            return OptionalInt.empty();
        }
        return requestOwed(c, collectionId, limit, after);
    }

    /**
     * As {@link #sweep}, when collection {@code collectionId} is due ({@code generation_sweeps},
     * V32): a pass by any worker sets the collection's next one {@link Pace#after} its own duration
     * away, in the caller's transaction (the lock and the due time hold only there: autocommit must
     * be off), so that the workers together sweep it at {@code pace}; and deletes the rows of other
     * collections with nothing left to sweep (pruned, or deleted). A pass that fails is rolled back
     * with its due time: the caller then puts the next one off with {@link #postpone}.
     *
     * @return the documents asked for, or empty when another worker holds the collection's lock or
     *     the collection is not due yet
     */
    public static OptionalInt sweepIfDue(Connection c, int collectionId, int limit, Duration after, Pace pace)
            throws SQLException {
        if (c.getAutoCommit()) {
            throw new IllegalStateException("a paced sweep runs in the caller's transaction: autocommit must be off");
        }
        if (!CollectionMigrations.checkLock(c, collectionId) || !due(c, collectionId)) {
            return OptionalInt.empty();
        }
        long start = System.nanoTime();
        int asked = requestOwed(c, collectionId, limit, after).getAsInt();
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        postpone(c, collectionId, took, pace.after(took, asked >= limit));
        try (PreparedStatement s = c.prepareStatement("delete from generation_sweeps where collection_id in (select"
                + " s.collection_id from generation_sweeps s where s.collection_id <> ? and not exists (select 1 from"
                + " collection_generations g where g.collection_id = s.collection_id and g.state <> 'serving') for"
                + " update skip locked)")) { // two workers cleaning up at once never wait for each other
            s.setInt(1, collectionId);
            s.executeUpdate();
        }
        return OptionalInt.of(asked);
    }

    /**
     * Sets collection {@code collectionId}'s next pass {@code wait} from now, for every worker, with
     * {@code took}, the last pass's duration. Also after a pass that failed (its transaction rolled
     * back, on autocommit): a pass that keeps failing, cut by the socket timeout on a huge
     * collection say, is then not started again by every worker every 30 s.
     */
    public static void postpone(Connection c, int collectionId, Duration took, Duration wait) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("insert into generation_sweeps (collection_id, due_at,"
                + " last_seconds) values (?, clock_timestamp() + make_interval(secs => ?), ?) on conflict"
                + " (collection_id) do update set due_at = excluded.due_at, last_seconds = excluded.last_seconds")) {
            s.setInt(1, collectionId);
            s.setDouble(2, wait.toNanos() / 1e9);
            s.setDouble(3, took.toNanos() / 1e9);
            s.executeUpdate();
        }
    }

    /** Whether collection {@code collectionId}'s next pass is due (never swept counts as due). */
    private static boolean due(Connection c, int collectionId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "select due_at <= clock_timestamp() from generation_sweeps where collection_id = ?")) {
            s.setInt(1, collectionId);
            try (ResultSet rs = s.executeQuery()) {
                return !rs.next() || rs.getBoolean(1);
            }
        }
    }

    private static OptionalInt requestOwed(Connection c, int collectionId, int limit, Duration after)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select request_owed_vectors(?, ?, make_interval(secs => ?))")) {
            s.setInt(1, collectionId);
            s.setInt(2, limit);
            s.setDouble(3, after.toMillis() / 1000.0);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return OptionalInt.of(rs.getInt(1));
            }
        }
    }
}
