package io.ragline.cli;

import io.ragline.contracts.status.ClaudeEventStatus;
import io.ragline.core.config.Env;
import io.ragline.core.events.ClaudeEvents;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code ragline events list|replay}: the inbound events of {@code claude_events} (webhooks and SQL
 * inserts) with their routing status, and replaying one so the ingest-worker routes it again.
 */
@Command(
        name = "events",
        mixinStandardHelpOptions = true,
        description = "List claude_events with their routing status, or replay one.",
        subcommands = {EventsCommand.List.class, EventsCommand.Replay.class})
final class EventsCommand implements Runnable {
    static final java.util.List<String> STATUSES = Arrays.stream(ClaudeEventStatus.values())
            .map(ClaudeEventStatus::stored)
            .toList();
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT).withZone(ZoneOffset.UTC);

    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "The newest events first (times in UTC), with status, attempts and last error.")
    static final class List implements Callable<Integer> {
        @Option(names = "--status", description = "received, processed, failed or ignored (published is never set).")
        String status;

        @Option(names = "--source", description = "Only events of this source.")
        String source;

        @Option(
                names = "--limit",
                defaultValue = "50",
                description = "At most this many events (default ${DEFAULT-VALUE}).")
        int limit;

        @Override
        public Integer call() {
            Env env = Env.load();
            if (status != null && !STATUSES.contains(status)) {
                env.problem("--status must be one of " + String.join(", ", STATUSES) + ", not '" + status + "'");
            }
            if (limit < 1 || limit > 100_000) {
                env.problem("--limit must be between 1 and 100000");
            }
            return CollectionsCommand.withConnection("events list", env, c -> {
                ClaudeEvents.Filter filter = new ClaudeEvents.Filter(
                        source, null, status == null ? null : ClaudeEventStatus.fromStored(status), null);
                String format = "%-8s %-16s %-24s %-20s %-9s %8s %-19s  %-19s  %s%n";
                System.out.printf(
                        Locale.ROOT,
                        format,
                        "ID",
                        "SOURCE",
                        "DELIVERY ID",
                        "TYPE",
                        "STATUS",
                        "ATTEMPTS",
                        "CREATED",
                        "PROCESSED",
                        "LAST ERROR");
                java.util.List<ClaudeEvents.Event> events = ClaudeEvents.list(c, filter, limit);
                for (ClaudeEvents.Event e : events) {
                    System.out.printf(
                            Locale.ROOT,
                            format,
                            e.id(),
                            cut(e.source(), 16),
                            cut(e.deliveryId(), 24),
                            cut(e.eventType(), 20),
                            e.status(),
                            e.attempts(),
                            time(e.receivedAt()),
                            time(e.routedAt()),
                            (e.replays() > 0 ? "[replay " + e.replays() + "] " : "") + cut(oneLine(e.error()), 80));
                }
                int rows = events.size();
                System.err.println(rows
                        + (rows == 1 ? " event" : " events")
                        + (rows == limit ? " (the newest " + limit + "; --limit shows more)" : ""));
                return 0;
            });
        }
    }

    @Command(
            name = "replay",
            mixinStandardHelpOptions = true,
            description = "Route events again: status back to received, the event re-published through the outbox.")
    static final class Replay implements Callable<Integer> {
        @Parameters(paramLabel = "ID", arity = "1..*", description = "claude_events ids (see `events list`).")
        java.util.List<Long> ids;

        @Override
        public Integer call() {
            return CollectionsCommand.withConnection("events replay", Env.load(), c -> {
                int missing = 0;
                for (long id : ids) {
                    Optional<ClaudeEvents.Event> replayed = ClaudeEvents.replay(c, id);
                    if (replayed.isPresent()) {
                        ClaudeEvents.Event e = replayed.get();
                        System.out.println("replaying event " + id + " (" + e.source() + "/" + e.deliveryId() + ", "
                                + e.eventType() + "): replay " + e.replays() + ", status " + e.status());
                    } else {
                        System.err.println("ragline events replay: no event with id " + id);
                        missing++;
                    }
                }
                return missing == 0 ? 0 : 1;
            });
        }
    }

    private static String time(Instant t) {
        return t == null ? "-" : TIME.format(t);
    }

    private static String oneLine(String s) {
        return s == null ? "" : s.replaceAll("\\s+", " ");
    }

    private static String cut(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }
}
