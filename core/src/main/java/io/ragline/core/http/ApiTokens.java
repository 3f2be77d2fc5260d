package io.ragline.core.http;

import io.ragline.core.config.ConfigException;
import io.ragline.core.config.Secret;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The bearer tokens of {@code RAGLINE_API_TOKENS} (or the file named by {@code
 * RAGLINE_API_TOKENS_FILE}), kept only as SHA-256 hashes.
 *
 * <p>The format is a list of entries separated by commas (or line breaks, for a file holding one
 * per line); surrounding white space is ignored. An entry is a bare token, which has {@link
 * Access#FULL full access}. A token is 16 to 512 characters of RFC 6750's {@code b64token}
 * alphabet ({@code A-Z a-z 0-9 - . _ ~ + /}, then {@code =} padding), which is also what a client
 * can send in {@code Authorization: Bearer}. The form {@code ROLE:TOKEN} is reserved for roles:
 * {@code :} is outside that alphabet, so no token written today can be read as a role later; until
 * roles exist such an entry is refused.
 *
 * <p>{@link #authenticate} hashes the presented token and compares it with every stored hash by
 * {@link MessageDigest#isEqual} (constant time for equal lengths, and every hash is 32 bytes)
 * without stopping at a match, so neither the time taken nor anything stored reveals a token.
 */
public final class ApiTokens {
    /** Shorter tokens are refused at start-up: 16 random characters are about 96 bits. */
    public static final int MIN_LENGTH = 16;

    public static final int MAX_LENGTH = 512;

    private static final Pattern B64TOKEN = Pattern.compile("[A-Za-z0-9\\-._~+/]+=*");
    private static final Pattern SEPARATORS = Pattern.compile("[,\\r\\n]");

    /** What a token may do. Only full access exists; roles would add values here. */
    public enum Access {
        FULL
    }

    private record Entry(byte[] hash, Access access) {}

    private final List<Entry> entries;

    private ApiTokens(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    /** No token: every request is anonymous (allowed only where {@link HttpSettings} allows it). */
    public static ApiTokens none() {
        return new ApiTokens(List.of());
    }

    /**
     * Parses {@code list}; every problem names {@code variable} and the entry's position, never its
     * text, and all are thrown at once.
     */
    public static ApiTokens parse(String variable, Secret list) {
        List<String> raw = new ArrayList<>();
        for (String s : SEPARATORS.split(list.reveal())) {
            if (!s.isBlank()) {
                raw.add(s.strip());
            }
        }
        List<String> problems = new ArrayList<>();
        if (raw.isEmpty()) {
            problems.add(variable + " holds no token (a comma-separated list of tokens of at least " + MIN_LENGTH
                    + " characters)");
        }
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < raw.size(); i++) {
            String token = raw.get(i);
            String which = variable + ": token " + (i + 1) + " of " + raw.size();
            if (token.indexOf(':') >= 0) {
                problems.add(which + " has the form ROLE:TOKEN, which is reserved for roles and not supported yet;"
                        + " a bare token has full access");
            } else if (!B64TOKEN.matcher(token).matches()) {
                problems.add(which + " holds a character outside A-Z a-z 0-9 - . _ ~ + / (and = at its end),"
                        + " the characters of an HTTP bearer token");
            } else if (token.length() < MIN_LENGTH || token.length() > MAX_LENGTH) {
                problems.add(which + " is " + token.length() + " characters long; it must have " + MIN_LENGTH + " to "
                        + MAX_LENGTH + " (for instance `openssl rand -base64 32`)");
            } else {
                entries.add(new Entry(sha256(token), Access.FULL));
            }
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new ApiTokens(entries);
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    public int size() {
        return entries.size();
    }

    /** The access of {@code presented}, compared with every token in constant time; empty when none matches. */
    public Optional<Access> authenticate(String presented) {
        byte[] hash = sha256(presented);
        Access granted = null;
        for (Entry e : entries) {
            if (MessageDigest.isEqual(hash, e.hash())) {
                granted = e.access();
            }
        }
        return Optional.ofNullable(granted);
    }

    /** The count only: the hashes stay inside. */
    @Override
    public String toString() {
        return entries.size() + (entries.size() == 1 ? " token" : " tokens");
    }

    private static byte[] sha256(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
