package io.ragline.devstack.kafka;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The ports of a {@link LocalKafkaCluster}'s brokers, recorded at its first start: a line {@code
 * <node id> <client port> <controller port>} per broker, in node order. The quorum's voters are
 * these controller ports, so a cluster runs on them for as long as its data lives.
 */
final class ClusterPorts {
    private ClusterPorts() {}

    /** The recorded {@code {port, controllerPort}} of each broker, or none. */
    static List<int[]> read(Path file) {
        if (!Files.exists(file)) {
            return List.of();
        }
        List<int[]> ports = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.isBlank()) {
                    continue;
                }
                String[] f = line.strip().split("\\s+");
                if (f.length != 3 || Integer.parseInt(f[0]) != ports.size() + 1) {
                    throw new IllegalStateException("unexpected line in " + file + ": " + line);
                }
                ports.add(new int[] {Integer.parseInt(f[1]), Integer.parseInt(f[2])});
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return ports;
    }

    static void write(Path file, List<int[]> ports) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < ports.size(); i++) {
            text.append(i + 1)
                    .append(' ')
                    .append(ports.get(i)[0])
                    .append(' ')
                    .append(ports.get(i)[1])
                    .append('\n');
        }
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, text);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    static void delete(Path file) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + file, e);
        }
    }
}
