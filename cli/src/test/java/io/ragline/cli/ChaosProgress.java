package io.ragline.cli;

import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Watches the pipeline from the side, on a connection of its own straight to Postgres (not through
 * the proxy the workers' connections are cut at): every {@value #EVERY_MS} ms it reads which version
 * of each document is embedded, how many webhooks are routed and how many training jobs have
 * finished. From that: when each acknowledged version became searchable (a version counts as
 * searchable once it or a newer one is embedded), the moments of progress, and the versions made
 * searchable.
 */
final class ChaosProgress implements AutoCloseable {
    static final long EVERY_MS = 250;

    private final PostgresSchema db;
    private final ChaosLoad load;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    private final Map<String, Long> embedded = new HashMap<>();
    private final List<Long> latenciesDuringFaultsMs = Collections.synchronizedList(new ArrayList<>());
    private final List<Long> progressAt = Collections.synchronizedList(new ArrayList<>());
    private final List<Long> embeddedAt = Collections.synchronizedList(new ArrayList<>());
    private long routed;
    private long finishedJobs;
    private volatile long versionsEmbedded;
    private volatile String lastError = "";

    ChaosProgress(PostgresSchema db, ChaosLoad load) {
        this.db = db;
        this.load = load;
    }

    void start() {
        timer.scheduleWithFixedDelay(this::sample, 0, EVERY_MS, TimeUnit.MILLISECONDS);
    }

    private void sample() {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            boolean progress = false;
            long now = System.nanoTime();
            try (ResultSet rs = s.executeQuery("select d.external_id, d.version from documents d join collections c"
                    + " on c.id = d.collection_id and c.name = 'default' where d.status = 'embedded'")) {
                while (rs.next()) {
                    String id = rs.getString(1);
                    long version = rs.getLong(2);
                    Long before = embedded.put(id, version);
                    if (before == null || before < version) {
                        progress = true;
                        versionsEmbedded += version - (before == null ? 0 : before);
                        searchable(id, version, now);
                    }
                }
            }
            long r = count(s, "select count(*) from claude_events where status = 'processed'");
            long j =
                    count(s, "select count(*) from training_jobs where status in ('succeeded', 'failed', 'cancelled')");
            if (progress) {
                embeddedAt.add(now);
            }
            progress |= r > routed || j > finishedJobs;
            routed = r;
            finishedJobs = j;
            if (progress) {
                progressAt.add(now);
            }
        } catch (Exception e) {
            lastError = e.toString(); // the sampler goes on; a soak's figures are not its guarantees
        }
    }

    /** Every acknowledged version of {@code id} up to {@code version} is searchable from {@code now}. */
    private void searchable(String id, long version, long now) {
        Queue<ChaosLoad.Sent> waiting = load.unseen.get(id);
        if (waiting == null) {
            return;
        }
        ChaosLoad.Sent head;
        while ((head = waiting.peek()) != null && head.version() <= version) {
            waiting.poll();
            if (head.duringFaults()) {
                latenciesDuringFaultsMs.add((now - head.sentNanos()) / 1_000_000);
            }
        }
    }

    private static long count(Statement s, String sql) throws Exception {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The versions made searchable so far (a version superseded before it was embedded counts too). */
    long versionsEmbedded() {
        return versionsEmbedded;
    }

    /** The {@code p}-th percentile (0–100) of publish→searchable during faults, in ms; -1 if none. */
    long latencyPercentile(double p) {
        List<Long> sorted;
        synchronized (latenciesDuringFaultsMs) {
            sorted = new ArrayList<>(latenciesDuringFaultsMs);
        }
        if (sorted.isEmpty()) {
            return -1;
        }
        Collections.sort(sorted);
        int index = (int) Math.ceil(p / 100 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, index)));
    }

    int latencies() {
        return latenciesDuringFaultsMs.size();
    }

    /**
     * The longest time between two moments of progress (or a bound and a moment) within [from, to],
     * in ms: of anything (a newer version embedded, a webhook routed, a job finished), or with
     * {@code embeddingOnly} of embedding alone.
     */
    long longestStallMs(long fromNanos, long toNanos, boolean embeddingOnly) {
        List<Long> moments = embeddingOnly ? embeddedAt : progressAt;
        long previous = fromNanos;
        long longest = 0;
        synchronized (moments) {
            for (long at : moments) {
                if (at < fromNanos || at > toNanos) {
                    continue;
                }
                longest = Math.max(longest, at - previous);
                previous = at;
            }
        }
        return Math.max(longest, toNanos - previous) / 1_000_000;
    }

    String lastError() {
        return lastError;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
