package io.ragline.dispatcher;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * An outbox producer that throws an {@link Error} from {@code send} for one topic, as a bug or a
 * broken JVM would, on the relay's own thread; every other call goes to the real producer.
 */
final class DyingProducer {
    static final String MESSAGE = "injected: an invariant of the relay broke";

    private DyingProducer() {}

    @SuppressWarnings("unchecked")
    static Producer<byte[], byte[]> on(String topic, Producer<byte[], byte[]> real) {
        return (Producer<byte[], byte[]>) Proxy.newProxyInstance(
                Producer.class.getClassLoader(), new Class<?>[] {Producer.class}, (proxy, method, args) -> {
                    if (method.getName().equals("send")
                            && args[0] instanceof ProducerRecord<?, ?> record
                            && record.topic().equals(topic)) {
                        throw new AssertionError(MESSAGE);
                    }
                    try {
                        return method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
