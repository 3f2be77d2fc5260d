package io.ragline.console.browser;

import static io.ragline.console.ConsoleTestServer.ADMIN;
import static io.ragline.console.ConsoleTestServer.OPERATOR;
import static io.ragline.console.ConsoleTestServer.VIEWER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.console.Console;
import io.ragline.console.ConsoleTestServer;
import io.ragline.console.api.ApiRoutes;
import io.ragline.console.api.Json;
import io.ragline.console.system.ConsoleWorkers;
import io.ragline.contracts.training.TrainingRequest;
import io.ragline.contracts.training.TrainingRequestCodec;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.dispatcher.EventDispatcher;
import io.ragline.embedding.EmbeddingWorker;
import io.ragline.embeddings.ModelCatalog;
import io.ragline.ingest.IngestWorker;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import io.ragline.training.TrainingSettings;
import io.ragline.training.job.JobEvents;
import io.ragline.training.job.JobStore;
import java.net.URI;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

/**
 * The web console in a real headless Chromium against the real console server, Postgres and
 * Kafka, with the event-dispatcher, ingest-worker and embedding-worker on the console's runtime as
 * {@code ragline all} runs them: every page loads with no error in the browser's console, an
 * operator's actions go through the API and change what they should, and each one is in the audit
 * log page. With {@code -Dragline.screenshots=<dir>} the main pages are saved there as PNGs (the
 * README's, under docs/images).
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ConsoleBrowserIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final String PREFIX = "web" + UUID.randomUUID().toString().substring(0, 8) + ".";
    static final String GROUPS = PREFIX.substring(0, PREFIX.length() - 1);
    static final Duration PIPELINE = Duration.ofSeconds(180);

    static ConsoleTestServer console;

    @BeforeAll
    static void start() {
        KafkaTopics.createNamed(PREFIX + "documents", 1);
        Map<String, String> env = new HashMap<>(db.env());
        // Creating a collection is DDL (its vector index): the console runs as the schema's owner.
        env.put("DATABASE_URL", db.ownerDatabaseUrl());
        env.put("RAGLINE_TOPIC_PREFIX", PREFIX);
        env.put("RAGLINE_GROUP_PREFIX", GROUPS); // the overview's lag: this run's groups only
        env.put("RAGLINE_OUTBOX_POLL_INTERVAL", "200ms");
        env.put("RAGLINE_HTTP_PORT", "0");
        env.put("RAGLINE_HTTP_HOST", "127.0.0.1");
        env.put(EmbeddingWorker.SEARCH_PORT, "0");
        Env settings = new Env(env);
        List<Consumer<WorkerRuntime>> pipeline = List.of(
                EventDispatcher.wiring(settings),
                IngestWorker.wiring(settings, 0),
                EmbeddingWorker.wiring(settings, EmbeddingWorker.SEARCH_PORT, 0));
        BiConsumer<WorkerRuntime, ApiRoutes> areas = everyArea(settings);
        settings.validate();
        console = ConsoleTestServer.start(env, (runtime, routes) -> {
            pipeline.forEach(w -> w.accept(runtime));
            areas.accept(runtime, routes);
        });
    }

    private static BiConsumer<WorkerRuntime, ApiRoutes> everyArea(Env env) {
        return Console.areas(
                env,
                runtime -> new ConsoleWorkers(List.of(
                        new ConsoleWorkers.Worker("console", URI.create("http://127.0.0.1:" + runtime.adminPort())))));
    }

    @AfterAll
    static void stop() {
        if (console != null) {
            console.close();
        }
    }

    @Test
    @Order(1)
    void theConsoleAsksForATokenKeepsItForTheTabAndForgetsItOnRequest() {
        try (Browser browser = Browser.start()) {
            ConsolePage page = new ConsolePage(browser, console.uri("/"));

            page.openSignedOut("audit");
            assertThat(page.element(By.id("main")).isDisplayed()).isFalse();
            assertThat(browser.consoleErrors())
                    .as("only the API's 401, which brought the sign-in box")
                    .allSatisfy(m -> assertThat(m).contains("401"));
            browser.forgetConsoleMessages();

            page.signIn(ADMIN, "audit");
            browser.driver().navigate().refresh();
            page.awaitLoaded("audit");
            assertThat(page.element(By.id("login")).isDisplayed()).isFalse();
            browser.assertNoConsoleErrors();

            page.element(By.id("sign-out")).click();
            await().ignoreExceptions()
                    .untilAsserted(() -> assertThat(page.element(By.id("login")).isDisplayed())
                            .isTrue());
            assertThat(browser.driver().executeScript("return sessionStorage.length"))
                    .isEqualTo(0L);
        }
    }

    @Test
    @Order(2)
    void aTokenTheApiDoesNotKnowIsRefusedAndAskedForAgain() {
        try (Browser browser = Browser.start()) {
            ConsolePage page = new ConsolePage(browser, console.uri("/"));
            page.openSignedOut("audit");

            page.element(By.id("login-token")).sendKeys("not-a-token-of-this-console-0000");
            page.element(By.id("login-submit")).click();

            await().ignoreExceptions()
                    .untilAsserted(
                            () -> assertThat(page.element(By.id("login-reason")).getText())
                                    .contains("refused the token"));
            assertThat(page.element(By.id("main")).isDisplayed()).isFalse();
        }
    }

    @Test
    @Order(3)
    void anAdminCreatesACollectionAndTheAuditLogShowsIt() throws Exception {
        try (Browser browser = Browser.start()) {
            ConsolePage page = signedIn(browser, ADMIN, "collections");

            page.submit("create-collection", Map.of("name", "recipes", "chunk_size_tokens", "128"));

            assertThat(page.awaitNotice()).isEqualTo("Created the collection recipes.");
            assertThat(page.row("recipes").getText()).contains("active").contains("128 tokens");
            assertThat(db.queryValue("select chunk_size_tokens from collections where name = 'recipes'"))
                    .isEqualTo(128);
            assertAudited(page, "POST /collections", "ada");

            // The vector index is chosen at creation: IVFFlat over L2 with half-precision vectors.
            page.open("collections");
            new Select(page.element(By.cssSelector("#create-collection select[name=distance]"))).selectByValue("l2");
            new Select(page.element(By.cssSelector("#create-collection select[name=index]"))).selectByValue("ivfflat");
            page.element(By.cssSelector("#create-collection input[name=halfvec]"))
                    .click();
            page.submit("create-collection", Map.of("name", "recipes-l2", "lists", "4", "text_config", "simple"));

            assertThat(page.awaitNotice()).isEqualTo("Created the collection recipes-l2.");
            assertThat(page.row("recipes-l2").getText())
                    .contains("ivfflat l2 halfvec (lists 4,")
                    .contains("text simple");
            assertThat(db.queryValue("select distance || ' ' || index_type || ' ' || vector_storage || ' '"
                            + " || (index_options ->> 'lists') from collections where name = 'recipes-l2'"))
                    .isEqualTo("l2 ivfflat halfvec 4");
            browser.assertNoConsoleErrors();
        }
    }

    @Test
    @Order(4)
    void aViewersCreateIsRefusedWithTheApisProblemShownAndNothingCreated() throws Exception {
        try (Browser browser = Browser.start()) {
            ConsolePage page = signedIn(browser, VIEWER, "collections");

            page.submit("create-collection", Map.of("name", "not-mine"));

            assertThat(page.awaitProblem()).startsWith("Forbidden").contains("admin");
            assertThat(db.queryValue("select count(*) from collections where name = 'not-mine'"))
                    .isEqualTo(0L);
            assertAudited(page, "POST /collections", "vera");
        }
    }

    @Test
    @Order(5)
    void aCollectionThatBreaksARuleShowsEachFieldsError() {
        try (Browser browser = Browser.start()) {
            ConsolePage page = signedIn(browser, ADMIN, "collections");

            page.submit("create-collection", Map.of("name", "Not A Name", "chunk_size_tokens", "0"));

            String problem = page.awaitProblem();
            assertThat(problem).contains("name").contains("chunk_size_tokens");
            assertThat(page.elements(By.cssSelector("#problem .problem-errors li")))
                    .hasSizeGreaterThanOrEqualTo(2);
        }
    }

    @Test
    @Order(6)
    void aDocumentPublishedFromTheConsoleIsEmbeddedShownWithItsChunksAndFoundBySearch() throws Exception {
        try (Browser browser = Browser.start()) {
            ConsolePage page = signedIn(browser, OPERATOR, "documents");
            WebElement message = page.element(By.cssSelector("#publish-document textarea"));
            message.clear();
            message.sendKeys("{\"op\": \"upsert\", \"id\": \"kitchen\", \"title\": \"Bread\", \"content\": \"The"
                    + " sourdough starter is fed with flour and water every morning, and the bread is baked in a"
                    + " cast iron pot.\", \"metadata\": {\"room\": \"kitchen\"}}");
            page.element(By.cssSelector("#publish-document button[type=submit]"))
                    .click();

            assertThat(page.awaitNotice()).startsWith("Published to " + PREFIX + "documents-0 at offset ");
            await().atMost(PIPELINE)
                    .until(() -> "embedded"
                            .equals(db.queryValue("select status from documents where external_id = 'kitchen'")));
            long id = (long) db.queryValue("select id from documents where external_id = 'kitchen'");

            page.open("documents?q=kitchen");
            assertThat(page.row(id).getText()).contains("kitchen", "Bread", "embedded");
            page.open("documents/" + id);
            assertThat(page.row(0).getText())
                    .contains("sourdough")
                    .contains("embedded")
                    .contains(ModelCatalog.DEFAULT_MODEL);

            page.open("search");
            page.submit("search-form", Map.of("query", "how do I bake bread at home", "k", "3"));
            await().ignoreExceptions()
                    .untilAsserted(() -> assertThat(page.element(By.cssSelector("#search-results tbody tr"))
                                    .getText())
                            .contains("kitchen", "Bread", "sourdough"));
            assertThat(page.element(By.cssSelector("#search-results .hint")).getText())
                    .contains("(hybrid)");

            // Full text only: the word finds it; a word it does not hold finds nothing, where the
            // vector ranking would still return its nearest document.
            new Select(page.element(By.cssSelector("#search-form select[name=mode]"))).selectByValue("text");
            page.submit("search-form", Map.of("query", "sourdough", "k", "3"));
            await().ignoreExceptions()
                    .untilAsserted(() -> assertThat(page.element(By.cssSelector("#search-results tbody tr"))
                                    .getText())
                            .contains("kitchen", "sourdough"));
            page.submit("search-form", Map.of("query", "zeppelin"));
            await().ignoreExceptions()
                    .untilAsserted(() -> assertThat(page.element(By.cssSelector("#search-results .hint"))
                                    .getText())
                            .isEqualTo("0 documents, best first (text)"));
            assertAudited(page, "POST /documents", "otto");
            assertAudited(page, "POST /search", "otto");
            browser.assertNoConsoleErrors();
        }
    }

    @Test
    @Order(7)
    void anEventIsReplayedFromTheEventsPageAndItsMarkupIsShownAsText() throws Exception {
        String markup = "<img src=x onerror=\"console.error('markup ran')\">";
        long id = insertEvent("github", "d-web-1", markup, "{\"zen\": \"<b>not bold</b>\"}");
        try (Browser browser = Browser.start()) {
            ConsolePage page = signedIn(browser, OPERATOR, "events");

            WebElement row = page.row(id);
            assertThat(row.getText()).contains(markup);
            assertThat(row.findElements(By.tagName("img")))
                    .as("data is text, never markup")
                    .isEmpty();
            page.clickAction(id, "replay");
            assertThat(page.confirm()).contains("Replay event " + id);

            assertThat(page.awaitNotice()).isEqualTo("Replayed event " + id + ".");
            assertThat(db.queryValue("select replays from claude_events where id = " + id))
                    .isEqualTo(1);
            page.open("events/" + id);
            assertThat(page.element(By.cssSelector("#main pre.json")).getText()).contains("<b>not bold</b>");
            assertAudited(page, "POST /events/{id}/replay", "otto");
            browser.assertNoConsoleErrors();
        }
    }

    @Test
    @Order(8)
    void aPoisonDocumentIsFixedAndRedrivenFromTheDeadLettersPageAndEndsEmbedded() throws Exception {
        try (var producer = KafkaTopics.producer()) {
            producer.send(new ProducerRecord<>(
                            PREFIX + "documents",
                            "default/fixme",
                            "{\"op\": \"upsert\", \"id\": \"fixme\", \"content\": \"Penguins huddle on the ice.\","
                                    + " \"version\": \"seven\"}"))
                    .get();
        }
        String topic = PREFIX + "documents.dlq";
        await().atMost(PIPELINE)
                .until(() -> !KafkaTopics.readAll(topic, Duration.ofSeconds(2)).isEmpty());
        try (Browser browser = Browser.start()) {
            ConsolePage page = signedIn(browser, OPERATOR, "dead-letters");
            assertThat(page.row(topic).getText()).contains(PREFIX + "documents");
            page.row(topic).findElement(By.tagName("a")).click();
            page.awaitLoaded("dead-letters");
            assertThat(page.row("0-0").getText()).contains("default/fixme").contains("version");
            page.screenshotIfAsked("dead-letters");

            page.clickAction("0-0", "fix-redrive");
            WebElement value =
                    await().ignoreExceptions().until(() -> page.element(By.id("edit-text")), WebElement::isDisplayed);
            String fixed = value.getAttribute("value").replace("\"seven\"", "7");
            value.clear();
            value.sendKeys(fixed);
            page.element(By.id("edit-ok")).click();

            assertThat(page.awaitNotice()).startsWith("Redrove " + topic + "-0 offset 0 to " + PREFIX + "documents-0");
            await().atMost(PIPELINE)
                    .until(() -> "embedded 7"
                            .equals(db.queryValue(
                                    "select status || ' ' || version from documents where external_id = 'fixme'")));
            assertThat(page.row("0-0").getText()).contains("redriven by otto");
            assertAudited(page, "POST /dead-letters/topics/{topic}/records/{partition}/{offset}/redrive", "otto");
            browser.assertNoConsoleErrors();
        }
    }

    @Test
    @Order(9)
    void aQueuedTrainingJobIsCancelledFromTheTrainingPage() throws Exception {
        long id = queuedTrainingJob("web-cancel-1");
        try (Browser browser = Browser.start()) {
            ConsolePage page = signedIn(browser, OPERATOR, "training");
            assertThat(page.row(id).getText()).contains("queued");

            page.clickAction(id, "cancel");
            assertThat(page.confirm()).contains("Cancel training job " + id);

            assertThat(page.awaitNotice()).isEqualTo("Cancelled training job " + id + ".");
            assertThat(page.row(id).getText()).contains("cancelled");
            assertThat(db.queryValue("select status from training_jobs where id = " + id))
                    .isEqualTo("cancelled");
            assertAudited(page, "POST /training/jobs/{id}/cancel", "otto");
            browser.assertNoConsoleErrors();
        }
    }

    @Test
    @Order(10)
    void everyPageLoadsWithNoErrorInTheBrowsersConsole() throws Exception {
        long document = (long) db.queryValue("select coalesce(max(id), 0) from documents");
        long event = insertEvent("stripe", "d-web-2", "charge.succeeded", "{\"amount\": 1200}");
        long job = queuedTrainingJob("web-pages-1");
        try (Browser browser = Browser.start()) {
            ConsolePage page = signedIn(browser, VIEWER, "overview");
            List<String> routes = new ArrayList<>(List.of(
                    "overview",
                    "collections",
                    "documents",
                    "search",
                    "events",
                    "events/" + event,
                    "dead-letters",
                    "dead-letters/" + PREFIX + "documents.dlq",
                    "training",
                    "training/" + job,
                    "audit"));
            if (document > 0) {
                routes.add("documents/" + document);
            }
            for (String route : routes) {
                page.open(route);
                assertThat(page.element(By.id("problem")).isDisplayed())
                        .as(route)
                        .isFalse();
                browser.assertNoConsoleErrors();
            }
            page.open("overview");
            assertThat(page.row("console").getText()).contains("ready");
            page.screenshotIfAsked("overview");
            for (String shot : List.of("collections", "documents", "training", "audit")) {
                page.open(shot);
                page.screenshotIfAsked(shot);
            }
            browser.assertNoConsoleErrors();
        }
    }

    private static ConsolePage signedIn(Browser browser, String token, String route) {
        ConsolePage page = new ConsolePage(browser, console.uri("/"));
        page.openSignedOut(route).signIn(token, route.split("[/?]")[0]);
        browser.forgetConsoleMessages(); // the 401 that asked for the token
        return page;
    }

    /** The audit log page lists {@code action} by {@code who}. */
    private static void assertAudited(ConsolePage page, String action, String who) {
        page.open("audit?who=" + who);
        assertThat(page.elements(By.cssSelector("#main tbody tr")))
                .extracting(WebElement::getText)
                .anySatisfy(row -> assertThat(row).contains(action).contains(who));
    }

    private static long insertEvent(String source, String delivery, String type, String payload) throws Exception {
        try (Connection c = db.connect();
                PreparedStatement s = c.prepareStatement("insert into claude_events (source, delivery_id, event_type,"
                        + " payload) values (?, ?, ?, ?::jsonb) returning id")) {
            s.setString(1, source);
            s.setString(2, delivery);
            s.setString(3, type);
            s.setString(4, payload);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** A job as a training-worker admits a request (none runs here, so it stays queued). */
    private static long queuedTrainingJob(String requestId) throws Exception {
        ObjectNode body = Json.object()
                .put("request_id", requestId)
                .put("project", "sections")
                .put("task", "classification")
                .put("backend", "builtin");
        body.putObject("data").put("collection", "default").put("label_path", "section");
        List<String> problems = new ArrayList<>();
        TrainingRequest request = TrainingRequestCodec.decode(body, problems, null);
        assertThat(problems).isEmpty();
        Env none = new Env(Map.of());
        TrainingSettings settings = TrainingSettings.from(none);
        none.validate();
        try (var pool = io.ragline.core.db.Database.pool(
                io.ragline.core.config.DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow(),
                db.schema(),
                1,
                "browser-test",
                null)) {
            return new JobStore(pool, settings, new JobEvents()).admit(request).id();
        }
    }
}
