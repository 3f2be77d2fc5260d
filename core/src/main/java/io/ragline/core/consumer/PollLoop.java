package io.ragline.core.consumer;

/**
 * A poll loop that owns one consumer on its own thread, which the runtime starts, stops on
 * shutdown and watches for readiness ({@code WorkerRuntime#startLoop}). A loop that ends for any
 * reason other than {@link #stop()}, an {@link Error} included, reports it to its fatal path and
 * answers {@code false} from {@link #isRunning()}.
 */
public interface PollLoop extends Runnable {
    /** False once the loop was asked to stop or has failed. */
    boolean isRunning();

    /** Asks the loop to stop after its current poll; the only call other threads make. */
    void stop();
}
