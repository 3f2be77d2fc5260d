package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.PostgresSchema;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class MigrateCommandIT {
    @RegisterExtension
    static final PostgresSchema db = PostgresSchema.unmigrated();

    @Test
    void twoProcessesStartedAtTheSameMomentBothSucceedAndAThirdChangesNothing() throws Exception {
        Map<String, String> env = Map.of("DATABASE_URL", db.databaseUrl(), "RAGLINE_DB_SCHEMA", db.schema());

        JavaProcess first = CliProcess.start(env, "migrate");
        JavaProcess second = CliProcess.start(env, "migrate");
        int firstExit = first.waitFor(120);
        int secondExit = second.waitFor(120);

        assertThat(firstExit).as(first.stderr()).isZero();
        assertThat(secondExit).as(second.stderr()).isZero();
        assertThat(first.stdout() + second.stdout())
                .contains("migrated to version")
                .contains("is up to date at version");
        long history = (long) db.queryValue("select count(*) from flyway_schema_history where version is not null");
        assertThat(db.queryValue("select count(*) from flyway_schema_history where not success"))
                .isEqualTo(0L);

        JavaProcess third = CliProcess.start(env, "migrate");
        assertThat(third.waitFor(120)).isZero();
        assertThat(third.stdout()).contains("schema " + db.schema() + " is up to date");
        assertThat(db.queryValue("select count(*) from flyway_schema_history where version is not null"))
                .isEqualTo(history);
    }

    @Test
    void anUnparsableDatabaseUrlFailsWithExitCodeTwoAndNoSecret() throws Exception {
        JavaProcess migrate =
                CliProcess.start(Map.of("DATABASE_URL", "postgresql://u:T0p-Secret@host:port/db"), "migrate");

        assertThat(migrate.waitFor(60)).isEqualTo(2);
        assertThat(migrate.stderr()).contains("DATABASE_URL=").doesNotContain("T0p-Secret");
    }
}
