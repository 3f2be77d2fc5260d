package io.ragline.contracts.training;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.contracts.InvalidMessageException;
import io.ragline.contracts.Json;
import io.ragline.contracts.MessageCodec;
import io.ragline.contracts.Topic;
import io.ragline.contracts.training.TrainingRequest.Backend;
import io.ragline.contracts.training.TrainingRequest.Deploy;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code training} contract (training.schema.json); decoding names every problem at once (for
 * the dead-letter header). What needs the database (does the collection exist, is PostgresML
 * installed) is the job's to find out: it fails the job, visibly.
 */
public final class TrainingRequestCodec implements MessageCodec<TrainingRequest> {
    private static final Set<String> FIELDS = Set.of(
            "schema_version",
            "request_id",
            "project",
            "task",
            "backend",
            "data",
            "algorithm",
            "model_name",
            "hyperparameters",
            "test_size",
            "test_sampling",
            "deploy",
            "search");
    private static final Pattern PROJECT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9 _.-]{0,99}");
    private static final Pattern COLLECTION = Pattern.compile("[a-z0-9][a-z0-9_-]{0,62}");
    private static final Pattern LABEL_PATH = Pattern.compile("[^.]+(\\.[^.]+)*");
    private static final Pattern RELATION = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]*(\\.[A-Za-z_][A-Za-z0-9_$]*)?");
    private static final int MAX_BYTES = 256 * 1024;

    @Override
    public Topic topic() {
        return Topic.TRAINING;
    }

    @Override
    public String key(TrainingRequest request) {
        return request.project();
    }

    /** The request as a producer sends it; {@code algorithm} as decoded (the backend's default filled in). */
    @Override
    public String encode(TrainingRequest r) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.put("schema_version", 1);
        n.put("request_id", r.requestId());
        n.put("project", r.project());
        n.put("task", r.task());
        n.put("backend", r.backend().sql());
        n.set("data", r.data());
        if (r.algorithm() != null) {
            n.put("algorithm", r.algorithm());
        }
        r.modelName().ifPresent(m -> n.put("model_name", m));
        n.set("hyperparameters", r.hyperparameters());
        n.put("test_size", r.testSize());
        n.put("test_sampling", r.testSampling());
        n.put("deploy", r.deploy().json());
        r.search().ifPresent(s -> n.set("search", s));
        return n.toString();
    }

    @Override
    public TrainingRequest decode(String key, byte[] value) throws InvalidMessageException {
        if (value == null) {
            throw new InvalidMessageException("a tombstone is not a training request");
        }
        if (value.length > MAX_BYTES) {
            throw new InvalidMessageException(
                    "too large: " + value.length + " bytes, a training request has at most " + MAX_BYTES);
        }
        ObjectNode root = Json.object(value);
        List<String> problems = new ArrayList<>();
        TrainingRequest request = decode(root, problems, key);
        Json.refuseIfAny(problems);
        return request;
    }

    /** Decodes {@code root}, adding each problem to {@code problems}; the result is only meaningful without any. */
    public static TrainingRequest decode(ObjectNode root, List<String> problems, String key) {
        Json.checkFields(root, FIELDS, problems);
        String requestId = text(root, "request_id", problems, true);
        if (requestId != null && (requestId.isEmpty() || requestId.length() > 200)) {
            problems.add("request_id must have 1 to 200 characters");
        }
        String project = text(root, "project", problems, true);
        if (project != null && !PROJECT.matcher(project).matches()) {
            problems.add("project '" + abbreviate(project) + "' must be 1 to 100 letters, digits, spaces, '_', '.' or"
                    + " '-', starting with a letter or digit");
        }
        Backend backend = choice(root, "backend", Backend.class, null, problems);
        String task = text(root, "task", problems, true);
        Optional<String> modelName = Optional.ofNullable(text(root, "model_name", problems, false));
        if (task != null && backend != null) {
            checkTask(task, backend, modelName.isPresent(), problems);
        }
        ObjectNode data = object(root, "data", problems, true);
        if (data != null && backend != null) {
            checkData(data, backend, problems);
        }
        String algorithm = text(root, "algorithm", problems, false);
        if (backend == Backend.BUILTIN) {
            if (algorithm != null && !algorithm.equals(TrainingRequest.BUILTIN_ALGORITHM)) {
                problems.add("algorithm '" + abbreviate(algorithm) + "' is not a builtin algorithm (only '"
                        + TrainingRequest.BUILTIN_ALGORITHM + "')");
            }
            algorithm = TrainingRequest.BUILTIN_ALGORITHM;
            if (modelName.isPresent()) {
                problems.add("model_name is for the pgml backend (pgml.tune)");
            }
        } else if (backend == Backend.PGML && algorithm == null && modelName.isEmpty()) {
            algorithm = "linear";
        }
        ObjectNode hyper = object(root, "hyperparameters", problems, false);
        if (hyper != null && backend == Backend.BUILTIN) {
            Hyperparameters.from(hyper, problems);
        }
        double testSize = 0.25;
        JsonNode ts = root.get("test_size");
        if (ts != null && !ts.isNull()) {
            if (!ts.isNumber() || ts.asDouble() <= 0 || ts.asDouble() >= 1) {
                problems.add("test_size must be a number above 0 and below 1");
            } else {
                testSize = ts.asDouble();
            }
        }
        String sampling = text(root, "test_sampling", problems, false);
        if (sampling == null) {
            sampling = "stratified";
        } else if (!List.of("stratified", "random", "first", "last").contains(sampling)) {
            problems.add("test_sampling must be one of stratified, random, first, last");
        } else if (backend == Backend.BUILTIN
                && !List.of("stratified", "random").contains(sampling)) {
            problems.add("test_sampling '" + sampling + "' is for pgml; builtin takes stratified or random");
        }
        Deploy deploy = choice(root, "deploy", Deploy.class, Deploy.IF_BETTER, problems);
        ObjectNode search = object(root, "search", problems, false);
        if (search != null) {
            checkSearch(search, backend, modelName.isPresent(), problems);
        }
        if (problems.isEmpty() && key != null && !key.equals(project)) {
            problems.add("the key '" + abbreviate(key) + "' does not match project '" + project + "'");
        }
        return new TrainingRequest(
                requestId,
                project,
                task,
                backend,
                data,
                algorithm,
                modelName,
                hyper == null ? Json.MAPPER.createObjectNode() : hyper,
                testSize,
                sampling,
                deploy,
                Optional.ofNullable(search));
    }

    private static void checkTask(String task, Backend backend, boolean tune, List<String> problems) {
        if (backend == Backend.BUILTIN) {
            if (!task.equals("classification")) {
                problems.add("task '" + abbreviate(task) + "': the builtin backend trains classification only");
            }
        } else if (tune) {
            if (!TrainingRequest.TUNE_TASKS.contains(task)) {
                problems.add("task '" + abbreviate(task) + "' cannot be fine-tuned with pgml.tune; one of "
                        + TrainingRequest.TUNE_TASKS);
            }
        } else if (!task.equals("classification") && !task.equals("regression")) {
            problems.add("task '" + abbreviate(task) + "': pgml.train takes classification or regression"
                    + " (other tasks need model_name, for pgml.tune)");
        }
    }

    private static void checkData(ObjectNode data, Backend backend, List<String> problems) {
        List<String> allowed =
                backend == Backend.BUILTIN ? List.of("collection", "label_path") : List.of("relation", "label_column");
        for (Iterator<String> names = data.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!allowed.contains(name)) {
                problems.add("data." + name + " is not used by the " + backend.sql() + " backend (it takes "
                        + String.join(" and ", allowed) + ")");
            }
        }
        if (backend == Backend.BUILTIN) {
            String collection = text(data, "collection", problems, true, "data.");
            if (collection != null && !COLLECTION.matcher(collection).matches()) {
                problems.add("data.collection '" + abbreviate(collection) + "' is not a valid collection name");
            }
            String path = text(data, "label_path", problems, true, "data.");
            if (path != null && !LABEL_PATH.matcher(path).matches()) {
                problems.add("data.label_path '" + abbreviate(path) + "' must be a dotted path such as 'section'"
                        + " or 'labels.topic'");
            }
        } else {
            String relation = text(data, "relation", problems, true, "data.");
            if (relation != null && !RELATION.matcher(relation).matches()) {
                problems.add("data.relation '" + abbreviate(relation) + "' must be a table or view name, optionally"
                        + " schema-qualified (letters, digits, _)");
            }
            String column = text(data, "label_column", problems, true, "data.");
            if (column != null && (column.isEmpty() || column.length() > 63)) {
                problems.add("data.label_column must have 1 to 63 characters");
            }
        }
    }

    private static void checkSearch(ObjectNode search, Backend backend, boolean tune, List<String> problems) {
        if (backend != Backend.PGML || tune) {
            problems.add("search is for pgml.train only");
            return;
        }
        for (Iterator<String> names = search.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!List.of("search", "search_params", "search_args").contains(name)) {
                problems.add("search." + name + " is unknown (search, search_params, search_args)");
            }
        }
        String kind = text(search, "search", problems, true, "search.");
        if (kind != null && !kind.equals("grid") && !kind.equals("random")) {
            problems.add("search.search must be grid or random");
        }
        for (String f : List.of("search_params", "search_args")) {
            JsonNode n = search.get(f);
            if (n != null && !n.isNull() && !n.isObject()) {
                problems.add("search." + f + " must be an object, not " + kind(n));
            }
        }
    }

    private static <E extends Enum<E>> E choice(
            ObjectNode root, String field, Class<E> type, E defaultValue, List<String> problems) {
        String v = text(root, field, problems, defaultValue == null);
        if (v == null) {
            return defaultValue;
        }
        for (E e : type.getEnumConstants()) {
            if (e.name().toLowerCase(Locale.ROOT).equals(v)) {
                return e;
            }
        }
        List<String> names = new ArrayList<>();
        for (E e : type.getEnumConstants()) {
            names.add(e.name().toLowerCase(Locale.ROOT));
        }
        problems.add(field + " must be one of " + String.join(", ", names) + ", not '" + abbreviate(v) + "'");
        return defaultValue;
    }

    private static ObjectNode object(ObjectNode root, String field, List<String> problems, boolean required) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            if (required) {
                problems.add("missing " + field);
            }
            return null;
        }
        if (!n.isObject()) {
            problems.add(field + " must be an object, not " + kind(n));
            return null;
        }
        return (ObjectNode) n;
    }

    private static String text(ObjectNode root, String field, List<String> problems, boolean required) {
        return text(root, field, problems, required, "");
    }

    private static String text(ObjectNode root, String field, List<String> problems, boolean required, String prefix) {
        JsonNode n = root.get(field);
        if (n == null || n.isNull()) {
            if (required) {
                problems.add("missing " + prefix + field);
            }
            return null;
        }
        if (!n.isTextual()) {
            problems.add(prefix + field + " must be a string, not " + kind(n));
            return null;
        }
        return n.asText();
    }

    static String kind(JsonNode n) {
        return n.getNodeType().name().toLowerCase(Locale.ROOT);
    }

    private static String abbreviate(String s) {
        return s.length() <= 80 ? s : s.substring(0, 80) + "…";
    }
}
