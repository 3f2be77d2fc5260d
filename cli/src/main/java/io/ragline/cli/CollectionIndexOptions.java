package io.ragline.cli;

import io.ragline.core.collections.SearchIndex;
import picocli.CommandLine.Option;

/**
 * The options of {@code collections create} that choose a collection's search index (distance,
 * index type and options, half-precision storage, text-search configuration). {@code collections
 * update} takes them too, only to refuse them by name: they are fixed once the collection exists.
 */
final class CollectionIndexOptions {
    @Option(
            names = "--distance",
            description = "cosine (default), l2 or inner_product: the vector metric searches rank by.")
    String distance;

    @Option(names = "--index", description = "hnsw (default) or ivfflat.")
    String index;

    @Option(names = "--m", description = "hnsw: links per node (2-100, pgvector's default 16).")
    Integer m;

    @Option(
            names = "--ef-construction",
            description = "hnsw: candidates kept while building (4-1000, at least 2 x m; default 64).")
    Integer efConstruction;

    @Option(
            names = "--ef-search",
            description = "hnsw: candidates kept while searching (1-1000, default 40; raised to the results asked).")
    Integer efSearch;

    @Option(
            names = "--lists",
            description = "ivfflat: lists (1-32768; default chosen from the rows when the index is built).")
    Integer lists;

    @Option(names = "--probes", description = "ivfflat: lists searched (at most --lists; default sqrt(lists)).")
    Integer probes;

    @Option(
            names = "--halfvec",
            description = "Keep half-precision vectors in the index: half its memory, slightly coarser ranking.")
    Boolean halfvec;

    @Option(
            names = "--text-config",
            description = "Text search configuration of the full-text index (default english; e.g. simple, german).")
    String textConfig;

    SearchIndex asked() {
        return new SearchIndex(distance, index, m, efConstruction, efSearch, lists, probes, halfvec, textConfig);
    }

    /** The option that sets {@code field} (as the registry names it), or null when it is none of these. */
    static String option(String field) {
        return switch (field) {
            case "distance" -> "--distance";
            case "index" -> "--index";
            case "m" -> "--m";
            case "ef_construction" -> "--ef-construction";
            case "ef_search" -> "--ef-search";
            case "lists" -> "--lists";
            case "probes" -> "--probes";
            case "halfvec" -> "--halfvec";
            case "text_config" -> "--text-config";
            default -> null;
        };
    }

    /** How the index is described to an operator: "cosine hnsw (m 16, ef_construction 64), vector, english". */
    static String describe(SearchIndex i) {
        String options = i.type().equals("hnsw")
                ? "m " + or(i.m(), SearchIndex.DEFAULT_M) + ", ef_construction "
                        + or(i.efConstruction(), SearchIndex.DEFAULT_EF_CONSTRUCTION) + ", ef_search "
                        + or(i.efSearch(), SearchIndex.DEFAULT_EF_SEARCH)
                : "lists " + (i.lists() == null ? "from the rows at build" : i.lists()) + ", probes "
                        + (i.probes() == null ? "sqrt(lists)" : i.probes());
        return i.distance() + " " + i.type() + " (" + options + "), " + i.storage() + ", text " + i.textConfig();
    }

    private static Object or(Integer value, int fallback) {
        return value == null ? fallback : value;
    }
}
