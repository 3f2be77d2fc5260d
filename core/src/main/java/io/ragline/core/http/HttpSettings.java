package io.ragline.core.http;

import io.ragline.core.config.Env;
import io.ragline.core.config.Problems;
import io.ragline.core.config.Secret;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What every HTTP port of a process shares apart from its number (the admin port excepted): the
 * address it listens on, the bearer tokens of its API endpoints, and HTTPS.
 *
 * @param host the address to listen on: {@code 0.0.0.0} every IPv4 interface, {@code ::} every
 *     interface, {@code 127.0.0.1} this machine only
 * @param tokens the API's bearer tokens; none means anonymous access
 * @param allowAnonymous an API without tokens may listen on a non-loopback address
 * @param tls HTTPS, or null for plain HTTP
 */
public record HttpSettings(String host, ApiTokens tokens, boolean allowAnonymous, HttpTls tls) {
    public static final String HOST = "RAGLINE_HTTP_HOST";
    /** Every interface, so that a process in a container can be reached. */
    public static final String DEFAULT_HOST = "0.0.0.0";
    /** {@code ragline all} and {@code demo}, run on a developer's machine. */
    public static final String LOOPBACK_HOST = "127.0.0.1";

    public static final String API_TOKENS = "RAGLINE_API_TOKENS";
    public static final String API_TOKENS_FILE = API_TOKENS + Env.FILE_SUFFIX;
    public static final String ALLOW_ANONYMOUS = "RAGLINE_HTTP_ALLOW_ANONYMOUS";
    public static final String TLS_CERT = "RAGLINE_HTTP_TLS_CERT";
    public static final String TLS_KEY = "RAGLINE_HTTP_TLS_KEY";

    /** Every rule of every field; each problem names its variable. */
    public HttpSettings {
        Problems p = new Problems();
        if (p.present(HOST, host, "an address to listen on, such as 0.0.0.0 or 127.0.0.1")) {
            p.check(
                    address(host).isPresent(),
                    Problems.quoted(HOST, host) + " is not an address of this machine"
                            + " (an IP address or a host name that resolves)");
        }
        p.present(API_TOKENS, tokens, "none is ApiTokens.none()");
        p.throwIfAny();
    }

    /** Plain HTTP on {@code host}, no token. */
    public static HttpSettings plain(String host) {
        return new HttpSettings(host, ApiTokens.none(), false, null);
    }

    /**
     * Reads every variable, problems recorded in {@code env}; for a process that serves only
     * webhooks (signed by their senders) and so needs no token.
     */
    public static HttpSettings from(Env env, String defaultHost) {
        String host = env.string(HOST, defaultHost);
        Optional<Secret> list = env.secret(API_TOKENS);
        String tokensVariable = env.raw(API_TOKENS_FILE).isPresent() ? API_TOKENS_FILE : API_TOKENS;
        ApiTokens tokens = list.isEmpty()
                ? ApiTokens.none()
                : env.build(() -> ApiTokens.parse(tokensVariable, list.get()), ApiTokens::none);
        boolean allowAnonymous = env.bool(ALLOW_ANONYMOUS, false);
        HttpTls tls = tls(env);
        return env.build(() -> new HttpSettings(host, tokens, allowAnonymous, tls), () -> plain(LOOPBACK_HOST));
    }

    /**
     * {@link #from}, for a process serving an API ({@code POST /search}): its {@link #anonymousApi}
     * problem, if any, joins the start-up report.
     */
    public static HttpSettings forApi(Env env, String defaultHost, String api) {
        HttpSettings settings = from(env, defaultHost);
        if (env.raw(API_TOKENS).isEmpty() && env.raw(API_TOKENS_FILE).isEmpty()) { // else: their problem is told
            settings.anonymousApi(api).ifPresent(env::problem);
        }
        return settings;
    }

    /**
     * What is wrong with serving {@code api} with these settings: no token, on an address other
     * machines reach, without the opt-in. The three ways out are named.
     */
    public Optional<String> anonymousApi(String api) {
        if (!tokens.isEmpty() || allowAnonymous || isLoopback()) {
            return Optional.empty();
        }
        return Optional.of(api + " would answer anyone: it listens on " + Problems.quoted(HOST, host)
                + " with no token. Set " + API_TOKENS + " (or " + API_TOKENS_FILE + ") to require"
                + " `Authorization: Bearer <token>`, or listen on this machine only (" + HOST + "=127.0.0.1), or"
                + " set " + ALLOW_ANONYMOUS + "=true to serve it to anyone who reaches the port");
    }

    /** The host is this machine only: {@code 127.0.0.1}, {@code ::1}, {@code localhost}. */
    public boolean isLoopback() {
        return address(host).map(InetAddress::isLoopbackAddress).orElse(false);
    }

    public InetAddress address() {
        return address(host).orElseThrow();
    }

    /** {@code http} or {@code https}. */
    public String scheme() {
        return tls == null ? "http" : "https";
    }

    private static Optional<InetAddress> address(String host) {
        try {
            InetAddress a = InetAddress.getByName(host);
            boolean local =
                    a.isAnyLocalAddress() || a.isLoopbackAddress() || NetworkInterface.getByInetAddress(a) != null;
            return local ? Optional.of(a) : Optional.empty();
        } catch (UnknownHostException | SocketException | SecurityException e) {
            return Optional.empty();
        }
    }

    private static HttpTls tls(Env env) {
        Optional<String> cert = env.raw(TLS_CERT);
        Optional<String> key = env.raw(TLS_KEY);
        if (cert.isEmpty() && key.isEmpty()) {
            return null;
        }
        if (cert.isEmpty() || key.isEmpty()) {
            env.problem((cert.isEmpty() ? TLS_CERT : TLS_KEY) + " is not set: HTTPS needs both " + TLS_CERT
                    + " (PEM certificate chain) and " + TLS_KEY + " (its PEM private key), or neither");
            return null;
        }
        return env.build(() -> HttpTls.load(TLS_CERT, Path.of(cert.get()), TLS_KEY, Path.of(key.get())), () -> null);
    }
}
