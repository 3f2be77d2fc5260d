package io.ragline.console.api;

import com.sun.net.httpserver.HttpExchange;
import java.util.Optional;

/** What a browser's request must be for the console to act on it (section 14 of docs/architecture.md). */
final class BrowserGuard {
    private BrowserGuard() {}

    /**
     * A browser's request from another site, refused before anything runs, so that a page the
     * operator visits cannot make the console act. With tokens a browser cannot send one
     * cross-site anyway; without tokens this is what stops it. Programs send neither header.
     */
    static Optional<ApiProblem> crossSite(HttpExchange ex) {
        ApiProblem refusal = ApiProblem.forbidden("a request from another site may not change anything");
        String site = ex.getRequestHeaders().getFirst("Sec-Fetch-Site");
        if (site != null && !site.equals("same-origin") && !site.equals("none")) {
            return Optional.of(refusal);
        }
        String origin = ex.getRequestHeaders().getFirst("Origin");
        if (origin == null) {
            return Optional.empty();
        }
        try {
            java.net.URI o = java.net.URI.create(origin);
            String authority = o.getHost() == null ? null : o.getHost() + (o.getPort() < 0 ? "" : ":" + o.getPort());
            if (authority != null
                    && authority.equalsIgnoreCase(ex.getRequestHeaders().getFirst("Host"))) {
                return Optional.empty();
            }
        } catch (IllegalArgumentException e) {
            // an Origin that is not a URI ("null" is one) is another site's
        }
        return Optional.of(refusal);
    }

    static boolean loopbackHost(String host) {
        if (host == null) {
            return false;
        }
        String name = host.startsWith("[") ? host.substring(0, host.indexOf(']') + 1) : host.replaceFirst(":\\d+$", "");
        return name.equalsIgnoreCase("localhost") || name.equals("[::1]") || name.matches("127(\\.\\d{1,3}){3}");
    }
}
