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
import io.ragline.testkit.TcpProxy;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code POST /search} over real HTTP, on real Postgres, with the process's provider registry
 * calling a real OpenAI-compatible HTTP endpoint: every request gets an answer with a status that
 * says whose fault a failure is, and a JSON body that says what it is.
 */
class SearchServerIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final ObjectMapper JSON = new ObjectMapper();
    static final HttpClient http =
            HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    static StubEmbeddingEndpoint endpoint;
    static HikariDataSource pool;
    static ProviderRegistry providers;
    static SearchServer server;

    @BeforeAll
    static void start() throws Exception {
        DatabaseUrl url = DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow();
        db.execute("insert into collections (name, embedding_provider, embedding_model, dimensions)"
                + " values ('docs', 'openai', 'stub-model', 8), ('brief', 'openai', 'stub-model', 8),"
                + " ('nomodel', 'onnx', 'no-such-model', 384)");
        endpoint = new StubEmbeddingEndpoint(8);
        Env env = new Env(Map.of(
                EmbeddingSettings.PROVIDER, "openai",
                EmbeddingSettings.OPENAI_BASE_URL, endpoint.baseUrl().toString(),
                EmbeddingSettings.OPENAI_MODEL, "stub-model",
                EmbeddingSettings.DIMENSIONS, "8",
                EmbeddingSettings.OPENAI_MAX_ATTEMPTS, "1"));
        EmbeddingSettings settings = EmbeddingSettings.from(env);
        env.validate();
        pool = Database.pool(url, db.schema(), 4, "search-it", null);
        providers = new ProviderRegistry(settings, pool);
        server = new SearchServer(
                HttpSettings.plain(HttpSettings.LOOPBACK_HOST),
                0,
                "RAGLINE_HTTP_PORT",
                pool,
                new CollectionCatalog(Duration.ofMinutes(10)),
                providers,
                new SimpleMeterRegistry());
    }

    @AfterEach
    void answerNormallyAgain() {
        endpoint.answer(200).beforeAnswer(() -> {});
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

    @Test
    void aQueryIsAnsweredWithTheResultsAndNullFieldsMeanTheirDefaults() throws Exception {
        HttpResponse<String> answer =
                post(server, "{\"query\":\"tea\",\"collection\":\"docs\",\"k\":null,\"filter\":null}");

        assertThat(answer.statusCode()).isEqualTo(200);
        assertThat(json(answer).path("results").isArray()).isTrue();
    }

    @Test
    void anEmbeddingServiceThatIsUnavailableAnswers503WithRetryAfterAndABody() throws Exception {
        endpoint.answer(503);

        HttpResponse<String> answer = post(server, "{\"query\":\"tea\",\"collection\":\"docs\"}");

        assertThat(answer.statusCode()).isEqualTo(503);
        assertThat(answer.headers().firstValue("Retry-After"))
                .hasValueSatisfying(v -> assertThat(v).matches("[1-9][0-9]*"));
        assertThat(json(answer).path("error").asText()).contains("embedding service is unavailable");
    }

    @Test
    void anEndpointThatRefusesTheWorkerAnswers502WithABody() throws Exception {
        endpoint.answer(401);

        HttpResponse<String> answer = post(server, "{\"query\":\"tea\",\"collection\":\"docs\"}");

        assertThat(answer.statusCode()).isEqualTo(502);
        assertThat(json(answer).path("error").asText()).contains("embedding endpoint answered 401");
    }

    @Test
    void aModelThisWorkerCannotRunAnswers500WithABody() throws Exception {
        HttpResponse<String> answer = post(server, "{\"query\":\"tea\",\"collection\":\"nomodel\"}");

        assertThat(answer.statusCode()).isEqualTo(500);
        assertThat(json(answer).path("error").asText()).contains("no-such-model");
    }

    @Test
    void aNulInTheFilterIsABadRequestNamingTheFilter() throws Exception {
        HttpResponse<String> answer =
                post(server, "{\"query\":\"tea\",\"collection\":\"docs\",\"filter\":{\"lang\":\"\\u0000\"}}");

        assertThat(answer.statusCode()).isEqualTo(400);
        assertThat(problem(answer).path("error").asText()).contains("22P05");
        assertThat(problem(answer).path("errors").path("filter").asText()).contains("22P05");
    }

    @Test
    void aBadFilterIsABadRequestProblemNamingTheFiltersPath() throws Exception {
        HttpResponse<String> answer = post(
                server, "{\"query\":\"tea\",\"collection\":\"docs\",\"filter\":{\"price\":{\"$eq\":{\"$lt\":3}}}}");

        assertThat(answer.statusCode()).isEqualTo(400);
        JsonNode body = problem(answer);
        assertThat(body.path("status").asInt()).isEqualTo(400);
        assertThat(body.path("errors").path("filter").asText()).startsWith("filter.price.$eq: takes a string");
        assertThat(body.path("detail").asText()).contains("filter.price.$eq");
        assertThat(body.path("error").asText()).isEqualTo(body.path("detail").asText());
    }

    @Test
    void aCollectionDroppedWhileTheQueryIsEmbeddedIsNotFound() throws Exception {
        assertThat(post(server, "{\"query\":\"tea\",\"collection\":\"brief\"}").statusCode())
                .isEqualTo(200); // known, and cached as existing
        endpoint.beforeAnswer(() -> {
            try {
                db.execute("delete from collections where name = 'brief'");
            } catch (java.sql.SQLException e) {
                throw new IllegalStateException(e);
            }
        });

        HttpResponse<String> answer = post(server, "{\"query\":\"tea\",\"collection\":\"brief\"}");

        assertThat(answer.statusCode()).isEqualTo(404);
        assertThat(json(answer).path("error").asText()).contains("unknown collection 'brief'");
    }

    @Test
    void aDatabaseThatIsDownAnswers503WithRetryAfter() throws Exception {
        try (TcpProxy proxy = TcpProxy.forDatabase();
                HikariDataSource through = Database.pool(
                        DatabaseUrl.parse(proxy.databaseUrl(db.databaseUrl()))
                                .url()
                                .orElseThrow(),
                        db.schema(),
                        2,
                        "search-it-proxy",
                        null,
                        io.ragline.core.config.DatabaseTimeouts.DEFAULT
                                .withConnect(Duration.ofMillis(500))
                                .withSocket(Duration.ofSeconds(2)));
                SearchServer behindProxy = new SearchServer(
                        HttpSettings.plain(HttpSettings.LOOPBACK_HOST),
                        0,
                        "RAGLINE_HTTP_PORT",
                        through,
                        new CollectionCatalog(Duration.ofMinutes(10)),
                        providers,
                        new SimpleMeterRegistry())) {
            proxy.cut();

            HttpResponse<String> answer = post(behindProxy, "{\"query\":\"tea\",\"collection\":\"docs\"}");

            assertThat(answer.statusCode()).isEqualTo(503);
            assertThat(answer.headers().firstValue("Retry-After")).isPresent();
            assertThat(json(answer).path("error").asText()).contains("database is unavailable");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"abc\"", "\"5\"", "2.7", "5.0", "4294967297", "[1]", "{}", "true", "0", "101", "-3"})
    void aKThatIsNotAnIntegerFrom1To100IsABadRequestNamingK(String k) throws Exception {
        HttpResponse<String> answer = post(server, "{\"query\":\"tea\",\"collection\":\"docs\",\"k\":" + k + "}");

        assertThat(answer.statusCode()).as("k = %s", k).isEqualTo(400);
        assertThat(json(answer).path("error").asText()).startsWith("k ");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{}", "[]", "5", "true", "[\"docs\"]"})
    void aCollectionThatIsNotAStringIsABadRequestNamingCollection(String collection) throws Exception {
        HttpResponse<String> answer = post(server, "{\"query\":\"tea\",\"collection\":" + collection + "}");

        assertThat(answer.statusCode()).as("collection = %s", collection).isEqualTo(400);
        assertThat(json(answer).path("error").asText()).startsWith("collection ");
    }

    private static HttpResponse<String> post(SearchServer to, String body) throws Exception {
        return http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + to.port() + "/search"))
                        .timeout(Duration.ofSeconds(30))
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode problem(HttpResponse<String> answer) throws Exception {
        assertThat(answer.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        return JSON.readTree(answer.body());
    }

    private static JsonNode json(HttpResponse<String> answer) throws Exception {
        assertThat(answer.headers().firstValue("Content-Type")).hasValue("application/json");
        return JSON.readTree(answer.body());
    }
}
