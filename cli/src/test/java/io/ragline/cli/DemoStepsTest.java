package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class DemoStepsTest {
    private static final int CTRL_C = 0;
    private final AtomicBoolean stopped = new AtomicBoolean();
    private final List<String> ran = new ArrayList<>();

    private DemoSteps.Step step(String name, DemoSteps.Body body) {
        return new DemoSteps.Step(null, () -> {
            ran.add(name);
            return body.run();
        });
    }

    @Test
    void ctrlCDuringTheWebhookStepEndsTheDemoBeforeTheSearchesTouchTheClosedPool() throws Exception {
        int code = DemoSteps.run(
                stopped::get,
                () -> CTRL_C,
                List.of(
                        step("webhook", () -> {
                            stopped.set(true); // Ctrl-C: the runtime (and its pool) is closed
                            return true;
                        }),
                        step("searches", () -> {
                            throw new SQLException("HikariDataSource has been closed.");
                        })));

        assertThat(code).isEqualTo(CTRL_C);
        assertThat(ran).containsExactly("webhook");
    }

    @Test
    void aStepThatFailsBecauseTheStopClosedItsPoolEndsAsAStop() throws Exception {
        int code = DemoSteps.run(stopped::get, () -> CTRL_C, List.of(step("searches", () -> {
            stopped.set(true);
            throw new SQLException("HikariDataSource has been closed.");
        })));

        assertThat(code).isEqualTo(CTRL_C);
    }

    @Test
    void aFailureWithoutAStopIsStillAnError() {
        assertThatThrownBy(() -> DemoSteps.run(stopped::get, () -> CTRL_C, List.of(step("searches", () -> {
                    throw new SQLException("relation does not exist");
                }))))
                .isInstanceOf(SQLException.class);
    }

    @Test
    void aStepThatReportsFailureEndsTheDemoWithOneAndSkipsTheRest() throws Exception {
        int code = DemoSteps.run(
                stopped::get, () -> CTRL_C, List.of(step("publish", () -> false), step("wait", () -> true)));

        assertThat(code).isEqualTo(1);
        assertThat(ran).containsExactly("publish");
    }

    @Test
    void everyStepRunsWhenNothingStops() throws Exception {
        int code = DemoSteps.run(stopped::get, () -> CTRL_C, List.of(step("a", () -> true), step("b", () -> true)));

        assertThat(code).isZero();
        assertThat(ran).containsExactly("a", "b");
    }
}
