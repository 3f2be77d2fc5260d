package io.ragline.console.system;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WorkerRatesTest {
    private Instant now = Instant.parse("2026-01-01T00:00:00Z");
    private final Map<String, Double> documents = new HashMap<>();
    private final List<Duration> pauses = new ArrayList<>();

    private final Clock clock = new Clock() {
        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    };

    private WorkerRates rates(String... names) {
        List<ConsoleWorkers.Worker> workers = new ArrayList<>();
        for (String n : names) {
            workers.add(new ConsoleWorkers.Worker(n, URI.create("http://" + n + ":9081")));
        }
        WorkerRates.Scraper scraper = w -> {
            Double d = documents.get(w.name());
            if (d == null) {
                throw new IOException("connection refused");
            }
            return PrometheusText.parse("ragline_documents_applied_total{outcome=\"chunked\"} " + d + "\n"
                    + "ragline_consumer_failures_total{kind=\"transient\"} 1\n");
        };
        return new WorkerRates(
                new ConsoleWorkers(workers),
                scraper,
                clock,
                d -> {
                    pauses.add(d);
                    now = now.plus(d);
                    documents.replaceAll((k, v) -> v + 10);
                },
                Duration.ofSeconds(2));
    }

    @Test
    void theFirstRequestScrapesTwiceAWindowApart() throws Exception {
        documents.put("ingest", 100.0);
        List<WorkerRates.WorkerRate> r = rates("ingest").rates();
        assertThat(pauses).containsExactly(Duration.ofSeconds(2));
        assertThat(r.get(0).perSecond()).containsEntry(WorkerRates.Rate.DOCUMENTS, 5.0);
        assertThat(r.get(0).perSecond()).containsEntry(WorkerRates.Rate.ERRORS, 0.0);
        assertThat(r.get(0).spanSeconds()).isEqualTo(2.0);
    }

    @Test
    void aLaterRequestUsesThePreviousScrapeWithoutWaiting() throws Exception {
        documents.put("ingest", 100.0);
        WorkerRates rates = rates("ingest");
        rates.rates();
        now = now.plusSeconds(10);
        documents.put("ingest", 160.0);
        List<WorkerRates.WorkerRate> r = rates.rates();
        assertThat(pauses).hasSize(1);
        assertThat(r.get(0).perSecond()).containsEntry(WorkerRates.Rate.DOCUMENTS, 5.0);
    }

    @Test
    void aScrapeOlderThanFiveMinutesIsNotUsed() throws Exception {
        documents.put("ingest", 100.0);
        WorkerRates rates = rates("ingest");
        rates.rates();
        now = now.plus(Duration.ofMinutes(6));
        rates.rates();
        assertThat(pauses).hasSize(2);
    }

    @Test
    void aCounterThatWentDownWasResetAndCountsFromZero() throws Exception {
        documents.put("ingest", 100.0);
        WorkerRates rates = rates("ingest");
        rates.rates();
        now = now.plusSeconds(4);
        documents.put("ingest", 8.0);
        assertThat(rates.rates().get(0).perSecond()).containsEntry(WorkerRates.Rate.DOCUMENTS, 2.0);
    }

    @Test
    void anUnreachableWorkerHasNoRatesAndSaysWhy() throws Exception {
        documents.put("ingest", 100.0);
        List<WorkerRates.WorkerRate> r = rates("ingest", "embedding").rates();
        assertThat(r).extracting(WorkerRates.WorkerRate::name).containsExactly("ingest", "embedding");
        assertThat(r.get(1).perSecond()).isEmpty();
        assertThat(r.get(1).error()).contains("connection refused");
    }
}
