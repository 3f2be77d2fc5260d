package io.ragline.cli;

import io.ragline.testkit.KafkaCluster;
import io.ragline.testkit.TcpProxy;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The soak's faults, one at a time, each chosen at random from a seeded {@link Random} so that a
 * seed replays the same sequence of choices: a worker process SIGKILLed or SIGTERMed and started
 * again, a broker SIGKILLed and started again after a few seconds (a follower, or the node that is
 * the active KRaft controller; no broker is killed again until every partition is back in full ISR
 * and the node is a caught-up quorum follower, so that at most one broker is ever out), or the
 * Postgres proxy cut for a few seconds. The first five faults are the five kinds in a random order,
 * so a short run has each.
 * Between two faults a pause of a few seconds. A worker that exits while nobody stopped it is
 * recorded (with its stderr) and started again.
 */
final class ChaosFaults implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ChaosFaults.class);

    enum Kind {
        WORKER_SIGKILL,
        WORKER_SIGTERM,
        BROKER_SIGKILL,
        /** A SIGKILL of the node that is the active KRaft controller (a broker as well). */
        CONTROLLER_SIGKILL,
        POSTGRES_CUT
    }

    /** How often each kind is drawn after the first five: worker faults are the common case. */
    private static final List<Kind> DRAW = List.of(
            Kind.WORKER_SIGKILL,
            Kind.WORKER_SIGKILL,
            Kind.WORKER_SIGKILL,
            Kind.WORKER_SIGTERM,
            Kind.WORKER_SIGTERM,
            Kind.BROKER_SIGKILL,
            Kind.CONTROLLER_SIGKILL,
            Kind.POSTGRES_CUT);

    private final Random random;
    private final ChaosWorkers workers;
    private final KafkaCluster kafka;
    private final TcpProxy postgres;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();
    /** Starts a worker that exited by itself again after {@link #RESTART_DELAY}, as a restart policy would. */
    private final ScheduledExecutorService supervisor = Executors.newSingleThreadScheduledExecutor();

    private final Map<Kind, Integer> survived = Collections.synchronizedMap(new EnumMap<>(Kind.class));
    private final List<String> cleanStopFailures = Collections.synchronizedList(new ArrayList<>());
    private final List<String> crashes = Collections.synchronizedList(new ArrayList<>());
    private final List<String> startupFailures = Collections.synchronizedList(new ArrayList<>());
    private final java.util.concurrent.atomic.AtomicInteger termsWhileStarting =
            new java.util.concurrent.atomic.AtomicInteger();
    private final List<Kind> firstKinds = new ArrayList<>(List.of(Kind.values()));
    private final CompletableFuture<Long> done = new CompletableFuture<>();
    private static final Duration RESTART_DELAY = Duration.ofSeconds(3);
    private final Map<ChaosWorkers.Replica, Long> restartDue = new java.util.HashMap<>();
    /** Set once the faults are over: crashed workers are started again at once. */
    private volatile boolean finishing;

    /** Until every partition is in full ISR again after a broker's restart. */
    private volatile CompletableFuture<Void> catchingUp = CompletableFuture.completedFuture(null);

    private long lastRepairNanos;
    private volatile long brokerBackNanos;
    private long endNanos;
    private volatile long startedNanos;

    ChaosFaults(long seed, ChaosWorkers workers, KafkaCluster kafka, TcpProxy postgres) {
        this.random = new Random(seed);
        this.workers = workers;
        this.kafka = kafka;
        this.postgres = postgres;
        Collections.shuffle(firstKinds, random);
    }

    /**
     * Starts faulting for {@code duration}; the future completes, once every partition is in full
     * ISR again, with the {@link System#nanoTime()} at which the last fault was repaired (the worker
     * started again, the broker restarted, the proxy restored), or exceptionally if a fault could
     * not be applied.
     */
    CompletableFuture<Long> run(Duration duration) {
        startedNanos = System.nanoTime();
        endNanos = startedNanos + duration.toNanos();
        timer.schedule(this::next, pause(), TimeUnit.MILLISECONDS);
        supervisor.scheduleWithFixedDelay(
                () -> {
                    try {
                        restartCrashed();
                    } catch (Exception e) {
                        done.completeExceptionally(e);
                    }
                },
                1,
                1,
                TimeUnit.SECONDS);
        return done;
    }

    long startedNanos() {
        return startedNanos;
    }

    private long pause() {
        return 2000 + random.nextInt(3000);
    }

    private long outage() {
        return 2000 + random.nextInt(4000);
    }

    private void next() {
        try {
            restartCrashed();
            if (System.nanoTime() >= endNanos) {
                // Longer than a restart and both of its waits (3 minutes each): their own failure,
                // which says what was missing, is the one reported.
                catchingUp.get(8, TimeUnit.MINUTES);
                supervisor.shutdownNow();
                finishing = true;
                restartCrashed();
                done.complete(Math.max(lastRepairNanos, brokerBackNanos));
                return;
            }
            boolean first = !firstKinds.isEmpty();
            Kind kind = first ? firstKinds.remove(0) : DRAW.get(random.nextInt(DRAW.size()));
            if (first && brokerStillOut(kind)) {
                firstKinds.add(0, kind); // a short run must still have each kind: it comes next
                kind = Kind.WORKER_SIGKILL;
            }
            apply(kind);
        } catch (Throwable e) {
            done.completeExceptionally(e);
        }
    }

    /** A broker fault now would take a second broker out while the last one still catches up. */
    private boolean brokerStillOut(Kind kind) {
        return (kind == Kind.BROKER_SIGKILL || kind == Kind.CONTROLLER_SIGKILL) && !catchingUp.isDone();
    }

    private void apply(Kind kind) throws Exception {
        switch (kind) {
            case WORKER_SIGKILL -> {
                ChaosWorkers.Replica r = workers.random(random);
                log.info("chaos: SIGKILL {}", r);
                synchronized (this) { // not beside restartCrashed starting the same replica
                    restartDue.remove(r);
                    workers.kill(r);
                }
                repaired(kind, 0, () -> {});
            }
            case WORKER_SIGTERM -> {
                ChaosWorkers.Replica r = workers.random(random);
                log.info("chaos: SIGTERM {}", r);
                java.util.OptionalInt code;
                synchronized (this) { // not beside restartCrashed starting the same replica
                    restartDue.remove(r);
                    code = workers.terminate(r, 90);
                }
                if (code.isEmpty()) {
                    termsWhileStarting.incrementAndGet();
                } else if (code.getAsInt() != 0) {
                    cleanStopFailures.add(r + " exited " + code.getAsInt() + " after SIGTERM");
                }
                repaired(kind, 0, () -> {});
            }
            case BROKER_SIGKILL, CONTROLLER_SIGKILL -> {
                if (brokerStillOut(kind)) {
                    // A second broker out of the ISR would leave partitions below min.insync.replicas.
                    log.info("chaos: a broker is still catching up; a worker SIGKILL instead");
                    apply(Kind.WORKER_SIGKILL);
                    return;
                }
                int controller = kafka.activeController();
                int broker;
                if (kind == Kind.CONTROLLER_SIGKILL) {
                    broker = controller;
                } else {
                    int drawn = 1 + random.nextInt(kafka.brokers() - 1);
                    broker = drawn >= controller ? drawn + 1 : drawn;
                }
                long outage = outage();
                log.info(
                        "chaos: SIGKILL broker {} (the active controller is {}) for {} ms", broker, controller, outage);
                kafka.kill(broker);
                // The broker's JVM may take most of a minute to start on a loaded machine: other
                // faults go on meanwhile, and no broker is killed until it is back in every ISR and,
                // a controller too, a caught-up follower of the quorum.
                repaired(
                        kind,
                        outage,
                        () -> catchingUp = CompletableFuture.runAsync(() -> {
                                    long restarting = System.nanoTime();
                                    Instant restarted = Instant.now();
                                    kafka.restart(broker);
                                    brokerBackNanos = System.nanoTime();
                                    kafka.awaitFullIsr(Duration.ofMinutes(3));
                                    kafka.awaitRejoined(broker, restarted, Duration.ofMinutes(3));
                                    log.info(
                                            "chaos: broker {} listed {} ms after its restart began, every partition in full ISR"
                                                    + " and the node a caught-up quorum follower {} ms later",
                                            broker,
                                            (brokerBackNanos - restarting) / 1_000_000,
                                            (System.nanoTime() - brokerBackNanos) / 1_000_000);
                                })
                                // A node that does not come back fails the soak now, with what was missing:
                                // no later broker fault may take a second one out.
                                .whenComplete((ok, failed) -> {
                                    if (failed != null) {
                                        done.completeExceptionally(failed);
                                    }
                                }));
            }
            case POSTGRES_CUT -> {
                long outage = outage();
                log.info("chaos: Postgres proxy cut for {} ms", outage);
                postgres.cut();
                repaired(kind, outage, () -> {
                    postgres.restore();
                    log.info("chaos: Postgres proxy restored");
                });
            }
        }
    }

    /** After {@code outageMs}, runs {@code repair}, counts the fault and schedules the next one. */
    private void repaired(Kind kind, long outageMs, ThrowingRunnable repair) {
        timer.schedule(
                () -> {
                    try {
                        repair.run();
                        lastRepairNanos = System.nanoTime();
                        survived.merge(kind, 1, Integer::sum);
                        timer.schedule(this::next, pause(), TimeUnit.MILLISECONDS);
                    } catch (Throwable e) {
                        done.completeExceptionally(e);
                    }
                },
                outageMs,
                TimeUnit.MILLISECONDS);
    }

    /**
     * Starts again, as a supervisor would, every worker that exited by itself. One that exited
     * before it was ever ready was started during an outage (of Postgres through the proxy, or of
     * the broker it asked) and refused to start, as documented: exit 2 when its start-up check
     * could not connect, exit 1 when a later start-up step lost the connection. Counted, with its
     * first error, not a failure. One that exited after it was ready is a crash.
     */
    synchronized void restartCrashed() throws Exception {
        long now = System.nanoTime();
        for (ChaosWorkers.Replica r : workers.crashed()) {
            // A restart policy waits a little (Docker's grows from 100 ms, Kubernetes' from 10 s).
            long due = restartDue.computeIfAbsent(r, k -> now + RESTART_DELAY.toNanos());
            if (now < due && !finishing) {
                continue;
            }
            restartDue.remove(r);
            int code = r.current().process().exitValue();
            String stderr = r.current().stderr();
            if (!stderr.contains(ChaosWorkers.READY)) {
                startupFailures.add(r + " exited " + code + " while starting: " + firstError(stderr));
            } else {
                crashes.add(r + " exited " + code + " by itself:\n" + ChaosWorkers.tail(r, 4000));
            }
            log.warn("chaos: {} exited {} by itself; starting it again", r, code);
            r.start();
        }
    }

    /** The first line that says what went wrong: a configuration problem or a start-up failure. */
    private static String firstError(String stderr) {
        return stderr.lines()
                .filter(l -> l.startsWith("  - ") || l.contains(" failed to start: "))
                .findFirst()
                .orElse("(no error line)");
    }

    /** Workers that exited while starting, before they were ever ready: an outage refused their start. */
    List<String> startupFailures() {
        return List.copyOf(startupFailures);
    }

    /** Faults applied and repaired, by kind. */
    Map<Kind, Integer> survived() {
        synchronized (survived) {
            return new EnumMap<>(survived);
        }
    }

    /** SIGTERMs that reached a worker not yet ready (still starting, or refused to start). */
    int termsWhileStarting() {
        return termsWhileStarting.get();
    }

    /** Workers that were ready and did not exit 0 after SIGTERM. */
    List<String> cleanStopFailures() {
        return List.copyOf(cleanStopFailures);
    }

    /** Workers that exited while nobody stopped them, with their stderr's end. */
    List<String> crashes() throws Exception {
        restartCrashed();
        return List.copyOf(crashes);
    }

    @Override
    public void close() {
        timer.shutdownNow();
        supervisor.shutdownNow();
        postgres.restore();
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }
}
