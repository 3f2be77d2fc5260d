package io.ragline.contracts.status;

import static io.ragline.contracts.status.CollectionStatus.ACTIVE;
import static io.ragline.contracts.status.CollectionStatus.DELETING;
import static io.ragline.contracts.status.CollectionStatus.FAILED;
import static io.ragline.contracts.status.CollectionStatus.PAUSED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class CollectionStatusTest {

    @Test
    void theStoredTextIsTheColumnsAndMapsBothWays() {
        // collections.status CHECK (status IN ('active', 'paused', 'failed', 'deleting'))
        assertThat(CollectionStatus.values())
                .extracting(CollectionStatus::stored)
                .containsExactly("active", "paused", "failed", "deleting");
        for (CollectionStatus s : CollectionStatus.values()) {
            assertThat(CollectionStatus.fromStored(s.stored())).isSameAs(s);
        }
        assertThatThrownBy(() -> CollectionStatus.fromStored("stopped"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown collection status 'stopped'");
    }

    @Test
    void anActiveCollectionPausesAndAPausedOrFailedOneResumes() {
        assertThat(ACTIVE.moveTo(PAUSED)).isEqualTo(PAUSED);
        assertThat(PAUSED.moveTo(ACTIVE)).isEqualTo(ACTIVE);
        assertThat(FAILED.moveTo(ACTIVE)).isEqualTo(ACTIVE);
        assertThat(FAILED.moveTo(PAUSED)).isEqualTo(PAUSED);
    }

    @Test
    void aCollectionBeingDeletedChangesNoMore() {
        assertThat(DELETING.isFinal()).isTrue();
        assertThatThrownBy(() -> DELETING.moveTo(ACTIVE))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("collection status cannot change from deleting to active (allowed: [])");
        for (CollectionStatus s : new CollectionStatus[] {ACTIVE, PAUSED, FAILED}) {
            assertThat(s.canMoveTo(DELETING)).isTrue();
            assertThat(s.isFinal()).isFalse();
        }
    }
}
