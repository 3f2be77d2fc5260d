package io.ragline.embedding.request;

import io.ragline.embedding.ProviderFailure;
import io.ragline.embedding.request.EmbeddedBatch.Job;
import io.ragline.embedding.request.EmbeddedBatch.Outcome;
import io.ragline.embeddings.EmbeddingException;
import io.ragline.embeddings.EmbeddingProvider;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One model's call for the jobs of a batch that share it: the outcome of each job, its vectors, or
 * its failure when the model refuses its input or gives vectors of other dimensions than its
 * collection's. The one home of that judgement, for the serving generations' calls (on the
 * consumer's thread) and the others' ({@link NonServingCalls}, under a deadline).
 */
final class ModelCall {
    private static final Logger log = LoggerFactory.getLogger(ModelCall.class);

    /** How the call's texts reach the model: in one provider call, or in slices under a deadline. */
    @FunctionalInterface
    interface Texts {
        List<float[]> embed(EmbeddingProvider provider, List<String> texts);
    }

    private ModelCall() {}

    /**
     * The outcome of each job, from one call for all of them. When the model refuses the call of
     * several jobs, each job is embedded on its own so only the documents it still refuses fail (one
     * bad document must not fail the documents that happened to share its batch).
     *
     * @throws EmbeddingException (retryable) when the model is unavailable or the endpoint refuses
     *     this worker (its key, URL or model), which no document is to blame for
     */
    static List<Outcome> embed(EmbeddingProvider provider, List<Job> jobs, Texts model, EmbeddingMetrics metrics) {
        List<String> texts = new ArrayList<>();
        jobs.forEach(j -> texts.addAll(j.texts()));
        List<float[]> all;
        try {
            all = texts.isEmpty() ? List.of() : model.embed(provider, texts); // every vector kept
        } catch (EmbeddingException refused) {
            requireRefusedInput(refused);
            if (jobs.size() == 1) {
                return List.of(Outcome.failed(jobs.get(0), refused.getMessage()));
            }
            log.info(
                    "model {} refused the chunks of {} documents ({}); embedding each document on its own to fail only"
                            + " those it refuses",
                    provider.model(),
                    jobs.size(),
                    refused.getMessage());
            List<Outcome> each = new ArrayList<>(jobs.size());
            for (Job job : jobs) {
                try {
                    List<float[]> vectors = job.texts().isEmpty() ? List.of() : model.embed(provider, job.texts());
                    each.add(checked(provider, job, vectors, metrics));
                } catch (EmbeddingException alone) {
                    requireRefusedInput(alone);
                    each.add(Outcome.failed(job, alone.getMessage()));
                }
            }
            return each;
        }
        List<Outcome> each = new ArrayList<>(jobs.size());
        int at = 0;
        for (Job job : jobs) {
            each.add(checked(provider, job, all.subList(at, at + job.texts().size()), metrics));
            at += job.texts().size();
        }
        return each;
    }

    private static Outcome checked(
            EmbeddingProvider provider, Job job, List<float[]> vectors, EmbeddingMetrics metrics) {
        if (!vectors.isEmpty() && vectors.get(0).length != job.collection().dimensions()) {
            return Outcome.failed(
                    job,
                    "model " + provider.model() + " gives " + vectors.get(0).length + " dimensions, collection '"
                            + job.collection().name() + "' has "
                            + job.collection().dimensions());
        }
        metrics.computed.increment(vectors.size());
        metrics.reused.increment(job.chunks() - job.ids().size());
        return Outcome.embedded(job, vectors, provider.model());
    }

    /**
     * Returns if {@code failure} blames the input (the documents); otherwise throws a retryable
     * failure: the batch is retried with backoff (the worker's failure policy: transient), and the
     * message, which the consumer logs when it pauses, says why.
     */
    private static void requireRefusedInput(EmbeddingException failure) {
        switch (ProviderFailure.of(failure)) {
            case UNAVAILABLE -> throw failure;
            case MISCONFIGURED ->
                throw new EmbeddingException(
                        "the embedding endpoint refuses this worker, not the documents' content ("
                                + failure.getMessage() + "): check RAGLINE_OPENAI_BASE_URL, RAGLINE_OPENAI_API_KEY"
                                + " and the collection's model; no document is marked failed, the batch is retried"
                                + " with backoff",
                        true,
                        failure);
            case INPUT_REFUSED -> {
                // the caller fails the documents
            }
        }
    }
}
