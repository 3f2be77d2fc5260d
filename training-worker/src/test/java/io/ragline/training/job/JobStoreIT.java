package io.ragline.training.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.db.Database;
import io.ragline.testkit.PostgresSchema;
import io.ragline.training.TrainingSettings;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Job rows on real Postgres: the stale-job policy (what a worker does with a job whose worker died),
 * and the lock that orders two jobs of a project recording their models.
 */
class JobStoreIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static HikariDataSource pool;

    @BeforeAll
    static void migrate() throws Exception {
        DatabaseUrl url = DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow();
        pool = Database.pool(url, db.schema(), 3, "job-store-it", null);
    }

    @AfterAll
    static void close() {
        pool.close();
    }

    static JobStore store(String policy, int maxAttempts) {
        Env env = new Env(Map.of(
                "RAGLINE_TRAINING_STALE_POLICY",
                policy,
                "RAGLINE_TRAINING_STALE_AFTER",
                "30s",
                "RAGLINE_TRAINING_MAX_ATTEMPTS",
                Integer.toString(maxAttempts)));
        TrainingSettings settings = TrainingSettings.from(env);
        env.validate();
        return new JobStore(pool, settings, new JobEvents());
    }

    static long job(String requestId, String heartbeatAgo, int attempts) throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            var rs = s.executeQuery("insert into training_jobs (request_id, project, task, backend, status, worker,"
                    + " attempts, heartbeat_at, started_at) values ('" + requestId + "', 'p', 'classification',"
                    + " 'builtin', 'running', 'dead-worker', " + attempts + ", now() - interval '" + heartbeatAgo
                    + "', now() - interval '1 hour') returning id");
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void aLiveWorkersJobIsWatchedNotTaken() throws Exception {
        long id = job("live", "2 seconds", 1);
        assertThat(store("retry", 3).claim(id, "me", true)).isEqualTo(JobStore.Claim.WATCH);
        assertThat(db.queryValue("select worker from training_jobs where id = " + id))
                .isEqualTo("dead-worker");
    }

    @Test
    void underRetryAStaleJobIsRunAgainAsANewAttempt() throws Exception {
        long id = job("stale-retry", "5 minutes", 1);
        assertThat(store("retry", 3).claim(id, "me", true)).isEqualTo(JobStore.Claim.RUN);
        assertThat(db.queryValue(
                        "select worker || ' ' || attempts || ' ' || status from training_jobs where id = " + id))
                .isEqualTo("me 2 running");
    }

    @Test
    void underRetryAStaleJobWithoutAttemptsLeftFailsNamingTheDeadWorker() throws Exception {
        long id = job("stale-spent", "5 minutes", 3);
        assertThat(store("retry", 3).claim(id, "me", true)).isEqualTo(JobStore.Claim.DONE);
        assertThat(db.queryValue("select status from training_jobs where id = " + id))
                .isEqualTo("failed");
        assertThat((String) db.queryValue("select error from training_jobs where id = " + id))
                .startsWith("worker dead-worker stopped heartbeating")
                .contains("attempt 3 of 3");
        assertThat(db.queryValue("select count(*) from outbox where payload->>'type' = 'training.failed' and"
                        + " (payload->>'job')::bigint = " + id))
                .isEqualTo(1L);
    }

    @Test
    void underFailAStaleJobFailsAtOnce() throws Exception {
        long id = job("stale-fail", "5 minutes", 1);
        assertThat(store("fail", 3).claim(id, "me", true)).isEqualTo(JobStore.Claim.DONE);
        assertThat(db.queryValue("select status from training_jobs where id = " + id))
                .isEqualTo("failed");
    }

    @Test
    void aStaleJobWithACancelRequestEndsCancelled() throws Exception {
        long id = job("stale-cancel", "5 minutes", 1);
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("select cancel_training_job(" + id + ")");
        }
        assertThat(store("retry", 3).claim(id, "me", true)).isEqualTo(JobStore.Claim.DONE);
        assertThat(db.queryValue("select status from training_jobs where id = " + id))
                .isEqualTo("cancelled");
    }

    // Two jobs of a project finishing at once: the second to record its model must see the first
    // one's deployment, even when the project had no deployed model to lock before.

    @Test
    void theSecondWriterWaitsForTheFirstAndSeesItsDeployedModel() throws Exception {
        try (Connection first = pool.getConnection();
                Connection second = pool.getConnection()) {
            first.setAutoCommit(false);
            second.setAutoCommit(false);
            assertThat(JobRunner.deployed(first, "fresh", true)).isEmpty();

            CompletableFuture<Optional<Long>> secondRead = CompletableFuture.supplyAsync(() -> {
                try {
                    return JobRunner.deployed(second, "fresh", true);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(500);
            assertThat(secondRead)
                    .as("the second writer waits while the first decides")
                    .isNotDone();

            long modelId;
            try (PreparedStatement s = first.prepareStatement("insert into models (project, backend, deployed,"
                    + " deployed_at) values ('fresh', 'builtin', true, now()) returning id")) {
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    modelId = rs.getLong(1);
                }
            }
            first.commit();

            assertThat(secondRead.get(10, TimeUnit.SECONDS)).contains(modelId);
            second.rollback();
        }
    }

    @Test
    void readingWithoutTheLockDoesNotWait() throws Exception {
        try (Connection first = pool.getConnection();
                Connection reader = pool.getConnection()) {
            first.setAutoCommit(false);
            JobRunner.deployed(first, "other", true);
            assertThat(CompletableFuture.supplyAsync(() -> {
                                try {
                                    return JobRunner.deployed(reader, "other", false);
                                } catch (Exception e) {
                                    throw new IllegalStateException(e);
                                }
                            })
                            .get(5, TimeUnit.SECONDS))
                    .isEmpty();
            first.rollback();
        }
    }
}
