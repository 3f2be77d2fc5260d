package io.ragline.embeddings.onnx;

import java.util.concurrent.Callable;

/**
 * Runs ONNX Runtime's initialisation on a thread with a large stack. Loading its native library
 * (the first {@code OrtEnvironment.getEnvironment()}) needs stack in proportion to the length of
 * the process's command line: with a 9 kB {@code -cp} or a 12 kB {@code -D} option, it overflowed
 * the JVM's default 1 MB (and a 2 MB) thread stack and killed the process with SIGSEGV, no Java
 * exception and no {@code hs_err} file. Once loaded, ONNX Runtime runs fine on ordinary threads.
 */
final class BigStack {
    /** Reserved address space, committed only as used: enough for a command line of about 1 MB. */
    static final long STACK_BYTES = 256L << 20;

    private BigStack() {}

    static <T> T call(String name, Callable<T> task) throws Exception {
        Object[] result = new Object[1];
        Exception[] failure = new Exception[1];
        Thread thread = new Thread(
                null,
                () -> {
                    try {
                        result[0] = task.call();
                    } catch (Exception e) {
                        failure[0] = e;
                    }
                },
                name,
                STACK_BYTES);
        thread.start();
        thread.join();
        if (failure[0] != null) {
            throw failure[0];
        }
        @SuppressWarnings("unchecked")
        T value = (T) result[0];
        return value;
    }
}
