package io.ragline.console.deadletters;

import io.ragline.contracts.InvalidMessageException;
import io.ragline.contracts.MessageCodec;
import io.ragline.contracts.Topic;
import io.ragline.contracts.conversation.ConversationCodec;
import io.ragline.contracts.document.DocumentCodec;
import io.ragline.contracts.embedding.EmbeddingRequestCodec;
import io.ragline.contracts.event.ClaudeEventCodec;
import io.ragline.contracts.pipeline.PipelineEventCodec;
import io.ragline.contracts.training.TrainingRequestCodec;
import io.ragline.ingest.IngestSettings;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Whether a replacement value for a redriven dead letter keeps its topic's contract, with the
 * record's own key: a fix that its topic's codec refuses would only be dead-lettered again. A
 * document's content is checked against the ingest-worker's default limit, which no body the API
 * takes (1 MiB) can pass by much; a lower {@code RAGLINE_DOCUMENT_MAX_BYTES} of the workers is
 * theirs to apply. A topic that is none of Ragline's is not checked.
 */
final class ReplacementCheck {
    private ReplacementCheck() {}

    /**
     * The codec's reason for refusing {@code value}, or empty when it is accepted (or not checked).
     *
     * @param topic the source topic without the prefix
     */
    static Optional<String> problem(String topic, String key, byte[] value) {
        MessageCodec<?> codec = codecOf(topic);
        if (codec == null) {
            return Optional.empty();
        }
        try {
            codec.decode(key, value);
            return Optional.empty();
        } catch (InvalidMessageException e) {
            return Optional.of(e.getMessage());
        }
    }

    private static MessageCodec<?> codecOf(String topic) {
        for (Topic t : Topic.values()) {
            if (t.topic().equals(topic)) {
                return switch (t) {
                    case DOCUMENTS -> new DocumentCodec(IngestSettings.DEFAULT_MAX_CONTENT_BYTES);
                    case EMBEDDING_REQUESTS -> new EmbeddingRequestCodec();
                    case PIPELINE_EVENTS -> new PipelineEventCodec();
                    case TRAINING -> new TrainingRequestCodec();
                    case CLAUDE_EVENTS -> new ClaudeEventCodec();
                    case CONVERSATIONS -> new ConversationCodec(IngestSettings.DEFAULT_MAX_CONTENT_BYTES);
                };
            }
        }
        return null;
    }

    static String utf8(byte[] key) {
        return key == null ? null : new String(key, StandardCharsets.UTF_8);
    }
}
