package io.ragline.core.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.core.config.ConfigException;
import io.ragline.core.config.Secret;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Any endpoint an {@link ApiServer} serves is behind the bearer token, over real HTTP. */
class ApiServerTest {
    static final String TOKEN = "api-server-test-token-1";
    final HttpClient http = HttpClient.newHttpClient();
    ExecutorService executor;
    ApiServer server;

    @BeforeEach
    void start() {
        executor = Executors.newFixedThreadPool(2);
        HttpSettings settings =
                new HttpSettings("127.0.0.1", ApiTokens.parse("RAGLINE_API_TOKENS", Secret.of(TOKEN)), false, null);
        server = new ApiServer("the test API", settings, 0, "TEST_PORT", 16, executor).route("/later", ex -> {
            try (ex) {
                JsonAnswers.respond(
                        ex,
                        200,
                        new com.fasterxml.jackson.databind.ObjectMapper()
                                .createObjectNode()
                                .put("ok", true));
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.close();
        executor.shutdownNow();
    }

    @Test
    void anEndpointAddedLaterIsBehindTheTokenWithoutSayingSo() throws Exception {
        HttpResponse<String> anonymous = get("/later", null);
        HttpResponse<String> wrong = get("/later", "Bearer not-the-token-at-all");
        HttpResponse<String> good = get("/later", "Bearer " + TOKEN);

        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"ragline\"");
        assertThat(anonymous.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(anonymous.body())
                .contains("\"status\":401")
                .contains("\"title\":\"Unauthorized\"")
                .contains("\"error\":\"authentication required");
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.headers().firstValue("WWW-Authenticate"))
                .hasValue("Bearer realm=\"ragline\", error=\"invalid_token\"");
        assertThat(good.statusCode()).isEqualTo(200);
        assertThat(good.body()).isEqualTo("{\"ok\":true}");
    }

    @Test
    void aPathNoEndpointServesIsBehindTheTokenToo() throws Exception {
        assertThat(get("/nothing", null).statusCode()).isEqualTo(401);
        HttpResponse<String> known = get("/nothing", "bearer " + TOKEN);
        assertThat(known.statusCode()).isEqualTo(404);
        assertThat(known.body()).isEqualTo("{\"error\":\"no such endpoint: /nothing\"}");
    }

    @Test
    void aHeadRequestIsRefusedWithHeadersOnlyAndLeavesTheConnectionUsable() throws Exception {
        HttpResponse<String> head = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/later"))
                        .method("HEAD", HttpRequest.BodyPublishers.noBody())
                        .build(),
                HttpResponse.BodyHandlers.ofString());

        assertThat(head.statusCode()).isEqualTo(401);
        assertThat(head.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"ragline\"");
        assertThat(head.body()).isEmpty();
        assertThat(get("/later", "Bearer " + TOKEN).statusCode()).isEqualTo(200);
    }

    @Test
    void anotherAuthorizationSchemeIsAMissingToken() throws Exception {
        HttpResponse<String> basic = get("/later", "Basic dXNlcjpwYXNz");

        assertThat(basic.statusCode()).isEqualTo(401);
        assertThat(basic.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"ragline\"");
    }

    @Test
    void anApiThatWouldAnswerAnyoneCannotBeBuilt() {
        assertThatThrownBy(() ->
                        new ApiServer("the test API", HttpSettings.plain("0.0.0.0"), 0, "TEST_PORT", 16, executor))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("the test API would answer anyone");
    }

    private HttpResponse<String> get(String path, String authorization) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path));
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
