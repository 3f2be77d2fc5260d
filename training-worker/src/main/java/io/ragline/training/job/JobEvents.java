package io.ragline.training.job;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.contracts.pipeline.PipelineEvent;
import io.ragline.contracts.pipeline.PipelineEventCodec;
import io.ragline.contracts.pipeline.TrainingEvent;
import io.ragline.contracts.status.TrainingJobStatus;
import io.ragline.core.outbox.Outbox;
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
    private static final PipelineEventCodec CODEC = new PipelineEventCodec();

    /** What a {@code training.succeeded} event adds: the new model and whether it was deployed. */
    public record Success(long model, boolean deployed, String deployReason, ObjectNode metrics) {}

    /**
     * @param status the job's final status, which names the event
     * @param success the new model of a succeeded job, else null
     * @param error the failure, or null
     */
    public void write(Connection c, long jobId, TrainingJobStatus status, Success success, String error)
            throws SQLException {
        PipelineEvent.Type type = switch (status) {
            case SUCCEEDED -> PipelineEvent.Type.TRAINING_SUCCEEDED;
            case FAILED -> PipelineEvent.Type.TRAINING_FAILED;
            case CANCELLED -> PipelineEvent.Type.TRAINING_CANCELLED;
            case QUEUED, RUNNING ->
                throw new IllegalArgumentException(
                        "training job " + jobId + " is " + status.stored() + ", not final: no event");
        };
        try (PreparedStatement s = c.prepareStatement("select project, request_id, backend, task, algorithm,"
                + " attempts from training_jobs where id = ?")) {
            s.setLong(1, jobId);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException("training job " + jobId + " vanished");
                }
                Outbox.append(
                        c,
                        CODEC,
                        new TrainingEvent(
                                type,
                                rs.getString(1),
                                jobId,
                                rs.getString(2),
                                rs.getString(3),
                                rs.getString(4),
                                rs.getString(5),
                                rs.getInt(6),
                                PipelineEventCodec.error(error),
                                success == null ? null : success.model(),
                                success == null ? null : success.deployed(),
                                success == null ? null : success.deployReason(),
                                success == null ? null : success.metrics()));
            }
        }
    }
}
