package io.ragline.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.collections.Collection;
import io.ragline.core.collections.Generation;
import io.ragline.core.collections.GenerationState;
import io.ragline.core.config.Env;
import io.ragline.embeddings.EmbeddingSettings;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ProviderRegistryNonServingTest {
    static final Collection REMOTE =
            new Collection(7, "remote", "openai", "stub-model", 8, 256, 32, "{title}\n{chunk}", "active");

    @Test
    void aNonServingModelTheWriterCannotCreateIsReportedOnceAndLeavesReadinessAlone() {
        try (ProviderRegistry registry = new ProviderRegistry(EmbeddingSettings.from(new Env(Map.of())), null)) {
            Collection building = REMOTE.as(new Generation(7, 2, "openai", "next-model", 8, GenerationState.BUILDING));

            registry.nonServingUncreatable(
                    building,
                    "collection 'remote' uses provider 'openai' but this" + " embedding-worker has no endpoint");
            registry.nonServingUncreatable(
                    building,
                    "collection 'remote' uses provider 'openai' but this"
                            + " embedding-worker has no endpoint"); // a later batch

            assertThat(registry.nonServingProblems()).isEqualTo(1);
            assertThat(registry.nonServing().holdsReadiness()).isFalse();
            assertThat(registry.nonServing().problem())
                    .hasValue("collection 'remote' generation 2 (not serving): model openai/next-model/8 cannot run"
                            + " here: collection 'remote' uses provider 'openai' but this embedding-worker has no"
                            + " endpoint");
            assertThat(registry.readiness().problem()).isEmpty();
        }
    }
}
