package io.ragline.training.schedule;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.contracts.Json;
import io.ragline.contracts.training.TrainingRequest;
import io.ragline.contracts.training.TrainingRequestCodec;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The {@code training_schedules} rows (migration V8): each requests its training every {@code
 * every} through {@code run_training_schedules()}, which pg_cron or the training-worker's {@link
 * TrainingScheduler} calls. Listing, adding (validated here as the SQL function would refuse it at
 * run time, so a schedule that can never run is not stored) and removing them.
 */
public final class TrainingSchedules {
    /** The table's CHECK on {@code name}. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,99}");

    /** The table's CHECK on {@code every}. */
    public static final Duration MIN_EVERY = Duration.ofMinutes(1);

    private TrainingSchedules() {}

    /** A stored schedule; {@code request} has no {@code request_id} (each run gets its own). */
    public record Schedule(
            String name,
            ObjectNode request,
            Duration every,
            int minNewLabelled,
            boolean enabled,
            Instant nextRunAt,
            Instant lastRunAt,
            String lastRequestId,
            String lastResult) {}

    /** What an operator asks for; {@link #add} checks it. */
    public record NewSchedule(String name, JsonNode request, String every, Integer minNewLabelled, Boolean enabled) {}

    /** A schedule refused, with a message per field ({@code name}, {@code request}, {@code every}, ...). */
    public static final class Invalid extends Exception {
        private final Map<String, String> fields;

        Invalid(Map<String, String> fields) {
            super("the schedule is refused: " + fields);
            this.fields = Map.copyOf(fields);
        }

        public Map<String, String> fields() {
            return fields;
        }
    }

    /** A schedule of that name exists. */
    public static final class NameTaken extends Exception {
        NameTaken(String name) {
            super("a training schedule named '" + name + "' exists");
        }
    }

    /** Every schedule by name, at most {@code limit}, those after {@code afterName} when given. */
    public static List<Schedule> list(Connection c, int limit, Optional<String> afterName) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select " + COLUMNS + " from training_schedules where ?::text"
                + " is null or name > ? order by name limit ?")) {
            s.setString(1, afterName.orElse(null));
            s.setString(2, afterName.orElse(null));
            s.setInt(3, limit);
            List<Schedule> schedules = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    schedules.add(schedule(rs));
                }
            }
            return schedules;
        }
    }

    /** Schedule {@code name}, if it exists. */
    public static Optional<Schedule> find(Connection c, String name) throws SQLException {
        try (PreparedStatement s =
                c.prepareStatement("select " + COLUMNS + " from training_schedules where name = ?")) {
            s.setString(1, name);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(schedule(rs)) : Optional.empty();
            }
        }
    }

    /**
     * Stores a new schedule, due at once (its first run is at the next call of {@code
     * run_training_schedules()}, within a minute).
     */
    public static Schedule add(Connection c, NewSchedule n) throws SQLException, Invalid, NameTaken {
        Map<String, String> problems = new LinkedHashMap<>();
        if (n.name() == null || !NAME.matcher(n.name()).matches()) {
            problems.put(
                    "name", "1 to 100 letters, digits, '_', '.' or '-', starting with a letter or digit, is required");
        }
        Duration every = every(n.every(), problems);
        int min = n.minNewLabelled() == null ? 0 : n.minNewLabelled();
        if (min < 0) {
            problems.put("min_new_labelled", "must be 0 or more");
        }
        ObjectNode request = request(n.request(), min, problems);
        if (!problems.isEmpty()) {
            throw new Invalid(problems);
        }
        try (PreparedStatement s = c.prepareStatement("insert into training_schedules (name, request, every,"
                + " min_new_labelled, enabled) values (?, ?::jsonb, make_interval(secs => ?), ?, ?) on conflict (name)"
                + " do nothing")) {
            s.setString(1, n.name());
            s.setString(2, request.toString());
            s.setDouble(3, every.toMillis() / 1000.0);
            s.setInt(4, min);
            s.setBoolean(5, n.enabled() == null || n.enabled());
            if (s.executeUpdate() == 0) {
                throw new NameTaken(n.name());
            }
        }
        return find(c, n.name()).orElseThrow();
    }

    /** Removes schedule {@code name}; false when there is none. A run it requested goes on. */
    public static boolean remove(Connection c, String name) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("delete from training_schedules where name = ?")) {
            s.setString(1, name);
            return s.executeUpdate() == 1;
        }
    }

    /**
     * Whether pg_cron runs this schema's schedules (a pg_cron job calls {@code
     * run_training_schedules()}), through the owner's {@code pg_cron_runs_training_schedules()}
     * (migrations V13, V14: SECURITY DEFINER, since pg_cron shows a login only its own jobs); empty
     * when this login may not call it. Otherwise the training-worker's in-process scheduler does.
     */
    public static Optional<Boolean> cronRunsThem(Connection c) throws SQLException {
        java.sql.Savepoint before = c.getAutoCommit() ? null : c.setSavepoint();
        try (Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select pg_cron_runs_training_schedules()")) {
            rs.next();
            return Optional.of(rs.getBoolean(1));
        } catch (SQLException e) {
            if (!"42501".equals(e.getSQLState())) {
                throw e;
            }
            if (before != null) {
                c.rollback(before);
            }
            return Optional.empty();
        }
    }

    private static Duration every(String text, Map<String, String> problems) {
        if (text == null) {
            problems.put("every", "is required: a duration such as 30m, 6h or PT24H, at least 1m");
            return null;
        }
        try {
            Duration d = io.ragline.core.config.Env.parseDuration(text);
            if (d.compareTo(MIN_EVERY) < 0) {
                problems.put("every", "'" + text + "' is shorter than 1m, the shortest interval");
            }
            return d;
        } catch (RuntimeException e) {
            problems.put("every", "'" + text + "' is not a duration such as 30m, 6h or PT24H");
            return null;
        }
    }

    /** The request as it is stored: checked by the training contract, without a request id. */
    private static ObjectNode request(JsonNode given, int minNewLabelled, Map<String, String> problems) {
        if (given == null || !given.isObject()) {
            problems.put("request", "is required: a training request (the training topic's JSON) without request_id");
            return null;
        }
        ObjectNode request = ((ObjectNode) given).deepCopy();
        if (request.has("request_id")) {
            problems.put("request.request_id", "a schedule's runs get their own ('scheduled:<project>:<time>')");
            request.remove("request_id");
        }
        ObjectNode checked = request.deepCopy();
        checked.put("request_id", "scheduled");
        List<String> found = new ArrayList<>();
        TrainingRequest decoded = TrainingRequestCodec.decode(checked, found, null);
        if (!found.isEmpty()) {
            problems.put("request", String.join("; ", found));
        } else if (minNewLabelled > 0 && decoded.backend() != TrainingRequest.Backend.BUILTIN) {
            problems.put("min_new_labelled", "counts new labelled documents of a builtin request's collection only");
        }
        return request;
    }

    private static final String COLUMNS = "name, request::text, extract(epoch from every)::bigint, min_new_labelled,"
            + " enabled, next_run_at, last_run_at, last_request_id, last_result";

    private static Schedule schedule(ResultSet rs) throws SQLException {
        try {
            return new Schedule(
                    rs.getString(1),
                    (ObjectNode) Json.MAPPER.readTree(rs.getString(2)),
                    Duration.ofSeconds(rs.getLong(3)),
                    rs.getInt(4),
                    rs.getBoolean(5),
                    instant(rs, 6),
                    instant(rs, 7),
                    rs.getString(8),
                    rs.getString(9));
        } catch (JsonProcessingException e) {
            throw new SQLException("training_schedules holds JSON Jackson cannot read: " + e.getOriginalMessage(), e);
        }
    }

    private static Instant instant(ResultSet rs, int column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }
}
