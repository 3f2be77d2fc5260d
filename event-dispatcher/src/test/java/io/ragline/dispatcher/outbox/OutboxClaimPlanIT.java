package io.ragline.dispatcher.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The claim's plan on a busy outbox's usual state, statistics that still count rows deleted since
 * they were taken: the chosen rows' payloads are read by primary key, not by a hash join over a
 * sequential scan of the whole (bloated) table, and no sort of the payloads follows.
 */
class OutboxClaimPlanIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @Test
    void theClaimReadsTheChosenRowsByPrimaryKeyWhenTheStatisticsStillCountDeletedRows() throws Exception {
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("alter table outbox set (autovacuum_enabled = off)");
            s.execute("insert into outbox (topic, key, payload) select 't', 'k' || (n % 100),"
                    + " jsonb_build_object('n', n, 'pad', repeat('x', 150)) from generate_series(1, 60000) n");
            s.execute("analyze outbox");
            s.execute("delete from outbox");
            s.execute("insert into outbox (topic, key, payload) select 't', 'k' || (n % 100),"
                    + " jsonb_build_object('n', n, 'pad', repeat('x', 150)) from generate_series(1, 6000) n");

            String plan = plan(c);

            assertThat(plan)
                    .contains("Index Scan using outbox_pkey on outbox x")
                    .doesNotContain("Hash Join")
                    .doesNotContain("Seq Scan on outbox");
            assertThat(plan.lines().filter(l -> l.contains("Sort Key")).toList())
                    .as("sorts: only the ranking's, none of the chosen rows' payloads")
                    .noneMatch(l -> l.contains("x.") || l.contains("c.effective"));
        }
    }

    /** EXPLAIN of the claim as the dispatcher sends it: nothing held back, its default sizes. */
    private static String plan(Connection c) throws Exception {
        try (PreparedStatement p = c.prepareStatement("explain " + OutboxStore.NEXT)) {
            p.setArray(1, c.createArrayOf("text", new Object[0]));
            p.setArray(2, c.createArrayOf("text", new Object[0]));
            p.setArray(3, c.createArrayOf("text", new Object[0]));
            p.setArray(4, c.createArrayOf("bigint", new Object[0]));
            p.setInt(5, 10_000);
            p.setInt(6, 5_000);
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
