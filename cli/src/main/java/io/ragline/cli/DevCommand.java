package io.ragline.cli;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.devstack.DevServices;
import io.ragline.devstack.DevShape;
import io.ragline.devstack.DevStack;
import io.ragline.devstack.DevStack.BrokerAction;
import io.ragline.devstack.DevStackException;
import io.ragline.devstack.Progress;
import io.ragline.devstack.ServiceStatus;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ragline dev up | down | status | kafka | postgres}: the local PostgreSQL (with pgvector) and Kafka
 * for development, as one broker and one server or, on request, as a Kafka cluster whose brokers
 * stop and start one by one and a PostgreSQL primary with a standby to promote.
 */
@Command(
        name = "dev",
        mixinStandardHelpOptions = true,
        description = "Development services: PostgreSQL with pgvector and a Kafka broker (or cluster).",
        subcommands = {
            DevCommand.Up.class,
            DevCommand.Down.class,
            DevCommand.Status.class,
            DevCommand.Kafka.class,
            DevCommand.Postgres.class
        })
final class DevCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    static Path home() {
        return Path.of(System.getenv().getOrDefault("RAGLINE_HOME", "."))
                .toAbsolutePath()
                .normalize();
    }

    private static DevStack stack() {
        return new DevStack(home(), System.getenv(), Progress.stderr());
    }

    /** Runs {@code action}: 0, or 1 with the dev stack's message after {@code command}'s name. */
    private static int run(String command, Runnable action) {
        try {
            action.run();
            return 0;
        } catch (DevStackException e) {
            System.err.println("ragline " + command + ": " + e.getMessage());
            return 1;
        }
    }

    @Command(
            name = "up",
            mixinStandardHelpOptions = true,
            description = {
                "Start PostgreSQL (with pgvector) and Kafka unless DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS are set,",
                "wait until both are ready, write them to .ragline/dev.env and print them. Idempotent.",
                "Docker Compose where a Docker engine runs, else local processes (RAGLINE_DEV_MODE=local|docker).",
                "The options change what runs (local processes only) and are remembered: a later `dev up`",
                "without them keeps the Kafka cluster and the standby; `--kafka-brokers 1 --no-postgres-standby`",
                "returns to the default."
            })
    static final class Up implements Callable<Integer> {
        @Option(
                names = "--kafka-brokers",
                paramLabel = "N",
                description = "Kafka as a KRaft cluster of N brokers, each its own process (replication factor"
                        + " min(3, N), min.insync.replicas 2 from 3 brokers); 1 is a single broker.")
        Integer kafkaBrokers;

        @Option(
                names = "--postgres-standby",
                negatable = true,
                description = "PostgreSQL with a synchronous streaming standby that `dev postgres promote` promotes;"
                        + " DATABASE_URL then names both servers with target_session_attrs=read-write.")
        Boolean postgresStandby;

        @Override
        public Integer call() {
            DevStack stack = stack();
            return run("dev up", () -> {
                DevShape shape = stack.shape().with(kafkaBrokers, postgresStandby);
                DevServices services = stack.up(shape);
                System.out.println("DATABASE_URL=" + DatabaseUrl.mask(services.databaseUrl()));
                System.out.println("KAFKA_BOOTSTRAP_SERVERS=" + services.kafkaBootstrapServers());
                if (!shape.isDefault()) {
                    System.out.println("# Kafka: "
                            + (shape.kafkaBrokers() == 1
                                    ? "one broker"
                                    : shape.kafkaBrokers() + " brokers (ragline dev kafka stop|kill|start N)")
                            + "; PostgreSQL: "
                            + (shape.postgresStandby()
                                    ? "a primary and a synchronous standby (ragline dev postgres promote)"
                                    : "one server"));
                }
                System.out.println("# written to " + home().relativize(stack.envFile())
                        + " (with the password); use it with: set -a; . " + home().relativize(stack.envFile())
                        + "; set +a");
            });
        }
    }

    @Command(
            name = "down",
            mixinStandardHelpOptions = true,
            description = "Stop what `dev up` started. Data stays in .ragline/ (or in Docker volumes).")
    static final class Down implements Callable<Integer> {
        @Override
        public Integer call() {
            return run("dev down", () -> stack().down());
        }
    }

    @Command(
            name = "status",
            mixinStandardHelpOptions = true,
            description = {
                "The local processes of `dev up` (each broker, the primary, the standby): address and state.",
                "Exit 0 if every one runs, 3 if any does not (as after `dev kafka stop N` or `dev down`)."
            })
    static final class Status implements Callable<Integer> {
        static final int NOT_ALL_RUNNING = 3;

        @Override
        public Integer call() {
            try {
                List<ServiceStatus> services = stack().status();
                for (ServiceStatus s : services) {
                    System.out.printf(
                            "%-18s %-22s %s%s%n",
                            s.service(),
                            s.address(),
                            s.running() ? "running" : "stopped",
                            s.note().isEmpty() ? "" : " (" + s.note() + ")");
                }
                return services.stream().allMatch(ServiceStatus::running) ? 0 : NOT_ALL_RUNNING;
            } catch (DevStackException e) {
                System.err.println("ragline dev status: " + e.getMessage());
                return 1;
            }
        }
    }

    @Command(
            name = "kafka",
            mixinStandardHelpOptions = true,
            description = "One broker of the cluster `dev up --kafka-brokers N` runs: stop, kill or start it.",
            subcommands = {KafkaStop.class, KafkaKill.class, KafkaStart.class})
    static final class Kafka implements Runnable {
        @Override
        public void run() {
            new picocli.CommandLine(this).usage(System.out);
        }
    }

    /** {@code dev kafka stop|kill|start BROKER}. */
    abstract static class BrokerCommand implements Callable<Integer> {
        @Parameters(paramLabel = "BROKER", description = "The broker's number, from 1.")
        int broker;

        abstract BrokerAction action();

        @Override
        public Integer call() {
            return run(
                    "dev kafka " + action().name().toLowerCase(java.util.Locale.ROOT),
                    () -> stack().kafkaBroker(broker, action()));
        }
    }

    @Command(
            name = "stop",
            mixinStandardHelpOptions = true,
            description = "SIGTERM to the broker: a controlled shutdown (its partitions' leadership moves first).")
    static final class KafkaStop extends BrokerCommand {
        @Override
        BrokerAction action() {
            return BrokerAction.STOP;
        }
    }

    @Command(name = "kill", mixinStandardHelpOptions = true, description = "SIGKILL to the broker, as a crash.")
    static final class KafkaKill extends BrokerCommand {
        @Override
        BrokerAction action() {
            return BrokerAction.KILL;
        }
    }

    @Command(
            name = "start",
            mixinStandardHelpOptions = true,
            description = "Start the broker again on its ports and data; returns once the cluster lists it.")
    static final class KafkaStart extends BrokerCommand {
        @Override
        BrokerAction action() {
            return BrokerAction.START;
        }
    }

    @Command(
            name = "postgres",
            mixinStandardHelpOptions = true,
            description = "The primary and standby `dev up --postgres-standby` runs.",
            subcommands = {Promote.class})
    static final class Postgres implements Runnable {
        @Override
        public void run() {
            new picocli.CommandLine(this).usage(System.out);
        }
    }

    @Command(
            name = "promote",
            mixinStandardHelpOptions = true,
            description = {
                "Fail over: stop the primary as a crash would (pg_ctl stop -m immediate) and promote the standby,",
                "which accepts writes when this returns. DATABASE_URL names both servers: clients follow."
            })
    static final class Promote implements Callable<Integer> {
        @Override
        public Integer call() {
            return run("dev postgres promote", () -> stack().promotePostgresStandby());
        }
    }
}
