package io.ragline.console.deadletters;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.console.api.ApiProblem;
import io.ragline.console.api.ApiRequest;
import io.ragline.console.api.ApiResponse;
import io.ragline.console.api.ApiRoutes;
import io.ragline.console.api.Json;
import io.ragline.console.api.Page;
import io.ragline.console.api.Schemas;
import io.ragline.console.deadletters.DeadLetterTopics.DeadLetter;
import io.ragline.console.deadletters.DeadLetterTopics.DeadLetterTopic;
import io.ragline.console.deadletters.DeadLetterTopics.PartitionRange;
import io.ragline.console.deadletters.Dispositions.Actor;
import io.ragline.console.deadletters.Dispositions.Disposition;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.http.ApiTokens.Role;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.clients.producer.Producer;

/**
 * {@code /api/v1/dead-letters}: the Kafka dead-letter topics ({@code <topic>.dlq}, read by
 * partition and offset with a consumer of the console's own) and {@code outbox_dead_letters};
 * browse, redrive (publish again to the source topic, or insert into the outbox again) and
 * discard, each recorded in {@code dead_letter_dispositions} (at most once per dead letter: a
 * second redrive or discard is 409).
 */
public final class DeadLettersApi {
    private static final String RECORDS = "/dead-letters/topics/{topic}/records";
    private static final String RECORD = RECORDS + "/{partition}/{offset}";
    private static final String OUTBOX = "/dead-letters/outbox/{id}";

    private final DeadLetterTopics topics;
    private final String topicPrefix;
    private final Supplier<Producer<byte[], byte[]>> producer;

    /**
     * @param producer the process's producer ({@code WorkerRuntime::producer}), asked for on the
     *     first redrive
     */
    public DeadLettersApi(CoreSettings settings, Supplier<Producer<byte[], byte[]>> producer) {
        this.topics = new DeadLetterTopics(settings);
        this.topicPrefix = settings.topicPrefix();
        this.producer = producer;
    }

    public void register(ApiRoutes routes) {
        registerTopics(routes);
        registerOutbox(routes);
    }

    private void registerTopics(ApiRoutes routes) {
        routes.get("/dead-letters/topics", Role.VIEWER, "List the Kafka dead-letter topics", this::topics)
                .describe(r -> r.tag("dead-letters")
                        .answers(
                                200,
                                "every dead-letter topic of this deployment (<prefix><topic>.dlq), by name, with its"
                                        + " source topic and each partition's offsets (end_offset: after the last"
                                        + " committed record); next is always null",
                                DeadLettersDocs.topics()));
        routes.get(RECORDS, Role.VIEWER, "Read the records of a dead-letter topic", this::records)
                .describe(r -> r.tag("dead-letters")
                        .description("Read with a consumer of the console's own (assigned the partition, no group"
                                + " offsets), in Kafka's order: by partition, then offset (not newest first). Each"
                                + " record has the reason the worker gave (headers ragline.dlq.error.class and"
                                + " ragline.dlq.error.message) and what an operator did with it (disposition, or"
                                + " null). A value over " + DeadLetterJson.MAX_LISTED_VALUE_CHARS
                                + " characters is cut (value_truncated).")
                        .query("partition", "only this partition", Schemas.integer(0, Integer.MAX_VALUE))
                        .query(
                                "offset",
                                "start at this offset of the partition (needs partition)",
                                Schemas.integer(0, Long.MAX_VALUE))
                        .paged()
                        .answers(200, "a page of records", DeadLettersDocs.records())
                        .fails(400, "a bad query parameter (partition, offset, limit, after)")
                        .fails(404, "no such dead-letter topic, or no such partition"));
        routes.post(RECORD + "/redrive", Role.OPERATOR, "Redrive a Kafka dead letter", this::redrive)
                .describe(r -> r.tag("dead-letters")
                        .description("Publishes the record again to its source topic (the topic its header"
                                + " ragline.dlq.topic names, whose dead letters this topic holds) with its key, its"
                                + " headers (without ragline.dlq.*, with ragline.redriven.from) and its value, or the"
                                + " replacement the optional body gives, which must keep the topic's contract; and"
                                + " records the redrive. Once per dead letter: a second redrive, or a redrive after a"
                                + " discard, is 409 and publishes nothing. The body is optional.")
                        .body(DeadLettersDocs.redriveBody())
                        .answers(
                                202,
                                "published (topic, partition, offset: where the record went) and recorded",
                                DeadLettersDocs.redriven())
                        .fails(400, "the body is not a JSON object")
                        .fails(404, "no such topic, partition or record; nothing published or recorded")
                        .fails(409, "this dead letter was redriven or discarded already; nothing published")
                        .fails(
                                422,
                                "the replacement is not a string or its topic's contract refuses it (errors.value"
                                        + " says why), or the record names no source topic of this dead-letter"
                                        + " topic"));
        routes.post(RECORD + "/discard", Role.OPERATOR, "Discard a Kafka dead letter", this::discard)
                .describe(r -> r.tag("dead-letters")
                        .description("Records that the dead letter needs nothing more (Kafka keeps the record; the"
                                + " listing shows its disposition). Once per dead letter: 409 after a redrive or"
                                + " discard.")
                        .answers(200, "recorded as discarded", DeadLettersDocs.discarded())
                        .fails(404, "no such topic, partition or record; nothing recorded")
                        .fails(409, "this dead letter was redriven or discarded already"));
    }

    private void registerOutbox(ApiRoutes routes) {
        routes.get("/dead-letters/outbox", Role.VIEWER, "List outbox_dead_letters, newest first", this::outbox)
                .describe(r -> r.tag("dead-letters")
                        .query(
                                "topic",
                                "only rows of this topic (as the outbox names it, without prefix)",
                                Schemas.string())
                        .paged()
                        .answers(
                                200,
                                "outbox rows Kafka refused for good, highest id first; a redriven or discarded row"
                                        + " is no longer listed",
                                DeadLettersDocs.outboxPage())
                        .fails(400, "a bad query parameter (limit, after)"));
        routes.post(OUTBOX + "/redrive", Role.OPERATOR, "Redrive an outbox dead letter", this::outboxRedrive)
                .describe(r -> r.tag("dead-letters")
                        .description("Inserts the row into the outbox again through the one Outbox API (topic, key,"
                                + " payload, headers with ragline.redriven.from, priority), removes it from"
                                + " outbox_dead_letters and records the redrive, in one transaction; the"
                                + " event-dispatcher then publishes it. Once per dead letter: a second redrive is 409.")
                        .answers(202, "re-inserted into the outbox and recorded", DeadLettersDocs.outboxDisposed())
                        .fails(404, "no outbox dead letter has this id; nothing changed")
                        .fails(409, "this dead letter was redriven or discarded already; nothing changed"));
        routes.post(OUTBOX + "/discard", Role.OPERATOR, "Discard an outbox dead letter", this::outboxDiscard)
                .describe(r -> r.tag("dead-letters")
                        .description("Removes the row from outbox_dead_letters; its disposition keeps the row as it"
                                + " was. Once per dead letter: 409 after a redrive or discard.")
                        .answers(200, "removed and recorded", DeadLettersDocs.outboxDisposed())
                        .fails(404, "no outbox dead letter has this id; nothing changed")
                        .fails(409, "this dead letter was redriven or discarded already; nothing changed"));
    }

    ApiResponse topics(ApiRequest req) throws Exception {
        List<ObjectNode> items = new ArrayList<>();
        for (DeadLetterTopic t : topics.list()) {
            items.add(DeadLetterJson.topic(t));
        }
        ObjectNode answer = Json.MAPPER.createObjectNode();
        answer.putArray("items").addAll(items);
        answer.putNull("next");
        return ApiResponse.ok(answer);
    }

    ApiResponse records(ApiRequest req) throws Exception {
        Page.Request page = req.page();
        long partitionQuery = req.longQuery("partition", -1, 0, Integer.MAX_VALUE);
        long offsetQuery = req.longQuery("offset", -1, 0, Long.MAX_VALUE);
        if (offsetQuery >= 0 && partitionQuery < 0) {
            throw ApiProblem.badRequest("offset: needs a partition");
        }
        DeadLetterTopic topic = existing(req.path("topic"));
        int only = (int) partitionQuery;
        if (only >= 0 && topic.partitions().stream().noneMatch(p -> p.partition() == only)) {
            throw ApiProblem.notFound(topic.topic() + " has no partition " + only);
        }
        int startPartition = only;
        long startOffset = Math.max(0, offsetQuery);
        if (page.after().isPresent()) {
            long[] cursor = recordCursor(page.after().get());
            startPartition = (int) cursor[0];
            startOffset = cursor[1];
        }
        List<ObjectNode> items = new ArrayList<>();
        try (Connection c = req.database().getConnection()) {
            for (PartitionRange range : topic.partitions()) {
                if ((only >= 0 && range.partition() != only)
                        || range.partition() < startPartition
                        || items.size() >= page.fetchSize()) {
                    continue;
                }
                long from = range.partition() == startPartition ? startOffset : 0;
                List<DeadLetter> read = topics.read(topic.topic(), range, from, page.fetchSize() - items.size());
                if (read.isEmpty()) {
                    continue;
                }
                Map<Long, Disposition> dispositions = Dispositions.ofKafka(
                        c,
                        topic.topic(),
                        range.partition(),
                        read.get(0).offset(),
                        read.get(read.size() - 1).offset() + 1);
                read.forEach(r -> items.add(DeadLetterJson.record(r, dispositions.get(r.offset()))));
            }
        }
        return ApiResponse.ok(Page.of(
                page,
                items,
                item -> item.get("partition").asInt() + ":"
                        + (item.get("offset").asLong() + 1)));
    }

    /** The partition and offset a page of records continues at. */
    private static long[] recordCursor(String cursor) {
        String[] parts = cursor.split(":", -1);
        try {
            if (parts.length == 2) {
                long partition = Long.parseLong(parts[0]);
                long offset = Long.parseLong(parts[1]);
                if (partition >= 0 && partition <= Integer.MAX_VALUE && offset >= 0) {
                    return new long[] {partition, offset};
                }
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw ApiProblem.badRequest("after: not a cursor this list gave");
    }

    ApiResponse redrive(ApiRequest req) throws Exception {
        String replacement = replacement(req);
        DeadLetterTopic topic = existing(req.path("topic"));
        int partition = (int) pathNumber(req, "partition", Integer.MAX_VALUE);
        long offset = pathNumber(req, "offset", Long.MAX_VALUE);
        KafkaDispositions.Redriven redriven;
        try {
            redriven = new KafkaDispositions(topics, producer, req.database(), topicPrefix)
                    .redrive(topic.topic(), partition, offset, replacement, actor(req));
        } catch (Refusal r) {
            throw problem(r);
        }
        ObjectNode answer = Json.MAPPER.createObjectNode();
        answer.put("topic", redriven.topic());
        answer.put("partition", redriven.partition());
        answer.put("offset", redriven.offset());
        ObjectNode from = answer.putObject("dead_letter");
        from.put("topic", topic.topic());
        from.put("partition", partition);
        from.put("offset", offset);
        answer.set("disposition", DeadLetterJson.disposition(redriven.disposition()));
        return ApiResponse.accepted(answer)
                .withOutcome("redrove " + topic.topic() + "-" + partition + "@" + offset + " to " + redriven.topic()
                        + "-" + redriven.partition() + "@" + redriven.offset());
    }

    ApiResponse discard(ApiRequest req) throws Exception {
        DeadLetterTopic topic = existing(req.path("topic"));
        int partition = (int) pathNumber(req, "partition", Integer.MAX_VALUE);
        long offset = pathNumber(req, "offset", Long.MAX_VALUE);
        Disposition d;
        try {
            d = new KafkaDispositions(topics, producer, req.database(), topicPrefix)
                    .discard(topic.topic(), partition, offset, actor(req));
        } catch (Refusal r) {
            throw problem(r);
        }
        ObjectNode answer = Json.MAPPER.createObjectNode();
        answer.put("topic", topic.topic());
        answer.put("partition", partition);
        answer.put("offset", offset);
        answer.set("disposition", DeadLetterJson.disposition(d));
        return ApiResponse.ok(answer);
    }

    ApiResponse outbox(ApiRequest req) throws Exception {
        Page.Request page = req.page();
        Long before = page.afterId().orElse(null);
        List<ObjectNode> items = new ArrayList<>();
        for (OutboxDeadLetters.Row row :
                new OutboxDeadLetters(req.database()).list(req.query("topic").orElse(null), before, page.fetchSize())) {
            items.add(DeadLetterJson.outboxRow(row));
        }
        return ApiResponse.ok(Page.of(page, items, item -> item.get("id").asText()));
    }

    ApiResponse outboxRedrive(ApiRequest req) throws Exception {
        long id = req.pathId("id");
        try {
            Disposition d = new OutboxDeadLetters(req.database()).redrive(id, actor(req));
            return ApiResponse.accepted(DeadLetterJson.outboxAnswer(id, d));
        } catch (Refusal r) {
            throw problem(r);
        }
    }

    ApiResponse outboxDiscard(ApiRequest req) throws Exception {
        long id = req.pathId("id");
        try {
            Disposition d = new OutboxDeadLetters(req.database()).discard(id, actor(req));
            return ApiResponse.ok(DeadLetterJson.outboxAnswer(id, d));
        } catch (Refusal r) {
            throw problem(r);
        }
    }

    private DeadLetterTopic existing(String name) throws Exception {
        return topics.find(name)
                .orElseThrow(() -> ApiProblem.notFound("no dead-letter topic " + name
                        + (topics.isDeadLetterTopic(name) ? "" : " (dead-letter topics are <prefix><topic>.dlq)")));
    }

    /** The optional {@code {"value": "<replacement>"}} of a redrive: null without a body or a value. */
    private static String replacement(ApiRequest req) {
        if (!req.hasBody()) {
            return null;
        }
        JsonNode body = req.object();
        List<String> unknown = new ArrayList<>();
        body.fieldNames().forEachRemaining(n -> {
            if (!n.equals("value")) {
                unknown.add(n);
            }
        });
        if (!unknown.isEmpty()) {
            throw ApiProblem.unprocessable(
                    "unknown field " + String.join(", ", unknown), Map.of(unknown.get(0), "unknown field"));
        }
        JsonNode value = body.get("value");
        if (value == null || value.isNull()) {
            return null;
        }
        if (!value.isTextual()) {
            throw ApiProblem.unprocessable(
                    "value must be a string: the replacement message as text",
                    Map.of(
                            "value",
                            "must be a string, not "
                                    + value.getNodeType().name().toLowerCase(Locale.ROOT)));
        }
        return value.asText();
    }

    private static Actor actor(ApiRequest req) {
        return new Actor(req.caller().name(), req.caller().role().label());
    }

    private static RuntimeException problem(Refusal r) {
        return switch (r.kind()) {
            case NOT_FOUND -> ApiProblem.notFound(r.getMessage());
            case CONFLICT -> ApiProblem.conflict(r.getMessage());
            case UNPROCESSABLE -> ApiProblem.unprocessable(r.getMessage(), r.errors());
        };
    }

    /** A path parameter that must be a whole number; anything else names no record (404). */
    private static long pathNumber(ApiRequest req, String name, long max) {
        String text = req.path(name);
        try {
            long n = Long.parseLong(text);
            if (n >= 0 && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw ApiProblem.notFound(name + " '" + text + "' names no record");
    }
}
