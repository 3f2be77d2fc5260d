package io.ragline.core;

import io.ragline.core.config.ConfigException;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.db.ConnectFailure;
import io.ragline.core.db.Database;
import io.ragline.core.kafka.KafkaClientProperties;
import io.ragline.core.kafka.KafkaConnectivity;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * Start-up validation: every variable parsed, then Postgres and Kafka reached (in parallel, each
 * attempt bounded by {@code RAGLINE_STARTUP_TIMEOUT}). A service whose failure a retry can fix
 * (refused, unanswered, starting up, failing over: {@link ConnectFailure#retryable}, {@link
 * KafkaConnectivity.Failure#retryable}) is tried again, with short pauses, until {@code
 * RAGLINE_STARTUP_WAIT} ({@link StartupWait}), but only while nothing else is wrong: a bad variable,
 * a refused login or a TLS problem is reported at once, with every other problem found. All
 * problems are reported in one {@link ConfigException}, each naming its variable, none holding a
 * secret; one that outlasted the wait says how long it was retried.
 */
public final class StartupCheck {
    private StartupCheck() {}

    /** One failed attempt: the problem as reported, its reason, and whether a retry can fix it. */
    private record Failure(String report, String reason, boolean retryable) {}

    public static CoreSettings run(Env env, String processName, int defaultAdminPort) {
        Instant began = Instant.now();
        CoreSettings settings = CoreSettings.from(env, defaultAdminPort);
        List<String> problems = new ArrayList<>(env.problems());
        // Each endpoint whose own variable is good is tried even when another variable is bad,
        // so that one report names every problem.
        Env quiet = new Env(env.all()); // reads again what env read: its problems are env's own
        Duration timeout = settings != null ? settings.startupTimeout() : timeout(quiet);
        String schema = settings != null ? settings.schema() : CoreSettings.DEFAULT_SCHEMA;
        Optional<DatabaseUrl> database = Optional.ofNullable(DatabaseUrl.from(quiet));
        // Kafka is tried only with client properties that are good: a refused one is reported already.
        Env kafkaEnv = new Env(env.all());
        KafkaClientProperties kafkaProperties = KafkaClientProperties.from(kafkaEnv);
        Optional<String> kafka = quiet.raw(CoreSettings.KAFKA_BOOTSTRAP_SERVERS)
                .filter(k -> kafkaEnv.problems().isEmpty())
                .filter(k -> problems.stream().noneMatch(p -> p.startsWith(CoreSettings.KAFKA_BOOTSTRAP_SERVERS)));
        // What is awaited (as the log names it) and one attempt at it, in the order of the report.
        Map<String, Supplier<Failure>> attempts = new LinkedHashMap<>();
        database.ifPresent(
                url -> attempts.put("Postgres at " + url, () -> checkDatabase(url, schema, processName, timeout)));
        kafka.ifPresent(k -> attempts.put("Kafka at " + k, () -> checkKafka(k, kafkaProperties, timeout)));
        // Only a start-up with nothing else wrong waits: a bad variable is reported at once.
        StartupWait wait = StartupWait.since(
                began, settings != null && problems.isEmpty() ? settings.startupWait() : Duration.ZERO, processName);
        Map<String, Failure> failed = attempt(attempts, attempts.keySet());
        while (!failed.isEmpty()
                && failed.values().stream().allMatch(Failure::retryable)
                && wait.pause(reasons(failed))) {
            Map<String, Failure> again = attempt(attempts, failed.keySet());
            failed.keySet().stream().filter(w -> !again.containsKey(w)).forEach(wait::answered);
            failed = again;
        }
        for (Failure f : failed.values()) {
            problems.add(f.report() + (f.retryable() ? wait.retried() : ""));
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return settings;
    }

    /** One attempt at each of {@code which}, in parallel; the failures, in the order of {@code attempts}. */
    private static Map<String, Failure> attempt(Map<String, Supplier<Failure>> attempts, Set<String> which) {
        Map<String, CompletableFuture<Failure>> running = new LinkedHashMap<>();
        attempts.forEach((what, attempt) -> {
            if (which.contains(what)) {
                running.put(what, CompletableFuture.supplyAsync(attempt));
            }
        });
        Map<String, Failure> failed = new LinkedHashMap<>();
        running.forEach((what, attempt) -> {
            Failure f = attempt.join();
            if (f != null) {
                failed.put(what, f);
            }
        });
        return failed;
    }

    private static Map<String, String> reasons(Map<String, Failure> failed) {
        Map<String, String> reasons = new LinkedHashMap<>();
        failed.forEach((what, f) -> reasons.put(what, f.reason()));
        return reasons;
    }

    /** {@code RAGLINE_STARTUP_TIMEOUT} when it is good, else its default. */
    private static Duration timeout(Env quiet) {
        Duration t = quiet.duration(CoreSettings.STARTUP_TIMEOUT, CoreSettings.DEFAULT_STARTUP_TIMEOUT);
        return !t.isZero() && !t.isNegative() && quiet.problems().isEmpty() ? t : CoreSettings.DEFAULT_STARTUP_TIMEOUT;
    }

    private static Failure checkDatabase(DatabaseUrl url, String schema, String processName, Duration timeout) {
        try (Connection c = Database.connect(url, schema, processName, timeout)) {
            c.isValid((int) Math.max(1, timeout.toSeconds()));
            return null;
        } catch (SQLException e) {
            // The driver's messages name host, port, user and database, never the password.
            String reason = ConnectFailure.explain(url, e);
            return new Failure(
                    CoreSettings.DATABASE_URL + "='" + url + "': cannot connect: " + reason,
                    reason,
                    ConnectFailure.retryable(url, e));
        }
    }

    private static Failure checkKafka(String servers, KafkaClientProperties properties, Duration timeout) {
        return KafkaConnectivity.probe(servers, properties, timeout)
                .map(f -> new Failure(
                        CoreSettings.KAFKA_BOOTSTRAP_SERVERS + "='" + servers + "': cannot reach Kafka: " + f.reason(),
                        f.reason(),
                        f.retryable()))
                .orElse(null);
    }
}
