package io.ragline.core.kafka;

import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLException;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.config.SslConfigs;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.SslAuthenticationException;

/**
 * Why a Kafka client could not reach or log in to the cluster, in words, naming the variables
 * that configure what failed (the SASL login, the trust store, the client certificate) and the
 * cause Kafka or the JDK gave, with every secret masked. For start-up errors, readiness and the
 * CLI. It also says whether a retry can fix a failure ({@link #retryable}): start-up waits for
 * those and reports the others at once.
 */
public final class KafkaAccessFailure {
    private KafkaAccessFailure() {}

    private static final String[] TRUST = {
        SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG,
        SslConfigs.SSL_TRUSTSTORE_CERTIFICATES_CONFIG,
        SslConfigs.SSL_TRUSTSTORE_TYPE_CONFIG,
        SslConfigs.SSL_TRUSTSTORE_PASSWORD_CONFIG
    };
    private static final String[] KEY = {
        SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG,
        SslConfigs.SSL_KEYSTORE_KEY_CONFIG,
        SslConfigs.SSL_KEYSTORE_CERTIFICATE_CHAIN_CONFIG,
        SslConfigs.SSL_KEYSTORE_TYPE_CONFIG,
        SslConfigs.SSL_KEYSTORE_PASSWORD_CONFIG,
        SslConfigs.SSL_KEY_PASSWORD_CONFIG
    };

    /** {@code failure} (thrown by a Kafka client or one of its futures) in words; no secret. */
    public static String explain(Throwable failure, KafkaClientProperties properties) {
        List<Throwable> chain = chain(failure);
        String cause = properties.mask(causes(chain));
        if (has(chain, SaslAuthenticationException.class)) {
            return "the broker refused the SASL login ("
                    + set(properties, SaslConfigs.SASL_JAAS_CONFIG, SaslConfigs.SASL_MECHANISM) + "): " + cause;
        }
        if (chain.stream().anyMatch(KafkaAccessFailure::isJaasParseFailure)) {
            // Kafka's words quote a token of the line, which may be part of its password.
            return SaslConfigs.SASL_JAAS_CONFIG + " cannot be parsed (" + set(properties, SaslConfigs.SASL_JAAS_CONFIG)
                    + ")";
        }
        String text = cause.toLowerCase(Locale.ROOT);
        if (text.contains("failed to load ssl keystore")
                || text.contains("failed to load keystore")
                || text.contains("failed to load ssl truststore")
                || text.contains("failed to load truststore")) {
            return storeWhichCannotBeLoaded(cause, text, properties) + ": " + cause;
        }
        if (has(chain, SslAuthenticationException.class) || has(chain, SSLException.class)) {
            return tls(chain, text, properties) + ": " + cause;
        }
        return cause;
    }

    /**
     * True when {@code failure} is one Kafka itself calls retriable (a {@link RetriableException}:
     * a timeout, a broker that went away, no leader yet) or a wait that ran out, and nothing in it
     * is a refused login, a TLS failure or a JAAS line that does not parse: those need the operator.
     */
    public static boolean retryable(Throwable failure) {
        List<Throwable> chain = chain(failure);
        boolean operators = has(chain, AuthenticationException.class)
                || has(chain, SSLException.class)
                || has(chain, CertPathBuilderException.class)
                || has(chain, CertPathValidatorException.class)
                || chain.stream().anyMatch(KafkaAccessFailure::isJaasParseFailure);
        return !operators
                && (has(chain, RetriableException.class) || has(chain, java.util.concurrent.TimeoutException.class));
    }

    /**
     * Which store Kafka could not load: the one whose configured location its message names (Kafka
     * 4.3 says "Failed to load SSL keystore" for a trust store too), else the one its words name.
     */
    private static String storeWhichCannotBeLoaded(String cause, String text, KafkaClientProperties properties) {
        boolean trust = names(cause, properties, SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG);
        boolean key = names(cause, properties, SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG);
        if (trust == key) {
            trust = text.contains("truststore");
        }
        return trust
                ? "the trust store cannot be loaded (" + set(properties, TRUST) + ")"
                : "the client key store cannot be loaded (" + set(properties, KEY) + ")";
    }

    private static boolean names(String cause, KafkaClientProperties properties, String location) {
        return properties
                .get(location)
                .map(p -> !p.value().isEmpty() && cause.contains(p.value()))
                .orElse(false);
    }

    /** An error of Kafka's JAAS parser ("Value not specified for key 'x' in JAAS config", ...). */
    private static boolean isJaasParseFailure(Throwable t) {
        return t instanceof IllegalArgumentException
                && t.getMessage() != null
                && t.getMessage().contains("JAAS config");
    }

    private static String tls(List<Throwable> chain, String text, KafkaClientProperties properties) {
        if (has(chain, CertPathBuilderException.class)
                || has(chain, CertPathValidatorException.class)
                || text.contains("pkix path")) {
            String trust = properties.origins(
                    SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG, SslConfigs.SSL_TRUSTSTORE_CERTIFICATES_CONFIG);
            return "the broker's certificate is not trusted: no certificate authority in "
                    + (trust.isEmpty()
                            ? "the JVM's default trust store signed it (set "
                                    + SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG + " in "
                                    + KafkaClientProperties.PROPERTIES_FILE + " or "
                                    + KafkaClientProperties.variableOf(SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG) + ")"
                            : "the trust store (" + trust + ") signed it");
        }
        if (text.contains("subject alternative") || text.contains("no name matching")) {
            return "the broker's certificate does not name the host of KAFKA_BOOTSTRAP_SERVERS (hostname"
                    + " verification: " + set(properties, SslConfigs.SSL_ENDPOINT_IDENTIFICATION_ALGORITHM_CONFIG)
                    + ")";
        }
        if (text.contains("bad_certificate")
                || text.contains("certificate_required")
                || text.contains("unknown_ca")
                || text.contains("certificate_unknown")) {
            String key = properties.origins(
                    SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG, SslConfigs.SSL_KEYSTORE_CERTIFICATE_CHAIN_CONFIG);
            return "the broker refused this client's certificate"
                    + (key.isEmpty()
                            ? " (none is configured: set " + SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG + " in "
                                    + KafkaClientProperties.PROPERTIES_FILE + " or "
                                    + KafkaClientProperties.variableOf(SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG) + ")"
                            : " (" + key + ")");
        }
        return "the TLS handshake with the broker failed ("
                + set(
                        properties,
                        "security.protocol",
                        SslConfigs.SSL_PROTOCOL_CONFIG,
                        SslConfigs.SSL_KEYSTORE_LOCATION_CONFIG,
                        SslConfigs.SSL_TRUSTSTORE_LOCATION_CONFIG)
                + ")";
    }

    /** The origins of {@code names} that are set, or the first name's variable when none is. */
    private static String set(KafkaClientProperties properties, String... names) {
        String origins = properties.origins(names);
        return origins.isEmpty() ? KafkaClientProperties.variableOf(names[0]) + " is not set" : origins;
    }

    private static List<Throwable> chain(Throwable failure) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable t = failure; t != null && !chain.contains(t); t = t.getCause()) {
            chain.add(t);
        }
        return chain;
    }

    private static boolean has(List<Throwable> chain, Class<? extends Throwable> type) {
        return chain.stream().anyMatch(type::isInstance);
    }

    /** Each distinct message of the chain, outermost first: {@code Type: message; caused by Type: message}. */
    private static String causes(List<Throwable> chain) {
        List<String> parts = new ArrayList<>();
        for (Throwable t : chain) {
            String m = t.getMessage();
            if (m == null || parts.stream().anyMatch(p -> p.contains(m))) {
                continue;
            }
            parts.add(t.getClass().getSimpleName() + ": " + m);
        }
        return parts.isEmpty() ? chain.get(0).getClass().getSimpleName() : String.join("; caused by ", parts);
    }
}
