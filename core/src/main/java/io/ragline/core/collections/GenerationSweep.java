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
