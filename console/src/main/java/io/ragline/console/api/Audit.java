package io.ragline.console.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.core.http.ApiTokens.Role;
import io.ragline.core.http.Caller;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The {@code audit_log} table, the one record of what was done through the API: {@link ApiRoutes}
 * writes a row for every mutating call before its handler runs ({@link #begin}; if the row cannot
 * be written, the action is not taken) and its outcome after ({@link #finish}); a call refused for
 * its role is one row with status 403 ({@link #refused}). Handlers never write here themselves.
 */
public final class Audit {
    private final DataSource database;

    public Audit(DataSource database) {
        this.database = database;
    }

    /** At most this much of a path is kept: a request line can be hundreds of kilobytes. */
    static final int MAX_TARGET = 512;
    /** At most this much of an outcome is kept. */
    static final int MAX_OUTCOME = 1000;

    /** The row of a call about to run; its id, for {@link #finish}. */
    long begin(Caller caller, Route route, String path) throws SQLException {
        return insert(caller, route, path, null, null);
    }

    private long insert(Caller caller, Route route, String path, Integer status, String outcome) throws SQLException {
        try (Connection c = database.getConnection();
                PreparedStatement s = c.prepareStatement(
                        "insert into audit_log (who, role, action, target, status,"
                                + " outcome, finished_at) values (?, ?, ?, ?, ?, ?, case when ? then now() end) returning id")) {
            s.setString(1, caller.name());
            s.setString(2, caller.role().label());
            s.setString(3, route.name());
            s.setString(4, cut(path, MAX_TARGET));
            s.setObject(5, status, java.sql.Types.INTEGER);
            s.setString(6, outcome == null ? null : cut(outcome, MAX_OUTCOME));
            s.setBoolean(7, status != null);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    void finish(long id, int status, String outcome) throws SQLException {
        try (Connection c = database.getConnection();
                PreparedStatement s = c.prepareStatement(
                        "update audit_log set status = ?, outcome = ?, finished_at = now() where id = ? and status is"
                                + " null")) {
            s.setInt(1, status);
            s.setString(2, outcome == null ? null : cut(outcome, MAX_OUTCOME));
            s.setLong(3, id);
            s.executeUpdate();
        }
    }

    /** A call refused for its role: one row, written whole in one statement. */
    void refused(Caller caller, Route route, String path, String outcome) throws SQLException {
        insert(caller, route, path, 403, outcome);
    }

    private static String cut(String text, int max) {
        return text.length() <= max ? text : text.substring(0, max) + "...";
    }

    /** {@code GET /audit}: newest first, paged by id. */
    public void register(ApiRoutes routes) {
        ObjectNode entry = Schemas.object(
                "id", Schemas.integer(),
                "at", Schemas.dateTime(),
                "who", Schemas.string("the token's name, or its role and fingerprint, or anonymous"),
                "role", Schemas.enumeration("viewer", "operator", "admin"),
                "action", Schemas.string("the route, as METHOD /template"),
                "target", Schemas.string("the path it was called on"),
                "status", Schemas.nullable(Schemas.integer()),
                "outcome", Schemas.nullable(Schemas.string()),
                "finished_at", Schemas.nullable(Schemas.dateTime()));
        routes.get("/audit", Role.VIEWER, "Every mutating call and every refusal, newest first", this::list)
                .describe(r -> r.tag("audit")
                        .description("A row is written before the action runs and its outcome after: a row whose"
                                + " status is null is an action still running, or one whose process stopped first.")
                        .query("who", "only calls by this caller", Schemas.string())
                        .paged()
                        .answers(200, "a page of entries", Schemas.page(entry)));
    }

    private ApiResponse list(ApiRequest request) throws SQLException {
        Page.Request page = request.page();
        Optional<Long> after = page.afterId();
        Optional<String> who = request.query("who");
        List<ObjectNode> rows = new ArrayList<>();
        try (Connection c = database.getConnection();
                PreparedStatement s = c.prepareStatement("select id, at, who, role, action, target, status, outcome,"
                        + " finished_at from audit_log where (?::bigint is null or id < ?) and (?::text is null or"
                        + " who = ?) order by id desc limit ?")) {
            s.setObject(1, after.orElse(null), java.sql.Types.BIGINT);
            s.setObject(2, after.orElse(null), java.sql.Types.BIGINT);
            s.setString(3, who.orElse(null));
            s.setString(4, who.orElse(null));
            s.setInt(5, page.fetchSize());
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    ObjectNode row = Json.object();
                    row.put("id", rs.getLong("id"));
                    row.put("at", instant(rs.getTimestamp("at")));
                    row.put("who", rs.getString("who"));
                    row.put("role", rs.getString("role"));
                    row.put("action", rs.getString("action"));
                    row.put("target", rs.getString("target"));
                    int status = rs.getInt("status");
                    if (rs.wasNull()) {
                        row.putNull("status");
                    } else {
                        row.put("status", status);
                    }
                    row.put("outcome", rs.getString("outcome"));
                    row.put("finished_at", instant(rs.getTimestamp("finished_at")));
                    rows.add(row);
                }
            }
        }
        return ApiResponse.ok(Page.of(page, rows, row -> row.get("id").asText()));
    }

    /** A timestamp as the API writes every one: ISO-8601 in UTC, or null. */
    public static String instant(Timestamp t) {
        return t == null ? null : t.toInstant().toString();
    }
}
