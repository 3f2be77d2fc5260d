package io.ragline.core.consumer;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * Applies a batch in one Postgres transaction together with the consumed offsets
 * ({@code consumer_offsets}). Records at or below an offset already stored for the group are
 * dropped before the writer sees them: a batch redelivered after a crash between the database
 * commit and the Kafka commit has no effect. The call runs through a circuit breaker, so a
 * database that keeps failing is left alone for a while instead of hammered.
 *
 * <p>The same offsets, read when a partition is assigned ({@link #storedOffsets}), let the loop
 * commit to Kafka an offset Kafka has behind the work done ({@link OffsetCommitter}).
 *
 * <p>The writer's {@link BatchWriter#prepare} runs first, before a connection is taken (its
 * failures count for the circuit breaker as the transaction's do); the writer it returns applies
 * the batch in the transaction. {@link #prepare} splits the two, so that a loop may prepare the
 * next batch while this one's transaction runs ({@link OverlappedWrites}).
 */
public final class PostgresBatchSink<T> implements BatchSink<T> {
    private final DataSource dataSource;
    private final String groupId;
    private final BatchWriter<T> writer;
    private final CircuitBreaker breaker;

    /** At most this long for the read of stored offsets at an assignment (Kafka's callback waits). */
    static final int ASSIGNMENT_READ_SECONDS = 5;

    public PostgresBatchSink(DataSource dataSource, String groupId, BatchWriter<T> writer, CircuitBreaker breaker) {
        this.dataSource = dataSource;
        this.groupId = groupId;
        this.writer = writer;
        this.breaker = breaker;
    }

    @Override
    public void write(List<InboundRecord<T>> records, List<ConsumerRecord<byte[], byte[]>> consumed) throws Exception {
        prepare(records, consumed).write();
    }

    /**
     * Runs the writer's {@link BatchWriter#prepare} now and returns the transaction, which may run
     * on another thread. One call of the circuit breaker spans both: its permission is taken here,
     * its outcome recorded when the prepare fails or the transaction ends.
     */
    @Override
    public PreparedWrite prepare(List<InboundRecord<T>> records, List<ConsumerRecord<byte[], byte[]>> consumed)
            throws Exception {
        breaker.acquirePermission(); // CallNotPermittedException while open: transient for the loop
        long start = breaker.getCurrentTimestamp();
        BatchWriter<T> prepared;
        try {
            prepared = writer.prepare(records); // no connection held
        } catch (Exception e) {
            breaker.onError(breaker.getCurrentTimestamp() - start, breaker.getTimestampUnit(), e);
            throw e;
        }
        return new PreparedWrite() {
            @Override
            public void write() throws Exception {
                try {
                    writeInTransaction(prepared, records, consumed);
                    breaker.onSuccess(breaker.getCurrentTimestamp() - start, breaker.getTimestampUnit());
                } catch (Exception e) {
                    breaker.onError(breaker.getCurrentTimestamp() - start, breaker.getTimestampUnit(), e);
                    throw e;
                }
            }

            @Override
            public void discard() {
                breaker.releasePermission(); // a half-open breaker gets its trial call back
            }
        };
    }

    private void writeInTransaction(
            BatchWriter<T> prepared, List<InboundRecord<T>> records, List<ConsumerRecord<byte[], byte[]>> consumed)
            throws Exception {
        Map<TopicPartition, Long> next = nextOffsets(consumed);
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                Map<TopicPartition, Long> stored = storedOffsets(c, next.keySet(), true);
                List<InboundRecord<T>> fresh = new ArrayList<>(records.size());
                for (InboundRecord<T> r : records) {
                    Long done = stored.get(new TopicPartition(r.topic(), r.partition()));
                    if (done == null || r.offset() >= done) {
                        fresh.add(r);
                    }
                }
                if (!fresh.isEmpty()) {
                    prepared.write(fresh, c);
                }
                storeOffsets(c, next);
                c.commit();
            } catch (Exception e) {
                rollbackQuietly(c, e);
                throw e;
            }
        }
    }

    /**
     * This group's offsets stored for {@code partitions}, read outside a batch (partitions just
     * assigned, inside Kafka's rebalance callback): one statement, bounded by {@link
     * #ASSIGNMENT_READ_SECONDS}, through the circuit breaker, so a database that is down or silent
     * delays the rebalance by seconds at most (an open breaker answers at once; the caller compares
     * again after a later poll).
     */
    @Override
    public Map<TopicPartition, Long> storedOffsets(Collection<TopicPartition> partitions) throws Exception {
        breaker.acquirePermission(); // CallNotPermittedException while open: transient for the caller
        long start = breaker.getCurrentTimestamp();
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement("select o.topic, o.partition, o.next_offset from"
                        + " consumer_offsets o join unnest(?::text[], ?::int[]) as p(topic, partition)"
                        + " on p.topic = o.topic and p.partition = o.partition where o.group_id = ?")) {
            List<TopicPartition> all = List.copyOf(partitions);
            s.setArray(
                    1,
                    c.createArrayOf(
                            "text", all.stream().map(TopicPartition::topic).toArray()));
            s.setArray(
                    2,
                    c.createArrayOf(
                            "int4", all.stream().map(TopicPartition::partition).toArray()));
            s.setString(3, groupId);
            s.setQueryTimeout(ASSIGNMENT_READ_SECONDS);
            Map<TopicPartition, Long> stored = new HashMap<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    stored.put(new TopicPartition(rs.getString(1), rs.getInt(2)), rs.getLong(3));
                }
            }
            breaker.onSuccess(breaker.getCurrentTimestamp() - start, breaker.getTimestampUnit());
            return stored;
        } catch (Exception e) {
            breaker.onError(breaker.getCurrentTimestamp() - start, breaker.getTimestampUnit(), e);
            throw e;
        }
    }

    /** Reads this group's stored offsets of {@code partitions}, locking them for the batch when {@code lock}. */
    private Map<TopicPartition, Long> storedOffsets(Connection c, Iterable<TopicPartition> partitions, boolean lock)
            throws Exception {
        Map<TopicPartition, Long> stored = new HashMap<>();
        try (PreparedStatement s = c.prepareStatement("select next_offset from consumer_offsets"
                + " where group_id = ? and topic = ? and partition = ?" + (lock ? " for update" : ""))) {
            for (TopicPartition tp : partitions) {
                s.setString(1, groupId);
                s.setString(2, tp.topic());
                s.setInt(3, tp.partition());
                try (ResultSet rs = s.executeQuery()) {
                    if (rs.next()) {
                        stored.put(tp, rs.getLong(1));
                    }
                }
            }
        }
        return stored;
    }

    private void storeOffsets(Connection c, Map<TopicPartition, Long> next) throws Exception {
        try (PreparedStatement s = c.prepareStatement("insert into consumer_offsets (group_id, topic, partition,"
                + " next_offset) values (?, ?, ?, ?) on conflict (group_id, topic, partition) do update"
                + " set next_offset = excluded.next_offset, updated_at = now()"
                + " where consumer_offsets.next_offset < excluded.next_offset")) {
            for (Map.Entry<TopicPartition, Long> e : next.entrySet()) {
                s.setString(1, groupId);
                s.setString(2, e.getKey().topic());
                s.setInt(3, e.getKey().partition());
                s.setLong(4, e.getValue());
                s.addBatch();
            }
            s.executeBatch();
        }
    }

    static Map<TopicPartition, Long> nextOffsets(List<ConsumerRecord<byte[], byte[]>> consumed) {
        Map<TopicPartition, Long> next = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : consumed) {
            next.merge(new TopicPartition(r.topic(), r.partition()), r.offset() + 1, Math::max);
        }
        return next;
    }

    private static void rollbackQuietly(Connection c, Exception cause) {
        try {
            c.rollback();
        } catch (Exception e) {
            cause.addSuppressed(e);
        }
    }
}
