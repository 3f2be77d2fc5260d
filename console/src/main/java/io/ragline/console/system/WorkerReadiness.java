package io.ragline.console.system;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Each configured worker's readiness, from {@code GET /health/ready} on its admin port: ready on
 * 200; otherwise the failing checks of its answer ({@code {"status":"DOWN","checks":{name:
 * problem}}}), its status code, or why nothing answered.
 */
public final class WorkerReadiness {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One worker's answer: {@code detail} is "ready", the failing checks, or the failure to ask. */
    public record Status(String name, String adminUrl, boolean ready, String detail) {}

    private final ConsoleWorkers workers;
    private final AdminProbe probe;

    public WorkerReadiness(ConsoleWorkers workers, AdminProbe probe) {
        this.workers = workers;
        this.probe = probe;
    }

    public List<Status> check() {
        List<Status> statuses = new ArrayList<>();
        for (ConsoleWorkers.Worker w : workers.workers()) {
            statuses.add(check(w));
        }
        return statuses;
    }

    private Status check(ConsoleWorkers.Worker w) {
        String url = w.adminUrl().toString();
        try {
            AdminProbe.Answer a = probe.get(w.resolve(AdminProbe.READY_PATH));
            if (a.status() == 200) {
                return new Status(w.name(), url, true, "ready");
            }
            return new Status(w.name(), url, false, failing(a));
        } catch (IOException | RuntimeException e) {
            return new Status(w.name(), url, false, "no answer: " + e);
        }
    }

    private static String failing(AdminProbe.Answer a) {
        try {
            JsonNode checks = JSON.readTree(a.body()).path("checks");
            List<String> failing = new ArrayList<>();
            for (Iterator<Map.Entry<String, JsonNode>> i = checks.fields(); i.hasNext(); ) {
                Map.Entry<String, JsonNode> c = i.next();
                if (!"ok".equals(c.getValue().asText())) {
                    failing.add(c.getKey() + ": " + c.getValue().asText());
                }
            }
            if (!failing.isEmpty()) {
                return String.join("; ", failing);
            }
        } catch (IOException e) {
            // not the admin port's JSON: the status says enough
        }
        return "answered " + a.status();
    }
}
