package io.ragline.testkit;

import java.net.URI;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Just enough of a libpq URL for test fixtures (the product parses it in core's DatabaseUrl). */
record LibpqUrl(String jdbcUrl, String user, String password, String host, int port) {
    @Override
    public String toString() {
        return "LibpqUrl[" + jdbcUrl + ", user=" + user + "]";
    }

    /** {@code url} with {@code user} and {@code password} in place of its own credentials. */
    static String withLogin(String url, String user, String password) {
        String credentials = URLEncoder.encode(user, StandardCharsets.UTF_8) + ":"
                + URLEncoder.encode(password, StandardCharsets.UTF_8) + "@";
        Matcher m = Pattern.compile("^(postgres(?:ql)?://)(?:[^@/]*@)?").matcher(url);
        if (!m.find()) {
            throw new IllegalArgumentException("not a libpq URL: " + LibpqUrl.parse(url));
        }
        return m.group(1) + credentials + url.substring(m.end());
    }

    /** {@code url} pointed at {@code database}, its credentials and parameters kept. */
    static String inDatabase(String url, String database) {
        Matcher m = PARTS.matcher(url);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a libpq URL: " + LibpqUrl.parse(url));
        }
        return m.group(1) + m.group(2) + "/" + URLEncoder.encode(database, StandardCharsets.UTF_8) + part(m, 4);
    }

    /** {@code url} without its password: for a client tool's argv, which other users can read. */
    static String withoutPassword(String url) {
        Matcher m = PARTS.matcher(url);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a libpq URL: " + LibpqUrl.parse(url));
        }
        return m.group(1) + m.group(2).replaceFirst("^([^:@]*):[^@]*@", "$1@") + part(m, 3) + part(m, 4);
    }

    private static String part(Matcher m, int group) {
        return m.group(group) == null ? "" : m.group(group);
    }

    /** Scheme, then user info and host, then the path (the database), then the query. */
    private static final Pattern PARTS = Pattern.compile("^(postgres(?:ql)?://)([^/?]*)(/[^?]*)?(\\?.*)?$");

    static LibpqUrl parse(String url) {
        URI uri = URI.create(url.replaceFirst("^postgres(ql)?://", "postgresql://"));
        if (uri.getHost() == null || uri.getRawUserInfo() == null) {
            // java.net.URI leaves both out of an authority naming several hosts (h1:5432,h2:5432).
            throw new IllegalArgumentException("DATABASE_URL must name one server with its user for the tests"
                    + " (several hosts, as `dev up --postgres-standby` writes, or no user): run the tests through"
                    + " `./ragline test`, which starts the default services, or `./ragline dev up --kafka-brokers 1"
                    + " --no-postgres-standby` first");
        }
        String[] userInfo = uri.getRawUserInfo().split(":", 2);
        String jdbc = "jdbc:postgresql://" + uri.getHost() + ":" + (uri.getPort() < 0 ? 5432 : uri.getPort())
                + uri.getRawPath() + (uri.getRawQuery() == null ? "" : "?" + uri.getRawQuery());
        return new LibpqUrl(
                jdbc,
                URLDecoder.decode(userInfo[0], StandardCharsets.UTF_8),
                userInfo.length > 1 ? URLDecoder.decode(userInfo[1], StandardCharsets.UTF_8) : "",
                uri.getHost(),
                uri.getPort() < 0 ? 5432 : uri.getPort());
    }
}
