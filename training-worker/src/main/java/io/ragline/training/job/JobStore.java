package io.ragline.training.job;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.contracts.status.TrainingJobStatus;
import io.ragline.contracts.training.TrainingRequest;
import io.ragline.core.consumer.PoisonRecordException;
import io.ragline.training.TrainingSettings;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The {@code training_jobs} rows: admitting a request (once per request id), deciding who runs a
 * job, heartbeats. Every state change happens under the row's lock, so two workers that see the
 * same request (after a rebalance, or a crash) never both run it.
 */
public final class JobStore implements JobAdmission {
    static final ObjectMapper JSON = new ObjectMapper();

    /** A job row as the consumer needs it. */
    public record Job(long id, TrainingJobStatus status, boolean cancelRequested, int attempts, String worker) {
        public boolean isFinal() {
            return status.isFinal();
        }
    }

    /** What the caller of {@link #claim} does next. */
    public enum Claim {
        /** The row is this worker's now: train. */
        RUN,
        /** Another live worker runs it (fresh heartbeat), or it waits for a free slot: look again later. */
        WATCH,
        /** The row is final. */
        DONE
    }

    private final DataSource dataSource;
    private final TrainingSettings settings;
    private final JobEvents events;

    public JobStore(DataSource dataSource, TrainingSettings settings, JobEvents events) {
        this.dataSource = dataSource;
        this.settings = settings;
        this.events = events;
    }

    /**
     * Inserts the request's row ({@code queued}) unless its request id is known; returns the row.
     *
     * @throws PoisonRecordException when the request id is known with other parameters: an
     *     idempotency key names one request, and running this one as the other's job (or dropping it
     *     as its duplicate) would train the wrong thing under the wrong project
     */
    @Override
    public Job admit(TrainingRequest r) throws SQLException, PoisonRecordException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement("insert into training_jobs (request_id, project, task,"
                        + " backend, algorithm, data, hyperparameters, parameters) values (?, ?, ?, ?, ?, ?::jsonb,"
                        + " ?::jsonb, ?::jsonb) on conflict (request_id) do nothing")) {
            s.setString(1, r.requestId());
            s.setString(2, r.project());
            s.setString(3, r.task());
            s.setString(4, r.backend().sql());
            s.setString(5, r.modelName().orElse(r.algorithm()));
            s.setString(6, r.data().toString());
            s.setString(7, r.hyperparameters().toString());
            s.setString(8, parameters(r).toString());
            if (s.executeUpdate() == 0) {
                sameRequest(c, r);
            }
            return find(c, "request_id = ?", r.requestId(), false).orElseThrow();
        }
    }

    private static void sameRequest(Connection c, TrainingRequest r) throws SQLException, PoisonRecordException {
        try (PreparedStatement s = c.prepareStatement("select id, project, project = ? and task = ? and backend = ?"
                + " and algorithm is not distinct from ? and data = ?::jsonb and hyperparameters = ?::jsonb"
                + " and parameters = ?::jsonb from training_jobs where request_id = ?")) {
            s.setString(1, r.project());
            s.setString(2, r.task());
            s.setString(3, r.backend().sql());
            s.setString(4, r.modelName().orElse(r.algorithm()));
            s.setString(5, r.data().toString());
            s.setString(6, r.hyperparameters().toString());
            s.setString(7, parameters(r).toString());
            s.setString(8, r.requestId());
            try (ResultSet rs = s.executeQuery()) {
                if (rs.next() && !rs.getBoolean(3)) {
                    throw new PoisonRecordException("request_id '" + r.requestId() + "' is already job " + rs.getLong(1)
                            + " (project '" + rs.getString(2) + "') with other parameters; a request id names one"
                            + " request");
                }
            }
        }
    }

    /** What the job consumer stores beside data and hyperparameters, so a request can be rebuilt from its row. */
    static ObjectNode parameters(TrainingRequest r) {
        ObjectNode p = JSON.createObjectNode();
        p.put("test_size", r.testSize());
        p.put("test_sampling", r.testSampling());
        p.put("deploy", r.deploy().json());
        r.modelName().ifPresent(m -> p.put("model_name", m));
        r.search().ifPresent(s -> p.set("search", s));
        return p;
    }

    /**
     * Decides, under the row's lock, what this worker does with job {@code id}: start it (queued,
     * or running with a heartbeat older than {@code RAGLINE_TRAINING_STALE_AFTER} and attempts
     * left under the {@code retry} policy), watch it (another worker's fresh heartbeat; or no free
     * slot), or nothing (final; a stale job past its attempts or under {@code fail} is failed here,
     * with its event).
     */
    public Claim claim(long id, String worker, boolean slotFree) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                Claim claim = claim(c, id, worker, slotFree);
                c.commit();
                return claim;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    private Claim claim(Connection c, long id, String worker, boolean slotFree) throws SQLException {
        Job job = find(c, "id = ?", id, true).orElseThrow(() -> new SQLException("training job " + id + " vanished"));
        if (job.isFinal()) {
            return Claim.DONE;
        }
        if (job.status() == TrainingJobStatus.QUEUED) {
            if (job.cancelRequested()) {
                finishStale(c, job, TrainingJobStatus.CANCELLED, "cancelled before it started");
                return Claim.DONE;
            }
            if (job.attempts() >= settings.maxAttempts()) {
                finishStale(
                        c,
                        job,
                        TrainingJobStatus.FAILED,
                        "gave up after " + job.attempts() + " attempts (" + TrainingSettings.MAX_ATTEMPTS + "); last: "
                                + lastError(c, id));
                return Claim.DONE;
            }
            return slotFree && start(c, job, worker) ? Claim.RUN : Claim.WATCH;
        }
        Duration age = heartbeatAge(c, id);
        if (age.compareTo(settings.staleAfter()) < 0) {
            return Claim.WATCH;
        }
        String dead = "worker " + job.worker() + " stopped heartbeating " + age.toSeconds() + " s ago";
        if (job.cancelRequested()) {
            finishStale(c, job, TrainingJobStatus.CANCELLED, "cancelled; " + dead);
            return Claim.DONE;
        }
        if (settings.stalePolicy() == TrainingSettings.StalePolicy.FAIL || job.attempts() >= settings.maxAttempts()) {
            finishStale(
                    c,
                    job,
                    TrainingJobStatus.FAILED,
                    dead + " (attempt " + job.attempts() + " of " + settings.maxAttempts() + ", "
                            + TrainingSettings.STALE_POLICY + "="
                            + settings.stalePolicy().name().toLowerCase(java.util.Locale.ROOT)
                            + ")");
            return Claim.DONE;
        }
        return slotFree && start(c, job, worker) ? Claim.RUN : Claim.WATCH;
    }

    private static boolean start(Connection c, Job job, String worker) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("update training_jobs set status = ?, worker = ?,"
                + " attempts = attempts + 1, started_at = now(), heartbeat_at = now(), finished_at = null,"
                + " error = null where id = ?")) {
            s.setString(1, job.status().moveTo(TrainingJobStatus.RUNNING).stored());
            s.setString(2, worker);
            s.setLong(3, job.id());
            return s.executeUpdate() == 1;
        }
    }

    private void finishStale(Connection c, Job job, TrainingJobStatus status, String error) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "update training_jobs set status = ?, error = ?, finished_at =" + " now() where id = ?")) {
            s.setString(1, job.status().moveTo(status).stored());
            s.setString(2, error);
            s.setLong(3, job.id());
            s.executeUpdate();
        }
        events.write(c, job.id(), status, null, error);
    }

    private static String lastError(Connection c, long id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select error from training_jobs where id = ?")) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() && rs.getString(1) != null ? rs.getString(1) : "no error recorded";
            }
        }
    }

    private static Duration heartbeatAge(Connection c, long id) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select coalesce(extract(epoch from now() - heartbeat_at) * 1000,"
                + " 1e15)::bigint from training_jobs where id = ?")) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return Duration.ofMillis(rs.getLong(1));
            }
        }
    }

    /**
     * Marks the job alive; true when it is still this worker's running job. {@code cancelled}
     * receives {@code cancel_requested}.
     */
    public Optional<Boolean> heartbeat(long id, String worker) throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement("update training_jobs set heartbeat_at = now() where id = ?"
                        + " and worker = ? and status = ? returning cancel_requested")) {
            s.setLong(1, id);
            s.setString(2, worker);
            s.setString(3, TrainingJobStatus.RUNNING.stored());
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(rs.getBoolean(1)) : Optional.empty();
            }
        }
    }

    /** Locks job {@code id} if it is still {@code worker}'s running job (for its final transaction). */
    static boolean lockOwned(Connection c, long id, String worker) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "select 1 from training_jobs where id = ? and worker = ? and status = ? for update")) {
            s.setLong(1, id);
            s.setString(2, worker);
            s.setString(3, TrainingJobStatus.RUNNING.stored());
            try (ResultSet rs = s.executeQuery()) {
                return rs.next();
            }
        }
    }

    static Optional<Job> find(Connection c, String where, Object key, boolean lock) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select id, status, cancel_requested, attempts, worker from"
                + " training_jobs where " + where + (lock ? " for update" : ""))) {
            s.setObject(1, key);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                return Optional.of(new Job(
                        rs.getLong(1),
                        TrainingJobStatus.fromStored(rs.getString(2)),
                        rs.getBoolean(3),
                        rs.getInt(4),
                        rs.getString(5)));
            }
        }
    }

    public DataSource dataSource() {
        return dataSource;
    }
}
