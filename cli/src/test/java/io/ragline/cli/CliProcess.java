package io.ragline.cli;

import io.ragline.testkit.JavaProcess;
import java.io.IOException;
import java.util.List;
import java.util.Map;

/** The {@code ragline} command as a real OS process, with the product's own logging config. */
final class CliProcess {
    private CliProcess() {}

    static JavaProcess start(Map<String, String> env, String... args) throws IOException {
        return JavaProcess.start(
                // The product's logging, not testkit's logback-test.xml that the test class path has.
                List.of("-Dlogback.configurationFile=" + RaglineCli.class.getResource("/logback.xml")),
                RaglineCli.class.getName(),
                env,
                args);
    }
}
