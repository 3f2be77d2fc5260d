package io.ragline.cli;

import io.ragline.core.config.ConfigException;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.db.ConnectFailure;
import io.ragline.core.db.Database;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code ragline status}: what waits in the outbox, who publishes it, how far consumers are. */
@Command(
        name = "status",
        mixinStandardHelpOptions = true,
        description = "Show the outbox backlog, the dispatcher holding the lease, and consumer progress.")
final class StatusCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        Env env = Env.load();
        DatabaseUrl url = DatabaseUrl.from(env);
        String schema =
                env.string(CoreSettings.SCHEMA, CoreSettings.DEFAULT_SCHEMA).toLowerCase(Locale.ROOT);
        try {
            env.validate();
        } catch (ConfigException e) {
            System.err.println("ragline status: " + e.getMessage());
            return 2;
        }
        try (Connection c = Database.connect(url, schema, "status", Duration.ofSeconds(10));
                Statement s = c.createStatement()) {
            System.out.println("database " + url + ", schema " + schema);
            try (ResultSet rs = s.executeQuery("select count(*), coalesce(extract(epoch from clock_timestamp() -"
                    + " min(created_at)), 0) from outbox")) {
                rs.next();
                System.out.printf(
                        Locale.ROOT, "outbox: %d rows waiting, oldest %.1f s%n", rs.getLong(1), rs.getDouble(2));
            }
            try (ResultSet rs = s.executeQuery("select count(*), max(dead_lettered_at) from outbox_dead_letters")) {
                rs.next();
                if (rs.getLong(1) > 0) {
                    System.out.printf(
                            Locale.ROOT,
                            "outbox dead letters: %d rows (latest %s); see docs/operations.md to send them again%n",
                            rs.getLong(1),
                            rs.getTimestamp(2).toInstant());
                }
            }
            try (ResultSet rs = s.executeQuery("select holder, extract(epoch from expires_at - clock_timestamp())"
                    + " from dispatcher_leases where name = 'outbox'")) {
                if (rs.next() && rs.getDouble(2) > 0) {
                    System.out.printf(
                            Locale.ROOT,
                            "dispatcher: %s holds the lease (renewal due within %.1f s)%n",
                            rs.getString(1),
                            rs.getDouble(2));
                } else {
                    System.out.println("dispatcher: none holds the lease (is an event-dispatcher running?)");
                }
            }
            try (ResultSet rs = s.executeQuery("select group_id, topic, count(*), sum(next_offset) from"
                    + " consumer_offsets group by group_id, topic order by 1, 2")) {
                while (rs.next()) {
                    System.out.printf(
                            Locale.ROOT,
                            "consumer %s on %s: %d partitions, %d records applied%n",
                            rs.getString(1),
                            rs.getString(2),
                            rs.getLong(3),
                            rs.getLong(4));
                }
            }
            return 0;
        } catch (SQLException e) {
            System.err.println("ragline status: " + url + ": " + ConnectFailure.explain(url, e)
                    + ("42P01".equals(e.getSQLState()) ? " (run `ragline migrate`)" : ""));
            return 1;
        }
    }
}
