package io.ragline.core.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.core.kafka.KafkaClients;
import io.ragline.core.lifecycle.Lifecycle;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A consumer loop killed by an Error is noticed: readiness names it and the process stops. The
 * runtime's closing is held (a closeable registered before the loop waits for the test) until
 * readiness was read, since a failed process closes its admin server too.
 */
class DeadLoopReadinessIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema();

    /** Uncaught errors are what the loops must no longer let through; the awaits judge the outcome. */
    static final Duration WAIT = Duration.ofSeconds(30);

    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void table() throws SQLException {
        AppliedTable.create(db);
    }

    @Test
    void aLoopWhoseDecoderThrowsAnErrorMakesReadinessNameItAndStopsTheProcess() throws Exception {
        String topic = KafkaTopics.create("overflow", 1);
        AtomicReference<Throwable> fatal = new AtomicReference<>();
        CountDownLatch readinessRead = new CountDownLatch(1);
        try (WorkerRuntime runtime = runtime()) {
            runtime.manage(() -> readinessRead.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
            String group = runtime.settings().kafka().groupPrefix() + "-overflow";
            ConsumerLoop<String> loop = new ConsumerLoop<>(
                    KafkaClients.consumer(
                            KafkaTopics.bootstrapServers(), runtime.settings().kafka(), group, group),
                    List.of(topic),
                    r -> {
                        String v = new String(r.value(), StandardCharsets.UTF_8);
                        if (v.equals("deep")) {
                            throw new StackOverflowError("decoding " + v);
                        }
                        return v;
                    },
                    (records, consumed) -> {},
                    (r, e, n) -> {},
                    FailurePolicy.defaults(),
                    ConsumerLoop.Settings.of(Duration.ofMillis(100), Duration.ofSeconds(1), 3),
                    java.time.Clock.systemUTC(),
                    ConsumerMetrics.discarding(),
                    cause -> { // records the cause, then the runtime's fatal path for this thread
                        fatal.set(cause);
                        runtime.fatalPathOf("overflow-loop-0").accept(cause);
                    });
            Thread thread = runtime.startLoop("overflow-loop-0", loop);
            runtime.markStarted();
            assertThat(ready(runtime).statusCode()).isEqualTo(200);

            KafkaTopics.produce(topic, 3, i -> i == 1 ? "deep" : "shallow-" + i);

            await().dontCatchUncaughtExceptions()
                    .atMost(WAIT)
                    .until(() -> ready(runtime).statusCode() == 503);
            assertThat(ready(runtime).body())
                    .contains("\"threads\":\"overflow-loop-0 died: StackOverflowError: decoding deep\"");
            assertThat(fatal.get()).isInstanceOf(StackOverflowError.class);
            thread.join(WAIT.toMillis());
            assertThat(thread.isAlive()).isFalse();
            assertThat(loop.isRunning()).isFalse();
            readinessRead.countDown();
            await().atMost(WAIT).until(() -> runtime.state() == Lifecycle.State.STOPPED);
            assertThat(runtime.exitCode()).isEqualTo(1);
        }
    }

    @Test
    void anErrorInABindingsLoopStopsTheProcessWithExitCodeOne() throws Exception {
        String topic = KafkaTopics.create("asserting", 1);
        try (WorkerRuntime runtime = runtime()) {
            runtime.consume(new ConsumerBinding<String>(
                    "asserting",
                    List.of(topic),
                    r -> {
                        throw new AssertionError("an invariant the decoder relies on broke");
                    },
                    AppliedTable.writer(0)));
            runtime.markStarted();

            KafkaTopics.produce(topic, 1, i -> "value-" + i);

            await().dontCatchUncaughtExceptions().atMost(WAIT).until(runtime::isClosed);
            assertThat(runtime.exitCode()).isEqualTo(1);
        }
    }

    private static WorkerRuntime runtime() {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_GROUP_PREFIX", "it-" + UUID.randomUUID());
        return WorkerRuntime.start("test-dead-loop", 0, new Env(env));
    }

    private static HttpResponse<String> ready(WorkerRuntime runtime) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.adminPort() + "/health/ready"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
