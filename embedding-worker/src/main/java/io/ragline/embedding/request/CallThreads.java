package io.ragline.embedding.request;

import io.ragline.core.config.Problems;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The threads of the non-serving calls ({@code embedding-nonserving-N}, daemons that end after a
 * minute idle): at most {@link #CALLS_PER_CONSUMER} per consumer thread ({@code
 * RAGLINE_CONSUMER_THREADS}). A call that finds every thread busy waits up to {@link #HANDOFF} for one
 * to come free (a call of another batch that has just answered), then is refused: its jobs are owed,
 * never failed ({@link NonServingCalls#start}).
 */
final class CallThreads {
    private static final Logger log = LoggerFactory.getLogger(CallThreads.class);

    /**
     * Non-serving calls running at once per consumer thread: a batch calls each non-serving model
     * of its jobs once, and a model with an abandoned call still running is not called again, so
     * this many models side by side per consumer thread.
     */
    static final int CALLS_PER_CONSUMER = 8;

    /** How long a call waits for a thread when every one is busy, before it is refused. */
    static final Duration HANDOFF = Duration.ofMillis(500);

    /** How long {@link #close} waits for interrupted calls to end. */
    static final Duration CLOSE_WAIT = Duration.ofSeconds(1);

    private final ThreadPoolExecutor pool;

    /** {@link #HANDOFF}, or the non-serving deadline when shorter: the wait is the serving batch's. */
    private final Duration handoff;

    /** Until when calls are refused at once: a refusal's wait is not paid again by the next models. */
    private volatile long refusingUntil = System.nanoTime();

    CallThreads(int consumers) {
        this(consumers, HANDOFF);
    }

    /**
     * @param deadline the non-serving deadline: a call waits for a thread at most this long (and at
     *     most {@link #HANDOFF}), once per {@link #HANDOFF} however many models are refused, since
     *     the wait happens on the consumer thread before the serving calls
     */
    CallThreads(int consumers, Duration deadline) {
        this.handoff = deadline.compareTo(HANDOFF) < 0 ? deadline : HANDOFF;
        if (consumers < 1) {
            throw new IllegalArgumentException("non-serving calls need a consumer thread at least, not " + consumers);
        }
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(
                0,
                consumers * CALLS_PER_CONSUMER,
                1,
                TimeUnit.MINUTES,
                new SynchronousQueue<>(),
                r -> {
                    Thread t = new Thread(r, "embedding-nonserving-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                },
                this::handOff);
    }

    /**
     * Runs {@code call} on a thread of its own.
     *
     * @throws RejectedExecutionException when every thread stayed busy for {@link #HANDOFF}, or closed
     */
    void execute(Runnable call) {
        pool.execute(call);
    }

    /**
     * Every thread busy: hands {@code call} to the first thread that comes free within {@link
     * #HANDOFF} (an idle thread waits on the queue for its next call), else refuses it.
     */
    private void handOff(Runnable call, ThreadPoolExecutor pool) {
        long wait = System.nanoTime() - refusingUntil < 0 ? 0 : handoff.toNanos();
        try {
            if (!pool.isShutdown() && pool.getQueue().offer(call, wait, TimeUnit.NANOSECONDS)) {
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (wait > 0) {
            refusingUntil = System.nanoTime() + HANDOFF.toNanos();
        }
        throw new RejectedExecutionException(
                pool.isShutdown()
                        ? "the non-serving calls are closed"
                        : "all " + pool.getMaximumPoolSize() + " threads of non-serving calls busy"
                                + (wait > 0
                                        ? " for " + Problems.text(handoff)
                                        : " (refusing at once after a refusal)"));
    }

    /**
     * Interrupts the calls still running (an HTTP request, a retry's backoff and the rate limiter's
     * wait end at once) and waits for them at most {@link #CLOSE_WAIT}; their threads are daemons.
     */
    void close() {
        pool.shutdownNow();
        try {
            if (!pool.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                log.info("{} non-serving model call(s) still running at shutdown, left behind", pool.getActiveCount());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
