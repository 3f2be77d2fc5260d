package io.ragline.benchmarks.corpus;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class DebianPackagesTest {
    private static final String LONG = "x".repeat(DebianPackages.MIN_DESCRIPTION_CHARS);

    private static List<DebianPackages.Package> parse(String stanzas) throws Exception {
        return DebianPackages.parse(new BufferedReader(new StringReader(stanzas)));
    }

    @Test
    void readsNameSynopsisAndLongDescriptionOfEachStanza() throws Exception {
        List<DebianPackages.Package> packages = parse("""
                Package: hello
                Version: 2.10-3
                Description: example package based on GNU hello
                 The GNU hello program produces a familiar, friendly greeting.
                 It allows non-programmers to use a classic computer science tool.
                 .
                 Seriously, though: this is an example.
                Homepage: https://www.gnu.org/software/hello/
                Tag: role::program,
                 suite::gnu

                Package: 0ad
                Description-md5: d943033bedada21853d2ae54a2578a7b
                Description-en: Real-time strategy game of ancient warfare
                 0 A.D. is a real-time strategy game.
                """);

        assertThat(packages)
                .containsExactly(
                        new DebianPackages.Package(
                                "hello",
                                "example package based on GNU hello",
                                "The GNU hello program produces a familiar, friendly greeting. It allows"
                                        + " non-programmers to use a classic computer science tool.\n\n"
                                        + "Seriously, though: this is an example."),
                        new DebianPackages.Package(
                                "0ad",
                                "Real-time strategy game of ancient warfare",
                                "0 A.D. is a real-time strategy game."));
    }

    @Test
    void verbatimLinesKeepTheirOwnLines() {
        String text = DebianPackages.plainText(
                List.of(" It provides:", "  * a parser;", "  * a printer.", " .", " Wrapped", " paragraph."));

        assertThat(text).isEqualTo("It provides:\n* a parser;\n* a printer.\n\nWrapped paragraph.");
    }

    @Test
    void aPackageSeenAgainKeepsItsFirstStanza() throws Exception {
        List<DebianPackages.Package> packages = parse("""
                Package: a
                Description: first
                 one

                Package: a
                Description: second
                 two
                """);

        assertThat(packages).extracting(DebianPackages.Package::synopsis).containsExactly("first");
    }

    @Test
    void onlyLongDescriptionsWithTheirOwnTextAndSynopsisAreUsable() {
        List<DebianPackages.Package> usable = DebianPackages.usable(List.of(
                new DebianPackages.Package("short", "too short", "x".repeat(DebianPackages.MIN_DESCRIPTION_CHARS - 1)),
                new DebianPackages.Package("b-copy", "a copy", LONG),
                new DebianPackages.Package("a-original", "the original", LONG),
                new DebianPackages.Package("d-same-synopsis", "The  Original", LONG + " but longer"),
                new DebianPackages.Package("c", "something else", LONG + " and more")));

        assertThat(usable).extracting(DebianPackages.Package::name).containsExactly("a-original", "c");
    }

    @Test
    void aHigherMinimumKeepsOnlyTheLongerDescriptions() {
        List<DebianPackages.Package> packages = List.of(
                new DebianPackages.Package("a", "short one", LONG),
                new DebianPackages.Package("b", "long one", LONG + LONG));

        assertThat(DebianPackages.usable(packages, 2 * DebianPackages.MIN_DESCRIPTION_CHARS))
                .extracting(DebianPackages.Package::name)
                .containsExactly("b");
    }

    @Test
    void theSampleIsTheSameForTheSameSeedAndALargerOneHoldsASmallerOne() {
        List<DebianPackages.Package> all = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            all.add(new DebianPackages.Package("p" + i, "synopsis " + i, LONG + i));
        }

        KnownItems ten = DebianPackages.sample(all, 10, 17);
        List<DebianPackages.Package> reversed = new ArrayList<>(all);
        Collections.reverse(reversed);
        KnownItems tenAgain = DebianPackages.sample(reversed, 10, 17);
        KnownItems twenty = DebianPackages.sample(all, 20, 17);
        KnownItems otherSeed = DebianPackages.sample(all, 10, 18);

        assertThat(ten).isEqualTo(tenAgain);
        assertThat(twenty.documents()).containsAll(ten.documents());
        assertThat(otherSeed.documents()).isNotEqualTo(ten.documents());
        assertThat(ten.documents()).extracting(CorpusDocument::id).isSorted();
        CorpusDocument first = ten.documents().get(0);
        assertThat(first.title()).isEqualTo(first.id());
        assertThat(ten.queries())
                .contains(new KnownItemQuery("synopsis " + first.id().substring(1), first.id()))
                .hasSize(10);
    }

    @Test
    void askingForMorePackagesThanThereAreFails() {
        assertThatThrownBy(() -> DebianPackages.sample(List.of(), 1, 17))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has 0");
    }
}
