package io.ragline.benchmarks.corpus;

import java.io.IOException;
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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Known-item search over long documents, by the inverse cloze task (Lee, Chang and Toutanova,
 * "Latent Retrieval for Weakly Supervised Open Domain Question Answering", 2019): a sentence is
 * taken out of a manual page, and the page without it is the document the sentence should find.
 * The sentences come from anywhere in the page, so a page's chunking decides how well its context
 * is found: the start of a chunk, its end, across a boundary (where overlap matters). The Debian
 * descriptions ({@link DebianPackages}) are mostly one chunk each and cannot tell chunkings apart;
 * these pages are 3,000 to 30,000 characters, several chunks each.
 *
 * <p>The pages are this machine's section 1 (or another section), the {@code n} with the smallest
 * SHA-256 of {@code seed/name} among those that render ({@code MANWIDTH=80 man -P cat}, as {@link
 * ManPages}) to a text of {@value #MIN_CHARS} to {@value #MAX_CHARS} characters, different from
 * every page already taken (aliases render the same page) and with enough sentences to ask. The
 * text is the rendered page as paragraphs: the running header and footer dropped, lines joined
 * (words hyphenated at a line's end joined again), runs of spaces as one. A sentence to ask has
 * {@value #MIN_WORDS} to {@value #MAX_WORDS} words, mostly letters, is outside NAME, SYNOPSIS, SEE
 * ALSO, AUTHOR(S), COPYRIGHT, BUGS, REPORTING BUGS and HISTORY, begins and ends as a sentence does, does not
 * name the page (the title in front of each chunk would give it away), has no URL, mail address,
 * command line or licence boilerplate, and occurs once in the whole corpus (as a sentence or inside
 * a longer one). One page of a family
 * is taken (the name up to its first {@code _}: {@code gcloud_alpha_...} and {@code gcloud_beta_...}
 * are near copies). A page is taken when it has {@code perPage} candidates; it gives up to {@code
 * perPage} of them, by the same seeded hash, those that occur once in the corpus, and loses them
 * from its text (so a few pages give fewer).
 */
public final class ManPageCloze {
    public static final Path SECTION_1 = Path.of("/usr/share/man/man1");
    public static final int MIN_CHARS = 3_000;
    public static final int MAX_CHARS = 30_000;
    public static final int MIN_WORDS = 8;
    public static final int MAX_WORDS = 40;

    private static final Set<String> SKIPPED_SECTIONS = Set.of(
            "NAME", "SYNOPSIS", "SEE ALSO", "AUTHOR", "AUTHORS", "COPYRIGHT", "REPORTING BUGS", "BUGS", "HISTORY");
    private static final Pattern SENTENCE_END = Pattern.compile("(?<=[.!?])\\s+(?=[A-Z(\"'])");
    private static final Pattern BOILERPLATE = Pattern.compile(
            "(?i)(https?:|www\\.|@|<|>|[$\\\\=•]|--|copyright|licen[cs]e|warranty|written by|report bugs|"
                    + "free software|documentation|manual page|this page)");
    /** Begins with a capital letter, ends with a full stop, a question or an exclamation mark. */
    private static final Pattern SENTENCE = Pattern.compile("\\p{Lu}.*[.!?]");

    /** A running header or footer: it ends with the page's title and section, {@code LS(1)}. */
    private static final Pattern RUNNING_TITLE = Pattern.compile(".*\\S+\\(\\S+\\)\\s*");

    /** A subsection heading ({@code .SS}): indented 3 columns, where paragraphs are indented 7. */
    private static final Pattern SUBSECTION = Pattern.compile(" {3}\\S.*");

    /** What {@link #cached} checks besides the sample's size and seed: a change of the rules here changes it. */
    private static final String FORMAT = "man-page cloze 2";

    private static final char HYPHEN = '\u2010'; // what groff prints where it hyphenated a word

    private ManPageCloze() {}

    /** A rendered page: its name, its paragraphs and the sentences it may be asked by. */
    record Page(String name, List<String> paragraphs, List<String> candidates) {
        String text() {
            return String.join("\n\n", paragraphs);
        }
    }

    /**
     * {@code pages} pages of {@code dir} (a {@code man<N>} directory) with {@code perPage}
     * sentences each, chosen by {@code seed}.
     *
     * @throws IllegalArgumentException if the directory has fewer such pages
     */
    public static KnownItems sample(Path dir, int pages, int perPage, long seed) throws IOException {
        String section = section(dir);
        List<String> names = names(dir, seed);
        List<Page> taken = new ArrayList<>();
        Set<String> texts = new HashSet<>();
        ExecutorService renderers = Executors.newFixedThreadPool(2);
        try {
            for (int from = 0; from < names.size() && taken.size() < pages; from += 16) {
                List<Future<String>> rendered = new ArrayList<>();
                List<String> batch = names.subList(from, Math.min(names.size(), from + 16));
                for (String name : batch) {
                    rendered.add(renderers.submit(() -> ManPages.render(List.of(section, name))));
                }
                for (int i = 0; i < batch.size() && taken.size() < pages; i++) {
                    String raw = rendered.get(i).get();
                    if (raw == null) {
                        continue;
                    }
                    Page page = page(batch.get(i), raw);
                    int chars = page.text().length();
                    if (chars >= MIN_CHARS
                            && chars <= MAX_CHARS
                            && page.candidates().size() >= perPage
                            && texts.add(page.text())) {
                        taken.add(page);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while rendering manual pages", e);
        } catch (java.util.concurrent.ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            throw new IOException("rendering a manual page failed: " + e.getCause(), e.getCause());
        } finally {
            renderers.shutdownNow();
        }
        if (taken.size() < pages) {
            throw new IllegalArgumentException("asked for " + pages + " pages, " + dir + " has " + taken.size()
                    + " of " + MIN_CHARS + " to " + MAX_CHARS + " characters with " + perPage
                    + " sentences to ask");
        }
        return knownItems(taken, perPage, seed);
    }

    private static String section(Path dir) {
        return dir.getFileName().toString().replaceFirst("^man", "");
    }

    /**
     * The pages of {@code dir} in the order {@code seed} takes them: by the SHA-256 of {@code
     * seed/name}, one page of a family ({@code gcloud_alpha_...}, {@code gcloud_beta_...}: near
     * copies of each other), no symbolic link.
     */
    static List<String> names(Path dir, long seed) throws IOException {
        Pattern file = Pattern.compile("^(.+)\\." + Pattern.quote(section(dir)) + "[a-z]*(\\.gz)?$");
        List<String> names;
        try (Stream<Path> files = Files.list(dir)) {
            names = files.filter(p -> !Files.isSymbolicLink(p))
                    .map(p -> file.matcher(p.getFileName().toString()))
                    .filter(Matcher::matches)
                    .map(m -> m.group(1))
                    .distinct()
                    .sorted(Comparator.comparing((String n) -> KnownItems.rank(seed, n))
                            .thenComparing(Comparator.naturalOrder()))
                    .toList();
        }
        Set<String> families = new HashSet<>();
        return names.stream().filter(n -> families.add(n.split("_", 2)[0])).toList();
    }

    /** The documents and queries of {@code pages}: each page's sentences, taken out of its text. */
    static KnownItems knownItems(List<Page> pages, int perPage, long seed) {
        // Every page's text in one string: a sentence asked must occur once in it, as a whole
        // sentence or inside a longer one, so it leaves its page's text and no other page has it.
        String corpus = String.join("\u0000", pages.stream().map(Page::text).toList());
        List<CorpusDocument> documents = new ArrayList<>();
        List<KnownItemQuery> queries = new ArrayList<>();
        for (Page p : pages.stream().sorted(Comparator.comparing(Page::name)).toList()) {
            List<String> asked = p.candidates().stream()
                    .distinct()
                    .sorted(Comparator.comparing((String s) -> KnownItems.rank(seed, p.name() + "/" + s)))
                    .filter(s -> once(corpus, s))
                    .limit(perPage)
                    .toList();
            List<String> paragraphs = new ArrayList<>(p.paragraphs());
            for (String s : asked) {
                for (int i = 0; i < paragraphs.size(); i++) {
                    String without = remove(paragraphs.get(i), s);
                    if (without != null) {
                        paragraphs.set(i, without);
                        break;
                    }
                }
            }
            paragraphs.removeIf(String::isBlank);
            String text = String.join("\n\n", paragraphs);
            for (String s : asked) {
                if (!text.contains(s)) { // always, since it occurred once; checked all the same
                    queries.add(new KnownItemQuery(s, p.name()));
                }
            }
            documents.add(new CorpusDocument(p.name(), p.name(), text));
        }
        return new KnownItems(documents, queries);
    }

    /** Whether {@code sentence} occurs exactly once in {@code corpus}. */
    private static boolean once(String corpus, String sentence) {
        int first = corpus.indexOf(sentence);
        return first >= 0 && corpus.indexOf(sentence, first + 1) < 0;
    }

    /** {@code paragraph} without {@code sentence} and the space after it, or null if it does not hold it. */
    private static String remove(String paragraph, String sentence) {
        int at = paragraph.indexOf(sentence);
        if (at < 0) {
            return null;
        }
        int end = at + sentence.length();
        while (end < paragraph.length() && paragraph.charAt(end) == ' ') {
            end++;
        }
        return (paragraph.substring(0, at) + paragraph.substring(end)).strip();
    }

    /**
     * The page {@code name} rendered as {@code raw} (80 columns): paragraphs (a heading at column 0
     * is one of its own; blank lines end the others), and the sentences it may be asked by.
     */
    static Page page(String name, String raw) {
        List<String> lines = new ArrayList<>(raw.lines().toList());
        trimBlank(lines);
        // the running header ("LS(1)  User Commands  LS(1)") and footer ("GNU coreutils 9.1  ...  LS(1)")
        if (!lines.isEmpty() && RUNNING_TITLE.matcher(lines.get(0)).matches()) {
            lines.remove(0);
        }
        if (!lines.isEmpty()
                && RUNNING_TITLE.matcher(lines.get(lines.size() - 1)).matches()) {
            lines.remove(lines.size() - 1);
        }
        Map<String, String> sectionOf = new LinkedHashMap<>();
        List<String> paragraphs = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        String section = "";
        for (String line : lines) {
            boolean heading = !line.isBlank() && !Character.isWhitespace(line.charAt(0));
            boolean subheading = SUBSECTION.matcher(line).matches();
            if (line.isBlank() || heading || subheading) {
                flush(current, paragraphs, sectionOf, section);
            }
            if (heading) {
                section = line.strip().replaceAll("\\s+", " ");
                paragraphs.add(section);
            } else if (subheading) {
                paragraphs.add(line.strip().replaceAll("\\s+", " "));
            } else if (!line.isBlank()) {
                String part = line.strip();
                if (current.length() > 0 && current.charAt(current.length() - 1) == HYPHEN) {
                    current.setLength(current.length() - 1);
                } else if (current.length() > 0) {
                    current.append(' ');
                }
                current.append(part);
            }
        }
        flush(current, paragraphs, sectionOf, section);
        Pattern named = Pattern.compile("(?i)(?<![\\w-])" + Pattern.quote(name) + "(?![\\w-])");
        List<String> candidates = new ArrayList<>();
        sectionOf.forEach((paragraph, in) -> {
            if (SKIPPED_SECTIONS.contains(in.toUpperCase(Locale.ROOT))) {
                return;
            }
            for (String s : SENTENCE_END.split(paragraph)) {
                if (askable(s) && !named.matcher(s).find()) {
                    candidates.add(s);
                }
            }
        });
        return new Page(name, paragraphs, candidates);
    }

    /** Words enough and not too many, mostly letters, no boilerplate. */
    static boolean askable(String sentence) {
        String[] words = sentence.strip().split("\\s+");
        if (words.length < MIN_WORDS
                || words.length > MAX_WORDS
                || !SENTENCE.matcher(sentence.strip()).matches()
                || BOILERPLATE.matcher(sentence).find()) {
            return false;
        }
        long letters = sentence.codePoints().filter(Character::isLetter).count();
        long visible =
                sentence.codePoints().filter(c -> !Character.isWhitespace(c)).count();
        return letters >= 0.8 * visible;
    }

    private static void flush(
            StringBuilder current, List<String> paragraphs, Map<String, String> sectionOf, String section) {
        if (current.length() > 0) {
            String paragraph = current.toString().replaceAll(" {2,}", " ");
            paragraphs.add(paragraph);
            sectionOf.putIfAbsent(paragraph, section);
            current.setLength(0);
        }
    }

    private static void trimBlank(List<String> lines) {
        while (!lines.isEmpty() && lines.get(0).isBlank()) {
            lines.remove(0);
        }
        while (!lines.isEmpty() && lines.get(lines.size() - 1).isBlank()) {
            lines.remove(lines.size() - 1);
        }
    }

    /**
     * {@link #sample} of section 1, kept in {@code dir} (rendering takes minutes): read from there
     * when it holds the same sample (pages, sentences, seed), else made and written there.
     */
    public static KnownItems cached(Path dir, int pages, int perPage, long seed) throws IOException {
        String what = FORMAT + "; " + pages + " pages, " + perPage + " sentences each, seed " + seed
                + "; the pages listed: " + KnownItems.rank(seed, String.join("/", names(SECTION_1, seed))) + "\n";
        Path corpus = dir.resolve("corpus.jsonl");
        Path queries = dir.resolve("queries.jsonl");
        Path sample = dir.resolve("sample.txt");
        if (Files.isRegularFile(sample) && Files.readString(sample).equals(what)) {
            return new KnownItems(Corpus.read(corpus), Queries.read(queries));
        }
        KnownItems items = sample(SECTION_1, pages, perPage, seed);
        Files.createDirectories(dir);
        Corpus.write(corpus, items.documents());
        Queries.write(queries, items.queries());
        Files.writeString(sample, what);
        return items;
    }

    /** {@code ManPageCloze PAGES PER_PAGE SEED DIR}: writes {@code corpus.jsonl} and {@code queries.jsonl} there. */
    public static void main(String[] args) throws Exception {
        KnownItems items =
                cached(Path.of(args[3]), Integer.parseInt(args[0]), Integer.parseInt(args[1]), Long.parseLong(args[2]));
        System.out.printf(
                Locale.ROOT,
                "%d pages, %d characters, %d queries, in %s%n",
                items.documents().size(),
                Corpus.chars(items.documents()),
                items.queries().size(),
                args[3]);
    }
}
