package io.ragline.cli;

import io.ragline.console.system.PipelineStatus;
import io.ragline.core.config.ConfigException;
import io.ragline.core.config.CoreSettings;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.config.Env;
import io.ragline.core.db.ConnectFailure;
import io.ragline.core.db.Database;
import java.sql.Connection;
import java.sql.SQLException;
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
        try (Connection c = Database.connect(url, schema, "status", Duration.ofSeconds(10))) {
            System.out.println("database " + url + ", schema " + schema);
            PipelineStatus.Snapshot status = PipelineStatus.read(c);
            System.out.printf(
                    Locale.ROOT,
                    "outbox: %d rows waiting, oldest %.1f s%n",
                    status.outbox().rows(),
                    status.outbox().oldestAgeSeconds());
            if (status.deadLetters().rows() > 0) {
                System.out.printf(
                        Locale.ROOT,
                        "outbox dead letters: %d rows (latest %s); see docs/operations.md to send them again%n",
                        status.deadLetters().rows(),
                        status.deadLetters().latest());
            }
            status.lease()
                    .ifPresentOrElse(
                            lease -> System.out.printf(
                                    Locale.ROOT,
                                    "dispatcher: %s holds the lease (renewal due within %.1f s)%n",
                                    lease.holder(),
                                    lease.secondsLeft()),
                            () -> System.out.println(
                                    "dispatcher: none holds the lease (is an event-dispatcher running?)"));
            for (PipelineStatus.Applied a : status.applied()) {
                System.out.printf(
                        Locale.ROOT,
                        "consumer %s on %s: %d partitions, %d records applied%n",
                        a.group(),
                        a.topic(),
                        a.partitions(),
                        a.records());
            }
            return 0;
        } catch (SQLException e) {
            System.err.println("ragline status: " + url + ": " + ConnectFailure.explain(url, e)
                    + ("42P01".equals(e.getSQLState()) ? " (run `ragline migrate`)" : ""));
            return 1;
        }
    }
}
