package io.ragline.benchmarks.corpus;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * A known-item benchmark's corpus: the documents, and queries each naming the one document that
 * should answer it ({@link DebianPackages}, {@link ManPageCloze}).
 */
public record KnownItems(List<CorpusDocument> documents, List<KnownItemQuery> queries) {
    public KnownItems {
        documents = List.copyOf(documents);
        queries = List.copyOf(queries);
    }

    /**
     * The seeded order the samples take things in: the SHA-256 of {@code seed/key} in hex, so the
     * same seed picks the same items on every machine, whatever order they were read in.
     */
    public static String rank(long seed, String key) {
        try {
            byte[] hash =
                    MessageDigest.getInstance("SHA-256").digest((seed + "/" + key).getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(hash);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
