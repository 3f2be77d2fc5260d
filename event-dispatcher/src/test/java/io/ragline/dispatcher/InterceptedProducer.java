package io.ragline.dispatcher;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import org.apache.kafka.clients.producer.Producer;

/**
 * A real outbox producer with a test's step run before each call, by the method's name: to inject
 * a failure, or to act (insert rows, stall a connection) at an exact point of the relay's work.
 * Every call then goes to the real producer, whose exceptions pass through unwrapped.
 */
final class InterceptedProducer {
    /** Runs before each call of the producer; what it throws is thrown from the call. */
    @FunctionalInterface
    interface Before {
        void call(String method, Object[] args) throws Exception;
    }

    private InterceptedProducer() {}

    @SuppressWarnings("unchecked")
    static Producer<byte[], byte[]> of(Producer<byte[], byte[]> real, Before before) {
        return (Producer<byte[], byte[]>) Proxy.newProxyInstance(
                Producer.class.getClassLoader(), new Class<?>[] {Producer.class}, (proxy, method, args) -> {
                    before.call(method.getName(), args);
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
