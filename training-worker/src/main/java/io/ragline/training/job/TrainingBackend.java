package io.ragline.training.job;

/** Trains one job. Runs on a job thread, never on the poll thread. */
public interface TrainingBackend {
    /**
     * Trains and evaluates; the caller records the outcome, in one transaction with the job's
     * final status and its event.
     *
     * @throws StoppedException when {@link JobContext#stopping()} ended the work early
     * @throws JobFailure for a reason the job's row should state (bad data, missing extension)
     */
    Outcome train(JobContext job) throws Exception;

    /** The job stopped because its context said so (cancelled, abandoned, lost). */
    final class StoppedException extends Exception {
        public StoppedException(String message) {
            super(message);
        }
    }

    /** A job that cannot succeed, with the reason its row shows. */
    final class JobFailure extends Exception {
        public JobFailure(String message) {
            super(message);
        }

        public JobFailure(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
