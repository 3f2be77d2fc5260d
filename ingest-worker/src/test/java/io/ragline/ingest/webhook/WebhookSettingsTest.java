package io.ragline.ingest.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.core.config.ConfigException;
import io.ragline.core.config.Env;
import io.ragline.core.config.Secret;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class WebhookSettingsTest {
    static final String WHSEC = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    @Test
    void defaultsApplyWhenNothingIsSet() {
        Env env = new Env(Map.of());

        WebhookSettings s = WebhookSettings.from(env, 8081);

        assertThat(env.problems()).isEmpty();
        assertThat(s.httpPort()).isEqualTo(8081);
        assertThat(s.maxBodyBytes()).isEqualTo(1024 * 1024);
        assertThat(s.sources()).isEmpty();
    }

    @Test
    void eachSourceIsReadFromItsVariablesWithCommaSeparatedSecrets() {
        Env env = new Env(Map.of(
                "RAGLINE_HTTP_PORT", "0",
                "RAGLINE_WEBHOOK_MAX_BODY_BYTES", "2048",
                "RAGLINE_WEBHOOK_GITHUB_SCHEME", "github",
                "RAGLINE_WEBHOOK_GITHUB_SECRET", "old-one, new-one",
                "RAGLINE_WEBHOOK_GITHUB_RATE_LIMIT", "50",
                "RAGLINE_WEBHOOK_MY_APP_SCHEME", "Standard",
                "RAGLINE_WEBHOOK_MY_APP_SECRET", WHSEC,
                "RAGLINE_WEBHOOK_MY_APP_PRIORITY", "7"));

        WebhookSettings s = WebhookSettings.from(env, 8081);

        assertThat(env.problems()).isEmpty();
        assertThat(s.httpPort()).isZero();
        assertThat(s.maxBodyBytes()).isEqualTo(2048);
        assertThat(s.sources()).containsOnlyKeys("github", "my_app");
        assertThat(s.sources().get("github"))
                .isEqualTo(new WebhookSettings.Source(
                        "github", Scheme.GITHUB, java.util.List.of(Secret.of("old-one"), Secret.of("new-one")), 50, 0));
        assertThat(s.sources().get("my_app").scheme()).isEqualTo(Scheme.STANDARD);
        assertThat(s.sources().get("my_app").priority()).isEqualTo(7);
    }

    @Test
    void aSourcesSecretsAreReadFromItsSecretFileAndTheFileVariableIsNoSourceOfItsOwn() throws Exception {
        java.nio.file.Path file = java.nio.file.Files.createTempFile("webhook-secret", "");
        java.nio.file.Files.writeString(file, "old-one,new-one\n");
        Env env = new Env(Map.of(
                "RAGLINE_WEBHOOK_GITHUB_SCHEME", "github",
                "RAGLINE_WEBHOOK_GITHUB_SECRET_FILE", file.toString(),
                "RAGLINE_WEBHOOK_X_SECRET_SCHEME", "github",
                "RAGLINE_WEBHOOK_X_SECRET_SECRET", "x-secret"));

        WebhookSettings s = WebhookSettings.from(env, 8081);

        assertThat(env.problems()).isEmpty();
        assertThat(s.sources()).containsOnlyKeys("github", "x_secret");
        assertThat(s.sources().get("github").secrets()).containsExactly(Secret.of("old-one"), Secret.of("new-one"));
        assertThat(s.sources().get("x_secret").secrets()).containsExactly(Secret.of("x-secret"));
        assertThat(io.ragline.testkit.ReadmeConfiguration.read().variables())
                .contains("RAGLINE_WEBHOOK_<SOURCE>_SECRET_FILE");
        java.nio.file.Files.delete(file);
    }

    @Test
    void aSecretAndItsFileBothSetIsAProblemHoldingNeither() throws Exception {
        java.nio.file.Path file = java.nio.file.Files.createTempFile("webhook-secret", "");
        java.nio.file.Files.writeString(file, "from-the-file");
        Env env = new Env(Map.of(
                "RAGLINE_WEBHOOK_GITHUB_SCHEME", "github",
                "RAGLINE_WEBHOOK_GITHUB_SECRET", "in-the-variable",
                "RAGLINE_WEBHOOK_GITHUB_SECRET_FILE", file.toString()));

        WebhookSettings.from(env, 8081);

        assertThat(env.problems())
                .anySatisfy(p -> assertThat(p)
                        .contains("RAGLINE_WEBHOOK_GITHUB_SECRET and RAGLINE_WEBHOOK_GITHUB_SECRET_FILE are both set"))
                .allSatisfy(p -> assertThat(p).doesNotContain("from-the-file", "in-the-variable"));
        java.nio.file.Files.delete(file);
    }

    @Test
    void everyProblemIsNamedAtOnceAndNoSecretAppearsInTheMessage() {
        Env env = new Env(Map.of(
                "RAGLINE_WEBHOOK_A_SCHEME", "github",
                "RAGLINE_WEBHOOK_B_SCHEME", "gitlab",
                "RAGLINE_WEBHOOK_B_SECRET", "b-secret-value",
                "RAGLINE_WEBHOOK_C_SCHEME", "standard",
                "RAGLINE_WEBHOOK_C_SECRET", WHSEC + ",plain-secret-value",
                "RAGLINE_WEBHOOK_D_SECRET", "d-secret-value",
                "RAGLINE_WEBHOOK_E_SCHEME", "stripe",
                "RAGLINE_WEBHOOK_E_SECRET", "whsec_e",
                "RAGLINE_WEBHOOK_E_RATE_LIMIT", "-1",
                "RAGLINE_WEBHOOK_MAX_BODY_BYTES", "0"));

        WebhookSettings.from(env, 8081);

        assertThatThrownBy(env::validate)
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems())
                        .hasSize(6)
                        .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_WEBHOOK_A_SECRET is not set"))
                        .anySatisfy(p -> assertThat(p).contains("RAGLINE_WEBHOOK_B_SCHEME='gitlab' must be one of"))
                        .anySatisfy(p -> assertThat(p)
                                .contains("RAGLINE_WEBHOOK_C_SECRET: secret 2 of 2 is not whsec_ followed by base64"))
                        .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_WEBHOOK_D_SCHEME is not set"))
                        .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_WEBHOOK_E_RATE_LIMIT='-1'"))
                        .anySatisfy(p -> assertThat(p).startsWith("RAGLINE_WEBHOOK_MAX_BODY_BYTES='0'")))
                .hasMessageNotContaining("secret-value")
                .hasMessageNotContaining("MfKQ9r8G");
    }

    @Test
    void theEffectiveConfigurationPrintsSecretsMasked() {
        Env env = new Env(
                Map.of("RAGLINE_WEBHOOK_GITHUB_SCHEME", "github", "RAGLINE_WEBHOOK_GITHUB_SECRET", "do-not-print-me"));

        assertThat(WebhookSettings.from(env, 8081).toString())
                .doesNotContain("do-not-print-me")
                .contains("<masked>");
    }

    @Test
    void theConstructorRefusesBadValuesNamingEachVariable() {
        assertThatThrownBy(() -> new WebhookSettings(70_000, 0, 2000, 0, Duration.ofMillis(100), Map.of()))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems())
                        .containsExactly(
                                "RAGLINE_HTTP_PORT='70000' must be between 0 and 65535",
                                "RAGLINE_WEBHOOK_MAX_BODY_BYTES='0' must be between 1 and 67108864",
                                "RAGLINE_WEBHOOK_THREADS='2000' must be between 1 and 1024",
                                "RAGLINE_WEBHOOK_DB_POOL_SIZE='0' must be between 1 and 500",
                                "RAGLINE_WEBHOOK_DB_TIMEOUT='100ms' must be at least 250ms"));
    }

    @Test
    void theSourceConstructorRefusesBadValuesNamingEachVariableAndNoSecret() {
        assertThatThrownBy(() -> new WebhookSettings.Source(
                        "billing",
                        Scheme.STANDARD,
                        List.of(Secret.of(WHSEC), Secret.of("plain-secret-value")),
                        -1,
                        40_000))
                .isInstanceOf(ConfigException.class)
                .satisfies(e -> assertThat(((ConfigException) e).problems())
                        .containsExactly(
                                "RAGLINE_WEBHOOK_BILLING_SECRET: secret 2 of 2 is not whsec_ followed by base64 (the"
                                        + " standard scheme's key format)",
                                "RAGLINE_WEBHOOK_BILLING_RATE_LIMIT='-1' must be between 0 and 1000000",
                                "RAGLINE_WEBHOOK_BILLING_PRIORITY='40000' must be between -32768 and 32767"))
                .hasMessageNotContaining("secret-value")
                .hasMessageNotContaining("MfKQ9r8G");
        assertThatThrownBy(() -> new WebhookSettings.Source("billing", null, List.of(), 0, 0))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("RAGLINE_WEBHOOK_BILLING_SCHEME is not set")
                .hasMessageContaining("RAGLINE_WEBHOOK_BILLING_SECRET is not set");
    }

    @Test
    void fromNamesEveryBadLimitAtOnceAndKeepsGoodSources() {
        Env env = new Env(Map.of(
                "RAGLINE_WEBHOOK_THREADS", "0",
                "RAGLINE_WEBHOOK_DB_POOL_SIZE", "501",
                "RAGLINE_WEBHOOK_DB_TIMEOUT", "10ms",
                "RAGLINE_WEBHOOK_GITHUB_SCHEME", "github",
                "RAGLINE_WEBHOOK_GITHUB_SECRET", "s"));

        WebhookSettings.from(env, 8081);

        assertThat(env.problems())
                .containsExactly(
                        "RAGLINE_WEBHOOK_THREADS='0' must be between 1 and 1024",
                        "RAGLINE_WEBHOOK_DB_POOL_SIZE='501' must be between 1 and 500",
                        "RAGLINE_WEBHOOK_DB_TIMEOUT='10ms' must be at least 250ms");
    }
}
