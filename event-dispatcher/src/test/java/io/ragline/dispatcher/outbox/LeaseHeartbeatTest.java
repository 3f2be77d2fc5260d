package io.ragline.dispatcher.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ragline.core.lifecycle.Supervisor;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/**
 * An Error escaping a lease renewal (here from the pool, as an OutOfMemoryError would) must not
 * freeze leadership: it is given up at once, and the heartbeat's thread dies where its supervisor
 * sees it instead of a schedule that silently stops.
 */
class LeaseHeartbeatTest {
    static final Duration TTL = Duration.ofSeconds(5);

    final OutboxMetrics metrics = new OutboxMetrics(new SimpleMeterRegistry());
    final Leadership leadership = new Leadership(TTL, System::nanoTime, metrics, "test.outbox (me)");
    final LeaseHeartbeat heartbeat = new LeaseHeartbeat(new Lease(failing(), "me", TTL), leadership, TTL, metrics);

    @Test
    void anErrorFromARenewalGivesLeadershipUpAndEscapes() {
        leadership.renewed(System.nanoTime());
        assertThat(leadership.leading()).isTrue();

        assertThatThrownBy(heartbeat::renewOnce).isInstanceOf(OutOfMemoryError.class);

        assertThat(leadership.leading()).isFalse();
        assertThat(leadership.state()).isEqualTo(Leadership.State.STANDBY);
        assertThat(metrics.isLeader()).isFalse();
    }

    @Test
    void aHeartbeatKilledByAnErrorIsADeathItsSupervisorReports() throws Exception {
        List<Throwable> fatal = new CopyOnWriteArrayList<>();
        Supervisor supervisor = new Supervisor(fatal::add);

        Supervisor.Supervised thread = supervisor.start("outbox-lease", heartbeat, heartbeat::stop);
        thread.thread().join(10_000);

        assertThat(thread.thread().isAlive()).isFalse();
        assertThat(supervisor.problem()).hasValue("outbox-lease died: OutOfMemoryError: injected");
        assertThat(fatal).singleElement().isInstanceOf(OutOfMemoryError.class);
    }

    private static DataSource failing() {
        return (DataSource) Proxy.newProxyInstance(
                DataSource.class.getClassLoader(), new Class<?>[] {DataSource.class}, (proxy, method, args) -> {
                    throw new OutOfMemoryError("injected");
                });
    }
}
