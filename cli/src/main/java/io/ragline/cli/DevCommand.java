package io.ragline.cli;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.devstack.DevServices;
import io.ragline.devstack.DevStack;
import io.ragline.devstack.DevStackException;
import io.ragline.devstack.Progress;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;

/** {@code ragline dev up | down}: the local PostgreSQL (with pgvector) and Kafka for development. */
@Command(
        name = "dev",
        mixinStandardHelpOptions = true,
        description = "Development services: PostgreSQL with pgvector and a Kafka broker.",
        subcommands = {DevCommand.Up.class, DevCommand.Down.class})
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

    @Command(
            name = "up",
            mixinStandardHelpOptions = true,
            description = {
                "Start PostgreSQL (with pgvector) and Kafka unless DATABASE_URL / KAFKA_BOOTSTRAP_SERVERS are set,",
                "wait until both are ready, write them to .ragline/dev.env and print them. Idempotent.",
                "Docker Compose where a Docker engine runs, else local processes (RAGLINE_DEV_MODE=local|docker)."
            })
    static final class Up implements Callable<Integer> {
        @Override
        public Integer call() {
            DevStack stack = new DevStack(home(), System.getenv(), Progress.stderr());
            try {
                DevServices services = stack.up();
                System.out.println("DATABASE_URL=" + masked(services.databaseUrl()));
                System.out.println("KAFKA_BOOTSTRAP_SERVERS=" + services.kafkaBootstrapServers());
                System.out.println("# written to " + home().relativize(stack.envFile())
                        + " (with the password); use it with: set -a; . " + home().relativize(stack.envFile())
                        + "; set +a");
                return 0;
            } catch (DevStackException e) {
                System.err.println("ragline dev up: " + e.getMessage());
                return 1;
            }
        }

        private static String masked(String url) {
            return DatabaseUrl.mask(url);
        }
    }

    @Command(
            name = "down",
            mixinStandardHelpOptions = true,
            description = "Stop what `dev up` started. Data stays in .ragline/ (or in Docker volumes).")
    static final class Down implements Callable<Integer> {
        @Override
        public Integer call() {
            try {
                new DevStack(home(), System.getenv(), Progress.stderr()).down();
                return 0;
            } catch (DevStackException e) {
                System.err.println("ragline dev down: " + e.getMessage());
                return 1;
            }
        }
    }
}
