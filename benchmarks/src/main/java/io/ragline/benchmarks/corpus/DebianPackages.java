package io.ragline.benchmarks.corpus;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A known-item corpus from Debian's package descriptions: each document is a package's long
 * description (id and title: the package name), its query the package's one-line synopsis.
 *
 * <p>The input is any file of Debian control stanzas with a {@code Description} or {@code
 * Description-en} field: {@code apt-cache dumpavail}'s output ({@link #APT}), dpkg's status file
 * ({@link #INSTALLED}: the installed packages, a few hundred) or an apt {@code Translation-en}
 * index, which holds the long descriptions of the whole archive. apt on this machine's image keeps
 * no translations ({@code Acquire::Languages "none"}), so its {@code dumpavail} has synopses only;
 * the archive's long descriptions come into a private directory, leaving the system's lists alone,
 * with {@code apt-get update -o Dir::State::Lists=/tmp/ragline-apt -o Acquire::Languages=en -o
 * Acquire::GzipIndexes=false} (then read {@code /tmp/ragline-apt/*_main_i18n_Translation-en}).
 * Which packages there are depends on the apt sources and the day the lists were fetched.
 *
 * <p>Kept: packages whose long description has at least {@link #MIN_DESCRIPTION_CHARS}
 * characters (or another minimum), the first by name of each distinct description and of each distinct synopsis (case
 * and spacing ignored), so that no query has two right answers. The sample of {@code n} is the
 * {@code n} packages whose SHA-256 of {@code seed/name} is smallest: the same on every machine with
 * the same lists, and a larger sample holds every smaller one.
 */
public final class DebianPackages {
    /** The shortest long description kept: shorter ones say little more than the synopsis. */
    public static final int MIN_DESCRIPTION_CHARS = 200;

    public static final long DEFAULT_SEED = 17;

    /** The source that runs {@code apt-cache dumpavail}. */
    public static final String APT = "apt";

    /** dpkg's status file: the installed packages' full descriptions. */
    public static final Path INSTALLED = Path.of("/var/lib/dpkg/status");

    private DebianPackages() {}

    /** A package as the archive describes it; {@code description} is plain text (see {@link #plainText}). */
    public record Package(String name, String synopsis, String description) {}

    /**
     * {@code DebianPackages SOURCE N [SEED] OUT_DIR}: writes {@code corpus.jsonl} and {@code
     * queries.jsonl} of a sample of {@code N} packages read from {@code SOURCE} (a file, or {@code
     * apt}).
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: DebianPackages SOURCE N [SEED] OUT_DIR");
            System.exit(2);
        }
        long seed = args.length > 3 ? Long.parseLong(args[2]) : DEFAULT_SEED;
        Path out = Path.of(args[args.length - 1]);
        KnownItems items = sample(usable(read(args[0])), Integer.parseInt(args[1]), seed);
        Files.createDirectories(out);
        Corpus.write(out.resolve("corpus.jsonl"), items.documents());
        Queries.write(out.resolve("queries.jsonl"), items.queries());
        System.out.printf(
                Locale.ROOT,
                "%d packages, seed %d, into %s%n",
                items.documents().size(),
                seed,
                out);
    }

    /** Every package of {@code source}: a file of control stanzas, or {@link #APT}. */
    public static List<Package> read(String source) throws IOException, InterruptedException {
        if (!APT.equals(source)) {
            try (BufferedReader in = Files.newBufferedReader(Path.of(source), StandardCharsets.UTF_8)) {
                return parse(in);
            }
        }
        Process p = new ProcessBuilder("apt-cache", "dumpavail")
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        List<Package> out;
        try (BufferedReader in =
                new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            out = parse(in);
        }
        if (p.waitFor() != 0) {
            throw new IOException("apt-cache dumpavail exited " + p.exitValue());
        }
        return out;
    }

    /** The packages of control stanzas, in their order; a name seen again keeps its first stanza. */
    public static List<Package> parse(BufferedReader in) throws IOException {
        Map<String, Package> byName = new LinkedHashMap<>();
        String name = null;
        List<String> description = null; // the synopsis, then the long description's lines
        boolean inDescription = false;
        for (String line = in.readLine(); ; line = in.readLine()) {
            if (line == null || line.isBlank()) {
                if (name != null && description != null) {
                    byName.putIfAbsent(name, toPackage(name, description));
                }
                name = null;
                description = null;
                inDescription = false;
                if (line == null) {
                    return new ArrayList<>(byName.values());
                }
            } else if (line.startsWith(" ") || line.startsWith("\t")) {
                if (inDescription) {
                    description.add(line);
                }
            } else {
                int colon = line.indexOf(':');
                String field = colon < 0 ? line : line.substring(0, colon);
                String value = colon < 0 ? "" : line.substring(colon + 1).strip();
                inDescription = field.equals("Description") || field.equals("Description-en");
                if (field.equals("Package")) {
                    name = value;
                } else if (inDescription) {
                    description = new ArrayList<>();
                    description.add(value);
                }
            }
        }
    }

    private static Package toPackage(String name, List<String> description) {
        return new Package(name, description.get(0), plainText(description.subList(1, description.size())));
    }

    /**
     * A long description's continuation lines as plain text: the leading space dropped, a line
     * {@code " ."} a paragraph break (a blank line), the wrapped lines of a paragraph joined with a
     * space, and lines that begin with a second space (Debian's verbatim lines, lists) kept on lines
     * of their own.
     */
    public static String plainText(List<String> lines) {
        List<String> paragraphs = new ArrayList<>();
        StringBuilder p = new StringBuilder();
        boolean lastVerbatim = false;
        for (String raw : lines) {
            String line = raw.substring(1).stripTrailing();
            if (line.equals(".")) {
                flush(paragraphs, p);
                lastVerbatim = false;
                continue;
            }
            boolean verbatim = line.startsWith(" ") || line.startsWith("\t");
            String text = line.strip();
            if (text.isEmpty()) {
                continue;
            }
            if (p.length() > 0) {
                p.append(verbatim || lastVerbatim ? '\n' : ' ');
            }
            p.append(text);
            lastVerbatim = verbatim;
        }
        flush(paragraphs, p);
        return String.join("\n\n", paragraphs);
    }

    private static void flush(List<String> paragraphs, StringBuilder p) {
        if (p.length() > 0) {
            paragraphs.add(p.toString());
            p.setLength(0);
        }
    }

    /**
     * The packages a known-item query can be asked of, by name: a long description of at least
     * {@link #MIN_DESCRIPTION_CHARS}, and only the first of each description and each synopsis.
     */
    public static List<Package> usable(List<Package> packages) {
        return usable(packages, MIN_DESCRIPTION_CHARS);
    }

    /**
     * As {@link #usable(List)} with long descriptions of at least {@code minChars} characters (a
     * corpus of long documents, several chunks each, where chunking and truncation matter).
     */
    public static List<Package> usable(List<Package> packages, int minChars) {
        List<Package> sorted = new ArrayList<>(packages);
        sorted.sort(Comparator.comparing(Package::name));
        Set<String> descriptions = new HashSet<>();
        Set<String> synopses = new HashSet<>();
        List<Package> out = new ArrayList<>();
        for (Package p : sorted) {
            if (p.description().length() < minChars || p.synopsis().isBlank()) {
                continue;
            }
            boolean newDescription = descriptions.add(normalised(p.description()));
            boolean newSynopsis = synopses.add(normalised(p.synopsis()));
            if (newDescription && newSynopsis) {
                out.add(p);
            }
        }
        return out;
    }

    private static String normalised(String text) {
        return text.toLowerCase(Locale.ROOT).replaceAll("\\s+", " ").strip();
    }

    /**
     * The {@code n} packages of {@code usable} with the smallest SHA-256 of {@code seed/name}, by
     * name, as documents and queries.
     *
     * @throws IllegalArgumentException if there are fewer than {@code n}
     */
    public static KnownItems sample(List<Package> usable, int n, long seed) {
        if (usable.size() < n) {
            throw new IllegalArgumentException("asked for " + n + " packages, the source has " + usable.size()
                    + " usable ones (a long description of its own, long enough, and a synopsis of its own)");
        }
        List<Package> chosen = new ArrayList<>(usable);
        Map<String, String> rank = new LinkedHashMap<>();
        chosen.forEach(p -> rank.put(p.name(), KnownItems.rank(seed, p.name())));
        chosen.sort(Comparator.comparing((Package p) -> rank.get(p.name())).thenComparing(Package::name));
        chosen = new ArrayList<>(chosen.subList(0, n));
        chosen.sort(Comparator.comparing(Package::name));
        List<CorpusDocument> documents = new ArrayList<>(n);
        List<KnownItemQuery> queries = new ArrayList<>(n);
        for (Package p : chosen) {
            documents.add(new CorpusDocument(p.name(), p.name(), p.description()));
            queries.add(new KnownItemQuery(p.synopsis(), p.name()));
        }
        return new KnownItems(documents, queries);
    }
}
