package io.ragline.testkit;

import io.ragline.devstack.DevServices;
import io.ragline.devstack.DevStack;
import io.ragline.devstack.docker.DockerCompose;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.containers.PostgreSQLContainer;
import org.testcontainers.kafka.KafkaContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The real PostgreSQL (with pgvector) and Kafka broker of a test run, resolved once per JVM:
 *
 * <ol>
 *   <li>{@code DATABASE_URL} and {@code KAFKA_BOOTSTRAP_SERVERS} in the environment (what
 *       {@code ./ragline test} exports after {@code ragline dev up});
 *   <li>else, where a Docker engine answers, Testcontainers ({@code pgvector/pgvector:pg16},
 *       {@code apache/kafka});
 *   <li>else the local processes of {@link DevStack} under the repository's {@code .ragline/}.
 * </ol>
 */
public final class TestServices {
    private static final Logger log = LoggerFactory.getLogger(TestServices.class);
    public static final String PGVECTOR_IMAGE = "pgvector/pgvector:pg16";
    public static final String KAFKA_IMAGE = "apache/kafka:4.1.1";

    private static volatile TestServices instance;

    private final String databaseUrl;
    private final String kafkaBootstrapServers;

    private TestServices(String databaseUrl, String kafkaBootstrapServers) {
        this.databaseUrl = databaseUrl;
        this.kafkaBootstrapServers = kafkaBootstrapServers;
    }

    public static TestServices get() {
        TestServices s = instance;
        if (s == null) {
            synchronized (TestServices.class) {
                s = instance;
                if (s == null) {
                    s = resolve(System.getenv());
                    instance = s;
                }
            }
        }
        return s;
    }

    /** A libpq URL: {@code postgresql://user:pass@host:port/db?...}. */
    public String databaseUrl() {
        return databaseUrl;
    }

    public String kafkaBootstrapServers() {
        return kafkaBootstrapServers;
    }

    static TestServices resolve(Map<String, String> env) {
        String db = env.get(DevServices.DATABASE_URL);
        String kafka = env.get(DevServices.KAFKA_BOOTSTRAP_SERVERS);
        if (notBlank(db) && notBlank(kafka)) {
            log.info("tests use the services given in the environment (Kafka {})", kafka);
            return new TestServices(db, kafka);
        }
        boolean local = "local".equalsIgnoreCase(env.getOrDefault(DevStack.MODE_VARIABLE, "auto"));
        if (!local && DockerCompose.available()) {
            return fromTestcontainers(db, kafka);
        }
        DevServices started = new DevStack(home(), env, message -> log.info("devstack: {}", message)).up();
        return new TestServices(started.databaseUrl(), started.kafkaBootstrapServers());
    }

    @SuppressWarnings("resource") // the containers live as long as the test JVM; Ryuk removes them
    private static TestServices fromTestcontainers(String db, String kafka) {
        if (!notBlank(db)) {
            PostgreSQLContainer<?> pg = new PostgreSQLContainer<>(
                            DockerImageName.parse(PGVECTOR_IMAGE).asCompatibleSubstituteFor("postgres"))
                    .withDatabaseName("ragline")
                    .withUsername("ragline")
                    .withPassword("ragline-test")
                    .withCommand("postgres", "-c", "fsync=off", "-c", "max_connections=300");
            pg.start();
            db = "postgresql://ragline:ragline-test@" + pg.getHost() + ":" + pg.getFirstMappedPort()
                    + "/ragline?sslmode=disable";
        }
        if (!notBlank(kafka)) {
            KafkaContainer k = new KafkaContainer(DockerImageName.parse(KAFKA_IMAGE));
            k.start();
            kafka = k.getBootstrapServers();
        }
        log.info("tests use Testcontainers (Kafka {})", kafka);
        return new TestServices(db, kafka);
    }

    /** The repository root: {@code -Dragline.home}, else the nearest parent holding the launcher. */
    public static Path home() {
        String prop = System.getProperty("ragline.home");
        if (prop != null && !prop.isBlank()) {
            return Path.of(prop);
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("ragline")) && Files.isRegularFile(p.resolve("pom.xml"))) {
                return p;
            }
        }
        return Path.of("").toAbsolutePath();
    }

    private static boolean notBlank(String s) {
        return s != null && !s.isBlank();
    }
}
