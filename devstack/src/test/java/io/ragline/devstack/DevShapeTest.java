package io.ragline.devstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DevShapeTest {
    @TempDir
    Path dir;

    @Test
    void aDirectoryWhereNoShapeWasChosenRunsOneBrokerAndOneServer() {
        assertThat(DevShape.read(dir.resolve("shape"))).isEqualTo(new DevShape(1, false));
        assertThat(DevShape.DEFAULT.isDefault()).isTrue();
    }

    @Test
    void theRecordedShapeIsReadBackAndOptionsLeftOutKeepIt() {
        new DevShape(3, true).write(dir.resolve("shape"));

        DevShape recorded = DevShape.read(dir.resolve("shape"));

        assertThat(recorded).isEqualTo(new DevShape(3, true));
        assertThat(recorded.with(null, null)).isEqualTo(recorded);
        assertThat(recorded.with(1, null)).isEqualTo(new DevShape(1, true));
        assertThat(recorded.with(null, false)).isEqualTo(new DevShape(3, false));
        assertThat(recorded.with(1, false).isDefault()).isTrue();
    }

    @Test
    void aBrokerCountOutOfRangeIsRefusedNamingTheOption() {
        assertThatThrownBy(() -> DevShape.DEFAULT.with(0, null))
                .isInstanceOf(DevStackException.class)
                .hasMessage("--kafka-brokers must be between 1 and 9, not 0");
        assertThatThrownBy(() -> new DevShape(10, false)).hasMessageContaining("not 10");
    }

    @Test
    void aDamagedShapeFileIsReportedWithEveryProblemAndWhatToDo() throws Exception {
        Files.writeString(dir.resolve("shape"), "kafka-brokers=three\npostgres-standby=yes\n");

        assertThatThrownBy(() -> DevShape.read(dir.resolve("shape")))
                .isInstanceOf(DevStackException.class)
                .hasMessageContaining("kafka-brokers is not a number")
                .hasMessageContaining("postgres-standby is neither true nor false")
                .hasMessageContaining("delete it");
    }
}
