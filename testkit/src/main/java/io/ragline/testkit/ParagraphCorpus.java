package io.ragline.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Documents made of real paragraphs (those of the licences Debian ships in {@code
 * /usr/share/common-licenses}, at least 200 characters each), the same for a seed on every
 * machine with those files, and edits of them that replace a run of paragraphs: what an update of
 * a document looks like to the pipeline. For the tests and the benchmark of updates.
 */
public final class ParagraphCorpus {
    private static final Path LICENCES = Path.of("/usr/share/common-licenses");

    private final List<String> pool;

    private ParagraphCorpus(List<String> pool) {
        this.pool = pool;
    }

    /** A document: its id and its paragraphs, joined by blank lines as published. */
    public record Document(String id, List<String> paragraphs) {
        public String text() {
            return String.join("\n\n", paragraphs);
        }
    }

    /** The distinct paragraphs of the licences, each on one line, in a stable order. */
    public static ParagraphCorpus licences() {
        TreeSet<String> paragraphs = new TreeSet<>();
        try (Stream<Path> files = Files.list(LICENCES)) {
            for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
                for (String p : Files.readString(file).split("\\n\\s*\\n")) {
                    String line = String.join(" ", p.strip().split("\\s+"));
                    if (line.length() >= 200) {
                        paragraphs.add(line);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the licences in " + LICENCES, e);
        }
        return new ParagraphCorpus(List.copyOf(paragraphs));
    }

    public int size() {
        return pool.size();
    }

    /** {@code count} documents {@code prefix0, prefix1, ...} of {@code paragraphs} distinct paragraphs each. */
    public List<Document> documents(String prefix, int count, int paragraphs, long seed) {
        Random random = new Random(seed);
        List<Document> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            List<String> shuffled = new ArrayList<>(pool);
            Collections.shuffle(shuffled, random);
            out.add(new Document(prefix + i, List.copyOf(shuffled.subList(0, paragraphs))));
        }
        return out;
    }

    /**
     * {@code document} with {@code run} consecutive paragraphs, from a place drawn from {@code
     * seed}, replaced by as many paragraphs of the pool it does not hold.
     */
    public Document edited(Document document, int run, long seed) {
        Random random = new Random(seed);
        int at = random.nextInt(document.paragraphs().size() - run + 1);
        List<String> paragraphs = new ArrayList<>(document.paragraphs());
        for (int i = at; i < at + run; i++) {
            String replacement;
            do {
                replacement = pool.get(random.nextInt(pool.size()));
            } while (paragraphs.contains(replacement));
            paragraphs.set(i, replacement);
        }
        return new Document(document.id(), List.copyOf(paragraphs));
    }
}
