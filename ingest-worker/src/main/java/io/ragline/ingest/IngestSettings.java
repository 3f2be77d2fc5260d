package io.ragline.ingest;

import io.ragline.core.config.Env;
import io.ragline.core.config.Problems;

/** How ingest-worker reads documents. Every field is a {@code RAGLINE_*} variable. */
public record IngestSettings(int maxContentBytes) {
    public static final String MAX_CONTENT_BYTES = "RAGLINE_DOCUMENT_MAX_BYTES";
    /** 1 MiB, Kafka's own default message limit. */
    public static final int DEFAULT_MAX_CONTENT_BYTES = 1024 * 1024;

    /** Every rule of every field; each problem names its variable. */
    public IngestSettings {
        new Problems()
                .between(MAX_CONTENT_BYTES, maxContentBytes, 1, 64 * 1024 * 1024)
                .throwIfAny();
    }

    /** Reads every variable; problems are recorded in {@code env} (the defaults stand in), not thrown. */
    public static IngestSettings from(Env env) {
        int maxContentBytes = env.integer(MAX_CONTENT_BYTES, DEFAULT_MAX_CONTENT_BYTES);
        return env.build(() -> new IngestSettings(maxContentBytes), IngestSettings::defaults);
    }

    /** Every field at its default. */
    public static IngestSettings defaults() {
        return new IngestSettings(DEFAULT_MAX_CONTENT_BYTES);
    }
}
