package io.ragline.benchmarks.quality;

import io.ragline.core.collections.CollectionSettings;
import io.ragline.embeddings.ModelCatalog;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One Ragline collection setting the quality benchmark compares: the model, chunk size and overlap
 * (tokens) and whether the template puts the title in front of each chunk ({@code
 * {title}\n{chunk}}, the default) or not ({@code {chunk}}). Written {@code MODEL/SIZE/OVERLAP/title}
 * or {@code .../notitle}.
 */
public record Setting(String model, int chunkSize, int chunkOverlap, boolean title) {
    public static final String WITH_TITLE = "{title}\n{chunk}";
    public static final String WITHOUT_TITLE = "{chunk}";

    public Setting {
        if (!ModelCatalog.names().contains(model)) {
            throw new IllegalArgumentException("'" + model + "' is not a bundled model: " + ModelCatalog.names());
        }
        if (chunkOverlap < 0 || chunkOverlap >= chunkSize) {
            throw new IllegalArgumentException(
                    "overlap " + chunkOverlap + " must be at least 0 and below the chunk" + " size " + chunkSize);
        }
    }

    /** Ragline's defaults: {@code collections create} with no options. */
    public static Setting defaults() {
        return new Setting(
                ModelCatalog.DEFAULT_MODEL,
                CollectionSettings.DEFAULT_CHUNK_SIZE_TOKENS,
                CollectionSettings.DEFAULT_CHUNK_OVERLAP_TOKENS,
                true);
    }

    /**
     * The default grid: Ragline's defaults first (the baseline of the paired differences), then
     * every bundled model at the defaults' chunking, the default model at chunk sizes 128, 256 and
     * 512 with overlaps 0, 16 and 32, and without the title.
     */
    public static List<Setting> grid() {
        Setting d = defaults();
        List<Setting> out = new ArrayList<>(List.of(d));
        for (String model : ModelCatalog.names()) {
            add(out, new Setting(model, d.chunkSize, d.chunkOverlap, true));
        }
        for (int size : new int[] {128, 256, 512}) {
            for (int overlap : new int[] {0, 16, 32}) {
                add(out, new Setting(d.model, size, overlap, true));
            }
        }
        add(out, new Setting(d.model, d.chunkSize, d.chunkOverlap, false));
        return out;
    }

    private static void add(List<Setting> out, Setting s) {
        if (!out.contains(s)) {
            out.add(s);
        }
    }

    /** {@code MODEL/SIZE/OVERLAP/title|notitle}, as {@link #toString} writes it. */
    public static Setting parse(String text) {
        String[] p = text.split("/");
        if (p.length != 4 || !(p[3].equals("title") || p[3].equals("notitle"))) {
            throw new IllegalArgumentException("a setting is MODEL/SIZE/OVERLAP/title|notitle, not '" + text + "'");
        }
        return new Setting(p[0], Integer.parseInt(p[1]), Integer.parseInt(p[2]), p[3].equals("title"));
    }

    /**
     * Creates this setting's collection in {@code schema} on {@code c}, as {@code ragline
     * collections create} does (the database makes its HNSW index at once).
     */
    public void createCollection(Connection c, String schema) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("insert into " + schema
                + ".collections (name, embedding_provider, embedding_model, dimensions, chunk_size_tokens,"
                + " chunk_overlap_tokens, chunk_template) values (?, 'onnx', ?, ?, ?, ?, ?)")) {
            s.setString(1, collection());
            s.setString(2, model);
            s.setInt(3, ModelCatalog.get(model).dimensions());
            s.setInt(4, chunkSize);
            s.setInt(5, chunkOverlap);
            s.setString(6, template());
            s.executeUpdate();
        }
    }

    public String template() {
        return title ? WITH_TITLE : WITHOUT_TITLE;
    }

    /** A collection name for this setting (lower-case letters, digits and '-'). */
    public String collection() {
        return (model.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-") + "-" + chunkSize + "-" + chunkOverlap
                        + (title ? "-t" : "-n"))
                .replaceAll("-+", "-");
    }

    @Override
    public String toString() {
        return model + "/" + chunkSize + "/" + chunkOverlap + "/" + (title ? "title" : "notitle");
    }
}
