package io.ragline.devstack;

/** Where devstack reports what it is doing; the CLI prints it, tests log it. */
@FunctionalInterface
public interface Progress {
    void step(String message);

    static Progress stderr() {
        return message -> System.err.println("ragline: " + message);
    }
}
