package io.ragline.core.lifecycle;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.core.config.ConfigException;
import io.ragline.core.lifecycle.Lifecycle.State;
import java.util.List;
import org.junit.jupiter.api.Test;

class LifecycleTest {
    @Test
    void aCleanRunGoesFromCreatedThroughRunningToStoppedWithExitCodeZero() {
        Lifecycle lifecycle = new Lifecycle();
        assertThat(lifecycle.problem()).hasValue("starting its consumers and servers");

        lifecycle.moveTo(State.STARTING);
        assertThat(lifecycle.problem()).hasValue("starting its consumers and servers");
        assertThat(lifecycle.started()).isTrue();
        assertThat(lifecycle.state()).isEqualTo(State.RUNNING);
        assertThat(lifecycle.problem()).isEmpty();
        assertThat(lifecycle.stopping()).isTrue();
        assertThat(lifecycle.problem()).hasValue("stopping");
        lifecycle.stopped();

        assertThat(lifecycle.state()).isEqualTo(State.STOPPED);
        assertThat(lifecycle.exitCode()).isZero();
    }

    @Test
    void aFailureMovesToFailedNamesTheCauseAndEndsStoppedWithExitCodeOne() {
        Lifecycle lifecycle = running();

        assertThat(lifecycle.fail(new OutOfMemoryError("Java heap space"))).isTrue();
        assertThat(lifecycle.state()).isEqualTo(State.FAILED);
        assertThat(lifecycle.state().closing()).isTrue();
        assertThat(lifecycle.problem()).hasValue("failed: OutOfMemoryError: Java heap space");
        assertThat(lifecycle.stopping()).isTrue();
        lifecycle.stopped();

        assertThat(lifecycle.state()).isEqualTo(State.STOPPED);
        assertThat(lifecycle.exitCode()).isEqualTo(1);
        assertThat(lifecycle.failure()).containsInstanceOf(OutOfMemoryError.class);
    }

    @Test
    void aConfigurationProblemFoundOnAWorkerThreadExitsTwoAsAtStartUp() {
        Lifecycle lifecycle = running();

        assertThat(lifecycle.fail(new RuntimeException(
                        "subscribing failed",
                        new ConfigException(
                                List.of("RAGLINE_TOPIC_REPLICATION_FACTOR='5' is more than the 1 broker")))))
                .isTrue();
        lifecycle.stopping();
        lifecycle.stopped();

        assertThat(lifecycle.exitCode()).isEqualTo(2);
    }

    @Test
    void onlyTheFirstFailureStartsClosingAndIsKept() {
        Lifecycle lifecycle = running();
        IllegalStateException first = new IllegalStateException("first");

        assertThat(lifecycle.fail(first)).isTrue();
        assertThat(lifecycle.fail(new IllegalStateException("second"))).isFalse();

        assertThat(lifecycle.failure()).containsSame(first);
    }

    @Test
    void aFailureWhileStoppingStillMakesTheExitCodeOneWithoutMovingBack() {
        Lifecycle lifecycle = running();
        lifecycle.stopping();

        assertThat(lifecycle.fail(new AssertionError("while closing"))).isFalse();

        assertThat(lifecycle.state()).isEqualTo(State.STOPPING);
        assertThat(lifecycle.exitCode()).isEqualTo(1);
    }

    @Test
    void closingIsIdempotent() {
        Lifecycle lifecycle = running();

        assertThat(lifecycle.stopping()).isTrue();
        assertThat(lifecycle.stopping()).isFalse();
        lifecycle.stopped();
        assertThat(lifecycle.stopping()).isFalse();
        assertThat(lifecycle.state()).isEqualTo(State.STOPPED);
    }

    @Test
    void startedAfterASignalDuringStartIsIgnoredNotAnError() {
        Lifecycle lifecycle = new Lifecycle();
        lifecycle.moveTo(State.STARTING);
        lifecycle.stopping();

        assertThat(lifecycle.started()).isFalse();
        assertThat(lifecycle.state()).isEqualTo(State.STOPPING);
    }

    @Test
    void anIllegalTransitionThrowsAndLeavesTheStateAsItWas() {
        Lifecycle lifecycle = new Lifecycle();

        assertThatThrownBy(() -> lifecycle.moveTo(State.RUNNING))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("lifecycle cannot move from CREATED to RUNNING");
        assertThatThrownBy(lifecycle::started).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(lifecycle::stopped).isInstanceOf(IllegalStateException.class);
        assertThat(lifecycle.state()).isEqualTo(State.CREATED);

        Lifecycle stopped = running();
        stopped.stopping();
        stopped.stopped();
        assertThatThrownBy(() -> stopped.moveTo(State.RUNNING))
                .hasMessage("lifecycle cannot move from STOPPED to RUNNING");
        assertThatThrownBy(() -> running().moveTo(State.STARTING))
                .hasMessage("lifecycle cannot move from RUNNING to STARTING");
    }

    @Test
    void everyStateButStoppedCanReachStoppingAndNothingLeavesStopped() {
        for (State state : State.values()) {
            if (state == State.STOPPING || state == State.STOPPED) {
                continue;
            }
            assertThat(state.next()).as("from %s", state).contains(State.STOPPING);
        }
        assertThat(State.STOPPED.next()).isEmpty();
        assertThat(State.STOPPING.next()).containsExactly(State.STOPPED);
    }

    private static Lifecycle running() {
        Lifecycle lifecycle = new Lifecycle();
        lifecycle.moveTo(State.STARTING);
        lifecycle.started();
        return lifecycle;
    }
}
