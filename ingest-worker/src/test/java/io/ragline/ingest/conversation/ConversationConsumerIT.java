package io.ragline.ingest.conversation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.contracts.Topic;
import io.ragline.contracts.conversation.ConversationCodec;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.core.consumer.ConsumerBinding;
import io.ragline.core.consumer.ContractDecoder;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The {@code conversations} consumer of the ingest-worker on a real Postgres and a real broker,
 * with a worker login: messages land once each and in order per session, and poison records go to
 * {@code conversations.dlq} with their reason while the partition moves on.
 */
class ConversationConsumerIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static String topic;
    static WorkerRuntime runtime;
    static KafkaProducer<String, String> producer;

    @BeforeAll
    static void start() {
        String prefix = "conv" + UUID.randomUUID().toString().substring(0, 8) + ".";
        topic = KafkaTopics.createNamed(prefix + Topic.CONVERSATIONS.topic(), 3);
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_TOPIC_PREFIX", prefix);
        runtime = WorkerRuntime.start("conversation-consumer-it", 0, new Env(env));
        runtime.consume(new ConsumerBinding<>(
                Topic.CONVERSATIONS.topic(),
                List.of(topic),
                new ContractDecoder<>(new ConversationCodec(1 << 20)),
                new ConversationWriter(runtime.registry())));
        producer = KafkaTopics.producer();
    }

    @AfterAll
    static void stop() {
        if (producer != null) {
            producer.close();
        }
        if (runtime != null) {
            runtime.close();
        }
    }

    @Test
    void messagesOfInterleavedSessionsLandOnceEachInTheOrderEachSessionSentThem() throws Exception {
        List<String> sessions = List.of("order-a", "order-b", "order-c");
        for (int turn = 0; turn < 40; turn++) {
            for (String s : sessions) {
                String role = turn % 2 == 0 ? "user" : "assistant";
                String session = turn == 0 ? ",'session':{'title':'Title of " + s + "','metadata':{'team':'t1'}}" : "";
                String value = "{'session_id':'" + s + "','message_id':'m" + turn + "','role':'" + role
                        + "','content':'turn " + turn + " of " + s + "'" + session + "}";
                publish(s, value);
                if (turn % 10 == 3) {
                    publish(s, value); // published twice: stored once
                }
            }
        }

        await().atMost(Duration.ofSeconds(60))
                .until(() -> (long) db.queryValue(
                                "select count(*) from conversation_messages where session_id like 'order-%'")
                        >= 120);
        await().during(Duration.ofSeconds(2))
                .atMost(Duration.ofSeconds(30))
                .until(() -> (long) db.queryValue(
                                "select count(*) from conversation_messages where session_id like 'order-%'")
                        == 120);
        for (String s : sessions) {
            List<String> contents = contents(s);
            List<String> expected = new ArrayList<>();
            for (int turn = 0; turn < 40; turn++) {
                expected.add("turn " + turn + " of " + s);
            }
            assertThat(contents).as(s).containsExactlyElementsOf(expected);
            assertThat(db.queryValue("select title || ' ' || (metadata->>'team') from conversation_sessions"
                            + " where id = '" + s + "'"))
                    .isEqualTo("Title of " + s + " t1");
        }
    }

    @Test
    void poisonRecordsAreDeadLetteredWithTheirReasonAndTheSessionMovesOn() throws Exception {
        publish("poison", "{'session_id':'poison','message_id':'p1','role':'robot','content':'x'}");
        publish("other", "{'session_id':'poison','message_id':'p2','role':'user','content':'x'}");
        producer.send(new ProducerRecord<>(topic, partitionOf("poison"), "poison", null))
                .get();
        publish("poison", "not json");
        publish(
                "poison",
                "{'session_id':'poison','message_id':'p4','role':'user','content':'x',"
                        + "'session':{'collection':'nowhere'}}");
        publish("poison", "{'session_id':'poison','message_id':'p5','role':'user','content':'after the poison'}");

        await().atMost(Duration.ofSeconds(60)).until(() -> contents("poison").size() == 1);
        await().atMost(Duration.ofSeconds(30)).until(() -> deadLetters().size() == 5);
        assertThat(contents("poison")).containsExactly("after the poison");
        List<String> reasons =
                deadLetters().stream().map(ConversationConsumerIT::reason).toList();
        assertThat(reasons)
                .contains(
                        "role must be 'system', 'user', 'assistant' or 'tool', not 'robot'",
                        "the key 'other' does not match session_id 'poison'",
                        "a tombstone is not a conversation message (delete a session through the API)",
                        "session.collection: unknown collection 'nowhere'")
                .anySatisfy(r -> assertThat(r).startsWith("not JSON: "));
    }

    /** The partition the producer's default partitioner gives a keyed record (the tombstone goes there too). */
    private static int partitionOf(String key) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % 3;
    }

    private static List<String> contents(String session) throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = db.connect();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select content from conversation_messages where session_id = '" + session
                        + "' order by seq")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static void publish(String key, String value) throws Exception {
        producer.send(new ProducerRecord<>(topic, key, value.replace('\'', '"')))
                .get();
    }

    private static List<ConsumerRecord<String, String>> deadLetters() {
        return KafkaTopics.readAll(topic + ".dlq", Duration.ofSeconds(30));
    }

    private static String reason(ConsumerRecord<String, String> r) {
        var header = r.headers().lastHeader("ragline.dlq.error.message");
        return header == null ? "" : new String(header.value(), StandardCharsets.UTF_8);
    }
}
