package io.ragline.ingest.document;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.ragline.contracts.Topic;
import io.ragline.contracts.document.DocumentCodec;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.config.Env;
import io.ragline.core.consumer.ConsumerBinding;
import io.ragline.core.consumer.ContractDecoder;
import io.ragline.embeddings.chunking.ModelTokenCounter;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The {@code documents} consumer on a real Postgres and a real broker, with a collection catalog
 * that keeps what it read for an hour, so every record below arrives inside the cache's life.
 * One partition, so a record that follows a dead letter shows that the partition kept flowing.
 */
class DocumentConsumerIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static final ObjectMapper JSON = new ObjectMapper();
    static String topic;
    static WorkerRuntime runtime;
    static KafkaProducer<String, String> producer;

    @BeforeAll
    static void start() {
        String prefix = "docs" + UUID.randomUUID().toString().substring(0, 8) + ".";
        topic = KafkaTopics.createNamed(prefix + Topic.DOCUMENTS.topic(), 1);
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_TOPIC_PREFIX", prefix);
        env.put("RAGLINE_RETRY_BACKOFF_INITIAL", "200ms");
        env.put("RAGLINE_RETRY_BACKOFF_MAX", "1s");
        Env e = new Env(env);
        runtime = WorkerRuntime.start("document-consumer-it", 0, e);
        runtime.consume(new ConsumerBinding<>(
                Topic.DOCUMENTS.topic(),
                List.of(topic),
                new ContractDecoder<>(new DocumentCodec(1 << 20)),
                new DocumentWriter(
                        new CollectionCatalog(Duration.ofHours(1)),
                        new ModelTokenCounter.Chunkers(),
                        runtime.registry())));
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
    void aCollectionDroppedAndCreatedAgainUnderItsNameTakesDocumentsAtOnce() throws Exception {
        db.execute("insert into collections (name) values ('again')");
        publish("again/first", upsert("again", "first", "Stored while the first collection lives."));
        awaitStored("again", "first");

        db.execute("delete from collections where name = 'again'");
        db.execute("insert into collections (name) values ('again')");
        publish("again/second", upsert("again", "second", "Stored in the collection made again."));

        awaitStored("again", "second");
        assertThat(deadLetters("again/")).isEmpty();

        db.execute("delete from collections where name = 'again'");
        publish("again/third", upsert("again", "third", "Its collection is gone for good."));
        publish("default/after-gone", upsert("default", "after-gone", "Follows a dead letter."));

        awaitStored("default", "after-gone");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> !deadLetters("again/").isEmpty());
        assertThat(deadLetters("again/"))
                .singleElement()
                .satisfies(r -> assertThat(r.key()).isEqualTo("again/third"))
                .satisfies(r -> assertThat(reason(r)).isEqualTo("unknown collection 'again'"));
    }

    @Test
    void aRecordWithoutAKeyIsDeadLetteredAndThePartitionMovesOn() throws Exception {
        publish(null, upsert("default", "keyless", "Published without a key."));
        publish("default/after-keyless", upsert("default", "after-keyless", "Follows the keyless record."));

        awaitStored("default", "after-keyless");
        await().atMost(Duration.ofSeconds(30))
                .until(() -> KafkaTopics.readAll(topic + ".dlq", Duration.ofSeconds(30)).stream()
                        .anyMatch(r -> r.key() == null));
        assertThat(KafkaTopics.readAll(topic + ".dlq", Duration.ofSeconds(30)).stream()
                        .filter(r -> r.key() == null))
                .singleElement()
                .satisfies(
                        r -> assertThat(reason(r)).isEqualTo("the record has no key: it needs the key collection/id"));
        assertThat(db.queryValue("select count(*) from documents where external_id = 'keyless'"))
                .isEqualTo(0L);
    }

    @Test
    void anEditedDocumentKeepsTheRowsAndVectorsOfTheChunksWhoseTextCameAgain() throws Exception {
        db.execute("insert into collections (name, chunk_size_tokens, chunk_overlap_tokens) values ('edits', 64, 8)");
        List<String> paragraphs = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            paragraphs.add("Paragraph " + i + " of the manual describes option number " + i
                    + ", which changes how the tool reports its progress to the terminal.");
        }
        publish("edits/manual", document("edits", "manual", 1, String.join("\n\n", paragraphs)));
        awaitVersion("edits", "manual", 1);
        long document = (long) db.queryValue("select id from documents where external_id = 'manual'");
        // Vectors, as the embedding-worker would have written them.
        db.execute("insert into chunk_embeddings (chunk_id, collection_id, embedding, model) select id, collection_id,"
                + " array_fill(0.5, array[384])::vector, 'all-MiniLM-L6-v2' from chunks where document_id = "
                + document);
        Map<String, Long> before = chunkIds(document);
        assertThat(before).hasSizeGreaterThan(15);

        paragraphs.set(20, "Paragraph 20 was rewritten: it now speaks of colours in the output instead.");
        publish("edits/manual", document("edits", "manual", 2, String.join("\n\n", paragraphs)));
        awaitVersion("edits", "manual", 2);

        Map<String, Long> after = chunkIds(document);
        long kept = after.entrySet().stream()
                .filter(e -> e.getValue().equals(before.get(e.getKey())))
                .count();
        assertThat(after.size() - kept).as("chunks cut anew").isBetween(1L, 3L);
        assertThat(after.values().stream()
                        .filter(id -> !before.containsValue(id))
                        .count())
                .isEqualTo(after.size() - kept);
        assertThat(db.queryValue("select count(*) from chunk_embeddings e join chunks ch on ch.id = e.chunk_id where"
                        + " ch.document_id = " + document))
                .as("the kept chunks keep their vectors")
                .isEqualTo(kept);
        assertThat(db.queryValue("select count(*) from chunk_embeddings e where not exists (select 1 from chunks ch"
                        + " where ch.id = e.chunk_id)"))
                .as("the vectors of the chunks whose text is gone are deleted with them")
                .isEqualTo(0L);
        assertThat(db.queryValue("select string_agg(seq::text, ',' order by seq) = string_agg((n - 1)::text, ','"
                        + " order by n) from (select seq, row_number() over (order by seq) n from chunks where"
                        + " document_id = " + document + ") s"))
                .as("seq runs 0, 1, 2, ...")
                .isEqualTo(true);
        assertThat(db.queryValue("select count(*) from chunks where text_hash is distinct from"
                        + " sha256(convert_to(content, 'UTF8'))"))
                .as("the hash the worker writes is the hash the migration computes")
                .isEqualTo(0L);
    }

    @Test
    void paragraphsPublishedInTheReverseOrderKeepEveryChunkUnderItsNewSeq() throws Exception {
        db.execute("insert into collections (name, chunk_size_tokens, chunk_overlap_tokens) values ('moves', 64, 0)");
        List<String> paragraphs = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            paragraphs.add("Section " + i + " lists the steps to configure the service on a new machine, one after"
                    + " the other, and explains what each of the settings does when it is changed later.");
        }
        publish("moves/guide", document("moves", "guide", 1, String.join("\n\n", paragraphs)));
        awaitVersion("moves", "guide", 1);
        long document = (long) db.queryValue("select id from documents where external_id = 'guide'");
        Map<String, Long> before = chunkIds(document);
        assertThat(before).hasSize(12);

        Collections.reverse(paragraphs);
        publish("moves/guide", document("moves", "guide", 2, String.join("\n\n", paragraphs)));
        awaitVersion("moves", "guide", 2);

        assertThat(chunkIds(document)).isEqualTo(before);
        assertThat(db.queryValue(
                        "select string_agg(seq::text, ',' order by id) from chunks where document_id = " + document))
                .isEqualTo("11,10,9,8,7,6,5,4,3,2,1,0");
    }

    @Test
    void aDocumentIsCutForEveryLiveChunkingItsTextIsKeptAndADroppedChunkingsChunksGo() throws Exception {
        db.execute("insert into collections (name, chunk_size_tokens, chunk_overlap_tokens) values ('two', 64, 8)");
        List<String> paragraphs = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            paragraphs.add("Paragraph " + i + " of the handbook explains setting " + i
                    + ",   which decides how the daemon rotates\tits logs at night.");
        }
        publish("two/handbook", document("two", "handbook", 1, String.join("\n\n", paragraphs)));
        awaitVersion("two", "handbook", 1);
        long document = (long) db.queryValue("select id from documents where external_id = 'handbook'");
        assertThat(db.queryValue(
                        "select string_agg(distinct chunking::text, ',') from chunks where document_id = " + document))
                .isEqualTo("1");
        assertThat(db.queryValue("select content from document_texts where document_id = " + document))
                .as("the normalised text is kept")
                .isEqualTo(String.join("\n\n", paragraphs).replace("   ", " ").replace("\t", " "));

        // A migration to 32-token chunks (V34): generation 2 with chunking 2.
        db.execute("select collection_migrate(id, embedding_provider, embedding_model, dimensions, 32, 4) from"
                + " collections where name = 'two'");
        assertThat(db.queryValue("select chunking from collection_generations g join collections c on c.id ="
                        + " g.collection_id where c.name = 'two' and g.generation = 2"))
                .isEqualTo(2);
        paragraphs.set(10, "Paragraph 10 was rewritten: the daemon now keeps its logs for a week.");
        publish("two/handbook", document("two", "handbook", 2, String.join("\n\n", paragraphs)));
        awaitVersion("two", "handbook", 2);
        long first =
                (long) db.queryValue("select count(*) from chunks where chunking = 1 and document_id = " + document);
        long second =
                (long) db.queryValue("select count(*) from chunks where chunking = 2 and document_id = " + document);
        assertThat(second)
                .as("cut for both chunkings, the second in smaller pieces")
                .isGreaterThan(first);
        assertThat(db.queryValue(
                        "select max(token_count) from chunks where chunking = 2 and document_id = " + document))
                .isInstanceOfSatisfying(Integer.class, n -> assertThat(n).isBetween(8, 32));
        for (int chunking : List.of(1, 2)) {
            assertThat(db.queryValue("select string_agg(seq::text, ',' order by seq) = string_agg((n - 1)::text, ','"
                            + " order by n) from (select seq, row_number() over (order by seq) n from chunks where"
                            + " chunking = " + chunking + " and document_id = " + document + ") s"))
                    .as("chunking %d's seq runs 0, 1, 2, ...", chunking)
                    .isEqualTo(true);
        }
        assertThat(db.queryValue("select chunk_count from documents where id = " + document))
                .as("the serving chunking's count")
                .isEqualTo((int) first);
        assertThat((String) db.queryValue("select content from document_texts where document_id = " + document))
                .contains("keeps its logs for a week");

        // An edit keeps each chunking's rows whose text came again.
        Map<String, Long> before = chunkIds(document, 2);
        paragraphs.set(3, "Paragraph 3 now says the daemon compresses old logs.");
        publish("two/handbook", document("two", "handbook", 3, String.join("\n\n", paragraphs)));
        awaitVersion("two", "handbook", 3);
        Map<String, Long> after = chunkIds(document, 2);
        long kept = after.entrySet().stream()
                .filter(e -> e.getValue().equals(before.get(e.getKey())))
                .count();
        assertThat(after.size() - kept).as("chunking 2's chunks cut anew").isBetween(1L, 4L);

        // A chunking no generation has (left by an ingest in flight at a prune) goes at the next write.
        db.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count,"
                + " chunking) select id, collection_id, version, 0, 'orphan', 1, 7 from documents where id = "
                + document);
        publish("two/handbook", document("two", "handbook", 4, String.join("\n\n", paragraphs) + " The end."));
        awaitVersion("two", "handbook", 4);
        assertThat(db.queryValue("select count(*) from chunks where chunking = 7"))
                .isEqualTo(0L);

        // Stopping the migration (its generation dropped) deletes its chunking's chunks and row.
        db.execute("select collection_drop_generation(id, 2) from collections where name = 'two'");
        assertThat(db.queryValue("select count(*) from chunks where chunking = 2 and document_id = " + document))
                .isEqualTo(0L);
        assertThat(db.queryValue("select count(*) from collection_chunkings k join collections c on c.id ="
                        + " k.collection_id where c.name = 'two'"))
                .isEqualTo(1L);
        assertThat(db.queryValue("select count(*) from chunks where chunking = 1 and document_id = " + document))
                .isNotEqualTo(0L);

        // Unchanged content published again keeps a text that was missing (stored before texts were kept).
        db.execute("delete from document_texts where document_id = " + document);
        publish("two/handbook", document("two", "handbook", 5, String.join("\n\n", paragraphs) + " The end."));
        await().atMost(Duration.ofSeconds(60))
                .until(() ->
                        Long.valueOf(5).equals(db.queryValue("select version from documents where id = " + document)));
        assertThat((String) db.queryValue("select content from document_texts where document_id = " + document))
                .endsWith("The end.");

        publish("two/handbook", "{\"schema_version\":1,\"op\":\"delete\",\"collection\":\"two\",\"id\":\"handbook\"}");
        await().atMost(Duration.ofSeconds(60))
                .until(() -> "deleted".equals(db.queryValue("select status from documents where id = " + document)));
        assertThat(db.queryValue("select count(*) from document_texts where document_id = " + document))
                .as("a deleted document's text goes with its chunks")
                .isEqualTo(0L);
    }

    /** The document's chunk ids of one chunking by their text. */
    private static Map<String, Long> chunkIds(long document, int chunking) throws Exception {
        Map<String, Long> ids = new HashMap<>();
        try (var c = db.connect();
                var rs = c.createStatement()
                        .executeQuery("select content, id from chunks where chunking = " + chunking
                                + " and document_id = " + document)) {
            while (rs.next()) {
                ids.put(rs.getString(1), rs.getLong(2));
            }
        }
        return ids;
    }

    private static String upsert(String collection, String id, String content) {
        return "{\"schema_version\":1,\"op\":\"upsert\",\"collection\":\"" + collection + "\",\"id\":\"" + id
                + "\",\"title\":\"" + id + "\",\"content\":\"" + content + "\"}";
    }

    private static String document(String collection, String id, long version, String content) {
        return JSON.createObjectNode()
                .put("schema_version", 1)
                .put("op", "upsert")
                .put("collection", collection)
                .put("id", id)
                .put("title", id)
                .put("version", version)
                .put("content", content)
                .toString();
    }

    private static void awaitVersion(String collection, String id, long version) {
        await().atMost(Duration.ofSeconds(60))
                .until(() -> Boolean.TRUE.equals(db.queryValue("select d.version = " + version
                        + " and d.status = 'chunked' from documents d join collections c on c.id = d.collection_id"
                        + " where c.name = '" + collection + "' and d.external_id = '" + id + "'")));
    }

    /** The document's chunk ids by their text (texts are unique in these documents). */
    private static Map<String, Long> chunkIds(long document) throws Exception {
        Map<String, Long> ids = new HashMap<>();
        try (var c = db.connect();
                var rs = c.createStatement()
                        .executeQuery("select content, id from chunks where document_id = " + document)) {
            while (rs.next()) {
                ids.put(rs.getString(1), rs.getLong(2));
            }
        }
        return ids;
    }

    private static void publish(String key, String value) throws Exception {
        producer.send(new ProducerRecord<>(topic, key, value)).get();
    }

    private static void awaitStored(String collection, String id) {
        await().atMost(Duration.ofSeconds(60))
                .until(() -> "chunked"
                        .equals(db.queryValue("select d.status from documents d join collections c on c.id ="
                                + " d.collection_id where c.name = '" + collection + "' and d.external_id = '" + id
                                + "'")));
    }

    private static List<ConsumerRecord<String, String>> deadLetters(String keyPrefix) {
        return KafkaTopics.readAll(topic + ".dlq", Duration.ofSeconds(30)).stream()
                .filter(r -> r.key() != null && r.key().startsWith(keyPrefix))
                .toList();
    }

    private static String reason(ConsumerRecord<String, String> r) {
        var header = r.headers().lastHeader("ragline.dlq.error.message");
        return header == null ? "" : new String(header.value(), StandardCharsets.UTF_8);
    }
}
