package io.ragline.core.consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import io.github.resilience4j.circuitbreaker.CallNotPermittedException;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.Database;
import io.ragline.testkit.PostgresSchema;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The read of stored offsets at an assignment, which runs inside Kafka's rebalance callback: one
 * statement for all the partitions, this group's rows only, and not at all while the sink's
 * circuit breaker is open (a database known to be down costs the rebalance nothing).
 */
class StoredOffsetsIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema();

    static HikariDataSource pool;

    @BeforeAll
    static void table() throws SQLException {
        AppliedTable.create(db);
        pool = Database.pool(
                DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow(), db.schema(), 2, "stored-offsets-it", null);
        db.execute("insert into consumer_offsets (group_id, topic, partition, next_offset) values"
                + " ('g', 'documents', 0, 41), ('g', 'documents', 2, 7), ('g', 'claude_events', 0, 3),"
                + " ('other', 'documents', 1, 99)");
    }

    @AfterAll
    static void closePool() {
        pool.close();
    }

    @Test
    void theOffsetsOfTheGroupsAssignedPartitionsAreReadTheOthersAreNot() throws Exception {
        PostgresBatchSink<String> sink =
                new PostgresBatchSink<>(pool, "g", AppliedTable.writer(0), CircuitBreaker.ofDefaults("read"));

        Map<TopicPartition, Long> stored = sink.storedOffsets(List.of(
                new TopicPartition("documents", 0),
                new TopicPartition("documents", 1),
                new TopicPartition("claude_events", 0)));

        assertThat(stored)
                .containsOnly(
                        Map.entry(new TopicPartition("documents", 0), 41L),
                        Map.entry(new TopicPartition("claude_events", 0), 3L));
    }

    @Test
    void anOpenCircuitBreakerAnswersAtOnceWithoutTheDatabase() {
        CircuitBreaker breaker = CircuitBreaker.ofDefaults("open");
        breaker.transitionToOpenState();
        PostgresBatchSink<String> sink = new PostgresBatchSink<>(pool, "g", AppliedTable.writer(0), breaker);

        assertThatThrownBy(() -> sink.storedOffsets(List.of(new TopicPartition("documents", 0))))
                .isInstanceOf(CallNotPermittedException.class);
    }
}
