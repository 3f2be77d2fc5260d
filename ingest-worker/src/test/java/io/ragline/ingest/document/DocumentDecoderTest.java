package io.ragline.ingest.document;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.core.consumer.PoisonRecordException;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;

class DocumentDecoderTest {
    private final DocumentDecoder decoder = new DocumentDecoder(1000);

    private static ConsumerRecord<byte[], byte[]> record(String key, String value) {
        return new ConsumerRecord<>(
                "documents",
                0,
                0,
                key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aValidUpsertIsDecoded() throws Exception {
        DocumentMessage m = decoder.decode(record(
                "docs/a",
                "{\"op\":\"upsert\",\"collection\":\"docs\",\"id\":\"a\",\"content\":\"hi\",\"version\":3,"
                        + "\"metadata\":{\"lang\":\"en\"}}"));

        assertThat(m.op()).isEqualTo(DocumentMessage.Op.UPSERT);
        assertThat(m.key()).isEqualTo("docs/a");
        assertThat(m.version()).isEqualTo(3L);
        assertThat(m.metadata()).containsEntry("lang", "en");
    }

    @Test
    void aTombstoneDeletesTheDocumentItsKeyNames() throws Exception {
        DocumentMessage m = decoder.decode(record("default/doc-1", null));

        assertThat(m.op()).isEqualTo(DocumentMessage.Op.DELETE);
        assertThat(m.collection()).isEqualTo("default");
        assertThat(m.id()).isEqualTo("doc-1");
    }

    @Test
    void eachKindOfBadRecordIsRefusedWithItsReason() {
        assertPoison(record("default/a", "{not json"), "not JSON");
        assertPoison(record("default/a", "[1,2]"), "not a JSON object");
        assertPoison(record("default/a", "{\"op\":\"upsert\",\"content\":\"x\"}"), "missing id");
        assertPoison(record("default/a", "{\"op\":\"upsert\",\"id\":\"a\"}"), "missing content");
        assertPoison(
                record("default/a", "{\"op\":\"upsert\",\"id\":\"a\",\"content\":\"" + "x".repeat(1001) + "\"}"),
                "content too large");
        assertPoison(
                record("default/a", "{\"op\":\"upsert\",\"id\":7,\"content\":\"x\"}"),
                "id must be a string, not number");
        assertPoison(
                record("default/a", "{\"op\":\"upsert\",\"id\":\"a\",\"content\":\"x\",\"metadata\":[1]}"),
                "metadata must be an object");
        assertPoison(
                record("default/a", "{\"op\":\"upsert\",\"id\":\"a\",\"content\":\"x\",\"version\":\"2\"}"),
                "version must be a non-negative integer");
        assertPoison(record("default/a", "{\"op\":\"merge\",\"id\":\"a\"}"), "op must be 'upsert' or 'delete'");
        assertPoison(record("default/b", "{\"op\":\"delete\",\"id\":\"a\"}"), "does not match collection/id");
        assertPoison(record(null, null), "a tombstone needs the key collection/id");
        assertPoison(
                record(null, "{\"op\":\"upsert\",\"id\":\"a\",\"content\":\"x\"}"),
                "the record has no key: it needs the key collection/id");
        assertPoison(record(null, "{\"op\":\"delete\",\"id\":\"a\"}"), "the record has no key");
        assertPoison(record("default/a", "{\"op\":\"delete\",\"id\":\"a\",\"colour\":1}"), "unknown field 'colour'");
    }

    private void assertPoison(ConsumerRecord<byte[], byte[]> r, String reason) {
        assertThatThrownBy(() -> decoder.decode(r))
                .isInstanceOf(PoisonRecordException.class)
                .hasMessageContaining(reason);
    }
}
