package io.ragline.training.job;

import io.ragline.contracts.training.TrainingRequest;
import java.util.function.BooleanSupplier;

/** What the training loop asks of a job thread: drive a job to a final row ({@link JobRunner}). */
public interface JobDriver {
    /**
     * Runs until job {@code id}'s row is final (true) or {@code stopping} (false). Blocks: runs on a
     * job thread, never on the loop's.
     *
     * @throws InterruptedException when the job thread is interrupted (shutdown)
     */
    boolean drive(long id, TrainingRequest request, BooleanSupplier stopping) throws InterruptedException;

    /** Asks every job this worker runs to stop and go back to {@code queued} (shutdown). */
    void abandonAll();
}
