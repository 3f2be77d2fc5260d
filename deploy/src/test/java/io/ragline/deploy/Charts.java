package io.ragline.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.ragline.console.Console;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.dispatcher.EventDispatcher;
import io.ragline.embedding.EmbeddingWorker;
import io.ragline.ingest.IngestWorker;
import io.ragline.training.TrainingWorker;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The chart rendered once for each values file as an operator would install it (the default
 * values need the test's required ones), and what the tests ask of rendered objects.
 */
final class Charts {
    static final List<String> WORKERS =
            List.of(IngestWorker.NAME, EmbeddingWorker.NAME, TrainingWorker.NAME, EventDispatcher.NAME, Console.NAME);

    static final Map<String, List<Path>> VALUES = Map.of(
            "default", List.of(Chart.TEST_VALUES),
            "staging", List.of(Chart.STAGING),
            "production", List.of(Chart.PRODUCTION));

    /** By values file: default, staging, production. */
    static final Map<String, Rendered> RENDERED = render();

    private Charts() {}

    private static Map<String, Rendered> render() {
        Map<String, Rendered> rendered = new LinkedHashMap<>();
        for (String values : List.of("default", "staging", "production")) {
            rendered.put(values, Chart.template(VALUES.get(values), Map.of()));
        }
        return Collections.unmodifiableMap(rendered);
    }

    /** The login in the workers' {@code DATABASE_URL}. */
    static String workerLogin(Rendered chart) {
        ConfigMap cm = chart.named(ConfigMap.class, Chart.FULLNAME + "-" + IngestWorker.NAME);
        return DatabaseUrl.parse(cm.getData().get(CoreSettings.DATABASE_URL))
                .url()
                .orElseThrow()
                .user();
    }

    static int port(Container c, String name) {
        return c.getPorts().stream()
                .filter(p -> name.equals(p.getName()))
                .map(ContainerPort::getContainerPort)
                .findFirst()
                .orElseThrow(() -> new AssertionError(c.getName() + " has no port named " + name));
    }

    static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
