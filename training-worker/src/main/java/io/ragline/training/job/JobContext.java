package io.ragline.training.job;

import io.ragline.contracts.training.TrainingRequest;

/**
 * One running job as its backend sees it: what to train, and whether to stop. The heartbeat sets
 * {@link #cancel()} when {@code cancel_requested} is seen, {@link #lose()} when the row is no
 * longer this worker's; shutdown sets {@link #abandon()}. A backend checks {@link #stopping()}
 * where it can (between epochs) and registers an {@link #onStop(Runnable) interrupt} for what it
 * cannot (a blocking SQL call).
 */
public final class JobContext {
    public enum Stop {
        NONE,
        CANCELLED,
        ABANDONED,
        LOST
    }

    private final long jobId;
    private final TrainingRequest request;
    private final String worker;
    private volatile Stop stop = Stop.NONE;
    private volatile Runnable onStop = () -> {};

    public JobContext(long jobId, TrainingRequest request, String worker) {
        this.jobId = jobId;
        this.request = request;
        this.worker = worker;
    }

    public long jobId() {
        return jobId;
    }

    public TrainingRequest request() {
        return request;
    }

    public String worker() {
        return worker;
    }

    public boolean stopping() {
        return stop != Stop.NONE;
    }

    public Stop stop() {
        return stop;
    }

    /** What interrupts the backend's blocking work (e.g. {@code pg_cancel_backend}); runs once per stop. */
    public void onStop(Runnable action) {
        this.onStop = action;
        if (stopping()) {
            action.run();
        }
    }

    public void cancel() {
        stopWith(Stop.CANCELLED);
    }

    public void abandon() {
        stopWith(Stop.ABANDONED);
    }

    public void lose() {
        stopWith(Stop.LOST);
    }

    private synchronized void stopWith(Stop reason) {
        if (stop == Stop.NONE) {
            stop = reason;
            onStop.run();
        }
    }

    @Override
    public String toString() {
        return "job " + jobId + " (" + request.project() + ", request " + request.requestId() + ")";
    }
}
