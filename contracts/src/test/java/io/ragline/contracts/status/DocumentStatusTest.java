package io.ragline.contracts.status;

import static io.ragline.contracts.status.DocumentStatus.CHUNKED;
import static io.ragline.contracts.status.DocumentStatus.DELETED;
import static io.ragline.contracts.status.DocumentStatus.EMBEDDED;
import static io.ragline.contracts.status.DocumentStatus.FAILED;
import static io.ragline.contracts.status.DocumentStatus.RECEIVED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DocumentStatusTest {

    @Test
    void theStoredTextIsTheColumnsAndMapsBothWays() {
        // documents.status CHECK (status IN ('received', 'chunked', 'embedded', 'failed', 'deleted'))
        assertThat(DocumentStatus.values())
                .extracting(DocumentStatus::stored)
                .containsExactly("received", "chunked", "embedded", "failed", "deleted");
        for (DocumentStatus s : DocumentStatus.values()) {
            assertThat(DocumentStatus.fromStored(s.stored())).isSameAs(s);
        }
    }

    @Test
    void anUnknownStoredStatusFailsLoudly() {
        assertThatThrownBy(() -> DocumentStatus.fromStored("embedding"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown document status 'embedding'");
        assertThatThrownBy(() -> DocumentStatus.fromStored(null)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aNewVersionChunksAnyDocumentAndADeleteDeletesAny() {
        for (DocumentStatus s : DocumentStatus.values()) {
            assertThat(s.moveTo(CHUNKED)).isEqualTo(CHUNKED);
            assertThat(s.moveTo(DELETED)).isEqualTo(DELETED);
        }
    }

    @Test
    void onlyAChunkedDocumentIsEmbeddedOrFails() {
        assertThat(CHUNKED.moveTo(EMBEDDED)).isEqualTo(EMBEDDED);
        assertThat(CHUNKED.moveTo(FAILED)).isEqualTo(FAILED);
        for (DocumentStatus s : new DocumentStatus[] {RECEIVED, EMBEDDED, FAILED, DELETED}) {
            assertThat(s.canMoveTo(EMBEDDED)).as("%s to embedded", s).isFalse();
            assertThat(s.canMoveTo(FAILED)).as("%s to failed", s).isFalse();
        }
        assertThatThrownBy(() -> DELETED.moveTo(EMBEDDED))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("document status cannot change from deleted to embedded (allowed: [chunked, deleted])");
    }

    @Test
    void nothingGoesBackToReceived() {
        for (DocumentStatus s : DocumentStatus.values()) {
            assertThat(s.canMoveTo(RECEIVED)).isFalse();
        }
    }
}
