package io.ragline.core.collections;

import io.ragline.contracts.document.DocumentCodec;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a collection is asked to be, as the CLI's options and the API's JSON give it: null is "not
 * given" (a default for a new collection, unchanged for an update). {@link #forNew} and {@link
 * #over} check it against the rules of the {@code collections} table and the bundled models,
 * naming each field by its JSON name. Its {@link SearchIndex} is fixed once the collection exists:
 * an update that gives any of it is refused.
 */
public record CollectionSettings(
        String provider,
        String model,
        Integer dimensions,
        Integer chunkSizeTokens,
        Integer chunkOverlapTokens,
        String chunkTemplate,
        SearchIndex index) {

    public CollectionSettings {
        index = index == null ? SearchIndex.NOT_GIVEN : index;
    }

    /** Settings with no search index asked for (every default). */
    public CollectionSettings(
            String provider,
            String model,
            Integer dimensions,
            Integer chunkSizeTokens,
            Integer chunkOverlapTokens,
            String chunkTemplate) {
        this(provider, model, dimensions, chunkSizeTokens, chunkOverlapTokens, chunkTemplate, SearchIndex.NOT_GIVEN);
    }

    public static final String DEFAULT_PROVIDER = "onnx";
    /**
     * 128 tokens with 16 of overlap (V33; 256 and 32 before): as good as 256/32 on short documents
     * and in hybrid search on long ones, as good or better in vector search on long ones, at 1.0-1.2 times the
     * corpus rate (docs/benchmarks.md, "Chunk size and overlap, chosen on long documents").
     */
    public static final int DEFAULT_CHUNK_SIZE_TOKENS = 128;

    public static final int DEFAULT_CHUNK_OVERLAP_TOKENS = 16;
    public static final String DEFAULT_CHUNK_TEMPLATE = "{title}\n{chunk}";

    /** The providers the column allows. */
    public static final List<String> PROVIDERS = List.of("onnx", "openai", "pgml");

    /** The collection table's bound on {@code dimensions}. */
    public static final int MAX_DIMENSIONS = 2000;

    /** The models the ONNX provider runs in the JVM (embeddings' {@code ModelCatalog}). */
    public interface BundledModels {
        String defaultModel();

        /** Every bundled model's name, the default first. */
        List<String> names();

        /** The vector length of {@code name}, one of {@link #names()}. */
        int dimensions(String name);
    }

    /** Only the chunking of an existing collection: what an update may change. */
    public static CollectionSettings chunking(Integer chunkSizeTokens, Integer chunkOverlapTokens, String template) {
        return new CollectionSettings(null, null, null, chunkSizeTokens, chunkOverlapTokens, template);
    }

    /**
     * These settings for a new collection named {@code name}, with every default filled in (the
     * bundled default model and its dimensions for onnx).
     *
     * @throws CollectionException (INVALID) naming every field that breaks a rule
     */
    public CollectionSettings forNew(String name, BundledModels onnx) throws CollectionException {
        Map<String, String> problems = new LinkedHashMap<>();
        if (name == null || !DocumentCodec.COLLECTION.matcher(name).matches()) {
            problems.put(
                    "name",
                    "'" + name + "' is not a valid name (lower-case letters, digits, '-' and '_', starting with a"
                            + " letter or digit; at most 63)");
        }
        String p = provider == null ? DEFAULT_PROVIDER : provider;
        String m = model;
        Integer d = dimensions;
        if (p.equals("onnx")) {
            m = model == null ? onnx.defaultModel() : model;
            if (!onnx.names().contains(m)) {
                problems.put("embedding_model", "'" + m + "' is not a bundled model: " + onnx.names());
            } else {
                if (d != null && d != onnx.dimensions(m)) {
                    problems.put("dimensions", d + " does not match " + m + " (" + onnx.dimensions(m) + ")");
                }
                d = onnx.dimensions(m);
            }
        } else if (PROVIDERS.contains(p)) {
            if (m == null || m.isBlank()) {
                problems.put("embedding_model", "is required for provider " + p);
            }
            if (d == null) {
                problems.put("dimensions", "is required for provider " + p);
            }
        } else {
            problems.put("embedding_provider", "must be one of " + PROVIDERS + ", not '" + p + "'");
        }
        if (d != null && (d < 1 || d > MAX_DIMENSIONS)) {
            problems.put("dimensions", "must be from 1 to " + MAX_DIMENSIONS + ", not " + d);
        }
        CollectionSettings full = new CollectionSettings(
                p,
                m,
                d,
                chunkSizeTokens == null ? DEFAULT_CHUNK_SIZE_TOKENS : chunkSizeTokens,
                chunkOverlapTokens == null ? DEFAULT_CHUNK_OVERLAP_TOKENS : chunkOverlapTokens,
                chunkTemplate == null ? DEFAULT_CHUNK_TEMPLATE : chunkTemplate,
                index.forNew(problems));
        full.chunkingProblems(problems);
        if (!problems.isEmpty()) {
            throw CollectionException.invalid(problems);
        }
        return full;
    }

    /**
     * This update's chunking applied over {@code stored}'s, checked as a whole (an overlap must stay
     * below the size it ends up with). Any part of the search index given is refused.
     *
     * @throws CollectionException (INVALID) naming every field that breaks a rule
     */
    public CollectionSettings over(Collection stored) throws CollectionException {
        CollectionSettings merged = new CollectionSettings(
                stored.provider(),
                stored.model(),
                stored.dimensions(),
                chunkSizeTokens == null ? stored.chunkSizeTokens() : chunkSizeTokens,
                chunkOverlapTokens == null ? stored.chunkOverlapTokens() : chunkOverlapTokens,
                chunkTemplate == null ? stored.chunkTemplate() : chunkTemplate,
                stored.index());
        Map<String, String> problems = new LinkedHashMap<>();
        index.refuseChange(problems);
        merged.chunkingProblems(problems);
        if (!problems.isEmpty()) {
            throw CollectionException.invalid(problems);
        }
        return merged;
    }

    private void chunkingProblems(Map<String, String> problems) {
        if (chunkSizeTokens < 1) {
            problems.put("chunk_size_tokens", "must be at least 1, not " + chunkSizeTokens);
        }
        if (chunkOverlapTokens < 0 || chunkOverlapTokens >= chunkSizeTokens) {
            problems.put(
                    "chunk_overlap_tokens",
                    "must stay below the chunk size (" + chunkSizeTokens + ") and be at least 0, not "
                            + chunkOverlapTokens);
        }
        if (!chunkTemplate.contains("{chunk}")) {
            problems.put("chunk_template", "must contain {chunk}");
        }
    }
}
