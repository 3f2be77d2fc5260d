package io.ragline.benchmarks.relay;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The event-dispatcher's own account of where a batch's time goes: {@code
 * ragline_outbox_phase_seconds{phase}} (and the batch size, the batches claimed while one
 * committed and the rows that joined a batch under way) scraped from its {@code /metrics}
 * before and after a round, the difference summed up per phase: count, mean, p99 from the
 * histogram's buckets.
 */
public final class RelayPhases {
    private static final Pattern LINE = Pattern.compile(
            "^(ragline_outbox_phase_seconds_(?:bucket|count|sum)|ragline_outbox_batch_size_(?:count|sum)"
                    + "|ragline_outbox_(?:claimed_ahead|topped_up)_total)"
                    + "(?:\\{([^}]*)\\})? ([0-9.eE+-]+|\\+Inf)$");
    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"([^\"]*)\"");

    private final HttpClient http = HttpClient.newHttpClient();
    private final URI metrics;
    private Map<String, Double> before = Map.of();

    public RelayPhases(int adminPort) {
        this.metrics = URI.create("http://127.0.0.1:" + adminPort + "/metrics");
    }

    /** Starts a round: remembers the counters as they are now. */
    public void mark() throws Exception {
        before = scrape();
    }

    /** One line per phase for what happened since {@link #mark()}. */
    public List<String> sinceMark() throws Exception {
        Map<String, Double> now = scrape();
        Map<String, Double> d = new TreeMap<>();
        now.forEach((k, v) -> d.put(k, v - before.getOrDefault(k, 0.0)));
        List<String> out = new ArrayList<>();
        for (String phase : List.of("claim", "send", "commit", "delete", "lease_renewal")) {
            double count = d.getOrDefault("count|" + phase, 0.0);
            if (count == 0) {
                continue;
            }
            double mean = d.getOrDefault("sum|" + phase, 0.0) / count * 1000;
            out.add(String.format(
                    Locale.ROOT, "%s: %,.0f × mean %.2f ms, p99 ≤ %.1f ms", phase, count, mean, p99(d, phase, count)));
        }
        double batches = d.getOrDefault("batch_count", 0.0);
        if (batches > 0) {
            out.add(String.format(
                    Locale.ROOT,
                    "batches: %,.0f of mean %.1f rows",
                    batches,
                    d.getOrDefault("batch_sum", 0.0) / batches));
        }
        if (d.getOrDefault("claimed_ahead", 0.0) > 0 || d.getOrDefault("topped_up", 0.0) > 0) {
            out.add(String.format(
                    Locale.ROOT,
                    "claimed during a commit: %,.0f batches; joined a batch under way: %,.0f rows",
                    d.getOrDefault("claimed_ahead", 0.0),
                    d.getOrDefault("topped_up", 0.0)));
        }
        return out;
    }

    /** The smallest bucket bound holding 99 % of the phase's timings, in ms. */
    private static double p99(Map<String, Double> d, String phase, double count) {
        double best = Double.POSITIVE_INFINITY;
        for (Map.Entry<String, Double> e : d.entrySet()) {
            String[] k = e.getKey().split("\\|");
            if (k.length == 3 && k[0].equals("bucket") && k[1].equals(phase) && e.getValue() >= 0.99 * count) {
                double le = k[2].equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(k[2]);
                best = Math.min(best, le * 1000);
            }
        }
        return best;
    }

    private Map<String, Double> scrape() throws Exception {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
        Map<String, Double> out = new TreeMap<>();
        for (String line : r.body().split("\n")) {
            Matcher m = LINE.matcher(line);
            if (!m.matches()) {
                continue;
            }
            Map<String, String> labels = new TreeMap<>();
            Matcher l = LABEL.matcher(m.group(2) == null ? "" : m.group(2));
            while (l.find()) {
                labels.put(l.group(1), l.group(2));
            }
            double value = m.group(3).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(m.group(3));
            String name = m.group(1);
            if (name.endsWith("_total")) {
                out.put(name.contains("claimed_ahead") ? "claimed_ahead" : "topped_up", value);
            } else if (name.startsWith("ragline_outbox_batch_size")) {
                out.put(name.endsWith("count") ? "batch_count" : "batch_sum", value);
            } else if (name.endsWith("_bucket")) {
                out.put("bucket|" + labels.get("phase") + "|" + labels.get("le"), value);
            } else {
                out.put((name.endsWith("_count") ? "count|" : "sum|") + labels.get("phase"), value);
            }
        }
        return out;
    }
}
