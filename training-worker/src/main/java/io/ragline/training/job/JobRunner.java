package io.ragline.training.job;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.contracts.status.TrainingJobStatus;
import io.ragline.contracts.training.TrainingRequest;
import io.ragline.core.consumer.FailureKind;
import io.ragline.core.consumer.FailurePolicy;
import io.ragline.core.resilience.Backoff;
import io.ragline.training.TrainingMetrics;
import io.ragline.training.TrainingSettings;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives one job to a final row, on a job thread: claims it ({@link JobStore#claim}), trains it
 * with its backend while a heartbeat keeps {@code heartbeat_at} fresh and watches
 * {@code cancel_requested}, and records the outcome, the final status and the event in one
 * transaction ({@link JobFinisher}). A job another live worker runs is watched until it is final.
 */
public final class JobRunner implements JobDriver {
    private static final Logger log = LoggerFactory.getLogger(JobRunner.class);
    /** Between failed claims: 0.5 s doubling to 30 s, with jitter. */
    private static final Backoff CLAIM_BACKOFF = Backoff.defaults();

    private final JobStore store;
    private final JobFinisher finisher;
    private final Map<TrainingRequest.Backend, TrainingBackend> backends;
    private final TrainingSettings settings;
    private final String worker;
    private final TrainingMetrics metrics;
    private final ScheduledExecutorService heartbeats;
    private final Semaphore slots;
    private final FailurePolicy policy = FailurePolicy.defaults();
    private final Set<JobContext> active = ConcurrentHashMap.newKeySet();

    public JobRunner(
            JobStore store,
            Map<TrainingRequest.Backend, TrainingBackend> backends,
            TrainingSettings settings,
            String worker,
            TrainingMetrics metrics,
            ScheduledExecutorService heartbeats) {
        this.store = store;
        this.finisher = new JobFinisher(store.dataSource(), new JobEvents());
        this.backends = Map.copyOf(backends);
        this.settings = settings;
        this.worker = worker;
        this.metrics = metrics;
        this.heartbeats = heartbeats;
        this.slots = new Semaphore(settings.concurrency());
    }

    public String worker() {
        return worker;
    }

    /** Asks every job this worker runs to stop and go back to {@code queued} (shutdown). */
    @Override
    public void abandonAll() {
        active.forEach(JobContext::abandon);
    }

    /**
     * Runs until job {@code id}'s row is final (true) or {@code stopping} (false).
     *
     * @throws InterruptedException when the job thread is interrupted (shutdown)
     */
    @Override
    public boolean drive(long id, TrainingRequest request, BooleanSupplier stopping) throws InterruptedException {
        int failedClaims = 0;
        while (!stopping.getAsBoolean()) {
            boolean slot = slots.tryAcquire();
            JobStore.Claim claim;
            try {
                claim = store.claim(id, worker, slot);
            } catch (SQLException | RuntimeException e) {
                if (slot) {
                    slots.release();
                }
                Duration wait = CLAIM_BACKOFF.wait(++failedClaims);
                log.warn("cannot claim training job {}, retrying in {} ms: {}", id, wait.toMillis(), e.toString());
                Thread.sleep(wait.toMillis());
                continue;
            }
            if (claim != JobStore.Claim.RUN) {
                if (slot) {
                    slots.release();
                }
                if (claim == JobStore.Claim.DONE) {
                    return true;
                }
                Thread.sleep(Math.min(settings.heartbeat().toMillis(), 1000));
                continue;
            }
            try {
                if (run(new JobContext(id, request, worker))) {
                    return true;
                }
            } finally {
                slots.release();
            }
        }
        return false;
    }

    /** Trains a job this worker has just claimed; true when its row is final afterwards. */
    private boolean run(JobContext job) throws InterruptedException {
        TrainingRequest r = job.request();
        log.info(
                "{} running: {} {} on the {} backend",
                job,
                r.task(),
                r.modelName().orElse(r.algorithm()),
                r.backend().sql());
        active.add(job);
        metrics.started();
        long started = System.nanoTime();
        // Once training has ended, the heartbeat goes on while the outcome is written (which a
        // database outage can make last): a database that comes back must see this worker alive,
        // not a stale job for the next worker to run again.
        AtomicBoolean writing = new AtomicBoolean();
        ScheduledFuture<?> beat = heartbeats.scheduleWithFixedDelay(
                () -> beat(job, writing),
                settings.heartbeat().toMillis(),
                settings.heartbeat().toMillis(),
                TimeUnit.MILLISECONDS);
        String outcome = "unknown";
        try {
            Outcome trained;
            try {
                try {
                    trained = backends.get(r.backend()).train(job);
                } finally {
                    writing.set(true);
                }
                if (job.stopping()) {
                    throw new TrainingBackend.StoppedException("stopped (" + job.stop() + ") as training ended");
                }
            } catch (TrainingBackend.StoppedException e) {
                outcome = finisher.stopped(job);
                return !outcome.equals(JobFinisher.REQUEUED) && !outcome.equals(JobFinisher.LOST);
            } catch (TrainingBackend.JobFailure e) {
                outcome = finisher.failed(job, e.getMessage()) ? TrainingJobStatus.FAILED.stored() : JobFinisher.LOST;
                return !outcome.equals(JobFinisher.LOST);
            } catch (InterruptedException e) {
                job.abandon();
                outcome = finisher.stopped(job);
                throw e;
            } catch (Exception e) {
                if (job.stopping()) {
                    outcome = finisher.stopped(job);
                    return !outcome.equals(JobFinisher.REQUEUED) && !outcome.equals(JobFinisher.LOST);
                }
                if (policy.classify(e) == FailureKind.TRANSIENT) {
                    log.warn("{}: transient failure, requeued: {}", job, e.toString());
                    outcome = finisher.requeue(job, "requeued after a transient failure: " + e)
                            ? JobFinisher.REQUEUED
                            : JobFinisher.LOST;
                    Thread.sleep(1000);
                    return false;
                }
                log.warn("{} failed: {}", job, e.toString(), e);
                outcome = finisher.failed(job, describe(e)) ? TrainingJobStatus.FAILED.stored() : JobFinisher.LOST;
                return !outcome.equals(JobFinisher.LOST);
            }
            outcome = finisher.succeeded(job, trained) ? TrainingJobStatus.SUCCEEDED.stored() : JobFinisher.LOST;
            // Lost: the row is not final and not ours; claim again, which watches it until final
            // or applies the stale-job policy, so nothing commits a request whose row is running.
            return !outcome.equals(JobFinisher.LOST);
        } finally {
            beat.cancel(false);
            active.remove(job);
            metrics.ended();
            metrics.job(r.backend().sql(), outcome, Duration.ofNanos(System.nanoTime() - started));
            log.info("{} ended: {}", job, outcome);
        }
    }

    private void beat(JobContext job, AtomicBoolean writing) {
        try {
            var state = store.heartbeat(job.jobId(), worker);
            if (writing.get()) {
                return; // the finisher decides now; the row only needs to look alive
            }
            if (state.isEmpty()) {
                log.warn("{} is no longer this worker's running job; stopping it", job);
                job.lose();
            } else if (state.get() && !job.stopping()) {
                log.info("{}: cancel requested", job);
                job.cancel();
            }
        } catch (SQLException | RuntimeException e) {
            log.warn("heartbeat of {} failed: {}", job, e.toString());
        } catch (Error e) {
            // An Error would cancel the schedule silently: the row would go stale while the job
            // runs on, and another worker could take it up beside this one. Stop the job instead.
            log.error("heartbeat of {} died: {}; stopping the job", job, e.toString(), e);
            job.lose();
        }
    }

    static String describe(Throwable e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null ? "" : ": " + m);
    }

    /** The id of {@code project}'s deployed model, locked, if any. */
    public static java.util.Optional<Long> deployed(Connection c, String project, boolean lock) throws SQLException {
        if (lock) {
            // A project without a deployed model has no row to lock: two jobs finishing at once
            // would both read "none" and both deploy, and the second would hit the unique index.
            // The project's advisory lock orders them; it is released at the transaction's end.
            try (var s = c.prepareStatement("select pg_advisory_xact_lock(hashtext('ragline.models'), hashtext(?))")) {
                s.setString(1, project);
                s.execute();
            }
        }
        try (var s = c.prepareStatement(
                "select id from models where project = ? and deployed" + (lock ? " for update" : ""))) {
            s.setString(1, project);
            try (var rs = s.executeQuery()) {
                return rs.next() ? java.util.Optional.of(rs.getLong(1)) : java.util.Optional.empty();
            }
        }
    }

    static ObjectNode node() {
        return JobStore.JSON.createObjectNode();
    }
}
