package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.ragline.console.Console;
import io.ragline.dispatcher.EventDispatcher;
import io.ragline.embedding.EmbeddingWorker;
import io.ragline.ingest.IngestWorker;
import io.ragline.testkit.TestServices;
import io.ragline.training.TrainingWorker;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The ports {@code docker-compose.yml} publishes for each worker are the ones the worker serves by
 * default: the file sets no {@code RAGLINE_HTTP_PORT} or {@code RAGLINE_ADMIN_PORT}, so a default
 * changed in the code must change the file too. (devstack's ComposeFileTest checks the rest of the
 * file; it cannot see the workers' classes.)
 */
class ComposePortsTest {
    @Test
    void eachWorkerPublishesExactlyThePortsItsCodeServesByDefault() throws IOException {
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory()).enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        JsonNode services = yaml.readTree(
                        TestServices.home().resolve("docker-compose.yml").toFile())
                .required("services");
        Map<String, List<Integer>> defaults = Map.of(
                IngestWorker.NAME, List.of(IngestWorker.DEFAULT_HTTP_PORT, IngestWorker.DEFAULT_ADMIN_PORT),
                EmbeddingWorker.NAME, List.of(EmbeddingWorker.DEFAULT_HTTP_PORT, EmbeddingWorker.DEFAULT_ADMIN_PORT),
                TrainingWorker.NAME, List.of(TrainingWorker.DEFAULT_ADMIN_PORT),
                EventDispatcher.NAME, List.of(EventDispatcher.DEFAULT_ADMIN_PORT),
                Console.NAME, List.of(Console.DEFAULT_HTTP_PORT, Console.DEFAULT_ADMIN_PORT));

        defaults.forEach((worker, ports) -> {
            JsonNode service = services.required(worker);
            assertThat(service.path("environment").has("RAGLINE_HTTP_PORT"))
                    .as(worker)
                    .isFalse();
            assertThat(service.path("environment").has("RAGLINE_ADMIN_PORT"))
                    .as(worker)
                    .isFalse();
            List<Integer> published = new ArrayList<>();
            service.path("ports").forEach(p -> {
                String text = p.asText();
                published.add(Integer.parseInt(text.substring(text.lastIndexOf(':') + 1)));
            });
            assertThat(published).as(worker).containsExactlyInAnyOrderElementsOf(ports);
        });
    }
}
