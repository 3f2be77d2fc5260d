package io.ragline.core.collections;

/**
 * A row of {@code collections}: a named pipeline with its embedding model, dimensions and
 * chunking settings (docs/architecture.md section 8).
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
        String status) {

    /** Renders the chunk template ({@code {title}}, {@code {chunk}}); a missing title is empty. */
    public String render(String title, String chunk) {
        return chunkTemplate
                .replace("{title}", title == null ? "" : title)
                .replace("{chunk}", chunk)
                .strip();
    }
}
