package io.ragline.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.PostgresSchema;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** How a real worker process ends when its start-up or its shutdown goes wrong. */
class WorkerMainProcessIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final Duration STARTUP = Duration.ofSeconds(90);

    @Test
    void anErrorWhileWiringStopsTheSupervisedThreadsAndExitsOne() throws Exception {
        JavaProcess worker = fixture("error-while-wiring", "30s");

        assertThat(worker.waitFor(60)).as(worker.stdout()).isEqualTo(1);
        assertThat(worker.stdout())
                .contains("lifecycle failed to start: java.lang.UnsatisfiedLinkError")
                .contains("lifecycle stopped")
                .doesNotContain("lifecycle ready");
    }

    @Test
    void aPartHangingInCloseAfterAFatalFailureCannotOutliveTheShutdownBound() throws Exception {
        JavaProcess worker = fixture("part-hangs-after-fatal", "3s");
        await().atMost(STARTUP).until(() -> worker.stdout().contains("lifecycle shutting down"));
        worker.terminate(); // a SIGTERM while the fatal path's close hangs must not lift the bound

        assertThat(worker.waitFor(30)).as(worker.stdout()).isEqualTo(1);
        assertThat(worker.stdout()).contains("doomed died").contains("lifecycle did not stop within PT3S; halting");
    }

    @Test
    void threadsThatIgnoreTheirStopShareOneDeadlineSoTheProcessStillExitsZeroInTime() throws Exception {
        JavaProcess worker = fixture("threads-ignore-stop", "4s");
        await().atMost(STARTUP).until(() -> worker.stdout().contains("lifecycle ready"));
        worker.terminate();

        // Each thread waited for in turn, for the whole bound, would outlast the 4 s watchdog.
        assertThat(worker.waitFor(30)).as(worker.stdout()).isZero();
        assertThat(worker.stdout())
                .contains("[stubborn-0, stubborn-1, stubborn-2] still running PT2S")
                .contains("lifecycle stopped")
                .doesNotContain("halting");
    }

    @Test
    void partsAddedAfterClosingBeganAreClosedAndNoThreadStartsAndNothingClaimsReady() throws Exception {
        JavaProcess worker = fixture("wiring-outlives-close", "30s");
        await().atMost(STARTUP).until(() -> worker.stdout().contains("fixture: wiring"));
        worker.terminate();

        assertThat(worker.waitFor(60)).as(worker.stdout()).isZero();
        assertThat(worker.stdout())
                .contains("fixture: late part closed")
                .contains("fixture: refused: not starting late: the process is stopping")
                .contains("lifecycle stopped while starting")
                .doesNotContain("late thread ran")
                .doesNotContain("lifecycle ready");
    }

    @Test
    void badDatabaseTimeoutsStopStartUpWithExitTwoNamingEachVariable() throws Exception {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("FIXTURE_MODE", "threads-ignore-stop"); // never wired: start-up stops first
        env.put("RAGLINE_ADMIN_PORT", "0");
        env.put("RAGLINE_DB_CONNECT_TIMEOUT", "100ms");
        env.put("RAGLINE_DB_SOCKET_TIMEOUT", "soon");
        env.put("RAGLINE_DB_KEEPALIVE_TIME", "5s");
        JavaProcess worker = JavaProcess.start(List.of(), LifecycleFixtureMain.class.getName(), env);

        assertThat(worker.waitFor(60)).as(worker.stderr()).isEqualTo(2);
        assertThat(worker.stderr())
                .contains("RAGLINE_DB_CONNECT_TIMEOUT='100ms' must be between 250ms and 1d")
                .contains("RAGLINE_DB_SOCKET_TIMEOUT='soon'")
                .contains("RAGLINE_DB_KEEPALIVE_TIME='5s' must be between 30s and 1d");
        assertThat(worker.stdout()).doesNotContain("lifecycle ready");
    }

    private static JavaProcess fixture(String mode, String shutdownTimeout) throws Exception {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("FIXTURE_MODE", mode);
        env.put("RAGLINE_SHUTDOWN_TIMEOUT", shutdownTimeout);
        env.put("RAGLINE_ADMIN_PORT", "0");
        return JavaProcess.start(List.of(), LifecycleFixtureMain.class.getName(), env);
    }
}
