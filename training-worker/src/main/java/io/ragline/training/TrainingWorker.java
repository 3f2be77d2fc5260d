package io.ragline.training;

import io.ragline.contracts.Topic;
import io.ragline.contracts.training.TrainingRequest;
import io.ragline.contracts.training.TrainingRequestCodec;
import io.ragline.core.WorkerMain;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.core.consumer.ConsumerBinding;
import io.ragline.core.consumer.ConsumerLoop;
import io.ragline.core.consumer.ConsumerMetrics;
import io.ragline.core.consumer.ContractDecoder;
import io.ragline.core.consumer.KafkaDeadLetters;
import io.ragline.training.builtin.BuiltinBackend;
import io.ragline.training.job.JobEvents;
import io.ragline.training.job.JobRunner;
import io.ragline.training.job.JobStore;
import io.ragline.training.job.TrainingConsumer;
import io.ragline.training.pgml.PgmlBackend;
import io.ragline.training.predict.EmbeddedDocumentDecoder;
import io.ragline.training.predict.PredictionWriter;
import io.ragline.training.schedule.TrainingScheduler;
import java.lang.management.ManagementFactory;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.KafkaConsumer;

/**
 * The {@code training-worker} process (docs/architecture.md sections 2 and 11): consumes {@code
 * training} into {@code training_jobs} and runs each job off the poll thread with the builtin
 * trainer or PostgresML; labels newly embedded documents with deployed builtin models (from
 * {@code pipeline-events}); runs training schedules unless pg_cron does.
 */
public final class TrainingWorker {
    public static final String NAME = "training-worker";

    /** {@code RAGLINE_ADMIN_PORT} default. */
    public static final int DEFAULT_ADMIN_PORT = 9083;

    /** The topic of training requests, before {@code RAGLINE_TOPIC_PREFIX}. */
    public static final String TRAINING = Topic.TRAINING.topic();

    private TrainingWorker() {}

    public static void main(String[] args) {
        Env env = Env.load();
        System.exit(WorkerMain.run(NAME, DEFAULT_ADMIN_PORT, env, wiring(env)));
    }

    /** Reads the settings now (their problems join the start-up report); starts the consumers later. */
    public static Consumer<WorkerRuntime> wiring(Env env) {
        TrainingSettings settings = TrainingSettings.from(env);
        return runtime -> start(runtime, settings);
    }

    private static void start(WorkerRuntime runtime, TrainingSettings settings) {
        TrainingMetrics metrics = new TrainingMetrics(runtime.registry());
        String worker = ManagementFactory.getRuntimeMXBean().getName() + "/"
                + UUID.randomUUID().toString().substring(0, 8);
        ExecutorService jobThreads = Executors.newCachedThreadPool(daemons("training-job"));
        runtime.manage(jobThreads::shutdownNow);
        ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor(daemons("training-heartbeat"));
        runtime.manage(heartbeats::shutdownNow);

        var core = runtime.settings();
        JobStore store = new JobStore(runtime.dataSource(), settings, new JobEvents());
        JobRunner runner = new JobRunner(
                store,
                Map.of(
                        TrainingRequest.Backend.BUILTIN,
                        new BuiltinBackend(runtime.longStatements(), settings.statementTimeout()),
                        TrainingRequest.Backend.PGML,
                        new PgmlBackend(
                                core.database(),
                                core.schema(),
                                settings.pgmlSchema(),
                                runtime.dataSource(),
                                settings.statementTimeout())),
                settings,
                worker,
                metrics,
                heartbeats);

        String topic = core.topic(TRAINING);
        runtime.ensureTopics(List.of(topic));
        String group = core.kafka().groupPrefix() + "-" + TRAINING;
        String clientId = NAME + "-" + TRAINING;
        KafkaConsumer<byte[], byte[]> consumer = runtime.kafkaClients().consumer(group, clientId, 0);
        TrainingConsumer loop = new TrainingConsumer(
                consumer,
                List.of(topic),
                new ContractDecoder<>(new TrainingRequestCodec()),
                new KafkaDeadLetters(runtime.producer(), group, Duration.ofSeconds(30)),
                new TrainingConsumer.Jobs(store, runner, jobThreads),
                ConsumerLoop.Settings.of(
                                core.kafka().backoffInitial(),
                                core.kafka().backoffMax(),
                                core.kafka().maxAttempts())
                        .withinShutdown(core.shutdownTimeout()),
                core.shutdownTimeout(),
                Clock.systemUTC(),
                metrics,
                new ConsumerMetrics(runtime.registry(), clientId),
                runtime.fatalPathOf(clientId));
        runtime.startLoop(clientId, loop); // supervised like the batch loops

        if (settings.predict()) {
            runtime.consume(new ConsumerBinding<>(
                    "training-predictions",
                    List.of(core.topic(Topic.PIPELINE_EVENTS.topic())),
                    new EmbeddedDocumentDecoder(),
                    new PredictionWriter(metrics)));
        }
        if (settings.scheduler() != TrainingSettings.Scheduler.OFF) {
            TrainingScheduler scheduler = new TrainingScheduler(runtime.dataSource(), settings);
            runtime.supervise(TrainingScheduler.THREAD, scheduler, scheduler::stop);
        }
    }

    private static ThreadFactory daemons(String name) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
