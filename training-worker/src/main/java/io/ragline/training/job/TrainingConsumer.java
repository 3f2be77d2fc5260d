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
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
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
 * injected clock; a poison request (not a training request, or a request id already used for
 * another request) is dead-lettered and committed; a fatal failure stops the loop. Built from
 * core's poll-loop toolkit, like the batch loop: {@link LoopLifecycle}, {@link OffsetCommitter},
 * {@link DeadLetterBook}, {@link PauseSchedule}, {@link PartitionAssignment}.
 *
 * <p>A worker that dies mid-job commits nothing, so the request is redelivered to another member,
 * whose job thread finds the row {@code running}: it watches it while its heartbeat is fresh, and
 * applies the stale-job policy when it is not ({@link JobStore#claim}). A partition revoked while
 * its job runs here lets the job finish; the new owner watches the row and commits. On shutdown
 * running jobs go back to {@code queued} (their requests are not committed, so they come again).
 */
public final class TrainingConsumer implements PollLoop {
    private static final Logger log = LoggerFactory.getLogger(TrainingConsumer.class);

    private final org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer;
    private final List<String> topics;
    private final RecordDecoder<TrainingRequest> decoder;
    private final Jobs jobs;
    private final TrainingMetrics metrics;
    private final Duration shutdownTimeout;
    private final Clock clock;
    private final FailurePolicy policy = FailurePolicy.defaults();
    private final LoopLifecycle lifecycle;
    private final OffsetCommitter committer;
    private final DeadLetterBook deadLetters;
    private final PauseSchedule schedule;
    private final PartitionAssignment assignment;
    private final Map<TopicPartition, InFlight> inFlight = new ConcurrentHashMap<>();

    /**
     * Where requests become jobs and jobs run.
     *
     * @param admission admits a request as its row
     * @param driver drives a job to a final row, on a job thread
     * @param threads the job threads
     */
    public record Jobs(JobAdmission admission, JobDriver driver, Executor threads) {}

    /** The job of a paused partition: its record's offset and the job thread's result (row final?). */
    private record InFlight(long offset, long jobId, FutureTask<Boolean> result) {}

    /**
     * @param settings the poll-loop settings (poll, commit and close timeouts, backoff) shared with
     *     the batch loops; {@code maxUnknownAttempts} does not apply (a request that cannot be
     *     admitted is retried until it can, or until it is known to be poison)
     * @param shutdownTimeout the process's shutdown budget: running jobs get half of it to go back
     *     to {@code queued}, then the consumer closes within the settings' close timeout
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
        this.clock = clock;
        this.lifecycle = new LoopLifecycle(
                consumer,
                "training consumer of " + this.topics,
                policy,
                settings.pollTimeout(),
                settings.closeTimeout(),
                onFatal);
        this.committer = new OffsetCommitter(consumer, policy, settings.commitTimeout());
        this.deadLetters = new DeadLetterBook(deadLetters, policy, consumerMetrics);
        this.schedule = new PauseSchedule(consumer, settings.backoff(), clock, consumerMetrics);
        this.assignment = new PartitionAssignment(schedule, this.deadLetters).whenRevoked(this::revoked);
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

    /** Pauses the partition after the record and hands its job to a job thread. */
    private void start(TopicPartition tp, long offset, long jobId, TrainingRequest request) {
        consumer.seek(tp, offset + 1);
        consumer.pause(List.of(tp));
        FutureTask<Boolean> result =
                new FutureTask<>(() -> jobs.driver().drive(jobId, request, () -> !lifecycle.isRunning()));
        jobs.threads().execute(result);
        inFlight.put(tp, new InFlight(offset, jobId, result));
        log.info("paused {} while job {} (request {} of {}) runs", tp, jobId, request.requestId(), request.project());
    }

    /** Dead-letters the record and commits it; when the dead letter cannot be written, backs off. */
    private boolean deadLetter(TopicPartition tp, ConsumerRecord<byte[], byte[]> r, Exception e) {
        try {
            deadLetters.publish(r, e, 1);
        } catch (DeadLetterBook.Unavailable unavailable) {
            schedule.backOff(Map.of(tp, r.offset()), List.of(tp), unavailable.getCause(), FailureKind.TRANSIENT);
            return false;
        }
        metrics.request("dead_lettered");
        commit(tp, r.offset());
        return true;
    }

    /** Commits the partitions whose job's row is final, and resumes them. */
    private void finishJobs() {
        for (Map.Entry<TopicPartition, InFlight> e : Map.copyOf(inFlight).entrySet()) {
            InFlight f = e.getValue();
            if (!f.result().isDone()) {
                continue;
            }
            TopicPartition tp = e.getKey();
            inFlight.remove(tp);
            boolean isFinal;
            try {
                isFinal = f.result().get();
            } catch (Exception ex) {
                log.error("job thread of job {} failed: {}", f.jobId(), ex.toString(), ex);
                isFinal = false;
            }
            if (!assignment.owns(tp)) {
                continue; // revoked meanwhile: the new owner watches the row and commits
            }
            if (isFinal) {
                commit(tp, f.offset());
                consumer.resume(List.of(tp));
                log.info("job {} is final; committed {}@{} and resumed", f.jobId(), tp, f.offset() + 1);
            } else if (lifecycle.isRunning()) {
                consumer.seek(tp, f.offset()); // not final and not stopping: take the request again
                consumer.resume(List.of(tp));
            }
        }
    }

    /** Commits {@code offset + 1}: the record at {@code offset} is done (its row final, or dead-lettered). */
    private void commit(TopicPartition tp, long offset) {
        Map<TopicPartition, Long> next = Map.of(tp, offset + 1);
        committer.commit(next); // not committed: the record comes again and finds its row final
        deadLetters.movedTo(next);
    }

    private void revoked(Collection<TopicPartition> partitions) {
        for (TopicPartition tp : partitions) {
            InFlight f = inFlight.get(tp);
            if (f != null) {
                log.info(
                        "partition {} revoked while job {} runs: the job goes on, the new owner commits",
                        tp,
                        f.jobId());
            }
        }
    }

    /** Shutdown: running jobs go back to queued (their requests are not committed, so they come again). */
    private void abandonJobs() {
        if (inFlight.isEmpty()) {
            return;
        }
        jobs.driver().abandonAll();
        Instant deadline = clock.instant().plus(shutdownTimeout.dividedBy(2));
        for (InFlight f : inFlight.values()) {
            try {
                long left =
                        Math.max(1, Duration.between(clock.instant(), deadline).toMillis());
                f.result().get(left, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                f.result().cancel(true);
                Thread.currentThread().interrupt();
            } catch (Exception e) {
                f.result().cancel(true);
            }
        }
        inFlight.clear();
    }
}
