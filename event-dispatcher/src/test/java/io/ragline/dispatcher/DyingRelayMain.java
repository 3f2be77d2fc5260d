package io.ragline.dispatcher;

import io.ragline.core.WorkerMain;
import io.ragline.core.config.Env;

/**
 * The event-dispatcher process, wired as in production but for its outbox producer, which throws
 * an {@link Error} on the relay's thread when it sends to FIXTURE_DYING_TOPIC.
 */
public final class DyingRelayMain {
    private DyingRelayMain() {}

    public static void main(String[] args) {
        Env env = Env.load();
        String topic = System.getenv("FIXTURE_DYING_TOPIC");
        System.exit(WorkerMain.run(
                EventDispatcher.NAME, 0, env, EventDispatcher.wiring(env, p -> DyingProducer.on(topic, p))));
    }
}
