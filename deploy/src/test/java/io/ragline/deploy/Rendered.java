package io.ragline.deploy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The objects of one {@code helm template}, each parsed into its fabric8 model class and checked
 * to hold no field the model does not know ({@link StrictModel}); the custom resources the chart
 * may render (KEDA's ScaledObject, the Prometheus Operator's ServiceMonitor) stay JSON trees, held
 * to their fields by hand. Duplicate keys in a document are an error.
 */
record Rendered(String text, List<HasMetadata> objects, List<JsonNode> customResources) {

    /** The kinds the chart renders, by {@code apiVersion/kind}: anything else fails the parse. */
    private static final Map<String, Class<? extends HasMetadata>> KINDS = Map.of(
            "v1/ConfigMap", ConfigMap.class,
            "v1/Secret", Secret.class,
            "v1/Service", Service.class,
            "apps/v1/Deployment", Deployment.class,
            "batch/v1/Job", Job.class,
            "policy/v1/PodDisruptionBudget", PodDisruptionBudget.class,
            "autoscaling/v2/HorizontalPodAutoscaler", HorizontalPodAutoscaler.class,
            "networking.k8s.io/v1/NetworkPolicy", NetworkPolicy.class);

    static final String SCALED_OBJECT = "keda.sh/v1alpha1/ScaledObject";
    static final String SERVICE_MONITOR = "monitoring.coreos.com/v1/ServiceMonitor";

    private static final ObjectMapper YAML =
            new ObjectMapper(new YAMLFactory().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION));
    private static final ObjectMapper JSON = new ObjectMapper();

    static Rendered parse(String text) {
        List<HasMetadata> objects = new ArrayList<>();
        List<JsonNode> custom = new ArrayList<>();
        try (MappingIterator<JsonNode> docs = YAML.readerFor(JsonNode.class).readValues(text)) {
            while (docs.hasNext()) {
                JsonNode doc = docs.next();
                if (doc == null || doc.isNull() || doc.isMissingNode() || doc.isEmpty()) {
                    continue; // a template whose condition was false
                }
                String type =
                        doc.path("apiVersion").asText() + "/" + doc.path("kind").asText();
                if (type.equals(SCALED_OBJECT) || type.equals(SERVICE_MONITOR)) {
                    custom.add(doc);
                    continue;
                }
                Class<? extends HasMetadata> kind = KINDS.get(type);
                if (kind == null) {
                    throw new AssertionError("the chart renders " + type + ", which the tests do not know");
                }
                HasMetadata object = JSON.treeToValue(doc, kind);
                StrictModel.requireKnownFields(
                        object, type + " " + object.getMetadata().getName());
                objects.add(object);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("the rendered chart is not valid YAML", e);
        }
        return new Rendered(text, List.copyOf(objects), List.copyOf(custom));
    }

    <T extends HasMetadata> List<T> all(Class<T> kind) {
        return objects.stream().filter(kind::isInstance).map(kind::cast).toList();
    }

    <T extends HasMetadata> T named(Class<T> kind, String name) {
        return find(kind, name)
                .orElseThrow(() -> new AssertionError("no " + kind.getSimpleName() + " named " + name + " rendered"));
    }

    <T extends HasMetadata> Optional<T> find(Class<T> kind, String name) {
        return all(kind).stream()
                .filter(o -> o.getMetadata().getName().equals(name))
                .findFirst();
    }

    List<JsonNode> custom(String type) {
        return customResources.stream()
                .filter(d ->
                        (d.path("apiVersion").asText() + "/" + d.path("kind").asText()).equals(type))
                .toList();
    }

    /** The worker's Deployment, named {@code <fullname>-<process>}. */
    Deployment deployment(String process) {
        return named(Deployment.class, Chart.FULLNAME + "-" + process);
    }
}
