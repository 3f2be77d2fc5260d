package io.ragline.cli;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A progress bar on standard error: redrawn in place on a terminal, one line every few seconds
 * otherwise (logs, CI), so long commands always show how far they are.
 */
final class ProgressBar {
    private static final int WIDTH = 30;
    private final String label;
    private final PrintStream out = System.err;
    private final boolean terminal = System.console() != null;
    private final long started = System.nanoTime();
    private long total;
    private long done;
    private long lastDraw;

    ProgressBar(String label, long total) {
        this.label = label;
        this.total = total;
    }

    void step() {
        set(done + 1, total);
    }

    /** Sets the count and total (the total may grow) and redraws when due. */
    void set(long done, long total) {
        this.done = done;
        this.total = total;
        long now = System.nanoTime();
        long every = terminal ? 100_000_000L : 5_000_000_000L;
        if (now - lastDraw >= every || done >= total) {
            lastDraw = now;
            draw(false);
        }
    }

    void done() {
        draw(true);
    }

    private void draw(boolean last) {
        int filled = total == 0 ? WIDTH : (int) Math.min(WIDTH, WIDTH * done / total);
        double seconds = (System.nanoTime() - started) / 1e9;
        String line = String.format(
                Locale.ROOT,
                "%s [%s%s] %d/%d (%.1f s)",
                label,
                "#".repeat(filled),
                ".".repeat(WIDTH - filled),
                done,
                total,
                seconds);
        if (terminal) {
            out.print("\r" + line + (last ? "\n" : ""));
        } else {
            out.println(line);
        }
        out.flush();
    }
}
