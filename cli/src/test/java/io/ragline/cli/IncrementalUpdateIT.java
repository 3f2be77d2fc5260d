package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.micrometer.core.instrument.MeterRegistry;
import io.ragline.core.WorkerRuntime;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.ParagraphCorpus;
import io.ragline.testkit.ParagraphCorpus.Document;
import io.ragline.testkit.PostgresSchema;
import java.net.ServerSocket;
import java.net.http.HttpClient;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Only changed chunks are embedded again, end to end ({@code ragline all} in this JVM, a real
 * Postgres, a real broker, the real model): documents of real paragraphs are published, embedded,
 * then published again with about a tenth of their text replaced. The chunks whose text came
 * again keep their rows and vectors; the model sees only the others, and search sees the new text
 * and no longer the old. The collection's chunks are 128 tokens, so these documents of 20
 * paragraphs are cut into about 25 chunks each.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class IncrementalUpdateIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static final HttpClient http = HttpClient.newHttpClient();
    private static final ParagraphCorpus CORPUS = ParagraphCorpus.licences();
    private static final String ZEBRAS = "Zebras graze on the open grasslands of the African savanna in large herds,"
            + " their black and white stripes confusing the lions that hunt them at dusk near the watering holes.";
    private static final String PENGUINS = "Emperor penguins huddle together on the Antarctic sea ice through the"
            + " polar winter, each male keeping a single egg warm on his feet while the females fish in the ocean.";
    static String prefix;
    static WorkerRuntime runtime;
    static int searchPort;
    static KafkaProducer<String, String> producer;

    @BeforeAll
    static void start() throws Exception {
        db.execute("update collections set chunk_size_tokens = 128, chunk_overlap_tokens = 16 where name = 'default'");
        prefix = "inc" + UUID.randomUUID().toString().substring(0, 8) + ".";
        KafkaTopics.createNamed(prefix + "documents", 2);
        try (ServerSocket s = new ServerSocket(0)) {
            searchPort = s.getLocalPort();
        }
        Map<String, String> env = AllWorkers.env(db.env());
        env.put("RAGLINE_SEARCH_PORT", String.valueOf(searchPort));
        env.put("RAGLINE_CONSOLE_PORT", "0");
        env.put("RAGLINE_TOPIC_PREFIX", prefix);
        runtime = AllWorkers.start(env);
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
    @Order(1)
    void replacingATenthOfTheTextOfAHundredDocumentsEmbedsAtMostFifteenPercentOfTheirChunks() throws Exception {
        List<Document> documents = CORPUS.documents("doc-", 100, 20, 17);
        for (Document d : documents) {
            publish(d, 1);
        }
        awaitEmbedded("doc-%", 100, 1);
        long chunks = (long) db.queryValue("select count(*) from chunks ch join documents d on d.id = ch.document_id"
                + " where d.external_id like 'doc-%'");
        assertThat(chunks).as("chunks of the first versions").isGreaterThan(100 * 15);
        Timestamp updated = (Timestamp) db.queryValue("select now()");
        double computed = vectors("computed");
        double reused = vectors("reused");

        for (Document d : documents) {
            publish(CORPUS.edited(d, 2, d.id().hashCode()), 2); // 2 of 20 paragraphs replaced
        }
        awaitEmbedded("doc-%", 100, 2);

        long total = (long) db.queryValue("select count(*) from chunks ch join documents d on d.id = ch.document_id"
                + " where d.external_id like 'doc-%'");
        long embeddedAgain = (long) db.queryValue("select count(*) from chunk_embeddings e join chunks ch on ch.id ="
                + " e.chunk_id join documents d on d.id = ch.document_id where d.external_id like 'doc-%' and"
                + " e.embedded_at > '" + updated + "'");
        System.out.printf(
                "updated 100 documents: %d of %d chunks embedded again (%.1f %%)%n",
                embeddedAgain, total, 100.0 * embeddedAgain / total);
        assertThat((double) embeddedAgain / total)
                .as("share of chunks embedded again")
                .isLessThanOrEqualTo(0.15);
        assertThat(vectors("computed") - computed).isEqualTo(embeddedAgain);
        assertThat(vectors("reused") - reused).isEqualTo(total - embeddedAgain);
        assertThat(db.queryValue("select count(*) from chunks ch join documents d on d.id = ch.document_id where"
                        + " d.external_id like 'doc-%' and not exists (select 1 from chunk_embeddings e where"
                        + " e.chunk_id = ch.id)"))
                .as("chunks without a vector")
                .isEqualTo(0L);
    }

    @Test
    @Order(2)
    void oneParagraphEditedInAFiftyChunkDocumentEmbedsOnlyTheChunksAroundItAndSearchSeesTheNewText() throws Exception {
        List<String> paragraphs =
                new ArrayList<>(CORPUS.documents("long", 1, 40, 5).get(0).paragraphs());
        paragraphs.set(20, ZEBRAS);
        publish(new Document("long", paragraphs), 1);
        awaitEmbedded("long", 1, 1);
        long chunks =
                ((Number) db.queryValue("select chunk_count from documents where external_id = 'long'")).longValue();
        assertThat(chunks).isGreaterThanOrEqualTo(45);
        long holding = (long) db.queryValue("select count(*) from chunks ch join documents d on d.id = ch.document_id"
                + " where d.external_id = 'long' and ch.content like '%Zebras graze%'");
        assertThat(documentsHolding(search("striped wild horses of African grasslands", 50), "Zebras graze"))
                .as("documents whose found chunk holds the zebra paragraph")
                .containsOnly("long");
        double computed = vectors("computed");

        paragraphs.set(20, PENGUINS);
        publish(new Document("long", paragraphs), 2);
        awaitEmbedded("long", 1, 2);

        assertThat(vectors("computed") - computed)
                .as("chunks embedded again: those that held the paragraph (%s) and a neighbour on each side", holding)
                .isBetween(1.0, holding + 2.0);
        // k = 50 (ef_search 50): after the first test replaced 10 % of 2,300 chunks, the HNSW scan at k = 10 missed
        // the new chunk in some runs (seen three times in a row on a loaded machine, never alone); open question in
        // the issue notes.
        JsonNode found = search("birds that live on the ice near the south pole", 50);
        assertThat(documentsHolding(found, "Emperor penguins"))
                .as("documents whose found chunk holds the penguin paragraph, in %s", found)
                .containsOnly("long");
        assertThat(search("striped wild horses of African grasslands", 10).findValuesAsText("content"))
                .noneMatch(content -> content.contains("Zebras"));
    }

    @Test
    @Order(3)
    void theSameTextPublishedAgainEmbedsNothing() throws Exception {
        Document d = CORPUS.documents("doc-", 1, 20, 17).get(0);
        long version = (long) db.queryValue("select version from documents where external_id = 'doc-0'");
        Document current = CORPUS.edited(d, 2, d.id().hashCode());
        double computed = vectors("computed");
        long inferences =
                runtime.registry().get("ragline.embedding.inference").timer().count();

        publish(current, version + 1);
        await().atMost(Duration.ofMinutes(1))
                .until(() -> (long) db.queryValue("select version from documents where external_id = 'doc-0'")
                        == version + 1);

        assertThat(db.queryValue("select status from documents where external_id = 'doc-0'"))
                .isEqualTo("embedded");
        assertThat(vectors("computed")).isEqualTo(computed);
        assertThat(runtime.registry().get("ragline.embedding.inference").timer().count())
                .isEqualTo(inferences);
    }

    private static double vectors(String outcome) {
        MeterRegistry registry = runtime.registry();
        return registry.get("ragline.embedding.vectors")
                .tag("outcome", outcome)
                .counter()
                .count();
    }

    private static void publish(Document d, long version) throws Exception {
        producer.send(DocumentRecords.upsert(prefix, d, version));
    }

    private static void awaitEmbedded(String like, int documents, long version) {
        producer.flush();
        await().atMost(Duration.ofMinutes(10))
                .pollInterval(Duration.ofSeconds(1))
                .until(() -> (long) db.queryValue("select count(*) from documents where external_id like '" + like
                                + "' and status = 'embedded' and version = " + version)
                        == documents);
    }

    /**
     * The documents of the results whose chunk holds {@code text}. The top hit alone is not asserted: the generated
     * corpus can hold a chunk that is nearer a short query than the one paragraph inside a 128-token chunk, and the
     * HNSW index is approximate: a top-1 check failed once in CI with another document ranked first.
     */
    private static List<String> documentsHolding(JsonNode results, String text) {
        List<String> documents = new ArrayList<>();
        for (JsonNode result : results) {
            if (result.get("content").asText().contains(text)) {
                documents.add(result.get("document_id").asText());
            }
        }
        return documents;
    }

    private static JsonNode search(String query, int k) throws Exception {
        return SearchRequest.results(http, searchPort, query, k);
    }
}
