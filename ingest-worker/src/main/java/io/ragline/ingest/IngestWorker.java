package io.ragline.ingest;

import io.ragline.contracts.Topic;
import io.ragline.contracts.conversation.ConversationCodec;
import io.ragline.contracts.document.DocumentCodec;
import io.ragline.core.WorkerMain;
import io.ragline.core.WorkerRuntime;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.config.Env;
import io.ragline.core.consumer.ConsumerBinding;
import io.ragline.core.consumer.ContractDecoder;
import io.ragline.core.http.HttpSettings;
import io.ragline.embeddings.chunking.ModelTokenCounter;
import io.ragline.ingest.conversation.ConversationWriter;
import io.ragline.ingest.document.DocumentWriter;
import io.ragline.ingest.routing.EventRouting;
import io.ragline.ingest.webhook.WebhookServer;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * The {@code ingest-worker} process: consumes {@code documents} into documents and chunks (with
 * the outbox row that asks for embeddings), {@code conversations} into conversation memory, routes {@code claude_events} (rules map each event to
 * a document, a training request or nothing more) and serves {@code POST /webhooks/{source}} on {@code
 * RAGLINE_HTTP_PORT}, docs/architecture.md sections 2, 3 and 12. Runs on the shared
 * runtime of {@code core} (settings, pool, migrations, health and metrics).
 */
public final class IngestWorker {
    public static final String NAME = "ingest-worker";

    /** {@code RAGLINE_HTTP_PORT} default. */
    public static final int DEFAULT_HTTP_PORT = 8081;

    /** {@code RAGLINE_ADMIN_PORT} default. */
    public static final int DEFAULT_ADMIN_PORT = 9081;

    private IngestWorker() {}

    public static void main(String[] args) {
        Env env = Env.load();
        System.exit(WorkerMain.run(NAME, DEFAULT_ADMIN_PORT, env, wiring(env)));
    }

    /** Reads the settings now (their problems join the start-up report); starts consumers and server later. */
    public static Consumer<WorkerRuntime> wiring(Env env) {
        return wiring(env, DEFAULT_HTTP_PORT);
    }

    /** As {@link #wiring(Env)}, with another default webhook port. */
    public static Consumer<WorkerRuntime> wiring(Env env, int defaultHttpPort) {
        return wiring(env, defaultHttpPort, HttpSettings.from(env, HttpSettings.DEFAULT_HOST));
    }

    /**
     * As {@link #wiring(Env)}, with another default webhook port and HTTP settings read by the
     * caller ({@code ragline all}, whose search shares them).
     */
    public static Consumer<WorkerRuntime> wiring(Env env, int defaultHttpPort, HttpSettings http) {
        IngestSettings settings = IngestSettings.from(env);
        Consumer<WorkerRuntime> webhooks = WebhookServer.wiring(env, defaultHttpPort, http);
        Consumer<WorkerRuntime> documents = runtime -> runtime.consume(new ConsumerBinding<>(
                Topic.DOCUMENTS.topic(),
                List.of(runtime.settings().topic(Topic.DOCUMENTS.topic())),
                new ContractDecoder<>(new DocumentCodec(settings.maxContentBytes())),
                new DocumentWriter(
                        new CollectionCatalog(Duration.ofSeconds(10)),
                        new ModelTokenCounter.Chunkers(),
                        runtime.registry())));
        Consumer<WorkerRuntime> conversations = runtime -> runtime.consume(new ConsumerBinding<>(
                Topic.CONVERSATIONS.topic(),
                List.of(runtime.settings().topic(Topic.CONVERSATIONS.topic())),
                new ContractDecoder<>(new ConversationCodec(settings.maxContentBytes())),
                new ConversationWriter(runtime.registry())));
        Consumer<WorkerRuntime> routing = EventRouting.wiring(env, settings.maxContentBytes());
        return documents.andThen(conversations).andThen(routing).andThen(webhooks);
    }
}
