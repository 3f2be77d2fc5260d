package io.ragline.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.core.WorkerRuntime;
import io.ragline.core.config.Env;
import io.ragline.core.kafka.KafkaClients;
import io.ragline.dispatcher.bridge.NotifyBridge;
import io.ragline.dispatcher.outbox.Lease;
import io.ragline.dispatcher.outbox.OutboxMetrics;
import io.ragline.dispatcher.outbox.OutboxPublisher;
import io.ragline.dispatcher.outbox.OutboxRelay;
import io.ragline.dispatcher.outbox.OutboxStore;
import io.ragline.dispatcher.outbox.RowFaults;
import io.ragline.testkit.KafkaTopics;
import io.ragline.testkit.PostgresSchema;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A leader that freezes in the middle of a batch, past its lease, while another dispatcher takes
 * the lease, must not commit that batch when it wakes: the other one may be publishing the same
 * rows, and a late commit puts old rows behind newer ones of their keys. The freeze is injected at
 * an exact point of a real producer's work (as SIGSTOP would land there by chance); the lease is
 * taken in Postgres as a standby takes it. With one producer and with two (the batch committing on
 * the commit thread while the next is sent: each commit still checks the lease first).
 */
class FrozenLeaderIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final Duration TTL = Duration.ofSeconds(3);

    WorkerRuntime runtime;

    @AfterEach
    void stop() throws Exception {
        if (runtime != null) {
            runtime.close();
        }
        giveTheLeaseBack();
    }

    @ParameterizedTest(name = "with {0} producer(s)")
    @ValueSource(ints = {1, 2})
    void aLeaderFrozenBeforeItsCommitAbortsTheBatchInsteadOfCommittingIt(int producers) throws Exception {
        assertAFrozenLeaderPublishesNothingLate("send", producers);
    }

    @ParameterizedTest(name = "with {0} producer(s)")
    @ValueSource(ints = {1, 2})
    void aLeaderFrozenWhileItsProducerStartsSendsNothing(int producers) throws Exception {
        assertAFrozenLeaderPublishesNothingLate("initTransactions", producers);
    }

    private void assertAFrozenLeaderPublishesNothingLate(String frozenAfter, int producers) throws Exception {
        String topic = KafkaTopics.create("frozen-" + frozenAfter.toLowerCase(java.util.Locale.ROOT), 1);
        AtomicBoolean froze = new AtomicBoolean();
        runtime = relay(frozenAfter, froze, producers);
        await().atMost(Duration.ofSeconds(30)).until(() -> OutboxRelayIT.isLeader(runtime));

        insert(topic);
        await().atMost(Duration.ofSeconds(30)).until(froze::get);
        await().atMost(Duration.ofSeconds(30)).until(() -> !OutboxRelayIT.isLeader(runtime));

        assertThat(KafkaTopics.read(topic, 1, Duration.ofSeconds(5)))
                .as("nothing committed by a dispatcher that lost its lease")
                .isEmpty();
        assertThat((long) db.queryValue("select count(*) from outbox")).isEqualTo(1);

        giveTheLeaseBack(); // the other dispatcher stops: this one leads again and publishes the row once
        await().atMost(Duration.ofSeconds(30)).until(() -> (long) db.queryValue("select count(*) from outbox") == 0);
        assertThat(KafkaTopics.readAll(topic, Duration.ofSeconds(30)))
                .extracting(ConsumerRecord::value)
                .containsExactly("{\"n\": 1}");
    }

    /**
     * A dispatcher whose producer, the first time {@code frozenAfter} returns, stops as a frozen
     * process would while another dispatcher takes the lease, until the lease it holds can no
     * longer be trusted.
     */
    private WorkerRuntime relay(String frozenAfter, AtomicBoolean froze, int producers) throws Exception {
        Map<String, String> values = new HashMap<>(db.env());
        values.put("RAGLINE_ADMIN_PORT", "0");
        values.put(DispatcherSettings.PRODUCERS, String.valueOf(producers));
        values.put(DispatcherSettings.LEASE_TTL, TTL.toMillis() + "ms");
        Env env = new Env(values);
        DispatcherSettings settings = DispatcherSettings.from(env);
        env.validate();
        WorkerRuntime r = WorkerRuntime.start(EventDispatcher.NAME, 0, env);
        String transactionalId = new OutboxStore(r.dataSource()).transactionalId();
        OutboxMetrics metrics = new OutboxMetrics(r.registry());
        OutboxPublisher publisher = new OutboxPublisher(
                id -> freezing(
                        KafkaClients.transactionalProducer(
                                r.settings().kafkaBootstrapServers(),
                                r.settings().kafka(),
                                "frozen-leader-test" + id.substring(transactionalId.length()),
                                id,
                                settings.publishTimeout()),
                        frozenAfter,
                        froze),
                transactionalId,
                settings.producers(),
                "",
                metrics);
        OutboxRelay relay = new OutboxRelay(
                r.settings(),
                settings,
                r.dataSource(),
                publisher,
                new NotifyBridge(Map.of(), r.producer(), ""),
                metrics,
                new RowFaults(topic -> null, ""),
                "frozen-leader-test");
        relay.start(r);
        return r;
    }

    @SuppressWarnings("unchecked")
    private static Producer<byte[], byte[]> freezing(
            Producer<byte[], byte[]> real, String frozenAfter, AtomicBoolean froze) {
        return (Producer<byte[], byte[]>) Proxy.newProxyInstance(
                Producer.class.getClassLoader(), new Class<?>[] {Producer.class}, (proxy, method, args) -> {
                    Object result;
                    try {
                        result = method.invoke(real, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (method.getName().equals(frozenAfter) && froze.compareAndSet(false, true)) {
                        takeTheLease();
                        // Past every renewal this dispatcher made before the other took the lease.
                        Thread.sleep(Lease.trustedFor(TTL).plusMillis(500).toMillis());
                    }
                    return result;
                });
    }

    private static void takeTheLease() throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("update dispatcher_leases set holder = 'another', expires_at = clock_timestamp() + interval"
                    + " '1 hour' where name = 'outbox'");
        }
    }

    private static void giveTheLeaseBack() throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("delete from dispatcher_leases where holder = 'another'");
        }
    }

    private static void insert(String topic) throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("insert into outbox (topic, key, payload) values ('" + topic + "', 'k', '{\"n\":1}')");
        }
    }
}
