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

    static LibpqUrl parse(String url) {
        URI uri = URI.create(url.replaceFirst("^postgres(ql)?://", "postgresql://"));
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
