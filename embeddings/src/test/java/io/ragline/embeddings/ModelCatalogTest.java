package io.ragline.embeddings;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.embeddings.EmbeddingModelSpec.Pooling;
import org.junit.jupiter.api.Test;

class ModelCatalogTest {
    @Test
    void theDefaultModelIsInt8MiniLmWithMeanPoolingAndA256TokenWindow() {
        EmbeddingModelSpec spec = ModelCatalog.defaultModel();
        assertThat(spec.name()).isEqualTo("all-MiniLM-L6-v2-q");
        assertThat(spec.quantized()).isTrue();
        assertThat(spec.dimensions()).isEqualTo(384);
        assertThat(spec.maxTokens()).isEqualTo(256);
        assertThat(spec.pooling()).isEqualTo(Pooling.MEAN);
        assertThat(spec.queryPrefix()).isEmpty();
    }

    @Test
    void bgeUsesClsPoolingA512TokenWindowAndItsRetrievalInstruction() {
        for (String name : new String[] {"bge-small-en-v1.5", "bge-small-en-v1.5-q"}) {
            EmbeddingModelSpec spec = ModelCatalog.get(name);
            assertThat(spec.pooling()).isEqualTo(Pooling.CLS);
            assertThat(spec.maxTokens()).isEqualTo(512);
            assertThat(spec.queryPrefix()).isEqualTo("Represent this sentence for searching relevant passages: ");
        }
    }

    @Test
    void everyCatalogedModelHasItsFilesOnTheClasspath() {
        for (String name : ModelCatalog.names()) {
            EmbeddingModelSpec spec = ModelCatalog.get(name);
            assertThat(ModelResources.tokenizerJson(spec)).as(name).hasSizeGreaterThan(100_000);
            assertThat(ModelCatalog.class.getClassLoader().getResource(spec.onnxResource()))
                    .as(name)
                    .isNotNull();
        }
    }

    @Test
    void anUnknownModelIsRefusedWithTheListOfKnownModels() {
        assertThatThrownBy(() -> ModelCatalog.get("all-MiniLM-L12-v2"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown embedding model 'all-MiniLM-L12-v2'; known models: all-MiniLM-L6-v2-q,"
                        + " all-MiniLM-L6-v2, bge-small-en-v1.5, bge-small-en-v1.5-q");
    }
}
