package io.ragline.cli;

import io.ragline.contracts.status.TrainingJobStatus;
import io.ragline.core.config.Env;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Locale;
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
                try (PreparedStatement s = c.prepareStatement("select j.id, j.project, j.backend, j.status,"
                        + " j.attempts, to_char(j.created_at, 'YYYY-MM-DD HH24:MI:SS'), case when j.started_at is not"
                        + " null then extract(epoch from coalesce(j.finished_at, now()) - j.started_at)::int end,"
                        + " (select round(value::numeric, 3) from model_metrics m where m.job_id = j.id and m.split ="
                        + " 'test' and m.name = 'accuracy'), j.request_id from training_jobs j where (?::text is null"
                        + " or j.project = ?) and (?::text is null or j.status = ?) order by j.id desc limit ?")) {
                    s.setString(1, project);
                    s.setString(2, project);
                    s.setString(3, status);
                    s.setString(4, status);
                    s.setInt(5, limit);
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
                    try (ResultSet rs = s.executeQuery()) {
                        while (rs.next()) {
                            System.out.printf(
                                    Locale.ROOT,
                                    "%6d %-20s %-7s %-9s %3d %-19s %7s %8s %s%n",
                                    rs.getLong(1),
                                    rs.getString(2),
                                    rs.getString(3),
                                    rs.getString(4),
                                    rs.getInt(5),
                                    rs.getString(6),
                                    rs.getObject(7) == null ? "-" : rs.getObject(7),
                                    rs.getObject(8) == null ? "-" : rs.getObject(8),
                                    rs.getString(9));
                        }
                    }
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
                try (PreparedStatement s = c.prepareStatement("select request_id, project, task, backend, algorithm,"
                        + " status, cancel_requested, attempts, worker, data::text, hyperparameters::text,"
                        + " parameters::text, error, created_at, started_at, heartbeat_at, finished_at from"
                        + " training_jobs where id = ?")) {
                    s.setLong(1, id);
                    try (ResultSet rs = s.executeQuery()) {
                        if (!rs.next()) {
                            System.err.println("ragline training show: no job " + id);
                            return 1;
                        }
                        String[] labels = {
                            "request", "project", "task", "backend", "algorithm", "status", "cancel requested",
                            "attempts", "worker", "data", "hyperparameters", "parameters", "error", "created",
                            "started", "heartbeat", "finished"
                        };
                        System.out.println("job " + id);
                        for (int i = 0; i < labels.length; i++) {
                            Object v = rs.getObject(i + 1);
                            if (v != null) {
                                System.out.printf(Locale.ROOT, "  %-17s %s%n", labels[i], v);
                            }
                        }
                    }
                }
                metrics(c);
                models(c);
                return 0;
            });
        }

        private void metrics(Connection c) throws SQLException {
            try (PreparedStatement s = c.prepareStatement(
                    "select split, name, value from model_metrics where job_id = ? order by split desc, name")) {
                s.setLong(1, id);
                try (ResultSet rs = s.executeQuery()) {
                    boolean first = true;
                    while (rs.next()) {
                        if (first) {
                            System.out.println("metrics");
                            first = false;
                        }
                        System.out.printf(
                                Locale.ROOT, "  %-6s %-28s %.4f%n", rs.getString(1), rs.getString(2), rs.getDouble(3));
                    }
                }
            }
        }

        private void models(Connection c) throws SQLException {
            try (PreparedStatement s = c.prepareStatement("select id, deployed, pgml_model_id, octet_length(artifact),"
                    + " metrics->>'deploy_reason' from models where job_id = ?")) {
                s.setLong(1, id);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        System.out.printf(
                                Locale.ROOT,
                                "model %d: %s%s%s%s%n",
                                rs.getLong(1),
                                rs.getBoolean(2) ? "deployed" : "not deployed",
                                rs.getObject(3) == null ? "" : ", pgml model " + rs.getLong(3),
                                rs.getObject(4) == null ? "" : ", artifact " + rs.getInt(4) + " bytes",
                                rs.getString(5) == null ? "" : " (" + rs.getString(5) + ")");
                    }
                }
            }
        }
    }

    @Command(name = "cancel", mixinStandardHelpOptions = true, description = "Cancel a queued or running job.")
    static final class Cancel implements Callable<Integer> {
        @Parameters(paramLabel = "ID", description = "The job id (training list).")
        long id;

        @Override
        public Integer call() {
            return CollectionsCommand.withConnection("training cancel", Env.load(), c -> {
                try (PreparedStatement s = c.prepareStatement("select cancel_training_job(?)")) {
                    s.setLong(1, id);
                    try (ResultSet rs = s.executeQuery()) {
                        rs.next();
                        String stored = rs.getString(1);
                        if (stored == null) {
                            System.err.println("ragline training cancel: no job " + id);
                            return 1;
                        }
                        TrainingJobStatus status = TrainingJobStatus.fromStored(stored);
                        switch (status) {
                            case CANCELLED -> System.out.println("job " + id + " cancelled");
                            case RUNNING ->
                                System.out.println("job " + id
                                        + " asked to stop; its worker marks it cancelled at its next heartbeat");
                            default -> System.out.println("job " + id + " already " + status + "; nothing to cancel");
                        }
                        return 0;
                    }
                }
            });
        }
    }
}
