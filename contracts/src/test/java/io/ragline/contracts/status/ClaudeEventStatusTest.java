package io.ragline.contracts.status;

import static io.ragline.contracts.status.ClaudeEventStatus.FAILED;
import static io.ragline.contracts.status.ClaudeEventStatus.IGNORED;
import static io.ragline.contracts.status.ClaudeEventStatus.PROCESSED;
import static io.ragline.contracts.status.ClaudeEventStatus.PUBLISHED;
import static io.ragline.contracts.status.ClaudeEventStatus.RECEIVED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ClaudeEventStatusTest {

    @Test
    void theStoredTextIsTheColumnsAndMapsBothWays() {
        // claude_events.status CHECK (status IN ('received', 'published', 'processed', 'failed', 'ignored'))
        assertThat(ClaudeEventStatus.values())
                .extracting(ClaudeEventStatus::stored)
                .containsExactly("received", "published", "processed", "failed", "ignored");
        for (ClaudeEventStatus s : ClaudeEventStatus.values()) {
            assertThat(ClaudeEventStatus.fromStored(s.stored())).isSameAs(s);
        }
        assertThatThrownBy(() -> ClaudeEventStatus.fromStored("routed"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown claude_events status 'routed'");
    }

    @Test
    void aReceivedEventIsRoutedOnceAndAReplayReceivesItAgain() {
        for (ClaudeEventStatus routed : new ClaudeEventStatus[] {PROCESSED, IGNORED, FAILED}) {
            assertThat(RECEIVED.moveTo(routed)).isEqualTo(routed);
            assertThat(routed.isFinal()).isTrue();
            assertThat(routed.moveTo(RECEIVED)).isEqualTo(RECEIVED);
            for (ClaudeEventStatus other : new ClaudeEventStatus[] {PROCESSED, IGNORED, FAILED, PUBLISHED}) {
                assertThat(routed.canMoveTo(other))
                        .as("%s to %s", routed, other)
                        .isFalse();
            }
        }
        assertThat(RECEIVED.isFinal()).isFalse();
        assertThat(RECEIVED.moveTo(RECEIVED)).isEqualTo(RECEIVED);
    }

    @Test
    void aRoutedEventCannotBeRoutedAgainWithoutAReplay() {
        assertThatThrownBy(() -> PROCESSED.moveTo(FAILED))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("from processed to failed");
    }
}
