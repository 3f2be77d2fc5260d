package io.ragline.core.http;

/**
 * Who sent an API request, as {@link BearerAuthentication} found it: the name the audit log records
 * (the token's own name, {@code "<role> token <fingerprint>"}, or {@code "anonymous"}) and the
 * token's role.
 */
public record Caller(String name, ApiTokens.Role role) {
    /** Every request where no token is configured (an API on this machine only, or allowed anonymous). */
    public static final Caller ANONYMOUS = new Caller("anonymous", ApiTokens.Role.ADMIN);
}
