package io.ragline.cli;

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
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private CliProcess() {}

    static JavaProcess start(Map<String, String> env, String... args) throws IOException {
        return start(List.of(), env, args);
    }

    /** With {@code jvmOptions} too, e.g. a small heap for one of many processes. */
    static JavaProcess start(List<String> jvmOptions, Map<String, String> env, String... args) throws IOException {
        List<String> options = new java.util.ArrayList<>(jvmOptions);
        // The product's logging, not testkit's logback-test.xml that the test class path has.
        options.add("-Dlogback.configurationFile=" + RaglineCli.class.getResource("/logback.xml"));
        return JavaProcess.start(options, RaglineCli.class.getName(), env, args);
    }

    /** Waits until the process's {@code /health/ready} on {@code adminPort} answers 200. */
    static void awaitReady(int adminPort, Duration within) {
        await().atMost(within).until(() -> ready(adminPort));
    }

    /** Whether the process's {@code /health/ready} on {@code adminPort} answers 200 now. */
    static boolean ready(int adminPort) {
        HttpRequest ready = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/health/ready"))
                .timeout(Duration.ofSeconds(5))
                .build();
        try {
            return HTTP.send(ready, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false; // not listening yet, or gone
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
