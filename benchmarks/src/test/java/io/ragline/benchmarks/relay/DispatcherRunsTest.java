package io.ragline.benchmarks.relay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DispatcherRunsTest {
    @Test
    void entriesNameTheirRunsAndBaseOnesRunTheOtherBuild() {
        DispatcherRuns runs = DispatcherRuns.parse("3, 2,base:2", "/other/classes");

        assertThat(runs.runs())
                .containsExactly(
                        new DispatcherRuns.Run("ragline-3", "3", null),
                        new DispatcherRuns.Run("ragline-2", "2", null),
                        new DispatcherRuns.Run("base-2", "2", "/other/classes"));
        assertThat(runs.runs()).extracting(DispatcherRuns.Run::tag).containsExactly("r3", "r2", "b2");
        assertThat(runs.compared())
                .containsExactly(
                        new String[] {"ragline-3", "debezium"},
                        new String[] {"ragline-2", "debezium"},
                        new String[] {"base-2", "debezium"},
                        new String[] {"ragline-2", "ragline-3"},
                        new String[] {"base-2", "ragline-3"});
    }

    @Test
    void anEntryMayAddSettingsOfItsOwn() {
        DispatcherRuns runs = DispatcherRuns.parse("3,3+PRODUCER_COMPRESSION=none", null);

        assertThat(runs.runs())
                .extracting(DispatcherRuns.Run::name)
                .containsExactly("ragline-3", "ragline-3+producer_compression=none");
        assertThat(runs.runs().get(1).settings()).isEqualTo(java.util.Map.of("RAGLINE_PRODUCER_COMPRESSION", "none"));
        assertThat(runs.runs().get(1).producers()).isEqualTo("3");
        assertThat(runs.runs()).extracting(DispatcherRuns.Run::tag).containsExactly("r3", "r3s1");
        assertThatThrownBy(() -> DispatcherRuns.parse("3+RAGLINE_PRODUCER_COMPRESSION=none", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("without its RAGLINE_ prefix");
        assertThatThrownBy(() -> DispatcherRuns.parse("3+producer_compression=none", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("in capitals");
        assertThatThrownBy(() -> DispatcherRuns.parse("3+OUTBOX_PRODUCERS=1", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("the entry's number");
        assertThatThrownBy(() -> DispatcherRuns.parse("3,3", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("ragline-3 is asked for twice");
        assertThat(DispatcherRuns.parse("2+KAFKA_SASL_PASSWORD=hunter2", null)
                        .runs()
                        .get(0)
                        .name())
                .isEqualTo("ragline-2+kafka_sasl_password=***");
    }

    @Test
    void aBaseEntryWithoutTheOtherBuildsClassPathIsRefused() {
        assertThatThrownBy(() -> DispatcherRuns.parse("2,base:2", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-Drelay.baseline");
    }
}
