package io.ragline.cli;

import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code ragline} command. {@code ./ragline} (bash) builds what is missing and runs this. */
@Command(
        name = "ragline",
        mixinStandardHelpOptions = true,
        versionProvider = RaglineCli.Version.class,
        description = "Keeps a RAG store in PostgreSQL (pgvector) fresh from Kafka.",
        subcommands = {
            DevCommand.class,
            MigrateCommand.class,
            RolesCommand.class,
            StatusCommand.class,
            CollectionsCommand.class,
            EventsCommand.class,
            ConversationsCommand.class,
            TrainingCommand.class,
            PublishCommand.class,
            SearchCommand.class,
            DemoCommand.class,
            HealthCommand.class
        })
public final class RaglineCli implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        // Before the first logger exists: logback.xml picks the appender from this property.
        String format = System.getenv().getOrDefault("RAGLINE_LOG_FORMAT", "text");
        System.setProperty("ragline.log.format", "json".equalsIgnoreCase(format.strip()) ? "json" : "text");
        System.setProperty(
                "ragline.log.level",
                System.getenv().getOrDefault("RAGLINE_LOG_LEVEL", "INFO").toUpperCase(Locale.ROOT));
        System.exit(commandLine().execute(args));
    }

    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new RaglineCli());
        WorkerCommands.register(cli);
        return cli;
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = RaglineCli.class.getPackage().getImplementationVersion();
            return new String[] {"ragline " + (v == null ? "development build" : v)};
        }
    }
}
