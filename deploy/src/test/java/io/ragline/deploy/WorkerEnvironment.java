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
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The environment a rendered container would see: its ConfigMaps and literal variables, with
 * every file the container gets from a Secret volume (a {@code *_FILE} variable's, a certificate
 * authority named in {@code DATABASE_URL} or a Kafka property) written on this machine holding what
 * the mounted key would hold (the rendered Secret's value, or a stand-in when the release names a
 * Secret it does not make), and the paths in the variables pointed at those files. A
 * {@code _FILE} path that no Secret volume mounts, or a key the volume does not project, fails.
 */
final class WorkerEnvironment {
    /** Plausible contents of the keys of a Secret the chart does not make, each valid for its variable. */
    private static final Map<String, String> STAND_INS = Map.ofEntries(
            Map.entry("database-password", "stand-in-password"),
            Map.entry("owner-password", "stand-in-owner-password"),
            // CloudNativePG's basic-auth Secret of the owner
            Map.entry("password", "stand-in-owner-password"),
            Map.entry("api-tokens", "standInToken0123456789abcdef"),
            Map.entry("openai-api-key", "sk-stand-in"),
            Map.entry(
                    "kafka.properties",
                    "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required"
                            + " username=\"ragline\" password=\"stand-in\";\n"));
    /** webhook-<source>-secret: valid for the standard scheme too. */
    private static final String WEBHOOK_STAND_IN = "whsec_c3RhbmQtaW4td2ViaG9vay1zZWNyZXQ=";
    /** ca.crt of CloudNativePG's and Strimzi's CA secrets: a real certificate, as the workers check it. */
    private static final String CA_KEY = "ca.crt";
    /** A self-signed certificate (keytool, valid for 100 years; its key was not kept). */
    private static final Path STAND_IN_CA = Path.of("src", "test", "resources", "stand-in-ca.crt");

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

    /** {@link #rendered}, with the Secret volumes' files on this machine, in {@code dir}. */
    static Env resolved(Rendered chart, PodSpec pod, Container container, Path dir) {
        Map<String, String> files = secretFiles(chart, pod, container, dir);
        Map<String, String> env = rendered(chart, pod, container);
        env.replaceAll((name, value) -> {
            if (name.endsWith(Env.FILE_SUFFIX)) {
                return Optional.ofNullable(files.get(value))
                        .orElseThrow(() -> new AssertionError(container.getName() + ": " + name + "='" + value
                                + "' is no key of a mounted Secret volume"));
            }
            String resolved = value;
            for (Map.Entry<String, String> f : files.entrySet()) {
                resolved = resolved.replace(f.getKey(), f.getValue());
            }
            return resolved;
        });
        return new Env(env);
    }

    /** Each file of a Secret volume by its path in the container (longest first), written in {@code dir}. */
    private static Map<String, String> secretFiles(Rendered chart, PodSpec pod, Container container, Path dir) {
        Map<String, String> files = new TreeMap<>(
                Comparator.comparingInt(String::length).reversed().thenComparing(Comparator.naturalOrder()));
        for (VolumeMount mount : container.getVolumeMounts()) {
            SecretVolumeSource source = pod.getVolumes().stream()
                    .filter(v -> v.getName().equals(mount.getName()))
                    .findFirst()
                    .map(Volume::getSecret)
                    .orElse(null);
            if (source == null) {
                continue; // /tmp
            }
            for (KeyToPath item : source.getItems()) {
                String value = secretValue(chart, source.getSecretName(), item.getKey());
                files.put(mount.getMountPath() + "/" + item.getPath(), write(dir, item.getKey(), value));
            }
        }
        return new LinkedHashMap<>(files);
    }

    private static String write(Path dir, String key, String value) {
        try {
            Path file = Files.createTempFile(dir, key, ".secret");
            Files.writeString(file, value, StandardCharsets.UTF_8);
            return file.toString();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
        if (key.equals(CA_KEY)) {
            return read(STAND_IN_CA);
        }
        return Optional.ofNullable(STAND_INS.get(key))
                .orElseThrow(() -> new AssertionError("the tests have no stand-in for Secret key " + key));
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
