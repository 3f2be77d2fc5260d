package io.ragline.training.job;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * {@code training.succeeded}, {@code training.failed} and {@code training.cancelled} on
 * {@code pipeline-events} (key: the project), written to the outbox in the transaction that makes
 * the job's row final, so the event exists exactly when the final row does.
 */
public final class JobEvents {
    public static final String TOPIC = "pipeline-events";

    /**
     * @param extra merged into the event (model id, deployed, metrics), or null
     * @param error the failure, or null
     */
    public void write(Connection c, long jobId, String type, ObjectNode extra, String error) throws SQLException {
        ObjectNode event = JobStore.JSON.createObjectNode();
        event.put("schema_version", 1);
        event.put("type", type);
        String project;
        try (PreparedStatement s = c.prepareStatement("select project, request_id, backend, task, algorithm,"
                + " attempts from training_jobs where id = ?")) {
            s.setLong(1, jobId);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("training job " + jobId + " vanished");
                }
                project = rs.getString(1);
                event.put("project", project);
                event.put("job", jobId);
                event.put("request_id", rs.getString(2));
                event.put("backend", rs.getString(3));
                event.put("task", rs.getString(4));
                event.put("algorithm", rs.getString(5));
                event.put("attempts", rs.getInt(6));
            }
        }
        if (extra != null) {
            event.setAll(extra);
        }
        if (error != null) {
            event.put("error", error.length() > 2000 ? error.substring(0, 1999) + "…" : error);
        }
        try (PreparedStatement s =
                c.prepareStatement("insert into outbox (topic, key, payload) values (?, ?, ?::jsonb)")) {
            s.setString(1, TOPIC);
            s.setString(2, project);
            s.setString(3, event.toString());
            s.executeUpdate();
        }
    }
}
