package io.ragline.ingest.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.contracts.event.ClaudeEvent;
import io.ragline.core.consumer.PoisonRecordException;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class ClaudeEventDecoderTest {
    private final ClaudeEventDecoder decoder = new ClaudeEventDecoder();

    private static ConsumerRecord<byte[], byte[]> record(String key, String value) {
        return new ConsumerRecord<>(
                "claude_events",
                0,
                0,
                key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aMessageOfTheTriggerIsDecoded() throws Exception {
        ClaudeEvent e = decoder.decode(record(
                "github/d-1",
                "{\"schema_version\":1,\"id\":5,\"source\":\"github\","
                        + "\"delivery_id\":\"d-1\",\"event_type\":\"issues\",\"priority\":0,\"payload\":{\"a\":1},"
                        + "\"headers\":{},\"created_at\":\"2026-01-01T00:00:00Z\",\"replay\":2}"));

        assertThat(e.id()).isEqualTo(5L);
        assertThat(e.key()).isEqualTo("github/d-1");
        assertThat(e.eventType()).isEqualTo("issues");
        assertThat(e.replay()).isEqualTo(2);
        assertThat(e.problem()).isNull();
    }

    @Test
    void recordsThatNameNoEventArePoison() {
        assertThatThrownBy(() -> decoder.decode(record("github/d-1", "{not json")))
                .isInstanceOf(PoisonRecordException.class)
                .hasMessageStartingWith("not JSON");
        assertThatThrownBy(() -> decoder.decode(record("x", "[1]"))).hasMessage("not a JSON object");
        assertThatThrownBy(() -> decoder.decode(record("nokey", "{\"event_type\":\"a\"}")))
                .hasMessageContaining("names no event");
        assertThatThrownBy(() -> decoder.decode(record("github/d-1", null))).hasMessageContaining("tombstone");
    }

    @Test
    void aMalformedMessageThatNamesItsEventCarriesItsProblems() throws Exception {
        ClaudeEvent e = decoder.decode(record("github/d-2", "{\"schema_version\":2,\"id\":\"five\",\"replay\":-1}"));

        assertThat(e.key()).isEqualTo("github/d-2");
        assertThat(e.problem())
                .contains("schema_version must be 1")
                .contains("id must be an integer")
                .contains("missing event_type")
                .contains("missing payload")
                .contains("replay must be a non-negative integer");
    }
}
