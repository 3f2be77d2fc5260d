package io.ragline.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.ragline.core.WorkerRuntime;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import io.ragline.testkit.TcpProxy;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.slf4j.LoggerFactory;

/**
 * A training-worker whose database goes away mid-job: it reaches Postgres through a TCP proxy that
 * the test cuts (open connections drop, new ones are refused) while the shared server keeps running.
 * What JobRunner and JobFinisher promise: a database error while the job trains is transient, so
 * the job goes back to {@code queued} and runs again (a new attempt); a database that is down when
 * training ends delays the outcome, which is written once it is back, with no new attempt. Either
 * way the job is neither lost nor left {@code running}: it ends {@code succeeded} once, with one
 * model and one {@code training.succeeded} event, and its request is committed.
 */
class TrainingDatabaseOutageIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static TcpProxy proxy;
    static WorkerRuntime runtime;
    static String topic;
    static String group;
    static final List<String> logged = new CopyOnWriteArrayList<>();
    static final AppenderBase<ILoggingEvent> capture = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent e) {
            logged.add(e.getFormattedMessage());
        }
    };

    @BeforeAll
    static void start() throws Exception {
        String id = UUID.randomUUID().toString().substring(0, 8);
        String prefix = "troutage" + id + ".";
        topic = prefix + "training";
        group = "troutage" + id + "-training";
        proxy = TcpProxy.forDatabase();
        Map<String, String> env = TrainingJobsIT.env(db, prefix);
        env.put("DATABASE_URL", proxy.databaseUrl(db.databaseUrl()));
        env.put("RAGLINE_GROUP_PREFIX", "troutage" + id);
        capture.start();
        jobLogger().addAppender(capture);
        runtime = TrainingFixtures.startWorker("training-outage-it", env);
        CorpusLoader.createCollection(db, TrainingJobsIT.COLLECTION); // directly, not through the proxy
        CorpusLoader.load(
                db,
                TrainingJobsIT.COLLECTION,
                PackageCorpus.read(List.of("games", "science"), 20).packages(),
                "section");
    }

    @AfterEach
    void databaseBack() {
        proxy.restore(); // a failed test leaves the next one a database
    }

    @AfterAll
    static void stop() {
        jobLogger().detachAppender(capture);
        if (runtime != null) {
            runtime.close();
        }
        if (proxy != null) {
            proxy.close();
        }
    }

    private static Logger jobLogger() {
        return (Logger) LoggerFactory.getLogger("io.ragline.training.job");
    }

    @Test
    void theJobsConnectionDropsWhileItReadsItsDataAndTheJobIsRequeuedAndRunAgain() throws Exception {
        double requeued = jobs("requeued");
        RecordMetadata sent;
        try (Connection locker = db.connect();
                Statement s = locker.createStatement()) {
            // Holds the job's first query (its training data) until the connection is cut under it.
            locker.setAutoCommit(false);
            s.execute("lock table chunk_embeddings in access exclusive mode");
            int lockerPid;
            try (var rs = s.executeQuery("select pg_backend_pid()")) {
                rs.next();
                lockerPid = rs.getInt(1);
            }
            sent = send("reader", "{\"epochs\":20}");
            await().atMost(Duration.ofMinutes(1))
                    .until(() -> (long) TrainingFixtures.value(
                                    db,
                                    "select count(*) from pg_stat_activity where ?::int = any(pg_blocking_pids(pid))",
                                    lockerPid)
                            >= 1);
            assertThat(status("reader-1")).isEqualTo("running");
            proxy.cut();
            locker.rollback();
        }
        long jobId = (long) value("select id from training_jobs where request_id = 'reader-1'");
        // The job saw the error and tries to put its row back to queued while the database is away.
        await("the requeue retried while the database is away")
                .atMost(Duration.ofMinutes(2))
                .until(() -> loggedFor(jobId, "transient failure, requeued") && loggedFor(jobId, "failed (try 3)"));
        assertThat(status("reader-1")).isEqualTo("running");
        proxy.restore();

        await().atMost(Duration.ofMinutes(3)).until(() -> "succeeded".equals(status("reader-1")));
        assertThat(jobs("requeued")).isEqualTo(requeued + 1);
        assertThat(value("select attempts from training_jobs where request_id = 'reader-1'"))
                .isEqualTo(2);
        assertEndedOnce("reader", sent);
    }

    @Test
    void theDatabaseIsDownWhenTrainingEndsAndTheOutcomeIsWrittenWhenItIsBack() throws Exception {
        double requeued = jobs("requeued");
        RecordMetadata sent = send("writer", "{\"epochs\":100,\"epoch_pause_ms\":50}");
        // Training (about 5 s) has begun once a heartbeat followed the start: the data is read.
        await().atMost(Duration.ofMinutes(1))
                .until(() -> Boolean.TRUE.equals(value("select status = 'running' and heartbeat_at > started_at"
                        + " from training_jobs where request_id = 'writer-1'")));
        long jobId = (long) value("select id from training_jobs where request_id = 'writer-1'");
        // Every heartbeat of a running job, as the database saw it: the outcome's write, which sets
        // heartbeat_at as it ends the job, can follow a heartbeat within milliseconds, between two
        // polls of the row.
        db.execute("create table heartbeats_seen (job_id bigint, at timestamptz)");
        db.execute("create function heartbeat_seen() returns trigger language plpgsql security definer set"
                + " search_path = " + db.schema() + " as $$ begin if new.status = 'running' then insert into"
                + " heartbeats_seen values (new.id, clock_timestamp()); end if; return new; end $$");
        db.execute("create trigger heartbeat_seen after update of heartbeat_at on training_jobs for each row"
                + " execute function heartbeat_seen()");
        proxy.cut();
        await("the outcome's write retried while the database is away")
                .atMost(Duration.ofMinutes(3))
                .until(() -> loggedFor(jobId, "recording the outcome of") && loggedFor(jobId, "failed (try 7)"));
        assertThat(status("writer-1")).isEqualTo("running");
        assertThat(value("select count(*) from models where project = 'writer'"))
                .isEqualTo(0L);
        proxy.restore();
        // The next try is 8-24 s away (16 s with jitter), beyond the 5 s after which another worker would
        // take the job for dead: the heartbeat, still running while the outcome waits, shows it alive.
        // Its first connection after the restore may take up to 5 s (HikariCP backs off to 5 s between
        // the attempts that failed during the outage); after try 6 the next was 4-12 s away, and the
        // outcome could take that first connection before the heartbeat did.
        Object back = value("select extract(epoch from now())");
        await("a heartbeat while the outcome waits for its next try")
                .atMost(Duration.ofSeconds(8))
                .until(() -> (long) db.queryValue("select count(*) from heartbeats_seen where job_id = " + jobId
                                + " and at > to_timestamp(" + back + ")")
                        > 0);

        await().atMost(Duration.ofMinutes(2)).until(() -> "succeeded".equals(status("writer-1")));
        assertThat(jobs("requeued")).isEqualTo(requeued);
        assertThat(value("select attempts from training_jobs where request_id = 'writer-1'"))
                .isEqualTo(1);
        assertEndedOnce("writer", sent);
    }

    /** Succeeded once: one row, one model, one success event and no other, its request committed. */
    private static void assertEndedOnce(String project, RecordMetadata sent) throws Exception {
        assertThat(value("select count(*) from training_jobs where project = ?", project))
                .isEqualTo(1L);
        assertThat(value("select error from training_jobs where project = ?", project))
                .isNull();
        assertThat(value("select count(*) from models where project = ?", project))
                .isEqualTo(1L);
        assertThat(TrainingFixtures.events(db, "training.succeeded", project)).hasSize(1);
        assertThat(value(
                        "select count(*) from outbox where key = ? and payload->>'type' <> 'training.succeeded'",
                        project))
                .isEqualTo(0L);
        await().atMost(Duration.ofMinutes(1))
                .until(() -> TrainingFixtures.committed(group, topic, sent.partition()) > sent.offset());
    }

    private static RecordMetadata send(String project, String hyperparameters) throws Exception {
        try (KafkaProducer<String, String> p = KafkaTopics.producer()) {
            return p.send(new ProducerRecord<>(
                            topic, project, TrainingJobsIT.request(project + "-1", project, hyperparameters)))
                    .get();
        }
    }

    /** Whether the job package logged {@code text} about job {@code jobId}. */
    private static boolean loggedFor(long jobId, String text) {
        return logged.stream().anyMatch(m -> m.contains("job " + jobId + " (") && m.contains(text));
    }

    private static double jobs(String outcome) {
        return TrainingFixtures.count(runtime, "ragline.training.jobs", "outcome", outcome);
    }

    private static Object value(String sql, Object... args) throws Exception {
        return TrainingFixtures.value(db, sql, args);
    }

    private static String status(String requestId) throws Exception {
        return (String) value("select status from training_jobs where request_id = ?", requestId);
    }
}
