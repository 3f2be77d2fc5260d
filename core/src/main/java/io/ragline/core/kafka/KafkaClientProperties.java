package io.ragline.core.kafka;

import io.ragline.core.config.Env;
import io.ragline.core.config.Problems;
import io.ragline.core.config.Secret;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.config.types.Password;
import org.apache.kafka.common.security.JaasContext;

/**
 * The Kafka client properties an operator gives every client Ragline builds (security, SASL, TLS,
 * tuning), from {@value #PROPERTIES_FILE} (a Java properties file, as Kafka's own tools take with
 * {@code --command-config}) and from {@code RAGLINE_KAFKA_<NAME>} variables ({@code <NAME>}
 * lower-cased, {@code _} for {@code .}: {@code RAGLINE_KAFKA_SECURITY_PROTOCOL} is {@code
 * security.protocol}); a variable wins over the file. Each property remembers where it came from,
 * so every problem names the variable to change.
 *
 * <p>The constructor refuses what Ragline sets itself ({@link KafkaClients#CONTROLLED}, with the
 * reason), names that no Kafka producer, consumer or admin client knows, values Kafka's own
 * definitions refuse, and key or trust stores that cannot be read. Secrets (every property Kafka
 * types as a password, {@code sasl.jaas.config} and {@code ssl.keystore.key} among them) are shown
 * as {@value Secret#MASK} everywhere: {@link #toString()}, problems, and {@link #mask} for the
 * messages of Kafka's exceptions that Ragline relays.
 */
public final class KafkaClientProperties {
    public static final String PROPERTIES_FILE = "RAGLINE_KAFKA_PROPERTIES_FILE";
    /** {@code RAGLINE_KAFKA_<NAME>}: the property {@code <name>} with {@code _} for {@code .}. */
    public static final String VARIABLE_PREFIX = "RAGLINE_KAFKA_";
    /**
     * {@code RAGLINE_KAFKA_*} variables that are not properties: the file's own, the host port of
     * the broker in docker-compose.yml (read by devstack), and the base of the consumers' static
     * membership ({@link KafkaSettings#GROUP_INSTANCE_ID}: each consumer adds its own suffix).
     */
    private static final Set<String> NOT_PROPERTIES =
            Set.of(PROPERTIES_FILE, "RAGLINE_KAFKA_PORT", KafkaSettings.GROUP_INSTANCE_ID);

    /** The kinds of client Ragline builds, each knowing the names Kafka's definition of it has. */
    public enum Client {
        PRODUCER(ProducerConfig.configDef()),
        CONSUMER(ConsumerConfig.configDef()),
        ADMIN(AdminClientConfig.configDef());

        private final ConfigDef definition;

        Client(ConfigDef definition) {
            this.definition = definition;
        }

        boolean knows(String name) {
            return definition.configKeys().containsKey(name);
        }

        Optional<ConfigDef.ConfigKey> key(String name) {
            return Optional.ofNullable(definition.configKeys().get(name));
        }
    }

    private static final Set<String> SECRETS = secrets();
    /** Options of a JAAS line whose values are secrets: {@code password="..."}, {@code clientSecret=...}. */
    private static final Pattern JAAS_SECRET_OPTION = Pattern.compile(
            "(?i)\\b\\w*(?:password|secret|token|key)\\w*\\s*=\\s*(\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|[^\\s;\"']+)");

    /** One property, its value and where it came from. */
    public record Property(String name, String value, Origin origin) {
        /** The value as a log or a message may show it. */
        public String shown() {
            return isSecret(name) ? Secret.MASK : value;
        }

        @Override
        public String toString() {
            return name + "=" + shown() + " (" + origin.describe(name) + ")";
        }
    }

    /** Where a property came from. */
    public enum Origin {
        VARIABLE,
        FILE;

        /** {@code RAGLINE_KAFKA_SASL_JAAS_CONFIG}, or {@code RAGLINE_KAFKA_PROPERTIES_FILE (sasl.jaas.config)}. */
        public String describe(String property) {
            return this == VARIABLE ? variableOf(property) : PROPERTIES_FILE + " (" + property + ")";
        }
    }

    private final Map<String, Property> properties;

    /**
     * The operator's properties, each checked: a problem names the property's variable or the file,
     * and never shows a secret. Every problem is thrown at once in a {@code ConfigException}.
     */
    public KafkaClientProperties(Collection<Property> given) {
        Map<String, Property> byName = new TreeMap<>();
        for (Property p : given) {
            byName.put(p.name(), p);
        }
        Problems problems = new Problems();
        for (Property p : byName.values()) {
            String where = p.origin().describe(p.name());
            String reason = KafkaClients.CONTROLLED.get(p.name());
            if (reason != null) {
                problems.check(false, where + " is refused: " + reason);
            } else if (clientsKnowing(p.name()).isEmpty()) {
                problems.check(false, where + " is not a property of Kafka's producer, consumer or admin client");
            } else {
                valueProblem(p).ifPresent(why -> problems.check(false, where + "='" + p.shown() + "' " + why));
            }
        }
        problems.throwIfAny();
        this.properties = Collections.unmodifiableMap(byName);
    }

    /** No property: what tests and tools get that configure none. */
    public static KafkaClientProperties none() {
        return new KafkaClientProperties(List.of());
    }

    /**
     * Reads {@value #PROPERTIES_FILE} and every {@code RAGLINE_KAFKA_<NAME>} variable; problems are
     * recorded in {@code env} (no property stands in), not thrown.
     */
    public static KafkaClientProperties from(Env env) {
        Map<String, Property> read = new LinkedHashMap<>();
        env.raw(PROPERTIES_FILE).ifPresent(file -> readFile(env, file, read));
        for (String variable : env.names(VARIABLE_PREFIX)) {
            if (!NOT_PROPERTIES.contains(variable)) {
                String name = variable.substring(VARIABLE_PREFIX.length())
                        .toLowerCase(Locale.ROOT)
                        .replace('_', '.');
                read.put(name, new Property(name, env.raw(variable).orElse(""), Origin.VARIABLE));
            }
        }
        return env.build(() -> new KafkaClientProperties(read.values()), KafkaClientProperties::none);
    }

    private static void readFile(Env env, String file, Map<String, Property> read) {
        Properties loaded = new Properties();
        try (Reader in = Files.newBufferedReader(Path.of(file), StandardCharsets.UTF_8)) {
            loaded.load(in);
        } catch (IOException | IllegalArgumentException e) { // a bad path, a malformed unicode escape
            env.problem(PROPERTIES_FILE + "='" + file + "' cannot be read as a properties file ("
                    + e.getClass().getSimpleName() + ")");
            return;
        }
        for (String name :
                new TreeMap<>(loaded).keySet().stream().map(String::valueOf).toList()) {
            read.put(name, new Property(name, loaded.getProperty(name).strip(), Origin.FILE));
        }
    }

    /** The variable that sets {@code property}: {@code RAGLINE_KAFKA_} and the name in capitals, {@code _} for {@code .}. */
    public static String variableOf(String property) {
        return VARIABLE_PREFIX
                + property.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /** Whether Ragline masks the value of {@code property}: Kafka types it as a password, or it holds keys. */
    public static boolean isSecret(String property) {
        return SECRETS.contains(property);
    }

    /** The property {@code name}, when the operator gave it. */
    public Optional<Property> get(String name) {
        return Optional.ofNullable(properties.get(name));
    }

    /** Every property, by name. */
    public Collection<Property> all() {
        return properties.values();
    }

    /** Adds to {@code target} the properties a client of kind {@code client} knows (others would only be warned about). */
    void addTo(Properties target, Client client) {
        for (Property p : properties.values()) {
            if (client.knows(p.name())) {
                target.put(p.name(), p.value());
            }
        }
    }

    /**
     * Where each of {@code names} that is set came from ({@code RAGLINE_KAFKA_SASL_MECHANISM,
     * RAGLINE_KAFKA_PROPERTIES_FILE (sasl.jaas.config)}); empty when none is set.
     */
    public String origins(String... names) {
        List<String> found = new ArrayList<>();
        for (String n : names) {
            get(n).ifPresent(p -> found.add(p.origin().describe(n)));
        }
        return String.join(", ", found);
    }

    /**
     * {@code text} (a message of Kafka's, say) with every secret value of these properties, and each
     * password-like option of a JAAS line, replaced by {@value Secret#MASK}.
     */
    public String mask(String text) {
        if (text == null) {
            return null;
        }
        Set<String> secrets = new HashSet<>();
        for (Property p : properties.values()) {
            if (isSecret(p.name()) && !p.value().isEmpty()) {
                secrets.add(p.value());
                Matcher m = JAAS_SECRET_OPTION.matcher(p.value());
                while (m.find()) {
                    String v = m.group(1);
                    secrets.add(v);
                    if ((v.startsWith("\"") || v.startsWith("'")) && v.length() > 2) {
                        secrets.add(v.substring(1, v.length() - 1));
                    }
                }
            }
        }
        String masked = text;
        for (String s :
                secrets.stream().sorted((a, b) -> b.length() - a.length()).toList()) {
            masked = masked.replace(s, Secret.MASK);
        }
        return masked;
    }

    @Override
    public String toString() {
        return properties.values().stream().map(Property::toString).collect(Collectors.joining(", ", "{", "}"));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof KafkaClientProperties other && other.properties.equals(properties);
    }

    @Override
    public int hashCode() {
        return properties.hashCode();
    }

    private static List<Client> clientsKnowing(String name) {
        return List.of(Client.values()).stream().filter(c -> c.knows(name)).toList();
    }

    /** Why Kafka's definition of the property refuses its value, or why its file cannot be read. */
    private static Optional<String> valueProblem(Property p) {
        for (Client c : clientsKnowing(p.name())) {
            ConfigDef.ConfigKey key = c.key(p.name()).orElseThrow();
            try {
                Object parsed = ConfigDef.parseType(p.name(), p.value(), key.type);
                if (key.validator != null) {
                    key.validator.ensureValid(p.name(), parsed);
                }
            } catch (RuntimeException e) {
                String why = String.valueOf(e.getMessage());
                return Optional.of(
                        "is refused by Kafka: " + (isSecret(p.name()) ? why.replace(p.value(), Secret.MASK) : why));
            }
        }
        return p.name().equals(SaslConfigs.SASL_JAAS_CONFIG) ? unparsableJaas(p) : unreadableFile(p);
    }

    /** What the JAAS line lacks, without Kafka's message: it quotes tokens of the line, passwords included. */
    private static Optional<String> unparsableJaas(Property p) {
        try {
            JaasContext.loadClientContext(Map.of(SaslConfigs.SASL_JAAS_CONFIG, new Password(p.value())));
            return Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.of(JAAS_UNPARSABLE);
        }
    }

    /** Why a JAAS line is refused: never Kafka's own words, which quote the line. */
    static final String JAAS_UNPARSABLE =
            "cannot be parsed as a JAAS line (expected: <LoginModule class> required" + " <option>=\"<value>\" ...;)";

    /** A key or trust store, or another file Kafka would read, that is missing or unreadable. */
    private static Optional<String> unreadableFile(Property p) {
        boolean aFile = p.name().endsWith(".location") || p.name().endsWith(".file");
        if (!aFile || p.value().isEmpty()) {
            return Optional.empty();
        }
        try {
            Path path = Path.of(p.value());
            if (!Files.exists(path)) {
                return Optional.of("names a file that does not exist");
            }
            return Files.isRegularFile(path) && Files.isReadable(path)
                    ? Optional.empty()
                    : Optional.of("names a file this process cannot read");
        } catch (InvalidPathException e) {
            return Optional.of("is not a file name");
        }
    }

    private static Set<String> secrets() {
        Set<String> names = new HashSet<>(Set.of(SaslConfigs.SASL_JAAS_CONFIG, SslConfigs.SSL_KEYSTORE_KEY_CONFIG));
        Map<String, ConfigDef.ConfigKey> keys = new HashMap<>();
        for (Client c : Client.values()) {
            keys.putAll(c.definition.configKeys());
        }
        keys.values().stream().filter(k -> k.type == ConfigDef.Type.PASSWORD).forEach(k -> names.add(k.name));
        return Set.copyOf(names);
    }
}
