package io.ragline.contracts.status;

import java.util.EnumSet;
import java.util.Set;

/**
 * {@code training_jobs.status}. {@code queued} when admitted; a worker's claim makes it {@code
 * running} (also taking over a running job whose worker stopped heartbeating); a run ends {@code
 * succeeded}, {@code failed} or {@code cancelled}, or goes back to {@code queued} (requeued after a
 * transient failure or a shutdown). A queued job can be cancelled or failed (out of attempts)
 * without running.
 */
public enum TrainingJobStatus implements StoredStatus<TrainingJobStatus> {
    QUEUED,
    RUNNING,
    SUCCEEDED,
    FAILED,
    CANCELLED;

    @Override
    public Set<TrainingJobStatus> next() {
        return switch (this) {
            case QUEUED -> EnumSet.of(RUNNING, FAILED, CANCELLED);
            case RUNNING -> EnumSet.of(RUNNING, QUEUED, SUCCEEDED, FAILED, CANCELLED);
            case SUCCEEDED, FAILED, CANCELLED -> EnumSet.noneOf(TrainingJobStatus.class);
        };
    }

    @Override
    public boolean isFinal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    /** The stored text, for logs and messages. */
    @Override
    public String toString() {
        return stored();
    }

    @Override
    public String kind() {
        return "training job";
    }

    public static TrainingJobStatus fromStored(String text) {
        return StoredStatus.fromStored(TrainingJobStatus.class, text);
    }
}
