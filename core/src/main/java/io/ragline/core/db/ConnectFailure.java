package io.ragline.core.db;

import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.DatabaseUrl;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.sql.SQLException;
import java.util.Map;
import java.util.Set;
import javax.net.ssl.SSLException;

/**
 * Why a connection could not be opened, in words an operator acts on: the JDBC driver reports a
 * TLS failure as the JDK's handshake text ("PKIX path building failed ..."), which names neither
 * the parameter to fix nor the file. The driver's own text follows in parentheses; it names host,
 * port, user and database, never the password.
 *
 * <p>It also says whether a retry can fix a failure ({@link #retryable}): start-up waits for those
 * ({@code StartupWait}) and reports the others at once.
 */
public final class ConnectFailure {
    private ConnectFailure() {}

    /**
     * The SQL states of failures that a later attempt can get past: 08001 (refused, unanswered, no
     * server of the URL's {@code targetServerType} yet, as in a failover; pgjdbc reports any I/O
     * failure while connecting so, a TLS handshake's included), 08006 (the connection broke, mid
     * handshake say), 08003 (the connection was closed: pgjdbc closes one that broke, and a step that
     * goes on using it, as Flyway reading the connection's metadata after a failed statement, gets
     * this rather than the break; pgjdbc's 08003 carries no cause, so the break itself is in the
     * WARN of the step that met it, if any; code that closed a connection itself and used it again
     * would be retried until the wait ends, then fail with this message), 57P01 and 57P03 (the server is shutting down or starting up), 57P02 (the server
     * restarts every connection after another server process crashed), 53300 (every
     * connection slot is taken, as while the other replicas restart). Refused logins (28xxx), an
     * unknown database (3D000) and the rest are not.
     */
    static final Set<String> RETRYABLE_STATES = Set.of("08001", "08006", "08003", "57P01", "57P02", "57P03", "53300");

    /**
     * True when trying again later may succeed: the server or the network to it is away for now.
     * False for what the operator must fix: a refused login, an unknown database, a TLS or
     * certificate problem (recognised by {@link #explain}, or a TLS or certificate exception the
     * JDK raised that is not a broken transport), and any state not in {@link #RETRYABLE_STATES}.
     */
    public static boolean retryable(DatabaseUrl url, SQLException e) {
        if (e.getSQLState() == null || !RETRYABLE_STATES.contains(e.getSQLState())) {
            return false;
        }
        String driver = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return cause(url, e, driver) == null && !tlsProblem(e);
    }

    /**
     * A certificate the JDK refused, or a TLS exception that is not the transport breaking under the
     * handshake (the JDK wraps a reset or an early end of stream in an SSLException whose cause is
     * the plain I/O failure: that one a retry can fix).
     */
    private static boolean tlsProblem(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof GeneralSecurityException) {
                return true;
            }
            if (t instanceof SSLException && !brokenTransport(t.getCause())) {
                return true;
            }
        }
        return false;
    }

    private static boolean brokenTransport(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof GeneralSecurityException) {
                return false;
            }
            if (t instanceof IOException && !(t instanceof SSLException)) {
                return true;
            }
        }
        return false;
    }

    public static String explain(DatabaseUrl url, SQLException e) {
        String driver = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        String why = cause(url, e, driver);
        return why == null ? driver : why + " (" + driver + ")";
    }

    private static String cause(DatabaseUrl url, SQLException e, String driver) {
        Map<String, String> p = url.parameters();
        String mode = p.getOrDefault("sslmode", "prefer");
        if (driver.contains("could not be verified by hostnameverifier")) {
            return "the server's certificate does not name the host " + hosts(url) + " (sslmode=" + mode
                    + " checks that the host of " + CoreSettings.DATABASE_URL + " is one of the certificate's"
                    + " names): connect by a name the certificate holds, or have it issued for this one";
        }
        if (untrusted(e)) {
            return "the server's certificate is not signed by the authority in "
                    + (p.containsKey("sslrootcert")
                            ? "sslrootcert='" + p.get("sslrootcert") + "'"
                            : "~/.postgresql/root.crt (sslrootcert is not set)")
                    + ": give the certificate of the authority that signed the server's";
        }
        if (driver.contains("requires a valid client certificate")) {
            return "the server wants a client certificate: add sslcert and sslkey";
        }
        if (has(e, "unknown_ca") || has(e, "bad_certificate") || has(e, "certificate_unknown")) {
            return "the server does not accept the client certificate in sslcert" + named(p, "sslcert")
                    + ": it must be signed by an authority of the server's ssl_ca_file";
        }
        if (driver.contains("certificate authentication failed")) {
            return "the client certificate" + named(p, "sslcert") + " is not for user '" + url.user()
                    + "' (its common name must be the user name, or a pg_ident map must allow it)";
        }
        if (driver.contains("no password was provided")) {
            return "no password was given: put it in " + CoreSettings.DATABASE_URL + ", "
                    + CoreSettings.DATABASE_PASSWORD + " (or _FILE), or a line of PGPASSFILE (~/.pgpass) for this"
                    + " host, port, database and user";
        }
        if (driver.contains("no encryption") && "disable".equals(mode)) {
            return "the server accepts only TLS connections: set sslmode=verify-full (with sslrootcert)";
        }
        return null;
    }

    private static String hosts(DatabaseUrl url) {
        return String.join(
                ",",
                url.hosts().stream()
                        .map(h -> "'" + h.substring(0, h.lastIndexOf(':')) + "'")
                        .toList());
    }

    private static String named(Map<String, String> p, String parameter) {
        return p.containsKey(parameter) ? " ('" + p.get(parameter) + "')" : "";
    }

    private static boolean untrusted(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CertPathBuilderException || t instanceof CertPathValidatorException) {
                return true;
            }
        }
        return has(e, "PKIX path");
    }

    private static boolean has(Throwable e, String text) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains(text)) {
                return true;
            }
        }
        return false;
    }
}
