package io.ragline.console.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.core.http.ApiTokens.Role;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The OpenAPI 3.1 document of {@code /api/v1}, generated from the route table, so it cannot drift
 * from the code: every route with its parameters, body, answers (problems as {@code
 * application/problem+json} of the {@code Problem} schema) and the role it needs ({@code
 * x-ragline-role}, also said in its description).
 */
public final class OpenApiDocument {
    private OpenApiDocument() {}

    public static ObjectNode of(List<Route> routes, String version) {
        ObjectNode doc = Json.object();
        doc.put("openapi", "3.1.0");
        doc.put("jsonSchemaDialect", "https://json-schema.org/draft/2020-12/schema");
        ObjectNode info = doc.putObject("info");
        info.put("title", "Ragline API");
        info.put("version", version);
        info.put(
                "description",
                "Operate a Ragline pipeline: collections, documents, search, events, dead letters,"
                        + " training and the system's state. Every call needs `Authorization: Bearer <token>` when"
                        + " RAGLINE_API_TOKENS is set; a token's role (viewer, operator, admin) decides what it may do."
                        + " Every mutating call is recorded in the audit log.");
        doc.putArray("servers").addObject().put("url", ApiRoutes.BASE);
        doc.putArray("security").addObject().putArray("bearer");
        ObjectNode components = doc.putObject("components");
        components
                .putObject("securitySchemes")
                .putObject("bearer")
                .put("type", "http")
                .put("scheme", "bearer");
        components.putObject("schemas").set("Problem", problemSchema());
        Map<String, ObjectNode> paths = new TreeMap<>();
        for (Route route : routes) {
            ObjectNode item = paths.computeIfAbsent(route.template(), t -> Json.object());
            item.set(route.method().toLowerCase(java.util.Locale.ROOT), operation(route));
        }
        ObjectNode p = doc.putObject("paths");
        paths.forEach(p::set);
        return doc;
    }

    private static ObjectNode operation(Route route) {
        ObjectNode op = Json.object();
        op.put("operationId", operationId(route));
        op.put("summary", route.summary());
        op.put(
                "description",
                route.descriptionText().map(d -> d + "\n\n").orElse("") + "Role: "
                        + route.role().label() + (route.role() == Role.VIEWER ? " or above." : " or above; audited."));
        op.putArray("tags").add(route.tagName());
        op.put("x-ragline-role", route.role().label());
        if (route.runsLong()) {
            op.put("x-ragline-long-statements", true); // not cut by RAGLINE_DB_SOCKET_TIMEOUT
        }
        ArrayNode parameters = op.putArray("parameters");
        for (String name : route.pathParameters()) {
            ObjectNode param = parameters.addObject();
            param.put("name", name).put("in", "path").put("required", true);
            param.set("schema", Schemas.string());
        }
        for (Route.Parameter q : route.queryParameters()) {
            ObjectNode param = parameters.addObject();
            param.put("name", q.name()).put("in", "query").put("required", q.required());
            param.put("description", q.description());
            param.set("schema", q.schema());
        }
        route.bodySchema().ifPresent(schema -> {
            ObjectNode body = op.putObject("requestBody");
            body.put("required", true);
            body.putObject("content").putObject("application/json").set("schema", schema);
        });
        ObjectNode responses = op.putObject("responses");
        new TreeMap<>(route.answers()).forEach((status, answer) -> {
            ObjectNode r = responses.putObject(String.valueOf(status));
            r.put("description", answer.description());
            if (status >= 400) {
                r.putObject("content")
                        .putObject("application/problem+json")
                        .putObject("schema")
                        .put("$ref", "#/components/schemas/Problem");
            } else if (answer.schema() != null) {
                r.putObject("content").putObject("application/json").set("schema", answer.schema());
            }
        });
        return op;
    }

    /** "POST /collections/{name}/pause" as postCollectionsNamePause: unique, as method and template are. */
    static String operationId(Route route) {
        StringBuilder id = new StringBuilder(route.method().toLowerCase(java.util.Locale.ROOT));
        for (String part : route.template().split("[/{}_-]+")) {
            if (!part.isEmpty()) {
                id.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
            }
        }
        return id.toString();
    }

    private static ObjectNode problemSchema() {
        ObjectNode s = Schemas.object(
                "type", Schemas.string("a URI naming the kind of problem"),
                "title", Schemas.string(),
                "status", Schemas.integer(),
                "detail", Schemas.string("what is wrong, in words"),
                "instance", Schemas.string("the path called"),
                "errors", Schemas.anyObject().put("description", "each invalid field and what is wrong with it"));
        s.put("description", "An RFC 9457 problem");
        return Schemas.required(s, "type", "title", "status", "detail");
    }
}
