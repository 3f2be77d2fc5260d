package io.ragline.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.contracts.Topic;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.db.Database;
import io.ragline.core.documents.DocumentPublisher;
import io.ragline.core.kafka.KafkaAccessFailure;
import io.ragline.core.kafka.KafkaClients;
import io.ragline.core.kafka.KafkaSettings;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthenticationException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ragline publish}: files, directories (recursively) or JSONL files to the {@code
 * documents} topic, with a progress bar. A text file becomes one upsert whose id is its path as
 * given (for a directory: the directory's name and the path below it), whose title is its file name and whose version is its modification time, so publishing
 * an unchanged tree again changes nothing. Each line of a {@code .jsonl} file is one documents
 * message as is ({@code op} defaults to upsert, {@code collection} to {@code --collection}).
 * Binary files (a NUL byte, or not UTF-8) are skipped and counted.
 */
@Command(
        name = "publish",
        mixinStandardHelpOptions = true,
        description = "Publish files, directories or JSONL to the documents topic.")
final class PublishCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_PROBLEMS = 20;

    @Parameters(paramLabel = "PATH", arity = "1..*", description = "Files, directories, or .jsonl files.")
    List<Path> paths;

    @Option(names = "--collection", defaultValue = "default", description = "Collection (default ${DEFAULT-VALUE}).")
    String collection;

    @Override
    public Integer call() throws Exception {
        Env env = Env.load();
        int published = publish(env, paths, collection);
        return published < 0 ? -published : 0;
    }

    /**
     * Publishes {@code roots} to {@code collection}; returns how many documents Kafka acknowledged,
     * or a negative exit status (-2 bad settings, a login or certificate the broker refused
     * included; -1 a send failed).
     */
    int publish(Env env, List<Path> roots, String collection) throws IOException {
        this.collection = collection;
        String bootstrap = env.required(CoreSettings.KAFKA_BOOTSTRAP_SERVERS, "host:9092");
        String prefix = env.string(CoreSettings.TOPIC_PREFIX, "");
        KafkaSettings kafka = KafkaSettings.from(env);
        Map<Path, String> files = files(env, roots);
        if (!OperatorDatabase.valid(env, "publish") || !sendable(env, files)) {
            return -2;
        }
        String topic = prefix + Topic.DOCUMENTS.topic();
        ProgressBar progress = new ProgressBar("publishing", files.size());
        Sending sending = new Sending();
        KafkaProducer<byte[], byte[]> producer;
        try {
            producer = KafkaClients.producer(bootstrap, kafka, "ragline-publish");
        } catch (KafkaException | IllegalArgumentException e) {
            // A store that cannot be loaded, a JAAS line that cannot be parsed: Kafka's words may
            // quote a secret, so only the explanation (masked, naming the variables) is printed.
            System.err.println("ragline publish: cannot create a Kafka producer for " + bootstrap + ": "
                    + KafkaAccessFailure.explain(e, kafka.clientProperties()));
            return -2;
        }
        try {
            send(producer, new DocumentPublisher(producer, topic), files, progress, sending);
        } finally {
            // After a failure the records still buffered would only wait for their delivery timeout.
            producer.close(sending.failure.get() == null ? Duration.ofSeconds(30) : Duration.ZERO);
        }
        progress.done();
        Failure failed = sending.failure.get();
        if (failed != null) {
            System.err.println("ragline publish: Kafka (" + bootstrap + ") did not take " + failed.where() + ": "
                    + KafkaAccessFailure.explain(failed.cause(), kafka.clientProperties()) + "; " + sending.sent.get()
                    + " of " + countHint(files)
                    + " acknowledged before it, nothing after it was sent");
            return failed.cause() instanceof AuthenticationException ? -2 : -1;
        }
        System.out.println("published " + sending.sent.get() + " documents to " + topic
                + (sending.skipped > 0 ? " (" + sending.skipped + " binary or empty files skipped)" : ""));
        return (int) sending.sent.get();
    }

    /** Every file to publish, with its document id; a path that does not exist is a problem in {@code env}. */
    private static Map<Path, String> files(Env env, List<Path> roots) throws IOException {
        Map<Path, String> files = new LinkedHashMap<>(); // file -> document id
        for (Path p : roots) {
            if (!Files.exists(p)) {
                env.problem(p + " does not exist");
            } else if (Files.isDirectory(p)) {
                Path base = p.toAbsolutePath().normalize();
                String name = base.getFileName() == null ? "" : base.getFileName() + "/";
                try (var walk = Files.walk(p)) {
                    walk.filter(Files::isRegularFile)
                            .sorted()
                            .forEach(f -> files.put(
                                    f, name + base.relativize(f.toAbsolutePath().normalize())));
                }
            } else {
                files.put(p, p.toString());
            }
        }
        return files;
    }

    /**
     * Whether every JSONL line is a good document and every collection named exists (when the
     * database can be asked); prints why not.
     */
    private boolean sendable(Env env, Map<Path, String> files) {
        Set<String> collections = new TreeSet<>();
        List<String> problems = validate(files, collections);
        if (!problems.isEmpty()) {
            problems.stream().limit(MAX_PROBLEMS).forEach(problem -> System.err.println("ragline publish: " + problem));
            if (problems.size() > MAX_PROBLEMS) {
                System.err.println("ragline publish: and " + (problems.size() - MAX_PROBLEMS) + " more bad lines");
            }
            System.err.println("ragline publish: nothing was sent");
            return false;
        }
        List<String> known = new ArrayList<>();
        List<String> missing = collections.isEmpty() ? List.of() : missingCollections(env, collections, known);
        if (!missing.isEmpty()) {
            System.err.println("ragline publish: no collection named " + String.join(", ", missing)
                    + " (known: " + (known.isEmpty() ? "none" : String.join(", ", known))
                    + "); create it with `ragline collections create NAME`; nothing was sent");
            return false;
        }
        return true;
    }

    /** What {@link #send} has done so far; callbacks of the producer's thread update it too. */
    private static final class Sending {
        final AtomicLong sent = new AtomicLong();
        final AtomicReference<Failure> failure = new AtomicReference<>();
        int skipped;
    }

    /** Sends every document of {@code files}, stopping at the first send that fails; flushes. */
    private void send(
            KafkaProducer<byte[], byte[]> producer,
            DocumentPublisher publisher,
            Map<Path, String> files,
            ProgressBar progress,
            Sending sending)
            throws IOException {
        AtomicReference<Failure> failure = sending.failure;
        files:
        for (Map.Entry<Path, String> entry : files.entrySet()) {
            Path file = entry.getKey();
            List<Doc> docs = isJsonl(file) ? jsonl(file, new ArrayList<>()) : text(file, entry.getValue());
            if (docs.isEmpty()) {
                sending.skipped++;
            }
            for (Doc doc : docs) {
                // A send that fails (Kafka down: after max.block.ms) reports through its
                // callback, not by throwing; stop at the first one instead of blocking on each.
                if (failure.get() != null) {
                    break files;
                }
                try {
                    publisher.send(doc.node(), (meta, e) -> {
                        if (e != null) {
                            failure.compareAndSet(null, new Failure(doc.where(), e));
                        } else {
                            sending.sent.incrementAndGet();
                        }
                    });
                } catch (KafkaException e) {
                    failure.compareAndSet(null, new Failure(doc.where(), e));
                }
            }
            if (failure.get() == null) {
                progress.step();
            }
        }
        if (failure.get() == null) {
            producer.flush();
        }
    }

    private static String countHint(Map<Path, String> files) {
        boolean jsonl = files.keySet().stream().anyMatch(PublishCommand::isJsonl);
        return jsonl ? "the documents" : files.size() + " files";
    }

    private static boolean isJsonl(Path file) {
        return file.toString().endsWith(".jsonl");
    }

    /**
     * Reads every JSONL file before anything is sent, so that a bad line stops the whole publish;
     * returns one {@code file:line: reason} per problem, and adds the collections named to {@code
     * collections}.
     */
    private List<String> validate(Map<Path, String> files, Set<String> collections) {
        List<String> problems = new ArrayList<>();
        for (Path file : files.keySet()) {
            if (!isJsonl(file)) {
                collections.add(collection);
                continue;
            }
            try {
                for (Doc doc : jsonl(file, problems)) {
                    collections.add(doc.node().get("collection").asText());
                }
            } catch (IOException e) {
                problems.add(file + ": cannot be read as UTF-8 text (" + e + ")");
            }
        }
        return problems;
    }

    /**
     * When the database can be reached: the collections in {@code names} that do not exist, and
     * those that do in {@code known}. Empty (after a warning) when it cannot be reached.
     */
    private static List<String> missingCollections(Env env, Set<String> names, List<String> known) {
        Env scratch = new Env(env.all()); // the database is optional here: its problems are warnings
        Optional<DatabaseUrl> url = Optional.ofNullable(DatabaseUrl.from(scratch));
        if (url.isEmpty()) {
            System.err.println("ragline publish: warning: " + String.join("; ", scratch.problems())
                    + ", so whether collection(s) " + names + " exist is not checked");
            return List.of();
        }
        String schema =
                env.string(CoreSettings.SCHEMA, CoreSettings.DEFAULT_SCHEMA).toLowerCase(Locale.ROOT);
        try (Connection c = Database.connect(url.get(), schema, "ragline-publish", Duration.ofSeconds(5));
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("select name from collections order by name")) {
            while (rs.next()) {
                known.add(rs.getString(1));
            }
        } catch (SQLException e) {
            System.err.println("ragline publish: warning: cannot check that collection(s) " + names + " exist ("
                    + e.getMessage() + "); publishing anyway");
            return List.of();
        }
        return names.stream().filter(n -> !known.contains(n)).toList();
    }

    /** A document to send and where it came from ({@code file} or {@code file:line}) for messages. */
    private record Doc(ObjectNode node, String where) {}

    private record Failure(String where, Exception cause) {}

    private List<Doc> text(Path file, String id) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        String content;
        try {
            content = StandardCharsets.UTF_8
                    .newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            return List.of();
        }
        if (content.indexOf('\0') >= 0 || content.isBlank()) {
            return List.of();
        }
        ObjectNode doc = JSON.createObjectNode();
        doc.put("schema_version", 1);
        doc.put("op", "upsert");
        doc.put("collection", collection);
        doc.put("id", id);
        doc.put("title", file.getFileName().toString());
        doc.put("content", content);
        doc.put("source", file.toAbsolutePath().toUri().toString());
        doc.put("version", Files.getLastModifiedTime(file).toMillis());
        return List.of(new Doc(doc, file.toString()));
    }

    /** The documents of a JSONL file; each bad line adds {@code file:line: reason} to {@code problems}. */
    private List<Doc> jsonl(Path file, List<String> problems) throws IOException {
        List<Doc> docs = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file)) {
            int line = 0;
            for (String text = in.readLine(); text != null; text = in.readLine()) {
                line++;
                if (text.isBlank()) {
                    continue;
                }
                String where = file + ":" + line;
                JsonNode node;
                try {
                    node = JSON.readTree(text);
                } catch (JsonProcessingException e) {
                    problems.add(where + ": not JSON (column " + e.getLocation().getColumnNr() + ": "
                            + e.getOriginalMessage() + ")");
                    continue;
                }
                if (!(node instanceof ObjectNode doc) || !doc.path("id").isTextual()) {
                    problems.add(where + ": each line must be a JSON object with a string id");
                    continue;
                }
                if (doc.has("collection") && !doc.get("collection").isTextual()) {
                    problems.add(where + ": collection must be a string");
                    continue;
                }
                if (!doc.has("op")) {
                    doc.put("op", "upsert");
                }
                if (!doc.has("collection")) {
                    doc.put("collection", collection);
                }
                docs.add(new Doc(doc, where));
            }
        }
        return docs;
    }
}
