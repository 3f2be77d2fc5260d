package io.ragline.benchmarks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.ragline.testkit.TestServices;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The LangChain4j peer ({@code io.ragline.peer.LangChain4jPeer} of the
 * {@code benchmarks-langchain4j} module) run in a JVM of its own, with the same {@code java} as
 * this one and the module's own classpath ({@code target/classes:target/peer-lib/*}), so its
 * LangChain4j line never meets Ragline's. The database reaches it as {@code DATABASE_URL} in its
 * environment, never on its command line.
 */
final class PeerProcess {
    static final String MAIN = "io.ragline.peer.LangChain4jPeer";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofMinutes(30);

    private final Path module;
    private final String databaseUrl;

    private PeerProcess(Path module, String databaseUrl) {
        this.module = module;
        this.databaseUrl = databaseUrl;
    }

    /** The peer of the repository this runs in; fails, saying how to build it, when it is not built. */
    static PeerProcess locate(String databaseUrl) {
        Path module = TestServices.home().resolve("benchmarks-langchain4j");
        Path main = module.resolve("target/classes/" + MAIN.replace('.', '/') + ".class");
        if (!Files.isRegularFile(main) || !Files.isDirectory(module.resolve("target/peer-lib"))) {
            throw new IllegalStateException("the LangChain4j peer is not built in " + module
                    + ": run ./mvnw -B -q package -pl benchmarks-langchain4j first");
        }
        return new PeerProcess(module, databaseUrl);
    }

    /** Runs {@code LangChain4jPeer} with {@code args}; returns its stdout's JSON lines. */
    List<JsonNode> run(List<String> args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-cp");
        command.add(module.resolve("target/classes") + File.pathSeparator + module.resolve("target/peer-lib") + "/*");
        command.add(MAIN);
        command.addAll(args);
        Path stderr = Files.createTempFile("langchain4j-peer", ".err");
        try {
            ProcessBuilder pb = new ProcessBuilder(command).redirectError(stderr.toFile());
            pb.environment().put("DATABASE_URL", databaseUrl);
            Process p = pb.start();
            p.getOutputStream().close();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                throw new IllegalStateException("the LangChain4j peer did not finish within " + TIMEOUT);
            }
            if (p.exitValue() != 0) {
                throw new IllegalStateException("the LangChain4j peer exited " + p.exitValue() + " (" + args.get(0)
                        + "): " + tail(Files.readString(stderr)));
            }
            List<JsonNode> lines = new ArrayList<>();
            for (String line : new String(out, StandardCharsets.UTF_8).split("\n")) {
                if (!line.isBlank()) {
                    lines.add(JSON.readTree(line));
                }
            }
            return lines;
        } finally {
            Files.deleteIfExists(stderr);
        }
    }

    private static String tail(String text) {
        String t = text.strip();
        return t.length() <= 2000 ? t : "..." + t.substring(t.length() - 2000);
    }
}
