package io.ragline.core.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A listener that accepts connections and never answers, as a TLS or SASL listener does to a
 * PLAINTEXT client: the failure is retryable and says which variable to look at, whichever of the
 * two timeouts (the admin call's own, or the wait around it) fires first.
 */
class KafkaConnectivityTest {
    @Test
    void aListenerThatNeverAnswersIsRetryableAndNamesTheSecurityProtocolVariable() throws Exception {
        List<Socket> held = new ArrayList<>();
        try (ServerSocket silent = new ServerSocket(0)) {
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) {
                        held.add(silent.accept()); // read nothing, write nothing
                    }
                } catch (Exception closed) {
                    // the test is over
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();

            var failure = KafkaConnectivity.probe(
                            "127.0.0.1:" + silent.getLocalPort(), KafkaClientProperties.none(), Duration.ofSeconds(2))
                    .orElseThrow();

            assertThat(failure.retryable()).isTrue();
            assertThat(failure.reason())
                    .startsWith("no answer within 2000 ms")
                    .contains("security.protocol is PLAINTEXT")
                    .contains(KafkaClientProperties.variableOf("security.protocol"));
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }
}
