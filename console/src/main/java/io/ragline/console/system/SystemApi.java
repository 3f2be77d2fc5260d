package io.ragline.console.system;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.console.api.ApiRequest;
import io.ragline.console.api.ApiResponse;
import io.ragline.console.api.ApiRoutes;
import io.ragline.console.api.Json;
import io.ragline.console.api.Schemas;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.http.ApiTokens.Role;
import io.ragline.core.kafka.KafkaClients;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code /api/v1/system}: what the operator's overview shows. {@code GET /system}: the version,
 * the outbox backlog and its oldest row's age, the dispatcher holding the outbox lease, consumer
 * lag per group and partition (from Kafka, {@link ConsumerLag}) and each configured worker's
 * readiness ({@link WorkerReadiness}); {@code GET /system/rates}: throughput and error rates from
 * the workers' Prometheus metrics ({@link WorkerRates}). A part that cannot be read (Kafka down)
 * is null, with the reason in {@code problems}: the overview is most needed when something is down.
 */
public final class SystemApi {
    private static final Logger log = LoggerFactory.getLogger(SystemApi.class);

    /** How long Kafka may take for each question of the lag. */
    static final Duration KAFKA_TIMEOUT = Duration.ofSeconds(5);

    /** A worker's admin port: connecting, then answering. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(1);

    static final Duration READ_TIMEOUT = Duration.ofSeconds(3);

    /** The span of two scrapes when no earlier one can be used ({@link WorkerRates}). */
    static final Duration RATE_WINDOW = Duration.ofSeconds(1);

    private final String version;
    private final ConsumerLag lag;
    private final WorkerReadiness readiness;
    private final WorkerRates rates;

    public SystemApi(String version, ConsumerLag lag, WorkerReadiness readiness, WorkerRates rates) {
        this.version = version;
        this.lag = lag;
        this.readiness = readiness;
        this.rates = rates;
    }

    /**
     * The system area of a console process: an admin client of its own on the runtime's broker
     * (closed with the runtime), lag of the groups of its {@code RAGLINE_GROUP_PREFIX}, and {@code
     * workers} asked over HTTP.
     */
    public static SystemApi of(WorkerRuntime runtime, ConsoleWorkers workers, String version) {
        var core = runtime.settings();
        Admin admin = runtime.manage(KafkaClients.admin(
                core.kafkaBootstrapServers(), core.kafka().clientProperties(), "console-admin", KAFKA_TIMEOUT));
        AdminProbe probe = new AdminProbe(CONNECT_TIMEOUT, READ_TIMEOUT);
        return new SystemApi(
                version,
                new ConsumerLag(admin, core.kafka().groupPrefix(), KAFKA_TIMEOUT.toMillis()),
                new WorkerReadiness(workers, probe),
                new WorkerRates(
                        workers,
                        WorkerRates.scraper(probe),
                        Clock.systemUTC(),
                        d -> Thread.sleep(d.toMillis()),
                        RATE_WINDOW));
    }

    public void register(ApiRoutes routes) {
        routes.get("/system", Role.VIEWER, "Outbox, dispatcher, consumer lag, workers, version", this::system)
                .describe(r -> r.tag("system")
                        .description("`consumer_lag` lists every partition with a committed offset of the groups"
                                + " named `<RAGLINE_GROUP_PREFIX>-*`; `workers` are those of"
                                + " RAGLINE_CONSOLE_WORKERS, asked `GET /health/ready` now. A part that cannot be"
                                + " read is null and `problems` says why.")
                        .answers(200, "the system now", systemSchema()));
        routes.get("/system/rates", Role.VIEWER, "Throughput and error rates of the workers", this::rates)
                .describe(r -> r.tag("system")
                        .description("Per second, from the counters each worker's `/metrics` serves: the"
                                + " increase since this console's previous scrape (1 s to 5 min before), else"
                                + " over a second scrape 1 s later.")
                        .answers(200, "each worker's rates", ratesSchema()));
    }

    private ApiResponse system(ApiRequest req) throws SQLException, InterruptedException {
        ObjectNode n = Json.object();
        ArrayNode problems = Json.array();
        PipelineStatus.Snapshot s;
        String postgres;
        try (Connection c = req.database().getConnection()) {
            s = PipelineStatus.read(c);
            postgres = c.getMetaData().getDatabaseProductVersion();
        }
        n.put("version", version);
        n.put("schema_version", s.schemaVersion().orElse(null));
        n.put("postgres_version", postgres);
        n.putObject("outbox")
                .put("backlog", s.outbox().rows())
                .put("oldest_age_seconds", s.outbox().oldestAgeSeconds())
                .put("dead_letters", s.deadLetters().rows());
        ObjectNode dispatcher = n.putObject("dispatcher");
        dispatcher.put(
                "lease_holder", s.lease().map(PipelineStatus.Lease::holder).orElse(null));
        dispatcher.put(
                "lease_expires_at", s.lease().map(l -> l.expiresAt().toString()).orElse(null));
        try {
            ArrayNode lags = n.putArray("consumer_lag");
            for (ConsumerLag.Lag l : lag.read()) {
                lags.addObject()
                        .put("group", l.group())
                        .put("topic", l.topic())
                        .put("partition", l.partition())
                        .put("committed", l.committed())
                        .put("end", l.end())
                        .put("lag", l.lag());
            }
        } catch (ExecutionException | TimeoutException e) {
            n.putNull("consumer_lag");
            String why = "consumer lag unreadable: Kafka did not answer ("
                    + (e instanceof ExecutionException ? e.getCause() : e) + ")";
            log.warn(why);
            problems.add(why);
        }
        ArrayNode workers = n.putArray("workers");
        for (WorkerReadiness.Status w : readiness.check()) {
            workers.addObject()
                    .put("name", w.name())
                    .put("admin_url", w.adminUrl())
                    .put("ready", w.ready())
                    .put("detail", w.detail());
        }
        n.set("problems", problems);
        return ApiResponse.ok(n);
    }

    private ApiResponse rates(ApiRequest req) throws InterruptedException {
        ObjectNode n = Json.object();
        ArrayNode workers = n.putArray("workers");
        List<WorkerRates.WorkerRate> all = rates.rates();
        for (WorkerRates.WorkerRate w : all) {
            ObjectNode o = workers.addObject().put("name", w.name());
            for (WorkerRates.Rate r : WorkerRates.Rate.values()) {
                Double v = w.perSecond().get(r);
                o.put(r.field(), v);
            }
            o.put("span_seconds", w.error() == null ? w.spanSeconds() : null);
            o.put("error", w.error());
        }
        return ApiResponse.ok(n);
    }

    private static ObjectNode systemSchema() {
        return Schemas.object(
                "version", Schemas.string("this console's build"),
                "schema_version", Schemas.nullable(Schemas.string()),
                "postgres_version", Schemas.string(),
                "outbox",
                        Schemas.object(
                                "backlog", Schemas.integer(),
                                "oldest_age_seconds", Schemas.number(),
                                "dead_letters", Schemas.integer()),
                "dispatcher",
                        Schemas.object(
                                "lease_holder", Schemas.nullable(Schemas.string()),
                                "lease_expires_at", Schemas.nullable(Schemas.dateTime())),
                "consumer_lag",
                        Schemas.nullable(Schemas.array(Schemas.object(
                                "group", Schemas.string(),
                                "topic", Schemas.string(),
                                "partition", Schemas.integer(),
                                "committed", Schemas.integer(),
                                "end", Schemas.integer(),
                                "lag", Schemas.integer()))),
                "workers",
                        Schemas.array(Schemas.object(
                                "name", Schemas.string(),
                                "admin_url", Schemas.string(),
                                "ready", Schemas.bool(),
                                "detail", Schemas.string())),
                "problems", Schemas.array(Schemas.string()));
    }

    private static ObjectNode ratesSchema() {
        ObjectNode worker = Schemas.object("name", Schemas.string());
        ObjectNode p = (ObjectNode) worker.get("properties");
        for (WorkerRates.Rate r : WorkerRates.Rate.values()) {
            p.set(r.field(), Schemas.nullable(Schemas.number()));
        }
        p.set("span_seconds", Schemas.nullable(Schemas.number()));
        p.set("error", Schemas.nullable(Schemas.string()));
        return Schemas.object("workers", Schemas.array(worker));
    }
}
