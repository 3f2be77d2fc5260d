package io.ragline.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.PostgresSchema;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Retention as the event-dispatcher runs it: only the replica that leads the outbox runs it, every
 * {@code RAGLINE_RETENTION_INTERVAL}, counting what it removes; where a pg_cron job calls this
 * schema's {@code run_retention()}, pg_cron removes the rows and the dispatchers stand aside.
 */
class RetentionProcessIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    static final HttpClient http = HttpClient.newHttpClient();

    private static final Map<String, String> EVERY_SECOND = Map.of("RAGLINE_RETENTION_INTERVAL", "1s");

    @BeforeEach
    void empty() throws Exception {
        db.execute("delete from claude_events");
        db.execute("delete from outbox");
    }

    private static void oldEvents(int n) throws Exception {
        db.execute("insert into claude_events (source, event_type, payload, status, created_at, processed_at)"
                + " select 'github', 'push', '{}', 'processed', now() - interval '40 days',"
                + " now() - interval '40 days' from generate_series(1, " + n + ")");
    }

    private static long events() throws Exception {
        return ((Number) db.queryValue("select count(*) from claude_events")).longValue();
    }

    @Test
    void onlyTheLeadingDispatcherRemovesOldRowsAndCountsThem() throws Exception {
        Dispatcher a = Dispatcher.start(EVERY_SECOND);
        Dispatcher b = Dispatcher.start(EVERY_SECOND);
        try {
            // Both started (SIGTERM handled from then on: one that arrives while a process still
            // starts ends it with the JVM's 143, and on a loaded machine the standby was once still
            // starting when the test, done in 7 s, stopped both).
            await().atMost(Duration.ofSeconds(60)).until(() -> a.ready() && b.ready());
            await().atMost(Duration.ofSeconds(60)).until(() -> a.leader() + b.leader() == 1);
            oldEvents(2500);
            await().atMost(Duration.ofSeconds(60)).until(() -> events() == 0);
            Dispatcher leader = a.leader() == 1 ? a : b;
            Dispatcher standby = leader == a ? b : a;
            await().atMost(Duration.ofSeconds(10)).until(() -> leader.removedEvents() == 2500);
            assertThat(standby.removedEvents()).isZero();
        } finally {
            a.process.terminate();
            b.process.terminate();
        }
        assertThat(a.process.waitFor(30)).isZero();
        assertThat(b.process.waitFor(30)).isZero();
    }

    @Test
    void whereAPgCronJobRunsRetentionTheDispatcherStandsAsideAndPgCronRemovesTheRows() throws Exception {
        db.assumePgCron();
        long job = ((Number) db.queryValue("select cron.schedule('ragline-retention-" + db.schema() + "', '* * * * *',"
                        + " $$CALL " + db.schema() + ".run_retention('{\"claude_events\": \"30 days\"}')$$)"))
                .longValue();
        Dispatcher d = null;
        try {
            d = Dispatcher.start(EVERY_SECOND);
            Dispatcher started = d;
            await().atMost(Duration.ofSeconds(60)).until(() -> started.leader() == 1);
            oldEvents(1500);
            // pg_cron's next minute (this pg_cron has no schedules in seconds); the dispatcher would
            // have removed them within a second or two.
            try {
                await().atMost(Duration.ofSeconds(120)).until(() -> events() == 0);
            } catch (ConditionTimeoutException e) {
                throw new AssertionError(events() + " old events left after 2 minutes; " + db.pgCronState(job), e);
            }
            assertThat(d.removedEvents()).isZero();
            assertThat(db.queryValue("select count(*) from cron.job_run_details where jobid = " + job
                            + " and status = 'succeeded'"))
                    .isNotEqualTo(0L);
            // The scheduler says so at its first run; pg_cron's minute may have come before it.
            await().atMost(Duration.ofSeconds(30))
                    .until(() -> (started.process().stdout() + started.process().stderr())
                            .contains("the in-process scheduler stands aside"));
        } finally {
            db.queryValue("select cron.unschedule(" + job + ")");
            if (d != null) {
                d.process.terminate();
                assertThat(d.process.waitFor(30)).isZero();
            }
        }
        assertThat(d.process.stdout() + d.process.stderr())
                .contains("pg_cron runs run_retention(): the in-process scheduler stands aside");
    }

    /** A dispatcher process and its admin port. */
    record Dispatcher(JavaProcess process, int adminPort) {
        static Dispatcher start(Map<String, String> extra) throws Exception {
            int port;
            try (ServerSocket s = new ServerSocket(0)) {
                port = s.getLocalPort();
            }
            Map<String, String> env = ProducersUnderTest.apply(new HashMap<>(db.env()));
            env.put("RAGLINE_ADMIN_PORT", String.valueOf(port));
            env.putAll(extra);
            return new Dispatcher(JavaProcess.start(List.of(), EventDispatcher.class.getName(), env), port);
        }

        /** Whether the process said it is ready (it handles SIGTERM from then on). */
        boolean ready() throws Exception {
            return (process.stdout() + process.stderr()).contains("event-dispatcher ready (admin port");
        }

        /** The value of metric {@code name}'s first line that holds {@code label}, 0 when absent. */
        double metric(String name, String label) {
            try {
                String metrics = http.send(
                                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + "/metrics"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString())
                        .body();
                return metrics.lines()
                        .filter(l -> (l.startsWith(name + " ") || l.startsWith(name + "{")) && l.contains(label))
                        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                        .findFirst()
                        .orElse(0);
            } catch (Exception notUp) {
                return 0;
            }
        }

        double leader() {
            return metric("ragline_outbox_leader", "");
        }

        double removedEvents() {
            return metric("ragline_retention_rows_removed_total", "target=\"claude_events\"");
        }
    }
}
