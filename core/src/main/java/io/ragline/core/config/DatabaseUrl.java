package io.ragline.core.config;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A libpq connection URI ({@code postgresql://user:pass@host:port/db?sslmode=require}), the form
 * operators already use with psql, turned into what the JDBC driver wants. Several hosts
 * ({@code host1:5432,host2:5433}) are kept for failover. The password is a {@link Secret} and
 * {@link #toString()} masks it. The {@link DatabaseTimeouts} travel with the URL, so that every
 * pool and connection opened to it gets them ({@code io.ragline.core.db.ConnectionProperties});
 * a timeout written in the URL's own parameters wins over them.
 */
public record DatabaseUrl(
        List<String> hosts,
        String database,
        String user,
        Secret password,
        Map<String, String> parameters,
        DatabaseTimeouts timeouts) {

    /** What {@code DATABASE_URL} looks like, for the message that says it is missing. */
    public static final String HINT = "postgresql://user:password@host:5432/database";

    public DatabaseUrl {
        hosts = List.copyOf(hosts);
        // In the order written, so that messages show the URL as the operator wrote it.
        parameters = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(parameters));
        timeouts = timeouts == null ? DatabaseTimeouts.DEFAULT : timeouts;
    }

    /** A URL with the {@link DatabaseTimeouts#DEFAULT default timeouts}. */
    public DatabaseUrl(
            List<String> hosts, String database, String user, Secret password, Map<String, String> parameters) {
        this(hosts, database, user, password, parameters, DatabaseTimeouts.DEFAULT);
    }

    /**
     * The database every Ragline process and command uses, read in this one place: {@code
     * DATABASE_URL} (or {@code DATABASE_URL_FILE}), its password from the URL or from {@code
     * DATABASE_PASSWORD} (or {@code DATABASE_PASSWORD_FILE}), never both, and the files its TLS
     * parameters name ({@link DatabaseTls}). With no password at all, the JDBC driver looks it up in
     * {@code PGPASSFILE} or {@code ~/.pgpass}, as libpq does. Returns null when anything is wrong,
     * each problem recorded in {@code env}, naming its variable and holding no secret.
     */
    public static DatabaseUrl from(Env env) {
        int before = env.problems().size();
        DatabaseTimeouts timeouts = DatabaseTimeouts.from(env);
        Secret raw = env.requiredSecret(CoreSettings.DATABASE_URL, HINT);
        Optional<Secret> password = env.secret(CoreSettings.DATABASE_PASSWORD);
        if (raw == null) {
            return null;
        }
        if (!isUrl(raw.reveal())) {
            // libpq's key=value form, or anything else: its words may be a password, so none is shown.
            env.problem(CoreSettings.DATABASE_URL + " is not a postgresql:// URL (its value is not shown, as it may"
                    + " hold a password): expected " + HINT);
            return null;
        }
        Parsed parsed = parse(raw.reveal());
        if (parsed.url().isEmpty()) {
            env.problem(CoreSettings.DATABASE_URL + "='" + mask(raw.reveal()) + "' " + parsed.error());
            return null;
        }
        DatabaseUrl url = parsed.url().get().withTimeouts(timeouts);
        if (password.isPresent()) {
            if (!url.password().isEmpty()) {
                env.problem(CoreSettings.DATABASE_URL + "='" + url + "' holds a password and "
                        + CoreSettings.DATABASE_PASSWORD + " (or " + CoreSettings.DATABASE_PASSWORD + Env.FILE_SUFFIX
                        + ") is set too: keep one");
                return null;
            }
            url = url.withPassword(password.get());
        }
        DatabaseTls.check(url, env);
        return env.problems().size() > before ? null : url;
    }

    /** This URL with {@code password} in place of its own (empty: the driver's {@code .pgpass} lookup). */
    public DatabaseUrl withPassword(Secret password) {
        return new DatabaseUrl(hosts, database, user, password, parameters, timeouts);
    }

    /** This URL with {@code timeouts} for the pools and connections opened to it. */
    public DatabaseUrl withTimeouts(DatabaseTimeouts timeouts) {
        return new DatabaseUrl(hosts, database, user, password, parameters, timeouts);
    }

    /** This URL without the query parameter {@code name} (say, a socket timeout that must not apply). */
    public DatabaseUrl withoutParameter(String name) {
        Map<String, String> rest = new LinkedHashMap<>(parameters);
        rest.remove(name);
        return new DatabaseUrl(hosts, database, user, password, rest, timeouts);
    }

    /**
     * Parses {@code raw}, or returns why it cannot be parsed; the reason never repeats a password,
     * and says how to write one with characters a URL reserves.
     */
    public static Parsed parse(String raw) {
        Parsed parsed;
        try {
            parsed = parseStrictly(raw);
        } catch (IllegalArgumentException e) {
            // URLDecoder's message quotes the text after the '%', which may be part of a password.
            parsed = Parsed.error("has a '%' that does not start a %XX escape (write '%' itself as %25)");
        }
        if (parsed.url().isEmpty() && reservedInUserInfo(raw)) {
            return Parsed.error(parsed.error() + " (the user name or password holds one of @ / ? # unencoded: write"
                    + " them as %40 %2F %3F %23)");
        }
        return parsed;
    }

    /** Whether the text between {@code ://} and the last {@code @} holds a character URLs reserve. */
    private static boolean reservedInUserInfo(String raw) {
        int at = raw.lastIndexOf('@');
        int start = userInfoStart(raw, at);
        return at > start && raw.substring(start, at).chars().anyMatch(c -> "@/?#".indexOf(c) >= 0);
    }

    private static Parsed parseStrictly(String raw) {
        String s = raw.strip();
        String rest;
        if (s.startsWith("postgresql://")) {
            rest = s.substring("postgresql://".length());
        } else if (s.startsWith("postgres://")) {
            rest = s.substring("postgres://".length());
        } else {
            return Parsed.error("must start with postgresql:// (for example"
                    + " postgresql://user:password@host:5432/database?sslmode=require)");
        }
        String query = "";
        int q = rest.indexOf('?');
        if (q >= 0) {
            query = rest.substring(q + 1);
            rest = rest.substring(0, q);
        }
        String user = null;
        String password = "";
        int at = rest.lastIndexOf('@');
        if (at >= 0) {
            String userInfo = rest.substring(0, at);
            rest = rest.substring(at + 1);
            int colon = userInfo.indexOf(':');
            user = decode(colon >= 0 ? userInfo.substring(0, colon) : userInfo);
            password = colon >= 0 ? decode(userInfo.substring(colon + 1)) : "";
        }
        int slash = rest.indexOf('/');
        String hostPart = slash >= 0 ? rest.substring(0, slash) : rest;
        String database = slash >= 0 ? decode(rest.substring(slash + 1)) : "";
        if (hostPart.isEmpty()) {
            return Parsed.error("has no host (postgresql://user:password@HOST:5432/database)");
        }
        List<String> hosts = new ArrayList<>();
        for (String h : hostPart.split(",")) {
            String host = h;
            String port = "5432";
            int colon = h.lastIndexOf(':');
            if (colon >= 0 && !h.endsWith("]")) {
                host = h.substring(0, colon);
                port = h.substring(colon + 1);
            }
            if (host.isEmpty()) {
                return Parsed.error("has an empty host name");
            }
            try {
                int p = Integer.parseInt(port);
                if (p < 1 || p > 65535) {
                    return Parsed.error("has port " + port + ", which is not between 1 and 65535");
                }
            } catch (NumberFormatException e) {
                return Parsed.error("has a port that is not a number");
            }
            hosts.add(host + ":" + port);
        }
        if (database.isEmpty() || database.contains("/")) {
            return Parsed.error("has no database name (postgresql://user:password@host:5432/DATABASE)");
        }
        Map<String, String> params = new LinkedHashMap<>();
        for (String pair : query.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int eq = pair.indexOf('=');
            if (eq <= 0) {
                return Parsed.error("has a malformed query parameter (expected key=value)");
            }
            params.put(decode(pair.substring(0, eq)), decode(pair.substring(eq + 1)));
        }
        String sessionError = checkSessionAttributes(params);
        if (sessionError != null) {
            return Parsed.error(sessionError);
        }
        if (params.containsKey("password")) {
            password = params.remove("password");
        }
        if (params.containsKey("user")) {
            user = params.remove("user");
        }
        if (user == null || user.isEmpty()) {
            return Parsed.error("has no user name (postgresql://USER:password@host:5432/database)");
        }
        return new Parsed(Optional.of(new DatabaseUrl(hosts, database, user, Secret.of(password), params)), null);
    }

    /** libpq's name of the driver's {@code connectTimeout} (seconds), so that a URL written for psql keeps it. */
    public static final String CONNECT_TIMEOUT = "connect_timeout";

    /** libpq's {@code target_session_attrs}: which server of several to connect to. */
    public static final String TARGET_SESSION_ATTRS = "target_session_attrs";

    /** The JDBC driver's name for it. */
    public static final String TARGET_SERVER_TYPE = "targetServerType";

    /**
     * Each value of libpq's {@code target_session_attrs} as the JDBC driver's {@code
     * targetServerType}: {@code read-write} and {@code primary} connect only to a server that
     * accepts writes (after a failover, the promoted standby), {@code read-only} and {@code
     * standby} only to a standby. The driver ignores a parameter it does not know, so without this
     * mapping a URL written for psql would silently connect to whichever host answers first.
     */
    static final Map<String, String> SESSION_ATTRS_TO_SERVER_TYPE = Map.of(
            "any", "any",
            "read-write", "primary",
            "primary", "primary",
            "read-only", "secondary",
            "standby", "secondary",
            "prefer-standby", "preferSecondary");

    /** Why {@code target_session_attrs} cannot be used, or null when it is absent or known. */
    private static String checkSessionAttributes(Map<String, String> params) {
        String attrs = params.get(TARGET_SESSION_ATTRS);
        if (attrs == null) {
            return null;
        }
        if (params.containsKey(TARGET_SERVER_TYPE)) {
            return "has both " + TARGET_SESSION_ATTRS + " and " + TARGET_SERVER_TYPE + ": keep one";
        }
        if (!SESSION_ATTRS_TO_SERVER_TYPE.containsKey(attrs)) {
            return "has " + TARGET_SESSION_ATTRS + "=" + attrs + ", expected one of "
                    + new java.util.TreeSet<>(SESSION_ATTRS_TO_SERVER_TYPE.keySet());
        }
        return null;
    }

    /**
     * Query parameters whose values are secrets, masked wherever the URL is shown. {@code sslkey},
     * {@code sslcert} and {@code sslrootcert} are file names and are shown, so that a message can
     * say which file is wrong.
     */
    static final java.util.Set<String> SECRET_PARAMETERS = java.util.Set.of("password", "sslpassword");

    /**
     * The JDBC URL, without user or password (those go in as properties); values URL-encoded,
     * {@code application_name}, {@code connect_timeout} and {@code target_session_attrs} under the
     * driver's names.
     */
    public String jdbcUrl() {
        StringBuilder sb = new StringBuilder("jdbc:postgresql://")
                .append(String.join(",", hosts))
                .append('/')
                .append(java.net.URLEncoder.encode(database, StandardCharsets.UTF_8)
                        .replace("+", "%20"));
        char sep = '?';
        for (Map.Entry<String, String> e : parameters.entrySet()) {
            String key = e.getKey();
            String value = e.getValue();
            if ("application_name".equals(key)) {
                key = "ApplicationName";
            } else if (CONNECT_TIMEOUT.equals(key)) {
                key = "connectTimeout"; // both in seconds
            } else if (TARGET_SESSION_ATTRS.equals(key)) {
                key = TARGET_SERVER_TYPE;
                value = SESSION_ATTRS_TO_SERVER_TYPE.get(value);
            }
            sb.append(sep)
                    .append(key)
                    .append('=')
                    .append(java.net.URLEncoder.encode(value, StandardCharsets.UTF_8)
                            .replace("+", "%20"));
            sep = '&';
        }
        return sb.toString();
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("postgresql://").append(user);
        if (!password.isEmpty()) {
            sb.append(':').append(Secret.MASK);
        }
        sb.append('@').append(String.join(",", hosts)).append('/').append(database);
        char sep = '?';
        for (Map.Entry<String, String> e : parameters.entrySet()) {
            String value = SECRET_PARAMETERS.contains(e.getKey().toLowerCase(java.util.Locale.ROOT))
                    ? Secret.MASK
                    : e.getValue();
            sb.append(sep).append(e.getKey()).append('=').append(value);
            sep = '&';
        }
        return sb.toString();
    }

    /**
     * A URL as text with its credentials masked, for messages about a URL that did not parse. A
     * password may hold any character (unencoded {@code @ / ? #} too), so nothing between
     * {@code ://} and the last {@code @} is shown but a user name of {@link #PLAIN_USER plain
     * characters} before the first {@code :}, and secret query parameters are masked. Without an
     * {@code @}, a "port" that is not a number may be a password whose {@code @host} was left out:
     * then nothing after {@code ://} is shown.
     */
    public static String mask(String raw) {
        String s = maskSecretParameters(raw);
        int at = s.lastIndexOf('@');
        int start = userInfoStart(s, at);
        if (at >= start) {
            String userInfo = s.substring(start, at);
            int colon = userInfo.indexOf(':');
            String user = colon >= 0 ? userInfo.substring(0, colon) : userInfo;
            String shown =
                    PLAIN_USER.matcher(user).matches() ? user + (colon >= 0 ? ":" + Secret.MASK : "") : Secret.MASK;
            return s.substring(0, start) + shown + s.substring(at);
        }
        return hasPortNotANumber(s.substring(start)) ? s.substring(0, start) + Secret.MASK : s;
    }

    /** Where the user name would start: after the scheme's {@code ://} if one comes before {@code at}. */
    private static int userInfoStart(String raw, int at) {
        int scheme = raw.indexOf("://");
        return scheme >= 0 && (at < 0 || scheme < at) ? scheme + 3 : 0;
    }

    /** A user name {@link #mask} shows: nothing a password could have spilled into. */
    static final Pattern PLAIN_USER = Pattern.compile("[A-Za-z0-9._%-]*");

    /** A {@code key=value} of a query: the key, then its value (up to the next {@code &}). */
    private static final Pattern PARAMETER = Pattern.compile("(^|[?&])([^&?=]*)=([^&]*)");

    private static final Pattern ESCAPE = Pattern.compile("%([0-9A-Fa-f]{2})");

    /** Whether {@code raw} starts as a URL {@link #parse} takes: {@code postgresql://} or {@code postgres://}. */
    private static boolean isUrl(String raw) {
        String s = raw.strip();
        return s.startsWith("postgresql://") || s.startsWith("postgres://");
    }

    /**
     * {@code raw} with the value of each {@code password} and {@code sslpassword} parameter masked,
     * its key matched after decoding ({@code pass%77ord}) and with spaces around {@code =} allowed.
     */
    private static String maskSecretParameters(String raw) {
        Matcher m = PARAMETER.matcher(raw);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String key = ESCAPE.matcher(m.group(2))
                    .replaceAll(e -> Matcher.quoteReplacement(String.valueOf((char) Integer.parseInt(e.group(1), 16))))
                    .strip()
                    .toLowerCase(Locale.ROOT);
            String value = key.equals("password") || key.equals("sslpassword") ? Secret.MASK : m.group(3);
            m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + m.group(2) + "=" + value));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** Whether a host of the list (up to the first {@code / ? #}) has a "port" that is not a number. */
    private static boolean hasPortNotANumber(String afterScheme) {
        String hosts = afterScheme.split("[/?#]", 2)[0];
        for (String h : hosts.split(",")) {
            int colon = h.lastIndexOf(':');
            if (colon >= 0
                    && !h.endsWith("]")
                    && !h.substring(colon + 1).chars().allMatch(Character::isDigit)) {
                return true;
            }
        }
        return false;
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** The result of {@link #parse}: a URL, or the reason it is not one. */
    public record Parsed(Optional<DatabaseUrl> url, String error) {
        static Parsed error(String why) {
            return new Parsed(Optional.empty(), why);
        }
    }
}
