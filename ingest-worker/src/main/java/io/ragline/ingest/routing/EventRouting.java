package io.ragline.ingest.routing;

import io.ragline.contracts.Topic;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.config.ConfigException;
import io.ragline.core.config.Env;
import io.ragline.core.consumer.ConsumerBinding;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The routing consumer of the ingest-worker: the {@code claude_events} topic, decoded by
 * {@link ClaudeEventDecoder}, routed by {@link EventRouter} with the rules of
 * {@code RAGLINE_ROUTING_RULES} and the {@code routing_rules} table.
 */
public final class EventRouting {
    private static final Logger log = LoggerFactory.getLogger(EventRouting.class);

    /** The consumer binding's name: the group is {@code <RAGLINE_GROUP_PREFIX>-routing}. */
    public static final String NAME = "routing";

    private EventRouting() {}

    /**
     * Reads the rules file now (its problems join the start-up report); once the runtime is up,
     * checks the table's rules (start-up fails naming each bad one) and starts consuming.
     */
    public static Consumer<WorkerRuntime> wiring(Env env, int maxContentBytes) {
        RoutingSettings settings = RoutingSettings.from(env);
        return runtime -> {
            int tableRules = checkTable(runtime);
            String group = runtime.settings().kafka().groupPrefix() + "-" + NAME;
            log.info(
                    "routing claude_events with {} rule(s) from {} and {} from routing_rules (refreshed every {})",
                    settings.fileRules().size(),
                    settings.rulesFile() == null ? "no file" : settings.rulesFile(),
                    tableRules,
                    settings.refresh());
            runtime.consume(new ConsumerBinding<>(
                    NAME,
                    List.of(runtime.settings().topic(Topic.CLAUDE_EVENTS.topic())),
                    new ClaudeEventDecoder(),
                    new EventRouter(
                            settings.rules(),
                            maxContentBytes,
                            new CollectionCatalog(Duration.ofSeconds(10)),
                            Topic.CLAUDE_EVENTS.deadLetter(),
                            group,
                            runtime.registry())));
        };
    }

    private static int checkTable(WorkerRuntime runtime) {
        List<RoutingRule> rules;
        try {
            rules = runtime.startupStep("reading routing_rules", () -> {
                try (Connection c = runtime.dataSource().getConnection()) {
                    return RoutingRules.readTable(c);
                }
            });
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read routing_rules: " + e.getMessage(), e);
        }
        List<String> problems =
                rules.stream().flatMap(r -> r.problems().stream()).toList();
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return rules.size();
    }
}
