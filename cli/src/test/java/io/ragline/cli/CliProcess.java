package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.testkit.JavaProcess;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** The {@code ragline} command as a real OS process, with the product's own logging config. */
final class CliProcess {
    private CliProcess() {}

    static JavaProcess start(Map<String, String> env, String... args) throws IOException {
        return JavaProcess.start(
                // The product's logging, not testkit's logback-test.xml that the test class path has.
                List.of("-Dlogback.configurationFile=" + RaglineCli.class.getResource("/logback.xml")),
                RaglineCli.class.getName(),
                env,
                args);
    }

    /** Waits until the process's {@code /health/ready} on {@code adminPort} answers 200. */
    static void awaitReady(int adminPort, Duration within) {
        HttpClient http = HttpClient.newHttpClient();
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/health/ready"))
                .build();
        await().atMost(within)
                .ignoreExceptions()
                .untilAsserted(() -> assertThat(http.send(ready, HttpResponse.BodyHandlers.ofString())
                                .statusCode())
                        .isEqualTo(200));
    }
}
