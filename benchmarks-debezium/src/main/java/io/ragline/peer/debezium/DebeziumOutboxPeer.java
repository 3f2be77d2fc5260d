package io.ragline.peer.debezium;

import io.debezium.engine.ChangeEvent;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.format.Json;
import java.io.IOException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A Debezium embedded outbox relay as its documentation sets one up: the Postgres connector reads
 * the outbox table through logical decoding ({@code pgoutput}, a slot and publication of its own,
 * no snapshot), the outbox event router turns each insert into a message on the topic named by
 * the row's {@code topic} column, keyed by its {@code key} column, and each batch the engine hands
 * over is sent by a Kafka producer and marked processed once every send is acknowledged (what
 * Debezium Server's Kafka sink does).
 *
 * <p>{@code DebeziumOutboxPeer <schema> <table> <bootstrap> <slot> <topic-prefix>}, with {@code
 * DATABASE_URL} ({@code postgresql://user:password@host:port/database}) in the environment. It
 * prints {@code ready} once the connector streams, and stops when its standard input closes.
 */
public final class DebeziumOutboxPeer {
    private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    private DebeziumOutboxPeer() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 5) {
            System.err.println("usage: DebeziumOutboxPeer <schema> <table> <bootstrap> <slot> <topic-prefix>");
            System.exit(2);
        }
        for (int i : new int[] {0, 1, 3}) {
            if (!IDENTIFIER.matcher(args[i]).matches()) {
                System.err.println("not a plain lower-case identifier: " + args[i]);
                System.exit(2);
            }
        }
        String databaseUrl = System.getenv("DATABASE_URL");
        if (databaseUrl == null) {
            System.err.println("DATABASE_URL is not set");
            System.exit(2);
        }
        Properties engine = engineProperties(databaseUrl, args[0], args[1], args[3], args[4]);
        try (KafkaProducer<byte[], byte[]> producer = producer(args[2])) {
            run(engine, producer);
        }
    }

    private static void run(Properties props, KafkaProducer<byte[], byte[]> producer) throws Exception {
        ExecutorService executor = Executors.newSingleThreadExecutor();
        try (DebeziumEngine<ChangeEvent<String, String>> engine = DebeziumEngine.create(Json.class)
                .using(props)
                .using(new DebeziumEngine.ConnectorCallback() {
                    @Override
                    public void taskStarted() {
                        System.out.println("ready");
                        System.out.flush();
                    }
                })
                .using((success, message, error) -> {
                    if (!success) {
                        System.err.println("engine stopped: " + message + (error == null ? "" : " " + error));
                        System.exit(1);
                    }
                })
                .notifying((records, committer) -> {
                    List<Future<RecordMetadata>> sent = new ArrayList<>(records.size());
                    for (ChangeEvent<String, String> r : records) {
                        if (r.destination() != null && r.value() != null) {
                            sent.add(producer.send(
                                    new ProducerRecord<>(r.destination(), bytes(r.key()), bytes(r.value()))));
                        }
                    }
                    try {
                        for (Future<RecordMetadata> f : sent) {
                            f.get();
                        }
                    } catch (java.util.concurrent.ExecutionException e) {
                        throw new RuntimeException("a send failed: " + e.getCause(), e.getCause());
                    }
                    for (ChangeEvent<String, String> r : records) {
                        committer.markProcessed(r);
                    }
                    committer.markBatchFinished();
                })
                .build()) {
            executor.execute(engine);
            waitForStdinToClose();
        } finally {
            executor.shutdown();
        }
    }

    private static void waitForStdinToClose() {
        try {
            while (System.in.read() >= 0) {
                // ignore what comes in; end of input is the signal to stop
            }
        } catch (IOException e) {
            // the parent went away: stop
        }
    }

    static Properties engineProperties(String databaseUrl, String schema, String table, String slot, String prefix) {
        URI uri = URI.create(databaseUrl.replaceFirst("^postgres(ql)?://", "http://"));
        String userInfo = uri.getRawUserInfo() == null ? "" : uri.getRawUserInfo();
        int colon = userInfo.indexOf(':');
        Properties p = new Properties();
        p.setProperty("name", "ragline-peer-" + slot);
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("offset.storage", "org.apache.kafka.connect.storage.MemoryOffsetBackingStore");
        p.setProperty("offset.flush.interval.ms", "1000");
        p.setProperty("database.hostname", uri.getHost());
        p.setProperty("database.port", String.valueOf(uri.getPort() < 0 ? 5432 : uri.getPort()));
        p.setProperty("database.user", decode(colon < 0 ? userInfo : userInfo.substring(0, colon)));
        p.setProperty("database.password", colon < 0 ? "" : decode(userInfo.substring(colon + 1)));
        p.setProperty("database.dbname", uri.getPath().substring(1));
        p.setProperty("topic.prefix", "peer_" + slot);
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", slot);
        p.setProperty("slot.drop.on.stop", "true");
        p.setProperty("publication.name", slot);
        p.setProperty("publication.autocreate.mode", "filtered");
        p.setProperty("table.include.list", schema + "." + table);
        p.setProperty("snapshot.mode", "no_data");
        // As in the measurement issue 21 cites: poll every 10 ms, batches up to 2,048 events.
        p.setProperty("poll.interval.ms", "10");
        p.setProperty("max.batch.size", "2048");
        p.setProperty("max.queue.size", "8192");
        p.setProperty("key.converter.schemas.enable", "false");
        p.setProperty("value.converter.schemas.enable", "false");
        p.setProperty("transforms", "outbox");
        p.setProperty("transforms.outbox.type", "io.debezium.transforms.outbox.EventRouter");
        p.setProperty("transforms.outbox.table.field.event.id", "id");
        p.setProperty("transforms.outbox.table.field.event.key", "key");
        p.setProperty("transforms.outbox.table.field.event.payload", "payload");
        p.setProperty("transforms.outbox.route.by.field", "topic");
        p.setProperty("transforms.outbox.route.topic.replacement", prefix + "${routedByValue}");
        p.setProperty("transforms.outbox.table.op.invalid.behavior", "warn");
        return p;
    }

    private static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "debezium-outbox-peer");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(256 * 1024));
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    private static byte[] bytes(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }
}
