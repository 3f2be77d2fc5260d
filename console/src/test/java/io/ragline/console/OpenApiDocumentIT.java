package io.ragline.console;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.console.system.ConsoleWorkers;
import io.ragline.core.config.Env;
import io.ragline.testkit.PostgresSchema;
import io.swagger.parser.OpenAPIParser;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The whole console's OpenAPI document, every area wired as {@code ragline console} wires them:
 * served without a token, valid for swagger-parser, one operation per route, and every route's
 * area has an integration test that saw each status it declares ({@code assertEveryRouteAnswered}
 * in ApiFrameworkIT, CollectionsApiIT, DocumentsAndSearchApiIT, EventsApiIT, DeadLettersApiIT,
 * TrainingApiIT, SystemApiIT).
 */
class OpenApiDocumentIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    /** The path prefixes whose routes an area test checks, each with assertEveryRouteAnswered. */
    static final List<String> TESTED = List.of(
            "/audit",
            "/collections",
            "/documents",
            "/search",
            "/events",
            "/dead-letters",
            "/training",
            "/system",
            "/conversations");

    @Test
    void theDocumentOfEveryAreaIsValidAndEachOfItsPathsIsTested() throws Exception {
        Env env = new Env(db.env());
        try (ConsoleTestServer console =
                ConsoleTestServer.start(db.env(), Console.areas(env, runtime -> ConsoleWorkers.none()))) {
            HttpResponse<String> r = console.get("/api/v1/openapi.json", null);
            assertThat(r.statusCode()).isEqualTo(200);

            SwaggerParseResult parsed = new OpenAPIParser().readContents(r.body(), null, null);
            assertThat(parsed.getMessages()).isEmpty();
            List<String> operations = new ArrayList<>();
            parsed.getOpenAPI()
                    .getPaths()
                    .forEach((path, item) ->
                            item.readOperationsMap().forEach((method, op) -> operations.add(method + " " + path)));
            assertThat(operations)
                    .containsExactlyInAnyOrderElementsOf(console.routes().routes().stream()
                            .map(route -> route.name())
                            .toList());
            assertThat(new TreeSet<>(parsed.getOpenAPI().getPaths().keySet()))
                    .allSatisfy(path -> assertThat(TESTED).anyMatch(path::startsWith));
        }
    }
}
