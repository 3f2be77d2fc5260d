package io.ragline.contracts.pipeline;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * {@code training.succeeded}, {@code training.failed} or {@code training.cancelled} of job
 * {@code job} ({@code training_jobs.id}). The optional fields are null when absent.
 *
 * @param model succeeded: {@code models.id} of the new model
 * @param deployed succeeded: whether the new model is now the project's deployed one
 * @param metrics succeeded: the job's evaluation (see the schema)
 */
public record TrainingEvent(
        Type type,
        String project,
        long job,
        String requestId,
        String backend,
        String task,
        String algorithm,
        Integer attempts,
        String error,
        Long model,
        Boolean deployed,
        String deployReason,
        ObjectNode metrics)
        implements PipelineEvent {

    public TrainingEvent {
        if (type.isDocument()) {
            throw new IllegalArgumentException(type.json() + " is not a training event");
        }
    }

    @Override
    public String key() {
        return project;
    }
}
