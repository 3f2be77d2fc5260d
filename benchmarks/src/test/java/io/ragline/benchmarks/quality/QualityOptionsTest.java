package io.ragline.benchmarks.quality;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.embedding.search.SearchMode;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class QualityOptionsTest {
    private static final List<SearchMode> MODES = List.of(SearchMode.VECTOR, SearchMode.HYBRID);

    @Test
    void defaultsAskForThePackagesInEveryModeWithoutThePeer() {
        QualityOptions o = QualityOptions.parse(new String[0], MODES);

        assertThat(o.pages()).isZero();
        assertThat(o.packages()).isEqualTo(300);
        assertThat(o.modes()).isEqualTo(MODES);
        assertThat(o.peerModels()).isEmpty();
    }

    @Test
    void manPagesModesAndThePeerAreReadFromTheirOptions() {
        QualityOptions o = QualityOptions.parse(
                new String[] {
                    "--man-pages", "40", "--per-page", "3", "--corpus-dir", "/tmp/c", "--modes", "text", "--peer", "a,b"
                },
                MODES);

        assertThat(o.pages()).isEqualTo(40);
        assertThat(o.perPage()).isEqualTo(3);
        assertThat(o.corpusDir()).isEqualTo(Path.of("/tmp/c"));
        assertThat(o.modes()).containsExactly(SearchMode.TEXT);
        assertThat(o.peerModels()).containsExactly("a", "b");
    }

    @Test
    void anUnknownOptionAMissingValueAndAnUnknownModeAreRefusedByName() {
        assertThatThrownBy(() -> QualityOptions.parse(new String[] {"--pages", "4"}, MODES))
                .hasMessageContaining("--pages");
        assertThatThrownBy(() -> QualityOptions.parse(new String[] {"--packages", "4", "--seed"}, MODES))
                .hasMessageContaining("--seed has no value");
        assertThatThrownBy(() -> QualityOptions.parse(new String[] {"--modes", "fuzzy"}, MODES))
                .hasMessageContaining("'fuzzy'");
    }
}
