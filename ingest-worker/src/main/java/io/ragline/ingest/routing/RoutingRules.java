package io.ragline.ingest.routing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The routing rules: those of the file named by {@code RAGLINE_ROUTING_RULES} (read once, at
 * start-up), then the enabled rows of {@code routing_rules} by position and name, read on the
 * consumer's connection and kept for {@code refresh} (like the collection catalog): a rule
 * inserted or changed with SQL applies within that time. The first rule that matches decides.
 */
public final class RoutingRules {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String SELECT = "select name, source, event_type, action, paths::text, fixed::text from"
            + " routing_rules where enabled order by position, name";

    private final List<RoutingRule> fileRules;
    private final Duration refresh;
    private volatile Snapshot table;

    private record Snapshot(List<RoutingRule> rules, long loadedAt) {}

    public RoutingRules(List<RoutingRule> fileRules, Duration refresh) {
        this.fileRules = List.copyOf(fileRules);
        this.refresh = refresh;
    }

    /** The rule that decides an event of {@code source} and {@code eventType}, or null when none matches. */
    RoutingRule first(Connection c, String source, String eventType) throws SQLException {
        for (RoutingRule r : fileRules) {
            if (r.matches(source, eventType)) {
                return r;
            }
        }
        for (RoutingRule r : tableRules(c)) {
            if (r.matches(source, eventType)) {
                return r;
            }
        }
        return null;
    }

    private List<RoutingRule> tableRules(Connection c) throws SQLException {
        Snapshot s = table;
        long now = System.nanoTime();
        if (s == null || now - s.loadedAt >= refresh.toNanos()) {
            s = new Snapshot(readTable(c), now);
            table = s;
        }
        return s.rules;
    }

    /** Every enabled rule of {@code routing_rules}, invalid ones with their problems. */
    public static List<RoutingRule> readTable(Connection c) throws SQLException {
        List<RoutingRule> rules = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(SELECT);
                ResultSet rs = s.executeQuery()) {
            while (rs.next()) {
                String name = rs.getString(1);
                ObjectNode node = JSON.createObjectNode();
                node.put("source", rs.getString(2));
                node.put("event_type", rs.getString(3));
                node.put("action", rs.getString(4));
                node.set("paths", tree(rs.getString(5)));
                node.set("fixed", tree(rs.getString(6)));
                rules.add(RoutingRule.parse(node, name, "routing_rules '" + name + "'"));
            }
        }
        return rules;
    }

    /** The problems of the table's enabled rules, for the start-up check. */
    public static List<String> tableProblems(Connection c) throws SQLException {
        List<String> problems = new ArrayList<>();
        readTable(c).forEach(r -> problems.addAll(r.problems()));
        return problems;
    }

    /**
     * Reads a rules file: {@code {"rules": [ {...}, ... ]}}. Every problem is added to
     * {@code problems}, each naming the rule; the enabled rules are returned.
     */
    public static List<RoutingRule> readFile(Path file, List<String> problems) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readAllBytes(file));
        } catch (IOException e) {
            problems.add(file + ": " + (Files.exists(file) ? "not valid JSON: " + firstLine(e) : "no such file"));
            return List.of();
        }
        JsonNode list = root == null ? null : root.get("rules");
        if (root == null || !root.isObject() || list == null || !list.isArray()) {
            problems.add(file + ": must be a JSON object {\"rules\": [ ... ]}");
            return List.of();
        }
        List<RoutingRule> rules = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode node = list.get(i);
            JsonNode n = node.get("name");
            String name = n != null && n.isTextual() ? n.asText() : "rule-" + (i + 1);
            String origin = file.getFileName() + " rule " + (i + 1) + (n != null ? " '" + n.asText() + "'" : "");
            if (!names.add(name)) {
                problems.add(origin + ": the name '" + name + "' is used twice");
            }
            RoutingRule rule = RoutingRule.parse(node, name, origin);
            problems.addAll(rule.problems());
            JsonNode enabled = node.get("enabled");
            if (enabled != null && !enabled.isBoolean()) {
                problems.add(origin + ": enabled must be true or false");
            } else if (enabled == null || enabled.asBoolean()) {
                rules.add(rule);
            }
        }
        return rules;
    }

    private static JsonNode tree(String json) throws SQLException {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new SQLException("routing_rules holds JSON Jackson cannot read: " + e.getMessage(), e);
        }
    }

    private static String firstLine(IOException e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.lines().findFirst().orElse(m);
    }
}
