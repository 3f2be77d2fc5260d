package io.ragline.console.system;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.ToDoubleFunction;

/**
 * Throughput and error rates of the configured workers ({@code GET /api/v1/system/rates}), from
 * the counters their admin ports serve: the increase of each counter between two scrapes divided
 * by the seconds between them, as Prometheus' {@code rate()} (a counter that went down was reset by
 * a restart: its new value is the increase). The scrape before is the previous request's when it is
 * between 1 s and 5 min old (the console page asks every few seconds), else a second scrape one
 * {@code window} later; so each replica of a stateless console answers on its own.
 */
public final class WorkerRates {
    /** The shortest span a rate is computed over: shorter gives noise. */
    static final Duration MIN_SPAN = Duration.ofSeconds(1);

    /** The oldest scrape a rate is computed from: older says little about now. */
    static final Duration MAX_SPAN = Duration.ofMinutes(5);

    /** The rates, each a sum of Prometheus counters (every process serves those of the stages it runs). */
    public enum Rate {
        /** {@code documents} records the ingest-worker applied, any outcome. */
        DOCUMENTS("documents_per_second", t -> t.sum("ragline_documents_applied_total")),
        /** Vectors the embedding-worker stored, computed by the model or reused. */
        EMBEDDINGS("embeddings_per_second", t -> t.sum("ragline_embedding_vectors_total")),
        /** Outbox rows the event-dispatcher published to Kafka. */
        PUBLISHED("published_per_second", t -> t.sum("ragline_outbox_published_total")),
        /** Records consumed, any consumer, processed or dead-lettered. */
        RECORDS("records_per_second", t -> t.sum("ragline_consumer_records_total")),
        /** Failures: a consumer's batch (any kind), an outbox publish, an embedding request. */
        ERRORS(
                "errors_per_second",
                t -> t.sum("ragline_consumer_failures_total")
                        + t.sum("ragline_outbox_publish_failures_total")
                        + t.sum("ragline_embedding_requests_total", l -> "failed".equals(l.get("outcome")))),
        /** Records sent to a dead-letter topic, and outbox rows moved to outbox_dead_letters. */
        DEAD_LETTERS(
                "dead_letters_per_second",
                t -> t.sum("ragline_consumer_records_total", l -> "dead_lettered".equals(l.get("outcome")))
                        + t.sum("ragline_outbox_dead_lettered_total"));

        private final String field;
        private final ToDoubleFunction<PrometheusText> total;

        Rate(String field, ToDoubleFunction<PrometheusText> total) {
            this.field = field;
            this.total = total;
        }

        /** Its JSON field name. */
        public String field() {
            return field;
        }
    }

    /** Reads a worker's metrics. */
    @FunctionalInterface
    public interface Scraper {
        PrometheusText scrape(ConsoleWorkers.Worker worker) throws IOException;
    }

    /** Waits (a real sleep in production; a moved clock in tests). */
    @FunctionalInterface
    public interface Pause {
        void pause(Duration d) throws InterruptedException;
    }

    /** A worker's rates: empty with {@code error} set when its metrics could not be read. */
    public record WorkerRate(String name, Map<Rate, Double> perSecond, double spanSeconds, String error) {}

    private record Totals(Instant at, Map<Rate, Double> values) {}

    private final ConsoleWorkers workers;
    private final Scraper scraper;
    private final Clock clock;
    private final Pause pause;
    private final Duration window;
    private final Map<String, Totals> last = new ConcurrentHashMap<>();

    public WorkerRates(ConsoleWorkers workers, Scraper scraper, Clock clock, Pause pause, Duration window) {
        this.workers = workers;
        this.scraper = scraper;
        this.clock = clock;
        this.pause = pause;
        this.window = window;
    }

    /** Reads the metrics of the workers' admin ports through {@code probe}. */
    public static Scraper scraper(AdminProbe probe) {
        return w -> {
            AdminProbe.Answer a = probe.get(w.resolve(AdminProbe.METRICS_PATH));
            if (a.status() != 200) {
                throw new IOException(w.resolve(AdminProbe.METRICS_PATH) + " answered " + a.status());
            }
            return PrometheusText.parse(a.body());
        };
    }

    /** Every worker's rates, in the configured order. */
    public List<WorkerRate> rates() throws InterruptedException {
        Map<String, Totals> before = Map.copyOf(last);
        Map<String, Object> now = scrapeAll();
        boolean again = false;
        for (ConsoleWorkers.Worker w : workers.workers()) {
            if (now.get(w.name()) instanceof Totals t && !usable(before.get(w.name()), t)) {
                again = true;
            }
        }
        Map<String, Object> first = now;
        if (again) {
            pause.pause(window);
            now = scrapeAll();
        }
        List<WorkerRate> rates = new ArrayList<>();
        for (ConsoleWorkers.Worker w : workers.workers()) {
            Object current = now.get(w.name());
            if (!(current instanceof Totals t)) {
                rates.add(new WorkerRate(w.name(), Map.of(), 0, (String) current));
                continue;
            }
            Totals from = usable(before.get(w.name()), t) ? before.get(w.name()) : (Totals) first.get(w.name());
            rates.add(rate(w.name(), from, t));
        }
        return rates;
    }

    private static boolean usable(Totals before, Totals now) {
        if (before == null) {
            return false;
        }
        Duration span = Duration.between(before.at(), now.at());
        return span.compareTo(MIN_SPAN) >= 0 && span.compareTo(MAX_SPAN) <= 0;
    }

    private WorkerRate rate(String name, Totals from, Totals to) {
        if (from == null || !to.at().isAfter(from.at())) {
            return new WorkerRate(name, Map.of(), 0, "its metrics were read once only");
        }
        double seconds = Duration.between(from.at(), to.at()).toNanos() / 1e9;
        Map<Rate, Double> perSecond = new EnumMap<>(Rate.class);
        for (Rate r : Rate.values()) {
            double a = from.values().get(r);
            double b = to.values().get(r);
            perSecond.put(r, (b >= a ? b - a : b) / seconds);
        }
        return new WorkerRate(name, perSecond, seconds, null);
    }

    /** Each worker's totals now, or why they could not be read (a String). */
    private Map<String, Object> scrapeAll() {
        Map<String, Object> result = new java.util.HashMap<>();
        for (ConsoleWorkers.Worker w : workers.workers()) {
            try {
                PrometheusText text = scraper.scrape(w);
                Map<Rate, Double> values = new EnumMap<>(Rate.class);
                for (Rate r : Rate.values()) {
                    values.put(r, r.total.applyAsDouble(text));
                }
                Totals t = new Totals(clock.instant(), values);
                last.put(w.name(), t);
                result.put(w.name(), t);
            } catch (IOException | RuntimeException e) {
                result.put(w.name(), String.format(Locale.ROOT, "metrics unreadable: %s", e));
            }
        }
        return result;
    }
}
