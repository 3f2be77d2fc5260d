package io.ragline.embeddings.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ragline.embeddings.EmbeddingModelSpec;
import io.ragline.embeddings.ModelCatalog;
import io.ragline.embeddings.Vectors;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Real inference with the shipped models; each model is loaded once for the class. */
class OnnxEmbeddingModelTest {
    private static final List<String> TEXTS = List.of(
            "Short.",
            "The cat sits on the mat.",
            "Ragline keeps a retrieval store in PostgreSQL fresh by chunking documents, embedding the chunks"
                    + " in the JVM and writing the vectors with binary COPY, all driven by Kafka events.",
            "",
            "Café naïve façade: résumé of a Straße in İstanbul!",
            "中文分词测试 and emoji 😀 mixed text",
            "A much longer paragraph. ".repeat(40),
            "Quarterly revenue grew by twelve percent.",
            "x");

    private static OnnxEmbeddingModel miniLm;
    private static OnnxEmbeddingModel miniLmQ;
    private static OnnxEmbeddingModel bge;
    private static JsonNode reference;

    @BeforeAll
    static void load() throws IOException {
        OnnxOptions options = OnnxOptions.defaults();
        miniLm = OnnxEmbeddingModel.load(ModelCatalog.get("all-MiniLM-L6-v2"), options);
        miniLmQ = OnnxEmbeddingModel.load(ModelCatalog.get("all-MiniLM-L6-v2-q"), options);
        bge = OnnxEmbeddingModel.load(ModelCatalog.get("bge-small-en-v1.5"), options);
        try (InputStream in =
                OnnxEmbeddingModelTest.class.getResourceAsStream("/reference/transformers-js-vectors.json")) {
            reference = new ObjectMapper().readTree(in).path("models");
        }
    }

    @AfterAll
    static void close() {
        miniLm.close();
        miniLmQ.close();
        bge.close();
    }

    @Test
    void batchedVectorsEqualOneTextAtATimeSoPaddingIsMaskedOut() {
        for (OnnxEmbeddingModel model : List.of(miniLm, bge)) {
            List<float[]> batched = model.embed(TEXTS);
            assertThat(batched).hasSize(TEXTS.size());
            for (int i = 0; i < TEXTS.size(); i++) {
                float[] alone = model.embed(List.of(TEXTS.get(i))).get(0);
                assertThat(batched.get(i)).as("%s text %d", model.model(), i).containsExactly(alone, within(1e-4f));
            }
        }
    }

    @Test
    void theInt8ModelIsOnlyCloseWhenBatchedBecauseItsQuantisationScaleSpansTheBatch() {
        // Dynamic int8 quantisation computes one scale per activation tensor, i.e. over every text
        // (and its padding) in the batch: a batched vector differs slightly from the same text alone.
        List<float[]> batched = miniLmQ.embed(TEXTS);
        for (int i = 0; i < TEXTS.size(); i++) {
            float[] alone = miniLmQ.embed(List.of(TEXTS.get(i))).get(0);
            assertThat(Vectors.cosine(batched.get(i), alone)).as("text %d", i).isGreaterThan(0.95);
        }
    }

    @Test
    void smallBatchesCutAtAnyPointGiveTheSameVectorsInTheCallersOrder() {
        try (OnnxEmbeddingModel small =
                OnnxEmbeddingModel.load(ModelCatalog.get("all-MiniLM-L6-v2"), new OnnxOptions(1, 2))) {
            List<float[]> inBatchesOfTwo = small.embed(TEXTS);
            List<float[]> inOneBatch = miniLm.embed(TEXTS);
            for (int i = 0; i < TEXTS.size(); i++) {
                assertThat(inBatchesOfTwo.get(i)).as("text %d", i).containsExactly(inOneBatch.get(i), within(1e-4f));
            }
        }
    }

    @Test
    void runsSpreadOverLanesComeBackInTheCallersOrder() {
        // Runs of two texts: the call is cut into five runs that two lanes take as they come. Each
        // run is single-threaded in both models, so the vectors are the same to the last bit.
        try (OnnxEmbeddingModel oneLane = OnnxEmbeddingModel.load(
                        ModelCatalog.get("all-MiniLM-L6-v2"), new OnnxOptions(1, 1, 2, 2048, false));
                OnnxEmbeddingModel twoLanes = OnnxEmbeddingModel.load(
                        ModelCatalog.get("all-MiniLM-L6-v2"), new OnnxOptions(2, 2, 2, 2048, false))) {
            List<String> texts = new ArrayList<>(TEXTS);
            List<String> backwards = new ArrayList<>(TEXTS);
            Collections.reverse(backwards);
            texts.addAll(backwards);
            List<float[]> expected = oneLane.embed(texts);
            for (int repeat = 0; repeat < 5; repeat++) {
                List<float[]> inLanes = twoLanes.embed(texts);
                for (int i = 0; i < texts.size(); i++) {
                    assertThat(inLanes.get(i)).as("text %d", i).containsExactly(expected.get(i));
                }
            }
        }
    }

    @Test
    void aCallerDoesNotWaitForTheLanesOfAnotherCallersLongCall() throws Exception {
        // The lane thread is busy with the long call's runs; the short call runs its own runs on its
        // own thread and returns long before the other ends.
        try (OnnxEmbeddingModel twoLanes =
                OnnxEmbeddingModel.load(ModelCatalog.get("all-MiniLM-L6-v2"), new OnnxOptions(2, 2, 64, 512, false))) {
            List<String> longTexts = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                longTexts.add(i + " " + "A much longer paragraph about other things. ".repeat(30));
            }
            ExecutorService caller = Executors.newSingleThreadExecutor();
            try {
                long start = System.nanoTime();
                Future<Long> longCall = caller.submit(() -> {
                    assertThat(twoLanes.embed(longTexts)).hasSize(60);
                    return System.nanoTime();
                });
                Thread.sleep(300); // the long call has handed its runs to both lanes
                assertThat(longCall.isDone())
                        .as("the long call is still running")
                        .isFalse();
                List<float[]> shortCall = twoLanes.embed(List.of("The cat sits on the mat.", "x"));
                long shortEnded = System.nanoTime();
                long longEnded = longCall.get();
                // Waiting for the busy lane would end the short call within one run of the long one's end.
                assertThat(longEnded - shortEnded)
                        .as("the short call ended well before the long one")
                        .isGreaterThan((longEnded - start) / 2);
                assertThat(shortCall.get(0))
                        .containsExactly(
                                miniLm.embed(List.of("The cat sits on the mat."))
                                        .get(0),
                                within(1e-4f));
            } finally {
                caller.shutdown();
            }
        }
    }

    @Test
    void lanesMustDivideTheThreads() {
        assertThatThrownBy(() -> new OnnxOptions(2, 3, 64, 2048, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("lanes must divide threads (2) evenly, between 1 and threads: 3");
        assertThatThrownBy(() -> new OnnxOptions(3, 2, 64, 2048, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("lanes must divide threads (3) evenly");
    }

    @Test
    void vectorsMatchTransformersJsReferenceValues() {
        // transformers.js embedded one text at a time; so do we for the int8 model (see below why).
        for (OnnxEmbeddingModel model : List.of(miniLm, miniLmQ, bge)) {
            JsonNode ref = reference.path(model.model());
            List<String> texts = new ArrayList<>();
            ref.path("texts").forEach(t -> texts.add(t.asText()));
            assertThat(texts).as(model.model()).hasSizeGreaterThan(5);
            boolean quantized = model.spec().quantized();
            List<float[]> ours = quantized ? one(model, texts) : model.embed(texts);
            for (int i = 0; i < texts.size(); i++) {
                JsonNode expected = ref.path("vectors").path(i);
                float[] theirs = new float[expected.size()];
                for (int d = 0; d < theirs.length; d++) {
                    theirs[d] = (float) expected.get(d).asDouble();
                }
                assertThat(Vectors.cosine(ours.get(i), theirs))
                        .as("%s: '%s'", model.model(), texts.get(i))
                        .isGreaterThanOrEqualTo(quantized ? 0.998 : 0.999);
            }
        }
    }

    private static List<float[]> one(OnnxEmbeddingModel model, List<String> texts) {
        List<float[]> vectors = new ArrayList<>();
        for (String t : texts) {
            vectors.add(model.embed(List.of(t)).get(0));
        }
        return vectors;
    }

    @Test
    void aParaphraseIsCloserThanAnUnrelatedSentence() {
        for (OnnxEmbeddingModel model : List.of(miniLm, miniLmQ, bge)) {
            List<float[]> v = model.embed(List.of(
                    "The cat sits on the mat.",
                    "A kitten is resting on a rug.",
                    "Quarterly revenue grew by twelve percent."));
            double paraphrase = Vectors.cosine(v.get(0), v.get(1));
            double unrelated = Vectors.cosine(v.get(0), v.get(2));
            assertThat(paraphrase).as(model.model()).isGreaterThan(unrelated + 0.2);
        }
    }

    @Test
    void vectorsHaveTheModelsDimensionsAndUnitLength() {
        for (float[] v : bge.embed(TEXTS)) {
            assertThat(v).hasSize(384);
            assertThat(Vectors.cosine(v, v)).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
            double norm = 0;
            for (float x : v) {
                norm += x * x;
            }
            assertThat(norm).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
        }
    }

    @Test
    void aTextLongerThanTheWindowIsTruncatedToItNotRejected() {
        String longText = String.join(" ", java.util.Collections.nCopies(300, "Retrieval augmented generation"))
                + " and this tail is beyond the window.";
        EmbeddingModelSpec spec = miniLm.spec();
        assertThat(miniLm.tokenizer().countTokens(longText)).isGreaterThan(3 * spec.maxTokens());
        String window = longText.substring(0, miniLm.tokenizer().cutAfterTokens(longText, spec.maxTokens() - 2));
        List<float[]> v = miniLm.embed(List.of(longText, window, "Retrieval augmented generation"));
        assertThat(v.get(0)).containsExactly(v.get(1), within(1e-4f));
        assertThat(Vectors.cosine(v.get(0), v.get(2))).isLessThan(0.9999);
    }

    @Test
    void anEmptyListGivesAnEmptyList() {
        assertThat(miniLm.embed(List.of())).isEmpty();
    }

    @Test
    void theInt8ModelIsCloseToFp32() {
        List<float[]> fp32 = miniLm.embed(TEXTS);
        List<float[]> int8 = miniLmQ.embed(TEXTS);
        for (int i = 0; i < TEXTS.size(); i++) {
            assertThat(Vectors.cosine(fp32.get(i), int8.get(i)))
                    .as("text %d", i)
                    .isGreaterThan(0.95);
        }
    }

    @Test
    void aQueryGetsTheModelsRetrievalPrefix() {
        String query = "how do I rotate the API key";
        assertThat(bge.embedQuery(query))
                .containsExactly(
                        bge.embed(List.of(ModelCatalog.BGE_QUERY_PREFIX + query))
                                .get(0),
                        within(1e-5f));
        assertThat(Vectors.cosine(
                        bge.embedQuery(query), bge.embed(List.of(query)).get(0)))
                .isLessThan(0.999);
        assertThat(miniLm.embedQuery(query))
                .containsExactly(miniLm.embed(List.of(query)).get(0), within(1e-5f));
    }

    @Test
    void concurrentCallersGetTheSameVectorsAsASingleCaller() throws Exception {
        List<float[]> expected = miniLmQ.embed(TEXTS);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<List<float[]>>> results = new ArrayList<>();
            for (int k = 0; k < 8; k++) {
                results.add(pool.submit(() -> miniLmQ.embed(TEXTS)));
            }
            for (Future<List<float[]>> f : results) {
                List<float[]> got = f.get();
                for (int i = 0; i < TEXTS.size(); i++) {
                    assertThat(got.get(i)).containsExactly(expected.get(i), within(1e-4f));
                }
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aClosedModelRefusesWorkWithAClearMessage() {
        OnnxEmbeddingModel model =
                OnnxEmbeddingModel.load(ModelCatalog.get("all-MiniLM-L6-v2-q"), new OnnxOptions(1, 8));
        model.close();
        model.close();
        assertThatThrownBy(() -> model.embed(List.of("text")))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("embedding model all-MiniLM-L6-v2-q is closed");
    }

    private static org.assertj.core.data.Offset<Float> within(float tolerance) {
        return org.assertj.core.data.Offset.offset(tolerance);
    }
}
