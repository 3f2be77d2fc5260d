package io.ragline.core.config;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What every Ragline process needs: where Postgres and Kafka are, the schema, the admin port,
 * and how to log and start up. Each worker adds its own settings record beside this one.
 */
public record CoreSettings(
        DatabaseUrl database,
        String kafkaBootstrapServers,
        String schema,
        int poolSize,
        String topicPrefix,
        int adminPort,
        boolean migrateOnStart,
        Duration startupTimeout,
        Duration shutdownTimeout,
        LogFormat logFormat,
        io.ragline.core.kafka.KafkaSettings kafka) {

    public static final String DATABASE_URL = "DATABASE_URL";
    public static final String KAFKA_BOOTSTRAP_SERVERS = "KAFKA_BOOTSTRAP_SERVERS";
    public static final String SCHEMA = "RAGLINE_DB_SCHEMA";
    public static final String POOL_SIZE = "RAGLINE_DB_POOL_SIZE";
    public static final String TOPIC_PREFIX = "RAGLINE_TOPIC_PREFIX";
    public static final String ADMIN_PORT = "RAGLINE_ADMIN_PORT";
    public static final String MIGRATE_ON_START = "RAGLINE_MIGRATE_ON_START";
    public static final String STARTUP_TIMEOUT = "RAGLINE_STARTUP_TIMEOUT";
    public static final String SHUTDOWN_TIMEOUT = "RAGLINE_SHUTDOWN_TIMEOUT";
    public static final String LOG_FORMAT = "RAGLINE_LOG_FORMAT";

    public static final String DEFAULT_SCHEMA = "rag";
    public static final int DEFAULT_POOL_SIZE = 10;
    public static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofSeconds(10);
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);

    /** 56, not 63: the outbox doorbell channel '<schema>.outbox' must stay under 64 bytes. */
    private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,55}");

    private static final Pattern TOPIC_PREFIX_CHARS = Pattern.compile("[A-Za-z0-9._-]*");
    private static final Pattern HOST_PORT = Pattern.compile("[^\\s,:]+:\\d{1,5}");

    public enum LogFormat {
        TEXT,
        JSON
    }

    /** Reads every core variable; problems are recorded in {@code env}, not thrown. */
    public static CoreSettings from(Env env, int defaultAdminPort) {
        DatabaseUrl database = null;
        String rawUrl = env.required(DATABASE_URL, "postgresql://user:password@host:5432/database");
        if (rawUrl != null) {
            DatabaseUrl.Parsed parsed = DatabaseUrl.parse(rawUrl);
            if (parsed.url().isPresent()) {
                database = parsed.url().get();
            } else {
                env.problem(DATABASE_URL + "='" + DatabaseUrl.mask(rawUrl) + "' " + parsed.error());
            }
        }
        String kafka = env.required(KAFKA_BOOTSTRAP_SERVERS, "host:9092[,host:9092]");
        if (kafka != null) {
            for (String hp : kafka.split(",")) {
                if (!HOST_PORT.matcher(hp.strip()).matches()) {
                    env.problem(KAFKA_BOOTSTRAP_SERVERS + "='" + kafka + "' must be a comma-separated list of"
                            + " host:port");
                    break;
                }
            }
        }
        String schema = env.string(SCHEMA, DEFAULT_SCHEMA).toLowerCase(Locale.ROOT);
        if (!IDENTIFIER.matcher(schema).matches()) {
            env.problem(SCHEMA + "='" + schema + "' must be a lower-case SQL identifier (letters, digits, _) of at"
                    + " most 56 characters");
        }
        String prefix = env.string(TOPIC_PREFIX, "");
        if (!TOPIC_PREFIX_CHARS.matcher(prefix).matches() || prefix.length() > 200) {
            env.problem(TOPIC_PREFIX + "='" + prefix + "' may hold only letters, digits, '.', '_' and '-'");
        }
        String level = env.string("RAGLINE_LOG_LEVEL", "INFO").toUpperCase(Locale.ROOT);
        if (!java.util.Set.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF").contains(level)) {
            env.problem("RAGLINE_LOG_LEVEL='" + level + "' must be one of TRACE, DEBUG, INFO, WARN, ERROR, OFF");
        }
        return new CoreSettings(
                database,
                kafka,
                schema,
                env.integer(POOL_SIZE, DEFAULT_POOL_SIZE, 1, 500),
                prefix,
                env.port(ADMIN_PORT, defaultAdminPort),
                env.bool(MIGRATE_ON_START, true),
                env.duration(STARTUP_TIMEOUT, DEFAULT_STARTUP_TIMEOUT),
                env.duration(SHUTDOWN_TIMEOUT, DEFAULT_SHUTDOWN_TIMEOUT),
                env.choice(LOG_FORMAT, LogFormat.TEXT, LogFormat.class),
                io.ragline.core.kafka.KafkaSettings.from(env));
    }

    /** The full name of a topic, with the configured prefix. */
    public String topic(String name) {
        return topicPrefix + name;
    }
}
