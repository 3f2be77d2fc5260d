package io.ragline.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.Migrations;
import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.PostgresSchema;
import io.ragline.testkit.TcpProxy;
import io.ragline.testkit.TestServices;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A worker process started while Postgres or Kafka is away waits for it ({@code
 * RAGLINE_STARTUP_WAIT}) and becomes ready once it is back, instead of exiting 2 into a restart
 * loop; what a retry cannot fix still stops it at once. Real processes ({@link LifecycleFixtureMain}
 * through {@link WorkerMain}), the real test database and broker behind a {@link TcpProxy}.
 */
class StartupWaitIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final Duration STARTUP = Duration.ofSeconds(90);
    static final Pattern READY = Pattern.compile("lifecycle ready \\(admin port (\\d+)\\)");

    @Test
    void aWorkerStartedWhilePostgresRefusesConnectionsWaitsAndBecomesReadyOnceItIsBack() throws Exception {
        try (TcpProxy proxy = TcpProxy.forDatabase()) {
            proxy.cut();
            Map<String, String> env = env();
            env.put("DATABASE_URL", proxy.databaseUrl(db.databaseUrl()));
            JavaProcess worker = fixture(env);

            await().atMost(STARTUP).until(() -> worker.stdout().contains("lifecycle: waiting for Postgres at"));
            assertThat(worker.process().isAlive()).as(worker.stderr()).isTrue();
            proxy.restore();

            assertBecomesReady(worker);
            assertThat(worker.stdout())
                    .containsPattern("waiting for Postgres at postgresql://[^ ]*:<masked>@127\\.0\\.0\\.1:"
                            + proxy.port() + "/[^ ]* \\(Connection to 127\\.0\\.0\\.1:" + proxy.port()
                            + " refused.*\\), \\d+ s left")
                    .contains("answered after")
                    .doesNotContain(password(db.databaseUrl()));
            worker.terminate();
            assertThat(worker.waitFor(30)).isZero();
        }
    }

    @Test
    void aWorkerStartedWhileNoBrokerAcceptsWaitsAndBecomesReadyOnceKafkaIsBack() throws Exception {
        String broker = TestServices.get().kafkaBootstrapServers().split(",")[0];
        int colon = broker.lastIndexOf(':');
        try (TcpProxy proxy = new TcpProxy(broker.substring(0, colon), Integer.parseInt(broker.substring(colon + 1)))) {
            proxy.cut();
            Map<String, String> env = env();
            env.put("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:" + proxy.port());
            JavaProcess worker = fixture(env);

            await().atMost(STARTUP)
                    .until(() -> worker.stdout()
                            .contains("lifecycle: waiting for Kafka at 127.0.0.1:" + proxy.port()
                                    + " (no broker accepts connections"));
            assertThat(worker.process().isAlive()).as(worker.stderr()).isTrue();
            proxy.restore();

            assertBecomesReady(worker);
            worker.terminate();
            assertThat(worker.waitFor(30)).isZero();
        }
    }

    @Test
    void aWrongPasswordStillStopsStartUpAtOnceWithTheUrlMasked() throws Exception {
        Map<String, String> env = env();
        env.put("DATABASE_URL", db.databaseUrl().replaceFirst("://([^:]+):[^@]*@", "://$1:Wr0ng-Secret@"));
        long started = System.nanoTime();
        JavaProcess worker = fixture(env);

        assertThat(worker.waitFor(60)).as(worker.stdout()).isEqualTo(2);
        assertThat(Duration.ofNanos(System.nanoTime() - started))
                .as("well within the default RAGLINE_STARTUP_WAIT of 60 s")
                .isLessThan(Duration.ofSeconds(40));
        assertThat(worker.stderr())
                .contains("DATABASE_URL='postgresql://")
                .contains(":<masked>@")
                .contains("cannot connect")
                .contains("password authentication failed")
                .doesNotContain("retried for");
        assertThat(worker.stdout()).doesNotContain("waiting for");
        assertThat(worker.stdout() + worker.stderr()).doesNotContain("Wr0ng-Secret");
    }

    @Test
    void servicesStillAwayWhenAShortWaitEndsStopStartUpNamingEachAndHowLongItWasRetried() throws Exception {
        try (TcpProxy proxy = TcpProxy.forDatabase()) {
            proxy.cut();
            Map<String, String> env = env();
            env.put("DATABASE_URL", proxy.databaseUrl(db.databaseUrl()));
            env.put("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:" + closedPort());
            env.put("RAGLINE_STARTUP_WAIT", "3s");
            env.put("RAGLINE_STARTUP_TIMEOUT", "2s");
            JavaProcess worker = fixture(env);

            assertThat(worker.waitFor(60)).as(worker.stdout()).isEqualTo(2);
            assertThat(worker.stderr())
                    .contains("invalid configuration (2 problems)")
                    .containsPattern("DATABASE_URL='[^']*': cannot connect: Connection to 127\\.0\\.0\\.1:"
                            + proxy.port() + " refused.*\\(retried for \\d s, RAGLINE_STARTUP_WAIT=3s\\)")
                    .containsPattern("KAFKA_BOOTSTRAP_SERVERS='127\\.0\\.0\\.1:\\d+': cannot reach Kafka: no broker"
                            + " accepts connections at 127\\.0\\.0\\.1:\\d+ \\(retried for \\d s,"
                            + " RAGLINE_STARTUP_WAIT=3s\\)");
            assertThat(worker.stdout())
                    .contains("lifecycle: waiting for Postgres at")
                    .contains("lifecycle: waiting for Kafka at")
                    .contains("gave up waiting")
                    .doesNotContain("lifecycle ready");
        }
    }

    /**
     * The steps after the check (migrating, a worker login's privileges) share its wait: a database
     * that goes away just after the check is waited for too. Flyway's own connections included.
     */
    @Test
    void aMigrationWhoseDatabaseWentAwayAfterTheCheckRunsOnceItIsBack() throws Exception {
        ScheduledExecutorService later = Executors.newSingleThreadScheduledExecutor();
        try (TcpProxy proxy = TcpProxy.forDatabase()) {
            DatabaseUrl url = DatabaseUrl.parse(proxy.databaseUrl(db.ownerDatabaseUrl()))
                    .url()
                    .orElseThrow();
            Migrations migrations = new Migrations(url, db.schema(), "startup-wait-it");
            String current = migrations.currentVersion();
            proxy.cut();
            later.schedule(proxy::restore, 2, TimeUnit.SECONDS);
            StartupWait wait = StartupWait.since(Instant.now(), Duration.ofSeconds(60), "startup-wait-it");

            Migrations.Outcome outcome = wait.postgres(url, "migrating", migrations::migrate);

            assertThat(outcome.version()).isEqualTo(current);
        } finally {
            later.shutdownNow();
        }
    }

    private static Map<String, String> env() {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("FIXTURE_MODE", "idle");
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_STARTUP_TIMEOUT", "3s");
        return env;
    }

    private static JavaProcess fixture(Map<String, String> env) throws Exception {
        return JavaProcess.start(List.of(), LifecycleFixtureMain.class.getName(), env);
    }

    /** Logs that it is ready, and its readiness endpoint says 200: Postgres and Kafka answer. */
    private static void assertBecomesReady(JavaProcess worker) throws Exception {
        await().atMost(STARTUP)
                .until(() -> READY.matcher(worker.stdout()).find()
                        || !worker.process().isAlive());
        Matcher ready = READY.matcher(worker.stdout());
        assertThat(ready.find()).as(worker.stdout() + worker.stderr()).isTrue();
        URI uri = URI.create("http://127.0.0.1:" + ready.group(1) + "/health/ready");
        HttpClient http = HttpClient.newHttpClient();
        await().atMost(Duration.ofSeconds(30))
                .untilAsserted(() -> assertThat(
                                http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString())
                                        .statusCode())
                        .isEqualTo(200));
    }

    private static String password(String libpqUrl) {
        return libpqUrl.replaceFirst("^[^:]+://[^:@/]+:([^@]+)@.*$", "$1");
    }

    private static int closedPort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
