package io.ragline.contracts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.ragline.contracts.conversation.ConversationCodec;
import io.ragline.contracts.document.DocumentCodec;
import io.ragline.contracts.embedding.EmbeddingRequestCodec;
import io.ragline.contracts.event.ClaudeEventCodec;
import io.ragline.contracts.pipeline.PipelineEventCodec;
import io.ragline.contracts.training.TrainingRequestCodec;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every topic's JSON Schema held against its codec, both ways: each example the schema accepts
 * the codec accepts and each one it refuses the codec refuses, and whatever the codec encodes
 * the schema accepts (and decodes back to the same message).
 */
class SchemasAndCodecsAgreeTest {
    private static final SchemaRegistry REGISTRY =
            SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

    private static final Map<Topic, MessageCodec<?>> CODECS = new EnumMap<>(Map.of(
            Topic.DOCUMENTS, new DocumentCodec(1 << 20),
            Topic.EMBEDDING_REQUESTS, new EmbeddingRequestCodec(),
            Topic.TRAINING, new TrainingRequestCodec(),
            Topic.CLAUDE_EVENTS, new ClaudeEventCodec(),
            Topic.PIPELINE_EVENTS, new PipelineEventCodec(),
            Topic.CONVERSATIONS, new ConversationCodec(1 << 20)));

    @Test
    void everyTopicHasACodecAndASchemaBesideIt() {
        assertThat(CODECS).containsOnlyKeys(Topic.values());
        for (Topic t : Topic.values()) {
            assertThat(CODECS.get(t).topic()).isEqualTo(t);
            assertThat(schema(t)).as("schema of %s", t).isNotNull();
            assertThat(Examples.of(t).valid()).as("valid examples of %s", t).isNotEmpty();
            assertThat(Examples.of(t).invalid()).as("invalid examples of %s", t).isNotEmpty();
        }
    }

    @Test
    void theCodecAcceptsExactlyWhatTheSchemaAccepts() {
        List<String> disagreements = new ArrayList<>();
        for (Topic t : Topic.values()) {
            Schema schema = schema(t);
            Examples examples = Examples.of(t);
            List<Examples.Example> all = new ArrayList<>(examples.valid());
            all.addAll(examples.invalid());
            for (Examples.Example e : all) {
                List<Error> errors = schema.validate(json(e.value()));
                String refusal = refusal(CODECS.get(t), e);
                boolean expected = examples.valid().contains(e);
                if (errors.isEmpty() != expected) {
                    disagreements.add(t + ": the schema " + (expected ? "refuses " + errors : "accepts") + " " + e);
                }
                if ((refusal == null) != expected) {
                    disagreements.add(
                            t + ": the codec " + (expected ? "refuses (" + refusal + ")" : "accepts") + " " + e);
                }
            }
        }
        assertThat(disagreements).isEmpty();
    }

    @Test
    void whatACodecEncodesTheSchemaAcceptsAndTheCodecDecodesBack() throws Exception {
        for (Topic t : Topic.values()) {
            roundTrip(t, CODECS.get(t));
        }
    }

    private static <T> void roundTrip(Topic t, MessageCodec<T> codec) throws InvalidMessageException {
        Schema schema = schema(t);
        for (Examples.Example e : Examples.of(t).valid()) {
            T decoded = codec.decode(e.key(), bytes(e.value()));
            String encoded = codec.encode(decoded);
            assertThat(schema.validate(json(encoded)))
                    .as("%s encoded from %s", encoded, e)
                    .isEmpty();
            T again = codec.decode(codec.key(decoded), bytes(encoded));
            assertThat(codec.key(again)).isEqualTo(codec.key(decoded));
            assertThat(codec.encode(again))
                    .as("%s decoded and encoded again", e)
                    .isEqualTo(encoded);
        }
    }

    private static String refusal(MessageCodec<?> codec, Examples.Example e) {
        try {
            codec.decode(e.key(), bytes(e.value()));
            return null;
        } catch (InvalidMessageException x) {
            assertThat(x.getMessage()).as("the reason for %s", e).isNotBlank();
            return x.getMessage();
        }
    }

    static Schema schema(Topic t) {
        try (InputStream in = Topic.class.getResourceAsStream(t.schemaResource())) {
            assertThat(in).as(t.schemaResource()).isNotNull();
            return REGISTRY.getSchema(in);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static JsonNode json(String text) {
        try {
            return Json.MAPPER.readTree(text);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static byte[] bytes(String text) {
        return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
    }
}
