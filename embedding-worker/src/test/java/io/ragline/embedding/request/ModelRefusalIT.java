package io.ragline.embedding.request;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ragline.contracts.embedding.EmbeddingRequest;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.collections.CollectionMigrations;
import io.ragline.core.consumer.FailureKind;
import io.ragline.embedding.EmbeddingWorker;
import io.ragline.embedding.StubEmbeddingEndpoint;
import io.ragline.embeddings.EmbeddingException;
import io.ragline.embeddings.ModelCatalog;
import io.ragline.embeddings.openai.OpenAiEmbeddingProvider;
import io.ragline.testkit.PostgresSchema;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * {@link EmbeddingWriter} on real Postgres with a real OpenAI-compatible HTTP endpoint that refuses
 * some inputs or every request: only a document whose own input is refused is failed; an endpoint
 * that refuses the worker itself fails no document; a document a migration's model refuses is
 * recorded, said and counted once, and shown in the migration's progress.
 */
class ModelRefusalIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final int DIMENSIONS = 8;
    static StubEmbeddingEndpoint endpoint;
    static OpenAiEmbeddingProvider provider;
    static final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    static EmbeddingWriter writer;
    static final Batches batches = new Batches(db);

    @BeforeAll
    static void start() throws Exception {
        db.execute("insert into collections (name, embedding_provider, embedding_model, dimensions)"
                + " values ('remote', 'openai', 'stub-model', " + DIMENSIONS + ")");
        endpoint = new StubEmbeddingEndpoint(DIMENSIONS);
        provider = endpoint.provider("stub-model");
        writer = new EmbeddingWriter(
                batches.pool(), new CollectionCatalog(Duration.ofMinutes(10)), collection -> provider, registry);
    }

    @AfterEach
    void answerNormallyAgain() {
        endpoint.answer(200).refuseInputsContaining(null, 0);
    }

    @AfterAll
    static void stop() {
        batches.close();
        if (endpoint != null) {
            endpoint.close();
        }
    }

    @Test
    void onePoisonedDocumentFailsAloneAndTheRestOfItsBatchIsEmbedded() throws Exception {
        endpoint.refuseInputsContaining("POISON", 400);
        long first = batches.chunkedDocument("remote", "first", 2, "tea and kettles");
        long poisoned = batches.chunkedDocument("remote", "poisoned", 2, "tea and POISON");
        long third = batches.chunkedDocument("remote", "third", 2, "kettles and tea");

        batches.write(writer, List.of(request("first", first), request("poisoned", poisoned), request("third", third)));

        assertThat(status(first)).isEqualTo("embedded");
        assertThat(status(third)).isEqualTo("embedded");
        assertThat(status(poisoned)).isEqualTo("failed");
        assertThat(db.queryValue("select error from documents where id = " + poisoned))
                .asString()
                .contains("answered 400");
        assertThat(vectors(first)).isEqualTo(2);
        assertThat(vectors(third)).isEqualTo(2);
        assertThat(vectors(poisoned)).isZero();
        assertThat(db.queryValue("select string_agg(key || ' ' || (payload->>'type'), ', ' order by key) from outbox"
                        + " where key in ('remote/first', 'remote/poisoned', 'remote/third')"))
                .isEqualTo("remote/first document.embedded, remote/poisoned document.failed,"
                        + " remote/third document.embedded");
    }

    @ParameterizedTest
    @ValueSource(ints = {400, 413, 422})
    void aStatusThatBlamesTheInputFailsOnlyTheDocumentWhoseInputItIs(int status) throws Exception {
        endpoint.refuseInputsContaining("REFUSED", status);
        long good = batches.chunkedDocument("remote", "good-" + status, 2, "tea");
        long refused = batches.chunkedDocument("remote", "refused-" + status, 2, "REFUSED tea");

        batches.write(writer, List.of(request("good-" + status, good), request("refused-" + status, refused)));

        assertThat(status(good)).isEqualTo("embedded");
        assertThat(status(refused)).isEqualTo("failed");
        assertThat(db.queryValue("select error from documents where id = " + refused))
                .asString()
                .contains("answered " + status);
    }

    @ParameterizedTest
    @ValueSource(ints = {401, 403, 404})
    void anEndpointThatRefusesTheWorkerFailsNoDocumentAndTheBatchIsRetried(int status) throws Exception {
        endpoint.answer(status);
        long a = batches.chunkedDocument("remote", "a-" + status, 2, "tea");
        long b = batches.chunkedDocument("remote", "b-" + status, 2, "kettles");

        assertThatThrownBy(() -> batches.write(writer, List.of(request("a-" + status, a), request("b-" + status, b))))
                .isInstanceOfSatisfying(EmbeddingException.class, e -> {
                    assertThat(e.retryable()).isTrue();
                    assertThat(EmbeddingWorker.failurePolicy().classify(e)).isEqualTo(FailureKind.TRANSIENT);
                })
                .hasMessageContaining("answered " + status)
                .hasMessageContaining("not the documents'")
                .hasMessageContaining("RAGLINE_OPENAI_API_KEY")
                .hasMessageNotContaining("sk-stub");
        assertThat(status(a)).isEqualTo("chunked");
        assertThat(status(b)).isEqualTo("chunked");
        assertThat(db.queryValue("select count(*) from outbox where key in ('remote/a-" + status + "', 'remote/b-"
                        + status + "')"))
                .isEqualTo(0L);

        endpoint.answer(200); // the key, URL or model is fixed: the retried batch goes through
        batches.write(writer, List.of(request("a-" + status, a), request("b-" + status, b)));
        assertThat(status(a)).isEqualTo("embedded");
        assertThat(status(b)).isEqualTo("embedded");
    }

    @Test
    void aDocumentTheMigrationsModelRefusesIsSaidOnceCountedAndShownInTheMigrationsProgress() throws Exception {
        db.execute("insert into collections (name, embedding_provider, embedding_model, dimensions)"
                + " values ('strict', 'openai', 'stub-model', " + DIMENSIONS + ")");
        db.execute("select collection_migrate(id, 'openai', 'stub-strict', " + DIMENSIONS
                + ") from collections where name = 'strict'"); // as the owner: it builds an index
        try (StubEmbeddingEndpoint strictEndpoint = new StubEmbeddingEndpoint(DIMENSIONS)) {
            strictEndpoint.refuseInputsContaining("NOVEL", 400);
            OpenAiEmbeddingProvider strict = strictEndpoint.provider("stub-strict");
            SimpleMeterRegistry meters = new SimpleMeterRegistry();
            EmbeddingWriter both = new EmbeddingWriter(
                    batches.pool(),
                    new CollectionCatalog(Duration.ZERO),
                    k -> k.model().equals("stub-strict") ? strict : provider,
                    meters);
            List<String> warnings = new CopyOnWriteArrayList<>();
            AppenderBase<ILoggingEvent> capture = new AppenderBase<>() {
                @Override
                protected void append(ILoggingEvent e) {
                    if (e.getLevel() == Level.WARN) {
                        warnings.add(e.getFormattedMessage());
                    }
                }
            };
            capture.start();
            Logger logger = (Logger) LoggerFactory.getLogger(EmbeddedBatch.class);
            logger.addAppender(capture);
            try {
                long plain = batches.chunkedDocument("strict", "plain", 2, "tea");
                long novel = batches.chunkedDocument("strict", "novel", 2, "a NOVEL word");
                List<EmbeddingRequest> asked = List.of(
                        new EmbeddingRequest("strict", "plain", plain, 1),
                        new EmbeddingRequest("strict", "novel", novel, 1));
                batches.write(both, asked);
                batches.write(both, asked); // delivered again: refused again, said and counted once

                assertThat(status(plain)).isEqualTo("embedded");
                assertThat(status(novel))
                        .as("the serving model embedded it: searches find it")
                        .isEqualTo("embedded");
                assertThat(warnings)
                        .singleElement()
                        .asString()
                        .contains("of collection 'strict' refused document novel version 1")
                        .contains("answered 400");
                assertThat(meters.get("ragline.migration.refused.documents")
                                .tag("collection", "strict")
                                .tag("generation", "2")
                                .counter()
                                .count())
                        .isEqualTo(1.0);
                try (var c = db.connect()) {
                    CollectionMigrations.Progress p = new CollectionMigrations(ModelCatalog.bundled())
                            .progress(c, "strict")
                            .orElseThrow();
                    assertThat(p.done()).as("plain's two chunks").isEqualTo(2);
                    assertThat(p.needed()).isEqualTo(4);
                    assertThat(p.refused()).isEqualTo(1);
                    assertThat(p.refusalAdvice("strict"))
                            .contains("1 document(s) refused by stub-strict")
                            .contains("novel: ")
                            .contains("collections rollback strict");
                }
                db.execute("update documents set status = 'deleted' where id = " + novel);
                try (var c = db.connect()) {
                    assertThat(new CollectionMigrations(ModelCatalog.bundled())
                                    .progress(c, "strict")
                                    .orElseThrow()
                                    .refused())
                            .as("a deleted document is no longer refused")
                            .isZero();
                }
            } finally {
                logger.detachAppender(capture);
            }
        }
    }

    private static EmbeddingRequest request(String id, long document) {
        return new EmbeddingRequest("remote", id, document, 1);
    }

    private static String status(long document) throws Exception {
        return (String) db.queryValue("select status from documents where id = " + document);
    }

    private static long vectors(long document) throws Exception {
        return (long) db.queryValue("select count(*) from chunk_embeddings e join chunks ch on ch.id = e.chunk_id"
                + " where ch.document_id = " + document);
    }
}
