package io.ragline.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A test JVM that ends while processes it started still run (Maven stopping a failsafe JVM, a
 * developer's Ctrl-C) must not leave them behind: here a child JVM that started a grandchild
 * through {@link JavaProcess} gets SIGTERM.
 */
class JavaProcessIT {
    private static final Pattern GRANDCHILD = Pattern.compile("grandchild (\\d+)");

    @Test
    void aJvmEndedBySigtermTakesTheProcessesItStartedWithIt() throws Exception {
        JavaProcess parent = JavaProcess.start(List.of("-Xmx64m"), ParentOfAWorker.class.getName(), Map.of());
        ProcessHandle grandchild = null;
        try {
            await().atMost(Duration.ofSeconds(60))
                    .until(() -> GRANDCHILD.matcher(parent.stdout()).find());
            Matcher m = GRANDCHILD.matcher(parent.stdout());
            assertThat(m.find()).isTrue();
            grandchild = ProcessHandle.of(Long.parseLong(m.group(1))).orElseThrow();
            assertThat(grandchild.isAlive()).isTrue();

            parent.terminate();
            parent.waitFor(30);

            ProcessHandle worker = grandchild;
            await().atMost(JavaProcess.SHUTDOWN_GRACE.plusSeconds(10)).until(() -> !worker.isAlive());
        } finally {
            parent.kill();
            if (grandchild != null) {
                grandchild.destroyForcibly(); // when the test failed: leave nothing behind
            }
        }
    }

    @Test
    void theShutdownHookSendsSigtermToEveryDescendantNotOnlyToItsChildren() throws Exception {
        Path marker = Files.createTempDirectory("ragline-descendant").resolve("marker");
        JavaProcess parent = JavaProcess.start(
                List.of("-Xmx64m"), ParentOfAShell.class.getName(), Map.of("MARKER", marker.toString()));
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(Path.of(marker + ".ready")));

            parent.terminate();
            parent.waitFor(30);

            // What the shell's own child was like when ready (its signal masks), for a failure's message.
            String ready = Files.readString(Path.of(marker + ".ready")).strip();
            await().atMost(JavaProcess.SHUTDOWN_GRACE.plusSeconds(10))
                    .alias("the shell's own child trapped SIGTERM (a SIGKILL leaves no trace); when ready it was: "
                            + ready)
                    .until(() -> Files.exists(marker)
                            && Files.readString(marker).strip().equals("TERM"));
        } finally {
            parent.kill();
        }
    }

    /**
     * A SIGTERM that lands while the JVM is inside {@code ProcessBuilder.start()} (here: always,
     * for a JVM that does nothing else) must not leave the process being started behind, nor any
     * started once the hook has begun.
     */
    @Test
    void aSigtermWhileProcessesAreBeingStartedLeavesNoneOfThemBehind() throws Exception {
        String tag = Long.toString(Math.abs(new java.util.Random().nextLong() % 1_000_000_000L));
        JavaProcess parent = JavaProcess.start(List.of("-Xmx64m"), KeepsStarting.class.getName(), Map.of("TAG", tag));
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> parent.stdout().contains("started 20"));

            parent.terminate();
            parent.waitFor(30);

            await().atMost(JavaProcess.SHUTDOWN_GRACE.plusSeconds(10))
                    .alias("no 'sleep 300." + tag + "' outlives the JVM that started it")
                    .until(() -> tagged(tag).isEmpty());
        } finally {
            parent.kill();
            tagged(tag).forEach(ProcessHandle::destroyForcibly);
        }
    }

    private static List<ProcessHandle> tagged(String tag) {
        return ProcessHandle.allProcesses()
                .filter(h -> h.info()
                        .arguments()
                        .map(a -> List.of(a).contains("300." + tag))
                        .orElse(false))
                .toList();
    }

    /**
     * Starts processes one after the other until the JVM ends (so a SIGTERM lands while one is
     * being started), ending the oldest beyond 50 so their number stays bounded; says how many now
     * and then.
     */
    public static final class KeepsStarting {
        public static void main(String[] args) throws Exception {
            String tag = System.getenv("TAG");
            Path tmp = Path.of(System.getProperty("java.io.tmpdir"));
            java.util.ArrayDeque<JavaProcess> live = new java.util.ArrayDeque<>();
            for (int n = 1; ; n++) {
                try {
                    live.add(JavaProcess.launch(
                            List.of("sleep", "300." + tag), tmp, Map.of("PATH", System.getenv("PATH"))));
                } catch (IllegalStateException ending) {
                    new CountDownLatch(1).await();
                }
                if (live.size() > 50) {
                    live.poll().kill();
                }
                if (n % 20 == 0) {
                    System.out.println("started " + n);
                    System.out.flush();
                }
            }
        }
    }

    /**
     * Starts a shell whose own child (a grandchild of this JVM's, not started by JavaProcess)
     * writes {@code $MARKER} when it gets SIGTERM, then waits to be ended.
     */
    public static final class ParentOfAShell {
        public static void main(String[] args) throws Exception {
            String marker = System.getenv("MARKER");
            String inner = "trap 'echo TERM > " + marker
                    + "; exit 0' TERM; grep -E '^(Pid|PPid|Sig[A-Za-z]+):' /proc/\\$$/status | tr '\\n\\t' '  ' > "
                    + marker + ".status; mv " + marker + ".status " + marker + ".ready; while :; do sleep 0.2; done";
            JavaProcess.launch(
                    List.of("sh", "-c", "sh -c \"" + inner + "\" & wait"),
                    Path.of(System.getProperty("java.io.tmpdir")),
                    Map.of("PATH", System.getenv("PATH")));
            new CountDownLatch(1).await();
        }
    }

    /** Starts a grandchild that would run for ever, says its pid, then waits to be ended. */
    public static final class ParentOfAWorker {
        public static void main(String[] args) throws Exception {
            JavaProcess worker = JavaProcess.start(List.of("-Xmx32m"), RunsForEver.class.getName(), Map.of());
            System.out.println("grandchild " + worker.process().pid());
            System.out.flush();
            new CountDownLatch(1).await();
        }
    }

    /** A worker that never ends by itself. */
    public static final class RunsForEver {
        public static void main(String[] args) throws Exception {
            new CountDownLatch(1).await();
        }
    }
}
