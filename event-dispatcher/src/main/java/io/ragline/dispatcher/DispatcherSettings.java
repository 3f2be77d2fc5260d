package io.ragline.dispatcher;

import io.ragline.core.config.Env;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/** How the event-dispatcher drains the outbox. Every field is a {@code RAGLINE_*} variable. */
public record DispatcherSettings(
        Mode mode,
        int batchSize,
        int lookahead,
        Duration pollInterval,
        Duration leaseTtl,
        Duration publishTimeout,
        int maxAttempts,
        Map<String, String> notifyBridge) {

    public static final String MODE = "RAGLINE_OUTBOX_MODE";
    public static final String BATCH = "RAGLINE_OUTBOX_BATCH";
    public static final String LOOKAHEAD = "RAGLINE_OUTBOX_LOOKAHEAD";
    public static final String POLL_INTERVAL = "RAGLINE_OUTBOX_POLL_INTERVAL";
    public static final String LEASE_TTL = "RAGLINE_DISPATCHER_LEASE_TTL";
    public static final String PUBLISH_TIMEOUT = "RAGLINE_OUTBOX_PUBLISH_TIMEOUT";
    public static final String NOTIFY_BRIDGE = "RAGLINE_NOTIFY_BRIDGE";
    public static final String MAX_ATTEMPTS = "RAGLINE_OUTBOX_MAX_ATTEMPTS";
    /** The shortest {@link #LEASE_TTL}: trusted for a second, renewed every 250 ms. */
    public static final Duration MIN_LEASE_TTL = Duration.ofSeconds(2);

    /** {@code listen}: woken by the NOTIFY doorbell, plus a timer; {@code poll}: the timer only. */
    public enum Mode {
        LISTEN,
        POLL
    }

    public static DispatcherSettings from(Env env) {
        Mode mode = env.choice(MODE, Mode.LISTEN, Mode.class);
        Map<String, String> bridge = new LinkedHashMap<>();
        String raw = env.string(NOTIFY_BRIDGE, "");
        for (String pair : raw.split(",")) {
            if (pair.isBlank()) {
                continue;
            }
            String[] cols = pair.split("=", 2);
            if (cols.length != 2
                    || !cols[0].strip().matches("[a-z_][a-z0-9_.]{0,62}")
                    || !cols[1].strip().matches("[A-Za-z0-9._-]{1,249}")) {
                env.problem(NOTIFY_BRIDGE + "='" + raw + "' must be channel=topic[,channel=topic] (channel: a"
                        + " lower-case identifier; topic: letters, digits, '.', '_', '-')");
                break;
            }
            bridge.put(cols[0].strip(), cols[1].strip());
        }
        if (mode == Mode.POLL && !bridge.isEmpty()) {
            env.problem(NOTIFY_BRIDGE + " needs " + MODE + "=listen: a poll-only dispatcher cannot LISTEN");
        }
        Duration ttl = env.duration(LEASE_TTL, Duration.ofSeconds(5));
        if (ttl.compareTo(MIN_LEASE_TTL) < 0) {
            env.problem(LEASE_TTL + "='" + env.raw(LEASE_TTL).orElse("") + "' must be at least 2s (the leader acts on"
                    + " its lease for the TTL less a second, renewing it four times in that time)");
        }
        Duration publishTimeout = env.duration(PUBLISH_TIMEOUT, Duration.ofSeconds(30));
        if (publishTimeout.compareTo(Duration.ofSeconds(5)) < 0) {
            env.problem(PUBLISH_TIMEOUT + " must be at least 5s");
        }
        return new DispatcherSettings(
                mode,
                env.integer(BATCH, 5000, 1, 50_000),
                env.integer(LOOKAHEAD, 10_000, 1, 1_000_000),
                env.duration(POLL_INTERVAL, mode == Mode.POLL ? Duration.ofMillis(200) : Duration.ofSeconds(1)),
                ttl,
                publishTimeout,
                env.integer(MAX_ATTEMPTS, 5, 1, 1_000),
                bridge);
    }
}
