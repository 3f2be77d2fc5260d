package io.ragline.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DatabaseUrlTest {

    @Test
    void libpqUrlBecomesJdbcUrlWithCredentialsApart() {
        DatabaseUrl url = DatabaseUrl.parse("postgresql://app:p%40ss@db.internal:6432/rag?sslmode=require")
                .url()
                .orElseThrow();

        assertThat(url.jdbcUrl()).isEqualTo("jdbc:postgresql://db.internal:6432/rag?sslmode=require");
        assertThat(url.user()).isEqualTo("app");
        assertThat(url.password().reveal()).isEqualTo("p@ss");
    }

    @Test
    void toStringMasksThePassword() {
        DatabaseUrl url =
                DatabaseUrl.parse("postgres://app:hunter2@localhost/rag").url().orElseThrow();

        assertThat(url.toString())
                .isEqualTo("postgresql://app:<masked>@localhost:5432/rag")
                .doesNotContain("hunter2");
    }

    @Test
    void secretQueryParametersAreMaskedAndValuesAreEncoded() {
        DatabaseUrl url = DatabaseUrl.parse(
                        "postgresql://app:x@h/rag?sslmode=verify-full&sslpassword=k3y-secret&options=-c%20search_path%3Dx")
                .url()
                .orElseThrow();

        assertThat(url.toString()).contains("sslpassword=<masked>").doesNotContain("k3y-secret");
        assertThat(url.jdbcUrl()).contains("options=-c%20search_path%3Dx");
    }

    @Test
    void severalHostsAreKeptForFailover() {
        DatabaseUrl url = DatabaseUrl.parse("postgresql://app:x@h1:5432,h2:5433/rag?targetServerType=primary")
                .url()
                .orElseThrow();

        assertThat(url.jdbcUrl()).isEqualTo("jdbc:postgresql://h1:5432,h2:5433/rag?targetServerType=primary");
    }

    @Test
    void libpqsTargetSessionAttrsBecomesTheDriversTargetServerType() {
        DatabaseUrl url = DatabaseUrl.parse(
                        "postgresql://app:x@h1:5432,h2:5433/rag?target_session_attrs=read-write&sslmode=disable")
                .url()
                .orElseThrow();

        assertThat(url.jdbcUrl())
                .isEqualTo("jdbc:postgresql://h1:5432,h2:5433/rag?targetServerType=primary&sslmode=disable");
        assertThat(url.toString()).contains("target_session_attrs=read-write");
        assertThat(jdbcOf("target_session_attrs=primary")).endsWith("?targetServerType=primary");
        assertThat(jdbcOf("target_session_attrs=read-only")).endsWith("?targetServerType=secondary");
        assertThat(jdbcOf("target_session_attrs=standby")).endsWith("?targetServerType=secondary");
        assertThat(jdbcOf("target_session_attrs=prefer-standby")).endsWith("?targetServerType=preferSecondary");
        assertThat(jdbcOf("target_session_attrs=any")).endsWith("?targetServerType=any");
    }

    @Test
    void anUnknownTargetSessionAttrsOrOneBesideTargetServerTypeIsRefused() {
        assertThat(DatabaseUrl.parse("postgresql://app:x@h1,h2/rag?target_session_attrs=writable")
                        .error())
                .isEqualTo("has target_session_attrs=writable, expected one of [any, prefer-standby, primary,"
                        + " read-only, read-write, standby]");
        assertThat(DatabaseUrl.parse(
                                "postgresql://app:x@h1,h2/rag?target_session_attrs=read-write&targetServerType=primary")
                        .error())
                .isEqualTo("has both target_session_attrs and targetServerType: keep one");
    }

    private static String jdbcOf(String query) {
        return DatabaseUrl.parse("postgresql://app:x@h1,h2/rag?" + query)
                .url()
                .orElseThrow()
                .jdbcUrl();
    }

    @Test
    void passwordGivenAsQueryParameterIsNotPassedOnInTheUrl() {
        DatabaseUrl url = DatabaseUrl.parse("postgresql://app@h/rag?password=hunter2&sslmode=disable")
                .url()
                .orElseThrow();

        assertThat(url.password().reveal()).isEqualTo("hunter2");
        assertThat(url.jdbcUrl()).doesNotContain("hunter2");
    }

    @Test
    void eachMalformedUrlIsRejectedWithAReasonThatHoldsNoPassword() {
        String[] bad = {
            "mysql://app:hunter2@h/rag",
            "postgresql://app:hunter2@/rag",
            "postgresql://app:hunter2@h:99999/rag",
            "postgresql://app:hunter2@h:abc/rag",
            "postgresql://app:hunter2@h:5432",
            "postgresql://:hunter2@h:5432/rag",
            "postgresql://app:hunter2@h/rag?sslmode",
        };
        for (String raw : bad) {
            DatabaseUrl.Parsed parsed = DatabaseUrl.parse(raw);
            assertThat(parsed.url()).as(raw).isEmpty();
            assertThat(parsed.error()).as(raw).isNotBlank().doesNotContain("hunter2");
        }
    }

    @Test
    void maskHidesPasswordsInUrlsThatDoNotParse() {
        assertThat(DatabaseUrl.mask("postgresql://app:hunter2@h:99999/rag"))
                .isEqualTo("postgresql://app:<masked>@h:99999/rag");
        assertThat(DatabaseUrl.mask("postgresql://h/rag?user=a&password=hunter2&x=1"))
                .isEqualTo("postgresql://h/rag?user=a&password=<masked>&x=1");
    }

    @Test
    void maskShowsNothingOfAPasswordHoldingCharactersThatURLsReserve() {
        String[][] cases = {
            {"postgresql://app:pa?ss@db:5432/rag", "postgresql://app:<masked>@db:5432/rag"},
            {"postgresql://app:pa/ss@db:5432/rag", "postgresql://app:<masked>@db:5432/rag"},
            {"postgresql://app:p@ss@db:5432/rag", "postgresql://app:<masked>@db:5432/rag"},
            {"postgresql://app:pa#ss@db:5432/rag", "postgresql://app:<masked>@db:5432/rag"},
            {
                "postgresql://app:a?b/c@d#e@db:notaport/rag?sslmode=require",
                "postgresql://app:<masked>@db:notaport/rag?sslmode=require"
            },
            {"postgres://app:pa:ss@db/rag", "postgres://app:<masked>@db/rag"},
            // No user name, or one the password spilled into: the whole user part is masked.
            {"postgresql://:pa?ss@db/rag", "postgresql://:<masked>@db/rag"},
            {"postgresql://a/b:pa?ss@db/rag", "postgresql://<masked>@db/rag"},
            {"postgresql://pa?ss@db/rag", "postgresql://<masked>@db/rag"},
            // No scheme: still nothing before the last '@'.
            {"app:pa?ss@db:5432/rag", "app:<masked>@db:5432/rag"},
            // No '@' at all: a "port" that is not a number may be the password.
            {"postgresql://app:pa?ss/rag", "postgresql://<masked>"},
            {"postgresql://app:hunter2/rag", "postgresql://<masked>"},
            {"app:pa?ss@h/rag?next=http://x", "app:<masked>@h/rag?next=http://x"},
            {"postgresql://h1:5432,h2:5433/rag", "postgresql://h1:5432,h2:5433/rag"},
            {"postgresql://app@h/rag?sslpassword=k?e@y#1&x=1", "postgresql://app@h/rag?sslpassword=<masked>&x=1"},
            // A percent-encoded key, and spaces around '=', still name the password.
            {"postgresql://h/rag?user=a&pass%77ord=hunter2&x=1", "postgresql://h/rag?user=a&pass%77ord=<masked>&x=1"},
            {"postgresql://h/rag?PASSWORD = hunter2", "postgresql://h/rag?PASSWORD =<masked>"},
        };
        for (String[] c : cases) {
            assertThat(DatabaseUrl.mask(c[0])).as(c[0]).isEqualTo(c[1]);
        }
    }

    @Test
    void aPasswordWithReservedCharactersIsNeitherEchoedNorLeftUnexplained() {
        for (String password : new String[] {"pa?ss", "pa?s/s", "p@s?s", "pa?ss#1"}) {
            String raw = "postgresql://app:" + password + "@db:5432/rag";

            DatabaseUrl.Parsed parsed = DatabaseUrl.parse(raw);
            Env env = new Env(java.util.Map.of("DATABASE_URL", raw, "KAFKA_BOOTSTRAP_SERVERS", "k:9092"));
            CoreSettings.from(env, 9081);

            assertThat(parsed.url()).as(raw).isEmpty();
            assertThat(env.problems()).as(raw).hasSize(1);
            assertThat(env.problems().get(0))
                    .as(raw)
                    .startsWith("DATABASE_URL='postgresql://app:<masked>@db:5432/rag' ")
                    .contains("%40 %2F %3F %23")
                    .doesNotContain(password);
        }
    }

    @Test
    void aPasswordWithAStrayPercentSignIsNotQuotedByTheDecoder() {
        DatabaseUrl.Parsed parsed = DatabaseUrl.parse("postgresql://app:50%zz-hunter2@db:5432/rag");

        assertThat(parsed.url()).isEmpty();
        assertThat(parsed.error()).contains("%25").doesNotContain("zz").doesNotContain("hunter2");
    }

    @Test
    void passwordsWithReservedCharactersThatDoParseAreNeverShown() {
        for (String password : new String[] {"pa/ss", "p@ss", "pa#ss", "p@/#s"}) {
            DatabaseUrl url = DatabaseUrl.parse("postgresql://app:" + password + "@db:5432/rag")
                    .url()
                    .orElseThrow();

            assertThat(url.password().reveal()).isEqualTo(password);
            assertThat(url.toString()).isEqualTo("postgresql://app:<masked>@db:5432/rag");
            assertThat(url.jdbcUrl()).doesNotContain(password);
        }
    }
}
