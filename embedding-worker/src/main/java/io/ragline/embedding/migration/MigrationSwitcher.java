package io.ragline.embedding.migration;

import io.ragline.contracts.pipeline.CollectionEvent;
import io.ragline.core.collections.CollectionMigrations;
import io.ragline.core.schedule.SqlJobScheduler;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Switches each collection whose migration is complete to its new embedding generation
 * ({@link CollectionMigrations#switchIfComplete}: one transaction per collection, with {@code
 * collection.migrated}), every {@link #EVERY}, on a supervised thread of the embedding-worker (the
 * process that writes the vectors the switch waits for). Several workers checking at once switch
 * once: the check is made again under the collection's row lock. A check that fails is logged and
 * made again at the next interval.
 */
public final class MigrationSwitcher implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(MigrationSwitcher.class);

    /** The thread's name. */
    public static final String THREAD = "migration-switcher";

    /** How often the running migrations are checked. */
    public static final Duration EVERY = Duration.ofSeconds(2);

    private final SqlJobScheduler scheduler;

    public MigrationSwitcher(DataSource dataSource) {
        this.scheduler = new SqlJobScheduler(
                dataSource, "collection_switch_generation", EVERY, false, () -> true, MigrationSwitcher::check);
    }

    /** Checks every interval until {@link #stop()}. */
    @Override
    public void run() {
        scheduler.run();
    }

    /** Asks it to stop; a check under way finishes first. */
    public void stop() {
        scheduler.stop();
    }

    /** One check of every running migration, each switched in a transaction of its own. */
    public static void check(Connection c, BooleanSupplier keepGoing) throws SQLException {
        for (int collection : CollectionMigrations.migrating(c)) {
            if (!keepGoing.getAsBoolean()) {
                return;
            }
            boolean auto = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                Optional<CollectionEvent> switched = CollectionMigrations.switchIfComplete(c, collection);
                c.commit();
                switched.ifPresent(e -> log.info(
                        "collection '{}' switched to generation {} ({}, {} dimensions) from generation {} ({}):"
                                + " every searchable chunk has its vector; the old one is kept until collections prune",
                        e.collection(),
                        e.generation(),
                        e.model(),
                        e.dimensions(),
                        e.fromGeneration(),
                        e.fromModel()));
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(auto);
            }
        }
    }
}
