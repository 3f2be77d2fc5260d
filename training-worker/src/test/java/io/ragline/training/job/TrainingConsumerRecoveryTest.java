package io.ragline.training.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ragline.contracts.training.TrainingRequest;
import io.ragline.testkit.MovableClock;
import io.ragline.training.job.TrainingConsumerTest.JobThreads;
import io.ragline.training.job.TrainingConsumerTest.RecordingConsumer;
import io.ragline.training.job.TrainingConsumerTest.Rows;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The training loop when things go wrong around its jobs: partitions revoked and handed back,
 * admissions failing for reasons nothing classifies, job threads that throw, and shutdown. Same
 * fixtures as {@link TrainingConsumerTest}: MockConsumer, a hand-moved clock, job threads run by
 * hand (or real ones where shutdown waits for them).
 */
class TrainingConsumerRecoveryTest {
    static final TopicPartition P0 = TrainingConsumerTest.P0;
    static final TopicPartition P1 = TrainingConsumerTest.P1;
    static final Duration INITIAL_BACKOFF = TrainingConsumerTest.INITIAL_BACKOFF;

    final RecordingConsumer consumer = new RecordingConsumer();
    final MovableClock clock = new MovableClock();
    final Rows rows = new Rows();
    final Jobs driver = new Jobs();
    final JobThreads jobThreads = new JobThreads();
    final List<String> deadLetters = new ArrayList<>();
    final AtomicReference<Throwable> fatal = new AtomicReference<>();
    ExecutorService realThreads;
    TrainingConsumer loop;

    @AfterEach
    void stopThreads() {
        if (realThreads != null) {
            realThreads.shutdownNow();
        }
    }

    private void start(Executor threads, Duration shutdownTimeout) {
        loop = TrainingConsumerTest.assigned(
                consumer,
                (record, reason, attempts) -> deadLetters.add(record.partition() + "@" + record.offset() + "|"
                        + reason.getClass().getSimpleName() + "|" + attempts),
                new TrainingConsumer.Jobs(rows, driver, threads),
                shutdownTimeout,
                clock, // never moved by the shutdown tests: the shutdown's wait is real time
                new SimpleMeterRegistry(),
                fatal::set);
    }

    @Test
    void theOldJobOfAPartitionHandedBackNeitherCommitsNorResumesIt() {
        start(jobThreads, Duration.ofSeconds(20));
        add(P0, 0, "r1");
        loop.pollOnce(); // job 1 runs, P0 held for it

        consumer.rebalance(List.of(P1)); // P0 lost ...
        consumer.rebalance(List.of(P0, P1)); // ... and handed back, from its committed offset (none: 0)
        rows.failOnce("r1", new SQLException("connection refused", "08001"));
        add(P0, 0, "r1");
        loop.pollOnce(); // the request again: its admission fails, P0 backs off

        jobThreads.runAll(); // the old job ends, its row final
        loop.pollOnce();

        assertThat(consumer.commits).isEmpty(); // the partition's position is the backoff's, not the old job's
        assertThat(consumer.paused()).containsExactly(P0);
        assertThat(consumer.position(P0)).isZero();

        clock.advance(INITIAL_BACKOFF.multipliedBy(3).dividedBy(2));
        loop.pollOnce(); // the backoff passed
        add(P0, 0, "r1");
        loop.pollOnce();
        assertThat(consumer.paused()).containsExactly(P0); // held for job 2
        clock.advance(Duration.ofMinutes(1));
        loop.pollOnce();
        assertThat(consumer.paused()).containsExactly(P0); // no backoff's end resumes a held partition
        jobThreads.runAll();
        loop.pollOnce();
        assertThat(consumer.commits).containsExactly(Map.of(P0, 1L));
        assertThat(consumer.paused()).isEmpty();
    }

    @Test
    void aRequestWhoseAdmissionFailsForAnUnknownReasonIsDeadLetteredAtItsLastAttempt() {
        start(jobThreads, Duration.ofSeconds(20));
        for (int attempt = 1; attempt <= 2; attempt++) {
            rows.failOnce("r1", new SQLException("something odd", "XX000"));
            add(P0, 0, "r1");
            loop.pollOnce(); // backs off
            assertThat(consumer.paused()).containsExactly(P0);
            clock.advance(Duration.ofSeconds(10)); // past any backoff of the first attempts
            loop.pollOnce(); // resumes
        }
        rows.failOnce("r1", new SQLException("something odd", "XX000"));
        add(P0, 0, "r1");
        add(P0, 1, "r2");
        loop.pollOnce(); // the third attempt: dead-lettered, committed, and the next request goes on

        assertThat(deadLetters).containsExactly("0@0|SQLException|3");
        assertThat(consumer.commits).containsExactly(Map.of(P0, 1L));
        assertThat(rows.admitted).containsExactly("r2");
    }

    @Test
    void aJobThreadThatThrowsTakesItsRequestAgainOnlyAfterTheBackoff() {
        start(jobThreads, Duration.ofSeconds(20));
        driver.throwing.add(1L);
        add(P0, 0, "r1");
        loop.pollOnce();

        jobThreads.runAll(); // the job thread throws
        loop.pollOnce();

        assertThat(consumer.commits).isEmpty();
        assertThat(consumer.paused()).containsExactly(P0);
        assertThat(consumer.position(P0)).isZero();
        clock.advance(INITIAL_BACKOFF.multipliedBy(3).dividedBy(2));
        loop.pollOnce();
        assertThat(consumer.paused()).isEmpty();
    }

    @Test
    void shutdownWaitsForAJobReplacedAfterItsPartitionCameBackAndCancelsItAtTheDeadline() throws Exception {
        realThreads = Executors.newCachedThreadPool();
        driver.blockUntilAbandoned = true;
        start(realThreads, Duration.ofSeconds(1)); // 0.5 s for the jobs
        driver.ignoresAbandon.add(1L); // job 1 only ends when cancelled
        add(P0, 0, "r1");
        loop.pollOnce();
        consumer.rebalance(List.of(P1));
        consumer.rebalance(List.of(P0, P1));
        add(P0, 0, "r1");
        loop.pollOnce(); // job 2 for the same record; job 1 runs on
        assertThat(driver.started.await(10, TimeUnit.SECONDS)).isTrue();

        loop.stop();
        loop.run();

        assertThat(driver.queued).contains(2L);
        // Job 1 was waited for too, within the same deadline, and cancelled when it passed.
        await().atMost(Duration.ofSeconds(10)).until(() -> driver.interrupted.contains(1L));
        assertThat(consumer.commits).isEmpty();
        assertThat(fatal.get()).isNull();
    }

    @Test
    void shutdownWaitsForRunningJobsOnceWithinHalfItsBudgetOfRealTimeWhateverTheClockSays() throws Exception {
        realThreads = Executors.newCachedThreadPool();
        driver.blockUntilAbandoned = true;
        start(realThreads, Duration.ofSeconds(4)); // 2 s for the jobs, whose clock never moves
        driver.ignoresAbandon.addAll(List.of(1L, 2L));
        add(P0, 0, "r1");
        add(P1, 0, "r2");
        loop.pollOnce();
        assertThat(driver.started.await(10, TimeUnit.SECONDS)).isTrue();

        loop.stop();
        long begin = System.nanoTime();
        loop.run();
        Duration took = Duration.ofNanos(System.nanoTime() - begin);

        // One deadline for both jobs (2 s), not half the budget for each in turn (4 s).
        assertThat(took).isBetween(Duration.ofSeconds(2), Duration.ofMillis(3500));
        await().atMost(Duration.ofSeconds(10)).until(() -> driver.interrupted.containsAll(Set.of(1L, 2L)));
    }

    private void add(TopicPartition tp, long offset, String requestId) {
        String value = "{\"schema_version\":1,\"request_id\":\"" + requestId + "\",\"project\":\""
                + TrainingConsumerTest.PROJECT + "\",\"task\":\"classification\",\"backend\":\"builtin\","
                + "\"data\":{\"collection\":\"packages\",\"label_path\":\"meta.section\"}}";
        consumer.addRecord(new ConsumerRecord<>(
                tp.topic(),
                tp.partition(),
                offset,
                TrainingConsumerTest.PROJECT.getBytes(StandardCharsets.UTF_8),
                value.getBytes(StandardCharsets.UTF_8)));
    }

    /**
     * Jobs that end final at once, or throw, or (real threads) wait for {@link #abandonAll} and go
     * back to queued, or ignore it and end only when interrupted.
     */
    static final class Jobs implements JobDriver {
        final Set<Long> throwing = ConcurrentHashMap.newKeySet();
        final Set<Long> ignoresAbandon = ConcurrentHashMap.newKeySet();
        final Set<Long> queued = ConcurrentHashMap.newKeySet();
        final Set<Long> interrupted = ConcurrentHashMap.newKeySet();
        final CountDownLatch started = new CountDownLatch(1);
        private final CountDownLatch abandoned = new CountDownLatch(1);
        private final CountDownLatch never = new CountDownLatch(1);
        volatile boolean blockUntilAbandoned;

        @Override
        public boolean drive(long id, TrainingRequest request, BooleanSupplier stopping) {
            started.countDown();
            if (throwing.contains(id)) {
                throw new IllegalStateException("job thread of job " + id + " broke");
            }
            if (!blockUntilAbandoned) {
                return true; // final at once
            }
            try {
                abandoned.await();
                if (ignoresAbandon.contains(id)) {
                    never.await();
                }
                queued.add(id);
            } catch (InterruptedException e) {
                interrupted.add(id);
            }
            return false;
        }

        @Override
        public void abandonAll() {
            abandoned.countDown();
        }
    }
}
