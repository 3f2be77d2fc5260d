package io.ragline.ingest.conversation;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.ragline.contracts.conversation.ConversationMessage;
import io.ragline.contracts.conversation.ConversationMessage.NewSession;
import io.ragline.core.consumer.BatchWriter;
import io.ragline.core.consumer.InboundRecord;
import io.ragline.core.consumer.PoisonRecordException;
import io.ragline.core.conversations.Conversations;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Stores the records of the {@code conversations} topic through {@link Conversations#append}, a
 * batch in one transaction, in the order consumed (a session's records share a partition, so its
 * messages are stored in the order they were sent). A redelivered record (after a crash before the
 * offsets were committed, or published twice) names a message already stored and changes nothing.
 */
public final class ConversationWriter implements BatchWriter<ConversationMessage> {
    private final Counter stored;
    private final Counter duplicates;

    public ConversationWriter(MeterRegistry registry) {
        this.stored = outcome(registry, "stored");
        this.duplicates = outcome(registry, "duplicate");
    }

    private static Counter outcome(MeterRegistry registry, String outcome) {
        return Counter.builder("ragline.conversations.messages")
                .description("conversations records applied, by outcome")
                .tag("outcome", outcome)
                .register(registry);
    }

    @Override
    public void write(List<InboundRecord<ConversationMessage>> records, Connection c) throws Exception {
        refuseUnknownCollections(records, c);
        Conversations.Appended appended = Conversations.append(
                c, records.stream().map(InboundRecord::value).toList());
        stored.increment(appended.stored());
        duplicates.increment(appended.duplicates());
    }

    /** A record whose session names a collection that does not exist is a dead letter, named. */
    private static void refuseUnknownCollections(List<InboundRecord<ConversationMessage>> records, Connection c)
            throws Exception {
        Set<String> named = new HashSet<>();
        records.forEach(r -> {
            if (r.value().session() != null && r.value().session().collection() != null) {
                named.add(r.value().session().collection());
            }
        });
        if (named.isEmpty()) {
            return;
        }
        Set<String> known = new HashSet<>();
        try (PreparedStatement s = c.prepareStatement("select name from collections where name = any (?)")) {
            s.setArray(1, c.createArrayOf("text", named.toArray()));
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    known.add(rs.getString(1));
                }
            }
        }
        for (InboundRecord<ConversationMessage> r : records) {
            NewSession session = r.value().session();
            if (session != null && session.collection() != null && !known.contains(session.collection())) {
                throw new PoisonRecordException(
                        "session.collection: unknown collection '" + session.collection() + "'", r.raw(), null);
            }
        }
    }
}
