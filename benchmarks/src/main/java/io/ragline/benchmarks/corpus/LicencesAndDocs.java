package io.ragline.benchmarks.corpus;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The pipeline benchmark's corpus: Debian's licences ({@code /usr/share/common-licenses}) and this
 * repository's {@code docs/*.md} as of {@link #DOCS_AT}, each a document whose id and title are its
 * file name; and sentences of the Apache licence for one-chunk documents.
 */
public final class LicencesAndDocs {
    private LicencesAndDocs() {}

    /**
     * The commit whose {@code docs/*.md} join the corpus. The docs grow with every change, so
     * reading the working tree's made later runs cut more chunks than earlier ones (4,065 against
     * 3,795 a few hours apart): runs compare only on the same text. This is the commit runs 15-17
     * of docs/benchmarks.md read.
     */
    public static final String DOCS_AT = "d1ee8f0503ca093b31c244cf8d3b03078812be0d";

    /** The licences, then the docs at {@link #DOCS_AT} (the licences alone where git cannot read them). */
    public static List<CorpusDocument> read() throws IOException, InterruptedException {
        List<CorpusDocument> out = new ArrayList<>();
        try (var licences = Files.list(Path.of("/usr/share/common-licenses"))) {
            for (Path p : licences.filter(Files::isRegularFile).sorted().toList()) {
                String name = p.getFileName().toString();
                out.add(new CorpusDocument(name, name, Files.readString(p)));
            }
        }
        // --full-tree: the path is the repository's, wherever the benchmark runs from inside it
        String docs = git("ls-tree", "--full-tree", "--name-only", DOCS_AT, "docs/");
        if (docs == null || docs.isBlank()) {
            System.out.printf(
                    Locale.ROOT, "corpus: the licences only (docs at %s not readable with git here)%n", DOCS_AT);
        } else {
            for (String path :
                    docs.lines().filter(n -> n.endsWith(".md")).sorted().toList()) {
                // named by the file alone, as before, so the titles in front of the chunks are the same
                String text = git("show", DOCS_AT + ":" + path);
                if (text == null) {
                    throw new IllegalStateException("git show " + DOCS_AT + ":" + path + " failed");
                }
                String name = Path.of(path).getFileName().toString();
                out.add(new CorpusDocument(name, name, text));
            }
        }
        System.out.printf(
                Locale.ROOT,
                "corpus: %d documents, %,d characters (licences and docs at %s)%n",
                out.size(),
                out.stream().mapToLong(c -> c.text().length()).sum(),
                DOCS_AT);
        return out;
    }

    /** Sentences of 15 to 40 words from the Apache licence: one chunk each. */
    public static List<String> sentences() throws IOException {
        List<String> out = new ArrayList<>();
        String text = Files.readString(Path.of("/usr/share/common-licenses/Apache-2.0"))
                .replaceAll("\\s+", " ");
        for (String s : text.split("(?<=[.;]) ")) {
            int words = s.split(" ").length;
            if (words >= 15 && words <= 40) {
                out.add(s);
            }
        }
        return out;
    }

    /** {@code git args}' output, or null when git is missing or fails (not a clone, a shallow one). */
    private static String git(String... args) throws InterruptedException {
        List<String> command = new ArrayList<>(List.of("git"));
        command.addAll(List.of(args));
        try {
            Process git = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            String out = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            return git.waitFor() == 0 ? out : null;
        } catch (IOException noGit) {
            return null;
        }
    }
}
