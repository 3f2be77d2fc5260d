package io.ragline.console.deadletters;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.console.api.Json;
import io.ragline.console.deadletters.DeadLetterTopics.DeadLetter;
import io.ragline.console.deadletters.DeadLetterTopics.DeadLetterTopic;
import io.ragline.console.deadletters.DeadLetterTopics.PartitionRange;
import io.ragline.console.deadletters.Dispositions.Disposition;
import java.io.IOException;
import java.time.Instant;

/** The JSON of {@link DeadLettersApi}'s answers (snake_case, ISO-8601 UTC times). */
final class DeadLetterJson {
    /** A listed value longer than this many characters is cut (and {@code value_truncated} is true). */
    static final int MAX_LISTED_VALUE_CHARS = 64 * 1024;

    private DeadLetterJson() {}

    static ObjectNode topic(DeadLetterTopic t) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("topic", t.topic());
        n.put("source_topic", t.sourceTopic());
        var partitions = n.putArray("partitions");
        for (PartitionRange p : t.partitions()) {
            partitions
                    .addObject()
                    .put("partition", p.partition())
                    .put("start_offset", p.startOffset())
                    .put("end_offset", p.endOffset());
        }
        return n;
    }

    static ObjectNode record(DeadLetter r, Disposition d) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("topic", r.topic());
        n.put("partition", r.partition());
        n.put("offset", r.offset());
        n.put("timestamp", Instant.ofEpochMilli(r.timestamp()).toString());
        n.put("key", DeadLetterTopics.utf8(r.key()));
        String value = DeadLetterTopics.utf8(r.value());
        boolean cut = value != null && value.length() > MAX_LISTED_VALUE_CHARS;
        n.put("value", cut ? value.substring(0, MAX_LISTED_VALUE_CHARS) : value);
        n.put("value_truncated", cut);
        ObjectNode headers = n.putObject("headers");
        r.headerMap().forEach(headers::put);
        n.put("reason", r.reason());
        n.set("disposition", disposition(d));
        return n;
    }

    static JsonNode disposition(Disposition d) {
        if (d == null) {
            return Json.MAPPER.nullNode();
        }
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("action", d.action().stored());
        n.put("by", d.by());
        n.put("at", d.at().toString());
        n.set("detail", Json.MAPPER.valueToTree(d.detail()));
        return n;
    }

    static ObjectNode outboxRow(OutboxDeadLetters.Row row) throws IOException {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("id", row.id());
        n.put("topic", row.topic());
        n.put("key", row.key());
        n.set("payload", row.payloadJson() == null ? Json.MAPPER.nullNode() : Json.MAPPER.readTree(row.payloadJson()));
        n.set("headers", Json.MAPPER.readTree(row.headersJson()));
        n.put("priority", row.priority());
        n.put("created_at", row.createdAt().toString());
        n.put("attempts", row.attempts());
        n.put("last_error", row.lastError());
        n.put("dead_lettered_at", row.deadLetteredAt().toString());
        return n;
    }

    static ObjectNode outboxAnswer(long id, Disposition d) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("id", id);
        n.set("disposition", disposition(d));
        return n;
    }
}
