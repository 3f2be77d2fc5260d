package io.ragline.training.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ragline.contracts.status.TrainingJobStatus;
import io.ragline.contracts.training.TrainingRequest;
import io.ragline.contracts.training.TrainingRequestCodec;
import io.ragline.core.consumer.ConsumerLoop;
import io.ragline.core.consumer.ConsumerMetrics;
import io.ragline.core.consumer.ContractDecoder;
import io.ragline.core.consumer.LoopFailure;
import io.ragline.core.consumer.PoisonRecordException;
import io.ragline.core.resilience.Backoff;
import io.ragline.testkit.MovableClock;
import io.ragline.training.TrainingMetrics;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.MockConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The training loop against MockConsumer with a hand-moved clock: no broker, no database, no
 * sleeps. Rows live in {@link Rows}, jobs in {@link Driver}; job threads are a queue the test runs
 * ({@link JobThreads}), so "the job is still running" is simply "its task has not run yet".
 */
class TrainingConsumerTest {
    static final String TOPIC = "training";
    static final TopicPartition P0 = new TopicPartition(TOPIC, 0);
    static final TopicPartition P1 = new TopicPartition(TOPIC, 1);
    static final Duration INITIAL_BACKOFF = Duration.ofSeconds(1);
    static final String PROJECT = "alpha";

    final RecordingConsumer consumer = new RecordingConsumer();
    final MovableClock clock = new MovableClock();
    final Rows rows = new Rows();
    final Driver driver = new Driver();
    final JobThreads jobThreads = new JobThreads();
    final List<String> deadLetters = new ArrayList<>();
    boolean deadLettersDown;
    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final AtomicReference<Throwable> fatal = new AtomicReference<>();
    ExecutorService realThreads;
    TrainingConsumer loop;

    @AfterEach
    void stopThreads() {
        if (realThreads != null) {
            realThreads.shutdownNow();
        }
    }

    private void start(Executor threads) {
        loop = assigned(
                consumer,
                (record, reason, attempts) -> {
                    if (deadLettersDown) {
                        throw new org.apache.kafka.common.errors.TimeoutException("no broker answers");
                    }
                    deadLetters.add(record.partition() + "@" + record.offset() + "|"
                            + reason.getClass().getSimpleName());
                },
                new TrainingConsumer.Jobs(rows, driver, threads),
                Duration.ofSeconds(20),
                clock,
                registry,
                fatal::set);
    }

    /**
     * A training loop on {@code consumer} (at most 3 unknown attempts, backoff from {@link
     * #INITIAL_BACKOFF}), subscribed and assigned P0 and P1 from offset 0.
     */
    static TrainingConsumer assigned(
            MockConsumer<byte[], byte[]> consumer,
            io.ragline.core.consumer.DeadLetters deadLetters,
            TrainingConsumer.Jobs jobs,
            Duration shutdownTimeout,
            Clock clock,
            SimpleMeterRegistry registry,
            java.util.function.Consumer<Throwable> onFatal) {
        TrainingConsumer loop = new TrainingConsumer(
                consumer,
                List.of(TOPIC),
                new ContractDecoder<>(new TrainingRequestCodec()),
                deadLetters,
                jobs,
                new ConsumerLoop.Settings(
                        Duration.ZERO,
                        Duration.ofSeconds(1),
                        Duration.ofSeconds(1),
                        Backoff.of(INITIAL_BACKOFF, Duration.ofSeconds(30)),
                        3),
                shutdownTimeout,
                clock,
                new TrainingMetrics(registry),
                new ConsumerMetrics(registry, "training-test"),
                onFatal);
        loop.subscribe();
        consumer.rebalance(List.of(P0, P1));
        consumer.updateBeginningOffsets(Map.of(P0, 0L, P1, 0L));
        return loop;
    }

    @Test
    void anAdmittedJobPausesItsPartitionAndCommitsOffsetPlusOneOnlyWhenItsRowIsFinal() {
        start(jobThreads);
        add(P0, 0, request("r1"));
        add(P0, 1, request("r2")); // same project (key), same partition: waits for r1

        loop.pollOnce();

        assertThat(rows.admitted).containsExactly("r1");
        assertThat(consumer.paused()).containsExactly(P0);
        assertThat(consumer.position(P0)).isEqualTo(1L);
        loop.pollOnce(); // the job runs: polling goes on, nothing is committed
        assertThat(consumer.commits).isEmpty();

        jobThreads.runAll(); // the job's row becomes final
        loop.pollOnce();

        assertThat(driver.driven).containsExactly(1L);
        assertThat(consumer.commits).containsExactly(Map.of(P0, 1L));
        assertThat(consumer.paused()).isEmpty();
        add(P0, 1, request("r2")); // a broker delivers it again from the resumed position
        loop.pollOnce();
        assertThat(rows.admitted).containsExactly("r1", "r2");
        assertThat(consumer.paused()).containsExactly(P0);
        assertThat(requests("admitted")).isEqualTo(2);
    }

    @Test
    void aJobThatEndsWithItsRowNotFinalTakesItsRequestAgain() {
        start(jobThreads);
        driver.notFinal.add(1L);
        add(P0, 0, request("r1"));
        loop.pollOnce();

        jobThreads.runAll();
        loop.pollOnce();

        assertThat(consumer.commits).isEmpty();
        assertThat(consumer.paused()).isEmpty();
        assertThat(consumer.position(P0)).isZero();
    }

    @Test
    void aRequestWhoseRowIsAlreadyFinalIsCommittedAtOnceWithoutAJob() {
        start(jobThreads);
        rows.finalRows.add("r1");
        add(P0, 0, request("r1"));

        loop.pollOnce();

        assertThat(consumer.commits).containsExactly(Map.of(P0, 1L));
        assertThat(consumer.paused()).isEmpty();
        assertThat(jobThreads.pending).isEmpty();
        assertThat(requests("duplicate")).isEqualTo(1);
    }

    @Test
    void aTransientAdmissionFailureRewindsAndPausesAndResumesOnlyAfterTheClockPassesTheBackoff() {
        start(jobThreads);
        rows.failOnce("r1", new SQLException("connection refused", "08001"));
        add(P0, 0, request("r1"));
        add(P1, 0, request("r9"));

        loop.pollOnce();

        assertThat(consumer.position(P0)).isZero();
        assertThat(consumer.paused()).contains(P0);
        assertThat(rows.admitted).containsExactly("r9"); // the other partition goes on
        assertThat(consumer.commits).isEmpty();

        // The first wait is the backoff's first: 1 s with ±50 % jitter, so between 0.5 s and 1.5 s.
        clock.advance(INITIAL_BACKOFF.dividedBy(2).minusMillis(1));
        loop.pollOnce();
        assertThat(consumer.paused()).contains(P0);

        clock.advance(INITIAL_BACKOFF.plusMillis(1)); // 1.5 s after the failure
        loop.pollOnce();
        assertThat(consumer.paused()).doesNotContain(P0);
        add(P0, 0, request("r1")); // delivered again from the rewound position
        loop.pollOnce();

        assertThat(rows.admitted).containsExactly("r9", "r1");
        assertThat(consumer.paused()).contains(P0); // now for its job
        assertThat(deadLetters).isEmpty();
    }

    @Test
    void aRecordThatIsNotATrainingRequestIsDeadLetteredAndCommittedAndTheNextIsAdmitted() {
        start(jobThreads);
        add(P0, 0, "{not json");
        add(P0, 1, request("r2"));

        loop.pollOnce();

        assertThat(deadLetters).containsExactly("0@0|PoisonRecordException");
        assertThat(consumer.commits).containsExactly(Map.of(P0, 1L));
        assertThat(rows.admitted).containsExactly("r2");
        assertThat(requests("dead_lettered")).isEqualTo(1);
    }

    @Test
    void aPoisonRecordWhoseDeadLetterCannotBeWrittenIsRetriedAfterTheBackoffNotSkipped() {
        start(jobThreads);
        deadLettersDown = true;
        add(P0, 0, "{not json");

        loop.pollOnce();

        assertThat(consumer.commits).isEmpty();
        assertThat(consumer.paused()).containsExactly(P0);
        assertThat(consumer.position(P0)).isZero();

        deadLettersDown = false;
        clock.advance(INITIAL_BACKOFF.multipliedBy(3).dividedBy(2));
        loop.pollOnce(); // resumes
        add(P0, 0, "{not json");
        loop.pollOnce();

        assertThat(deadLetters).containsExactly("0@0|PoisonRecordException");
        assertThat(consumer.commits).containsExactly(Map.of(P0, 1L));
    }

    @Test
    void aRequestIdUsedForAnotherRequestIsDeadLetteredAndCommitted() {
        start(jobThreads);
        rows.conflicting.add("r1");
        add(P0, 0, request("r1"));

        loop.pollOnce();

        assertThat(deadLetters).containsExactly("0@0|PoisonRecordException");
        assertThat(consumer.commits).containsExactly(Map.of(P0, 1L));
        assertThat(consumer.paused()).isEmpty();
    }

    @Test
    void aFatalAdmissionFailureStopsTheLoopWithoutCommitting() {
        start(jobThreads);
        rows.failOnce("r1", new SQLException("relation \"training_jobs\" does not exist", "42P01"));
        add(P0, 0, request("r1"));

        assertThatThrownBy(loop::pollOnce)
                .isInstanceOf(LoopFailure.class)
                .hasMessageContaining("cannot admit training requests");
        assertThat(consumer.commits).isEmpty();
    }

    @Test
    void theJobOfAPartitionRevokedMeanwhileIsNotCommittedByThisMember() {
        start(jobThreads);
        add(P0, 0, request("r1"));
        loop.pollOnce();

        consumer.rebalance(List.of(P1)); // P0 goes to another member, which watches the row
        jobThreads.runAll(); // the job finishes here all the same
        loop.pollOnce();

        assertThat(driver.driven).containsExactly(1L);
        assertThat(consumer.commits).isEmpty();
    }

    @Test
    void stopAbandonsRunningJobsAndCommitsNothing() throws Exception {
        realThreads = Executors.newSingleThreadExecutor();
        driver.blockUntilAbandoned = true;
        start(realThreads);
        add(P0, 0, request("r1"));
        loop.pollOnce();
        assertThat(driver.running.await(10, TimeUnit.SECONDS)).isTrue();

        loop.stop();
        loop.run(); // stopped before its first poll: only the shutdown runs

        assertThat(driver.abandoned.getCount()).isZero();
        assertThat(driver.sawStopping).containsExactly(true);
        assertThat(consumer.commits).isEmpty();
        assertThat(consumer.closed()).isTrue();
        assertThat(fatal.get()).isNull();
    }

    private void add(TopicPartition tp, long offset, String value) {
        consumer.addRecord(new ConsumerRecord<>(
                tp.topic(),
                tp.partition(),
                offset,
                PROJECT.getBytes(StandardCharsets.UTF_8), // the decoder wants the project as the key
                value.getBytes(StandardCharsets.UTF_8)));
    }

    private static String request(String requestId) {
        return "{\"schema_version\":1,\"request_id\":\"" + requestId + "\",\"project\":\"" + PROJECT
                + "\",\"task\":\"classification\",\"backend\":\"builtin\","
                + "\"data\":{\"collection\":\"packages\",\"label_path\":\"meta.section\"}}";
    }

    private double requests(String outcome) {
        var counter = registry.find("ragline.training.requests")
                .tag("outcome", outcome)
                .counter();
        return counter == null ? 0 : counter.count();
    }

    /** MockConsumer that remembers every offset commit (its own view hides unassigned partitions). */
    static final class RecordingConsumer extends MockConsumer<byte[], byte[]> {
        final List<Map<TopicPartition, Long>> commits = new ArrayList<>();

        RecordingConsumer() {
            super("earliest");
        }

        @Override
        public synchronized void commitSync(Map<TopicPartition, OffsetAndMetadata> offsets, Duration timeout) {
            Map<TopicPartition, Long> next = new HashMap<>();
            offsets.forEach((tp, o) -> next.put(tp, o.offset()));
            commits.add(next);
            super.commitSync(offsets, timeout);
        }
    }

    /** The {@code training_jobs} rows, in memory: ids in admission order. */
    static final class Rows implements JobAdmission {
        final List<String> admitted = new ArrayList<>();
        final List<String> finalRows = new ArrayList<>();
        final List<String> conflicting = new ArrayList<>();
        private final Map<String, SQLException> failing = new HashMap<>();

        /** The next admission of {@code requestId} fails with {@code e}. */
        void failOnce(String requestId, SQLException e) {
            failing.put(requestId, e);
        }

        @Override
        public JobStore.Job admit(TrainingRequest request) throws SQLException, PoisonRecordException {
            SQLException failure = failing.remove(request.requestId());
            if (failure != null) {
                throw failure;
            }
            if (conflicting.contains(request.requestId())) {
                throw new PoisonRecordException("request_id '" + request.requestId() + "' is already another job");
            }
            if (finalRows.contains(request.requestId())) {
                return new JobStore.Job(99, TrainingJobStatus.SUCCEEDED, false, 1, "elsewhere");
            }
            admitted.add(request.requestId());
            return new JobStore.Job(admitted.size(), TrainingJobStatus.QUEUED, false, 0, null);
        }
    }

    /** Jobs that end at once (final unless listed), or block until abandoned. */
    static final class Driver implements JobDriver {
        final List<Long> driven = new CopyOnWriteArrayList<>();
        final List<Long> notFinal = new ArrayList<>();
        final List<Boolean> sawStopping = new CopyOnWriteArrayList<>();
        final CountDownLatch running = new CountDownLatch(1);
        final CountDownLatch abandoned = new CountDownLatch(1);
        volatile boolean blockUntilAbandoned;

        @Override
        public boolean drive(long id, TrainingRequest request, BooleanSupplier stopping) throws InterruptedException {
            driven.add(id);
            running.countDown();
            if (blockUntilAbandoned) {
                abandoned.await();
                sawStopping.add(stopping.getAsBoolean());
                return false; // back to queued
            }
            return !notFinal.contains(id);
        }

        @Override
        public void abandonAll() {
            abandoned.countDown();
        }
    }

    /** Job threads the test runs by hand. */
    static final class JobThreads implements Executor {
        final Queue<Runnable> pending = new ArrayDeque<>();

        @Override
        public void execute(Runnable task) {
            pending.add(task);
        }

        void runAll() {
            while (!pending.isEmpty()) {
                pending.poll().run();
            }
        }
    }
}
