package io.ragline.devstack.docker;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The secret files of {@code docker-compose.yml}, one per compose secret, in {@code secrets/} beside
 * it (gitignored). {@link #ensure} writes each missing one with a random value of the form its reader
 * takes, so that neither the development services nor the whole stack need a password typed in; a
 * file that exists is never changed. The directory is mode 700 (no other user of the machine reads
 * it) and the files 644: a compose secret is a bind mount that keeps the file's owner and mode, and
 * the containers' own users (postgres, Ragline's non-root user) must read them.
 */
public final class ComposeSecrets {
    /** The directory under the repository, as {@code docker-compose.yml} names it ({@code ./secrets/}). */
    public static final String DIRECTORY = "secrets";
    /** The schema owner's password: the postgres image's {@code POSTGRES_PASSWORD_FILE}, the migrate service. */
    public static final String POSTGRES_PASSWORD = "postgres_password";
    /** The workers' login's password. */
    public static final String WORKER_PASSWORD = "worker_password";
    /** The embedding-worker's {@code RAGLINE_API_TOKENS_FILE}: one bearer token of search. */
    public static final String SEARCH_API_TOKENS = "search_api_tokens";
    /** The ingest-worker's {@code RAGLINE_WEBHOOK_GITHUB_SECRET_FILE}. */
    public static final String WEBHOOK_GITHUB_SECRET = "webhook_github_secret";

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Map<String, Function<SecureRandom, String>> VALUES = new LinkedHashMap<>();

    static {
        // Hex: safe in a URL and a shell without quoting. A token: the form `openssl rand -base64 32` gives.
        VALUES.put(POSTGRES_PASSWORD, r -> HexFormat.of().formatHex(bytes(r, 18)));
        VALUES.put(WORKER_PASSWORD, r -> HexFormat.of().formatHex(bytes(r, 18)));
        VALUES.put(SEARCH_API_TOKENS, r -> Base64.getEncoder().encodeToString(bytes(r, 32)));
        VALUES.put(WEBHOOK_GITHUB_SECRET, r -> HexFormat.of().formatHex(bytes(r, 32)));
    }

    private final Path directory;

    public ComposeSecrets(Path home) {
        this.directory = home.resolve(DIRECTORY);
    }

    /** The name of every secret file, as {@code docker-compose.yml}'s top-level {@code secrets:} has them. */
    public static Set<String> names() {
        return Collections.unmodifiableSet(VALUES.keySet());
    }

    public Path file(String name) {
        if (!VALUES.containsKey(name)) {
            throw new IllegalArgumentException("no compose secret named " + name);
        }
        return directory.resolve(name);
    }

    /**
     * Writes every missing file: with the value {@code given} holds for its name, else a random one.
     * Returns the names written.
     */
    public List<String> ensure(Map<String, String> given) {
        List<String> written = new ArrayList<>();
        try {
            if (!Files.isDirectory(directory)) {
                Files.createDirectories(directory);
                permissions(directory, "rwx------");
            }
            for (var entry : VALUES.entrySet()) {
                Path file = directory.resolve(entry.getKey());
                if (Files.exists(file)) {
                    continue;
                }
                String value =
                        given.getOrDefault(entry.getKey(), entry.getValue().apply(RANDOM));
                Path tmp = file.resolveSibling(entry.getKey() + ".tmp");
                Files.writeString(tmp, value + "\n");
                permissions(tmp, "rw-r--r--");
                try {
                    Files.move(tmp, file); // never over an existing file
                } catch (FileAlreadyExistsException raced) {
                    Files.delete(tmp); // another dev up wrote it meanwhile: keep theirs
                    continue;
                }
                written.add(entry.getKey());
            }
            return written;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the secret files in " + directory, e);
        }
    }

    /** The value in {@code name}'s file, without trailing line breaks (as Ragline's _FILE variables read it). */
    public String read(String name) {
        Path file = file(name);
        try {
            return Files.readString(file).replaceAll("[\r\n]+$", "");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the secret file " + file, e);
        }
    }

    private static byte[] bytes(SecureRandom random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private static void permissions(Path path, String mode) throws IOException {
        try {
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(mode));
        } catch (UnsupportedOperationException ignored) {
            // not a POSIX file system: the file works, without the mode
        }
    }
}
