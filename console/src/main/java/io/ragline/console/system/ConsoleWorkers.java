package io.ragline.console.system;

import io.ragline.core.config.Env;
import io.ragline.core.config.Problems;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * The workers whose admin ports the console asks ({@code RAGLINE_CONSOLE_WORKERS}, {@code
 * name=http://host:port,...}): their readiness for {@code GET /api/v1/system} and their Prometheus
 * metrics for {@code GET /api/v1/system/rates}. Each name at most once, each URL {@code http} or
 * {@code https} with a host and nothing after the port but an optional path (no credentials, query
 * or fragment). Unset: the process's default ({@code ragline all}: its own admin port).
 */
public record ConsoleWorkers(List<Worker> workers) {
    public static final String WORKERS = "RAGLINE_CONSOLE_WORKERS";

    /** A worker's name: what the console shows. */
    public static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");

    /** One worker: its name and the base URL of its admin port ({@code /health/ready} and {@code /metrics} below it). */
    public record Worker(String name, URI adminUrl) {
        /** {@code path} below the admin URL, e.g. {@code /health/ready}. */
        public URI resolve(String path) {
            String base = adminUrl.toString();
            return URI.create((base.endsWith("/") ? base.substring(0, base.length() - 1) : base) + path);
        }
    }

    public ConsoleWorkers {
        Problems problems = new Problems();
        Set<String> names = new HashSet<>();
        for (Worker w : workers) {
            String entry = WORKERS + " entry '" + w.name() + "'";
            problems.check(
                    NAME.matcher(w.name()).matches(),
                    entry + ": a name is 1 to 63 letters, digits, '_', '.'"
                            + " or '-', starting with a letter or digit");
            problems.check(names.add(w.name()), entry + " is named twice");
            URI u = w.adminUrl();
            if (u == null) {
                problems.check(false, entry + " has no admin URL (name=http://host:port)");
                continue;
            }
            if (u.getRawUserInfo() != null) {
                problems.check(false, entry + ": an admin URL holds no credentials (the admin port has none)");
                continue;
            }
            problems.check(
                    ("http".equals(u.getScheme()) || "https".equals(u.getScheme())) && u.getHost() != null,
                    entry + ": '" + u + "' is not an http:// or https:// URL with a host");
            problems.check(
                    u.getRawQuery() == null && u.getRawFragment() == null,
                    entry + ": '" + u + "' must end at its port or path (no query, no fragment)");
        }
        problems.throwIfAny();
        workers = List.copyOf(workers);
    }

    /** None: the console then reports no worker. */
    public static ConsoleWorkers none() {
        return new ConsoleWorkers(List.of());
    }

    /** One worker named {@code name} at {@code http://127.0.0.1:<port>}: what {@code ragline all} asks by default. */
    public static ConsoleWorkers local(String name, int adminPort) {
        return new ConsoleWorkers(List.of(new Worker(name, URI.create("http://127.0.0.1:" + adminPort))));
    }

    /**
     * Reads {@code RAGLINE_CONSOLE_WORKERS}; {@code defaults} when unset. A bad value is a problem of
     * {@code env} (reported with every other at start-up) and {@code defaults} stand in meanwhile.
     */
    public static ConsoleWorkers from(Env env, ConsoleWorkers defaults) {
        return configured(env).orElse(defaults);
    }

    /**
     * Reads {@code RAGLINE_CONSOLE_WORKERS}: empty when unset (or bad: then a problem of {@code
     * env}), for a default known only once the process runs ({@code ragline all}'s own admin port,
     * {@code 0} picking one: {@code configured(env).orElseGet(() -> local("all", runtime.adminPort()))}).
     */
    public static Optional<ConsoleWorkers> configured(Env env) {
        Optional<String> text = env.raw(WORKERS);
        if (text.isEmpty()) {
            return Optional.empty();
        }
        List<Worker> parsed = new ArrayList<>();
        List<String> unreadable = new ArrayList<>();
        for (String entry : text.get().split(",", -1)) {
            String e = entry.strip();
            int eq = e.indexOf('=');
            if (eq <= 0) {
                unreadable.add(WORKERS + " entry '" + masked(e) + "' is not name=http://host:port");
                continue;
            }
            String url = e.substring(eq + 1).strip();
            URI uri;
            try {
                uri = url.isEmpty() ? null : new URI(url);
            } catch (URISyntaxException x) {
                unreadable.add(WORKERS + " entry '" + e.substring(0, eq).strip() + "': '" + masked(url)
                        + "' is not a URL (" + x.getReason() + ")");
                continue;
            }
            parsed.add(new Worker(e.substring(0, eq).strip(), uri));
        }
        // The record's problems first: Env#build drops those naming a variable already reported.
        ConsoleWorkers workers = env.build(() -> new ConsoleWorkers(parsed), () -> null);
        unreadable.forEach(env::problem);
        return unreadable.isEmpty() ? Optional.ofNullable(workers) : Optional.empty();
    }

    /** The text with anything between {@code //} and {@code @} masked, as a URL's credentials. */
    private static String masked(String text) {
        return text.replaceAll("//[^/@]*@", "//<masked>@");
    }

    /** {@code name=url, ...} as the start-up log shows it. */
    @Override
    public String toString() {
        return workers.isEmpty()
                ? "none"
                : workers.stream().map(w -> w.name() + "=" + w.adminUrl()).collect(Collectors.joining(", "));
    }
}
