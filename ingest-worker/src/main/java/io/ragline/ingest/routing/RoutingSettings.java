package io.ragline.ingest.routing;

import io.ragline.core.config.Env;
import io.ragline.core.config.Problems;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * How ingest-worker routes {@code claude_events}: the rules file ({@code RAGLINE_ROUTING_RULES},
 * optional, JSON) read and checked now, so that every problem in it joins the start-up report, and
 * how long rules of the {@code routing_rules} table are kept before they are read again.
 */
public record RoutingSettings(Path rulesFile, List<RoutingRule> fileRules, Duration refresh) {
    /** None by default: only the table's rules. */
    public static final String RULES = "RAGLINE_ROUTING_RULES";

    public static final String REFRESH = "RAGLINE_ROUTING_RULES_REFRESH";
    public static final Duration DEFAULT_REFRESH = Duration.ofSeconds(10);

    /** Every rule of every field; each problem names its variable. */
    public RoutingSettings {
        Problems p = new Problems();
        p.check(fileRules != null, "the rules read from " + RULES + " are missing (none is an empty list)");
        p.positive(REFRESH, refresh);
        p.throwIfAny();
        fileRules = List.copyOf(fileRules);
    }

    /** Reads every variable; problems are recorded in {@code env} (the defaults stand in), not thrown. */
    public static RoutingSettings from(Env env) {
        Duration refresh = env.duration(REFRESH, DEFAULT_REFRESH);
        Path file = env.raw(RULES).map(Path::of).orElse(null);
        List<RoutingRule> rules = List.of();
        if (file != null) {
            List<String> problems = new ArrayList<>();
            rules = RoutingRules.readFile(file, problems);
            problems.forEach(p -> env.problem(RULES + ": " + p));
        }
        List<RoutingRule> fileRules = rules;
        return env.build(() -> new RoutingSettings(file, fileRules, refresh), RoutingSettings::defaults);
    }

    /** No rules file, the table's rules kept {@link #DEFAULT_REFRESH}. */
    public static RoutingSettings defaults() {
        return new RoutingSettings(null, List.of(), DEFAULT_REFRESH);
    }

    /** The rules in force: the file's, then the table's. */
    public RoutingRules rules() {
        return new RoutingRules(fileRules, refresh);
    }

    @Override
    public String toString() {
        return "RoutingSettings[rulesFile=" + (rulesFile == null ? "none" : rulesFile) + ", fileRules="
                + fileRules.size() + ", refresh=" + refresh + "]";
    }
}
