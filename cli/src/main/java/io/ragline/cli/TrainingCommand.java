package io.ragline.cli;

import io.ragline.contracts.status.TrainingJobStatus;
import io.ragline.core.config.Env;
import io.ragline.training.job.TrainingJobs;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ragline training list|show|cancel}: the training jobs (one per request), their status,
 * timings, errors, metrics and models, and cancelling one (through {@code cancel_training_job}, so
 * a queued job ends at once and a running one at its worker's next heartbeat).
 */
@Command(
        name = "training",
        mixinStandardHelpOptions = true,
        description = "List, show or cancel training jobs.",
        subcommands = {TrainingCommand.List.class, TrainingCommand.Show.class, TrainingCommand.Cancel.class})
final class TrainingCommand implements Runnable {
    private static final DateTimeFormatter CREATED =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT).withZone(ZoneOffset.UTC);

    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "The latest jobs, newest first.")
    static final class List implements Callable<Integer> {
        @Option(names = "--project", description = "Only this project's jobs.")
        String project;

        @Option(
                names = "--status",
                description = "Only jobs in this status (queued, running, succeeded, failed, cancelled).")
        String status;

        @Option(names = "--limit", defaultValue = "20", description = "At most this many (default ${DEFAULT-VALUE}).")
        int limit;

        @Override
        public Integer call() {
            Env env = Env.load();
            if (status != null) {
                try {
                    TrainingJobStatus.fromStored(status);
                } catch (IllegalArgumentException e) {
                    env.problem("--status: " + e.getMessage());
                }
            }
            return CollectionsCommand.withConnection("training list", env, c -> {
                TrainingJobs.Filter filter = new TrainingJobs.Filter(
                        Optional.ofNullable(project),
                        Optional.ofNullable(status).map(TrainingJobStatus::fromStored),
                        Optional.empty());
                System.out.printf(
                        Locale.ROOT,
                        "%6s %-20s %-7s %-9s %3s %-19s %7s %8s %s%n",
                        "ID",
                        "PROJECT",
                        "BACKEND",
                        "STATUS",
                        "TRY",
                        "CREATED",
                        "SECONDS",
                        "ACCURACY",
                        "REQUEST");
                Instant now = Instant.now();
                for (TrainingJobs.Summary j : TrainingJobs.list(c, filter, limit, Optional.empty())) {
                    System.out.printf(
                            Locale.ROOT,
                            "%6d %-20s %-7s %-9s %3d %-19s %7s %8s %s%n",
                            j.id(),
                            j.project(),
                            j.backend(),
                            j.status(),
                            j.attempts(),
                            CREATED.format(j.requestedAt()),
                            j.startedAt() == null
                                    ? "-"
                                    : Duration.between(j.startedAt(), j.finishedAt() == null ? now : j.finishedAt())
                                            .toSeconds(),
                            j.accuracy() == null ? "-" : String.format(Locale.ROOT, "%.3f", j.accuracy()),
                            j.requestId());
                }
                return 0;
            });
        }
    }

    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            description = "One job: parameters, timings, error, metrics, model.")
    static final class Show implements Callable<Integer> {
        @Parameters(paramLabel = "ID", description = "The job id (training list).")
        long id;

        @Override
        public Integer call() {
            return CollectionsCommand.withConnection("training show", Env.load(), c -> {
                Optional<TrainingJobs.Detail> found = TrainingJobs.find(c, id);
                if (found.isEmpty()) {
                    System.err.println("ragline training show: no job " + id);
                    return 1;
                }
                TrainingJobs.Detail d = found.get();
                TrainingJobs.Summary j = d.summary();
                Object[][] rows = {
                    {"request", j.requestId()},
                    {"project", j.project()},
                    {"task", j.task()},
                    {"backend", j.backend()},
                    {"algorithm", j.algorithm()},
                    {"status", j.status()},
                    {"cancel requested", d.cancelRequested()},
                    {"attempts", j.attempts()},
                    {"worker", d.worker()},
                    {"data", d.data()},
                    {"hyperparameters", d.hyperparameters()},
                    {"parameters", d.parameters()},
                    {"error", j.error()},
                    {"created", j.requestedAt()},
                    {"started", j.startedAt()},
                    {"heartbeat", d.heartbeatAt()},
                    {"finished", j.finishedAt()}
                };
                System.out.println("job " + id);
                for (Object[] row : rows) {
                    if (row[1] != null) {
                        System.out.printf(Locale.ROOT, "  %-17s %s%n", row[0], row[1]);
                    }
                }
                if (!d.metrics().isEmpty()) {
                    System.out.println("metrics");
                }
                for (TrainingJobs.Metric m : d.metrics()) {
                    System.out.printf(Locale.ROOT, "  %-6s %-28s %.4f%n", m.split(), m.name(), m.value());
                }
                for (TrainingJobs.Model m : d.models()) {
                    System.out.printf(
                            Locale.ROOT,
                            "model %d: %s%s%s%s%n",
                            m.id(),
                            m.deployed() ? "deployed" : "not deployed",
                            m.pgmlModelId() == null ? "" : ", pgml model " + m.pgmlModelId(),
                            m.artifactBytes() == null ? "" : ", artifact " + m.artifactBytes() + " bytes",
                            m.deployReason() == null ? "" : " (" + m.deployReason() + ")");
                }
                return 0;
            });
        }
    }

    @Command(name = "cancel", mixinStandardHelpOptions = true, description = "Cancel a queued or running job.")
    static final class Cancel implements Callable<Integer> {
        @Parameters(paramLabel = "ID", description = "The job id (training list).")
        long id;

        @Override
        public Integer call() {
            return CollectionsCommand.withConnection("training cancel", Env.load(), c -> {
                Optional<TrainingJobs.Cancellation> found = TrainingJobs.cancel(c, id);
                if (found.isEmpty()) {
                    System.err.println("ragline training cancel: no job " + id);
                    return 1;
                }
                TrainingJobs.Cancellation done = found.get();
                if (done.before().isFinal()) {
                    System.out.println("job " + id + " already " + done.before() + "; nothing to cancel");
                } else if (done.after() == TrainingJobStatus.CANCELLED) {
                    System.out.println("job " + id + " cancelled");
                } else {
                    System.out.println(
                            "job " + id + " asked to stop; its worker marks it cancelled at its next heartbeat");
                }
                return 0;
            });
        }
    }
}
