package io.ragline.core.http;

import static io.ragline.testkit.ReadmeConfiguration.code;
import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.config.Env;
import io.ragline.testkit.ReadmeConfiguration;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HttpSettingsTest {
    static final String TOKEN = "a-token-of-twenty-chars";

    static Env env(String... pairs) {
        Map<String, String> values = new HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            values.put(pairs[i], pairs[i + 1]);
        }
        return new Env(values);
    }

    @Test
    void anApiWithoutATokenOnEveryInterfaceIsAStartUpProblemNamingTheThreeWaysOut() {
        Env env = env();

        HttpSettings.forApi(env, HttpSettings.DEFAULT_HOST, "POST /search");

        assertThat(env.problems())
                .singleElement()
                .asString()
                .startsWith(
                        "POST /search would answer anyone: it listens on RAGLINE_HTTP_HOST='0.0.0.0' with no token.")
                .contains("Set RAGLINE_API_TOKENS (or RAGLINE_API_TOKENS_FILE)")
                .contains("RAGLINE_HTTP_HOST=127.0.0.1")
                .contains("RAGLINE_HTTP_ALLOW_ANONYMOUS=true");
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "::1", "localhost"})
    void anApiWithoutATokenOnThisMachineOnlyStarts(String host) {
        Env env = env("RAGLINE_HTTP_HOST", host);

        HttpSettings settings = HttpSettings.forApi(env, HttpSettings.DEFAULT_HOST, "POST /search");

        assertThat(env.problems()).isEmpty();
        assertThat(settings.isLoopback()).isTrue();
    }

    @Test
    void theOptInOrATokenLetsAnApiListenEverywhere() {
        Env optIn = env("RAGLINE_HTTP_ALLOW_ANONYMOUS", "true");
        Env token = env("RAGLINE_API_TOKENS", TOKEN);

        HttpSettings.forApi(optIn, HttpSettings.DEFAULT_HOST, "POST /search");
        HttpSettings withToken = HttpSettings.forApi(token, HttpSettings.DEFAULT_HOST, "POST /search");

        assertThat(optIn.problems()).isEmpty();
        assertThat(token.problems()).isEmpty();
        assertThat(withToken.tokens().authenticate(TOKEN)).isPresent();
    }

    @Test
    void aHostThatIsNoAddressOfThisMachineIsAStartUpProblemNotAFailedBindLater() {
        Env env = env("RAGLINE_HTTP_HOST", "192.0.2.1", "RAGLINE_API_TOKENS", TOKEN);

        HttpSettings.forApi(env, HttpSettings.DEFAULT_HOST, "POST /search");

        assertThat(env.problems())
                .anyMatch(p -> p.startsWith("RAGLINE_HTTP_HOST='192.0.2.1' is not an address of this machine"));
    }

    @Test
    void webhooksAloneNeedNoToken() {
        Env env = env();

        HttpSettings settings = HttpSettings.from(env, HttpSettings.DEFAULT_HOST);

        assertThat(env.problems()).isEmpty();
        assertThat(settings.host()).isEqualTo("0.0.0.0");
        assertThat(settings.scheme()).isEqualTo("http");
    }

    @Test
    void tokensAreReadFromTheFileNamedByTheFileVariable(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tokens");
        Files.writeString(file, TOKEN + "\n");
        Env env = env("RAGLINE_API_TOKENS_FILE", file.toString());

        HttpSettings settings = HttpSettings.forApi(env, HttpSettings.DEFAULT_HOST, "POST /search");

        assertThat(env.problems()).isEmpty();
        assertThat(settings.tokens().authenticate(TOKEN)).isPresent();
    }

    @Test
    void aBadTokenInTheFileIsReportedNamingTheFileVariableNotTheToken(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("tokens");
        Files.writeString(file, "tooShortToken\n");
        Env env = env("RAGLINE_API_TOKENS_FILE", file.toString()); // on 0.0.0.0: not also "would answer anyone"

        HttpSettings.forApi(env, HttpSettings.DEFAULT_HOST, "POST /search");

        assertThat(env.problems()).singleElement().asString().startsWith("RAGLINE_API_TOKENS_FILE: token 1 of 1");
        assertThat(String.join("\n", env.problems())).doesNotContain("tooShortToken");
    }

    @Test
    void bothTheTokensAndTheirFileIsAProblem() {
        Env env = env("RAGLINE_API_TOKENS", TOKEN, "RAGLINE_API_TOKENS_FILE", "/nowhere", "RAGLINE_HTTP_HOST", "::1");

        HttpSettings.forApi(env, HttpSettings.DEFAULT_HOST, "POST /search");

        assertThat(env.problems())
                .containsExactly("RAGLINE_API_TOKENS and RAGLINE_API_TOKENS_FILE are both set: keep one");
    }

    @Test
    void aHostThatIsNoAddressIsAProblemNamingTheVariable() {
        Env env = env("RAGLINE_HTTP_HOST", "no-such-host.invalid");

        HttpSettings.from(env, HttpSettings.DEFAULT_HOST);

        assertThat(env.problems()).singleElement().asString().startsWith("RAGLINE_HTTP_HOST='no-such-host.invalid'");
    }

    @Test
    void aCertificateWithoutAKeyIsAProblem() {
        Env env = env("RAGLINE_HTTP_TLS_CERT", "/etc/cert.pem");

        HttpSettings.from(env, HttpSettings.DEFAULT_HOST);

        assertThat(env.problems()).singleElement().asString().startsWith("RAGLINE_HTTP_TLS_KEY is not set");
    }

    @Test
    void theDefaultsAreTheReadmes() {
        ReadmeConfiguration readme = ReadmeConfiguration.read();

        assertThat(readme.variables()).containsAll(ReadmeConfiguration.variablesOf(HttpSettings.class));
        assertThat(readme.defaultOf(HttpSettings.HOST))
                .startsWith(code(HttpSettings.DEFAULT_HOST))
                .contains(code(HttpSettings.LOOPBACK_HOST));
        assertThat(readme.defaultOf(HttpSettings.ALLOW_ANONYMOUS)).isEqualTo(code(false));
    }
}
