package io.ragline.peer;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The peer's Postgres: {@code DATABASE_URL} as Ragline takes it
 * ({@code postgresql://user:password@host:port/database?params}) or a JDBC URL
 * ({@code jdbc:postgresql://host:port/database?user=..&password=..}), and an optional schema its
 * tables go into (the vector type is found in {@code public}).
 */
final class PeerDatabase {
    /** Table and schema names the peer accepts: plain lower-case identifiers, never quoted. */
    static final Pattern IDENTIFIER = Pattern.compile("[a-z_][a-z0-9_]{0,62}");

    private PeerDatabase() {}

    /**
     * @param schema the tables' schema, or null for the database's search path
     * @param settings {@code name=value} session settings, e.g. {@code hnsw.ef_search=400}
     */
    static DataSource dataSource(String databaseUrl, String schema, String... settings) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        String url = databaseUrl.trim();
        if (url.startsWith("jdbc:postgresql:")) {
            ds.setURL(url);
        } else if (url.startsWith("postgresql://") || url.startsWith("postgres://")) {
            URI uri = uri(url);
            String query = uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery();
            ds.setURL("jdbc:postgresql://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                    + uri.getRawPath() + query);
            String userInfo = uri.getRawUserInfo();
            if (userInfo != null) {
                int colon = userInfo.indexOf(':');
                ds.setUser(decode(colon < 0 ? userInfo : userInfo.substring(0, colon)));
                if (colon >= 0) {
                    ds.setPassword(decode(userInfo.substring(colon + 1)));
                }
            }
        } else {
            throw new PeerUsageException("the database URL must start with postgresql:// or jdbc:postgresql:");
        }
        StringBuilder options = new StringBuilder();
        if (schema != null) {
            options.append("-c search_path=").append(schema).append(",public");
        }
        for (String setting : settings) {
            options.append(options.isEmpty() ? "" : " ").append("-c ").append(setting);
        }
        if (!options.isEmpty()) {
            ds.setOptions(options.toString());
        }
        return ds;
    }

    static void execute(DataSource ds, String sql) throws SQLException {
        try (Connection c = ds.getConnection();
                Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    static String identifier(String option, String value) {
        if (!IDENTIFIER.matcher(value).matches()) {
            throw new PeerUsageException(
                    option + " must be a lower-case identifier (letters, digits, '_'), not '" + value + "'");
        }
        return value;
    }

    private static URI uri(String url) {
        try {
            return new URI(url);
        } catch (URISyntaxException e) {
            // the message would quote the URL, password and all
            throw new PeerUsageException("the database URL is not a valid URI (at index " + e.getIndex() + ")");
        }
    }

    private static String decode(String part) {
        return URLDecoder.decode(part.replace("+", "%2B"), StandardCharsets.UTF_8);
    }
}
