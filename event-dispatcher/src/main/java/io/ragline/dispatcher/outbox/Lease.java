package io.ragline.dispatcher.outbox;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import javax.sql.DataSource;

/**
 * Leadership of the outbox: a row in {@code dispatcher_leases} that one holder renews before it
 * expires. Whoever finds it expired (the holder died or lost the database) takes it.
 */
public final class Lease {
    static final String NAME = "outbox";
    /** Kept off the end of the lease for clock drift and the time a renewal takes to arrive. */
    private static final Duration MARGIN = Duration.ofSeconds(1);
    /** How many renewals in a row may fail or be late before the holder stops trusting its lease. */
    private static final int SPARE_RENEWALS = 3;

    /**
     * How long after a renewal began its holder may act on it: the TTL less a second. The row
     * says TTL from the moment the database ran the renewal, which is later than its start.
     */
    public static Duration trustedFor(Duration ttl) {
        return ttl.minus(MARGIN);
    }

    /**
     * How often the holder renews: a quarter of the trusted time, at most a second, so that
     * {@value #SPARE_RENEWALS} renewals in a row can fail or run late before the lease lapses.
     */
    public static Duration renewEvery(Duration ttl) {
        Duration quarter = trustedFor(ttl).dividedBy(SPARE_RENEWALS + 1);
        return quarter.compareTo(Duration.ofSeconds(1)) < 0 ? quarter : Duration.ofSeconds(1);
    }

    private final DataSource dataSource;
    private final String holder;
    private final Duration ttl;

    public Lease(DataSource dataSource, String holder, Duration ttl) {
        this.dataSource = dataSource;
        this.holder = holder;
        this.ttl = ttl;
    }

    public String holder() {
        return holder;
    }

    /** Takes or renews the lease; true while this process holds it. */
    public boolean acquireOrRenew() throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement s = c.prepareStatement("insert into dispatcher_leases (name, holder, acquired_at,"
                        + " expires_at) values (?, ?, clock_timestamp(), clock_timestamp() + ? * interval '1 millisecond')"
                        + " on conflict (name) do update set holder = excluded.holder, acquired_at = case when"
                        + " dispatcher_leases.holder = excluded.holder then dispatcher_leases.acquired_at else"
                        + " clock_timestamp() end, expires_at = excluded.expires_at where dispatcher_leases.holder ="
                        + " excluded.holder or dispatcher_leases.expires_at < clock_timestamp() returning holder")) {
            s.setString(1, NAME);
            s.setString(2, holder);
            s.setLong(3, ttl.toMillis());
            try (ResultSet rs = s.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Gives the lease up at once (clean shutdown), so a standby takes over without waiting. */
    public void release() throws SQLException {
        try (Connection c = dataSource.getConnection();
                PreparedStatement s =
                        c.prepareStatement("delete from dispatcher_leases where name = ? and holder = ?")) {
            s.setString(1, NAME);
            s.setString(2, holder);
            s.executeUpdate();
        }
    }
}
