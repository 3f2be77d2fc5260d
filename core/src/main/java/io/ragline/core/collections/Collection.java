package io.ragline.core.collections;

/**
 * A row of {@code collections}: a named pipeline with its embedding model, dimensions, chunking
 * settings and search index (docs/architecture.md section 8).
 */
public record Collection(
        int id,
        String name,
        String provider,
        String model,
        int dimensions,
        int chunkSizeTokens,
        int chunkOverlapTokens,
        String chunkTemplate,
        String status,
        SearchIndex index) {

    /** A collection with the {@link SearchIndex#DEFAULT} index (cosine, HNSW, full vectors). */
    public Collection(
            int id,
            String name,
            String provider,
            String model,
            int dimensions,
            int chunkSizeTokens,
            int chunkOverlapTokens,
            String chunkTemplate,
            String status) {
        this(
                id,
                name,
                provider,
                model,
                dimensions,
                chunkSizeTokens,
                chunkOverlapTokens,
                chunkTemplate,
                status,
                SearchIndex.DEFAULT);
    }

    /** Renders the chunk template ({@code {title}}, {@code {chunk}}); a missing title is empty. */
    public String render(String title, String chunk) {
        return chunkTemplate
                .replace("{title}", title == null ? "" : title)
                .replace("{chunk}", chunk)
                .strip();
    }
}
