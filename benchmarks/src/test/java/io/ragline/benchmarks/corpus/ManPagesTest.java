package io.ragline.benchmarks.corpus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class ManPagesTest {
    @Test
    void theListPinsOneHundredAndTwentyDistinctPages() {
        assertThat(ManPages.PAGES).hasSize(ManPages.PAGE_COUNT);
        assertThat(new HashSet<>(ManPages.PAGES)).hasSize(ManPages.PAGE_COUNT);
    }

    @Test
    void aCorpusOfNoPagesOrMoreThanThePinnedOnesIsRefused() {
        assertThatThrownBy(() -> ManPages.build(0)).hasMessageContaining("1 to 120 pages, not 0");
        assertThatThrownBy(() -> ManPages.build(121)).hasMessageContaining("not 121");
    }

    /** Only where man is installed: the benchmark's own path needs it, the build does not. */
    @Test
    void pagesRenderAsPlainTextTheSameEachTime() throws Exception {
        assumeTrue(onPath("man") && onPath("col"), "man and col are not installed");

        List<CorpusDocument> first = ManPages.build(2);
        List<CorpusDocument> again = ManPages.build(2);

        assertThat(first).extracting(CorpusDocument::id).containsExactly("CA.pl", "[");
        assertThat(first).isEqualTo(again);
        assertThat(first).allSatisfy(d -> {
            assertThat(d.title()).isEqualTo(d.id());
            assertThat(d.text()).contains("NAME").doesNotContain("\b").doesNotContain("\u001b");
            assertThat(d.text().lines()).allMatch(l -> l.length() <= 80);
        });
    }

    @Test
    void everyMissingPageIsNamedAtOnce() {
        assumeTrue(onPath("man") && onPath("col"), "man and col are not installed");

        assertThatThrownBy(() -> ManPages.build(List.of("ls", "no-such-page-a", "no-such-page-b")))
                .hasMessageContaining("`man` does not find on this machine: no-such-page-a, no-such-page-b");
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
                return true;
            }
        }
        return false;
    }
}
