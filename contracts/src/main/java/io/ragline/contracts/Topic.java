package io.ragline.contracts;

/**
 * Every topic Ragline reads or writes, spelled once, with its dead-letter topic and the JSON
 * Schema of its values (a resource beside the codecs). Names are before {@code
 * RAGLINE_TOPIC_PREFIX}: a consumer adds the prefix with {@code CoreSettings.topic}, the
 * event-dispatcher when it publishes an outbox row; the outbox itself stores names without it.
 */
public enum Topic {
    /** Documents from producers (and from routed events); key {@code collection/id}. */
    DOCUMENTS("documents"),
    /** Internal: a document version whose chunks await vectors; key {@code collection/id}. */
    EMBEDDING_REQUESTS("embedding-requests"),
    /** What happened (document.*, training.*), for anyone downstream. */
    PIPELINE_EVENTS("pipeline-events"),
    /** Training requests; key: the project. */
    TRAINING("training"),
    /** Inbound events (webhooks, SQL inserts) to route; key {@code source/delivery_id}. */
    CLAUDE_EVENTS("claude_events"),
    /** Conversation messages (memory); key: the session id. */
    CONVERSATIONS("conversations");

    /** What a dead-letter topic adds to the name of its topic. */
    public static final String DEAD_LETTER_SUFFIX = ".dlq";

    private final String topic;

    Topic(String topic) {
        this.topic = topic;
    }

    /** The topic's name, before the prefix. */
    public String topic() {
        return topic;
    }

    /** Its dead-letter topic, before the prefix. */
    public String deadLetter() {
        return deadLetterOf(topic);
    }

    /** The dead-letter topic of any topic name (prefixed or not): the one rule for every topic. */
    public static String deadLetterOf(String topic) {
        return topic + DEAD_LETTER_SUFFIX;
    }

    /** The classpath resource of the JSON Schema of this topic's values. */
    public String schemaResource() {
        return "/io/ragline/contracts/" + topic + ".schema.json";
    }

    @Override
    public String toString() {
        return topic;
    }
}
