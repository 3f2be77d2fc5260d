package io.ragline.training.job;

import io.ragline.contracts.status.TrainingJobStatus;
import io.ragline.core.consumer.FailureKind;
import io.ragline.core.consumer.FailurePolicy;
import io.ragline.core.resilience.Backoff;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a job's row final (or puts it back to {@code queued}) in one transaction with what goes
 * with it: the model, its metrics, the deployment switch and the event. Only while the row is
 * still this worker's running job: a worker that lost it (declared dead meanwhile) writes nothing.
 * A database that fails is retried with backoff (up to 30 s apart) for as long as the job is not
 * being stopped (but a data or constraint error, which would fail again, is not: a model refused
 * fails the job with that reason), so a trained model outlives a database restart; a worker shutting down gives up
 * after a few tries, and the row, whose heartbeat has stopped, goes to the stale-job policy of the
 * worker that receives the request next.
 */
final class JobFinisher {
    private static final Logger log = LoggerFactory.getLogger(JobFinisher.class);
    private static final int TRIES = 6;
    /** Between tries: 250 ms doubling to 30 s, with jitter. */
    private static final Backoff BACKOFF = Backoff.of(Duration.ofMillis(250), Duration.ofSeconds(30));

    /** The status of a job this worker owns: every change here starts from it (the row is locked as such). */
    private static final TrainingJobStatus OWNED = TrainingJobStatus.RUNNING;

    /** Outcomes of a run that are no status: the job went back to the queue, or is no longer this worker's. */
    static final String REQUEUED = "requeued";

    static final String LOST = "lost";
    private static final FailurePolicy POLICY = FailurePolicy.defaults();

    private final DataSource dataSource;
    private final JobEvents events;

    JobFinisher(DataSource dataSource, JobEvents events) {
        this.dataSource = dataSource;
        this.events = events;
    }

    @FunctionalInterface
    private interface Work {
        boolean run(Connection c) throws SQLException;
    }

    /** Runs {@code work} in a transaction if the job is still ours; false when it is not (or the database stayed down). */
    private boolean owned(JobContext job, Work work) throws InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try (Connection c = dataSource.getConnection()) {
                c.setAutoCommit(false);
                try {
                    if (!JobStore.lockOwned(c, job.jobId(), job.worker())) {
                        c.rollback();
                        log.warn("{} is no longer this worker's running job; its outcome is dropped", job);
                        return false;
                    }
                    boolean done = work.run(c);
                    c.commit();
                    return done;
                } catch (SQLException | RuntimeException e) {
                    c.rollback();
                    throw e;
                }
            } catch (SQLException | RuntimeException e) {
                if (POLICY.classify(e) == FailureKind.POISON) {
                    throw new OutcomeRefused(e); // a data or constraint error: the same write fails again
                }
                if (attempt >= TRIES && job.stopping()) {
                    log.error("cannot record the outcome of {} after {} tries: {}", job, attempt, e.toString());
                    return false;
                }
                Duration wait = BACKOFF.wait(attempt);
                log.warn(
                        "recording the outcome of {} failed (try {}), retrying in {} ms: {}",
                        job,
                        attempt,
                        wait.toMillis(),
                        e.toString());
                Thread.sleep(wait.toMillis());
            }
        }
    }

    /** The database refused an outcome for good (SQLSTATE class 22 or 23): retrying cannot help. */
    private static final class OutcomeRefused extends RuntimeException {
        OutcomeRefused(Exception cause) {
            super(cause.getMessage(), cause);
        }
    }

    /** {@link #owned}, where an outcome refused for good leaves the job as it is (the stale-job policy decides). */
    private boolean ownedOrLost(JobContext job, Work work) throws InterruptedException {
        try {
            return owned(job, work);
        } catch (OutcomeRefused e) {
            log.error("the database refused to record the outcome of {}: {}", job, e.getMessage());
            return false;
        }
    }

    /**
     * Records the model, its metrics and the event; if the database refuses them for good, the job
     * fails with that reason instead of retrying the same write forever.
     */
    boolean succeeded(JobContext job, Outcome o) throws InterruptedException {
        try {
            return writeSuccess(job, o);
        } catch (OutcomeRefused e) {
            log.error("the database refused the model of {}: {}", job, e.getMessage());
            return failed(job, "the trained model could not be recorded: " + e.getMessage());
        }
    }

    private boolean writeSuccess(JobContext job, Outcome o) throws InterruptedException {
        return owned(job, c -> {
            String project = job.request().project();
            Optional<Long> current = JobRunner.deployed(c, project, true);
            boolean deploy = o.deploy() && current.equals(o.deployedBefore());
            String reason = o.deploy() && !deploy
                    ? "not deployed: the deployed model changed while this one trained"
                    : o.deployReason();
            if (deploy) {
                try (PreparedStatement s =
                        c.prepareStatement("update models set deployed = false where project = ? and deployed")) {
                    s.setString(1, project);
                    s.executeUpdate();
                }
            }
            long modelId;
            // The embedding generation a builtin model was trained on, with its model's name: a generation
            // number that a rollback freed and a later migration took again names another model.
            try (PreparedStatement s = c.prepareStatement("insert into models (job_id, project, backend, algorithm,"
                    + " collection_id, pgml_model_id, artifact, metrics, deployed, deployed_at, embedding_generation,"
                    + " embedding_model) values (?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, case when ? then now() end, ?,"
                    + " (select embedding_model from collection_generations where collection_id = ? and generation"
                    + " = ?)) returning id")) {
                s.setLong(1, job.jobId());
                s.setString(2, project);
                s.setString(3, job.request().backend().sql());
                s.setString(4, o.algorithm());
                s.setObject(5, o.collectionId().orElse(null));
                s.setObject(6, o.pgmlModelId().orElse(null));
                s.setBytes(7, o.artifact().orElse(null));
                s.setString(
                        8, o.summary().deepCopy().put("deploy_reason", reason).toString());
                s.setBoolean(9, deploy);
                s.setBoolean(10, deploy);
                s.setObject(11, o.embeddingGeneration().orElse(null));
                s.setObject(12, o.collectionId().orElse(null));
                s.setObject(13, o.embeddingGeneration().orElse(null));
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    modelId = rs.getLong(1);
                }
            }
            try (PreparedStatement s = c.prepareStatement("insert into model_metrics (job_id, model_id, split, name,"
                    + " value) values (?, ?, ?, ?, ?) on conflict (job_id, split, name) do update set model_id ="
                    + " excluded.model_id, value = excluded.value, recorded_at = now()")) {
                for (Outcome.Metric m : o.metrics()) {
                    s.setLong(1, job.jobId());
                    s.setLong(2, modelId);
                    s.setString(3, m.split());
                    s.setString(4, m.name());
                    s.setDouble(5, m.value());
                    s.addBatch();
                }
                s.executeBatch();
            }
            setStatus(c, job, TrainingJobStatus.SUCCEEDED, null);
            events.write(
                    c,
                    job.jobId(),
                    TrainingJobStatus.SUCCEEDED,
                    new JobEvents.Success(modelId, deploy, reason, o.summary()),
                    null);
            log.info("{} succeeded: model {} ({}) {}", job, modelId, reason, o.summary());
            return true;
        });
    }

    boolean failed(JobContext job, String error) throws InterruptedException {
        return ownedOrLost(job, c -> {
            setStatus(c, job, TrainingJobStatus.FAILED, error);
            events.write(c, job.jobId(), TrainingJobStatus.FAILED, null, error);
            log.warn("{} failed: {}", job, error);
            return true;
        });
    }

    /** Records a stop: cancelled (final), abandoned (queued again), lost (nothing). Returns the outcome. */
    String stopped(JobContext job) throws InterruptedException {
        switch (job.stop()) {
            case CANCELLED -> {
                boolean done = ownedOrLost(job, c -> {
                    setStatus(c, job, TrainingJobStatus.CANCELLED, "cancelled while running");
                    events.write(c, job.jobId(), TrainingJobStatus.CANCELLED, null, null);
                    return true;
                });
                return done ? TrainingJobStatus.CANCELLED.stored() : LOST;
            }
            case ABANDONED -> {
                return requeue(job, "requeued: worker " + job.worker() + " stopped while running it") ? REQUEUED : LOST;
            }
            default -> {
                return LOST;
            }
        }
    }

    /** Back to {@code queued} for the next claim; a stop by shutdown does not count as an attempt. */
    boolean requeue(JobContext job, String why) throws InterruptedException {
        boolean shutdown = job.stop() == JobContext.Stop.ABANDONED;
        return ownedOrLost(job, c -> {
            try (PreparedStatement s = c.prepareStatement("update training_jobs set status = ?, worker = null,"
                    + " heartbeat_at = null, error = ?, attempts = attempts - ? where id = ?")) {
                s.setString(1, OWNED.moveTo(TrainingJobStatus.QUEUED).stored());
                s.setString(2, why);
                s.setInt(3, shutdown ? 1 : 0);
                s.setLong(4, job.jobId());
                s.executeUpdate();
            }
            log.info("{} {}", job, why);
            return true;
        });
    }

    private static void setStatus(Connection c, JobContext job, TrainingJobStatus status, String error)
            throws SQLException {
        try (PreparedStatement s = c.prepareStatement("update training_jobs set status = ?, error = ?, finished_at ="
                + " now(), heartbeat_at = now() where id = ?")) {
            s.setString(1, OWNED.moveTo(status).stored());
            s.setString(2, error);
            s.setLong(3, job.jobId());
            s.executeUpdate();
        }
    }
}
