package io.ragline.dispatcher.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The claims' plans on a busy outbox's usual state, statistics that still count rows deleted since
 * they were taken: the ranked claim reads the chosen rows' payloads by primary key, not by a hash
 * join over a sequential scan of the whole (bloated) table, and no sort of the payloads follows;
 * the in-order claim is one scan of the primary key's index and one probe of the urgent rows'
 * index, with no sort at all; the probe uses that index even when the statistics say every row is
 * urgent.
 */
class OutboxClaimPlanIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @BeforeAll
    static void aBusyOutboxWithStaleStatistics() throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("alter table outbox set (autovacuum_enabled = off)");
            // Statistics from a time when every row was urgent: the probe for an urgent row must still
            // use the urgent rows' index (asked as EXISTS, the planner scanned the whole outbox).
            s.execute("insert into outbox (topic, key, payload, priority) select 't', 'k' || (n % 100),"
                    + " jsonb_build_object('n', n, 'pad', repeat('x', 150)), 1 from generate_series(1, 60000) n");
            s.execute("analyze outbox");
            s.execute("delete from outbox");
            s.execute("insert into outbox (topic, key, payload) select 't', 'k' || (n % 100),"
                    + " jsonb_build_object('n', n, 'pad', repeat('x', 150)) from generate_series(1, 6000) n");
        }
    }

    @Test
    void theRankedClaimReadsTheChosenRowsByPrimaryKeyWhenTheStatisticsStillCountDeletedRows() throws Exception {
        try (Connection c = db.connect()) {
            String plan = plan(c, OutboxClaimSql.ranked(false, false, false), 10_000, 5_000);

            assertThat(plan)
                    .contains("Index Scan using outbox_pkey on outbox x")
                    .contains("using outbox_urgent on outbox u")
                    .doesNotContain("Hash Join")
                    .doesNotContain("Seq Scan on outbox");
            assertThat(plan.lines().filter(l -> l.contains("Sort Key")).toList())
                    .as("sorts: only the ranking's, none of the chosen rows' payloads")
                    .noneMatch(l -> l.contains("x.") || l.contains("c.effective"));
        }
    }

    @Test
    void theInOrderClaimIsOneScanOfThePrimaryKeyAndOneProbeOfTheUrgentRows() throws Exception {
        try (Connection c = db.connect()) {
            String plan = plan(c, OutboxClaimSql.inOrder(false, false, false), 5_000);

            assertThat(plan)
                    .contains("Index Scan using outbox_pkey on outbox o")
                    .contains("using outbox_urgent on outbox u")
                    .doesNotContain("Seq Scan")
                    .doesNotContain("Sort");
            assertThat(plan.lines().filter(l -> l.contains("Index")).count())
                    .as("index scans: the outbox's and the probe's")
                    .isEqualTo(2);
        }
    }

    /**
     * The claim made while a full batch commits (two producers): 5,000 of the 6,000 rows in flight
     * and left out, so the planner expects fewer rows than the limit; still the primary key's index,
     * no sequential scan of the bloated heap and no sort.
     */
    @Test
    void theInOrderClaimThatLeavesAFullBatchOutStillScansThePrimaryKey() throws Exception {
        try (Connection c = db.connect();
                PreparedStatement p = c.prepareStatement("explain " + OutboxClaimSql.inOrder(false, false, true))) {
            Object[] inFlight;
            try (Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery(
                            "select array_agg(id) from (select id from outbox order by id" + " limit 5000) b")) {
                rs.next();
                inFlight = (Object[]) rs.getArray(1).getArray();
            }
            p.setArray(1, c.createArrayOf("bigint", inFlight)); // the urgent rows' probe leaves them out too
            p.setArray(2, c.createArrayOf("bigint", inFlight));
            p.setInt(3, 5_000);
            StringBuilder plan = new StringBuilder();
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    plan.append(rs.getString(1)).append('\n');
                }
            }

            assertThat(plan.toString())
                    .contains("Index Scan using outbox_pkey on outbox o")
                    .contains("using outbox_urgent on outbox u")
                    .doesNotContain("Seq Scan")
                    .doesNotContain("Sort");
        }
    }

    /** EXPLAIN of a claim with nothing held back and the sizes given. */
    private static String plan(Connection c, String claim, int... limits) throws Exception {
        try (PreparedStatement p = c.prepareStatement("explain " + claim)) {
            for (int i = 0; i < limits.length; i++) {
                p.setInt(i + 1, limits[i]);
            }
            StringBuilder plan = new StringBuilder();
            try (ResultSet rs = p.executeQuery()) {
                while (rs.next()) {
                    plan.append(rs.getString(1)).append('\n');
                }
            }
            return plan.toString();
        }
    }
}
