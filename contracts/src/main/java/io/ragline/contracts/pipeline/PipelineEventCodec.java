package io.ragline.contracts.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.contracts.InvalidMessageException;
import io.ragline.contracts.Json;
import io.ragline.contracts.MessageCodec;
import io.ragline.contracts.Topic;
import io.ragline.contracts.pipeline.PipelineEvent.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** The {@code pipeline-events} contract: a document event or a training event, each with its own fields. */
public final class PipelineEventCodec implements MessageCodec<PipelineEvent> {
    static final Set<String> DOCUMENT_FIELDS =
            Set.of("schema_version", "type", "collection", "id", "version", "chunks", "model", "error");
    static final Set<String> TRAINING_FIELDS = Set.of(
            "schema_version",
            "type",
            "project",
            "job",
            "request_id",
            "backend",
            "task",
            "algorithm",
            "attempts",
            "error",
            "model",
            "deployed",
            "deploy_reason",
            "metrics");
    static final Set<String> COLLECTION_FIELDS = Set.of(
            "schema_version",
            "type",
            "collection",
            "generation",
            "model",
            "dimensions",
            "from_generation",
            "from_model",
            "reason");
    private static final Set<String> BACKENDS = Set.of("builtin", "pgml");

    /** Longest {@code error} an event carries, in characters; longer ones are cut by {@link #error}. */
    public static final int MAX_ERROR_CHARS = 2000;

    @Override
    public Topic topic() {
        return Topic.PIPELINE_EVENTS;
    }

    @Override
    public String key(PipelineEvent event) {
        return event.key();
    }

    /** An error cut to {@link #MAX_ERROR_CHARS}. */
    public static String error(String error) {
        return error == null || error.length() <= MAX_ERROR_CHARS
                ? error
                : error.substring(0, MAX_ERROR_CHARS - 1) + "…";
    }

    @Override
    public String encode(PipelineEvent event) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("schema_version", 1);
        n.put("type", event.type().json());
        if (event instanceof DocumentEvent d) {
            n.put("collection", d.collection());
            n.put("id", d.id());
            n.put("version", d.version());
            putIfSet(n, "chunks", d.chunks());
            putIfSet(n, "model", d.model());
            putIfSet(n, "error", d.error());
        } else if (event instanceof CollectionEvent k) {
            n.put("collection", k.collection());
            n.put("generation", k.generation());
            n.put("model", k.model());
            n.put("dimensions", k.dimensions());
            n.put("from_generation", k.fromGeneration());
            n.put("from_model", k.fromModel());
            n.put("reason", k.reason().json());
        } else if (event instanceof TrainingEvent t) {
            n.put("project", t.project());
            n.put("job", t.job());
            n.put("request_id", t.requestId());
            n.put("backend", t.backend());
            n.put("task", t.task());
            n.put("algorithm", t.algorithm());
            putIfSet(n, "attempts", t.attempts());
            putIfSet(n, "error", t.error());
            putIfSet(n, "model", t.model());
            putIfSet(n, "deployed", t.deployed());
            putIfSet(n, "deploy_reason", t.deployReason());
            if (t.metrics() != null) {
                n.set("metrics", t.metrics());
            }
        }
        return n.toString();
    }

    private static void putIfSet(ObjectNode n, String field, Object value) {
        if (value != null) {
            n.set(field, Json.MAPPER.valueToTree(value));
        }
    }

    @Override
    public PipelineEvent decode(String key, byte[] value) throws InvalidMessageException {
        if (value == null) {
            throw new InvalidMessageException("a tombstone is not a pipeline event");
        }
        ObjectNode root = Json.object(value);
        List<String> problems = new ArrayList<>();
        if (!root.has("schema_version")) {
            problems.add("missing schema_version");
        }
        String typeName = Json.text(root, "type", problems, true);
        if (typeName == null) {
            Json.refuseIfAny(problems);
        }
        Type type = Type.of(typeName).orElse(null);
        if (type == null) {
            problems.add("type '" + Json.abbreviate(typeName) + "' is not a pipeline event type");
            throw new InvalidMessageException(String.join("; ", problems));
        }
        PipelineEvent event = type.isDocument()
                ? document(type, root, problems)
                : type.isCollection() ? collection(root, problems) : training(type, root, problems);
        if (problems.isEmpty() && event != null && key != null && !key.equals(event.key())) {
            problems.add("the key '" + Json.abbreviate(key) + "' does not match the event's key");
        }
        Json.refuseIfAny(problems);
        return event;
    }

    private static DocumentEvent document(Type type, ObjectNode root, List<String> problems) {
        Json.checkFields(root, DOCUMENT_FIELDS, problems);
        String collection = Json.text(root, "collection", problems, true);
        String id = Json.text(root, "id", problems, true);
        Long version = Json.integer(root, "version", problems, true);
        Long chunks = Json.integer(root, "chunks", problems, false);
        String model = Json.text(root, "model", problems, false);
        String error = Json.text(root, "error", problems, false);
        return new DocumentEvent(
                type, collection, id, version == null ? -1 : version, count("chunks", chunks, problems), model, error);
    }

    private static CollectionEvent collection(ObjectNode root, List<String> problems) {
        Json.checkFields(root, COLLECTION_FIELDS, problems);
        String collection = Json.text(root, "collection", problems, true);
        Integer generation = positive("generation", Json.integer(root, "generation", problems, true), problems);
        String model = Json.text(root, "model", problems, true);
        Integer dimensions = positive("dimensions", Json.integer(root, "dimensions", problems, true), problems);
        Integer from = positive("from_generation", Json.integer(root, "from_generation", problems, true), problems);
        String fromModel = Json.text(root, "from_model", problems, true);
        String reason = Json.text(root, "reason", problems, true);
        CollectionEvent.Reason r =
                reason == null ? null : CollectionEvent.Reason.of(reason).orElse(null);
        if (reason != null && r == null) {
            problems.add("reason must be switch or rollback, not '" + Json.abbreviate(reason) + "'");
        }
        if (!problems.isEmpty()) {
            return null;
        }
        return new CollectionEvent(collection, generation, model, dimensions, from, fromModel, r);
    }

    private static Integer positive(String field, Long value, List<String> problems) {
        if (value != null && (value < 1 || value > Integer.MAX_VALUE)) {
            problems.add(field + " must be between 1 and " + Integer.MAX_VALUE);
            return null;
        }
        return value == null ? null : value.intValue();
    }

    private static TrainingEvent training(Type type, ObjectNode root, List<String> problems) {
        Json.checkFields(root, TRAINING_FIELDS, problems);
        String project = Json.text(root, "project", problems, true);
        Long job = Json.integer(root, "job", problems, true);
        String requestId = Json.text(root, "request_id", problems, true);
        String backend = Json.text(root, "backend", problems, true);
        if (backend != null && !BACKENDS.contains(backend)) {
            problems.add("backend must be builtin or pgml, not '" + Json.abbreviate(backend) + "'");
        }
        String task = Json.text(root, "task", problems, true);
        String algorithm = Json.text(root, "algorithm", problems, false);
        Long attempts = Json.integer(root, "attempts", problems, false);
        String error = Json.text(root, "error", problems, false);
        Long model = Json.integer(root, "model", problems, false);
        Boolean deployed = null;
        JsonNode d = root.get("deployed");
        if (d != null && !d.isNull()) {
            if (d.isBoolean()) {
                deployed = d.asBoolean();
            } else {
                problems.add("deployed must be a boolean, not " + Json.kind(d));
            }
        }
        String deployReason = Json.text(root, "deploy_reason", problems, false);
        ObjectNode metrics = null;
        JsonNode m = root.get("metrics");
        if (m != null && !m.isNull()) {
            if (m.isObject()) {
                metrics = (ObjectNode) m;
            } else {
                problems.add("metrics must be an object, not " + Json.kind(m));
            }
        }
        return new TrainingEvent(
                type,
                project,
                job == null ? -1 : job,
                requestId,
                backend,
                task,
                algorithm,
                count("attempts", attempts, problems),
                error,
                model,
                deployed,
                deployReason,
                metrics);
    }

    private static Integer count(String field, Long value, List<String> problems) {
        if (value == null) {
            return null;
        }
        if (value < 0 || value > Integer.MAX_VALUE) {
            problems.add(field + " must be between 0 and " + Integer.MAX_VALUE);
            return null;
        }
        return value.intValue();
    }
}
