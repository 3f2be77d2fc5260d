package io.ragline.console.system;

import io.ragline.core.db.Migrations;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What Postgres says about the pipeline (the CLI's {@code ragline status} and the console's
 * {@code GET /api/v1/system}): the outbox backlog and the age of its oldest row, the outbox dead
 * letters, the event-dispatcher holding the outbox lease ({@code dispatcher_leases}, migration
 * V3), the records each consumer group applied ({@code consumer_offsets}) and the schema's version.
 * One snapshot: every read in one statement each, on the caller's connection.
 */
public final class PipelineStatus {
    /** The lease the event-dispatcher holds while it publishes the outbox. */
    public static final String OUTBOX_LEASE = "outbox";

    private PipelineStatus() {}

    /** Rows waiting in the outbox; {@code oldestAgeSeconds} 0 when none. */
    public record Backlog(long rows, double oldestAgeSeconds) {}

    /** {@code outbox_dead_letters}: how many, and the latest's time (null when none). */
    public record DeadLetters(long rows, Instant latest) {}

    /** The dispatcher holding the outbox lease now (a lease past its expiry is held by none). */
    public record Lease(String holder, Instant expiresAt, double secondsLeft) {}

    /** A consumer group's stored offsets on one topic: partitions and records applied (the offsets' sum). */
    public record Applied(String group, String topic, long partitions, long records) {}

    /** The whole picture. */
    public record Snapshot(
            Backlog outbox,
            DeadLetters deadLetters,
            Optional<Lease> lease,
            List<Applied> applied,
            Optional<String> schemaVersion) {}

    public static Snapshot read(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            return new Snapshot(backlog(s), deadLetters(s), lease(s), applied(s), schemaVersion(s));
        }
    }

    private static Backlog backlog(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("select count(*), coalesce(extract(epoch from clock_timestamp() -"
                + " min(created_at)), 0) from outbox")) {
            rs.next();
            return new Backlog(rs.getLong(1), rs.getDouble(2));
        }
    }

    private static DeadLetters deadLetters(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("select count(*), max(dead_lettered_at) from outbox_dead_letters")) {
            rs.next();
            OffsetDateTime latest = rs.getObject(2, OffsetDateTime.class);
            return new DeadLetters(rs.getLong(1), latest == null ? null : latest.toInstant());
        }
    }

    private static Optional<Lease> lease(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("select holder, expires_at, extract(epoch from expires_at -"
                + " clock_timestamp()) from dispatcher_leases where name = '" + OUTBOX_LEASE + "'")) {
            if (rs.next() && rs.getDouble(3) > 0) {
                return Optional.of(new Lease(
                        rs.getString(1), rs.getObject(2, OffsetDateTime.class).toInstant(), rs.getDouble(3)));
            }
            return Optional.empty();
        }
    }

    private static List<Applied> applied(Statement s) throws SQLException {
        List<Applied> applied = new ArrayList<>();
        try (ResultSet rs = s.executeQuery("select group_id, topic, count(*), sum(next_offset) from"
                + " consumer_offsets group by group_id, topic order by 1, 2")) {
            while (rs.next()) {
                applied.add(new Applied(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4)));
            }
        }
        return applied;
    }

    private static Optional<String> schemaVersion(Statement s) throws SQLException {
        try (ResultSet rs = s.executeQuery("select version from " + Migrations.HISTORY_TABLE + " where success and"
                + " version is not null order by installed_rank desc limit 1")) {
            return rs.next() ? Optional.ofNullable(rs.getString(1)) : Optional.empty();
        } catch (SQLException e) {
            if ("42P01".equals(e.getSQLState()) && s.getConnection().getAutoCommit()) {
                return Optional.empty(); // a schema Flyway never migrated (made by hand)
            }
            throw e;
        }
    }
}
