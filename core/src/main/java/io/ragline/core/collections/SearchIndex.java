package io.ragline.core.collections;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * How a collection's chunks are indexed for search, chosen when it is created and fixed afterwards
 * (changing it is a migration of the collection): the vector distance, the index type with its
 * options, half-precision storage in the index, and the text-search configuration of its full-text
 * index. A null option is "not given": its default (pgvector's for m and ef_construction; 40 for
 * ef_search; for an IVFFlat index lists chosen from the row count when it is built and probes
 * sqrt(lists)). The database holds the same rules (migration V20's {@code
 * collection_index_problem}); this record checks them first to name every field to the CLI and API,
 * by its JSON name ({@code ef_construction}).
 */
public record SearchIndex(
        String distance,
        String type,
        Integer m,
        Integer efConstruction,
        Integer efSearch,
        Integer lists,
        Integer probes,
        Boolean halfvec,
        String textConfig) {

    public static final List<String> DISTANCES = List.of("cosine", "l2", "inner_product");
    public static final List<String> TYPES = List.of("hnsw", "ivfflat");
    public static final String DEFAULT_DISTANCE = "cosine";
    public static final String DEFAULT_TYPE = "hnsw";
    public static final String DEFAULT_TEXT_CONFIG = "english";

    // pgvector 0.8's bounds and defaults (m and ef_construction: when one is not given, the other is
    // checked against its default).
    public static final int MIN_M = 2;
    public static final int MAX_M = 100;
    public static final int DEFAULT_M = 16;
    public static final int MIN_EF_CONSTRUCTION = 4;
    public static final int MAX_EF_CONSTRUCTION = 1000;
    public static final int DEFAULT_EF_CONSTRUCTION = 64;
    public static final int MAX_EF_SEARCH = 1000;
    /** ef_search when not given (raised to the number of results asked for). */
    public static final int DEFAULT_EF_SEARCH = 40;

    public static final int MAX_LISTS = 32768;

    private static final Pattern TEXT_CONFIG = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    /** Nothing asked: every default. */
    public static final SearchIndex NOT_GIVEN = new SearchIndex(null, null, null, null, null, null, null, null, null);

    /** What collections created before these settings existed have: cosine over HNSW, full vectors. */
    public static final SearchIndex DEFAULT =
            new SearchIndex(DEFAULT_DISTANCE, DEFAULT_TYPE, null, null, null, null, null, false, DEFAULT_TEXT_CONFIG);

    /** {@code "vector"} or {@code "halfvec"}, as the {@code vector_storage} column stores it. */
    public String storage() {
        return Boolean.TRUE.equals(halfvec) ? "halfvec" : "vector";
    }

    /** The {@code index_options} column: the options given, as a JSON object of integers. */
    public String optionsJson() {
        Map<String, Integer> given = new LinkedHashMap<>();
        given.put("m", m);
        given.put("ef_construction", efConstruction);
        given.put("ef_search", efSearch);
        given.put("lists", lists);
        given.put("probes", probes);
        StringBuilder json = new StringBuilder("{");
        given.forEach((k, v) -> {
            if (v != null) {
                json.append(json.length() == 1 ? "" : ", ")
                        .append('"')
                        .append(k)
                        .append("\": ")
                        .append(v);
            }
        });
        return json.append('}').toString();
    }

    /**
     * This index for a new collection, defaults filled in; each field that breaks a rule is put into
     * {@code problems} (an option of the other index type, a value out of bounds, probes above lists).
     */
    SearchIndex forNew(Map<String, String> problems) {
        String d = distance == null ? DEFAULT_DISTANCE : distance;
        String t = type == null ? DEFAULT_TYPE : type;
        if (!DISTANCES.contains(d)) {
            problems.put("distance", "must be one of " + DISTANCES + ", not '" + d + "'");
        }
        if (!TYPES.contains(t)) {
            problems.put("index", "must be one of " + TYPES + ", not '" + t + "'");
        } else if (t.equals("hnsw")) {
            notOf("ivfflat", t, "lists", lists, problems);
            notOf("ivfflat", t, "probes", probes, problems);
            within("m", m, MIN_M, MAX_M, problems);
            within("ef_construction", efConstruction, MIN_EF_CONSTRUCTION, MAX_EF_CONSTRUCTION, problems);
            within("ef_search", efSearch, 1, MAX_EF_SEARCH, problems);
            int em = m == null ? DEFAULT_M : m;
            int ec = efConstruction == null ? DEFAULT_EF_CONSTRUCTION : efConstruction;
            if (!problems.containsKey("m") && !problems.containsKey("ef_construction") && ec < 2 * em) {
                problems.put(
                        efConstruction == null ? "m" : "ef_construction",
                        "ef_construction (" + ec + ") must be at least twice m (" + em + ")");
            }
        } else {
            notOf("hnsw", t, "m", m, problems);
            notOf("hnsw", t, "ef_construction", efConstruction, problems);
            notOf("hnsw", t, "ef_search", efSearch, problems);
            within("lists", lists, 1, MAX_LISTS, problems);
            within("probes", probes, 1, MAX_LISTS, problems);
            if (lists != null && probes != null && probes > lists && !problems.containsKey("lists")) {
                problems.put("probes", "must not exceed lists (" + lists + "), not " + probes);
            }
        }
        String tc = textConfig == null ? DEFAULT_TEXT_CONFIG : textConfig;
        if (!TEXT_CONFIG.matcher(tc).matches()) {
            problems.put("text_config", "'" + tc + "' is not a text search configuration's name");
        }
        return new SearchIndex(d, t, m, efConstruction, efSearch, lists, probes, Boolean.TRUE.equals(halfvec), tc);
    }

    /** Puts every field this asks to change into {@code problems}: they are fixed once created. */
    void refuseChange(Map<String, String> problems) {
        Map<String, Object> asked = new LinkedHashMap<>();
        asked.put("distance", distance);
        asked.put("index", type);
        asked.put("m", m);
        asked.put("ef_construction", efConstruction);
        asked.put("ef_search", efSearch);
        asked.put("lists", lists);
        asked.put("probes", probes);
        asked.put("halfvec", halfvec);
        asked.put("text_config", textConfig);
        asked.forEach((field, value) -> {
            if (value != null) {
                problems.put(field, "is fixed when the collection is created: changeable only through a migration");
            }
        });
    }

    private static void notOf(String owner, String type, String field, Integer value, Map<String, String> problems) {
        if (value != null) {
            problems.put(field, "is an option of the " + owner + " index, not of " + type);
        }
    }

    private static void within(String field, Integer value, int min, int max, Map<String, String> problems) {
        if (value != null && (value < min || value > max)) {
            problems.put(field, "must be from " + min + " to " + max + ", not " + value);
        }
    }
}
