package io.ragline.core.consumer;

import io.ragline.core.WorkerMain;
import io.ragline.core.config.Env;
import java.util.List;

/**
 * A worker process for tests that need a real OS process (SIGTERM, SIGKILL): it consumes
 * FIXTURE_TOPIC into the {@code applied} table, sleeping FIXTURE_SLEEP_MS inside each batch's
 * transaction, with overlapped writes when FIXTURE_OVERLAP is {@code true}.
 */
public final class ConsumerFixtureMain {
    private ConsumerFixtureMain() {}

    public static void main(String[] args) {
        String topic = System.getenv("FIXTURE_TOPIC");
        long sleep = Long.parseLong(System.getenv().getOrDefault("FIXTURE_SLEEP_MS", "0"));
        boolean overlap = Boolean.parseBoolean(System.getenv().getOrDefault("FIXTURE_OVERLAP", "false"));
        System.exit(WorkerMain.run(
                "fixture",
                0,
                Env.load(),
                runtime -> runtime.consume(new ConsumerBinding<>(
                                "fixture", List.of(topic), AppliedTable.decoder(), AppliedTable.writer(sleep))
                        .withOverlappedWrites(overlap))));
    }
}
