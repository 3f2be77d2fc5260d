package io.ragline.embeddings.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.testkit.JavaProcess;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * ONNX Runtime's native start-up needs stack in proportion to the command line; on the JVM's
 * default 1 MB stack a long {@code -cp} or {@code JAVA_OPTS} killed the process with SIGSEGV (exit
 * 139). {@link OnnxEmbeddingModel} initialises it on a thread with a large stack instead.
 */
class OnnxLongCommandLineTest {
    @Test
    void aProcessWithALongCommandLineAndTheDefaultStackLoadsAndRunsAModel() throws Exception {
        JavaProcess p = JavaProcess.start(
                List.of("-Xss1m", "-Dragline.test.padding=" + "x".repeat(40_000)),
                LongCommandLineMain.class.getName(),
                Map.of());
        int exit = p.waitFor(120);
        assertThat(exit).as("exit code; stderr:%n%s", p.stderr()).isZero();
        assertThat(p.stdout()).contains("dimensions 384");
    }
}
