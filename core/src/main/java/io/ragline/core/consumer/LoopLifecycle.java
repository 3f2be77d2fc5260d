package io.ragline.core.consumer;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The life of one consumer on its loop's thread (the runner of {@code KafkaConsumer}'s Javadoc):
 * polls until {@link #stop()}, sorts how the loop ended, and closes the consumer within the
 * loop's close timeout. Whatever ends the loop but {@link #stop()}, an {@link Error} included,
 * goes to {@code onFatal} once: a thread that died quietly would leave the process looking ready
 * while its partitions sit unconsumed. Other threads only call {@link #stop()}.
 */
public final class LoopLifecycle {
    private static final Logger log = LoggerFactory.getLogger(LoopLifecycle.class);

    private final org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer;
    private final String name;
    private final FailurePolicy policy;
    private final Duration pollTimeout;
    private final Duration closeTimeout;
    private final Consumer<Throwable> onFatal;
    private volatile boolean running = true;

    /**
     * @param name how logs name the loop, e.g. {@code consumer of [documents]}
     * @param onFatal called once with the cause when the loop ends for any reason but {@link #stop()}
     */
    public LoopLifecycle(
            org.apache.kafka.clients.consumer.Consumer<byte[], byte[]> consumer,
            String name,
            FailurePolicy policy,
            Duration pollTimeout,
            Duration closeTimeout,
            Consumer<Throwable> onFatal) {
        this.consumer = consumer;
        this.name = name;
        this.policy = policy;
        this.pollTimeout = pollTimeout;
        this.closeTimeout = closeTimeout;
        this.onFatal = onFatal;
    }

    /** Asks the loop to stop after its current poll; the only call other threads make. */
    public void stop() {
        running = false;
        consumer.wakeup();
    }

    public boolean isRunning() {
        return running;
    }

    /**
     * Runs {@code subscribe}, then {@code pollOnce} while running; at the end, however it came,
     * {@code beforeClose} and the consumer's close (at most the close timeout).
     */
    public void run(Runnable subscribe, Runnable pollOnce, Runnable beforeClose) {
        try {
            subscribe.run();
            while (running) {
                pollOnce.run();
            }
        } catch (LoopFailure e) {
            running = false;
            log.error("{} stopped: {}", name, e.getMessage(), e.getCause());
            onFatal.accept(e.getCause());
        } catch (WakeupException e) {
            if (running) {
                log.error("{} woken up unexpectedly", name, e);
                onFatal.accept(e);
            }
        } catch (RuntimeException e) {
            running = false;
            log.error("{} failed: {}", name, e.toString(), e);
            onFatal.accept(e);
        } catch (Throwable e) { // an Error: not retried, never swallowed; the process stops (exit 1)
            running = false;
            log.error("{} died: {}", name, e.toString(), e);
            onFatal.accept(e);
        } finally {
            running = false;
            close(beforeClose);
        }
    }

    private void close(Runnable beforeClose) {
        try {
            beforeClose.run();
        } catch (RuntimeException e) {
            log.warn("shutting down the {} failed: {}", name, e.toString(), e);
        }
        try {
            // A static member leaves too (by default it would not): a process that stops on purpose
            // (scale-down, a rolling update that renames the pod) hands its partitions over now,
            // not after session.timeout.ms. One killed keeps them for its restart under the same id.
            consumer.close(CloseOptions.timeout(closeTimeout)
                    .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
        } catch (RuntimeException e) {
            log.warn("closing the {} failed: {}", name, e.toString());
        }
    }

    /**
     * Polls once. Empty when {@link #stop()} woke the poll or the poll failed for a reason that
     * passes (logged): the caller polls again.
     *
     * @throws LoopFailure when the poll failed for a fatal reason (authentication, authorization)
     * @throws WakeupException when woken while running (nobody but {@link #stop()} should wake it)
     */
    public Optional<ConsumerRecords<byte[], byte[]>> poll() {
        return poll(pollTimeout);
    }

    /** {@link #poll()} waiting at most {@code timeout} (zero: only what has been fetched already). */
    public Optional<ConsumerRecords<byte[], byte[]>> poll(Duration timeout) {
        try {
            return Optional.of(consumer.poll(timeout));
        } catch (WakeupException e) {
            if (running) {
                throw e;
            }
            return Optional.empty();
        } catch (KafkaException e) {
            if (policy.classify(e) == FailureKind.FATAL) {
                throw new LoopFailure("polling failed", e);
            }
            log.warn("poll of the {} failed, retrying: {}", name, e.toString());
            return Optional.empty();
        }
    }
}
