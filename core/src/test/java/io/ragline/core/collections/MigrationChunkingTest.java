package io.ragline.core.collections;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The chunking a {@code collections migrate --chunk-size/--chunk-overlap} asks for, before any SQL. */
class MigrationChunkingTest {
    private static final Collection SERVING =
            new Collection(1, "docs", "onnx", "all-MiniLM-L6-v2-q", 384, 128, 16, "{title}\n{chunk}", "active");

    @Test
    void noSizeAndNoOverlapKeepTheServingChunking() throws Exception {
        assertThat(MigrationChunkings.chunking(SERVING, null, null)).isNull();
    }

    @Test
    void theServingChunkingAskedForAgainIsNoChange() throws Exception {
        assertThat(MigrationChunkings.chunking(SERVING, 128, 16)).isNull();
        assertThat(MigrationChunkings.chunking(SERVING, 128, null)).isNull();
        assertThat(MigrationChunkings.chunking(SERVING, null, 16)).isNull();
    }

    @Test
    void aSizeAloneKeepsTheOverlapWhenItIsBelowTheSizeElseTakesAnEighth() throws Exception {
        assertThat(MigrationChunkings.chunking(SERVING, 64, null)).containsExactly(64, 16);
        assertThat(MigrationChunkings.chunking(SERVING, 16, null)).containsExactly(16, 2);
        assertThat(MigrationChunkings.chunking(SERVING, 4, null)).containsExactly(4, 0);
    }

    @Test
    void anOverlapAloneKeepsTheSize() throws Exception {
        assertThat(MigrationChunkings.chunking(SERVING, null, 0)).containsExactly(128, 0);
    }

    @Test
    void aBadChunkingNamesEveryFieldThatIsWrong() {
        assertThatThrownBy(() -> MigrationChunkings.chunking(SERVING, 0, -1))
                .isInstanceOfSatisfying(CollectionException.class, e -> {
                    assertThat(e.reason()).isEqualTo(CollectionException.Reason.INVALID);
                    assertThat(e.fieldErrors())
                            .containsEntry("chunk_size_tokens", "must be at least 1, was 0")
                            .containsEntry("chunk_overlap_tokens", "must not be negative, was -1");
                });
        assertThatThrownBy(() -> MigrationChunkings.chunking(SERVING, 64, 64))
                .isInstanceOfSatisfying(
                        CollectionException.class,
                        e -> assertThat(e.fieldErrors())
                                .containsEntry("chunk_overlap_tokens", "must be below the chunk size (64), was 64"));
    }
}
