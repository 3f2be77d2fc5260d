package io.ragline.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class ReplicatedPostgresIT {
    @RegisterExtension
    static final ReplicatedPostgres pg = new ReplicatedPostgres();

    @Test
    void whatThePrimaryCommittedIsOnThePromotedStandbyWhichThenAcceptsWrites() throws Exception {
        pg.execute(pg.primaryPort(), "create table replicated (id int primary key, v vector(3))");
        pg.execute(pg.primaryPort(), "insert into replicated select g, '[1,2,3]' from generate_series(1, 1000) g");
        assertThat(pg.query(pg.standbyPort(), "select pg_is_in_recovery()")).isEqualTo(true);
        assertThatThrownBy(() -> pg.execute(pg.standbyPort(), "insert into replicated values (0, '[0,0,0]')"))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("read-only transaction");

        pg.stopPrimaryImmediately();
        pg.promoteStandby();

        assertThat(pg.query(pg.standbyPort(), "select pg_is_in_recovery()")).isEqualTo(false);
        // Synchronous replication: every commit the primary acknowledged is on the standby.
        assertThat(pg.query(pg.standbyPort(), "select count(*) from replicated"))
                .isEqualTo(1000L);
        pg.execute(pg.standbyPort(), "insert into replicated values (0, '[0,0,0]')");
        assertThat(pg.query(pg.standbyPort(), "select count(*) from replicated"))
                .isEqualTo(1001L);
    }
}
