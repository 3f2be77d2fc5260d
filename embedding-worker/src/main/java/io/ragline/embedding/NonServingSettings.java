package io.ragline.embedding;

import io.ragline.core.config.Env;
import io.ragline.core.config.Problems;
import java.time.Duration;

/**
 * How the embedding-worker treats the models of generations that do not serve (a migration's
 * building one, a kept one): how long the consumer waits for each answer of such a model before its
 * vectors are owed (docs/architecture.md section 11, "Embedding generations").
 *
 * @param deadline {@code RAGLINE_EMBEDDING_NONSERVING_DEADLINE}: the most the consumer waits for
 *     one answer of a non-serving model (its provider, then each call of {@code
 *     RAGLINE_EMBEDDING_BATCH_SIZE} texts); a model
 *     that does not answer within it has its vectors owed, and the migration's sweep asks again
 */
public record NonServingSettings(Duration deadline) {
    public static final String DEADLINE = "RAGLINE_EMBEDDING_NONSERVING_DEADLINE";

    /** {@link #DEADLINE} default: far beyond a healthy call of a batch of texts, well below an HTTP timeout. */
    public static final Duration DEFAULT_DEADLINE = Duration.ofSeconds(10);

    /** {@link #DEADLINE} at most: past it the bound is no bound on the serving path. */
    public static final Duration MAX_DEADLINE = Duration.ofMinutes(5);

    public NonServingSettings {
        Problems p = new Problems();
        p.positive(DEADLINE, deadline);
        p.check(
                deadline == null || deadline.compareTo(MAX_DEADLINE) <= 0,
                Problems.quoted(DEADLINE, deadline == null ? null : Problems.text(deadline)) + " must be at most "
                        + Problems.text(MAX_DEADLINE));
        p.throwIfAny();
    }

    /** Reads {@link #DEADLINE}; a problem is recorded in {@code env} (the default stands in), not thrown. */
    public static NonServingSettings from(Env env) {
        Duration deadline = env.duration(DEADLINE, DEFAULT_DEADLINE);
        return env.build(() -> new NonServingSettings(deadline), () -> new NonServingSettings(DEFAULT_DEADLINE));
    }
}
