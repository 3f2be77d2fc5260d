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

    @Test
    void aPoolSmallerThanWhatTheConsumersHoldAtOnceIsToldAtStartUpNamingTheVariables() {
        // the defaults: 10 connections, 1 consumer thread, overlapped writes: 3 needed
        assertThat(EmbeddingWorker.poolShortfall(10, 1, true)).isEmpty();
        assertThat(EmbeddingWorker.poolShortfall(9, 4, true)).isEmpty();
        assertThat(EmbeddingWorker.poolShortfall(5, 4, false)).isEmpty();

        assertThat(EmbeddingWorker.poolShortfall(8, 4, true))
                .hasValueSatisfying(warning -> assertThat(warning)
                        .contains("RAGLINE_DB_POOL_SIZE=8 is below the 9 connections")
                        .contains("4 consumer thread(s)")
                        .contains("at least 9")
                        .contains("RAGLINE_EMBEDDING_OVERLAP_WRITES=false"));
        assertThat(EmbeddingWorker.poolShortfall(4, 4, false))
                .hasValueSatisfying(warning ->
                        assertThat(warning).contains("below the 5 connections").doesNotContain("OVERLAP_WRITES"));
    }
}
