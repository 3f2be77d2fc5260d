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
}
