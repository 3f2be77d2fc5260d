package io.ragline.core.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.Database;
import io.ragline.testkit.PostgresSchema;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Retention against a real database, as a {@code ragline_worker} login (as the event-dispatcher
 * runs it): {@code retention_delete()} batch after batch, each committed before the next, while
 * other writers go on; and what it keeps.
 */
class RetentionIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    private static HikariDataSource pool;

    @BeforeAll
    static void connect() throws Exception {
        DatabaseUrl url = DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow();
        pool = Database.pool(url, db.schema(), 4, "retention-it", null);
    }

    @AfterAll
    static void close() {
        pool.close();
    }

    @BeforeEach
    void empty() throws SQLException {
        for (String table : List.of(
                "claude_events",
                "outbox",
                "model_metrics",
                "models",
                "training_jobs",
                "documents",
                "outbox_dead_letters",
                "dead_letter_dispositions",
                "consumer_offsets",
                "conversation_sessions")) {
            db.execute("delete from " + table);
        }
    }

    private static RetentionSettings settings(int batch, Map<RetentionTarget, Optional<Duration>> changes) {
        Map<RetentionTarget, Optional<Duration>> windows =
                new EnumMap<>(RetentionSettings.defaults().windows());
        windows.putAll(changes);
        return new RetentionSettings(windows, batch, Duration.ofHours(1), RetentionSettings.Scheduler.IN_PROCESS);
    }

    private static Map<RetentionTarget, Long> run(Retention retention) throws SQLException {
        try (Connection c = pool.getConnection()) {
            return retention.run(c, () -> true);
        }
    }

    private static long count(String sql) throws SQLException {
        return ((Number) db.queryValue(sql)).longValue();
    }

    @Test
    void theSqlFunctionKnowsExactlyTheTargetsTheSettingsName() throws SQLException {
        try (Connection c = pool.getConnection();
                Statement s = c.createStatement();
                var rs = s.executeQuery("select retention_targets()")) {
            rs.next();
            Array targets = rs.getArray(1);
            assertThat((String[]) targets.getArray())
                    .containsExactlyInAnyOrder(Arrays.stream(RetentionTarget.values())
                            .map(RetentionTarget::sqlName)
                            .toArray(String[]::new));
        }
    }

    @Test
    void oldRowsAreRemovedInCommittedBatchesWhileDocumentsAndEventsFlow() throws Exception {
        db.execute("insert into claude_events (source, event_type, payload, status, created_at, processed_at)"
                + " select 'github', 'push', '{}', 'processed', now() - interval '40 days',"
                + " now() - interval '40 days' from generate_series(1, 2500)");
        db.execute("insert into documents (collection_id, external_id, status, version, deleted_at, updated_at)"
                + " select 1, 'gone-' || g, 'deleted', 3, now() - interval '40 days', now() - interval '40 days'"
                + " from generate_series(1, 2500) g");
        db.execute("delete from outbox"); // the events' trigger wrote their outbox rows

        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicLong written = new AtomicLong();
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            try (Connection c = pool.getConnection();
                    PreparedStatement doc = c.prepareStatement("insert into documents (collection_id, external_id,"
                            + " status, version) values (1, ?, 'received', 1) on conflict (collection_id, external_id)"
                            + " do update set version = documents.version + 1");
                    PreparedStatement event = c.prepareStatement("insert into claude_events (source, event_type,"
                            + " payload, status, processed_at) values ('github', 'push', '{}', 'processed', now())")) {
                while (writing.get() || written.get() < 200) {
                    doc.setString(1, "live-" + (written.get() % 100));
                    doc.executeUpdate();
                    event.executeUpdate();
                    written.incrementAndGet();
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });

        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Retention retention = new Retention(settings(500, Map.of()), registry);
        List<Long> oldEventsSeenBetweenBatches = new ArrayList<>();
        List<Long> writtenSeenBetweenBatches = new ArrayList<>();
        Map<RetentionTarget, Long> removed;
        try (Connection c = pool.getConnection()) {
            removed = retention.run(c, () -> {
                try {
                    oldEventsSeenBetweenBatches.add(
                            count("select count(*) from claude_events where created_at < now() - interval '1 day'"));
                    writtenSeenBetweenBatches.add(written.get());
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
                return true;
            });
        } finally {
            writing.set(false);
        }
        writer.get();

        assertThat(removed)
                .containsEntry(RetentionTarget.CLAUDE_EVENTS, 2500L)
                .containsEntry(RetentionTarget.DOCUMENT_TOMBSTONES, 2500L);
        // Another connection saw each batch of 500 gone before the next began: committed one by one.
        assertThat(oldEventsSeenBetweenBatches.subList(0, 6)).containsExactly(2500L, 2000L, 1500L, 1000L, 500L, 0L);
        assertThat(count("select count(*) from documents where status = 'deleted'"))
                .isZero();
        // The writer went on meanwhile, and everything it wrote is there.
        assertThat(writtenSeenBetweenBatches.get(writtenSeenBetweenBatches.size() - 1))
                .isGreaterThan(writtenSeenBetweenBatches.get(0));
        assertThat(count("select count(*) from claude_events")).isEqualTo(written.get());
        assertThat(count("select count(*) from documents")).isEqualTo(Math.min(written.get(), 100));
        assertThat(registry.get("ragline.retention.rows.removed")
                        .tag("target", "claude_events")
                        .counter()
                        .count())
                .isEqualTo(2500.0);
    }

    @Test
    void aRowAWorkerHoldsIsSkippedWithoutWaitingAndRemovedByTheNextRun() throws Exception {
        db.execute("insert into claude_events (source, event_type, payload, status, created_at, processed_at)"
                + " select 'github', 'push', '{}', 'ignored', now() - interval '40 days',"
                + " now() - interval '40 days' from generate_series(1, 3)");
        Retention retention = new Retention(settings(1000, Map.of()), new SimpleMeterRegistry());
        try (Connection holder = pool.getConnection()) {
            holder.setAutoCommit(false);
            try (Statement s = holder.createStatement()) {
                s.execute("select * from claude_events order by id limit 1 for update");
            }
            assertThat(run(retention)).containsEntry(RetentionTarget.CLAUDE_EVENTS, 2L);
            holder.rollback();
        }
        assertThat(run(retention)).containsEntry(RetentionTarget.CLAUDE_EVENTS, 1L);
        assertThat(count("select count(*) from claude_events")).isZero();
    }

    @Test
    void eventsStillToBeRoutedOrYoungerThanTheWindowStay() throws Exception {
        db.execute("insert into claude_events (source, event_type, payload, status, created_at, processed_at) values"
                + " ('a', 'push', '{}', 'received', now() - interval '90 days', null),"
                + " ('a', 'push', '{}', 'failed', now() - interval '90 days', now() - interval '90 days'),"
                + " ('a', 'push', '{}', 'processed', now() - interval '90 days', now() - interval '2 days'),"
                + " ('a', 'push', '{}', 'processed', now() - interval '90 days', now() - interval '90 days')");
        Retention retention = new Retention(
                settings(1000, Map.of(RetentionTarget.CLAUDE_EVENTS, Optional.of(Duration.ofDays(7)))),
                new SimpleMeterRegistry());

        assertThat(run(retention)).containsEntry(RetentionTarget.CLAUDE_EVENTS, 1L);
        assertThat(count("select count(*) from claude_events where status = 'received'"))
                .isEqualTo(1);
        assertThat(count("select count(*) from claude_events where status = 'failed'"))
                .isEqualTo(1);
        assertThat(count("select count(*) from claude_events where status = 'processed'"))
                .isEqualTo(1);
    }

    private static long job(String project, String status, String finishedAgo) throws SQLException {
        return count("insert into training_jobs (request_id, project, task, backend, status, started_at, finished_at)"
                + " values (gen_random_uuid()::text, '" + project + "', 'classification', 'builtin', '" + status
                + "', now() - interval '200 days', "
                + (finishedAgo == null ? "null" : "now() - interval '" + finishedAgo + "'") + ") returning id");
    }

    private static long model(long job, String project, boolean deployed, boolean deployedOnce) throws SQLException {
        long id = count("insert into models (job_id, project, backend, deployed, deployed_at) values (" + job + ", '"
                + project + "', 'builtin', " + deployed + ", " + (deployedOnce ? "now() - interval '150 days'" : "null")
                + ") returning id");
        db.execute("insert into model_metrics (job_id, model_id, name, value) values (" + job + ", " + id
                + ", 'accuracy', 0.9)");
        return id;
    }

    @Test
    void finishedJobsGoWithTheirMetricsButNotWhatADeploymentARollbackOrARunningJobNeeds() throws Exception {
        long stale = job("p", "succeeded", "140 days");
        long staleModel = model(stale, "p", false, false);
        long running = job("p", "running", null);
        long queued = job("p", "queued", null);
        long deployed = job("p", "succeeded", "120 days");
        model(deployed, "p", true, true);
        long rollbackCandidate = job("p", "succeeded", "130 days");
        model(rollbackCandidate, "p", false, true);
        long failed = job("p", "failed", "140 days");
        long young = job("p", "cancelled", "10 days");
        long earlierOfQ = job("q", "succeeded", "150 days");
        model(earlierOfQ, "q", false, false);
        long latestOfQ = job("q", "succeeded", "140 days");
        long newestModelOfQ = model(latestOfQ, "q", false, false);

        Retention retention = new Retention(settings(1000, Map.of()), new SimpleMeterRegistry());
        run(retention);

        assertThat(count("select count(*) from training_jobs where id in (" + stale + ", " + failed + ")"))
                .isZero();
        assertThat(count("select count(*) from models where id = " + staleModel))
                .isZero();
        assertThat(count("select count(*) from model_metrics where job_id = " + stale))
                .isZero();
        assertThat(count("select count(*) from training_jobs where id in (" + running + ", " + queued + ", " + deployed
                        + ", " + rollbackCandidate + ", " + young + ")"))
                .isEqualTo(5);
        assertThat(count("select count(*) from model_metrics where job_id in (" + deployed + ", " + rollbackCandidate
                        + ")"))
                .isEqualTo(2);
        // q's newest model keeps its job (a running job of q compares with it); the earlier one goes.
        assertThat(count("select count(*) from training_jobs where project = 'q'"))
                .isEqualTo(1);
        assertThat(count("select count(*) from training_jobs where id = " + latestOfQ))
                .isEqualTo(1);
        assertThat(count("select count(*) from models where project = 'q'")).isEqualTo(1);
        assertThat(count("select id from models where project = 'q'")).isEqualTo(newestModelOfQ);
    }

    @Test
    void aTargetThatFailsIsNamedAndCountedWhileTheTargetsAfterItStillRun() throws Exception {
        db.execute(
                "insert into claude_events (source, event_type, payload, status, created_at, processed_at)"
                        + " values ('github', 'push', '{}', 'processed', now() - interval '40 days', now() - interval '40 days')");
        db.execute("insert into documents (collection_id, external_id, status, version, deleted_at, updated_at)"
                + " values (1, 'gone', 'deleted', 3, now() - interval '40 days', now() - interval '40 days')");
        // A delete the database refuses: what a broken grant or a site's own trigger would do.
        db.execute("create function refuse_delete() returns trigger language plpgsql as"
                + " $$ begin raise exception 'deletes of claude_events are refused here'; end $$");
        db.execute("create trigger refuse_delete before delete on claude_events for each row execute function"
                + " refuse_delete()");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Retention retention = new Retention(settings(1000, Map.of()), registry);
        try {
            assertThatThrownBy(() -> run(retention))
                    .isInstanceOf(SQLException.class)
                    .hasMessageStartingWith("retention failed for claude_events:")
                    .hasMessageContaining("deletes of claude_events are refused here");
        } finally {
            db.execute("drop trigger refuse_delete on claude_events");
            db.execute("drop function refuse_delete()");
        }

        // claude_events comes before document_tombstones: the tombstone went all the same.
        assertThat(count("select count(*) from documents where external_id = 'gone'"))
                .isZero();
        assertThat(count("select count(*) from claude_events")).isEqualTo(1);
        assertThat(registry.get("ragline.retention.failures")
                        .tag("target", "claude_events")
                        .counter()
                        .count())
                .isEqualTo(1.0);
        assertThat(registry.get("ragline.retention.rows.removed")
                        .tag("target", "document_tombstones")
                        .counter()
                        .count())
                .isEqualTo(1.0);
    }

    @Test
    void aTombstoneGoesOnlyWhenOlderThanTheWindowAndWithoutChunks() throws Exception {
        db.execute("insert into documents (collection_id, external_id, status, version, deleted_at) values"
                + " (1, 'old', 'deleted', 4, now() - interval '40 days'),"
                + " (1, 'young', 'deleted', 4, now() - interval '2 days'),"
                + " (1, 'with-chunks', 'deleted', 4, now() - interval '40 days'),"
                + " (1, 'alive', 'embedded', 4, null)");
        db.execute("update documents set updated_at = now() - interval '40 days', created_at = now() - interval"
                + " '50 days'");
        db.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                + " select id, collection_id, 4, 0, 'x', 1 from documents where external_id = 'with-chunks'");
        Retention retention = new Retention(settings(1000, Map.of()), new SimpleMeterRegistry());

        assertThat(run(retention)).containsEntry(RetentionTarget.DOCUMENT_TOMBSTONES, 1L);
        assertThat(count("select count(*) from documents where external_id = 'old'"))
                .isZero();
        assertThat(count("select count(*) from documents where external_id in ('young', 'with-chunks', 'alive')"))
                .isEqualTo(3);
    }

    @Test
    void idleConversationSessionsGoWithTheirMessagesAndMemoryDocumentsWhenARetentionIsSet() throws Exception {
        db.execute("insert into collections (name) values ('memory') on conflict do nothing");
        db.execute("insert into conversation_sessions (id, collection, updated_at) values"
                + " ('idle', 'memory', now() - interval '40 days'), ('active', null, now() - interval '2 days')");
        db.execute("insert into conversation_messages (session_id, id, role, content) values"
                + " ('idle', 'm1', 'user', 'old question'), ('idle', 'm2', 'assistant', 'old answer'),"
                + " ('active', 'm1', 'user', 'new question')");

        assertThat(run(new Retention(settings(1000, Map.of()), new SimpleMeterRegistry())))
                .as("off by default")
                .doesNotContainKey(RetentionTarget.CONVERSATION_SESSIONS);
        assertThat(count("select count(*) from conversation_sessions")).isEqualTo(2);

        Retention retention = new Retention(
                settings(1, Map.of(RetentionTarget.CONVERSATION_SESSIONS, Optional.of(Duration.ofDays(30)))),
                new SimpleMeterRegistry());
        assertThat(run(retention)).containsEntry(RetentionTarget.CONVERSATION_SESSIONS, 1L);
        assertThat(count("select count(*) from conversation_sessions where id = 'idle'"))
                .isZero();
        assertThat(count("select count(*) from conversation_messages")).isEqualTo(1);
        assertThat(count("select count(*) from outbox where topic = 'documents'"
                        + " and payload->>'op' = 'delete' and key like 'memory/conversation/idle/%'"))
                .as("the memory documents' deletes, through the one home of a session's deletion")
                .isEqualTo(2);
    }

    @Test
    void deadLettersWaitForAnOperatorUnlessARetentionIsSetThenTheirDiscardIsRecorded() throws Exception {
        db.execute("insert into outbox_dead_letters (id, topic, key, payload, headers, priority, created_at,"
                + " attempts, last_error, dead_lettered_at) values"
                + " (1, 'documents', 'k', '{\"a\":1}', '{}', 0, now() - interval '60 days', 5, 'too large',"
                + " now() - interval '60 days'),"
                + " (2, 'documents', 'k', '{\"a\":2}', '{}', 0, now() - interval '1 day', 5, 'too large', now())");
        db.execute("insert into dead_letter_dispositions (kind, topic, outbox_id, action, actor, actor_role, at)"
                + " values ('outbox', 'documents', 9, 'redriven', 'ops', 'operator', now() - interval '100 days'),"
                + " ('outbox', 'documents', 10, 'discarded', 'ops', 'operator', now() - interval '1 day')");
        db.execute("insert into dead_letter_dispositions (kind, topic, kafka_partition, kafka_offset, action, actor,"
                + " actor_role, at) values ('kafka', 'documents.dlq', 0, 7, 'redriven', 'ops', 'operator',"
                + " now() - interval '100 days')");

        run(new Retention(settings(1000, Map.of()), new SimpleMeterRegistry()));
        assertThat(count("select count(*) from outbox_dead_letters")).isEqualTo(2);
        assertThat(count("select count(*) from dead_letter_dispositions where outbox_id = 9"))
                .isZero();
        assertThat(count("select count(*) from dead_letter_dispositions where outbox_id = 10"))
                .isEqualTo(1);
        assertThat(count("select count(*) from dead_letter_dispositions where kind = 'kafka'"))
                .as("a Kafka dead letter's disposition stays: its record may still be in the .dlq topic")
                .isEqualTo(1);

        run(new Retention(
                settings(1000, Map.of(RetentionTarget.OUTBOX_DEAD_LETTERS, Optional.of(Duration.ofDays(30)))),
                new SimpleMeterRegistry()));
        assertThat(count("select count(*) from outbox_dead_letters")).isEqualTo(1);
        assertThat(db.queryValue("select actor || ' ' || action || ' ' || (dead_letter->>'last_error')"
                        + " from dead_letter_dispositions where outbox_id = 1"))
                .isEqualTo("retention discarded too large");
    }

    @Test
    void consumerOffsetsGoOnlyForAGroupThatAppliedNothingWithinTheWindow() throws Exception {
        db.execute("insert into consumer_offsets (group_id, topic, partition, next_offset, updated_at) values"
                + " ('gone', 'documents', 0, 10, now() - interval '60 days'),"
                + " ('gone', 'documents', 1, 10, now() - interval '61 days'),"
                + " ('live', 'documents', 0, 10, now() - interval '60 days'),"
                + " ('live', 'documents', 1, 10, now())");

        assertThat(run(new Retention(settings(1, Map.of()), new SimpleMeterRegistry())))
                .containsEntry(RetentionTarget.CONSUMER_OFFSETS, 2L);
        assertThat(count("select count(*) from consumer_offsets where group_id = 'live'"))
                .isEqualTo(2);
        assertThat(count("select count(*) from consumer_offsets where group_id = 'gone'"))
                .isZero();
    }

    @Test
    void theProcedurePgCronCallsRemovesTheSameRowsAndRefusesAnUnknownTarget() throws Exception {
        db.execute("insert into claude_events (source, event_type, payload, status, created_at, processed_at)"
                + " select 'github', 'push', '{}', 'processed', now() - interval '40 days',"
                + " now() - interval '40 days' from generate_series(1, 25)");
        try (Connection c = pool.getConnection();
                Statement s = c.createStatement()) {
            s.execute("call run_retention('{\"claude_events\": \"30 days\"}', 10)");
            assertThat(count("select count(*) from claude_events")).isZero();
            assertThatThrownBy(() -> s.execute("call run_retention('{\"claude_event\": \"30 days\"}')"))
                    .hasMessageContaining("unknown retention target \"claude_event\"")
                    .hasMessageContaining("claude_events, training_jobs");
        }
    }
}
