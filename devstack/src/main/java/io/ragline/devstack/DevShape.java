package io.ragline.devstack;

import java.io.IOException;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * What {@code dev up} runs: Kafka as one broker or a cluster of {@code kafkaBrokers} (each its own
 * process, replication factor {@code min(3, brokers)}), PostgreSQL alone or with a synchronous
 * streaming standby. Recorded in {@code .ragline/shape} by the {@code dev up} that chose it, so that
 * a later {@code dev up} without options keeps it; {@link #DEFAULT} where none was chosen.
 *
 * @param kafkaBrokers 1 (a single broker, the default) to {@value #MAX_KAFKA_BROKERS}
 * @param postgresStandby whether PostgreSQL has a standby that {@code dev postgres promote} promotes
 */
public record DevShape(int kafkaBrokers, boolean postgresStandby) {
    public static final int MAX_KAFKA_BROKERS = 9;
    public static final DevShape DEFAULT = new DevShape(1, false);

    private static final String BROKERS = "kafka-brokers";
    private static final String STANDBY = "postgres-standby";

    public DevShape {
        if (kafkaBrokers < 1 || kafkaBrokers > MAX_KAFKA_BROKERS) {
            throw new DevStackException(
                    "--kafka-brokers must be between 1 and " + MAX_KAFKA_BROKERS + ", not " + kafkaBrokers);
        }
    }

    public boolean isDefault() {
        return equals(DEFAULT);
    }

    /** This shape with what {@code brokers} and {@code standby} say instead, where they say something. */
    public DevShape with(Integer brokers, Boolean standby) {
        return new DevShape(brokers == null ? kafkaBrokers : brokers, standby == null ? postgresStandby : standby);
    }

    /** The shape recorded in {@code file}, or {@link #DEFAULT}. */
    static DevShape read(Path file) {
        if (!Files.exists(file)) {
            return DEFAULT;
        }
        Properties p = new Properties();
        try {
            p.load(new StringReader(Files.readString(file)));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        List<String> problems = new ArrayList<>();
        int brokers = 1;
        try {
            brokers = Integer.parseInt(p.getProperty(BROKERS, "1").strip());
        } catch (NumberFormatException e) {
            problems.add(BROKERS + " is not a number");
        }
        String standby = p.getProperty(STANDBY, "false").strip();
        if (!standby.equals("true") && !standby.equals("false")) {
            problems.add(STANDBY + " is neither true nor false");
        }
        if (!problems.isEmpty()) {
            throw new DevStackException(file + " is damaged (" + String.join(", ", problems)
                    + "): delete it, then run `ragline dev up` with the options you want");
        }
        return new DevShape(brokers, Boolean.parseBoolean(standby));
    }

    void write(Path file) {
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(
                    file,
                    "# Written by `ragline dev up`: what it runs here.\n" + BROKERS + "=" + kafkaBrokers + "\n"
                            + STANDBY + "=" + postgresStandby + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
