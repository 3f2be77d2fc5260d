package io.ragline.ingest.webhook;

import io.ragline.core.config.Env;
import io.ragline.core.config.Secret;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The webhook receiver's configuration: the HTTP port, limits, the request threads and their
 * connection pool (as many connections as threads by default), and one {@link Source} per
 * {@code RAGLINE_WEBHOOK_<SOURCE>_*} group of variables. Every problem (a scheme without a secret,
 * an unknown scheme, a {@code standard} secret that is not {@code whsec_}+base64, ...) is recorded
 * in the {@link Env}, so start-up reports them all at once; no message holds a secret.
 */
public record WebhookSettings(
        int httpPort, int maxBodyBytes, int threads, int poolSize, Duration dbTimeout, Map<String, Source> sources) {

    public static final String HTTP_PORT = "RAGLINE_HTTP_PORT";
    public static final String MAX_BODY_BYTES = "RAGLINE_WEBHOOK_MAX_BODY_BYTES";
    public static final String THREADS = "RAGLINE_WEBHOOK_THREADS";
    public static final String POOL_SIZE = "RAGLINE_WEBHOOK_DB_POOL_SIZE";
    public static final String DB_TIMEOUT = "RAGLINE_WEBHOOK_DB_TIMEOUT";

    public static final int DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
    /**
     * Each request is a little CPU (signature, JSON) and one short database round trip: four
     * threads per core keep the cores busy while some wait. More only add context switches and
     * Postgres backends competing for the same cores (docs/benchmarks.md: on 2 cores, 4 or 8
     * threads answer more than twice as many webhooks per second as 32).
     */
    public static final int DEFAULT_THREADS =
            Math.max(8, 4 * Runtime.getRuntime().availableProcessors());

    public static final Duration DEFAULT_DB_TIMEOUT = Duration.ofSeconds(5);

    private static final String PREFIX = "RAGLINE_WEBHOOK_";
    private static final Pattern PER_SOURCE =
            Pattern.compile("RAGLINE_WEBHOOK_([A-Za-z0-9_]+?)_(SCHEME|SECRET|RATE_LIMIT|PRIORITY)");
    /** The {@code claude_events.source} check, minus '-' (not portable in variable names). */
    private static final Pattern SOURCE_NAME = Pattern.compile("[a-z0-9][a-z0-9_]{0,62}");

    /**
     * One sender.
     *
     * @param rateLimit requests per second accepted after verification; 0 = unlimited
     */
    public record Source(String name, Scheme scheme, List<Secret> secrets, int rateLimit, int priority) {
        public Source {
            secrets = List.copyOf(secrets);
        }
    }

    public WebhookSettings {
        sources = Collections.unmodifiableMap(new TreeMap<>(sources));
    }

    /** Reads every webhook variable; problems are recorded in {@code env}, not thrown. */
    public static WebhookSettings from(Env env, int defaultHttpPort) {
        Map<String, Source> sources = new TreeMap<>();
        for (String name : sourceNames(env)) {
            Source s = source(env, name);
            if (s != null) {
                sources.put(s.name(), s);
            }
        }
        int threads = env.integer(THREADS, DEFAULT_THREADS, 1, 1024);
        return new WebhookSettings(
                env.port(HTTP_PORT, defaultHttpPort),
                env.integer(MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES, 1, 64 * 1024 * 1024),
                threads,
                env.integer(POOL_SIZE, threads, 1, 500),
                env.duration(DB_TIMEOUT, DEFAULT_DB_TIMEOUT),
                sources);
    }

    /** The upper-case SOURCE part of every per-source variable that is set. */
    private static TreeSet<String> sourceNames(Env env) {
        TreeSet<String> names = new TreeSet<>();
        for (String key : env.all().keySet()) {
            if (!key.startsWith(PREFIX) || env.raw(key).isEmpty()) {
                continue;
            }
            Matcher m = PER_SOURCE.matcher(key);
            if (m.matches()) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    private static Source source(Env env, String upper) {
        String var = PREFIX + upper + "_";
        String name = upper.toLowerCase(Locale.ROOT);
        boolean ok = true;
        if (!SOURCE_NAME.matcher(name).matches()) {
            env.problem(var + "*: the source name '" + name + "' must be 1-63 letters, digits or '_', starting"
                    + " with a letter or digit");
            ok = false;
        }
        Scheme scheme = null;
        String rawScheme = env.raw(var + "SCHEME").orElse(null);
        if (rawScheme == null) {
            env.problem(var + "SCHEME is not set (standard, github or stripe)");
            ok = false;
        } else {
            scheme = env.choice(var + "SCHEME", null, Scheme.class);
            ok &= scheme != null;
        }
        List<Secret> secrets = new ArrayList<>();
        for (String s : env.raw(var + "SECRET").orElse("").split(",")) {
            if (!s.isBlank()) {
                secrets.add(Secret.of(s.strip()));
            }
        }
        if (secrets.isEmpty()) {
            env.problem(var + "SECRET is not set (one secret, or several separated by commas for rotation)");
            ok = false;
        }
        if (scheme == Scheme.STANDARD) {
            for (int i = 0; i < secrets.size(); i++) {
                try {
                    StandardWebhookVerifier.key(secrets.get(i));
                } catch (IllegalArgumentException e) {
                    env.problem(var + "SECRET: secret " + (i + 1) + " of " + secrets.size()
                            + " is not whsec_ followed by base64 (the standard scheme's key format)");
                    ok = false;
                }
            }
        }
        int rateLimit = env.integer(var + "RATE_LIMIT", 0, 0, 1_000_000);
        int priority = env.integer(var + "PRIORITY", 0, Short.MIN_VALUE, Short.MAX_VALUE);
        return ok ? new Source(name, scheme, secrets, rateLimit, priority) : null;
    }
}
