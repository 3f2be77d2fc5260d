package io.ragline.training.job;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.Database;
import io.ragline.core.db.Migrations;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two jobs of a project finishing at once, on real Postgres: the second to record its model must
 * see the first one's deployment, even when the project had no deployed model to lock before.
 */
class DeployedModelLockIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static HikariDataSource pool;

    @BeforeAll
    static void migrate() throws Exception {
        DatabaseUrl url = DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow();
        new Migrations(url, db.schema(), "deployed-lock-it").migrate();
        pool = Database.pool(url, db.schema(), 3, "deployed-lock-it", null);
    }

    @AfterAll
    static void close() {
        pool.close();
    }

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
