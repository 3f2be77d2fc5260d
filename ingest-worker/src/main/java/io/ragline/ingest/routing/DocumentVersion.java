package io.ragline.ingest.routing;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/**
 * A document version taken from an event: a non-negative integer (or its decimal text), or an
 * ISO-8601 timestamp with offset (as webhooks carry {@code updated_at}), which becomes its epoch
 * milliseconds, so a later edit has a higher version.
 */
final class DocumentVersion {
    private DocumentVersion() {}

    /** The version, or null when {@code value} is none of the accepted forms. */
    static Long parse(JsonNode value) {
        if (value.isIntegralNumber()) {
            return value.canConvertToLong() && value.asLong() >= 0 ? value.asLong() : null;
        }
        if (!value.isTextual()) {
            return null;
        }
        String text = value.asText().strip();
        if (text.matches("[0-9]{1,18}")) {
            return Long.parseLong(text);
        }
        try {
            long ms = OffsetDateTime.parse(text).toInstant().toEpochMilli();
            return ms >= 0 ? ms : null;
        } catch (DateTimeParseException e) {
            return null;
        }
    }
}
