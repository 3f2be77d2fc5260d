package io.ragline.embedding;

import io.ragline.core.collections.Collection;
import io.ragline.core.collections.CollectionCatalog;
import io.ragline.core.collections.Generation;
import io.ragline.core.collections.GenerationState;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The models the serving generations of the active collections use now, read from the database at
 * most once per {@link #FRESH_FOR} (a readiness probe, a metrics scrape): which models hold the
 * worker's readiness follows the generation states, so a migration's model that this worker cannot
 * run makes it unready once a switch (on any replica) makes that generation serving. A read that
 * fails keeps the last answer (the database's own readiness check names the database).
 */
final class ServingModels {
    private static final Logger log = LoggerFactory.getLogger(ServingModels.class);

    /** How long an answer is used before the generation states are read again. */
    static final Duration FRESH_FOR = Duration.ofSeconds(2);

    /** The status of a collection that takes documents. */
    static final String ACTIVE = "active";

    private final DataSource dataSource;
    private final Function<Collection, String> key;
    private Set<String> keys = Set.of();
    private long readAt;
    private boolean read;

    ServingModels(DataSource dataSource, Function<Collection, String> key) {
        this.dataSource = dataSource;
        this.key = key;
    }

    /** The model keys of the serving generations of the active collections, at most {@link #FRESH_FOR} old. */
    synchronized Set<String> now() {
        if (dataSource == null || (read && System.nanoTime() - readAt < FRESH_FOR.toNanos())) {
            return keys;
        }
        try (Connection c = dataSource.getConnection()) {
            keys = of(c);
            readAt = System.nanoTime();
            read = true;
        } catch (SQLException e) {
            log.debug("cannot read the serving generations' models, the last ones read stand: {}", e.getMessage());
        }
        return keys;
    }

    private Set<String> of(Connection c) throws SQLException {
        Map<Integer, Collection> active = CollectionCatalog.all(c).stream()
                .filter(k -> ACTIVE.equals(k.status()))
                .collect(Collectors.toMap(Collection::id, k -> k, (a, b) -> a));
        Set<String> out = new HashSet<>();
        for (Generation g : Generation.all(c)) {
            Collection k = active.get(g.collectionId());
            if (k != null && g.state() == GenerationState.SERVING) {
                out.add(key.apply(k.as(g)));
            }
        }
        return Set.copyOf(out);
    }
}
