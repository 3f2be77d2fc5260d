package io.ragline.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.core.db.Database;
import io.ragline.dispatcher.outbox.OutboxRow;
import io.ragline.dispatcher.outbox.OutboxStore;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class OutboxStoreIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @Test
    void urgentRowsGoFirstButTheRowsOfOneKeyKeepTheirOrder() throws Exception {
        DatabaseUrl url = DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow();
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("insert into outbox (topic, key, payload, priority) values"
                    + " ('t', 'slow', '{\"n\":1}', 0), ('t', 'k1', '{\"n\":1}', 0), ('t', 'k1', '{\"n\":2}', 0),"
                    + " ('t', 'slow', '{\"n\":2}', 0), ('t', 'urgent', '{\"n\":1}', 5), ('t', 'k1', '{\"n\":3}', 9)");
        }
        try (var pool = Database.pool(url, db.schema(), 2, "test", null)) {
            List<OutboxRow> rows = new OutboxStore(pool).next(100, 1000);

            assertThat(rows)
                    .extracting(r -> r.key() + r.payload().replaceAll("\\D", ""))
                    .containsExactly("k11", "k12", "k13", "urgent1", "slow1", "slow2");
        }
    }
}
