package io.ragline.cli;

import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.IntSupplier;

/**
 * The demo's steps, run in order until one fails or a stop is requested (Ctrl-C closes the
 * runtime). Every step starts only when no stop was requested, and a step that throws because the
 * stop closed what it used (the connection pool) ends the demo as a stop, not as an error.
 */
final class DemoSteps {
    /** One step: prints {@code banner} (when not null) and runs {@code body}. */
    record Step(String banner, Body body) {}

    @FunctionalInterface
    interface Body {
        /** False when the step failed (and said why). */
        boolean run() throws Exception;
    }

    private DemoSteps() {}

    /**
     * Runs {@code steps}; returns 0 when all ran, 1 when one failed, {@code stopCode} when a stop
     * was requested before or during a step.
     */
    static int run(BooleanSupplier stopRequested, IntSupplier stopCode, List<Step> steps) throws Exception {
        for (Step step : steps) {
            if (stopRequested.getAsBoolean()) {
                return stopCode.getAsInt();
            }
            if (step.banner() != null) {
                System.out.println(step.banner());
            }
            boolean ok;
            try {
                ok = step.body().run();
            } catch (Exception e) {
                if (stopRequested.getAsBoolean()) {
                    return stopCode.getAsInt();
                }
                throw e;
            }
            if (!ok) {
                return stopRequested.getAsBoolean() ? stopCode.getAsInt() : 1;
            }
        }
        return stopRequested.getAsBoolean() ? stopCode.getAsInt() : 0;
    }
}
