package io.ragline.deploy;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.ragline.core.health.Readiness;
import io.ragline.core.http.AdminServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;

/** A real {@link AdminServer} (no readiness checks, so ready) on a free port: the paths it serves. */
final class AdminEndpoints implements AutoCloseable {
    private final AdminServer server;
    private final HttpClient client = HttpClient.newHttpClient();

    private AdminEndpoints(AdminServer server) {
        this.server = server;
    }

    static AdminEndpoints start() throws IOException {
        AdminServer server =
                new AdminServer(0, new Readiness(List.of()), new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
        server.start();
        return new AdminEndpoints(server);
    }

    int status(String path) {
        try {
            return client.send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                                    .build(),
                            HttpResponse.BodyHandlers.discarding())
                    .statusCode();
        } catch (IOException e) {
            throw new AssertionError("GET " + path + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    @Override
    public void close() {
        server.close();
    }
}
