package io.ragline.ingest.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.testkit.PostgresSchema;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The receiver over real HTTP, on the real runtime, against a real Postgres schema. */
class WebhookReceiverIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final int MAX_BODY = 4096;
    static WorkerRuntime runtime;
    static WebhookServer server;
    static WebhookClient client;

    @BeforeAll
    static void start() {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_HTTP_PORT", "0");
        env.put("RAGLINE_WEBHOOK_MAX_BODY_BYTES", Integer.toString(MAX_BODY));
        env.put("RAGLINE_WEBHOOK_STANDARD_SCHEME", "standard");
        env.put("RAGLINE_WEBHOOK_STANDARD_SECRET", "whsec_b2xkIHNlY3JldA==," + WebhookClient.STANDARD_SECRET);
        env.put("RAGLINE_WEBHOOK_STANDARD_PRIORITY", "5");
        env.put("RAGLINE_WEBHOOK_GITHUB_SCHEME", "github");
        env.put("RAGLINE_WEBHOOK_GITHUB_SECRET", WebhookClient.GITHUB_SECRET);
        env.put("RAGLINE_WEBHOOK_STRIPE_SCHEME", "stripe");
        env.put("RAGLINE_WEBHOOK_STRIPE_SECRET", WebhookClient.STRIPE_SECRET);
        env.put("RAGLINE_WEBHOOK_LIMITED_SCHEME", "standard");
        env.put("RAGLINE_WEBHOOK_LIMITED_SECRET", WebhookClient.STANDARD_SECRET);
        env.put("RAGLINE_WEBHOOK_LIMITED_RATE_LIMIT", "2");
        Env e = new Env(env);
        runtime = WorkerRuntime.start("webhook-it", 0, e);
        server = runtime.manage(WebhookServer.start(runtime, WebhookSettings.from(e, 8081)));
        client = new WebhookClient(server.port());
    }

    @AfterAll
    static void stop() {
        if (runtime != null) {
            runtime.close();
        }
    }

    @Test
    void aSignedStandardWebhookIsStoredWithItsOutboxRowBeforeTheAnswer() throws Exception {
        HttpResponse<String> r = client.send(
                client.standard("standard", "msg_stored_1", "{\"type\":\"invoice.paid\",\"data\":{\"n\":1}}"));

        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body()).isEqualTo("{\"status\":\"stored\"}");
        assertThat(db.queryValue("select source || ' ' || event_type || ' ' || priority || ' ' || status || ' '"
                        + " || (payload->'data'->>'n') from claude_events where delivery_id = 'msg_stored_1'"))
                .isEqualTo("standard invoice.paid 5 received 1");
        String headers =
                (String) db.queryValue("select headers::text from claude_events where delivery_id = 'msg_stored_1'");
        assertThat(headers)
                .contains("\"webhook-id\": \"msg_stored_1\"")
                .contains("\"user-agent\": \"ragline-test\"")
                .contains("\"content-type\": \"application/json\"")
                .doesNotContain("signature");
        assertThat(db.queryValue("select topic || ' ' || key || ' ' || priority || ' ' || (payload->>'schema_version')"
                        + " || ' ' || (payload->>'event_type') || ' ' || (payload->'payload'->'data'->>'n')"
                        + " from outbox where key = 'standard/msg_stored_1'"))
                .isEqualTo("claude_events standard/msg_stored_1 5 1 invoice.paid 1");
    }

    @Test
    void gitHubAndStripeDeliveriesAreStoredWithTheirOwnIdsAndEventTypes() throws Exception {
        HttpResponse<String> gh = client.send(client.github("72d3162e-cc78-11e3", "push", "{\"ref\":\"main\"}"));
        HttpResponse<String> st = client.send(client.stripe("{\"id\":\"evt_1abc\",\"type\":\"charge.succeeded\"}"));

        assertThat(gh.statusCode()).isEqualTo(200);
        assertThat(st.statusCode()).isEqualTo(200);
        assertThat(db.queryValue("select event_type || ' ' || (headers->>'x-github-event') from claude_events"
                        + " where source = 'github' and delivery_id = '72d3162e-cc78-11e3'"))
                .isEqualTo("push push");
        assertThat(db.queryValue(
                        "select event_type from claude_events where source = 'stripe' and delivery_id = 'evt_1abc'"))
                .isEqualTo("charge.succeeded");
    }

    @Test
    void aSignedGitHubBodySentAgainUnderANewDeliveryIdIsADuplicateAndNotRoutedAgain() throws Exception {
        String body = "{\"action\":\"opened\",\"issue\":{\"number\":17,\"title\":\"replay me\"}}";
        HttpResponse<String> original = client.send(client.github("gh-original", "issues", body));
        // Delivery id and event type are not signed: anyone holding the signed body can change them.
        HttpResponse<String> replayed = client.send(client.github("gh-forged-id", "issues", body));
        HttpResponse<String> retyped = client.send(client.github("gh-forged-id-2", "push", body));
        HttpResponse<String> other = client.send(client.github(
                "gh-other", "issues", "{\"action\":\"opened\",\"issue\":{\"number\":18,\"title\":\"new\"}}"));

        assertThat(original.body()).isEqualTo("{\"status\":\"stored\"}");
        assertThat(replayed.statusCode()).isEqualTo(200);
        assertThat(replayed.body()).isEqualTo("{\"status\":\"duplicate\"}");
        assertThat(retyped.body()).isEqualTo("{\"status\":\"duplicate\"}");
        assertThat(other.body()).isEqualTo("{\"status\":\"stored\"}");
        assertThat(db.queryValue("select string_agg(delivery_id, ',' order by id) from claude_events"
                        + " where source = 'github' and payload->'issue'->>'number' = '17'"))
                .isEqualTo("gh-original");
        assertThat(db.queryValue("select count(*) from outbox where key like 'github/gh-forged-id%'"))
                .isEqualTo(0L);
        assertThat(runtime.registry().scrape())
                .containsPattern("ragline_webhook_duplicates_total\\{[^}]*source=\"github\"[^}]*} 2.0");
    }

    @Test
    void aStandardBodySentAgainUnderANewSignedIdIsANewDelivery() throws Exception {
        String body = "{\"type\":\"invoice.paid\",\"data\":{\"n\":42}}";

        assertThat(client.send(client.standard("standard", "msg_same_body_1", body))
                        .body())
                .isEqualTo("{\"status\":\"stored\"}");
        // The id and timestamp are signed: this is the sender's own new delivery, not a replay.
        assertThat(client.send(client.standard("standard", "msg_same_body_2", body))
                        .body())
                .isEqualTo("{\"status\":\"stored\"}");
    }

    @Test
    void eachBadRequestGetsItsStatusAndAnErrorBodyAndLeavesNoRow() throws Exception {
        String ok = "{\"type\":\"t\"}";
        Map<String, HttpRequest> cases = new LinkedHashMap<>();
        cases.put("404 unknown source", client.standard("nobody", "bad-1", ok));
        cases.put("405 GET", client.request("standard").GET().build());
        cases.put(
                "401 wrong secret",
                client.request("standard")
                        .header("webhook-id", "bad-2")
                        .header(
                                "webhook-timestamp",
                                Long.toString(java.time.Instant.now().getEpochSecond()))
                        .header("webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
                        .POST(HttpRequest.BodyPublishers.ofString(ok))
                        .build());
        cases.put(
                "401 no signature",
                client.request("standard")
                        .POST(HttpRequest.BodyPublishers.ofString(ok))
                        .build());
        cases.put("401 stale timestamp", client.standard("standard", "bad-3", ok, Duration.ofMinutes(6)));
        cases.put(
                "401 github signature",
                client.request("github")
                        .header("X-GitHub-Delivery", "bad-4")
                        .header("X-GitHub-Event", "push")
                        .header("X-Hub-Signature-256", "sha256=" + "0".repeat(64))
                        .POST(HttpRequest.BodyPublishers.ofString(ok))
                        .build());
        cases.put("400 malformed JSON", client.standard("standard", "bad-5", "{\"type\":"));
        cases.put("400 trailing garbage", client.standard("standard", "bad-6", ok + " x"));
        cases.put("400 not an object", client.standard("standard", "bad-7", "[1,2]"));
        cases.put("400 no type", client.standard("standard", "bad-8", "{\"kind\":\"t\"}"));
        cases.put(
                "400 NUL escape jsonb refuses",
                client.standard("standard", "bad-9", "{\"type\":\"t\",\"s\":\"\\u0000\"}"));
        cases.put("400 stripe event without id", client.stripe("{\"type\":\"charge.succeeded\"}"));
        cases.put(
                "413 too large",
                client.standard("standard", "bad-10", "{\"type\":\"t\",\"pad\":\"" + "x".repeat(MAX_BODY) + "\"}"));

        for (Map.Entry<String, HttpRequest> c : cases.entrySet()) {
            HttpResponse<String> r = client.send(c.getValue());
            int expected = Integer.parseInt(c.getKey().substring(0, 3));
            assertThat(r.statusCode()).as(c.getKey()).isEqualTo(expected);
            assertThat(r.body()).as(c.getKey()).startsWith("{\"error\":\"");
            assertThat(r.headers().firstValue("Content-Type")).as(c.getKey()).hasValue("application/json");
        }
        assertThat(db.queryValue("select count(*) from claude_events where delivery_id like 'bad-%' or"
                        + " (source = 'stripe' and event_type = 'charge.succeeded' and payload->>'id' is null)"))
                .isEqualTo(0L);
        assertThat(db.queryValue("select count(*) from outbox where key like '%/bad-%'"))
                .isEqualTo(0L);
    }

    @Test
    void aBodyDeclaredTooLargeIsRefusedWithoutWaitingForIt() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("POST /webhooks/standard HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                            + "Content-Length: 104857600\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // Not one byte of the 100 MB is sent: the answer must come anyway.
            InputStream in = s.getInputStream();
            byte[] head = new byte[12];
            int n = in.readNBytes(head, 0, head.length);
            assertThat(new String(head, 0, n, StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 413");
        }
    }

    @Test
    void aChunkedBodyOverTheLimitIsRefused() throws Exception {
        byte[] big = ("{\"type\":\"t\",\"pad\":\"" + "x".repeat(2 * MAX_BODY) + "\"}").getBytes(StandardCharsets.UTF_8);
        HttpRequest chunked = client.request("standard")
                .header("webhook-id", "bad-chunked")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(big)))
                .build();

        assertThat(client.send(chunked).statusCode()).isEqualTo(413);
        assertThat(db.queryValue("select count(*) from claude_events where delivery_id = 'bad-chunked'"))
                .isEqualTo(0L);
    }

    @Test
    void theSameDeliverySentConcurrentlyIsStoredOnceAndEveryCopyIsAnswered2xx() throws Exception {
        int copies = 8;
        ExecutorService pool = Executors.newFixedThreadPool(copies);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<HttpResponse<String>>> answers = new ArrayList<>();
        for (int i = 0; i < copies; i++) {
            HttpRequest r = client.standard("standard", "msg_twice", "{\"type\":\"dup\"}");
            answers.add(pool.submit(() -> {
                go.await();
                return client.send(r);
            }));
        }
        go.countDown();
        List<String> bodies = new ArrayList<>();
        for (Future<HttpResponse<String>> a : answers) {
            HttpResponse<String> r = a.get();
            assertThat(r.statusCode()).isEqualTo(200);
            bodies.add(r.body());
        }
        pool.shutdown();

        assertThat(bodies).containsOnlyOnce("{\"status\":\"stored\"}");
        assertThat(db.queryValue("select count(*) from claude_events where delivery_id = 'msg_twice'"))
                .isEqualTo(1L);
        assertThat(db.queryValue("select count(*) from outbox where key = 'standard/msg_twice'"))
                .isEqualTo(1L);
        assertThat(runtime.registry().scrape())
                .containsPattern("ragline_webhook_duplicates_total\\{[^}]*source=\"standard\"[^}]*} 7.0");
    }

    @Test
    void overItsRateASourceIsAnswered429WithRetryAfterAndNothingIsStored() throws Exception {
        List<HttpResponse<String>> answers = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            answers.add(client.send(client.standard("limited", "rate-" + i, "{\"type\":\"t\"}")));
        }
        long ok = answers.stream().filter(r -> r.statusCode() == 200).count();
        List<HttpResponse<String>> limited =
                answers.stream().filter(r -> r.statusCode() == 429).toList();

        assertThat(ok + limited.size()).isEqualTo(6);
        assertThat(limited).isNotEmpty();
        assertThat(limited.get(0).headers().firstValue("Retry-After")).hasValue("1");
        assertThat(db.queryValue("select count(*) from claude_events where source = 'limited'"))
                .isEqualTo(ok);
    }

    @Test
    void answersOnAKeepAliveConnectionDoNotWaitForDelayedAcks() throws Exception {
        // With Nagle's algorithm on, each answer's body waits ~40 ms for the client's delayed ACK.
        for (int i = 0; i < 5; i++) {
            client.send(client.standard("standard", "msg_keepalive", "{\"type\":\"k\"}"));
        }
        // Each answer timed: with Nagle on, every one would take 40 ms or more, so the median says
        // it, whatever a busy machine adds to a few of them.
        List<Long> micros = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            long started = System.nanoTime();
            assertThat(client.send(client.standard("standard", "msg_keepalive", "{\"type\":\"k\"}"))
                            .statusCode())
                    .isEqualTo(200);
            micros.add((System.nanoTime() - started) / 1_000);
        }

        Collections.sort(micros);
        assertThat(micros.get(micros.size() / 2))
                .as("the median answer in microseconds, of %s", micros)
                .isLessThan(35_000L);
    }

    @Test
    void metricsCountRequestsPerSourceAndStatus() throws Exception {
        client.send(client.standard("standard", "msg_metrics", "{\"type\":\"m\"}"));
        client.send(client.standard("nobody", "x", "{}"));

        assertThat(runtime.registry().scrape())
                .containsPattern("ragline_webhook_requests_total\\{[^}]*source=\"standard\",status=\"200\"} [1-9]")
                .containsPattern("ragline_webhook_requests_total\\{[^}]*source=\"_unknown\",status=\"404\"} [1-9]")
                .contains("ragline_webhook_request_duration_seconds_bucket{")
                .containsPattern("resilience4j_ratelimiter_available_permissions\\{[^}]*name=\"webhook-limited\"");
    }

    @Test
    void aRowInsertedByPlainSqlGetsTheSameOutboxRow() throws Exception {
        try (var c = db.connect();
                var s = c.createStatement()) {
            s.execute("insert into claude_events (source, delivery_id, event_type, payload, priority)"
                    + " values ('cron', 'nightly-1', 'reindex', '{\"collection\":\"default\"}', 3)");
        }

        assertThat(db.queryValue("select topic || ' ' || key || ' ' || priority || ' ' || (payload->>'schema_version')"
                        + " || ' ' || (payload->>'source') || ' ' || (payload->>'event_type') || ' '"
                        + " || (payload->'payload'->>'collection') || ' ' || (headers->>'ragline.event.type')"
                        + " from outbox where key = 'cron/nightly-1'"))
                .isEqualTo("claude_events cron/nightly-1 3 1 cron reindex default reindex");
    }
}
