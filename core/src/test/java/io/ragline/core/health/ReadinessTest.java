package io.ragline.core.health;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ReadinessTest {
    @Test
    void anAdvisoryProblemIsReportedAsAWarningAndLeavesTheProcessReady() {
        Readiness readiness = new Readiness(List.of(
                HealthCheck.of("postgres", Optional::empty),
                HealthCheck.advisory("spare", () -> Optional.of("model m failed to load"))));

        Readiness.Report report = readiness.evaluate();

        assertThat(report.ready()).isTrue();
        assertThat(report.checks()).containsExactly(java.util.Map.entry("postgres", "ok"));
        assertThat(report.warnings()).containsExactly(java.util.Map.entry("spare", "model m failed to load"));
    }

    @Test
    void aReadinessProblemMakesTheProcessUnreadyAndAnAdvisoryCheckThatHoldsIsNotListed() {
        Readiness readiness = new Readiness(List.of(
                HealthCheck.of("kafka", () -> Optional.of("no broker")),
                HealthCheck.advisory("spare", Optional::empty)));

        Readiness.Report report = readiness.evaluate();

        assertThat(report.ready()).isFalse();
        assertThat(report.checks()).containsExactly(java.util.Map.entry("kafka", "no broker"));
        assertThat(report.warnings()).isEmpty();
    }
}
