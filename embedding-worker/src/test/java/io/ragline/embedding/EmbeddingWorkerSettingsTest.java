package io.ragline.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.testkit.ReadmeConfiguration;
import org.junit.jupiter.api.Test;

/** The embedding-worker's own variables (beside its settings records) are in the README with their defaults. */
class EmbeddingWorkerSettingsTest {
    @Test
    void theReadmeDocumentsTheWorkersOwnVariablesWithTheDefaultsTheCodeUses() {
        ReadmeConfiguration readme = ReadmeConfiguration.read();

        assertThat(readme.variables()).containsAll(ReadmeConfiguration.variablesOf(EmbeddingWorker.class));
        assertThat(readme.defaultOf(EmbeddingWorker.MAX_REQUESTS))
                .isEqualTo(ReadmeConfiguration.code(String.valueOf(EmbeddingWorker.DEFAULT_MAX_REQUESTS)));
        assertThat(readme.defaultOf(EmbeddingWorker.OVERLAP_WRITES))
                .isEqualTo(ReadmeConfiguration.code(String.valueOf(EmbeddingWorker.DEFAULT_OVERLAP_WRITES)));
    }
}
