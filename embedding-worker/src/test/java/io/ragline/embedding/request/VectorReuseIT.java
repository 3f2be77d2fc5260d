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

/**
 * A document updated keeps the vectors of the chunks the ingest-worker kept (same row, so same
 * id): {@link EmbeddingWriter} embeds only the chunks without a vector of the collection's model,
 * and counts both in {@code ragline.embedding.vectors}. Real Postgres, the real model.
 */
class VectorReuseIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static OnnxEmbeddingModel model;
    static final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    static EmbeddingWriter writer;
    static final Batches batches = new Batches(db);

    @BeforeAll
    static void start() throws Exception {
        model = OnnxEmbeddingModel.load(ModelCatalog.defaultModel(), new OnnxOptions(2, 64, 2_048, false));
        writer = new EmbeddingWriter(
                batches.pool(), new CollectionCatalog(Duration.ofMinutes(10)), collection -> model, registry);
    }

    @AfterAll
    static void stop() {
        batches.close();
        if (model != null) {
            model.close();
        }
    }

    @Test
    void anUpdateThatKeptThreeOfFourChunksEmbedsOnlyTheFourth() throws Exception {
        long document = embedded("partly", 4, "gardens");
        String keptVectors = vectors(document, "seq < 3");
        double computed = vectors("computed");
        double reused = vectors("reused");

        update(document, 2, "seq = 3");
        batches.write(writer, List.of(new EmbeddingRequest("default", "partly", document, 2)));

        assertThat(vectors("computed") - computed).isEqualTo(1.0);
        assertThat(vectors("reused") - reused).isEqualTo(3.0);
        assertThat(vectors(document, "seq < 3"))
                .as("the kept vectors, untouched")
                .isEqualTo(keptVectors);
        assertThat(db.queryValue("select count(*) from chunk_embeddings e join chunks ch on ch.id = e.chunk_id"
                        + " where ch.document_id = " + document))
                .isEqualTo(4L);
        assertThat(db.queryValue("select status from documents where id = " + document))
                .isEqualTo("embedded");
        assertThat(db.queryValue("select payload->>'chunks' from outbox where key = 'default/partly' and"
                        + " payload->>'type' = 'document.embedded' and (payload->>'version')::int = 2"))
                .as("document.embedded counts the document's chunks, kept ones included")
                .isEqualTo("4");
    }

    @Test
    void anUpdateThatKeptEveryChunkReachesEmbeddedWithoutRunningTheModel() throws Exception {
        long document = embedded("whole", 3, "harbours");
        long inferences = registry.get("ragline.embedding.inference").timer().count();
        double reused = vectors("reused");

        update(document, 2, "false");
        batches.write(writer, List.of(new EmbeddingRequest("default", "whole", document, 2)));

        assertThat(registry.get("ragline.embedding.inference").timer().count())
                .as("no call to the model")
                .isEqualTo(inferences);
        assertThat(vectors("reused") - reused).isEqualTo(3.0);
        assertThat(db.queryValue("select status from documents where id = " + document))
                .isEqualTo("embedded");
        assertThat(db.queryValue("select count(*) from outbox where key = 'default/whole' and"
                        + " payload->>'type' = 'document.embedded' and (payload->>'version')::int = 2"))
                .isEqualTo(1L);
    }

    @Test
    void vectorsOfAnotherModelAreComputedAgainAndReplaced() throws Exception {
        long document = embedded("remodelled", 3, "lighthouses");
        db.execute("update chunk_embeddings set model = 'a-former-model' where chunk_id in (select id from chunks"
                + " where document_id = " + document + ")");
        double computed = vectors("computed");

        update(document, 2, "false");
        batches.write(writer, List.of(new EmbeddingRequest("default", "remodelled", document, 2)));

        assertThat(vectors("computed") - computed).isEqualTo(3.0);
        assertThat(db.queryValue("select string_agg(distinct e.model, ',') from chunk_embeddings e join chunks ch on"
                        + " ch.id = e.chunk_id where ch.document_id = " + document))
                .isEqualTo(ModelCatalog.DEFAULT_MODEL);
        assertThat(db.queryValue("select status from documents where id = " + document))
                .isEqualTo("embedded");
    }

    /** A document of {@code chunks} chunks, embedded as version 1; its id. */
    private static long embedded(String id, int chunks, String about) throws Exception {
        long document = batches.chunkedDocument("default", id, chunks, about);
        batches.write(writer, List.of(new EmbeddingRequest("default", id, document, 1)));
        assertThat(db.queryValue("select status from documents where id = " + document))
                .isEqualTo("embedded");
        return document;
    }

    /**
     * Version {@code version} as the ingest-worker writes it when it keeps the chunk rows whose
     * text came again: under the document's lock, the new version, status {@code chunked}, and the
     * chunks matching {@code changed} replaced by new rows of new text.
     */
    private static void update(long document, long version, String changed) throws Exception {
        try (var c = db.connect();
                var s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("select id from documents where id = " + document + " for update");
            s.execute("update documents set version = " + version + ", status = 'chunked', embedded_at = null where"
                    + " id = " + document);
            s.execute("create temporary table gone on commit drop as select seq from chunks where document_id = "
                    + document + " and (" + changed + ")");
            s.execute("delete from chunks where document_id = " + document + " and seq in (select seq from gone)");
            s.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                    + " select d.id, d.collection_id, " + version + ", g.seq, 'Chunk ' || g.seq || ' rewritten in"
                    + " version " + version + ".', 8 from documents d, gone g where d.id = " + document);
            c.commit();
        }
    }

    private static String vectors(long document, String which) throws Exception {
        return (String) db.queryValue("select string_agg(e.chunk_id || ':' || e.embedded_at || ':' || e.embedding,"
                + " ';' order by ch.seq) from chunk_embeddings e join chunks ch on ch.id = e.chunk_id where"
                + " ch.document_id = " + document + " and " + which);
    }

    private static double vectors(String outcome) {
        return registry.get("ragline.embedding.vectors")
                .tag("outcome", outcome)
                .counter()
                .count();
    }
}
