package io.ragline.embedding.migration;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.ragline.contracts.pipeline.CollectionEvent;
import io.ragline.core.collections.CollectionMigrations;
import io.ragline.core.collections.GenerationSweep;
import io.ragline.core.schedule.SqlJobScheduler;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.OptionalLong;
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
 *
 * <p>At each check it first cuts the documents a migration to another chunk size lacks ({@link
 * Rechunker}), from their kept text, and asks for their vectors: a walk through the collection that
 * goes on from check to check, and, once a walk cut nothing, walks again only at the sweep's pace
 * ({@link RechunkPasses}).
 *
 * <p>Every {@link #SWEEP_EVERY} it also sweeps the building and kept generations ({@link
 * GenerationSweep}): a document whose vectors of such a generation are missing (its model failed for
 * a while, or a race let it slip past) is asked for again through the outbox.
 *
 * <p>A complete generation that waits for its index (an IVFFlat one, or one asked for after the
 * load) is not tried, whatever this login (a build over the whole generation is the schema owner's
 * {@code ragline collections reindex NAME}, on a connection meant for long statements; this
 * worker's pool cuts a statement after its socket timeout), and its check locks no row: it is logged once at WARN with what the operator runs, and
 * {@value #WAITING} is 1 for the collection until it switches.
 *
 * <p>Each check also sets {@link UnindexedCollections}'s gauge: the collections whose serving
 * generation has vectors and no index, searched by exact scans until the owner's reindex.
 */
public final class MigrationSwitcher implements Runnable {
    private static final Logger log = LoggerFactory.getLogger(MigrationSwitcher.class);

    /** The thread's name. */
    public static final String THREAD = "migration-switcher";

    /** How often the running migrations are checked. */
    public static final Duration EVERY = Duration.ofSeconds(2);

    /** The gauge, per collection: 1 while its complete migration waits for its index (collections reindex). */
    public static final String WAITING = "ragline.migration.waiting.for.index";

    /** The counter of one collection's switch checks that failed. */
    public static final String FAILED = "ragline.migration.check.failures";

    /**
     * How often the building and kept generations are swept for documents lacking their vectors: a
     * collection is swept at this pace by all workers together, further apart when a pass is slow
     * ({@link GenerationSweep#SPACING}); each worker looks at every check whether one is due.
     */
    public static final Duration SWEEP_EVERY = Duration.ofSeconds(30);

    /**
     * The timer of one collection's sweep pass that ran (its lock, due check, statement, pace and
     * commit), whatever it asked for.
     */
    public static final String SWEEP_TIMER = "ragline.migration.sweep";

    /**
     * The first wait before a document is asked for again (then doubled with each ask, up to 64
     * times), and the age a building generation reaches before its documents are swept.
     */
    public static final Duration SWEEP_AFTER = Duration.ofMinutes(5);

    /** The counter of documents the sweep asked for again. */
    public static final String SWEPT = "ragline.migration.sweep.requests";

    /** The counter of documents cut again for a migration's own chunking. */
    public static final String RECHUNKED = "ragline.migration.rechunked.documents";

    /** Documents cut again for a migration's chunking in one transaction. */
    static final int CUT_BATCH = 100;

    /** How long one check goes on cutting documents for a migration's chunking before it switches. */
    static final Duration CUT_FOR = Duration.ofSeconds(1);

    /**
     * How long after a collection's chunkings change its walks for the documents a chunking lacks
     * follow each other at every check, whatever they cut ({@link RechunkPasses}): ingest
     * transactions in flight at the change end well within it.
     */
    static final Duration RECHUNK_SETTLING = Duration.ofSeconds(30);

    private final Rechunker rechunker;
    private final Counter rechunked;
    private final SqlJobScheduler scheduler;
    private final CollectionFlags waiting;
    private final UnindexedCollections unindexed;
    private final Counter failures;
    private final Counter swept;
    private final Duration sweepAfter;
    private final GenerationSweep.Pace pace;
    private final Timer sweeps;

    public MigrationSwitcher(DataSource dataSource, MeterRegistry registry) {
        this(dataSource, registry, RECHUNK_SETTLING);
    }

    /**
     * As the worker's, with the sweep's period and first wait given, and a collection swept again
     * as soon as the period allows, whatever a pass took (a test sweeps at every check and asks
     * again at once).
     */
    public MigrationSwitcher(DataSource dataSource, MeterRegistry registry, Duration sweepEvery, Duration sweepAfter) {
        this(dataSource, registry, sweepAfter, new GenerationSweep.Pace(sweepEvery, 0), RECHUNK_SETTLING);
    }

    /** As the worker's, with the walks' settling period given (a test sees their pace without waiting it out). */
    MigrationSwitcher(DataSource dataSource, MeterRegistry registry, Duration rechunkSettling) {
        this(
                dataSource,
                registry,
                SWEEP_AFTER,
                new GenerationSweep.Pace(SWEEP_EVERY, GenerationSweep.SPACING),
                rechunkSettling);
    }

    private MigrationSwitcher(
            DataSource dataSource,
            MeterRegistry registry,
            Duration sweepAfter,
            GenerationSweep.Pace pace,
            Duration rechunkSettling) {
        this.unindexed = new UnindexedCollections(registry);
        this.waiting = new CollectionFlags(
                registry,
                WAITING,
                "1 while a collection's complete migration waits for an index this login may not build"
                        + " (ragline collections reindex NAME)");
        this.sweepAfter = sweepAfter;
        this.pace = pace;
        this.rechunker = new Rechunker(new RechunkPasses(pace, rechunkSettling));
        this.sweeps = Timer.builder(SWEEP_TIMER)
                .description("Passes of the generation sweep over one collection (each reads the collection's embedded"
                        + " documents until it finds 500 lacking vectors; a slow pass spaces the next ones out)")
                .register(registry);
        this.failures = Counter.builder(FAILED)
                .description(
                        "Switch checks of one collection's migration that failed (made again at the next interval)")
                .register(registry);
        this.rechunked = Counter.builder(RECHUNKED)
                .description("Documents cut again from their kept text for a migration's new chunk size")
                .register(registry);
        this.swept = Counter.builder(SWEPT)
                .description("Documents asked for again because a building or kept generation lacked their vectors")
                .register(registry);
        this.scheduler =
                new SqlJobScheduler(dataSource, "collection_switch_generation", EVERY, false, () -> true, this::check);
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

    /**
     * One check of every running migration, each switched in a transaction of its own. A check that
     * fails for one collection is logged and counted and the others are still checked: one
     * collection's trouble must not hold every other migration back.
     */
    public void check(Connection c, BooleanSupplier keepGoing) throws SQLException {
        for (int collection : CollectionMigrations.migrating(c)) {
            if (!keepGoing.getAsBoolean()) {
                return;
            }
            rechunkOrWarn(c, collection, keepGoing, OptionalLong.empty());
            try {
                checkOne(c, collection);
            } catch (SQLException | RuntimeException e) {
                failures.increment();
                log.warn(
                        "the migration of collection {} could not be checked; checked again in {}: {}",
                        collection,
                        EVERY,
                        e.toString());
            }
        }
        for (String name : waiting.raised()) {
            if (!CollectionMigrations.migrating(c, name)) {
                waiting.lower(name);
            }
        }
        try {
            unindexed.check(c);
        } catch (SQLException | RuntimeException e) { // only a gauge: the sweep still runs
            log.warn(
                    "which collections lack their vector index could not be read; read again in {}: {}",
                    EVERY,
                    e.toString());
        }
        sweep(c, keepGoing); // each collection when due: generation_sweeps sets the pace for every worker
    }

    /**
     * Asks again for the documents lacking a building or kept generation's vectors ({@link
     * GenerationSweep}), each collection in a transaction of its own; one that fails is logged and
     * counted as a failed check, and the others are still swept.
     */
    private void sweep(Connection c, BooleanSupplier keepGoing) throws SQLException {
        for (int collection : GenerationSweep.collections(c)) {
            if (!keepGoing.getAsBoolean()) {
                return;
            }
            boolean auto = c.getAutoCommit();
            c.setAutoCommit(false);
            long start = System.nanoTime();
            try {
                OptionalInt asked = GenerationSweep.sweepIfDue(c, collection, GenerationSweep.LIMIT, sweepAfter, pace);
                c.commit();
                if (asked.isPresent()) {
                    sweeps.record(Duration.ofNanos(System.nanoTime() - start));
                    // A kept chunking a document lacks (an ingest in flight at a switch cut it without).
                    rechunkOrWarn(c, collection, keepGoing, OptionalLong.of(start));
                }
                if (asked.isPresent() && asked.getAsInt() > 0) {
                    swept.increment(asked.getAsInt());
                    log.info(
                            "collection '{}': asked again for {} document(s) lacking the vectors of a building or kept"
                                    + " generation (its model failed for them for a while, or they slipped past)",
                            name(c, collection),
                            asked.getAsInt());
                }
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                failures.increment();
                Duration took = Duration.ofNanos(System.nanoTime() - start);
                Duration wait = pace.after(took, false);
                log.warn(
                        "the generations of collection {} could not be swept (after {} ms); swept again in {} s: {}",
                        collection,
                        took.toMillis(),
                        wait.toSeconds(),
                        e.toString());
                postpone(c, collection, took, wait);
            } finally {
                c.setAutoCommit(auto);
            }
        }
    }

    /** Puts a failed pass's next one off for every worker, if the database lets it (else the next check tries). */
    private static void postpone(Connection c, int collection, Duration took, Duration wait) {
        try {
            c.setAutoCommit(true);
            GenerationSweep.postpone(c, collection, took, wait);
        } catch (SQLException | RuntimeException e) {
            log.debug("the next sweep of collection {} could not be put off: {}", collection, e.toString());
        }
    }

    /** {@link #rechunk}, a failure logged and counted as a failed check (the next check tries again). */
    private void rechunkOrWarn(Connection c, int collection, BooleanSupplier keepGoing, OptionalLong forcedSince) {
        try {
            rechunk(c, collection, keepGoing, forcedSince);
        } catch (SQLException | RuntimeException e) {
            failures.increment();
            log.warn(
                    "collection {}: documents a chunking lacks could not be cut; tried again at the next check: {}",
                    collection,
                    e.toString());
        }
    }

    /**
     * Cuts the documents a live chunking lacks ({@link Rechunker#walk}), {@link #CUT_BATCH} to a
     * transaction, for up to {@link #CUT_FOR} (the next check goes on), and counts and logs them.
     */
    private void rechunk(Connection c, int collection, BooleanSupplier keepGoing, OptionalLong forcedSince)
            throws SQLException {
        int total =
                rechunker.walk(c, collection, forcedSince, keepGoing, CUT_BATCH, System.nanoTime() + CUT_FOR.toNanos());
        if (total > 0) {
            rechunked.increment(total);
            log.info(
                    "collection '{}': cut {} document(s) again for its migration's chunk size and asked for their"
                            + " vectors",
                    name(c, collection),
                    total);
        }
    }

    private void checkOne(Connection c, int collection) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            CollectionMigrations.SwitchCheck check = CollectionMigrations.switchIfComplete(c, collection);
            c.commit();
            if (check.skipped()) {
                return; // another worker is checking it: its gauge and warning stay as they are
            }
            String name = name(c, collection);
            check.switched().ifPresent(this::switched);
            if (check.blocked()) {
                blocked(name, check.progress().orElseThrow());
            } else if (name != null) {
                waiting.lower(name);
            }
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    private void switched(CollectionEvent e) {
        log.info(
                "collection '{}' switched to generation {} ({}, {} dimensions) from generation {} ({}):"
                        + " every searchable document has its vectors; the old one is kept until collections prune",
                e.collection(),
                e.generation(),
                e.model(),
                e.dimensions(),
                e.fromGeneration(),
                e.fromModel());
        waiting.lower(e.collection());
    }

    private void blocked(String name, CollectionMigrations.Progress p) {
        if (waiting.raise(name)) {
            log.warn(
                    "collection '{}': generation {} ({}) has every vector but is {}",
                    name,
                    p.generation(),
                    p.model(),
                    p.indexAdvice(name));
        }
    }

    private static String name(Connection c, int collection) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select name from collections where id = ?")) {
            s.setInt(1, collection);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }
}
