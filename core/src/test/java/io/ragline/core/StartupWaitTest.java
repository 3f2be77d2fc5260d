package io.ragline.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.testkit.MovableClock;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The wait's arithmetic on a clock moved by its own pauses: no real sleep. */
class StartupWaitTest {
    static final DatabaseUrl URL =
            DatabaseUrl.parse("postgresql://ragline:Secret-1@db:5432/rag").url().orElseThrow();
    static final Map<String, String> WAITING = Map.of("Postgres at db", "refused");

    final MovableClock clock = new MovableClock();
    final List<Duration> pauses = new ArrayList<>();

    StartupWait waitOf(Duration wait) {
        return new StartupWait("test", clock.instant(), wait, clock, pause -> {
            pauses.add(pause);
            clock.advance(pause);
        });
    }

    @Test
    void aWaitOfZeroNeverPausesAndAddsNothingToTheReport() {
        StartupWait wait = waitOf(Duration.ZERO);

        assertThat(wait.pause(WAITING)).isFalse();
        assertThat(pauses).isEmpty();
        assertThat(wait.retried()).isEmpty();
    }

    @Test
    void pausesDoubleFromAQuarterSecondToFourSecondsAndTheLastEndsAtTheDeadline() {
        StartupWait wait = waitOf(Duration.ofSeconds(20));

        int attempts = 1;
        while (wait.pause(WAITING)) {
            attempts++;
        }

        assertThat(pauses).allSatisfy(p -> assertThat(p).isPositive().isLessThanOrEqualTo(Duration.ofSeconds(4)));
        assertThat(pauses.get(0)).isLessThan(Duration.ofMillis(400));
        assertThat(pauses.stream().reduce(Duration.ZERO, Duration::plus)).isEqualTo(Duration.ofSeconds(20));
        assertThat(attempts).as("about 4 s apart once doubled up").isBetween(7, 20);
        assertThat(wait.retried()).isEqualTo(" (retried for 20 s, RAGLINE_STARTUP_WAIT=20s)");
    }

    @Test
    void aStepWhoseDatabaseIsRefusedIsRunAgainUntilItAnswers() throws Exception {
        StartupWait wait = waitOf(Duration.ofSeconds(60));
        int[] runs = {0};

        String result = wait.postgres(URL, "migrating", () -> {
            if (++runs[0] < 4) {
                throw new SQLException("Connection to db:5432 refused.", "08001");
            }
            return "migrated";
        });

        assertThat(result).isEqualTo("migrated");
        assertThat(runs[0]).isEqualTo(4);
        assertThat(pauses).hasSize(3);
        assertThat(wait.retried()).as("the outage is over").isEmpty();
    }

    @Test
    void aStepWhoseFailureARetryCannotFixIsThrownAtOnce() {
        StartupWait wait = waitOf(Duration.ofSeconds(60));
        int[] runs = {0};

        assertThatThrownBy(() -> wait.postgres(URL, "migrating", () -> {
                    runs[0]++;
                    throw new IllegalStateException(
                            "Flyway failed", new SQLException("permission denied for schema rag", "42501"));
                }))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("Flyway failed");
        assertThat(runs[0]).isEqualTo(1);
        assertThat(pauses).isEmpty();
    }

    @Test
    void aStepStillRefusedAtTheDeadlineThrowsItsLastFailure() {
        StartupWait wait = waitOf(Duration.ofSeconds(5));

        assertThatThrownBy(() -> wait.postgres(URL, "migrating", () -> {
                    throw new SQLException("Connection to db:5432 refused.", "08001");
                }))
                .isInstanceOf(SQLException.class)
                .hasMessage("Connection to db:5432 refused.");
        assertThat(pauses.stream().reduce(Duration.ZERO, Duration::plus)).isEqualTo(Duration.ofSeconds(5));
    }
}
