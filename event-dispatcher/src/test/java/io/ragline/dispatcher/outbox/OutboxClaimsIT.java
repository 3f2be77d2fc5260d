package io.ragline.dispatcher.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.Database;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The relay's claims against a real outbox: what a stop leaves behind. */
class OutboxClaimsIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @Test
    void aStopWhileTheClaimAheadStillRunsDeletesTheCommittedBatchAllTheSame() throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("insert into outbox (topic, key, payload) select 't', 'k' || i, jsonb_build_object('n', i)"
                    + " from generate_series(1, 6) i");
        }
        DatabaseUrl url = DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow();
        try (var pool = Database.pool(url, db.schema(), 4, "test", null);
                Connection holder = db.connect()) {
            OutboxStore store = new OutboxStore(pool);
            List<OutboxRow> all = store.next(100, 1000);
            List<OutboxRow> earlier = all.subList(0, 2);
            List<OutboxRow> inFlight = all.subList(2, 4);
            OutboxClaims claims = new OutboxClaims(store, new OutboxMetrics(new SimpleMeterRegistry()), 100, 1000);
            claims.committed(earlier);

            // Another transaction holds a row of the earlier batch: the claim ahead, which deletes
            // that batch, waits behind it while the batch in flight commits.
            holder.setAutoCommit(false);
            try (Statement s = holder.createStatement()) {
                s.execute("select id from outbox where id = " + earlier.get(0).id() + " for update");
            }
            claims.claimAhead(inFlight, new OutboxHolds());
            claims.committed(inFlight);
            CompletableFuture<Void> release = CompletableFuture.runAsync(
                    () -> {
                        try {
                            holder.commit();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    },
                    CompletableFuture.delayedExecutor(1, TimeUnit.SECONDS));

            // The relay is asked to stop: its thread is interrupted while it flushes.
            Thread.currentThread().interrupt();
            assertThatThrownBy(claims::flush).isInstanceOf(InterruptedException.class);
            release.get(30, TimeUnit.SECONDS);
            claims.close();

            // Both committed batches are gone: the lease released next hands nothing to publish twice.
            List<Long> committed = List.of(
                    earlier.get(0).id(),
                    earlier.get(1).id(),
                    inFlight.get(0).id(),
                    inFlight.get(1).id());
            assertThat((long) db.queryValue(
                            "select count(*) from outbox where id = any(array" + committed + "::bigint[])"))
                    .isZero();
            assertThat((long) db.queryValue("select count(*) from outbox")).isEqualTo(2);
        }
    }

    @Test
    void aBatchStillCommittingIsLeftOutOfEveryClaimAndClaimedAgainFromTheOldestRowIfItDidNotCommit() throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("delete from outbox");
            s.execute("insert into outbox (topic, key, payload) select 't', 'k', jsonb_build_object('n', i)"
                    + " from generate_series(1, 6) i");
        }
        DatabaseUrl url = DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow();
        try (var pool = Database.pool(url, db.schema(), 2, "test", null);
                OutboxClaims claims = new OutboxClaims(
                        new OutboxStore(pool), new OutboxMetrics(new SimpleMeterRegistry()), 2, 1000)) {
            List<OutboxRow> n = claims.next(new OutboxHolds());
            claims.committing(n);

            List<OutboxRow> next = claims.next(new OutboxHolds());
            assertThat(next).extracting(OutboxRow::id).doesNotContainAnyElementsOf(ids(n));
            assertThat(next.get(0).id()).isGreaterThan(n.get(1).id());

            claims.notCommitted(); // N failed: N+1 is aborted by the relay, and both go again in order
            assertThat(claims.next(new OutboxHolds())).extracting(OutboxRow::id).isEqualTo(ids(n));

            claims.committing(n);
            claims.committed(n); // N committed: the next claim deletes it and goes on after it
            assertThat(claims.next(new OutboxHolds())).extracting(OutboxRow::id).isEqualTo(ids(next));
            assertThat((long) db.queryValue("select count(*) from outbox")).isEqualTo(4);
        } finally {
            try (Connection c = db.connect();
                    Statement s = c.createStatement()) {
                s.execute("delete from outbox"); // the schema is the class's: leave it as found
            }
        }
    }

    /**
     * One producer under a linger: the batch claimed ahead during a commit is claimed at the
     * linger's end, so it holds a row that arrived after the commit began, as a claim made after the
     * linger would.
     */
    @Test
    void aClaimAheadMadeNoSoonerThanTheLingersEndHoldsTheRowsThatArriveUntilThen() throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("delete from outbox");
            s.execute("insert into outbox (topic, key, payload) values ('t', 'k', '{\"n\": 1}')");
        }
        DatabaseUrl url = DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow();
        try (var pool = Database.pool(url, db.schema(), 2, "test", null);
                OutboxClaims claims = new OutboxClaims(
                        new OutboxStore(pool), new OutboxMetrics(new SimpleMeterRegistry()), 100, 1000)) {
            List<OutboxRow> committing = claims.next(new OutboxHolds());

            claims.claimAhead(committing, new OutboxHolds(), System.nanoTime() + 1_000_000_000L);
            try (Connection c = db.connect();
                    Statement s = c.createStatement()) {
                s.execute("insert into outbox (topic, key, payload) values ('t', 'k', '{\"n\": 2}')");
            }
            claims.committed(committing);

            assertThat(claims.next(new OutboxHolds()))
                    .as("claimed at the linger's end: the row inserted after the claim ahead was asked for")
                    .extracting(OutboxRow::payload)
                    .containsExactly("{\"n\": 2}");
        } finally {
            try (Connection c = db.connect();
                    Statement s = c.createStatement()) {
                s.execute("delete from outbox");
            }
        }
    }

    private static List<Long> ids(List<OutboxRow> rows) {
        return rows.stream().map(OutboxRow::id).toList();
    }
}
