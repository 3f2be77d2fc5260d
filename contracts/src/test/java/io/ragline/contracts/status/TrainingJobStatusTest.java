package io.ragline.contracts.status;

import static io.ragline.contracts.status.TrainingJobStatus.CANCELLED;
import static io.ragline.contracts.status.TrainingJobStatus.FAILED;
import static io.ragline.contracts.status.TrainingJobStatus.QUEUED;
import static io.ragline.contracts.status.TrainingJobStatus.RUNNING;
import static io.ragline.contracts.status.TrainingJobStatus.SUCCEEDED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TrainingJobStatusTest {

    @Test
    void theStoredTextIsTheColumnsAndMapsBothWays() {
        // training_jobs.status CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled'))
        assertThat(TrainingJobStatus.values())
                .extracting(TrainingJobStatus::stored)
                .containsExactly("queued", "running", "succeeded", "failed", "cancelled");
        for (TrainingJobStatus s : TrainingJobStatus.values()) {
            assertThat(TrainingJobStatus.fromStored(s.stored())).isSameAs(s);
        }
        assertThatThrownBy(() -> TrainingJobStatus.fromStored("done"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown training job status 'done'");
    }

    @Test
    void aQueuedJobRunsOrEndsWithoutRunningButNeverSucceedsUnrun() {
        assertThat(QUEUED.moveTo(RUNNING)).isEqualTo(RUNNING);
        assertThat(QUEUED.moveTo(CANCELLED)).isEqualTo(CANCELLED);
        assertThat(QUEUED.moveTo(FAILED)).isEqualTo(FAILED);
        assertThatThrownBy(() -> QUEUED.moveTo(SUCCEEDED)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void aRunningJobEndsIsRequeuedOrIsTakenOverWhenStale() {
        for (TrainingJobStatus next : TrainingJobStatus.values()) {
            assertThat(RUNNING.moveTo(next)).isEqualTo(next);
        }
    }

    @Test
    void aFinalJobNeverChangesAgain() {
        for (TrainingJobStatus done : new TrainingJobStatus[] {SUCCEEDED, FAILED, CANCELLED}) {
            assertThat(done.isFinal()).isTrue();
            assertThat(done.next()).isEmpty();
            assertThatThrownBy(() -> done.moveTo(QUEUED))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("training job status cannot change from " + done.stored() + " to queued");
        }
        assertThat(QUEUED.isFinal()).isFalse();
        assertThat(RUNNING.isFinal()).isFalse();
    }
}
