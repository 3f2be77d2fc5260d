package io.ragline.training.pgml;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariDataSource;
import io.ragline.contracts.training.TrainingRequest;
import io.ragline.contracts.training.TrainingRequestCodec;
import io.ragline.core.config.DatabaseTimeouts;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.consumer.FailureKind;
import io.ragline.core.consumer.FailurePolicy;
import io.ragline.core.db.Database;
import io.ragline.testkit.PostgresSchema;
import io.ragline.testkit.TcpProxy;
import io.ragline.training.job.JobContext;
import io.ragline.training.job.TrainingBackend;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A pgml call whose connection the network silently drops (TcpProxy.blackhole()): the server's
 * statement timeout ends the call, but its answer never arrives. The job thread must not wait for
 * ever: the socket timeout (statement timeout + margin) ends it as a transient failure, and a
 * cancel ends it at once.
 */
class PgmlNetworkLossIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final Duration STATEMENT_TIMEOUT = Duration.ofSeconds(2);
    static String pgml;
    static TcpProxy proxy;
    static HikariDataSource pool;
    static PgmlBackend backend;

    @BeforeAll
    static void start() throws Exception {
        pgml = "pgml_" + UUID.randomUUID().toString().substring(0, 8);
        String sql;
        try (var in = PgmlNetworkLossIT.class.getResourceAsStream("/pgml-standin.sql")) {
            sql = new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("__PGML__", pgml);
        }
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute(sql);
            s.execute("create table public." + pgml + "_houses (size int, price float8)");
            // The worker login's grants where PostgresML is installed, as in PgmlBackendIT.
            s.execute("grant usage on schema " + pgml + " to ragline_worker");
            s.execute("grant execute on all functions in schema " + pgml + " to ragline_worker");
            s.execute("grant select, insert, update, delete on all tables in schema " + pgml + " to ragline_worker");
            s.execute("grant usage on all sequences in schema " + pgml + " to ragline_worker");
            s.execute("grant select on public." + pgml + "_houses to ragline_worker");
        }
        proxy = TcpProxy.forDatabase();
        pool = Database.pool(url(db.databaseUrl()), db.schema(), 2, "pgml-network-it", null);
        backend = new PgmlBackend(url(proxy.databaseUrl(db.databaseUrl())), db.schema(), pgml, pool, STATEMENT_TIMEOUT);
    }

    @AfterEach
    void restore() {
        proxy.restore();
    }

    @AfterAll
    static void stop() throws Exception {
        if (pool != null) {
            pool.close();
        }
        if (proxy != null) {
            proxy.close();
        }
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("drop schema if exists " + pgml + " cascade");
            s.execute("drop table if exists public." + pgml + "_houses");
        }
    }

    static DatabaseUrl url(String raw) {
        return DatabaseUrl.parse(raw).url().orElseThrow();
    }

    static JobContext job(String project) {
        return job(project, 60);
    }

    static JobContext job(String project, double sleepSeconds) {
        ObjectNode root = new ObjectMapper().createObjectNode();
        root.put("request_id", project + "-1");
        root.put("project", project);
        root.put("task", "classification");
        root.put("backend", "pgml");
        root.putObject("data").put("relation", "public." + pgml + "_houses").put("label_column", "price");
        root.putObject("hyperparameters").put("sleep_seconds", sleepSeconds);
        List<String> problems = new ArrayList<>();
        TrainingRequest r = TrainingRequestCodec.decode(root, problems, project);
        assertThat(problems).isEmpty();
        return new JobContext(1, r, "pgml-network-it");
    }

    /** Starts training {@code job} and blackholes the network once its pgml call is running. */
    static CompletableFuture<Throwable> trainThenBlackhole(JobContext job) {
        CompletableFuture<Throwable> ended = CompletableFuture.supplyAsync(() -> {
            try {
                backend.train(job);
                return null;
            } catch (Exception e) {
                return e;
            }
        });
        await().atMost(Duration.ofSeconds(20))
                .until(() -> (long) db.queryValue("select count(*) from pg_stat_activity where application_name ="
                                + " 'ragline-training-pgml' and query like '%" + pgml + ".train%' and state = 'active'")
                        > 0);
        proxy.blackhole();
        return ended;
    }

    @Test
    void aCallThatRunsLongerThanThePipelinesSocketTimeoutIsNotCut() throws Exception {
        // The pipeline's connections give up after 1 s of silence; the pgml connection is bounded
        // by the training statement timeout (plus a margin) instead.
        DatabaseUrl url =
                url(db.databaseUrl()).withTimeouts(DatabaseTimeouts.DEFAULT.withSocket(Duration.ofSeconds(1)));
        try (var pipeline = Database.pool(url, db.schema(), 1, "pgml-pipeline-it", null)) {
            assertThatThrownBy(() -> {
                        try (Connection c = pipeline.getConnection();
                                Statement s = c.createStatement()) {
                            s.execute("select pg_sleep(3)");
                        }
                    })
                    .as("a pipeline statement silent past the socket timeout")
                    .isInstanceOf(java.sql.SQLException.class);
            PgmlBackend patient = new PgmlBackend(url, db.schema(), pgml, pipeline, Duration.ofSeconds(30));

            assertThat(patient.train(job("patient", 3))).isNotNull();
        }
    }

    @Test
    void aCallWhoseConnectionGoesSilentEndsAsATransientFailureAfterTheSocketTimeout() throws Exception {
        long started = System.nanoTime();
        Throwable failure = trainThenBlackhole(job("silent"))
                .get(STATEMENT_TIMEOUT.plus(PgmlBackend.SOCKET_MARGIN).toSeconds() + 20, TimeUnit.SECONDS);
        assertThat(failure).isInstanceOf(java.sql.SQLException.class);
        assertThat(FailurePolicy.defaults().classify(failure)).isEqualTo(FailureKind.TRANSIENT);
        assertThat(Duration.ofNanos(System.nanoTime() - started))
                .isGreaterThanOrEqualTo(
                        STATEMENT_TIMEOUT.plus(PgmlBackend.SOCKET_MARGIN).minusSeconds(2));
    }

    @Test
    void aCancelEndsACallWhoseConnectionWentSilentAtOnce() throws Exception {
        JobContext job = job("silentcancel");
        CompletableFuture<Throwable> ended = trainThenBlackhole(job);
        job.cancel();
        assertThat(ended.get(10, TimeUnit.SECONDS)).isInstanceOf(TrainingBackend.StoppedException.class);
    }
}
