package io.ragline.core.consumer;

/**
 * Ends a poll loop: its cause is fatal ({@link FailureKind#FATAL}). Thrown by the parts of a loop
 * ({@link OffsetCommitter}, {@link DeadLetterBook}, {@link LoopLifecycle#poll()}) and by the loops
 * themselves; {@link LoopLifecycle#run} logs it once and hands its cause to the fatal path.
 */
public final class LoopFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public LoopFailure(String message, Throwable cause) {
        super(message + ": " + cause, cause);
    }
}
