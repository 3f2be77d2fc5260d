package io.ragline.core.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.LifecycleFixtureMain;
import io.ragline.core.config.DatabaseUrl;
import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.PostgresSchema;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A worker process that does not migrate stops at start-up (exit 2) when its schema is not
 * current or its login lacks a privilege of {@code ragline_worker}, and one that migrates as a
 * login that cannot do DDL is told to migrate as the owner; each message says who must do what.
 */
class WorkerAccessIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @RegisterExtension
    static final PostgresSchema behind = PostgresSchema.unmigrated();

    @Test
    void aLoginWithoutTheWorkerRoleIsToldToBeGrantedIt() throws Exception {
        String login = PostgresSchema.newLogin();
        JavaProcess worker = worker(db.env(), login);

        assertThat(worker.waitFor(90)).as(worker.stdout()).isEqualTo(2);
        assertThat(worker.stderr())
                .contains("RAGLINE_MIGRATE_ON_START=false: user " + user(login) + " lacks USAGE on schema "
                        + db.schema() + ": run `ragline roles grant " + user(login) + " worker` as the owner")
                .doesNotContain(password(login));
    }

    @Test
    void aWorkerLoginMissingOnePrivilegeIsToldWhichOne() throws Exception {
        db.execute("revoke insert on outbox from ragline_worker");
        try {
            JavaProcess worker = worker(db.env(), db.databaseUrl());

            assertThat(worker.waitFor(90)).as(worker.stdout()).isEqualTo(2);
            assertThat(worker.stderr())
                    .contains("lacks INSERT on " + db.schema() + ".outbox: run `ragline roles grant ")
                    .doesNotContain("lifecycle ready");
        } finally {
            db.execute("grant insert on outbox to ragline_worker");
        }
    }

    @Test
    void aWorkerLoginThatCannotReadTheMigrationHistoryIsToldSoRatherThanCrashing() throws Exception {
        db.execute("revoke select on " + Migrations.HISTORY_TABLE + " from ragline_worker");
        try {
            JavaProcess worker = worker(db.env(), db.databaseUrl());

            assertThat(worker.waitFor(90)).as(worker.stdout()).isEqualTo(2);
            assertThat(worker.stderr())
                    .contains("user " + user(db.databaseUrl()) + " lacks SELECT on " + db.schema() + "."
                            + Migrations.HISTORY_TABLE + ": run `ragline roles grant ")
                    .doesNotContain("Exception");
        } finally {
            db.execute("grant select on " + Migrations.HISTORY_TABLE + " to ragline_worker");
        }
    }

    @Test
    void aSchemaWithAPendingMigrationIsNamedWithItsVersions() throws Exception {
        new Migrations(DatabaseUrl.parse(behind.databaseUrl()).url().orElseThrow(), behind.schema(), "it")
                .migrate("12");
        Map<String, String> env = new HashMap<>(behind.env());
        env.put("RAGLINE_MIGRATE_ON_START", "false");
        JavaProcess worker = worker(env, behind.databaseUrl());

        assertThat(worker.waitFor(90)).as(worker.stdout()).isEqualTo(2);
        assertThat(worker.stderr())
                // Every later version is named; the list grows with each migration, so only its start is fixed here.
                .containsPattern("RAGLINE_MIGRATE_ON_START=false: schema " + behind.schema()
                        + " is at version 12, 13, 14, 15(, \\d+)* are pending: run `ragline migrate` as the owner");
    }

    @Test
    void aWorkerLoginThatMigratesAtStartUpIsToldToLeaveItToTheOwner() throws Exception {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("RAGLINE_MIGRATE_ON_START", "true");
        JavaProcess worker = worker(env, db.databaseUrl());

        assertThat(worker.waitFor(90)).as(worker.stdout()).isEqualTo(2);
        assertThat(worker.stderr())
                .contains("RAGLINE_MIGRATE_ON_START=true: user " + user(db.databaseUrl()) + " cannot migrate schema "
                        + db.schema() + " (it has no CREATE privilege there): run `ragline migrate` as the"
                        + " schema's owner, and start the workers with RAGLINE_MIGRATE_ON_START=false");
    }

    private static JavaProcess worker(Map<String, String> base, String databaseUrl) throws Exception {
        Map<String, String> env = new HashMap<>(base);
        env.put("DATABASE_URL", databaseUrl);
        env.put("FIXTURE_MODE", "threads-ignore-stop");
        env.put("RAGLINE_ADMIN_PORT", "0");
        return JavaProcess.start(List.of(), LifecycleFixtureMain.class.getName(), env);
    }

    private static String user(String libpqUrl) {
        return DatabaseUrl.parse(libpqUrl).url().orElseThrow().user();
    }

    private static String password(String libpqUrl) {
        return DatabaseUrl.parse(libpqUrl).url().orElseThrow().password().reveal();
    }
}
