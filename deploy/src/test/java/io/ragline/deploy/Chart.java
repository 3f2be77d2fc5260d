package io.ragline.deploy;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The chart {@code helm/ragline}, run through Helm in-process (helm-java): {@code lint} and
 * {@code template} with the chart's values files layered as {@code helm -f a -f b} would.
 *
 * <p>helm-java's {@code template} returns the release's manifest without its hooks (the migration
 * Job and its Secret). So that they are rendered and checked too, {@code template} renders a copy
 * of the chart whose {@code "helm.sh/hook*"} annotation keys are renamed {@link #HOOK_STAND_IN}
 * (Helm then treats them as ordinary objects), and names them back in the output: their values,
 * weights and policies are Helm's rendering of the chart's own.
 */
final class Chart {
    static final Path DIR = Path.of("helm", "ragline").toAbsolutePath();
    static final String RELEASE = "ragline";
    static final String NAMESPACE = "ragline";
    /** The chart's names for its objects: {@code <release>-<chart>} collapses to the release's name. */
    static final String FULLNAME = "ragline";

    static final Path DEFAULT = DIR.resolve("values.yaml");
    static final Path STAGING = DIR.resolve("values-staging.yaml");
    static final Path PRODUCTION = DIR.resolve("values-production.yaml");
    /** Required values the chart has no default for, and sentinel secrets (test resources). */
    static final Path TEST_VALUES =
            Path.of("src", "test", "resources", "values-test.yaml").toAbsolutePath();

    static final String HOOK = "\"helm.sh/hook";
    static final String HOOK_STAND_IN = "\"test.ragline.io/hook";
    private static final Path WITH_VISIBLE_HOOKS =
            Path.of("target", "chart-with-visible-hooks", "ragline").toAbsolutePath();

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private Chart() {}

    /** {@code helm template} with {@code valuesFiles} in order, then {@code sets}. */
    static Rendered template(List<Path> valuesFiles, Map<String, Object> sets) {
        TemplateCommand template =
                new Helm(withVisibleHooks()).template().withName(RELEASE).withNamespace(NAMESPACE);
        valuesFiles.forEach(template::withValuesFile);
        sets.forEach(template::set);
        return Rendered.parse(template.call().replace(HOOK_STAND_IN, HOOK));
    }

    private static synchronized Path withVisibleHooks() {
        try {
            deleteTree(WITH_VISIBLE_HOOKS);
            copyTree(DIR, WITH_VISIBLE_HOOKS);
            try (Stream<Path> templates = Files.list(WITH_VISIBLE_HOOKS.resolve("templates"))) {
                for (Path t : templates.toList()) {
                    Files.writeString(t, Files.readString(t).replace(HOOK, HOOK_STAND_IN));
                }
            }
            return WITH_VISIBLE_HOOKS;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    static Rendered template(Path... valuesFiles) {
        return template(List.of(valuesFiles), Map.of());
    }

    /**
     * {@code helm lint --strict} as with {@code -f valuesFiles...}: helm-java's lint takes no values
     * file, so a copy of the chart gets the files merged into its values.yaml (maps merged key by
     * key, anything else replaced: Helm's own rule).
     */
    static LintResult lint(Path scratch, Path... valuesFiles) {
        try {
            Path copy = scratch.resolve("ragline");
            copyTree(DIR, copy);
            Map<String, Object> values = new LinkedHashMap<>();
            for (Path f : valuesFiles) {
                merge(values, read(f));
            }
            YAML.writeValue(copy.resolve("values.yaml").toFile(), values);
            return new Helm(copy).lint().strict().call();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> read(Path file) throws IOException {
        Map<String, Object> m = YAML.readValue(file.toFile(), Map.class);
        return m == null ? new LinkedHashMap<>() : m;
    }

    @SuppressWarnings("unchecked")
    static void merge(Map<String, Object> into, Map<String, Object> over) {
        over.forEach((k, v) -> {
            Object old = into.get(k);
            if (old instanceof Map && v instanceof Map) {
                Map<String, Object> merged = new LinkedHashMap<>((Map<String, Object>) old);
                merge(merged, (Map<String, Object>) v);
                into.put(k, merged);
            } else {
                into.put(k, v);
            }
        });
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> paths = Files.walk(from)) {
            for (Path p : paths.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        }
    }
}
