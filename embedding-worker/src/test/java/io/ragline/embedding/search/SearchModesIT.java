package io.ragline.embedding.search;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.db.Database;
import io.ragline.core.http.HttpSettings;
import io.ragline.embedding.ProviderRegistry;
import io.ragline.embedding.StubEmbeddingEndpoint;
import io.ragline.embeddings.EmbeddingSettings;
import io.ragline.testkit.PostgresSchema;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The search modes, filters and hit shapes through {@code POST /search} and {@link Searcher}, on
 * real Postgres with a real HTTP embedding endpoint: a document that only its words match is found
 * by text and hybrid search, not by the vector; filters with operators narrow the hits and bad ones
 * are answered 400 naming their path; a hit is a document with its matching chunks and context.
 */
class SearchModesIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final String QUERY = "quick fox";
    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient http =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static StubEmbeddingEndpoint endpoint;
    static HikariDataSource pool;
    static ProviderRegistry providers;
    static Searcher searcher;
    static SearchServer server;

    @BeforeAll
    static void start() throws Exception {
        db.execute("insert into collections (name, embedding_provider, embedding_model, dimensions)"
                + " values ('docs', 'openai', 'stub-model', 8)");
        endpoint = new StubEmbeddingEndpoint(8);
        Env env = new Env(Map.of(
                EmbeddingSettings.PROVIDER, "openai",
                EmbeddingSettings.OPENAI_BASE_URL, endpoint.baseUrl().toString(),
                EmbeddingSettings.OPENAI_MODEL, "stub-model",
                EmbeddingSettings.DIMENSIONS, "8",
                EmbeddingSettings.OPENAI_MAX_ATTEMPTS, "1"));
        EmbeddingSettings settings = EmbeddingSettings.from(env);
        env.validate();
        pool = Database.pool(DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow(), db.schema(), 4, "modes", null);
        providers = new ProviderRegistry(settings, pool);
        searcher = new Searcher(pool, new CollectionCatalog(Duration.ofMinutes(10)), providers);
        server = new SearchServer(
                HttpSettings.plain(HttpSettings.LOOPBACK_HOST),
                0,
                "RAGLINE_HTTP_PORT",
                pool,
                new CollectionCatalog(Duration.ofMinutes(10)),
                providers,
                new SimpleMeterRegistry());

        float[] near;
        try (var provider = endpoint.provider("stub-model")) {
            near = provider.embedQuery(QUERY);
        }
        float[] far = new float[near.length];
        for (int i = 0; i < near.length; i++) {
            far[i] = -near[i];
        }
        // Ten documents whose vectors are the query's, about something else; the fox's is opposite.
        for (int i = 0; i < 10; i++) {
            document(
                    "report-" + i,
                    "{\"year\": " + (2015 + i) + ", \"lang\": \"" + (i % 2 == 0 ? "en" : "de") + "\"}",
                    List.of("Quarterly revenue report " + i),
                    near);
        }
        document("fox", "{\"year\": 2020, \"lang\": \"en\"}", List.of("The quick brown fox jumps"), far);
        document(
                "manual",
                "{\"year\": 2030, \"lang\": \"en\"}",
                List.of("Part one", "Part two", "Part three", "Part four"),
                near);
    }

    static void document(String id, String metadata, List<String> contents, float[] vector) throws Exception {
        try (Connection c = db.connect()) {
            try (PreparedStatement s = c.prepareStatement(
                    "insert into documents (collection_id, external_id, title,"
                            + " metadata, status) select id, ?, ?, ?::jsonb, 'embedded' from collections where name = 'docs'")) {
                s.setString(1, id);
                s.setString(2, "Title " + id);
                s.setString(3, metadata);
                s.execute();
            }
            try (PreparedStatement s = c.prepareStatement("with ch as (insert into chunks (document_id,"
                    + " collection_id, document_version, seq, content, token_count) select d.id, d.collection_id, 0,"
                    + " ?, ?, 3 from documents d where d.external_id = ? returning id, collection_id)"
                    + " insert into chunk_embeddings (chunk_id, collection_id, embedding, model)"
                    + " select id, collection_id, ?::vector, 'stub-model' from ch")) {
                for (int i = 0; i < contents.size(); i++) {
                    s.setInt(1, i);
                    s.setString(2, contents.get(i));
                    s.setString(3, id);
                    s.setString(4, Arrays.toString(vector));
                    s.addBatch();
                }
                s.executeBatch();
            }
        }
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
        if (providers != null) {
            providers.close();
        }
        if (pool != null) {
            pool.close();
        }
        if (endpoint != null) {
            endpoint.close();
        }
    }

    static List<String> ids(List<Searcher.Hit> hits) {
        return hits.stream().map(Searcher.Hit::documentId).toList();
    }

    static List<String> ids(JsonNode answer) {
        List<String> ids = new ArrayList<>();
        answer.path("results").forEach(r -> ids.add(r.path("document_id").asText()));
        return ids;
    }

    @Test
    void aDocumentOnlyItsWordsMatchIsFoundByTextAndHybridSearchButNotByTheVector() throws Exception {
        assertThat(ids(searcher.search(
                        new SearchJson.Request(QUERY, "docs", 5, null, SearchMode.VECTOR, null, true, 0))))
                .hasSize(5)
                .doesNotContain("fox");
        assertThat(ids(searcher.search("docs", QUERY, 5, null)))
                .as("a search naming no mode is hybrid")
                .hasSize(5)
                .contains("fox");

        List<Searcher.Hit> text =
                searcher.search(new SearchJson.Request(QUERY, "docs", 5, null, SearchMode.TEXT, null, true, 0));
        assertThat(ids(text)).containsExactly("fox");
        assertThat(text.get(0).textScore()).isPositive();
        assertThat(text.get(0).vectorScore()).isNull();

        JsonNode hybrid = json(post("{\"query\":\"" + QUERY + "\",\"collection\":\"docs\",\"mode\":\"hybrid\"}"));
        assertThat(ids(hybrid)).hasSize(5).contains("fox");
        JsonNode fox = hybrid.path("results").get(ids(hybrid).indexOf("fox"));
        assertThat(fox.path("text_score").doubleValue()).isPositive();
        assertThat(fox.path("vector_score").doubleValue()).isEqualTo(-1.0); // cosine of opposite vectors
    }

    @Test
    void aHitIsOneDocumentWithItsOtherMatchingChunksAndItsContext() throws Exception {
        JsonNode answer = json(post("{\"query\":\"" + QUERY + "\",\"collection\":\"docs\",\"k\":20,"
                + "\"filter\":{\"year\":{\"$gte\":2030}},\"context\":1,\"mode\":\"vector\"}"));
        assertThat(ids(answer)).containsExactly("manual");
        JsonNode hit = answer.path("results").get(0);
        assertThat(hit.path("seq").intValue()).isZero(); // equal scores: the first chunk
        assertThat(hit.path("matching_chunks").toString()).isEqualTo("[1,2,3]");
        assertThat(hit.path("context").toString()).isEqualTo("[{\"seq\":1,\"content\":\"Part two\"}]");
        assertThat(hit.path("score").doubleValue()).isEqualTo(1.0, org.assertj.core.data.Offset.offset(1e-6));
        assertThat(hit.path("text_score").isNull()).isTrue();

        JsonNode chunks = json(post("{\"query\":\"" + QUERY + "\",\"collection\":\"docs\",\"k\":20,"
                + "\"filter\":{\"year\":{\"$gte\":2030}},\"group_by_document\":false}"));
        assertThat(ids(chunks)).containsExactly("manual", "manual", "manual", "manual");
    }

    @Test
    void minScoreDropsWhatScoresBelowIt() throws Exception {
        JsonNode answer = json(post("{\"query\":\"" + QUERY + "\",\"collection\":\"docs\",\"k\":20,\"min_score\":0.5,"
                + "\"mode\":\"vector\"}"));
        assertThat(ids(answer)).hasSize(11).doesNotContain("fox");
    }

    @Test
    void filtersWithOperatorsNarrowTheHits() throws Exception {
        JsonNode answer = json(post("{\"query\":\"" + QUERY + "\",\"collection\":\"docs\",\"k\":20,\"filter\":"
                + "{\"$or\":[{\"lang\":\"de\",\"year\":{\"$lt\":2018}},{\"year\":{\"$in\":[2020]}}]}}"));
        assertThat(ids(answer)).containsExactlyInAnyOrder("report-1", "report-5", "fox");
    }

    @Test
    void anInjectionAttemptIsAKeyThatMatchesNothing() throws Exception {
        JsonNode answer = json(post("{\"query\":\"" + QUERY + "\",\"collection\":\"docs\","
                + "\"filter\":{\"x'); drop table documents; --\":1}}"));
        assertThat(ids(answer)).isEmpty();
        assertThat(db.queryValue("select count(*) from documents")).isEqualTo(12L);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '`',
            value = {
                "{\"lang\":{\"$regex\":\"e\"}}|filter.lang.$regex: unknown operator",
                "{\"lang\":{\"$in\":\"en\"}}|filter.lang.$in: takes an array of values",
                "{\"year\":{\"$gt\":{\"a\":1}}}|filter.year.$gt: a range compares with a number",
                "{\"$or\":[{\"year\":{\"$exists\":\"yes\"}}]}|filter.$or[0].year.$exists: takes true or false",
                "{\"$where\":\"1=1\"}|filter.$where: unknown operator"
            })
    void aBadFilterIsABadRequestNamingItsPath(String filter, String message) throws Exception {
        HttpResponse<String> answer =
                post("{\"query\":\"" + QUERY + "\",\"collection\":\"docs\",\"filter\":" + filter + "}");

        assertThat(answer.statusCode()).isEqualTo(400);
        assertThat(answer.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        JsonNode problem = JSON.readTree(answer.body());
        assertThat(problem.path("error").asText()).contains(message);
        assertThat(problem.path("errors").path("filter").asText()).startsWith(message);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '`',
            value = {
                "\"mode\":\"fuzzy\"|mode ",
                "\"mode\":1|mode ",
                "\"min_score\":\"high\"|min_score ",
                "\"group_by_document\":\"yes\"|group_by_document ",
                "\"context\":6|context ",
                "\"context\":-1|context ",
                "\"context\":1.5|context "
            })
    void aBadFieldIsABadRequestNamingIt(String field, String start) throws Exception {
        HttpResponse<String> answer = post("{\"query\":\"tea\",\"collection\":\"docs\"," + field + "}");

        assertThat(answer.statusCode()).isEqualTo(400);
        assertThat(json(answer).path("error").asText()).startsWith(start);
    }

    private static HttpResponse<String> post(String body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/search"))
                        .timeout(Duration.ofSeconds(30))
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode json(HttpResponse<String> answer) throws Exception {
        assertThat(answer.headers().firstValue("Content-Type")).hasValue("application/json");
        return JSON.readTree(answer.body());
    }
}
