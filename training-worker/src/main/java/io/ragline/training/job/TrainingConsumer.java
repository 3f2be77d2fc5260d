package io.ragline.training.job;

import io.ragline.contracts.training.TrainingRequest;
import io.ragline.core.consumer.ConsumerLoop;
import io.ragline.core.consumer.ConsumerMetrics;
import io.ragline.core.consumer.DeadLetterBook;
import io.ragline.core.consumer.DeadLetters;
import io.ragline.core.consumer.FailureKind;
import io.ragline.core.consumer.FailurePolicy;
import io.ragline.core.consumer.LoopFailure;
import io.ragline.core.consumer.LoopLifecycle;
import io.ragline.core.consumer.OffsetCommitter;
import io.ragline.core.consumer.PartitionAssignment;
import io.ragline.core.consumer.PauseSchedule;
import io.ragline.core.consumer.PoisonRecordException;
import io.ragline.core.consumer.PollLoop;
import io.ragline.core.consumer.RecordDecoder;
import io.ragline.training.TrainingMetrics;
import java.time.Clock;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The poll loop of the {@code training} topic. Unlike core's batch loop, a record here can take
 * an hour, so it never runs on this thread: the loop admits the request (one {@code training_jobs}
 * row per request id), and unless the row is already final it positions the partition after the
 * record, pauses the partition and hands the job to a job thread. The loop keeps polling (so the
 * consumer stays in its group whatever {@code max.poll.interval.ms} is) and, when the job's row is
 * final, commits the record's offset + 1 and resumes the partition. One job per partition at a
 * time; requests of one project (the key) run in order.
 *
 * <p>A request that cannot be admitted now (the database is down) rewinds its partition to it and
 * pauses the partition for the {@link io.ragline.core.resilience.Backoff} of the attempt, on the
 * injected clock; one whose failure nothing classifies is retried so until {@code
 * maxUnknownAttempts}, then dead-lettered and committed; a poison request (not a training request,
 * or a request id already used for another request) is dead-lettered and committed; a fatal
 * failure stops the loop. A job thread that fails backs off the same way before its request is
 * taken again. Every pause goes through the {@link PauseSchedule}, which holds a partition while
 * its job runs (no backoff's end resumes it). Built from
 * core's poll-loop toolkit, like the batch loop: {@link LoopLifecycle}, {@link OffsetCommitter},
 * {@link DeadLetterBook}, {@link PauseSchedule}, {@link PartitionAssignment}.
 *
 * <p>A worker that dies mid-job commits nothing, so the request is redelivered to another member,
 * whose job thread finds the row {@code running}: it watches it while its heartbeat is fresh, and
 * applies the stale-job policy when it is not ({@link JobStore#claim}). A partition revoked or lost
 * while its job runs here lets the job finish as an orphan ({@link RunningJobs}): it never
 * commits, resumes or rewinds that partition, even when the partition comes back to this member;
 * the partition's owner watches the row and commits. On shutdown running jobs, orphans included,
 * go back to {@code queued} within half the shutdown budget (their requests are not committed, so
 * they come again).
 */
public final class TrainingConsumer implements PollLoop {
    private static final Logger log = LoggerFactory.getLogger(TrainingConsumer.class);

    private final org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer;
    private final List<String> topics;
    private final RecordDecoder<TrainingRequest> decoder;
    private final Jobs jobs;
    private final TrainingMetrics metrics;
    private final Duration shutdownTimeout;
    private final int maxUnknownAttempts;
    private final FailurePolicy policy = FailurePolicy.defaults();
    private final LoopLifecycle lifecycle;
    private final OffsetCommitter committer;
    private final DeadLetterBook deadLetters;
    private final PauseSchedule schedule;
    private final PartitionAssignment assignment;
    private final RunningJobs running = new RunningJobs();

    /**
     * Where requests become jobs and jobs run.
     *
     * @param admission admits a request as its row
     * @param driver drives a job to a final row, on a job thread
     * @param threads the job threads
     */
    public record Jobs(JobAdmission admission, JobDriver driver, Executor threads) {}

    /**
     * @param settings the poll-loop settings (poll, commit and close timeouts, backoff) shared with
     *     the batch loops; a request whose admission fails for an unclassified reason is
     *     dead-lettered at its {@code maxUnknownAttempts}-th attempt
     * @param shutdownTimeout the process's shutdown budget: running jobs get half of it to go back
     *     to {@code queued} (real time), then the consumer closes within the settings' close timeout
     */
    public TrainingConsumer(
            org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer,
            List<String> topics,
            RecordDecoder<TrainingRequest> decoder,
            DeadLetters deadLetters,
            Jobs jobs,
            ConsumerLoop.Settings settings,
            Duration shutdownTimeout,
            Clock clock,
            TrainingMetrics metrics,
            ConsumerMetrics consumerMetrics,
            Consumer<Throwable> onFatal) {
        this.consumer = consumer;
        this.topics = List.copyOf(topics);
        this.decoder = decoder;
        this.jobs = jobs;
        this.metrics = metrics;
        this.shutdownTimeout = shutdownTimeout;
        this.maxUnknownAttempts = settings.maxUnknownAttempts();
        this.lifecycle = new LoopLifecycle(
                consumer,
                "training consumer of " + this.topics,
                policy,
                settings.pollTimeout(),
                settings.closeTimeout(),
                onFatal);
        // Nothing stored beside Kafka's offsets: a request redelivered finds its row final instead.
        this.committer = new OffsetCommitter(
                consumer, policy, settings, clock, consumerMetrics, OffsetCommitter.StoredOffsets.NONE);
        this.deadLetters = new DeadLetterBook(deadLetters, policy, consumerMetrics);
        this.schedule = new PauseSchedule(consumer, settings.backoff(), clock, consumerMetrics);
        this.assignment = new PartitionAssignment(schedule, this.deadLetters, committer).whenRevoked(this::revoked);
    }

    @Override
    public void stop() {
        lifecycle.stop();
    }

    @Override
    public boolean isRunning() {
        return lifecycle.isRunning();
    }

    /** Polls until {@link #stop()}; anything else that ends the loop, an Error included, is fatal. */
    @Override
    public void run() {
        lifecycle.run(this::subscribe, this::pollOnce, this::abandonJobs);
    }

    /** Subscribes with the loop's rebalance listener. Visible for tests. */
    void subscribe() {
        consumer.subscribe(topics, assignment);
    }

    /** One iteration: poll, hand out what came, finish the jobs that ended, resume what is due. Visible for tests. */
    void pollOnce() {
        Optional<ConsumerRecords<byte[], byte[]>> polled = lifecycle.poll();
        if (polled.isEmpty()) {
            return;
        }
        ConsumerRecords<byte[], byte[]> records = polled.get();
        for (TopicPartition tp : records.partitions()) {
            for (ConsumerRecord<byte[], byte[]> r : records.records(tp)) {
                if (!handle(tp, r)) {
                    break; // the partition is paused at a later position; the rest comes again
                }
            }
        }
        finishJobs();
        schedule.resumeDue();
        committer.afterPoll(); // offsets Kafka refused before (during a rebalance)
    }

    /** Handles one record; false when the partition was paused (job handed off, or a retry later). */
    private boolean handle(TopicPartition tp, ConsumerRecord<byte[], byte[]> r) {
        TrainingRequest request;
        try {
            request = decoder.decode(r);
        } catch (PoisonRecordException | RuntimeException e) {
            return deadLetter(tp, r, e);
        }
        JobStore.Job job;
        try {
            job = jobs.admission().admit(request);
        } catch (PoisonRecordException e) {
            return deadLetter(tp, r, e); // its request id belongs to another request
        } catch (Exception e) {
            FailureKind kind = policy.classify(e);
            if (kind == FailureKind.FATAL) {
                throw new LoopFailure("cannot admit training requests", e);
            }
            if (kind == FailureKind.POISON) {
                // The database refuses the request's content (SQLSTATE class 22 or 23, e.g. a NUL in
                // a text or jsonb value): every retry would be refused too, and hold the partition.
                return deadLetter(tp, r, e);
            }
            int attempt = schedule.attempts(Map.of(tp, r.offset())) + 1;
            if (kind == FailureKind.UNKNOWN && attempt >= maxUnknownAttempts) {
                // Nothing says it will pass: retried for ever, it would hold the partition for good.
                return deadLetter(tp, r, e, attempt);
            }
            schedule.backOff(Map.of(tp, r.offset()), List.of(tp), e, kind);
            return false;
        }
        schedule.succeeded(List.of(tp));
        if (job.isFinal()) {
            metrics.request("duplicate");
            log.info(
                    "request {} of {} is job {}, already {}",
                    request.requestId(),
                    request.project(),
                    job.id(),
                    job.status());
            commit(tp, r.offset());
            return true;
        }
        metrics.request("admitted");
        start(tp, r.offset(), job.id(), request);
        return false;
    }

    /** Holds the partition after the record and hands its job to a job thread. */
    private void start(TopicPartition tp, long offset, long jobId, TrainingRequest request) {
        consumer.seek(tp, offset + 1);
        schedule.hold(tp); // drops any backoff of tp: only this job's end resumes it
        FutureTask<Boolean> result =
                new FutureTask<>(() -> jobs.driver().drive(jobId, request, () -> !lifecycle.isRunning()));
        jobs.threads().execute(result);
        running.start(tp, new RunningJobs.Job(offset, jobId, result));
        log.info("paused {} while job {} (request {} of {}) runs", tp, jobId, request.requestId(), request.project());
    }

    /** Dead-letters the record and commits it; when the dead letter cannot be written, backs off. */
    private boolean deadLetter(TopicPartition tp, ConsumerRecord<byte[], byte[]> r, Exception e) {
        return deadLetter(tp, r, e, 1);
    }

    private boolean deadLetter(TopicPartition tp, ConsumerRecord<byte[], byte[]> r, Exception e, int attempts) {
        try {
            deadLetters.publish(r, e, attempts);
        } catch (DeadLetterBook.Unavailable unavailable) {
            schedule.backOff(Map.of(tp, r.offset()), List.of(tp), unavailable.getCause(), FailureKind.TRANSIENT);
            return false;
        }
        metrics.request("dead_lettered");
        commit(tp, r.offset());
        return true;
    }

    /** Commits the partitions whose job's row is final, and resumes them; orphans are not among them. */
    private void finishJobs() {
        running.takeEnded().forEach((tp, job) -> {
            boolean isFinal;
            try {
                isFinal = job.result().get();
            } catch (Exception e) {
                log.error("job thread of job {} failed: {}", job.jobId(), e.toString(), e);
                // Taken again after a backoff, not at once: a thread failing at once would spin.
                schedule.backOff(Map.of(tp, job.offset()), List.of(tp), e, FailureKind.TRANSIENT);
                schedule.release(tp);
                return;
            }
            if (isFinal) {
                commit(tp, job.offset());
                schedule.release(tp);
                log.info("job {} is final; committed {}@{} and resumed", job.jobId(), tp, job.offset() + 1);
            } else if (lifecycle.isRunning()) {
                consumer.seek(tp, job.offset()); // not final and not stopping: take the request again
                schedule.release(tp);
            }
        });
    }

    /** Commits {@code offset + 1}: the record at {@code offset} is done (its row final, or dead-lettered). */
    private void commit(TopicPartition tp, long offset) {
        Map<TopicPartition, Long> next = Map.of(tp, offset + 1);
        committer.commit(next); // refused: owed, committed again later; else the record comes again, its row final
        deadLetters.movedTo(next);
    }

    private void revoked(Collection<TopicPartition> partitions) {
        running.orphan(partitions);
    }

    /** Shutdown: running jobs go back to queued (their requests are not committed, so they come again). */
    private void abandonJobs() {
        if (running.isEmpty()) {
            return;
        }
        jobs.driver().abandonAll();
        running.awaitAll(shutdownTimeout.dividedBy(2));
    }
}
