package io.ragline.benchmarks.quality;

import io.ragline.benchmarks.corpus.Corpus;
import io.ragline.benchmarks.corpus.DebianPackages;
import io.ragline.benchmarks.corpus.KnownItems;
import io.ragline.benchmarks.corpus.ManPageCloze;
import io.ragline.embedding.search.SearchMode;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * What {@code RetrievalQualityBenchmark} is asked to measure: the corpus (Debian's package
 * descriptions by default, or {@code --man-pages N} manual pages with {@code --per-page Q}
 * sentences taken out of each, kept in {@code --corpus-dir}), the settings, the search modes and
 * the peer's models.
 */
public record QualityOptions(
        int packages,
        int pages,
        int perPage,
        Path corpusDir,
        long seed,
        String source,
        int minChars,
        List<Setting> settings,
        List<SearchMode> modes,
        List<String> peerModels) {

    /** {@code args} as option-value pairs; {@code modes} when {@code --modes} is not given. */
    public static QualityOptions parse(String[] args, List<SearchMode> defaultModes) {
        int packages = 300;
        int pages = 0;
        int perPage = 2;
        Path corpusDir = Path.of(System.getProperty("java.io.tmpdir"), "ragline-man-cloze");
        long seed = DebianPackages.DEFAULT_SEED;
        String source = DebianPackages.INSTALLED.toString();
        int minChars = DebianPackages.MIN_DESCRIPTION_CHARS;
        List<Setting> settings = Setting.grid();
        List<SearchMode> modes = defaultModes;
        List<String> peerModels = List.of();
        for (int i = 0; i + 1 < args.length; i += 2) {
            String v = args[i + 1];
            switch (args[i]) {
                case "--packages" -> packages = Integer.parseInt(v);
                case "--man-pages" -> pages = Integer.parseInt(v);
                case "--per-page" -> perPage = Integer.parseInt(v);
                case "--corpus-dir" -> corpusDir = Path.of(v);
                case "--seed" -> seed = Long.parseLong(v);
                case "--source" -> source = v;
                case "--min-chars" -> minChars = Integer.parseInt(v);
                case "--settings" ->
                    settings = v.equals("grid")
                            ? Setting.grid()
                            : Arrays.stream(v.split(",")).map(Setting::parse).toList();
                case "--modes" ->
                    modes = Arrays.stream(v.split(","))
                            .map(m -> mode(m, defaultModes))
                            .toList();
                case "--peer" -> peerModels = List.of(v.split(","));
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        if (args.length % 2 != 0) {
            throw new IllegalArgumentException("option " + args[args.length - 1] + " has no value");
        }
        return new QualityOptions(
                packages, pages, perPage, corpusDir, seed, source, minChars, settings, modes, peerModels);
    }

    /** The corpus and its queries: the manual pages when {@code --man-pages} was given, else the packages. */
    public KnownItems items() throws Exception {
        return pages > 0
                ? ManPageCloze.cached(corpusDir, pages, perPage, seed)
                : DebianPackages.sample(DebianPackages.usable(DebianPackages.read(source), minChars), packages, seed);
    }

    /** {@code items} in a phrase for the report's first line. */
    public String describe(KnownItems items) {
        return pages > 0
                ? String.format(
                        Locale.ROOT,
                        "%d manual pages of %s (%d characters), %d sentences taken out as queries",
                        items.documents().size(),
                        ManPageCloze.SECTION_1,
                        Corpus.chars(items.documents()),
                        items.queries().size())
                : String.format(
                        Locale.ROOT,
                        "%d packages of %s (long descriptions of %d characters or more)",
                        packages,
                        source,
                        minChars);
    }

    private static SearchMode mode(String wire, List<SearchMode> modes) {
        SearchMode m = SearchMode.fromWire(wire);
        if (m == null) {
            throw new IllegalArgumentException("a mode is one of " + modes + ", not '" + wire + "'");
        }
        return m;
    }
}
