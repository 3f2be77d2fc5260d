package io.ragline.embedding.migration;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A gauge of 0 or 1 per collection, tagged {@code collection}, registered the first time a
 * collection's flag is raised: the one home of the switch checks' per-collection gauges ({@link
 * MigrationSwitcher#WAITING}, {@link UnindexedCollections#GAUGE}).
 */
final class CollectionFlags {
    private final MeterRegistry registry;
    private final String gauge;
    private final String description;
    private final Map<String, AtomicInteger> flags = new ConcurrentHashMap<>();

    CollectionFlags(MeterRegistry registry, String gauge, String description) {
        this.registry = registry;
        this.gauge = gauge;
        this.description = description;
    }

    /** Raises collection {@code name}'s flag; true when it was down (the moment to say so once). */
    boolean raise(String name) {
        return flags.computeIfAbsent(name, n -> {
                            AtomicInteger v = new AtomicInteger();
                            Gauge.builder(gauge, v, AtomicInteger::get)
                                    .tag("collection", n)
                                    .description(description)
                                    .register(registry);
                            return v;
                        })
                        .getAndSet(1)
                == 0;
    }

    /** Lowers collection {@code name}'s flag, if it was ever raised. */
    void lower(String name) {
        AtomicInteger flag = flags.get(name);
        if (flag != null) {
            flag.set(0);
        }
    }

    /** The collections whose flag is up. */
    Set<String> raised() {
        Set<String> up = new TreeSet<>();
        flags.forEach((name, flag) -> {
            if (flag.get() == 1) {
                up.add(name);
            }
        });
        return up;
    }
}
