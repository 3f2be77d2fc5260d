package io.ragline.training.job;

import io.ragline.contracts.training.TrainingRequest;
import io.ragline.core.consumer.PoisonRecordException;
import java.sql.SQLException;

/** What the training loop asks of the {@code training_jobs} rows: admit a request ({@link JobStore}). */
@FunctionalInterface
public interface JobAdmission {
    /**
     * Inserts the request's row ({@code queued}) unless its request id is known; returns the row.
     *
     * @throws PoisonRecordException when the request id is known with other parameters
     */
    JobStore.Job admit(TrainingRequest request) throws SQLException, PoisonRecordException;
}
