package io.ragline.core.db;

import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.DatabaseUrl;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.sql.SQLException;
import java.util.Map;

/**
 * Why a connection could not be opened, in words an operator acts on: the JDBC driver reports a
 * TLS failure as the JDK's handshake text ("PKIX path building failed ..."), which names neither
 * the parameter to fix nor the file. The driver's own text follows in parentheses; it names host,
 * port, user and database, never the password.
 */
public final class ConnectFailure {
    private ConnectFailure() {}

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
