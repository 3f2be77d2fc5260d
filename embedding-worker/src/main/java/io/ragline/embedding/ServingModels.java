package io.ragline.embedding;

import io.ragline.core.collections.Collection;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.collections.Generation;
import io.ragline.core.collections.GenerationState;
import io.ragline.core.config.Problems;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models the serving generations of the active collections use now, read from the database at
 * most once per {@link #FRESH_FOR} (a readiness probe, a metrics scrape): which models hold the
 * worker's readiness follows the generation states, so a migration's model that this worker cannot
 * run makes it unready once a switch (on any replica) makes that generation serving, and a serving
 * model that failed stops holding it once a switch or a rollback leaves it kept.
 *
 * <p>{@code /health/ready} and {@code /metrics} must answer while the database hangs, so the read
 * never runs on their threads and nothing waits on it under a lock: one read at a time runs on a
 * thread of its own ({@code embedding-serving-models}), its statements bounded by {@link
 * #READ_TIMEOUT} (a statement timeout, and the connection's socket a little longer). The asker that
 * starts a read waits for it at most {@link #WAIT}; every other asker, and that one past the wait,
 * gets the last answer at once, marked with why it may be stale. A read that fails is an answer too
 * (the last states, and the failure), kept as long as a good one, so an outage costs one read every
 * {@link #FRESH_FOR}, never one per probe. Waiting for a pool connection is the pool's ({@code
 * RAGLINE_DB_CONNECT_TIMEOUT}), but no asker waits for it past {@link #WAIT}.
 */
final class ServingModels implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ServingModels.class);

    /** How long an answer is used before the generation states are read again. */
    static final Duration FRESH_FOR = Duration.ofSeconds(2);

    /**
     * The most an asker waits for the read it started: well inside the 2 s each of {@code
     * DependencyChecks}' probes may take, so a readiness probe answers within a few seconds.
     */
    static final Duration WAIT = Duration.ofMillis(500);

    /** The read's statement timeout; its socket gives up {@link #SOCKET_MARGIN} later. */
    static final Duration READ_TIMEOUT = Duration.ofSeconds(1);

    private static final Duration SOCKET_MARGIN = Duration.ofMillis(500);

    /** The status of a collection that takes documents. */
    static final String ACTIVE = "active";

    /**
     * What is known of the serving generations' models.
     *
     * @param keys the model keys of the serving generations of the active collections; {@code null}
     *     before any read succeeded
     * @param failure why the last read gave no answer, or {@code null} when it did
     */
    record Answer(Set<String> keys, String failure) {
        static final Answer UNKNOWN = new Answer(null, null);

        /** Whether model {@code key} serves a generation now; {@code ifUnknown} before any read succeeded. */
        boolean serves(String key, boolean ifUnknown) {
            return keys == null ? ifUnknown : keys.contains(key);
        }

        /** The keys read last; none before any read succeeded. */
        Set<String> known() {
            return keys == null ? Set.of() : keys;
        }

        Answer failed(String why) {
            return new Answer(keys, why);
        }
    }

    /** A read under way: its result, and when it began ({@link System#nanoTime}). */
    private record Read(CompletableFuture<Answer> done, long began) {}

    private final DataSource dataSource;
    private final Function<Collection, String> key;
    private final ExecutorService reader;
    private final AtomicReference<Read> reading = new AtomicReference<>();
    private volatile Answer answer = Answer.UNKNOWN;
    /** When the last read ended ({@link System#nanoTime}), good or failed; valid once {@code ended}. */
    private volatile long endedAt;

    private volatile boolean ended;
    /** Whether the last read failed: its WARN is logged once, and its recovery. */
    private volatile boolean failing;

    ServingModels(DataSource dataSource, Function<Collection, String> key) {
        this.dataSource = dataSource;
        this.key = key;
        this.reader = new ThreadPoolExecutor(0, 1, 1, TimeUnit.MINUTES, new LinkedBlockingQueue<>(), r -> {
            Thread t = new Thread(r, "embedding-serving-models");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * The serving generations' models, at most {@link #FRESH_FOR} old when the database answers; a
     * read it starts is waited for at most {@link #WAIT}, one already under way not at all.
     */
    Answer now() {
        return answer(WAIT);
    }

    /** As {@link #now}, never waiting: for a metrics scrape. */
    Answer latest() {
        return answer(Duration.ZERO);
    }

    private Answer answer(Duration wait) {
        Answer last = answer;
        long now = System.nanoTime();
        if (dataSource == null || (ended && now - endedAt < FRESH_FOR.toNanos())) {
            return last;
        }
        Read running = reading.get();
        if (running != null) {
            long age = now - running.began();
            return age < WAIT.toNanos() ? last : last.failed(unanswered(age));
        }
        Read mine = new Read(new CompletableFuture<>(), now);
        if (!reading.compareAndSet(null, mine)) {
            return last; // another asker started one this instant
        }
        try {
            reader.execute(() -> read(mine));
        } catch (RejectedExecutionException closed) {
            reading.set(null);
            return last;
        } catch (Error e) { // no thread for the read (out of memory): the next asker tries again
            reading.set(null);
            throw e;
        }
        try {
            return wait.isZero() ? last : mine.done().get(wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            return last.failed(unanswered(System.nanoTime() - mine.began()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return last;
        } catch (ExecutionException e) {
            return last.failed(String.valueOf(e.getCause())); // read() completes normally
        }
    }

    private static String unanswered(long nanos) {
        return "the read of which generations serve has not answered for "
                + Problems.text(Duration.ofMillis(TimeUnit.NANOSECONDS.toMillis(nanos)));
    }

    /** One read, on the reader's thread: its answer, good or failed, stands for {@link #FRESH_FOR}. */
    private void read(Read mine) {
        Answer got = answer;
        try {
            got = new Answer(readKeys(), null);
            if (failing) {
                failing = false;
                log.info("the read of which generations serve answers again");
            }
        } catch (SQLException | RuntimeException e) {
            got = answer.failed("cannot read which generations serve: " + e.getMessage());
            if (!failing) {
                failing = true; // once per stretch of failures: readiness stops following switches
                log.warn("{}; the last states read stand until it answers", got.failure());
            }
        } finally {
            // Even after an Error: a read that never clears would freeze readiness for good.
            answer = got;
            endedAt = System.nanoTime();
            ended = true;
            reading.set(null);
            mine.done().complete(got);
        }
    }

    /**
     * The keys, in a read-only transaction under {@link #READ_TIMEOUT}; one that fails is rolled back
     * (or the connection evicted) by the pool when it is returned.
     */
    private Set<String> readKeys() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setNetworkTimeout(reader, (int) READ_TIMEOUT.plus(SOCKET_MARGIN).toMillis());
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.execute("set local statement_timeout = " + READ_TIMEOUT.toMillis());
            }
            Set<String> keys = of(c);
            c.rollback(); // read only; the setting ends with the transaction
            return keys;
        }
    }

    private Set<String> of(Connection c) throws SQLException {
        Map<Integer, Collection> active = CollectionCatalog.all(c).stream()
                .filter(k -> ACTIVE.equals(k.status()))
                .collect(Collectors.toMap(Collection::id, k -> k, (a, b) -> a));
        Set<String> out = new HashSet<>();
        for (Generation g : Generation.all(c)) {
            Collection k = active.get(g.collectionId());
            if (k != null && g.state() == GenerationState.SERVING) {
                out.add(key.apply(k.as(g)));
            }
        }
        return Set.copyOf(out);
    }

    /** Stops the reader; a read under way is interrupted (its thread is a daemon). */
    @Override
    public void close() {
        reader.shutdownNow();
    }
}
