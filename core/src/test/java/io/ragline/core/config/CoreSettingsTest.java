package io.ragline.core.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class CoreSettingsTest {

    @Test
    void missingRequiredVariablesAreBothNamed() {
        Env env = new Env(Map.of());

        CoreSettings.from(env, 9081);

        assertThat(env.problems())
                .hasSize(2)
                .anySatisfy(p -> assertThat(p).startsWith("DATABASE_URL is not set"))
                .anySatisfy(p -> assertThat(p).startsWith("KAFKA_BOOTSTRAP_SERVERS is not set"));
    }

    @Test
    void badValuesAreAllReportedWithoutThePassword() {
        Env env = new Env(Map.of(
                "DATABASE_URL", "postgresql://app:hunter2@db:notaport/rag",
                "KAFKA_BOOTSTRAP_SERVERS", "kafka-without-port",
                "RAGLINE_DB_SCHEMA", "Robert'); drop table",
                "RAGLINE_ADMIN_PORT", "70000",
                "RAGLINE_LOG_FORMAT", "xml"));

        CoreSettings.from(env, 9081);

        assertThat(env.problems()).hasSize(5);
        assertThat(String.join("\n", env.problems()))
                .contains("DATABASE_URL='postgresql://app:<masked>@db:notaport/rag'")
                .contains("KAFKA_BOOTSTRAP_SERVERS")
                .contains("RAGLINE_DB_SCHEMA")
                .contains("RAGLINE_ADMIN_PORT='70000'")
                .contains("RAGLINE_LOG_FORMAT='xml' must be one of text, json")
                .doesNotContain("hunter2");
    }

    @Test
    void goodValuesGiveSettingsWhoseTextHidesThePassword() {
        Env env = new Env(Map.of(
                "DATABASE_URL", "postgresql://app:hunter2@db:5432/rag",
                "KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092",
                "RAGLINE_TOPIC_PREFIX", "staging."));

        CoreSettings settings = CoreSettings.from(env, 9081);

        assertThat(env.problems()).isEmpty();
        assertThat(settings.adminPort()).isEqualTo(9081);
        assertThat(settings.schema()).isEqualTo("rag");
        assertThat(settings.topic("documents")).isEqualTo("staging.documents");
        assertThat(settings.toString()).doesNotContain("hunter2").contains("<masked>");
    }
}
