package io.ragline.dispatcher;

import java.util.Map;

/**
 * The relay's tests run with {@code RAGLINE_OUTBOX_PRODUCERS} at its default (3) unless the build
 * says otherwise: {@code -Dragline.test.outboxProducers=1} runs the same tests with one producer,
 * committing each batch before the next, which must keep every guarantee the tests check too.
 */
final class ProducersUnderTest {
    static final String PROPERTY = "ragline.test.outboxProducers";

    private ProducersUnderTest() {}

    /** {@code env} with the producers the build asks for, if it asks. */
    static Map<String, String> apply(Map<String, String> env) {
        String producers = System.getProperty(PROPERTY);
        if (producers != null && !producers.isBlank()) {
            env.put(DispatcherSettings.PRODUCERS, producers.strip());
        }
        return env;
    }
}
