package io.ragline.benchmarks.corpus;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ManPageClozeTest {
    /** A page as {@code MANWIDTH=80 man -P cat | col -bx} renders it: header, sections, wrapped lines, footer. */
    private static final String RENDERED = String.join(
            "\n",
            "",
            "FROB(1)                         User Commands                        FROB(1)",
            "",
            "NAME",
            "       frob - turn widgets into gadgets and back again for everybody here",
            "",
            "DESCRIPTION",
            "       Widgets  are read from the standard input and written out as gadgets, one",
            "       per line, until the input ends. The conversion keeps every attribute of",
            "       the widget that a gadget can hold, and drops the others with a warning.",
            "",
            "       A very long and compli\u2010",
            "       cated sentence about the configuration file follows here in this text.",
            "",
            "       -v, --verbose",
            "              Print what frob does with each widget as it goes along.",
            "",
            "   Exit status",
            "       Zero when every widget became a gadget, one when some could not be turned.",
            "",
            "SEE ALSO",
            "       The gadget manual describes every single attribute that a gadget has.",
            "",
            "GNU frob 1.0                     May 2024                            FROB(1)",
            "");

    @Test
    void aPageBecomesParagraphsWithoutHeaderFooterOrHardWraps() {
        ManPageCloze.Page page = ManPageCloze.page("frob", RENDERED);

        assertThat(page.paragraphs())
                .containsExactly(
                        "NAME",
                        "frob - turn widgets into gadgets and back again for everybody here",
                        "DESCRIPTION",
                        "Widgets are read from the standard input and written out as gadgets, one per line, until the"
                                + " input ends. The conversion keeps every attribute of the widget that a gadget can"
                                + " hold, and drops the others with a warning.",
                        "A very long and complicated sentence about the configuration file follows here in this text.",
                        "-v, --verbose Print what frob does with each widget as it goes along.",
                        "Exit status",
                        "Zero when every widget became a gadget, one when some could not be turned.",
                        "SEE ALSO",
                        "The gadget manual describes every single attribute that a gadget has.");
    }

    @Test
    void sentencesAskedAreLongEnoughOutsideSkippedSectionsAndDoNotNameThePage() {
        ManPageCloze.Page page = ManPageCloze.page("frob", RENDERED);

        assertThat(page.candidates())
                .containsExactly(
                        "Widgets are read from the standard input and written out as gadgets, one per line, until the"
                                + " input ends.",
                        "The conversion keeps every attribute of the widget that a gadget can hold, and drops the"
                                + " others with a warning.",
                        "A very long and complicated sentence about the configuration file follows here in this"
                                + " text.",
                        "Zero when every widget became a gadget, one when some could not be turned.");
    }

    @Test
    void aLastLineThatIsNoRunningFooterIsKept() {
        ManPageCloze.Page page = ManPageCloze.page(
                "frob",
                String.join("\n", "FROB(1)      User Commands      FROB(1)", "", "NAME", "       frob - x", "0a"));

        assertThat(page.paragraphs()).containsExactly("NAME", "frob - x", "0a");
    }

    @Test
    void boilerplateCommandLinesAndFragmentsAreNotAsked() {
        assertThat(ManPageCloze.askable("This program is free software; see the licence for copying conditions."))
                .isFalse();
        assertThat(ManPageCloze.askable("Report bugs to the address given in the README file of the package."))
                .isFalse();
        assertThat(ManPageCloze.askable("To list every instance in the project and its region, run:"))
                .isFalse();
        assertThat(ManPageCloze.askable("Use $HOME/.config instead when the variable is set for the user."))
                .isFalse();
        assertThat(ManPageCloze.askable("-a Print all of the entries that start with a dot as well."))
                .isFalse();
        assertThat(ManPageCloze.askable("Too short a sentence.")).isFalse();
        assertThat(ManPageCloze.askable("The file is read once, and every line of it is kept in memory."))
                .isTrue();
    }

    @Test
    void askedSentencesLeaveTheirDocumentAndOnlySentencesFoundOnceInTheCorpusAreAsked() {
        String shared = "This sentence is printed by both of the pages in the same words here.";
        ManPageCloze.Page a = new ManPageCloze.Page(
                "alpha",
                List.of("Alpha reads every widget from its input. " + shared),
                List.of("Alpha reads every widget from its input at once.", shared));
        ManPageCloze.Page b = new ManPageCloze.Page(
                "beta",
                List.of("The input of this tool is read line by line until it ends.", shared),
                List.of("The input of this tool is read line by line until it ends.", shared));

        KnownItems items = ManPageCloze.knownItems(List.of(b, a), 2, 17);

        assertThat(items.documents()).extracting(CorpusDocument::id).containsExactly("alpha", "beta");
        assertThat(items.queries())
                .containsExactly(
                        new KnownItemQuery("The input of this tool is read line by line until it ends.", "beta"));
        assertThat(items.documents().get(1).text()).isEqualTo(shared);
        assertThat(items.documents().get(0).text()).isEqualTo("Alpha reads every widget from its input. " + shared);
    }

    @Test
    void aSentenceFoundInsideALongerOneElsewhereIsNotAsked() {
        String sentence = "Print the name of every widget that was read from the input.";
        ManPageCloze.Page quiet = new ManPageCloze.Page(
                "quiet", List.of("-q, --quiet " + sentence), List.of()); // not split there: no candidate of its own
        ManPageCloze.Page loud = new ManPageCloze.Page("loud", List.of(sentence), List.of(sentence));

        KnownItems items = ManPageCloze.knownItems(List.of(quiet, loud), 1, 17);

        assertThat(items.queries()).isEmpty();
        assertThat(items.documents())
                .extracting(CorpusDocument::text)
                .containsExactly(sentence, "-q, --quiet " + sentence); // by name: loud, quiet
    }

    @Test
    void theSameSeedAsksTheSameSentences() {
        ManPageCloze.Page page = ManPageCloze.page("frob", RENDERED);

        KnownItems once = ManPageCloze.knownItems(List.of(page), 1, 17);
        KnownItems again = ManPageCloze.knownItems(List.of(page), 1, 17);

        assertThat(once).isEqualTo(again);
        assertThat(once.queries()).hasSize(1);
        assertThat(once.documents().get(0).text())
                .doesNotContain(once.queries().get(0).query());
    }
}
