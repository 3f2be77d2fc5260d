package io.ragline.core.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The TLS parameters of {@code DATABASE_URL} as libpq users write them ({@code sslmode},
 * {@code sslrootcert}, {@code sslcert}, {@code sslkey}), checked before any connection so that a
 * wrong file stops start-up with a message naming the parameter and what is wrong, not with the
 * driver's words from inside a handshake.
 *
 * <p>The PostgreSQL JDBC driver (42.7.14) reads a client key ({@code sslkey}) as PKCS#12 when its
 * name ends in {@code .p12} or {@code .pfx}, as PKCS#8 PEM ({@code -----BEGIN PRIVATE KEY-----},
 * unencrypted, RSA unless {@code pemKeyAlgorithm} says otherwise) when it ends in {@code .pem} or
 * holds that header, and as PKCS#8 DER ({@code .pk8}, {@code .der}; encrypted ones with
 * {@code sslpassword}) otherwise. From a PKCS#12 file it takes the key under the alias {@code user}
 * only, opened with {@code sslpassword}. OpenSSL's older PEM forms ({@code BEGIN RSA PRIVATE KEY},
 * {@code BEGIN EC PRIVATE KEY}, {@code BEGIN ENCRYPTED PRIVATE KEY}) it cannot read: those are
 * refused here with the command that converts them.
 */
final class DatabaseTls {
    static final Set<String> MODES = Set.of("disable", "allow", "prefer", "require", "verify-ca", "verify-full");

    /** The alias of the key the driver takes from a PKCS#12 {@code sslkey}. */
    static final String ALIAS = "user";

    private static final Pattern PEM_BEGIN = Pattern.compile("-----BEGIN ([A-Z0-9 ]+)-----");

    private DatabaseTls() {}

    /** Records in {@code env} every problem of {@code url}'s TLS parameters. */
    static void check(DatabaseUrl url, Env env) {
        Map<String, String> p = url.parameters();
        String where = CoreSettings.DATABASE_URL + "='" + url + "': ";
        String mode = p.get("sslmode") == null ? null : p.get("sslmode").toLowerCase(Locale.ROOT);
        if (mode != null && !MODES.contains(mode)) {
            env.problem(where + "sslmode='" + mode + "' must be one of disable, allow, prefer, require, verify-ca,"
                    + " verify-full");
        }
        Path home = Path.of(System.getProperty("user.home"), ".postgresql");
        boolean verifies = "verify-ca".equals(mode) || "verify-full".equals(mode);
        if ("require".equals(mode) && p.containsKey("sslrootcert")) {
            // libpq treats require with a root certificate as verify-ca; the driver checks nothing.
            env.problem(where + "sslmode=require with sslrootcert: libpq would check the server's certificate"
                    + " against it, the JDBC driver does not (it checks only with verify-ca or verify-full):"
                    + " write sslmode=verify-full");
        }
        if (p.containsKey("sslrootcert")) {
            certificate(p.get("sslrootcert"), "sslrootcert", where, env);
        } else if (verifies && !Files.isReadable(home.resolve("root.crt"))) {
            env.problem(where + "sslmode=" + mode + " needs the certificate of the authority that signed the"
                    + " server's: add sslrootcert=/path/to/ca.pem (or put it in " + home.resolve("root.crt") + ")");
        }
        String key = p.get("sslkey");
        boolean pkcs12 = key != null && key.toLowerCase(Locale.ROOT).matches(".*\\.(p12|pfx)");
        if (p.containsKey("sslcert")) {
            certificate(p.get("sslcert"), "sslcert", where, env);
            if (key == null && !Files.isReadable(home.resolve("postgresql.pk8"))) {
                env.problem(where + "sslcert is set but not sslkey, the file of its private key: add"
                        + " sslkey=/path/to/client.pk8");
            }
        } else if (key != null && !pkcs12 && !Files.isReadable(home.resolve("postgresql.crt"))) {
            env.problem(where + "sslkey is set but not sslcert, the file of its certificate: add"
                    + " sslcert=/path/to/client.crt");
        }
        if (key != null && readable(key, "sslkey", where, env)) {
            if (pkcs12) {
                pkcs12(Path.of(key), p.get("sslpassword"), where, env);
            } else {
                privateKey(Path.of(key), where, env);
            }
        }
    }

    /**
     * The driver opens a PKCS#12 file with {@code sslpassword} and takes the key under the alias
     * {@code user}, and no other; its certificate chain comes from the same entry.
     */
    private static void pkcs12(Path key, String password, String where, Env env) {
        String named = "sslkey='" + key + "'";
        if (password == null) {
            env.problem(where + named + " is PKCS#12: add sslpassword, the password that opens it");
            return;
        }
        try (InputStream in = Files.newInputStream(key)) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(in, password.toCharArray());
            if (!store.isKeyEntry(ALIAS)) {
                env.problem(where + named + " holds no key under the alias '" + ALIAS + "', the only one the JDBC"
                        + " driver reads: export it again with openssl pkcs12 -export -name " + ALIAS + " ...");
            }
        } catch (IOException | GeneralSecurityException e) {
            // The driver's text would not say which; a wrong password is the usual cause.
            env.problem(where + named + " cannot be opened as PKCS#12 with sslpassword (a wrong password, or not a"
                    + " PKCS#12 file)");
        }
    }

    /** Whether {@code file} names a readable regular file; records why not. */
    private static boolean readable(String file, String parameter, String where, Env env) {
        String problem = null;
        try {
            Path path = Path.of(file);
            if (!Files.exists(path)) {
                problem = "does not exist";
            } else if (!Files.isRegularFile(path)) {
                problem = "is not a file";
            } else if (!Files.isReadable(path)) {
                problem = "cannot be read by this process (user " + System.getProperty("user.name") + ")";
            }
        } catch (InvalidPathException e) {
            problem = "is not a file name";
        }
        if (problem != null) {
            env.problem(where + parameter + "='" + file + "' " + problem);
        }
        return problem == null;
    }

    private static void certificate(String file, String parameter, String where, Env env) {
        if (!readable(file, parameter, where, env)) {
            return;
        }
        try (InputStream in = Files.newInputStream(Path.of(file))) {
            if (CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
                env.problem(where + parameter + "='" + file + "' holds no certificate");
            }
        } catch (IOException | CertificateException e) {
            env.problem(where + parameter + "='" + file + "' is not an X.509 certificate in PEM or DER ("
                    + e.getMessage() + ")");
        }
    }

    /** Owner-only permissions, as libpq demands, and a form the driver reads. */
    private static void privateKey(Path key, String where, Env env) {
        String named = "sslkey='" + key + "'";
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(key);
            boolean root = "root".equals(Files.getOwner(key).getName());
            List<PosixFilePermission> open = perms.stream()
                    .filter(x -> x.name().startsWith("OTHERS") || x.name().startsWith("GROUP"))
                    .filter(x -> !(root && x == PosixFilePermission.GROUP_READ))
                    .toList();
            if (!open.isEmpty()) {
                env.problem(where + named + " can be read by others than its owner: chmod 600 it (libpq and the"
                        + " JDBC driver refuse a private key with group or world access)");
            }
        } catch (UnsupportedOperationException | IOException e) {
            // Not a POSIX file system: the driver checks the Windows ACL itself.
        }
        String head;
        try (InputStream in = Files.newInputStream(key)) {
            head = new String(in.readNBytes(64 * 1024), StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            env.problem(where + named + " cannot be read (" + e.getClass().getSimpleName() + ")");
            return;
        }
        Matcher begin = PEM_BEGIN.matcher(head);
        if (begin.find() && !"PRIVATE KEY".equals(begin.group(1))) {
            env.problem(where + named + " is a PEM '" + begin.group(1) + "', which the JDBC driver cannot read;"
                    + " convert it to unencrypted PKCS#8 (DER) and name that file: openssl pkcs8 -topk8 -nocrypt"
                    + " -outform DER -in " + key + " -out " + key + ".pk8 && chmod 600 " + key + ".pk8");
        } else if (!begin.find(0) && key.toString().toLowerCase(Locale.ROOT).endsWith(".pem")) {
            env.problem(where + named + " ends in .pem but holds no PEM key (-----BEGIN PRIVATE KEY-----): the"
                    + " JDBC driver reads a .pem key as PEM only; name a DER key .pk8");
        }
    }
}
