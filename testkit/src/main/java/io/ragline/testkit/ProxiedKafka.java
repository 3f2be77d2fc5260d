package io.ragline.testkit;

import io.ragline.devstack.Ports;
import io.ragline.devstack.kafka.LocalKafka;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A Kafka broker of a test class's own (the KRaft broker {@link LocalKafka} runs) with two
 * PLAINTEXT listeners: one reached directly ({@link #bootstrap()}), and one behind a {@link
 * TcpProxy} ({@link #proxiedBootstrap()}), which the broker advertises at the proxy's port, so that
 * every connection of a client that bootstraps there (to the broker, to its transaction
 * coordinator) goes through the proxy. {@link #proxy()} then stalls or cuts that client's network
 * alone while every other client of the same broker goes on: a silent connection under one
 * producer of a process, for example, with the other producer, the consumers and the test's own
 * clients unaffected. Register it as {@code @RegisterExtension static final ProxiedKafka kafka =
 * new ProxiedKafka();}: started before the class's tests, stopped after them.
 */
public final class ProxiedKafka implements BeforeAllCallback, AfterAllCallback {
    private Path dir;
    private LocalKafka broker;
    private TcpProxy proxy;
    private String bootstrap;

    @Override
    public void beforeAll(ExtensionContext context) throws IOException {
        dir = Files.createTempDirectory("ragline-proxied-kafka");
        int proxiedPort = Ports.freeBelowEphemeral(); // bound by the broker later: not one the OS hands out meanwhile
        proxy = new TcpProxy("127.0.0.1", proxiedPort);
        broker = new LocalKafka(dir, message -> {})
                .withListener(new LocalKafka.Listener("PROXIED", "PLAINTEXT", proxiedPort, proxy.port(), Map.of()));
        bootstrap = broker.start();
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        if (proxy != null) {
            proxy.close();
        }
        if (broker != null) {
            broker.stop();
        }
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** The listener reached directly: for the code under test's other clients and the test's own. */
    public String bootstrap() {
        return bootstrap;
    }

    /** The listener behind {@link #proxy()}: a client that bootstraps here talks to the broker only through it. */
    public String proxiedBootstrap() {
        return "127.0.0.1:" + proxy.port();
    }

    /** The proxy in front of {@link #proxiedBootstrap()}: {@link TcpProxy#blackhole()}, {@link TcpProxy#restore()}. */
    public TcpProxy proxy() {
        return proxy;
    }
}
