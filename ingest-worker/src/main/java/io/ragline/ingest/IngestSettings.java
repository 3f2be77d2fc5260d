package io.ragline.ingest;

import io.ragline.core.config.Env;

/** How ingest-worker reads documents. Every field is a {@code RAGLINE_*} variable. */
public record IngestSettings(int maxContentBytes) {
    public static final String MAX_CONTENT_BYTES = "RAGLINE_DOCUMENT_MAX_BYTES";

    public static IngestSettings from(Env env) {
        return new IngestSettings(env.integer(MAX_CONTENT_BYTES, 1024 * 1024, 1, 64 * 1024 * 1024));
    }
}
