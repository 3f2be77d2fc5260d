package io.ragline.embedding.request;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ragline.contracts.embedding.EmbeddingRequest;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.embeddings.ModelCatalog;
import io.ragline.embeddings.onnx.OnnxEmbeddingModel;
import io.ragline.embeddings.onnx.OnnxOptions;
import io.ragline.testkit.PostgresSchema;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@link EmbeddingWriter} on real Postgres with the real model, one batch at a time as the consumer gives it. */
class EmbeddingWriterIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static OnnxEmbeddingModel model;
    static final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    static final CollectionCatalog catalog = new CollectionCatalog(Duration.ofMinutes(10));
    static EmbeddingWriter writer;
    static final Batches batches = new Batches(db);

    @BeforeAll
    static void start() throws Exception {
        model = OnnxEmbeddingModel.load(ModelCatalog.defaultModel(), new OnnxOptions(2, 64, 2_048, false));
        writer = new EmbeddingWriter(batches.pool(), catalog, collection -> model, registry);
    }

    @AfterAll
    static void stop() {
        batches.close();
        if (model != null) {
            model.close();
        }
    }

    @Test
    void theSameRequestTwiceInOneBatchIsEmbeddedOnce() throws Exception {
        long document = batches.chunkedDocument("default", "twice", 3, "tea and kettles");
        EmbeddingRequest request = new EmbeddingRequest("default", "twice", document, 1);

        batches.write(writer, List.of(request, request));

        assertThat((long) db.queryValue("select count(*) from chunk_embeddings e join chunks ch on ch.id ="
                        + " e.chunk_id where ch.document_id = " + document))
                .isEqualTo(3);
        assertThat(db.queryValue("select status from documents where id = " + document))
                .isEqualTo("embedded");
        assertThat((long) db.queryValue("select count(*) from outbox where key = 'default/twice'"
                        + " and payload->>'type' = 'document.embedded'"))
                .isEqualTo(1);
        assertThat(outcome("duplicate")).isEqualTo(1.0);
        assertThat(registry.get("ragline.embedding.vector.write").timer().count())
                .as("the batch's COPY is timed")
                .isPositive();

        batches.write(writer, List.of(request)); // delivered once more, later
        assertThat(outcome("duplicate")).isEqualTo(2.0);
        assertThat((long) db.queryValue("select count(*) from chunk_embeddings e join chunks ch on ch.id ="
                        + " e.chunk_id where ch.document_id = " + document))
                .isEqualTo(3);
    }

    @Test
    void aCollectionCreatedAgainUnderItsNameGetsItsOwnIdOnTheVectors() throws Exception {
        db.execute("insert into collections (name) values ('again')");
        long first = batches.chunkedDocument("again", "a", 1, "tea and kettles");
        batches.write(writer, List.of(new EmbeddingRequest("again", "a", first, 1))); // the catalog now caches 'again'
        db.execute("delete from collections where name = 'again'");
        db.execute("insert into collections (name) values ('again')");
        long second = batches.chunkedDocument("again", "b", 2, "tea and kettles");

        batches.write(writer, List.of(new EmbeddingRequest("again", "b", second, 1)));

        assertThat(db.queryValue("select count(*) from chunk_embeddings e join chunks ch on ch.id = e.chunk_id"
                        + " where ch.document_id = " + second + " and e.collection_id = ch.collection_id"))
                .isEqualTo(2L);
        assertThat(db.queryValue("select count(*) from chunk_embeddings e where not exists (select 1 from chunks ch"
                        + " where ch.id = e.chunk_id and ch.collection_id = e.collection_id)"))
                .isEqualTo(0L);
    }

    private static double outcome(String outcome) {
        return registry.get("ragline.embedding.requests")
                .tag("outcome", outcome)
                .counter()
                .count();
    }
}
