package io.ragline.console.system;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PrometheusTextTest {
    private static final String TEXT = String.join(
            "\n",
            "# HELP ragline_documents_applied_total documents records applied, by outcome",
            "# TYPE ragline_documents_applied_total counter",
            "ragline_documents_applied_total{outcome=\"chunked\",process=\"all\"} 12.0",
            "ragline_documents_applied_total{outcome=\"stale\",process=\"all\"} 3.0",
            "ragline_consumer_records_total{client=\"x\",outcome=\"dead_lettered\",topic=\"a,b\"} 2.0 1700000000000",
            "ragline_consumer_records_total{client=\"x\",outcome=\"processed\",topic=\"say \\\"hi\\\"\"} 40",
            "process_uptime_seconds 12.5",
            "broken{outcome=\"x\" 3",
            "jvm_gc_pause_seconds_max{action=\"end\"} NaN",
            "");

    @Test
    void samplesAreSummedByNameAndLabels() {
        PrometheusText t = PrometheusText.parse(TEXT);
        assertThat(t.sum("ragline_documents_applied_total")).isEqualTo(15.0);
        assertThat(t.sum("ragline_consumer_records_total", l -> "dead_lettered".equals(l.get("outcome"))))
                .isEqualTo(2.0);
        assertThat(t.sum("process_uptime_seconds")).isEqualTo(12.5);
        assertThat(t.sum("missing")).isZero();
    }

    @Test
    void quotedLabelValuesKeepTheirCommasAndEscapedQuotes() {
        PrometheusText t = PrometheusText.parse(TEXT);
        assertThat(t.samples()).extracting(s -> s.labels().get("topic")).contains("a,b", "say \"hi\"");
    }

    @Test
    void anUnreadableLineIsSkippedNotFatal() {
        assertThat(PrometheusText.parse(TEXT).samples()).noneMatch(s -> s.name().equals("broken"));
    }
}
