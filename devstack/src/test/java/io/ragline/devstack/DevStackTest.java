package io.ragline.devstack;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code dev up} and the fault commands refuse before starting anything. */
class DevStackTest {
    @TempDir
    Path home;

    @Test
    void aScaledShapeIsRefusedWhereTheAddressesAreGivenNamingBothAndStartingNothing() {
        DevStack stack = new DevStack(
                home,
                Map.of(
                        DevServices.DATABASE_URL, "postgresql://u:p@db.example:5432/ragline",
                        DevServices.KAFKA_BOOTSTRAP_SERVERS, "kafka.example:9092",
                        DevStack.MODE_VARIABLE, "local"),
                message -> {});

        assertThatThrownBy(() -> stack.up(new DevShape(3, true)))
                .isInstanceOf(DevStackException.class)
                .hasMessageContaining("DATABASE_URL is given")
                .hasMessageContaining("KAFKA_BOOTSTRAP_SERVERS is given");
        assertThat(home.resolve(".ragline/shape")).doesNotExist();
        assertThat(home.resolve(".ragline/postgres")).doesNotExist();
    }

    @Test
    void givenAddressesWithTheDefaultShapeAreWrittenAsBefore() {
        DevStack stack = new DevStack(
                home,
                Map.of(
                        DevServices.DATABASE_URL, "postgresql://u:p@db.example:5432/ragline",
                        DevServices.KAFKA_BOOTSTRAP_SERVERS, "kafka.example:9092"),
                message -> {});

        DevServices services = stack.up();

        assertThat(services.kafkaBootstrapServers()).isEqualTo("kafka.example:9092");
        assertThat(DevStack.readEnvFile(home)).containsEntry(DevServices.DATABASE_URL, services.databaseUrl());
    }

    @Test
    void brokerCommandsWithoutAClusterSayHowToStartOne() {
        DevStack stack = new DevStack(home, Map.of(), message -> {});

        assertThatThrownBy(() -> stack.kafkaBroker(2, DevStack.BrokerAction.STOP))
                .isInstanceOf(DevStackException.class)
                .hasMessageContaining("`ragline dev up --kafka-brokers 3`");
    }

    @Test
    void promotionWithoutAStandbySaysHowToStartOne() throws Exception {
        new DevShape(1, false).write(home.resolve(".ragline/shape"));
        DevStack stack = new DevStack(home, Map.of(), message -> {});

        assertThatThrownBy(stack::promotePostgresStandby)
                .isInstanceOf(DevStackException.class)
                .hasMessageContaining("`ragline dev up --postgres-standby`");
        assertThat(Files.exists(home.resolve(".ragline/postgres"))).isFalse();
    }
}
