package io.ragline.ingest;

import static io.ragline.testkit.ReadmeConfiguration.code;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.core.config.ConfigException;
import io.ragline.core.config.Env;
import io.ragline.core.config.Problems;
import io.ragline.ingest.routing.RoutingSettings;
import io.ragline.ingest.webhook.WebhookSettings;
import io.ragline.testkit.ReadmeConfiguration;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The ingest-worker's three settings records: their constructors' rules and the README's defaults. */
class IngestSettingsTest {

    @Test
    void aContentLimitOutOfRangeIsRefusedByTheConstructorNamingItsVariable() {
        assertThatThrownBy(() -> new IngestSettings(0))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("RAGLINE_DOCUMENT_MAX_BYTES='0' must be between 1 and 67108864");
    }

    @Test
    void fromReportsABadContentLimitAndGivesTheDefault() {
        Env env = new Env(Map.of(IngestSettings.MAX_CONTENT_BYTES, "67108865"));

        IngestSettings settings = IngestSettings.from(env);

        assertThat(env.problems())
                .containsExactly("RAGLINE_DOCUMENT_MAX_BYTES='67108865' must be between 1 and 67108864");
        assertThat(settings).isEqualTo(IngestSettings.defaults());
    }

    @Test
    void aRefreshOfZeroIsRefusedByTheRoutingConstructorNamingItsVariable() {
        assertThatThrownBy(() -> new RoutingSettings(null, List.of(), Duration.ZERO))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("RAGLINE_ROUTING_RULES_REFRESH='0s' must be longer than 0");
    }

    @Test
    void theDefaultsAreTheReadmes() {
        ReadmeConfiguration readme = ReadmeConfiguration.read();

        assertThat(readme.variables())
                .containsAll(ReadmeConfiguration.variablesOf(IngestSettings.class))
                .containsAll(ReadmeConfiguration.variablesOf(RoutingSettings.class))
                .containsAll(ReadmeConfiguration.variablesOf(WebhookSettings.class))
                .contains(
                        "RAGLINE_WEBHOOK_<SOURCE>_SCHEME",
                        "RAGLINE_WEBHOOK_<SOURCE>_SECRET",
                        "RAGLINE_WEBHOOK_<SOURCE>_RATE_LIMIT",
                        "RAGLINE_WEBHOOK_<SOURCE>_PRIORITY");
        assertThat(readme.defaultOf(IngestSettings.MAX_CONTENT_BYTES))
                .isEqualTo(code(IngestSettings.DEFAULT_MAX_CONTENT_BYTES));
        assertThat(readme.defaultOf(RoutingSettings.RULES)).isEqualTo("none");
        assertThat(readme.defaultOf(RoutingSettings.REFRESH))
                .isEqualTo(code(Problems.text(RoutingSettings.DEFAULT_REFRESH)));
        assertThat(readme.defaultOf(WebhookSettings.HTTP_PORT))
                .startsWith(IngestWorker.DEFAULT_HTTP_PORT + " (ingest-worker)");
        assertThat(readme.defaultOf(WebhookSettings.MAX_BODY_BYTES))
                .isEqualTo(code(WebhookSettings.DEFAULT_MAX_BODY_BYTES));
        assertThat(WebhookSettings.DEFAULT_THREADS)
                .isEqualTo(Math.max(8, 4 * Runtime.getRuntime().availableProcessors()));
        assertThat(readme.defaultOf(WebhookSettings.THREADS)).isEqualTo("4 per core, at least 8");
        assertThat(readme.defaultOf(WebhookSettings.POOL_SIZE)).isEqualTo("= threads");
        assertThat(readme.defaultOf(WebhookSettings.DB_TIMEOUT))
                .isEqualTo(code(Problems.text(WebhookSettings.DEFAULT_DB_TIMEOUT)));
        assertThat(readme.defaultOf("RAGLINE_WEBHOOK_<SOURCE>_RATE_LIMIT"))
                .isEqualTo(code(WebhookSettings.DEFAULT_RATE_LIMIT) + " (no limit)");
        assertThat(readme.defaultOf("RAGLINE_WEBHOOK_<SOURCE>_PRIORITY"))
                .isEqualTo(code(WebhookSettings.DEFAULT_PRIORITY));
    }
}
