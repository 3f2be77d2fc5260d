package io.ragline.core.http;

import io.ragline.core.config.ConfigException;
import io.ragline.core.config.Secret;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The bearer tokens of {@code RAGLINE_API_TOKENS} (or the file named by {@code
 * RAGLINE_API_TOKENS_FILE}), each with a {@link Role}, kept only as SHA-256 hashes.
 *
 * <p>The format is a list of entries separated by commas (or line breaks, for a file holding one
 * per line); surrounding white space is ignored. An entry is one of
 *
 * <ul>
 *   <li>{@code TOKEN}: a bare token, with full access ({@link Role#ADMIN}), as before roles existed;
 *   <li>{@code ROLE:TOKEN}: {@code viewer}, {@code operator} or {@code admin} (any case);
 *   <li>{@code ROLE:NAME:TOKEN}: the same, with the name the audit log records as who acted
 *       (1 to 64 characters of {@code A-Z a-z 0-9 . _ @ -}); without one, the audit log names the
 *       role and the token's fingerprint (the first 8 hex digits of its SHA-256).
 * </ul>
 *
 * A token is 16 to 512 characters of RFC 6750's {@code b64token} alphabet ({@code A-Z a-z 0-9 - .
 * _ ~ + /}, then {@code =} padding), which is also what a client can send in {@code Authorization:
 * Bearer}; {@code :} is outside it, so the forms cannot be mistaken for each other.
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
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@-]{1,64}");
    private static final Pattern SEPARATORS = Pattern.compile("[,\\r\\n]");

    /** What a token may do; each role may do everything the roles before it may. */
    public enum Role {
        /** Reads: every {@code GET}. */
        VIEWER,
        /** Day-to-day actions: replay, redrive, discard, cancel, pause and resume, re-embed, publish. */
        OPERATOR,
        /** Changes to the set-up: collections, schedules, deploying models. A bare token is an admin. */
        ADMIN;

        public boolean allows(Role needed) {
            return compareTo(needed) >= 0;
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private record Entry(byte[] hash, Caller caller) {}

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
                    + " characters, each optionally ROLE:TOKEN or ROLE:NAME:TOKEN)");
        }
        List<Entry> entries = new ArrayList<>();
        List<Integer> positions = new ArrayList<>();
        for (int i = 0; i < raw.size(); i++) {
            String which = variable + ": token " + (i + 1) + " of " + raw.size();
            Optional<Entry> entry = entry(raw.get(i), which, problems);
            if (entry.isEmpty()) {
                continue;
            }
            for (int j = 0; j < entries.size(); j++) {
                if (MessageDigest.isEqual(entries.get(j).hash(), entry.get().hash())) {
                    // Which of the two roles was meant cannot be guessed: the last one would win silently.
                    problems.add(which + " is the same token as token " + positions.get(j) + "; give each token once,"
                            + " with one role");
                }
            }
            entries.add(entry.get());
            positions.add(i + 1);
        }
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return new ApiTokens(entries);
    }

    private static Optional<Entry> entry(String text, String which, List<String> problems) {
        String[] parts = text.split(":", -1);
        if (parts.length > 3) {
            problems.add(which + " has more than two ':'; the forms are TOKEN, ROLE:TOKEN and ROLE:NAME:TOKEN");
            return Optional.empty();
        }
        String token = parts[parts.length - 1].strip();
        Role role = Role.ADMIN;
        if (parts.length > 1) {
            try {
                role = Role.valueOf(parts[0].strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                // The role is not secret, but a mistyped entry could be a token: name only the position.
                problems.add(which + " has a role that is not viewer, operator or admin");
                return Optional.empty();
            }
        }
        String name = parts.length == 3 ? parts[1].strip() : null;
        if (name != null && !NAME.matcher(name).matches()) {
            problems.add(which + " has a name that is not 1 to 64 characters of A-Z a-z 0-9 . _ @ -");
            return Optional.empty();
        }
        if (!B64TOKEN.matcher(token).matches()) {
            problems.add(which + " holds a character outside A-Z a-z 0-9 - . _ ~ + / (and = at its end),"
                    + " the characters of an HTTP bearer token");
            return Optional.empty();
        }
        if (token.length() < MIN_LENGTH || token.length() > MAX_LENGTH) {
            problems.add(which + " is " + token.length() + " characters long; it must have " + MIN_LENGTH + " to "
                    + MAX_LENGTH + " (for instance `openssl rand -base64 32`)");
            return Optional.empty();
        }
        byte[] hash = sha256(token);
        String who =
                name != null ? name : role.label() + " token " + HexFormat.of().formatHex(hash, 0, 4);
        return Optional.of(new Entry(hash, new Caller(who, role)));
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    public int size() {
        return entries.size();
    }

    /** Who presents {@code presented}, compared with every token in constant time; empty when none matches. */
    public Optional<Caller> authenticate(String presented) {
        byte[] hash = sha256(presented);
        Caller granted = null;
        for (Entry e : entries) {
            if (MessageDigest.isEqual(hash, e.hash())) {
                granted = e.caller();
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
