package io.ragline.training.job;

import io.ragline.contracts.training.TrainingRequest;
import io.ragline.core.consumer.DeadLetters;
import io.ragline.core.consumer.FailureKind;
import io.ragline.core.consumer.FailurePolicy;
import io.ragline.core.consumer.PoisonRecordException;
import io.ragline.core.consumer.PollLoop;
import io.ragline.core.consumer.RecordDecoder;
import io.ragline.training.TrainingMetrics;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
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
 * <p>A worker that dies mid-job commits nothing, so the request is redelivered to another member,
 * whose job thread finds the row {@code running}: it watches it while its heartbeat is fresh, and
 * applies the stale-job policy when it is not ({@link JobStore#claim}). A partition revoked while
 * its job runs here lets the job finish; the new owner watches the row and commits.
 */
public final class TrainingConsumer implements PollLoop {
    private static final Logger log = LoggerFactory.getLogger(TrainingConsumer.class);
    private static final Duration POLL = Duration.ofMillis(200);

    private final org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer;
    private final List<String> topics;
    private final RecordDecoder<TrainingRequest> decoder;
    private final DeadLetters deadLetters;
    private final JobStore store;
    private final JobRunner runner;
    private final ExecutorService jobThreads;
    private final TrainingMetrics metrics;
    private final Duration shutdownTimeout;
    private final Consumer<Throwable> onFatal;
    private final FailurePolicy policy = FailurePolicy.defaults();

    private volatile boolean running = true;
    private final Map<TopicPartition, InFlight> inFlight = new ConcurrentHashMap<>();
    private final Map<TopicPartition, Long> retryAt = new HashMap<>();
    private final Map<TopicPartition, Integer> failures = new HashMap<>();
    private final Set<TopicPartition> assigned = new HashSet<>();

    /** The job of a paused partition: its record's offset and the job thread's result (row final?). */
    private record InFlight(long offset, long jobId, Future<Boolean> result) {}

    public TrainingConsumer(
            org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer,
            List<String> topics,
            RecordDecoder<TrainingRequest> decoder,
            DeadLetters deadLetters,
            JobStore store,
            JobRunner runner,
            ExecutorService jobThreads,
            TrainingMetrics metrics,
            Duration shutdownTimeout,
            Consumer<Throwable> onFatal) {
        this.consumer = consumer;
        this.topics = List.copyOf(topics);
        this.decoder = decoder;
        this.deadLetters = deadLetters;
        this.store = store;
        this.runner = runner;
        this.jobThreads = jobThreads;
        this.metrics = metrics;
        this.shutdownTimeout = shutdownTimeout;
        this.onFatal = onFatal;
    }

    @Override
    public void stop() {
        running = false;
        consumer.wakeup();
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Polls until {@link #stop()}; anything else that ends the loop, an Error included, is fatal. */
    @Override
    public void run() {
        try {
            consumer.subscribe(topics, new Rebalance());
            while (running) {
                pollOnce();
            }
        } catch (WakeupException e) {
            if (running) {
                log.error("training consumer woken up unexpectedly", e);
                onFatal.accept(e);
            }
        } catch (RuntimeException e) {
            running = false;
            log.error("training consumer failed: {}", e.toString(), e);
            onFatal.accept(e);
        } catch (Throwable e) { // an Error: not retried, never swallowed; the process stops (exit 1)
            running = false;
            log.error("training consumer died: {}", e.toString(), e);
            onFatal.accept(e);
        } finally {
            running = false;
            abandonJobs();
            try {
                consumer.close(CloseOptions.timeout(Duration.ofSeconds(10)));
            } catch (RuntimeException e) {
                log.warn("closing the training consumer failed: {}", e.toString());
            }
        }
    }

    private void pollOnce() {
        ConsumerRecords<byte[], byte[]> records;
        try {
            records = consumer.poll(POLL);
        } catch (WakeupException e) {
            if (running) {
                throw e;
            }
            return;
        } catch (KafkaException e) {
            if (policy.classify(e) == FailureKind.FATAL) {
                throw e;
            }
            log.warn("poll of {} failed, retrying: {}", topics, e.toString());
            return;
        }
        for (TopicPartition tp : records.partitions()) {
            for (ConsumerRecord<byte[], byte[]> r : records.records(tp)) {
                if (!handle(tp, r)) {
                    break; // the partition is paused at a later position; the rest comes again
                }
            }
        }
        finishJobs();
        resumeRetries();
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
            job = store.admit(request);
        } catch (PoisonRecordException e) {
            return deadLetter(tp, r, e); // its request id belongs to another request
        } catch (Exception e) {
            FailureKind kind = policy.classify(e);
            if (kind == FailureKind.FATAL) {
                throw new IllegalStateException("cannot admit training requests: " + e.getMessage(), e);
            }
            if (kind == FailureKind.POISON) {
                // The database refuses the request's content (SQLSTATE class 22 or 23, e.g. a NUL in
                // a text or jsonb value): every retry would be refused too, and hold the partition.
                return deadLetter(tp, r, e);
            }
            return retryLater(tp, r.offset(), e);
        }
        failures.remove(tp);
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
        consumer.seek(tp, r.offset() + 1);
        consumer.pause(List.of(tp));
        long jobId = job.id();
        Future<Boolean> result = jobThreads.submit(() -> runner.drive(jobId, request, () -> !running));
        inFlight.put(tp, new InFlight(r.offset(), jobId, result));
        log.info("paused {} while job {} (request {} of {}) runs", tp, jobId, request.requestId(), request.project());
        return false;
    }

    private boolean deadLetter(TopicPartition tp, ConsumerRecord<byte[], byte[]> r, Exception e) {
        try {
            deadLetters.publish(r, e, 1);
            metrics.request("dead_lettered");
            log.warn(
                    "dead-lettered {}-{}@{} to {}: {}",
                    r.topic(),
                    r.partition(),
                    r.offset(),
                    DeadLetters.topicOf(r.topic()),
                    e.getMessage());
            commit(tp, r.offset());
            return true;
        } catch (Exception dlq) {
            return retryLater(tp, r.offset(), dlq);
        }
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
            if (!assigned.contains(tp)) {
                continue; // revoked meanwhile: the new owner watches the row and commits
            }
            if (isFinal) {
                commit(tp, f.offset());
                consumer.resume(List.of(tp));
                log.info("job {} is final; committed {}@{} and resumed", f.jobId(), tp, f.offset() + 1);
            } else if (running) {
                consumer.seek(tp, f.offset()); // not final and not stopping: take the request again
                consumer.resume(List.of(tp));
            }
        }
    }

    private boolean retryLater(TopicPartition tp, long offset, Exception e) {
        int n = failures.merge(tp, 1, Integer::sum);
        long wait = Math.min(30_000, 500L << Math.min(6, n - 1));
        consumer.seek(tp, offset);
        consumer.pause(List.of(tp));
        retryAt.put(tp, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(wait));
        log.warn("paused {} for {} ms (attempt {}): {}", tp, wait, n, e.toString());
        return false;
    }

    private void resumeRetries() {
        long now = System.nanoTime();
        for (Map.Entry<TopicPartition, Long> e : Map.copyOf(retryAt).entrySet()) {
            if (now - e.getValue() >= 0) {
                retryAt.remove(e.getKey());
                if (assigned.contains(e.getKey())) {
                    consumer.resume(List.of(e.getKey()));
                }
            }
        }
    }

    private void commit(TopicPartition tp, long offset) {
        try {
            consumer.commitSync(Map.of(tp, new OffsetAndMetadata(offset + 1)), Duration.ofSeconds(30));
        } catch (WakeupException e) {
            if (running) {
                throw e;
            }
        } catch (KafkaException e) {
            if (policy.classify(e) == FailureKind.FATAL) {
                throw e;
            }
            // The record comes again and finds its row final: committing later is harmless.
            log.warn("offset {} of {} not committed: {}", offset + 1, tp, e.toString());
        }
    }

    /** Shutdown: running jobs go back to queued (their requests are not committed, so they come again). */
    private void abandonJobs() {
        if (inFlight.isEmpty()) {
            return;
        }
        runner.abandonAll();
        long deadline = System.nanoTime() + shutdownTimeout.dividedBy(2).toNanos();
        for (InFlight f : inFlight.values()) {
            try {
                f.result().get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (Exception e) {
                f.result().cancel(true);
            }
        }
        inFlight.clear();
    }

    private final class Rebalance implements ConsumerRebalanceListener {
        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            if (!partitions.isEmpty()) {
                log.info("revoked partitions {}", partitions);
            }
            partitions.forEach(tp -> {
                assigned.remove(tp);
                retryAt.remove(tp);
                failures.remove(tp);
                InFlight f = inFlight.get(tp);
                if (f != null) {
                    log.info(
                            "partition {} revoked while job {} runs: the job goes on, the new owner commits",
                            tp,
                            f.jobId());
                }
            });
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            if (!partitions.isEmpty()) {
                log.info("assigned partitions {}", partitions);
            }
            assigned.addAll(partitions);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> partitions) {
            log.warn("lost partitions {} (session expired)", partitions);
            onPartitionsRevoked(partitions);
        }
    }
}
