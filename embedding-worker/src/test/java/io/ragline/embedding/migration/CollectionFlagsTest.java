package io.ragline.embedding.migration;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

class CollectionFlagsTest {
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final CollectionFlags flags = new CollectionFlags(meters, "test.flag", "a test flag");

    @Test
    void aFlagIsSaidRaisedOnceUntilLoweredAndItsGaugeFollowsIt() {
        assertThat(meters.find("test.flag").gauges())
                .as("none before a collection is flagged")
                .isEmpty();
        assertThat(flags.raise("a")).isTrue();
        assertThat(flags.raise("a")).as("already up").isFalse();
        assertThat(gauge("a")).isEqualTo(1.0);
        flags.lower("a");
        assertThat(gauge("a")).isEqualTo(0.0);
        assertThat(flags.raised()).isEmpty();
        assertThat(flags.raise("a")).as("up again after it was lowered").isTrue();
    }

    @Test
    void eachCollectionHasItsOwnFlagAndLoweringAnUnknownOneDoesNothing() {
        flags.raise("a");
        flags.raise("b");
        flags.lower("b");
        flags.lower("never-raised");
        assertThat(flags.raised()).containsExactly("a");
        assertThat(gauge("a")).isEqualTo(1.0);
        assertThat(gauge("b")).isEqualTo(0.0);
        assertThat(meters.find("test.flag").tag("collection", "never-raised").gauge())
                .isNull();
    }

    private double gauge(String collection) {
        return meters.get("test.flag").tag("collection", collection).gauge().value();
    }
}
