package io.ragline.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.Env;
import io.ragline.core.kafka.KafkaClients;
import io.ragline.core.kafka.KafkaSettings;
import io.ragline.ingest.IngestWorker;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
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
     * or a negative exit status (-2 bad settings, -1 a send failed).
     */
    int publish(Env env, List<Path> roots, String collection) throws IOException {
        this.collection = collection;
        String bootstrap = env.required(CoreSettings.KAFKA_BOOTSTRAP_SERVERS, "host:9092");
        String prefix = env.string(CoreSettings.TOPIC_PREFIX, "");
        KafkaSettings kafka = KafkaSettings.from(env);
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
        if (!OperatorDatabase.valid(env, "publish")) {
            return -2;
        }
        String topic = prefix + IngestWorker.DOCUMENTS;
        ProgressBar progress = new ProgressBar("publishing", files.size());
        AtomicLong sent = new AtomicLong();
        AtomicReference<Exception> failure = new AtomicReference<>();
        int skipped = 0;
        try (KafkaProducer<byte[], byte[]> producer = KafkaClients.producer(bootstrap, kafka, "ragline-publish")) {
            for (Map.Entry<Path, String> entry : files.entrySet()) {
                Path file = entry.getKey();
                List<ObjectNode> docs = file.toString().endsWith(".jsonl") ? jsonl(file) : text(file, entry.getValue());
                if (docs.isEmpty()) {
                    skipped++;
                }
                for (ObjectNode doc : docs) {
                    String key =
                            doc.get("collection").asText() + "/" + doc.get("id").asText();
                    producer.send(
                            new ProducerRecord<>(
                                    topic, key.getBytes(StandardCharsets.UTF_8), JSON.writeValueAsBytes(doc)),
                            (meta, e) -> {
                                if (e != null) {
                                    failure.compareAndSet(null, e);
                                } else {
                                    sent.incrementAndGet();
                                }
                            });
                }
                progress.step();
            }
            producer.flush();
        }
        progress.done();
        if (failure.get() != null) {
            System.err.println("ragline publish: " + failure.get().getMessage());
            return -1;
        }
        System.out.println("published " + sent.get() + " documents to " + topic
                + (skipped > 0 ? " (" + skipped + " binary or empty files skipped)" : ""));
        return (int) sent.get();
    }

    private List<ObjectNode> text(Path file, String id) throws IOException {
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
        return List.of(doc);
    }

    private List<ObjectNode> jsonl(Path file) throws IOException {
        List<ObjectNode> docs = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file)) {
            int line = 0;
            for (String text = in.readLine(); text != null; text = in.readLine()) {
                line++;
                if (text.isBlank()) {
                    continue;
                }
                JsonNode node = JSON.readTree(text);
                if (!(node instanceof ObjectNode doc) || !doc.path("id").isTextual()) {
                    throw new IOException(file + ":" + line + ": each line must be a JSON object with a string id");
                }
                if (!doc.has("op")) {
                    doc.put("op", "upsert");
                }
                if (!doc.has("collection")) {
                    doc.put("collection", collection);
                }
                docs.add(doc);
            }
        }
        return docs;
    }
}
