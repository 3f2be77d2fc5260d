package io.ragline.dispatcher;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiFunction;
import org.apache.kafka.clients.producer.Producer;

/**
 * An event-dispatcher started in this JVM with each outbox producer passed through a test's
 * function first (given its {@code transactional.id}): to record, intercept or replace it.
 */
final class WiredDispatcher {
    private WiredDispatcher() {}

    /** Starts a dispatcher on {@code env} (the admin port chosen freely) with {@code producers}. */
    static WorkerRuntime start(
            Map<String, String> env,
            int producers,
            BiFunction<String, Producer<byte[], byte[]>, Producer<byte[], byte[]>> outboxProducer) {
        Map<String, String> values = new HashMap<>(env);
        values.put("RAGLINE_ADMIN_PORT", "0");
        values.put(DispatcherSettings.PRODUCERS, String.valueOf(producers));
        Env e = new Env(values);
        var wiring = EventDispatcher.wiring(e, outboxProducer);
        e.validate();
        WorkerRuntime r = WorkerRuntime.start(EventDispatcher.NAME, 0, e);
        wiring.accept(r);
        return r;
    }
}
