package io.ragline.ingest.webhook;

import io.ragline.core.config.DatabaseTimeouts;
import io.ragline.core.config.Env;
import io.ragline.core.config.Problems;
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

    /** The default is each process's own (8081 ingest-worker, 8080 {@code ragline all}), given to {@link #from}. */
    public static final String HTTP_PORT = "RAGLINE_HTTP_PORT";

    public static final String MAX_BODY_BYTES = "RAGLINE_WEBHOOK_MAX_BODY_BYTES";
    public static final int DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
    public static final String THREADS = "RAGLINE_WEBHOOK_THREADS";
    /**
     * Each request is a little CPU (signature, JSON) and one short database round trip: four
     * threads per core keep the cores busy while some wait. More only add context switches and
     * Postgres backends competing for the same cores (docs/benchmarks.md: on 2 cores, 4 or 8
     * threads answer more than twice as many webhooks per second as 32).
     */
    public static final int DEFAULT_THREADS =
            Math.max(8, 4 * Runtime.getRuntime().availableProcessors());
    /** The default is {@link #THREADS}: one connection per request thread. */
    public static final String POOL_SIZE = "RAGLINE_WEBHOOK_DB_POOL_SIZE";

    public static final String DB_TIMEOUT = "RAGLINE_WEBHOOK_DB_TIMEOUT";
    public static final Duration DEFAULT_DB_TIMEOUT = Duration.ofSeconds(5);
    /** The shortest connection timeout HikariCP accepts (it would put 30 s in place of less). */
    public static final Duration MIN_DB_TIMEOUT = DatabaseTimeouts.MIN_CONNECT_TIMEOUT;
    /** Per source: requests per second, 0 for no limit. */
    public static final int DEFAULT_RATE_LIMIT = 0;
    /** Per source: {@code claude_events.priority}. */
    public static final int DEFAULT_PRIORITY = 0;

    private static final String PREFIX = "RAGLINE_WEBHOOK_";
    /**
     * The suffixes of a source's variables. {@code SECRET_FILE} is listed on its own, so that
     * {@code RAGLINE_WEBHOOK_GITHUB_SECRET_FILE} is source {@code github}'s secret file, not a
     * variable of a source named {@code github_secret} (FILE is no suffix of its own).
     */
    private static final Pattern PER_SOURCE =
            Pattern.compile("RAGLINE_WEBHOOK_([A-Za-z0-9_]+?)_(SCHEME|SECRET|SECRET_FILE|RATE_LIMIT|PRIORITY)");
    /** The {@code claude_events.source} check, minus '-' (not portable in variable names). */
    private static final Pattern SOURCE_NAME = Pattern.compile("[a-z0-9][a-z0-9_]{0,62}");

    /**
     * One sender.
     *
     * @param rateLimit requests per second accepted after verification; 0 = unlimited
     */
    public record Source(String name, Scheme scheme, List<Secret> secrets, int rateLimit, int priority) {
        /** Every rule of every field; each problem names its variable and never holds a secret. */
        public Source {
            Problems p = new Problems();
            String var = PREFIX + (name == null ? "<SOURCE>" : name.toUpperCase(Locale.ROOT)) + "_";
            p.check(
                    name != null && SOURCE_NAME.matcher(name).matches(),
                    var + "*: the source name '" + name + "' must be 1-63 letters, digits or '_', starting"
                            + " with a letter or digit");
            p.present(var + "SCHEME", scheme, "standard, github or stripe");
            p.check(
                    secrets != null && !secrets.isEmpty(),
                    var + "SECRET is not set (one secret, or several separated by commas for rotation; or " + var
                            + "SECRET_FILE naming a file that holds them)");
            if (scheme == Scheme.STANDARD && secrets != null) {
                for (int i = 0; i < secrets.size(); i++) {
                    p.check(
                            isStandardKey(secrets.get(i)),
                            var + "SECRET: secret " + (i + 1) + " of " + secrets.size()
                                    + " is not whsec_ followed by base64 (the standard scheme's key format)");
                }
            }
            p.between(var + "RATE_LIMIT", rateLimit, 0, 1_000_000);
            p.between(var + "PRIORITY", priority, Short.MIN_VALUE, Short.MAX_VALUE);
            p.throwIfAny();
            secrets = List.copyOf(secrets);
        }

        private static boolean isStandardKey(Secret secret) {
            try {
                StandardWebhookVerifier.key(secret);
                return true;
            } catch (IllegalArgumentException e) {
                return false;
            }
        }
    }

    /** Every rule of every field; each problem names its variable. */
    public WebhookSettings {
        Problems p = new Problems();
        p.between(HTTP_PORT, httpPort, 0, 65535);
        p.between(MAX_BODY_BYTES, maxBodyBytes, 1, 64 * 1024 * 1024);
        p.between(THREADS, threads, 1, 1024);
        p.between(POOL_SIZE, poolSize, 1, 500);
        p.atLeast(DB_TIMEOUT, dbTimeout, MIN_DB_TIMEOUT);
        p.positive(DB_TIMEOUT, dbTimeout);
        p.check(sources != null, "the webhook sources (" + PREFIX + "<SOURCE>_*) are missing (none is an empty map)");
        p.throwIfAny();
        sources = Collections.unmodifiableMap(new TreeMap<>(sources));
    }

    /**
     * Reads every webhook variable; problems are recorded in {@code env} (the defaults stand in, a
     * bad source is left out), not thrown.
     */
    public static WebhookSettings from(Env env, int defaultHttpPort) {
        Map<String, Source> sources = new TreeMap<>();
        for (String name : sourceNames(env)) {
            Source s = source(env, name);
            if (s != null) {
                sources.put(s.name(), s);
            }
        }
        int httpPort = env.integer(HTTP_PORT, defaultHttpPort);
        int maxBodyBytes = env.integer(MAX_BODY_BYTES, DEFAULT_MAX_BODY_BYTES);
        int threads = env.integer(THREADS, DEFAULT_THREADS);
        int poolSize = env.integer(POOL_SIZE, threads);
        Duration dbTimeout = env.duration(DB_TIMEOUT, DEFAULT_DB_TIMEOUT);
        return env.build(
                () -> new WebhookSettings(httpPort, maxBodyBytes, threads, poolSize, dbTimeout, sources),
                () -> defaults(defaultHttpPort));
    }

    /** Every field at its default, no source. */
    public static WebhookSettings defaults(int httpPort) {
        return new WebhookSettings(
                httpPort, DEFAULT_MAX_BODY_BYTES, DEFAULT_THREADS, DEFAULT_THREADS, DEFAULT_DB_TIMEOUT, Map.of());
    }

    /** The upper-case SOURCE part of every per-source variable that is set. */
    private static TreeSet<String> sourceNames(Env env) {
        TreeSet<String> names = new TreeSet<>();
        for (String key : env.names(PREFIX)) { // each source's variables are read by source(), not here
            Matcher m = PER_SOURCE.matcher(key);
            if (m.matches() && !env.all().get(key).isBlank()) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    /** The source, or null when a variable of it is bad (recorded in {@code env}). */
    private static Source source(Env env, String upper) {
        int before = env.problems().size();
        String var = PREFIX + upper + "_";
        Scheme scheme = env.choice(var + "SCHEME", null, Scheme.class);
        List<Secret> secrets = new ArrayList<>();
        for (String s :
                env.secret(var + "SECRET").map(Secret::reveal).orElse("").split(",")) {
            if (!s.isBlank()) {
                secrets.add(Secret.of(s.strip()));
            }
        }
        int rateLimit = env.integer(var + "RATE_LIMIT", DEFAULT_RATE_LIMIT);
        int priority = env.integer(var + "PRIORITY", DEFAULT_PRIORITY);
        Source source = env.build(
                () -> new Source(upper.toLowerCase(Locale.ROOT), scheme, secrets, rateLimit, priority), () -> null);
        return env.problems().size() > before ? null : source;
    }
}
