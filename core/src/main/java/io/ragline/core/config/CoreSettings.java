package io.ragline.core.config;

import io.ragline.core.kafka.KafkaSettings;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
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
        Duration startupWait,
        Duration shutdownTimeout,
        LogFormat logFormat,
        KafkaSettings kafka) {

    public static final String DATABASE_URL = "DATABASE_URL";
    /** The password, when {@code DATABASE_URL} holds none; {@code DATABASE_PASSWORD_FILE} works too. */
    public static final String DATABASE_PASSWORD = "DATABASE_PASSWORD";

    public static final String KAFKA_BOOTSTRAP_SERVERS = "KAFKA_BOOTSTRAP_SERVERS";
    public static final String SCHEMA = "RAGLINE_DB_SCHEMA";
    public static final String DEFAULT_SCHEMA = "rag";
    public static final String POOL_SIZE = "RAGLINE_DB_POOL_SIZE";
    public static final int DEFAULT_POOL_SIZE = 10;
    public static final String TOPIC_PREFIX = "RAGLINE_TOPIC_PREFIX";
    public static final String DEFAULT_TOPIC_PREFIX = "";
    /** The default is each process's own (9080-9084), given to {@link #from}. */
    public static final String ADMIN_PORT = "RAGLINE_ADMIN_PORT";

    public static final String MIGRATE_ON_START = "RAGLINE_MIGRATE_ON_START";
    public static final boolean DEFAULT_MIGRATE_ON_START = true;
    public static final String STARTUP_TIMEOUT = "RAGLINE_STARTUP_TIMEOUT";
    public static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofSeconds(10);
    /**
     * How long start-up keeps trying a Postgres or Kafka whose failure a retry can fix (refused,
     * unanswered, starting up, failing over); 0 tries once. Each attempt is bounded by
     * {@code RAGLINE_STARTUP_TIMEOUT}. See {@code io.ragline.core.StartupWait}.
     */
    public static final String STARTUP_WAIT = "RAGLINE_STARTUP_WAIT";

    public static final Duration DEFAULT_STARTUP_WAIT = Duration.ofSeconds(60);
    public static final String SHUTDOWN_TIMEOUT = "RAGLINE_SHUTDOWN_TIMEOUT";
    public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);
    public static final String LOG_FORMAT = "RAGLINE_LOG_FORMAT";
    public static final LogFormat DEFAULT_LOG_FORMAT = LogFormat.TEXT;
    /** Read by the logging configuration, checked here so that a typo joins the start-up report. */
    public static final String LOG_LEVEL = "RAGLINE_LOG_LEVEL";

    public static final String DEFAULT_LOG_LEVEL = "INFO";

    /** Stands in for a database whose variables have problems, so the constructor checks the rest. */
    private static final DatabaseUrl STAND_IN =
            DatabaseUrl.parse("postgresql://unset@unset/unset").url().orElseThrow();

    private static final String KAFKA_HINT = "host:9092[,host:9092]";
    private static final Set<String> LOG_LEVELS = Set.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF");

    /** 56, not 63: the outbox doorbell channel '<schema>.outbox' must stay under 64 bytes. */
    private static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,55}");

    private static final Pattern TOPIC_PREFIX_CHARS = Pattern.compile("[A-Za-z0-9._-]{0,200}");
    private static final Pattern BOOTSTRAP_SERVERS =
            Pattern.compile("[^\\s,:]+:\\d{1,5}(\\s*,\\s*[^\\s,:]+:\\d{1,5})*");

    public enum LogFormat {
        TEXT,
        JSON
    }

    /** Every rule of every field; each problem names its variable, none holds the password. */
    public CoreSettings {
        Problems p = new Problems();
        p.present(DATABASE_URL, database, DatabaseUrl.HINT);
        if (p.present(KAFKA_BOOTSTRAP_SERVERS, kafkaBootstrapServers, KAFKA_HINT)) {
            p.matches(
                    KAFKA_BOOTSTRAP_SERVERS,
                    kafkaBootstrapServers.strip(),
                    BOOTSTRAP_SERVERS,
                    "must be a comma-separated list of host:port");
        }
        p.matches(
                SCHEMA,
                schema,
                IDENTIFIER,
                "must be a lower-case SQL identifier (letters, digits, _) of at most 56 characters");
        p.between(POOL_SIZE, poolSize, 1, 500);
        p.matches(
                TOPIC_PREFIX,
                topicPrefix,
                TOPIC_PREFIX_CHARS,
                "may hold only letters, digits, '.', '_' and '-' (at most 200)");
        p.between(ADMIN_PORT, adminPort, 0, 65535);
        p.positive(STARTUP_TIMEOUT, startupTimeout);
        p.notNegative(STARTUP_WAIT, startupWait);
        p.positive(SHUTDOWN_TIMEOUT, shutdownTimeout);
        p.present(LOG_FORMAT, logFormat);
        p.check(kafka != null, "the Kafka settings (" + KafkaSettings.GROUP_PREFIX + " and the others) are missing");
        p.throwIfAny();
    }

    /**
     * Reads every core variable; problems are recorded in {@code env}, not thrown, a default standing
     * in for a value that does not parse. Returns null when the values cannot make settings (no
     * database, say): {@link Env#validate()} then lists every problem, and {@code StartupCheck} still
     * tries the endpoints whose own variables are good.
     */
    public static CoreSettings from(Env env, int defaultAdminPort) {
        DatabaseUrl database = DatabaseUrl.from(env);
        String kafka = env.required(KAFKA_BOOTSTRAP_SERVERS, KAFKA_HINT);
        String level = env.string(LOG_LEVEL, DEFAULT_LOG_LEVEL).toUpperCase(Locale.ROOT);
        if (!LOG_LEVELS.contains(level)) {
            env.problem(LOG_LEVEL + "='" + level + "' must be one of TRACE, DEBUG, INFO, WARN, ERROR, OFF");
        }
        // Without a database (its problems are in env), a stand-in lets the constructor check the rest.
        DatabaseUrl url = database != null ? database : STAND_IN;
        String schema = env.string(SCHEMA, DEFAULT_SCHEMA).toLowerCase(Locale.ROOT);
        String prefix = env.string(TOPIC_PREFIX, DEFAULT_TOPIC_PREFIX);
        int poolSize = env.integer(POOL_SIZE, DEFAULT_POOL_SIZE);
        int adminPort = env.integer(ADMIN_PORT, defaultAdminPort);
        boolean migrate = env.bool(MIGRATE_ON_START, DEFAULT_MIGRATE_ON_START);
        Duration startup = env.duration(STARTUP_TIMEOUT, DEFAULT_STARTUP_TIMEOUT);
        Duration startupWait = env.duration(STARTUP_WAIT, DEFAULT_STARTUP_WAIT);
        Duration shutdown = env.duration(SHUTDOWN_TIMEOUT, DEFAULT_SHUTDOWN_TIMEOUT);
        LogFormat format = env.choice(LOG_FORMAT, DEFAULT_LOG_FORMAT, LogFormat.class);
        KafkaSettings kafkaSettings = KafkaSettings.from(env);
        CoreSettings settings = env.build(
                () -> new CoreSettings(
                        url,
                        kafka,
                        schema,
                        poolSize,
                        prefix,
                        adminPort,
                        migrate,
                        startup,
                        startupWait,
                        shutdown,
                        format,
                        kafkaSettings),
                () -> null);
        return database == null ? null : settings;
    }

    /** The full name of a topic, with the configured prefix. */
    public String topic(String name) {
        return topicPrefix + name;
    }
}
