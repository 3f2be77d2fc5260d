package io.ragline.training.job;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.ragline.contracts.status.TrainingJobStatus;
import io.ragline.contracts.training.TrainingRequest;
import io.ragline.contracts.training.TrainingRequestCodec;
import io.ragline.core.outbox.Outbox;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The operator's side of {@code training_jobs} (the CLI's {@code ragline training} and the
 * console's {@code /api/v1/training/jobs}): requesting training through the outbox, listing jobs,
 * one job with its metrics and models, and cancelling one through {@code cancel_training_job}. The
 * worker's side (admitting, claiming, finishing) is {@link JobStore}'s.
 */
public final class TrainingJobs {
    private static final TrainingRequestCodec CODEC = new TrainingRequestCodec();

    private TrainingJobs() {}

    /** What to list: each filter empty for all. */
    public record Filter(Optional<String> project, Optional<TrainingJobStatus> status, Optional<String> requestId) {
        public static Filter all() {
            return new Filter(Optional.empty(), Optional.empty(), Optional.empty());
        }
    }

    /** A job as a list shows it; {@code accuracy} is the test split's, when the job recorded one. */
    public record Summary(
            long id,
            String requestId,
            String project,
            String task,
            String backend,
            String algorithm,
            TrainingJobStatus status,
            int attempts,
            String error,
            Instant requestedAt,
            Instant startedAt,
            Instant finishedAt,
            Double accuracy) {}

    /** One metric of a job: {@code split} is {@code test} or {@code train}. */
    public record Metric(String split, String name, double value) {}

    /** A model a job made. {@code deployReason} is why it was (not) deployed when it was made. */
    public record Model(
            long id,
            String backend,
            String algorithm,
            boolean deployed,
            Long pgmlModelId,
            Integer artifactBytes,
            String deployReason,
            Instant createdAt,
            Instant deployedAt) {}

    /** One job with everything recorded about it. */
    public record Detail(
            Summary summary,
            boolean cancelRequested,
            String worker,
            JsonNode data,
            JsonNode hyperparameters,
            JsonNode parameters,
            Instant heartbeatAt,
            List<Metric> metrics,
            List<Model> models) {}

    /** What {@link #cancel} found and left: {@code before} final means there was nothing to cancel. */
    public record Cancellation(TrainingJobStatus before, TrainingJobStatus after) {}

    /** {@link #request} refused a request id that names a job already. */
    public static final class RequestIdTaken extends Exception {
        private final long jobId;

        RequestIdTaken(String requestId, long jobId) {
            super("request_id '" + requestId + "' is already job " + jobId + " (a request id names one request)");
            this.jobId = jobId;
        }

        public long jobId() {
            return jobId;
        }
    }

    /**
     * Requests training: the request goes to the outbox in the caller's transaction, so the
     * event-dispatcher publishes it to {@code training} as any producer's (key: the project), and
     * a training-worker admits it as a job. A request id already a job's is refused: the worker
     * would take it for a duplicate (or, with other parameters, for poison).
     */
    public static void request(Connection c, TrainingRequest request) throws SQLException, RequestIdTaken {
        try (PreparedStatement s = c.prepareStatement("select id from training_jobs where request_id = ?")) {
            s.setString(1, request.requestId());
            try (ResultSet rs = s.executeQuery()) {
                if (rs.next()) {
                    throw new RequestIdTaken(request.requestId(), rs.getLong(1));
                }
            }
        }
        Outbox.append(c, CODEC, request);
    }

    /** The newest jobs first, at most {@code limit}, those with an id below {@code beforeId} when given. */
    public static List<Summary> list(Connection c, Filter f, int limit, Optional<Long> beforeId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select " + SUMMARY + " from training_jobs j where (?::text is"
                + " null or j.project = ?) and (?::text is null or j.status = ?) and (?::text is null or"
                + " j.request_id = ?) and (?::bigint is null or j.id < ?) order by j.id desc limit ?")) {
            String status = f.status().map(TrainingJobStatus::stored).orElse(null);
            s.setString(1, f.project().orElse(null));
            s.setString(2, f.project().orElse(null));
            s.setString(3, status);
            s.setString(4, status);
            s.setString(5, f.requestId().orElse(null));
            s.setString(6, f.requestId().orElse(null));
            s.setObject(7, beforeId.orElse(null), java.sql.Types.BIGINT);
            s.setObject(8, beforeId.orElse(null), java.sql.Types.BIGINT);
            s.setInt(9, limit);
            List<Summary> jobs = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    jobs.add(summary(rs));
                }
            }
            return jobs;
        }
    }

    private static final String SUMMARY = "j.id, j.request_id, j.project, j.task, j.backend, j.algorithm, j.status,"
            + " j.attempts, j.error, j.created_at, j.started_at, j.finished_at, (select m.value from model_metrics m"
            + " where m.job_id = j.id and m.split = 'test' and m.name = 'accuracy')";

    private static Summary summary(ResultSet rs) throws SQLException {
        return new Summary(
                rs.getLong(1),
                rs.getString(2),
                rs.getString(3),
                rs.getString(4),
                rs.getString(5),
                rs.getString(6),
                TrainingJobStatus.fromStored(rs.getString(7)),
                rs.getInt(8),
                rs.getString(9),
                instant(rs, 10),
                instant(rs, 11),
                instant(rs, 12),
                rs.getObject(13) == null ? null : rs.getDouble(13));
    }

    /** Job {@code id} with its metrics and models, if it exists. */
    public static Optional<Detail> find(Connection c, long id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select " + SUMMARY + ", j.cancel_requested, j.worker,"
                + " j.data::text, j.hyperparameters::text, j.parameters::text, j.heartbeat_at from training_jobs j"
                + " where j.id = ?")) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Detail(
                        summary(rs),
                        rs.getBoolean(14),
                        rs.getString(15),
                        json(rs.getString(16)),
                        json(rs.getString(17)),
                        json(rs.getString(18)),
                        instant(rs, 19),
                        metrics(c, id),
                        models(c, id)));
            }
        }
    }

    private static List<Metric> metrics(Connection c, long id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "select split, name, value from model_metrics where job_id = ? order by split desc, name")) {
            s.setLong(1, id);
            List<Metric> metrics = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    metrics.add(new Metric(rs.getString(1), rs.getString(2), rs.getDouble(3)));
                }
            }
            return metrics;
        }
    }

    private static List<Model> models(Connection c, long jobId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select id, backend, algorithm, deployed, pgml_model_id,"
                + " octet_length(artifact), metrics->>'deploy_reason', created_at, deployed_at from models where"
                + " job_id = ? order by id")) {
            s.setLong(1, jobId);
            List<Model> models = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    models.add(new Model(
                            rs.getLong(1),
                            rs.getString(2),
                            rs.getString(3),
                            rs.getBoolean(4),
                            rs.getObject(5) == null ? null : rs.getLong(5),
                            rs.getObject(6) == null ? null : rs.getInt(6),
                            rs.getString(7),
                            instant(rs, 8),
                            instant(rs, 9)));
                }
            }
            return models;
        }
    }

    /**
     * Asks job {@code id} to stop (through {@code cancel_training_job}, in one transaction with the
     * read of its status before): a queued job is cancelled at once, a running one by its worker at
     * its next heartbeat, a finished one is left as it is. Empty when there is no such job.
     */
    public static Optional<Cancellation> cancel(Connection c, long id) throws SQLException {
        boolean auto = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            Optional<Cancellation> result = Optional.empty();
            try (PreparedStatement s = c.prepareStatement("select status from training_jobs where id = ? for update")) {
                s.setLong(1, id);
                try (ResultSet rs = s.executeQuery()) {
                    if (rs.next()) {
                        result = Optional.of(
                                new Cancellation(TrainingJobStatus.fromStored(rs.getString(1)), cancelled(c, id)));
                    }
                }
            }
            c.commit();
            return result;
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(auto);
        }
    }

    private static TrainingJobStatus cancelled(Connection c, long id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select cancel_training_job(?)")) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return TrainingJobStatus.fromStored(rs.getString(1));
            }
        }
    }

    static Instant instant(ResultSet rs, int column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    private static JsonNode json(String text) throws SQLException {
        try {
            return text == null ? null : JobStore.JSON.readTree(text);
        } catch (JsonProcessingException e) {
            throw new SQLException("training_jobs holds JSON Jackson cannot read: " + e.getOriginalMessage(), e);
        }
    }
}
