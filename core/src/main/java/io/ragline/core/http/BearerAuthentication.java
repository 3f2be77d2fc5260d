package io.ragline.core.http;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpExchange;
import java.io.IOException;
import java.util.Locale;
import java.util.Optional;

/**
 * Requires {@code Authorization: Bearer <token>} (RFC 6750) with one of the {@link ApiTokens}
 * before a request reaches its handler; with no token configured every request passes. A request
 * without a bearer token is answered 401 with {@code WWW-Authenticate: Bearer realm="ragline"}, one
 * with a token that is not configured 401 with {@code error="invalid_token"} added; the body is
 * an RFC 9457 problem that also carries the message as {@code error}, as the API's other answers do. The token is never logged, nor put in an answer.
 */
final class BearerAuthentication extends Filter {
    static final String REALM = "ragline";
    /** Where the handler finds the {@link Caller} of the request ({@link ApiServer#caller}). */
    static final String CALLER = "ragline.caller";

    private static final String SCHEME = "bearer ";

    private final ApiTokens tokens;

    BearerAuthentication(ApiTokens tokens) {
        this.tokens = tokens;
    }

    @Override
    public void doFilter(HttpExchange ex, Chain chain) throws IOException {
        if (tokens.isEmpty()) {
            ex.setAttribute(CALLER, Caller.ANONYMOUS);
            chain.doFilter(ex);
            return;
        }
        String header = ex.getRequestHeaders().getFirst("Authorization");
        if (header == null || !header.toLowerCase(Locale.ROOT).startsWith(SCHEME)) {
            refuse(ex, "Bearer realm=\"" + REALM + "\"", "authentication required: send Authorization: Bearer <token>");
            return;
        }
        Optional<Caller> caller =
                tokens.authenticate(header.substring(SCHEME.length()).strip());
        if (caller.isEmpty()) {
            refuse(ex, "Bearer realm=\"" + REALM + "\", error=\"invalid_token\"", "the bearer token is not valid");
            return;
        }
        ex.setAttribute(CALLER, caller.get());
        chain.doFilter(ex);
    }

    private static void refuse(HttpExchange ex, String challenge, String message) throws IOException {
        try (ex) {
            ex.getResponseHeaders().set("WWW-Authenticate", challenge);
            JsonAnswers.problem(ex, 401, "unauthorized", "Unauthorized", message);
        }
    }

    @Override
    public String description() {
        return "bearer token authentication (" + tokens + ")";
    }
}
