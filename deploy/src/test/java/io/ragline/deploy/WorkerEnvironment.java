package io.ragline.deploy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.KeyToPath;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretVolumeSource;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.ragline.core.config.Env;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The environment a rendered container would see: its ConfigMaps and literal variables, with
 * each {@code *_FILE} pointed at a file on this machine holding what the mounted Secret key would
 * hold (the rendered Secret's value, or a stand-in when the release names an existing Secret).
 * A {@code _FILE} path that no Secret volume mounts, or a key the volume does not project, fails.
 */
final class WorkerEnvironment {
    /** Plausible contents of the keys of an existing Secret, each valid for the variable it feeds. */
    private static final Map<String, String> STAND_INS = Map.of(
            "database-password",
            "stand-in-password",
            "owner-password",
            "stand-in-owner-password",
            "api-tokens",
            "standInToken0123456789abcdef",
            "openai-api-key",
            "sk-stand-in",
            "kafka.properties",
            "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required"
                    + " username=\"ragline\" password=\"stand-in\";\n");
    /** webhook-<source>-secret: valid for the standard scheme too. */
    private static final String WEBHOOK_STAND_IN = "whsec_c3RhbmQtaW4td2ViaG9vay1zZWNyZXQ=";

    private WorkerEnvironment() {}

    /** The variables exactly as rendered (file variables name paths in the container). */
    static Map<String, String> rendered(Rendered chart, PodSpec pod, Container container) {
        Map<String, String> env = new TreeMap<>();
        for (EnvFromSource from : container.getEnvFrom()) {
            if (from.getConfigMapRef() == null || from.getPrefix() != null) {
                throw new AssertionError(container.getName() + ": envFrom is only ever a whole ConfigMap: " + from);
            }
            env.putAll(chart.named(ConfigMap.class, from.getConfigMapRef().getName())
                    .getData());
        }
        for (EnvVar v : container.getEnv()) {
            if (v.getValueFrom() != null) {
                throw new AssertionError(container.getName() + ": " + v.getName() + " is taken from " + v.getValueFrom()
                        + "; secrets are files, other values literal");
            }
            if (env.put(v.getName(), v.getValue()) != null) {
                throw new AssertionError(container.getName() + ": " + v.getName() + " is set twice");
            }
        }
        return env;
    }

    /** {@link #rendered}, each {@code *_FILE} pointing at a file in {@code dir} holding the Secret key's value. */
    static Env resolved(Rendered chart, PodSpec pod, Container container, Path dir) {
        Map<String, String> env = rendered(chart, pod, container);
        env.replaceAll(
                (name, value) -> name.endsWith(Env.FILE_SUFFIX) ? local(chart, pod, container, value, dir) : value);
        return new Env(env);
    }

    private static String local(Rendered chart, PodSpec pod, Container container, String path, Path dir) {
        for (VolumeMount mount : container.getVolumeMounts()) {
            if (!path.startsWith(mount.getMountPath() + "/")) {
                continue;
            }
            String item = path.substring(mount.getMountPath().length() + 1);
            SecretVolumeSource source = pod.getVolumes().stream()
                    .filter(v -> v.getName().equals(mount.getName()))
                    .map(Volume::getSecret)
                    .findFirst()
                    .orElseThrow(
                            () -> new AssertionError(path + " is on volume " + mount.getName() + ", not a Secret"));
            String key = source.getItems().stream()
                    .filter(i -> i.getPath().equals(item))
                    .map(KeyToPath::getKey)
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(
                            path + ": Secret " + source.getSecretName() + " is mounted without an item at " + item));
            String value = secretValue(chart, source.getSecretName(), key);
            try {
                Path file = Files.createTempFile(dir, key, ".secret");
                Files.writeString(file, value, StandardCharsets.UTF_8);
                return file.toString();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        throw new AssertionError(container.getName() + ": " + path + " is under no volume mount");
    }

    private static String secretValue(Rendered chart, String secretName, String key) {
        Optional<Secret> rendered = chart.find(Secret.class, secretName);
        if (rendered.isPresent()) {
            String encoded = rendered.get().getData().get(key);
            if (encoded == null) {
                throw new AssertionError("Secret " + secretName + " has no key " + key);
            }
            return new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
        }
        if (key.startsWith("webhook-")) {
            return WEBHOOK_STAND_IN;
        }
        return Optional.ofNullable(STAND_INS.get(key))
                .orElseThrow(() -> new AssertionError("the tests have no stand-in for Secret key " + key));
    }
}
