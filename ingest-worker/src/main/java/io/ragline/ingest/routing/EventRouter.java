package io.ragline.ingest.routing;

import io.ragline.contracts.Topic;
import io.ragline.contracts.event.ClaudeEvent;
import io.ragline.contracts.status.ClaudeEventStatus;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.consumer.BatchWriter;
import io.ragline.core.consumer.InboundRecord;
import io.ragline.core.consumer.KafkaDeadLetters;
import io.ragline.core.consumer.PoisonRecordException;
import io.ragline.core.outbox.Outbox;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Routes {@code claude_events} messages in the consumer's transaction: locks the event's row,
 * applies the first matching rule (an outbox row to {@code documents} or {@code training}, or
 * nothing for {@code record}) and moves the row to {@code processed}, {@code ignored} or
 * {@code failed}, all in the transaction that also stores the consumed offsets.
 *
 * <p>Each event is routed once per generation: a message whose {@code replay} is below the row's
 * {@code replays} is an earlier generation, and one whose row already has a final status was
 * routed; both are redeliveries and change nothing. {@code events replay} sets the row back to
 * {@code received} with {@code replays + 1} and publishes a message of the new generation.
 *
 * <p>A rule that cannot be applied (a required field without value, a value of the wrong type, an
 * invalid rule, an unknown collection), or a message that names its event but is malformed, marks
 * the row {@code failed} with the reason and writes a copy of the message to the dead-letter topic
 * through the outbox, in the same transaction. A message whose row no longer exists (deleted by an
 * operator, or a message of a deleted row whose delivery id was used again) is skipped: without
 * its row there is no status to guard against routing it twice.
 */
public final class EventRouter implements BatchWriter<ClaudeEvent> {
    private static final Logger log = LoggerFactory.getLogger(EventRouter.class);

    private final RoutingRules rules;
    private final RuleApplication application;
    private final CollectionCatalog catalog;
    private final String deadLetterTopic;
    private final String group;
    private final RoutingMetrics metrics;

    /**
     * @param deadLetterTopic the dead-letter topic before the prefix ({@code claude_events.dlq})
     * @param group the consumer group, for the dead letters' header
     */
    public EventRouter(
            RoutingRules rules,
            int maxContentBytes,
            CollectionCatalog catalog,
            String deadLetterTopic,
            String group,
            io.micrometer.core.instrument.MeterRegistry registry) {
        this.rules = rules;
        this.application = new RuleApplication(maxContentBytes);
        this.catalog = catalog;
        this.deadLetterTopic = deadLetterTopic;
        this.group = group;
        this.metrics = new RoutingMetrics(registry);
    }

    private record Row(long id, ClaudeEventStatus status, int replays) {}

    @Override
    public void write(List<InboundRecord<ClaudeEvent>> records, Connection c) throws Exception {
        for (InboundRecord<ClaudeEvent> r : records) {
            route(r, c);
        }
    }

    private void route(InboundRecord<ClaudeEvent> r, Connection c) throws Exception {
        ClaudeEvent e = r.value();
        Row row = lock(c, e);
        if (row == null || (e.id() != null && e.id() != row.id)) {
            if (e.problem() != null) {
                throw new PoisonRecordException(e.problem(), r.raw(), null);
            }
            log.debug(
                    "{}-{}@{}: event {} has no claude_events row; skipped",
                    r.topic(),
                    r.partition(),
                    r.offset(),
                    e.key());
            metrics.routed(e.source(), RoutingMetrics.NONE, "missing");
            return;
        }
        // A routed event stays as it was, whatever arrives later under its key: a redelivery, an
        // older generation, or a malformed message.
        if (e.replay() < row.replays || row.status.isFinal()) {
            metrics.routed(e.source(), RoutingMetrics.NONE, "duplicate");
            return;
        }
        if (e.problem() != null) {
            fail(c, r, row, "invalid claude_events message: " + e.problem(), RoutingMetrics.NONE);
            return;
        }
        RoutingRule rule = rules.first(c, e.source(), e.eventType());
        if (rule == null) {
            finish(c, row, ClaudeEventStatus.IGNORED, null);
            metrics.routed(e.source(), RoutingMetrics.NONE, ClaudeEventStatus.IGNORED.stored());
            return;
        }
        try {
            RuleApplication.Outgoing out = application.apply(rule, e);
            if (out != null && out.topic() == Topic.DOCUMENTS) {
                String collection = out.value().get("collection").asText();
                if (catalog.find(c, collection) == null) {
                    throw new RuleException(
                            "rule '" + rule.name() + "' (ingest_document): unknown collection '" + collection + "'");
                }
            }
            if (out != null) {
                Outbox.append(
                        c,
                        out.topic().topic(),
                        out.key(),
                        out.value().toString(),
                        Map.of("ragline.event.source", e.source(), "ragline.event.id", Long.toString(row.id)));
            }
            finish(c, row, ClaudeEventStatus.PROCESSED, null);
            metrics.routed(e.source(), rule.action().label(), ClaudeEventStatus.PROCESSED.stored());
        } catch (RuleException failure) {
            fail(c, r, row, failure.getMessage(), rule.action().label());
        }
    }

    /** The event's row, locked until the batch commits; null when there is none. */
    private static Row lock(Connection c, ClaudeEvent e) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
                "select id, status, replays from claude_events" + " where source = ? and delivery_id = ? for update")) {
            s.setString(1, e.source());
            s.setString(2, e.deliveryId());
            try (ResultSet rs = s.executeQuery()) {
                return rs.next()
                        ? new Row(rs.getLong(1), ClaudeEventStatus.fromStored(rs.getString(2)), rs.getInt(3))
                        : null;
            }
        }
    }

    private static void finish(Connection c, Row row, ClaudeEventStatus status, String error) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("update claude_events set status = ?, attempts = attempts + 1,"
                + " last_error = ?, processed_at = now() where id = ?")) {
            s.setString(1, row.status.moveTo(status).stored());
            s.setString(2, error);
            s.setLong(3, row.id);
            s.executeUpdate();
        }
    }

    private void fail(Connection c, InboundRecord<ClaudeEvent> r, Row row, String error, String action)
            throws Exception {
        String message = error.length() <= 1000 ? error : error.substring(0, 999) + "…";
        finish(c, row, ClaudeEventStatus.FAILED, message);
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(KafkaDeadLetters.ERROR_CLASS, RuleException.class.getName());
        headers.put(KafkaDeadLetters.ERROR_MESSAGE, message);
        headers.put(KafkaDeadLetters.TOPIC, r.topic());
        headers.put(KafkaDeadLetters.PARTITION, Integer.toString(r.partition()));
        headers.put(KafkaDeadLetters.OFFSET, Long.toString(r.offset()));
        headers.put(KafkaDeadLetters.TIMESTAMP, Long.toString(r.raw().timestamp()));
        headers.put(KafkaDeadLetters.ATTEMPTS, "1");
        headers.put(KafkaDeadLetters.CONSUMER_GROUP, group);
        headers.put("ragline.event.id", Long.toString(row.id));
        Outbox.append(c, deadLetterTopic, r.key(), r.value().message().toString(), headers);
        metrics.routed(r.value().source(), action, ClaudeEventStatus.FAILED.stored());
        log.info("claude_events {} ({}) failed: {}", row.id, r.value().key(), message);
    }
}
