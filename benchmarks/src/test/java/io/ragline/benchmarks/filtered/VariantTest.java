package io.ragline.benchmarks.filtered;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class VariantTest {
    @Test
    void everyIndexTypeComesWithEveryStorageAndReadsBackFromWhatItPrints() {
        assertThat(Variant.all())
                .extracting(Variant::toString)
                .containsExactly("hnsw/vector", "hnsw/halfvec", "ivfflat/vector", "ivfflat/halfvec");
        assertThat(Variant.all())
                .allSatisfy(v -> assertThat(Variant.parse(v.toString())).isEqualTo(v));
        assertThat(Variant.all().stream().map(Variant::collection)).doesNotHaveDuplicates();
    }

    @Test
    void anUnknownIndexOrStorageIsRefused() {
        assertThatThrownBy(() -> Variant.parse("diskann/vector")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Variant.parse("hnsw/bit")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Variant.parse("hnsw")).isInstanceOf(IllegalArgumentException.class);
    }
}
