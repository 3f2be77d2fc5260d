package io.ragline.core.collections;

/**
 * A row of {@code collections}: a named pipeline with its embedding model, dimensions, chunking
 * settings and search index (docs/architecture.md section 8). {@code generation} is the embedding
 * generation whose model {@code provider}, {@code model} and {@code dimensions} are: the serving
 * one as the catalog reads it, another one as {@link #as(Generation)} gives it.
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
        SearchIndex index,
        int generation) {

    /** A collection whose serving generation is the first. */
    public Collection(
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
                index,
                1);
    }

    /** This collection as generation {@code g} embeds it: g's provider, model and dimensions. */
    public Collection as(Generation g) {
        if (g.collectionId() != id) {
            throw new IllegalArgumentException(
                    "generation " + g.number() + " is of collection " + g.collectionId() + ", not of " + id);
        }
        return new Collection(
                id,
                name,
                g.provider(),
                g.model(),
                g.dimensions(),
                chunkSizeTokens,
                chunkOverlapTokens,
                chunkTemplate,
                status,
                index,
                g.number());
    }

    /** This collection with another chunk size and overlap (a chunking of one of its generations). */
    public Collection withChunking(int sizeTokens, int overlapTokens) {
        return new Collection(
                id,
                name,
                provider,
                model,
                dimensions,
                sizeTokens,
                overlapTokens,
                chunkTemplate,
                status,
                index,
                generation);
    }

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
