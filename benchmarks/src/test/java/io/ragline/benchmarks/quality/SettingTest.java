package io.ragline.benchmarks.quality;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.embeddings.ModelCatalog;
import org.junit.jupiter.api.Test;

class SettingTest {
    @Test
    void aSettingReadsBackFromWhatItPrints() {
        Setting s = new Setting("bge-small-en-v1.5-q", 512, 0, false);

        assertThat(Setting.parse(s.toString())).isEqualTo(s);
        assertThat(s.template()).isEqualTo("{chunk}");
        assertThat(s.collection()).isEqualTo("bge-small-en-v1-5-q-512-0-n").matches("[a-z0-9_-]{1,63}");
    }

    @Test
    void theGridStartsWithRaglinesDefaultsAndHoldsEachSettingOnce() {
        assertThat(Setting.grid().get(0)).isEqualTo(new Setting(ModelCatalog.DEFAULT_MODEL, 128, 16, true));
        assertThat(Setting.grid())
                .doesNotHaveDuplicates()
                .hasSize(ModelCatalog.names().size() + 8 + 1);
        assertThat(Setting.grid().stream().map(Setting::collection)).doesNotHaveDuplicates();
    }

    @Test
    void anUnknownModelOrAnOverlapPastTheChunkIsRefused() {
        assertThatThrownBy(() -> Setting.parse("no-such-model/256/32/title"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Setting.parse(ModelCatalog.DEFAULT_MODEL + "/32/32/title"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Setting.parse(ModelCatalog.DEFAULT_MODEL + "/256/32/maybe"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
