package io.ragline.training.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.core.consumer.ConsumerLoop;
import io.ragline.core.consumer.ConsumerMetrics;
import io.ragline.core.kafka.KafkaClients;
import io.ragline.core.lifecycle.Lifecycle;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import io.ragline.training.TrainingMetrics;
import io.ragline.training.TrainingSettings;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The training consumer is supervised like the batch loops: an Error that ends it turns readiness
 * 503 naming it and stops the process. Closing is held until readiness was read (a failed process
 * closes its admin server too).
 */
class TrainingConsumerReadinessIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void aTrainingConsumerKilledByAnErrorMakesReadinessNameItAndStopsTheProcess() throws Exception {
        String topic = KafkaTopics.create("trainingdies", 1);
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_GROUP_PREFIX", "it-" + UUID.randomUUID());
        env.put("RAGLINE_TRAINING_SCHEDULER", "off");
        AtomicReference<Throwable> fatal = new AtomicReference<>();
        CountDownLatch readinessRead = new CountDownLatch(1);
        ExecutorService jobThreads = Executors.newCachedThreadPool();
        try (WorkerRuntime runtime = WorkerRuntime.start("test-training-dies", 0, new Env(env))) {
            runtime.manage(() -> readinessRead.await(WAIT.toMillis(), TimeUnit.MILLISECONDS));
            String group = runtime.settings().kafka().groupPrefix() + "-training";
            TrainingConsumer loop = new TrainingConsumer(
                    KafkaClients.consumer(
                            KafkaTopics.bootstrapServers(), runtime.settings().kafka(), group, group),
                    List.of(topic),
                    r -> {
                        throw new AssertionError("an invariant the decoder relies on broke");
                    },
                    (r, e, n) -> {},
                    new TrainingConsumer.Jobs(
                            new JobStore(runtime.dataSource(), TrainingSettings.from(new Env(env)), new JobEvents()),
                            null, // never reached: the first record ends the loop before a job is admitted
                            jobThreads),
                    ConsumerLoop.Settings.of(Duration.ofMillis(100), Duration.ofSeconds(1), 3),
                    Duration.ofSeconds(5),
                    Clock.systemUTC(),
                    new TrainingMetrics(runtime.registry()),
                    new ConsumerMetrics(runtime.registry(), group),
                    cause -> { // records the cause, then the runtime's fatal path for this thread
                        fatal.set(cause);
                        runtime.fatalPathOf("training-loop").accept(cause);
                    });
            Thread thread = runtime.startLoop("training-loop", loop);
            runtime.markStarted();
            assertThat(ready(runtime).statusCode()).isEqualTo(200);

            KafkaTopics.produce(topic, 1, i -> "{}");

            // Uncaught errors are what the loop must no longer let through; the await judges the outcome.
            await().dontCatchUncaughtExceptions()
                    .atMost(WAIT)
                    .until(() -> ready(runtime).statusCode() == 503);
            assertThat(ready(runtime).body())
                    .contains(
                            "\"threads\":\"training-loop died: AssertionError: an invariant the decoder relies on broke\"");
            assertThat(fatal.get()).isInstanceOf(AssertionError.class);
            thread.join(WAIT.toMillis());
            assertThat(thread.isAlive()).isFalse();
            readinessRead.countDown();
            await().atMost(WAIT).until(() -> runtime.state() == Lifecycle.State.STOPPED);
            assertThat(runtime.exitCode()).isEqualTo(1);
        } finally {
            jobThreads.shutdownNow();
        }
    }

    private static HttpResponse<String> ready(WorkerRuntime runtime) throws Exception {
        return HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.adminPort() + "/health/ready"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
    }
}
