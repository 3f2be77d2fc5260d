package io.ragline.dispatcher;

import io.ragline.core.config.Env;
import io.ragline.core.config.Problems;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/** How the event-dispatcher drains the outbox. Every field is a {@code RAGLINE_*} variable. */
public record DispatcherSettings(
        Mode mode,
        int batchSize,
        int lookahead,
        Duration pollInterval,
        Duration leaseTtl,
        Duration publishTimeout,
        int maxAttempts,
        int producers,
        Duration linger,
        Map<String, String> notifyBridge) {

    public static final String MODE = "RAGLINE_OUTBOX_MODE";
    public static final Mode DEFAULT_MODE = Mode.LISTEN;
    public static final String BATCH = "RAGLINE_OUTBOX_BATCH";
    public static final int DEFAULT_BATCH = 5000;
    public static final String LOOKAHEAD = "RAGLINE_OUTBOX_LOOKAHEAD";
    public static final int DEFAULT_LOOKAHEAD = 10_000;
    public static final String POLL_INTERVAL = "RAGLINE_OUTBOX_POLL_INTERVAL";
    /** With {@link Mode#LISTEN}: the doorbell wakes the relay, the timer only catches what nobody heard. */
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);
    /** With {@link Mode#POLL}: the timer is all there is. */
    public static final Duration DEFAULT_POLL_INTERVAL_POLL_MODE = Duration.ofMillis(200);

    public static final String LEASE_TTL = "RAGLINE_DISPATCHER_LEASE_TTL";
    public static final Duration DEFAULT_LEASE_TTL = Duration.ofSeconds(5);
    /** The shortest {@link #LEASE_TTL}: trusted for a second, renewed every 250 ms. */
    public static final Duration MIN_LEASE_TTL = Duration.ofSeconds(2);

    public static final String PUBLISH_TIMEOUT = "RAGLINE_OUTBOX_PUBLISH_TIMEOUT";
    public static final Duration DEFAULT_PUBLISH_TIMEOUT = Duration.ofSeconds(30);
    public static final Duration MIN_PUBLISH_TIMEOUT = Duration.ofSeconds(5);
    public static final String MAX_ATTEMPTS = "RAGLINE_OUTBOX_MAX_ATTEMPTS";
    public static final int DEFAULT_MAX_ATTEMPTS = 5;
    /**
     * How many transactional producers take turns: with 2 or more, the next batch is sent while the
     * one before commits (docs/architecture.md, section 10); 1 commits each batch before the next.
     * 3 by default: a second producer cut the latency a {@code read_committed} consumer sees
     * (docs/benchmarks.md, "Two producers"), a third the waits of a transaction begun on a producer
     * whose last commit's markers are not written yet ("The producers' turns").
     */
    public static final String PRODUCERS = "RAGLINE_OUTBOX_PRODUCERS";

    public static final int DEFAULT_PRODUCERS = 3;
    /** The most producers a dispatcher may use; every leader fences this many ids whatever it uses. */
    public static final int MAX_PRODUCERS = 4;
    /**
     * The least time between the starts of two of the relay's batches: rows that arrive meanwhile
     * gather into the next, so that a trickle of rows is not a Kafka transaction each (each costs
     * the broker a transaction's appends and markers, and Postgres a claim); not after a full batch,
     * so a backlog drains at full speed. 0: a batch starts as soon as rows are there. 5 ms by
     * default: without it the relay made 250-425 transactions a second at 500 rows/s, and with it
     * the p99 at 2,000 rows/s was about half as long, the p50 a fifth longer (docs/benchmarks.md,
     * "The linger").
     */
    public static final String LINGER = "RAGLINE_OUTBOX_LINGER";

    public static final Duration DEFAULT_LINGER = Duration.ofMillis(5);
    /** The longest {@link #LINGER}: it adds up to that much to a row's latency. */
    public static final Duration MAX_LINGER = Duration.ofSeconds(1);
    /** Empty by default: no channel is bridged. */
    public static final String NOTIFY_BRIDGE = "RAGLINE_NOTIFY_BRIDGE";

    private static final Pattern CHANNEL = Pattern.compile("[a-z_][a-z0-9_.]{0,62}");
    private static final Pattern TOPIC = Pattern.compile("[A-Za-z0-9._-]{1,249}");
    private static final String BRIDGE_FORM = "must be channel=topic[,channel=topic] (channel: a lower-case"
            + " identifier; topic: letters, digits, '.', '_', '-')";

    /** {@code listen}: woken by the NOTIFY doorbell, plus a timer; {@code poll}: the timer only. */
    public enum Mode {
        LISTEN,
        POLL
    }

    /** Every rule of every field; each problem names its variable. */
    public DispatcherSettings {
        Problems p = new Problems();
        p.present(MODE, mode);
        p.between(BATCH, batchSize, 1, 50_000);
        p.between(LOOKAHEAD, lookahead, 1, 1_000_000);
        p.positive(POLL_INTERVAL, pollInterval);
        p.atLeast(
                LEASE_TTL,
                leaseTtl,
                MIN_LEASE_TTL,
                "the leader acts on its lease for the TTL less a second, renewing it four times in that time");
        p.atLeast(PUBLISH_TIMEOUT, publishTimeout, MIN_PUBLISH_TIMEOUT);
        p.between(MAX_ATTEMPTS, maxAttempts, 1, 1_000);
        p.between(PRODUCERS, producers, 1, MAX_PRODUCERS);
        if (p.present(LINGER, linger, "")) {
            p.check(
                    !linger.isNegative() && linger.compareTo(MAX_LINGER) <= 0,
                    Problems.quoted(LINGER, Problems.text(linger)) + " must be between 0s and "
                            + Problems.text(MAX_LINGER) + " (it adds up to that much to a row's latency)");
        }
        if (p.present(NOTIFY_BRIDGE, notifyBridge, "")) {
            notifyBridge.forEach((channel, topic) -> p.check(
                    CHANNEL.matcher(channel).matches() && TOPIC.matcher(topic).matches(),
                    Problems.quoted(NOTIFY_BRIDGE, channel + "=" + topic) + " " + BRIDGE_FORM));
            p.check(
                    mode != Mode.POLL || notifyBridge.isEmpty(),
                    NOTIFY_BRIDGE + " needs " + MODE + "=listen: a poll-only dispatcher cannot LISTEN");
            notifyBridge = Collections.unmodifiableMap(new LinkedHashMap<>(notifyBridge));
        }
        p.throwIfAny();
    }

    /** Reads every variable; problems are recorded in {@code env} (the defaults stand in), not thrown. */
    public static DispatcherSettings from(Env env) {
        Mode mode = env.choice(MODE, DEFAULT_MODE, Mode.class);
        Map<String, String> bridge = new LinkedHashMap<>();
        String raw = env.string(NOTIFY_BRIDGE, "");
        for (String pair : raw.split(",")) {
            if (pair.isBlank()) {
                continue;
            }
            String[] cols = pair.split("=", 2);
            if (cols.length != 2) {
                env.problem(Problems.quoted(NOTIFY_BRIDGE, raw) + " " + BRIDGE_FORM);
                break;
            }
            bridge.put(cols[0].strip(), cols[1].strip());
        }
        int batch = env.integer(BATCH, DEFAULT_BATCH);
        int lookahead = env.integer(LOOKAHEAD, DEFAULT_LOOKAHEAD);
        Duration pollInterval = env.duration(
                POLL_INTERVAL, mode == Mode.POLL ? DEFAULT_POLL_INTERVAL_POLL_MODE : DEFAULT_POLL_INTERVAL);
        Duration ttl = env.duration(LEASE_TTL, DEFAULT_LEASE_TTL);
        Duration publishTimeout = env.duration(PUBLISH_TIMEOUT, DEFAULT_PUBLISH_TIMEOUT);
        int maxAttempts = env.integer(MAX_ATTEMPTS, DEFAULT_MAX_ATTEMPTS);
        int producers = env.integer(PRODUCERS, DEFAULT_PRODUCERS);
        Duration linger = env.duration(LINGER, DEFAULT_LINGER);
        return env.build(
                () -> new DispatcherSettings(
                        mode,
                        batch,
                        lookahead,
                        pollInterval,
                        ttl,
                        publishTimeout,
                        maxAttempts,
                        producers,
                        linger,
                        bridge),
                DispatcherSettings::defaults);
    }

    /** Every field at its default. */
    public static DispatcherSettings defaults() {
        return new DispatcherSettings(
                DEFAULT_MODE,
                DEFAULT_BATCH,
                DEFAULT_LOOKAHEAD,
                DEFAULT_POLL_INTERVAL,
                DEFAULT_LEASE_TTL,
                DEFAULT_PUBLISH_TIMEOUT,
                DEFAULT_MAX_ATTEMPTS,
                DEFAULT_PRODUCERS,
                DEFAULT_LINGER,
                Map.of());
    }
}
