package io.ragline.core.kafka;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;

/** Whether a Kafka cluster answers, asked once with a bound: for start-up checks and readiness. */
public final class KafkaConnectivity {
    private KafkaConnectivity() {}

    /**
     * Why the cluster did not answer, and whether a later attempt may succeed: for start-up, which
     * waits for a retryable failure ({@code StartupWait}) and reports the others at once.
     *
     * @param reason in words, with no secret ({@link KafkaConnectivity#check})
     * @param retryable no broker accepted a connection, none answered within the bound, or Kafka
     *     called its failure retriable ({@link KafkaAccessFailure#retryable}); false for a refused
     *     SASL login, a TLS failure, an unreadable store and the like
     */
    public record Failure(String reason, boolean retryable) {}

    /**
     * Empty when the cluster answered with at least one broker, else why not, in words: a refused
     * SASL login, an untrusted certificate or an unreadable key store names the variables that
     * configure it ({@link KafkaAccessFailure}), and no secret.
     */
    public static Optional<String> check(String bootstrapServers, KafkaClientProperties properties, Duration timeout) {
        return probe(bootstrapServers, properties, timeout).map(Failure::reason);
    }

    /** {@link #check}, saying also whether a retry can fix the failure. */
    public static Optional<Failure> probe(String bootstrapServers, KafkaClientProperties properties, Duration timeout) {
        // A TCP probe first: an admin client against closed ports only logs a warning per retry.
        if (!anyAccepts(bootstrapServers, timeout)) {
            return Optional.of(new Failure("no broker accepts connections at " + bootstrapServers, true));
        }
        int ms = (int) Math.max(1000, timeout.toMillis());
        try (Admin admin = KafkaClients.admin(bootstrapServers, properties, "ragline-connectivity-check", timeout)) {
            var nodes = admin.describeCluster(new DescribeClusterOptions().timeoutMs(ms))
                    .nodes()
                    .get(ms + 1000L, TimeUnit.MILLISECONDS);
            return nodes.isEmpty()
                    ? Optional.of(new Failure("the cluster reports no brokers", true))
                    : Optional.empty();
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (cause instanceof org.apache.kafka.common.errors.TimeoutException) {
                // the admin call's own timeout, a second before the wait below: the same "no answer"
                return Optional.of(new Failure(noAnswer(timeout, properties), true));
            }
            return Optional.of(
                    new Failure(KafkaAccessFailure.explain(cause, properties), KafkaAccessFailure.retryable(cause)));
        } catch (TimeoutException e) {
            return Optional.of(new Failure(noAnswer(timeout, properties), true));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.of(new Failure("interrupted", false));
        } catch (RuntimeException e) {
            return Optional.of(new Failure(KafkaAccessFailure.explain(e, properties), KafkaAccessFailure.retryable(e)));
        }
    }

    /** No answer in time; with PLAINTEXT, the likeliest cause: a listener that wants TLS or SASL. */
    private static String noAnswer(Duration timeout, KafkaClientProperties properties) {
        return "no answer within " + timeout.toMillis() + " ms"
                + properties
                        .get("security.protocol")
                        .map(p -> "")
                        .orElse(" (security.protocol is PLAINTEXT: if the listener wants TLS or SASL, set "
                                + KafkaClientProperties.variableOf("security.protocol") + ")");
    }

    private static boolean anyAccepts(String bootstrapServers, Duration timeout) {
        int perHost = (int) Math.min(timeout.toMillis(), 3000);
        for (String hostPort : bootstrapServers.split(",")) {
            String hp = hostPort.strip();
            int colon = hp.lastIndexOf(':');
            try (Socket s = new Socket()) {
                s.connect(
                        new InetSocketAddress(hp.substring(0, colon), Integer.parseInt(hp.substring(colon + 1))),
                        Math.max(1, perHost));
                return true;
            } catch (IOException | RuntimeException e) {
                // try the next one
            }
        }
        return false;
    }
}
