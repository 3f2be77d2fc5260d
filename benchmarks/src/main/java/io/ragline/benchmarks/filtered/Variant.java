package io.ragline.benchmarks.filtered;

import io.ragline.core.collections.CollectionSettings;
import io.ragline.core.collections.SearchIndex;
import java.util.List;
import java.util.Locale;

/**
 * One collection setting the filtered search benchmark compares: the index type ({@code hnsw} or
 * {@code ivfflat}) and the vector storage ({@code vector} or {@code halfvec}), cosine distance, the
 * index options left to their defaults (what {@code ragline collections create --index I
 * [--halfvec]} gives). Written {@code INDEX/STORAGE}.
 */
public record Variant(String index, String storage) {
    public static final List<String> INDEXES = List.of("hnsw", "ivfflat");
    public static final List<String> STORAGES = List.of("vector", "halfvec");

    public Variant {
        if (!INDEXES.contains(index) || !STORAGES.contains(storage)) {
            throw new IllegalArgumentException(
                    "a variant is INDEX/STORAGE of " + INDEXES + " and " + STORAGES + ", not " + index + "/" + storage);
        }
    }

    /** Every index type with every storage. */
    public static List<Variant> all() {
        return INDEXES.stream()
                .flatMap(i -> STORAGES.stream().map(s -> new Variant(i, s)))
                .toList();
    }

    /** {@code INDEX/STORAGE}, as {@link #toString} writes it. */
    public static Variant parse(String text) {
        String[] p = text.toLowerCase(Locale.ROOT).split("/");
        if (p.length != 2) {
            throw new IllegalArgumentException("a variant is INDEX/STORAGE, not '" + text + "'");
        }
        return new Variant(p[0], p[1]);
    }

    /** The collection's name: {@code filtered-INDEX-STORAGE}. */
    public String collection() {
        return "filtered-" + index + "-" + storage;
    }

    /** The settings {@code collections create} is given for this variant. */
    public CollectionSettings settings() {
        return new CollectionSettings(
                null,
                null,
                null,
                null,
                null,
                null,
                new SearchIndex(null, index, null, null, null, null, null, storage.equals("halfvec"), null));
    }

    @Override
    public String toString() {
        return index + "/" + storage;
    }
}
