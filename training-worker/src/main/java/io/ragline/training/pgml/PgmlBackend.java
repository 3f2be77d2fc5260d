package io.ragline.training.pgml;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.contracts.training.TrainingRequest;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.Database;
import io.ragline.training.job.JobContext;
import io.ragline.training.job.JobRunner;
import io.ragline.training.job.Outcome;
import io.ragline.training.job.TrainingBackend;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trains with PostgresML inside the database: {@code pgml.train(...)} (or {@code pgml.tune(...)}
 * when the request names a {@code model_name}) with PostgresML's documented named arguments, on a
 * dedicated connection (not the pool) whose {@code statement_timeout} bounds the call. A cancel
 * runs {@code pg_cancel_backend} on that connection's backend. The model's metrics are read back
 * from {@code pgml.models}, and whether PostgresML deployed it from {@code pgml.deployments}.
 * Deployment: {@code if_better} is PostgresML's own {@code automatic_deploy}; {@code always}
 * follows the call with {@code pgml.deploy(project_name, strategy => 'most_recent')}; {@code
 * never} passes {@code automatic_deploy => false}.
 */
public final class PgmlBackend implements TrainingBackend {
    private static final Logger log = LoggerFactory.getLogger(PgmlBackend.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** How long past the statement timeout the dedicated connection's socket may stay silent. */
    public static final Duration SOCKET_MARGIN = Duration.ofSeconds(30);

    private final DatabaseUrl url;
    private final String schema;
    private final String pgml;
    private final DataSource pool;
    private final Duration statementTimeout;

    /**
     * @param schema Ragline's schema (search path of the dedicated connection)
     * @param pgml the schema of PostgresML's functions and tables ({@code pgml})
     * @param pool used only to cancel the dedicated connection's statement
     */
    public PgmlBackend(DatabaseUrl url, String schema, String pgml, DataSource pool, Duration statementTimeout) {
        this.url = url;
        this.schema = schema;
        this.pgml = pgml;
        this.pool = pool;
        this.statementTimeout = statementTimeout;
    }

    @Override
    public Outcome train(JobContext job) throws Exception {
        TrainingRequest r = job.request();
        boolean tune = r.modelName().isPresent();
        String function = tune ? "tune" : "train";
        try (Connection c =
                Database.connect(url, schema, "training-pgml", url.timeouts().connect(), socketTimeout())) {
            requireFunction(c, function);
            int pid;
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery("select pg_backend_pid()")) {
                rs.next();
                pid = rs.getInt(1);
            }
            try (Statement s = c.createStatement()) {
                s.execute("set statement_timeout = " + statementTimeout.toMillis());
            }
            Optional<Long> deployedBefore = JobRunner.deployed(c, r.project(), false);
            long lastModel = lastModelId(c, r.project()).orElse(0L);
            job.onStop(() -> {
                cancel(pid);
                abort(c); // the cancel's answer may never come back (a silent network): free the thread
            });
            if (job.stopping()) {
                throw new StoppedException("stopped before " + pgml + "." + function);
            }
            Map.Entry<String, List<Object>> call = tune ? tuneCall(r) : trainCall(r);
            log.info("{}: {} on backend {} (statement_timeout {})", job, call.getKey(), pid, statementTimeout);
            try (PreparedStatement s = c.prepareStatement(call.getKey())) {
                bind(s, call.getValue());
                s.executeQuery().close();
            } catch (SQLException e) {
                if ("57014".equals(e.getSQLState())) { // query_canceled: ours, or the statement timeout
                    if (job.stopping()) {
                        throw new StoppedException(pgml + "." + function + " cancelled");
                    }
                    throw new JobFailure(pgml + "." + function + " exceeded statement_timeout " + statementTimeout
                            + " (" + io.ragline.training.TrainingSettings.STATEMENT_TIMEOUT + ")");
                }
                if (e.getSQLState() != null && e.getSQLState().startsWith("08")) {
                    // Connection lost, silent past the socket timeout, or aborted by a stop:
                    // transient, the job is requeued (or ends as its stop says). The server may
                    // still be training on the orphaned backend; end it so the retry is the only
                    // training.
                    terminate(pid);
                    if (job.stopping()) {
                        throw new StoppedException(pgml + "." + function + " stopped (" + job.stop() + ")");
                    }
                    throw e;
                }
                throw new JobFailure(pgml + "." + function + " failed: " + e.getMessage(), e);
            }
            job.onStop(() -> {});
            // With a search, one call makes a model per combination: the one PostgresML deployed
            // (its best) when it deployed one of this call's, else the newest.
            Optional<Long> deployedNow = deployedModel(c, r.project()).filter(id -> id > lastModel);
            Optional<Model> chosen =
                    deployedNow.isPresent() ? modelWithId(c, deployedNow.get()) : newModel(c, r.project(), lastModel);
            Model model = chosen.orElseThrow(() -> new JobFailure(pgml + "." + function
                    + " returned but left no new row in " + pgml + ".models for project '" + r.project() + "'"));
            boolean deployed =
                    deployedModel(c, r.project()).map(id -> id == model.id()).orElse(false);
            if (r.deploy() == TrainingRequest.Deploy.ALWAYS && !deployed) {
                try (PreparedStatement s =
                        c.prepareStatement("select * from " + pgml + ".deploy(project_name => ?, strategy => ?)")) {
                    s.setObject(1, r.project(), Types.OTHER);
                    s.setObject(2, "most_recent", Types.OTHER);
                    s.executeQuery().close();
                }
                deployed = deployedModel(c, r.project())
                        .map(id -> id == model.id())
                        .orElse(false);
            }
            return outcome(r, model, deployed, deployedBefore);
        }
    }

    private Outcome outcome(TrainingRequest r, Model model, boolean deployed, Optional<Long> deployedBefore) {
        List<Outcome.Metric> metrics = new ArrayList<>();
        ObjectNode summary = JSON.createObjectNode();
        summary.put("pgml_model_id", model.id());
        for (Iterator<Map.Entry<String, JsonNode>> it = model.metrics().fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> m = it.next();
            if (m.getValue().isNumber()) {
                metrics.add(new Outcome.Metric("test", m.getKey(), m.getValue().asDouble()));
                summary.set(m.getKey(), m.getValue());
            }
        }
        String reason = switch (r.deploy()) {
            case ALWAYS -> "deployed: policy always";
            case NEVER -> "not deployed: policy never";
            case IF_BETTER ->
                deployed
                        ? "deployed by PostgresML (automatic_deploy: it beats the deployed model)"
                        : "not deployed: PostgresML kept the deployed model";
        };
        return new Outcome(
                r.modelName().orElse(r.algorithm()),
                Optional.empty(),
                Optional.empty(),
                Optional.of(model.id()),
                Optional.empty(),
                metrics,
                summary,
                deployed,
                deployedBefore,
                reason);
    }

    /** {@code pgml.train} with the documented named arguments that the request gives. */
    Map.Entry<String, List<Object>> trainCall(TrainingRequest r) {
        Args a = new Args();
        a.add("project_name", r.project(), "");
        a.add("task", r.task(), "");
        a.add("relation_name", r.data().path("relation").asText(), "");
        a.add("y_column_name", r.data().path("label_column").asText(), "");
        a.add("algorithm", r.algorithm(), "");
        a.add("hyperparams", r.hyperparameters().toString(), "::jsonb");
        r.search().ifPresent(s -> {
            a.add("search", s.path("search").asText(), "");
            if (s.hasNonNull("search_params")) {
                a.add("search_params", s.get("search_params").toString(), "::jsonb");
            }
            if (s.hasNonNull("search_args")) {
                a.add("search_args", s.get("search_args").toString(), "::jsonb");
            }
        });
        a.add("test_size", (float) r.testSize(), "::real");
        a.add("test_sampling", r.testSampling(), "");
        a.add("automatic_deploy", r.deploy() == TrainingRequest.Deploy.IF_BETTER, "::boolean");
        return Map.entry("select * from " + pgml + ".train(" + a.sql() + ")", a.values);
    }

    /** {@code pgml.tune}: fine-tunes {@code model_name} (a Hugging Face model). */
    Map.Entry<String, List<Object>> tuneCall(TrainingRequest r) {
        Args a = new Args();
        a.add("project_name", r.project(), "");
        a.add("task", r.task(), "");
        a.add("relation_name", r.data().path("relation").asText(), "");
        a.add("y_column_name", r.data().path("label_column").asText(), "");
        a.add("model_name", r.modelName().orElseThrow(), "");
        a.add("hyperparams", r.hyperparameters().toString(), "::jsonb");
        a.add("test_size", (float) r.testSize(), "::real");
        a.add("test_sampling", r.testSampling(), "");
        a.add("automatic_deploy", r.deploy() == TrainingRequest.Deploy.IF_BETTER, "::boolean");
        return Map.entry("select * from " + pgml + ".tune(" + a.sql() + ")", a.values);
    }

    /** Named arguments; text goes as an untyped parameter so PostgresML's enum types (algorithm, sampling) accept it. */
    private static final class Args {
        final List<String> parts = new ArrayList<>();
        final List<Object> values = new ArrayList<>();

        void add(String name, Object value, String cast) {
            parts.add(name + " => ?" + cast);
            values.add(value);
        }

        String sql() {
            return String.join(", ", parts);
        }
    }

    private static void bind(PreparedStatement s, List<Object> values) throws SQLException {
        for (int i = 0; i < values.size(); i++) {
            Object v = values.get(i);
            if (v instanceof String text) {
                s.setObject(i + 1, text, Types.OTHER);
            } else {
                s.setObject(i + 1, v);
            }
        }
    }

    private void requireFunction(Connection c, String function) throws SQLException, JobFailure {
        try (PreparedStatement s = c.prepareStatement("select current_database(), exists (select 1 from pg_proc p join"
                + " pg_namespace n on n.oid = p.pronamespace where n.nspname = ? and p.proname = ?)")) {
            s.setString(1, pgml);
            s.setString(2, function);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(2)) {
                    throw new JobFailure("PostgresML extension \"pgml\" is not installed in database \""
                            + rs.getString(1) + "\" (no function " + pgml + "." + function + "): install PostgresML"
                            + " and run CREATE EXTENSION pgml, or use the builtin backend");
                }
            }
        }
    }

    private void cancel(int pid) {
        try (Connection c = pool.getConnection();
                PreparedStatement s = c.prepareStatement("select pg_cancel_backend(?)")) {
            s.setInt(1, pid);
            s.executeQuery().close();
            log.info("cancelled the pgml statement of backend {}", pid);
        } catch (SQLException e) {
            log.warn("cannot cancel backend {}: {}", pid, e.toString());
        }
    }

    /**
     * The dedicated connection's socket timeout: the statement timeout plus {@link #SOCKET_MARGIN}.
     * The server ends the call at the statement timeout; silence beyond the margin means the
     * network lost the connection, and the job is requeued instead of waiting for ever.
     */
    Duration socketTimeout() {
        return statementTimeout.plus(SOCKET_MARGIN);
    }

    private static void abort(Connection c) {
        try {
            c.abort(command -> {
                Thread t = new Thread(command, "training-pgml-abort");
                t.setDaemon(true);
                t.start();
            });
        } catch (SQLException | RuntimeException e) {
            log.warn("cannot abort the pgml connection: {}", e.toString());
        }
    }

    private void terminate(int pid) {
        try (Connection c = pool.getConnection();
                PreparedStatement s = c.prepareStatement("select pg_terminate_backend(?)")) {
            s.setInt(1, pid);
            s.executeQuery().close();
            log.info("terminated backend {}, whose connection was lost during its pgml call", pid);
        } catch (SQLException e) {
            log.warn("cannot terminate backend {}: {}", pid, e.toString());
        }
    }

    private record Model(long id, JsonNode metrics) {}

    private Optional<Model> modelWithId(Connection c, long id) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("select m.id, m.metrics::text from " + pgml + ".models m where m.id = ?")) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(model(rs)) : Optional.empty();
            }
        }
    }

    private static Model model(ResultSet rs) throws SQLException {
        String metrics = rs.getString(2);
        try {
            return new Model(rs.getLong(1), metrics == null ? JSON.createObjectNode() : JSON.readTree(metrics));
        } catch (java.io.IOException e) {
            throw new SQLException("unreadable models.metrics of model " + rs.getLong(1), e);
        }
    }

    private Optional<Long> lastModelId(Connection c, String project) throws SQLException {
        return newModel(c, project, -1).map(Model::id);
    }

    private Optional<Model> newModel(Connection c, String project, long after) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "select m.id, m.metrics::text from " + pgml + ".models m join " + pgml
                        + ".projects p on p.id = m.project_id where p.name = ? and m.id > ? order by m.id desc limit 1")) {
            s.setString(1, project);
            s.setLong(2, after);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(model(rs)) : Optional.empty();
            }
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState())) { // no pgml.models / pgml.projects yet: no model
                return Optional.empty();
            }
            throw e;
        }
    }

    private Optional<Long> deployedModel(Connection c, String project) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select d.model_id from " + pgml + ".deployments d join " + pgml
                + ".projects p on p.id = d.project_id where p.name = ? order by d.id desc limit 1")) {
            s.setString(1, project);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(rs.getLong(1)) : Optional.empty();
            }
        }
    }
}
