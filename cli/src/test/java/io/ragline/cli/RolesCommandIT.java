package io.ragline.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.testkit.JavaProcess;
import io.ragline.testkit.PostgresSchema;
import java.net.URI;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * {@code ragline roles grant|revoke|list}, and {@code ragline migrate --worker-login|--reader-login} which
 * grants the same way, as real processes, run as the owner of a migrated schema.
 */
class RolesCommandIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @Test
    void aLoginGrantedReaderReadsTheSchemaUntilItIsRevoked() throws Exception {
        String login = PostgresSchema.newLogin();
        String user = user(login);
        assertThatThrownBy(() -> count(login)).isInstanceOf(SQLException.class);

        JavaProcess grant = CliProcess.start(owner(), "roles", "grant", user, "reader");
        assertThat(grant.waitFor(60)).as(grant.stderr()).isZero();
        assertThat(grant.stdout()).contains("granted ragline_reader to " + user);
        assertThat(count(login)).isZero();

        JavaProcess list = CliProcess.start(owner(), "roles", "list");
        assertThat(list.waitFor(60)).as(list.stderr()).isZero();
        assertThat(list.stdout()).containsPattern(user + " +ragline_reader +yes");

        JavaProcess revoke = CliProcess.start(owner(), "roles", "revoke", user, "reader");
        assertThat(revoke.waitFor(60)).as(revoke.stderr()).isZero();
        assertThatThrownBy(() -> count(login)).isInstanceOf(SQLException.class);
    }

    @Test
    void aLoginGrantedWorkerHoldsEveryPrivilegeAWorkerChecksAtStartUp() throws Exception {
        String login = PostgresSchema.newLogin();
        JavaProcess grant = CliProcess.start(owner(), "roles", "grant", user(login), "worker");
        assertThat(grant.waitFor(60)).as(grant.stderr()).isZero();

        JavaProcess status =
                CliProcess.start(Map.of("DATABASE_URL", login, "RAGLINE_DB_SCHEMA", db.schema()), "status");
        assertThat(status.waitFor(60)).as(status.stderr()).isZero();
    }

    @Test
    void anUnknownLoginAnUnknownKindAndAUserWhoMayNotGrantEachFailClearly() throws Exception {
        JavaProcess unknown = CliProcess.start(owner(), "roles", "grant", "no_such_login_x", "worker");
        assertThat(unknown.waitFor(60)).isEqualTo(1);
        assertThat(unknown.stderr()).contains("ragline roles grant: no role named 'no_such_login_x'");

        JavaProcess kind = CliProcess.start(owner(), "roles", "grant", "no_such_login_x", "admin");
        assertThat(kind.waitFor(60)).isEqualTo(2);
        assertThat(kind.stderr()).contains("worker, reader");

        // A worker login is no owner: it may not hand its role on.
        String login = PostgresSchema.newLogin();
        JavaProcess refused = CliProcess.start(
                Map.of("DATABASE_URL", db.databaseUrl(), "RAGLINE_DB_SCHEMA", db.schema()),
                "roles",
                "grant",
                user(login),
                "worker");
        assertThat(refused.waitFor(60)).isEqualTo(1);
        assertThat(refused.stderr()).contains("ragline roles grant: not allowed: ");

        JavaProcess help = CliProcess.start(owner(), "roles", "grant", "--help");
        assertThat(help.waitFor(60)).isZero();
        assertThat(help.stdout()).contains("LOGIN_ROLE").contains("worker|reader");
    }

    @Test
    void aGroupRoleIsRefusedSoThatItsMembersDoNotAllBecomeWorkers() throws Exception {
        JavaProcess ragline = CliProcess.start(owner(), "roles", "grant", "ragline_reader", "worker");
        assertThat(ragline.waitFor(60)).isEqualTo(1);
        assertThat(ragline.stderr())
                .contains("ragline roles grant: 'ragline_reader' is one of Ragline's own roles: grant ragline_worker"
                        + " only to a login");
        assertThat(db.queryValue("select pg_has_role('ragline_reader', 'ragline_worker', 'member')"))
                .isEqualTo(false);

        String group = "t_group_" + Long.toString(System.nanoTime(), 36);
        db.execute("create role " + group + " nologin");
        try {
            JavaProcess nologin = CliProcess.start(owner(), "roles", "grant", group, "reader");
            assertThat(nologin.waitFor(60)).isEqualTo(1);
            assertThat(nologin.stderr())
                    .contains("ragline roles grant: '" + group + "' is a role without LOGIN: grant ragline_reader"
                            + " only to a login");
            assertThat(db.queryValue("select pg_has_role('" + group + "', 'ragline_reader', 'member')"))
                    .isEqualTo(false);
        } finally {
            db.execute("drop role " + group);
        }
    }

    @Test
    void aLoginThatOtherRolesAreMembersOfIsRefusedSoThatTheyDoNotAllBecomeWorkers() throws Exception {
        String team = "t_team_" + Long.toString(System.nanoTime(), 36);
        String member = PostgresSchema.newLogin();
        db.execute("create role " + team + " login password 'x-unused-x'");
        db.execute("grant " + team + " to " + user(member));
        try {
            for (JavaProcess refused : List.of(
                    CliProcess.start(owner(), "roles", "grant", team, "worker"),
                    CliProcess.start(owner(), "migrate", "--worker-login", team))) {
                assertThat(refused.waitFor(120)).as(refused.stderr()).isEqualTo(1);
                assertThat(refused.stderr())
                        .contains("'" + team + "' is a role with members: grant ragline_worker only to a login");
            }
            assertThat(db.queryValue("select pg_has_role('" + user(member) + "', 'ragline_worker', 'member')"))
                    .isEqualTo(false);
        } finally {
            db.execute("drop role " + team);
        }
    }

    @Test
    void aLoginNameHoldingQuotesAndSqlIsGrantedAsThatOneRoleAndNothingElse() throws Exception {
        String crafted = "t_q\"; grant ragline_worker to public; --'" + Long.toString(System.nanoTime(), 36);
        db.execute("create role \"" + crafted.replace("\"", "\"\"") + "\" login password 'x-unused-x'");
        try {
            JavaProcess grant = CliProcess.start(owner(), "migrate", "--reader-login", crafted);
            assertThat(grant.waitFor(120)).as(grant.stderr()).isZero();
            assertThat(grant.stdout()).contains("granted ragline_reader to " + crafted);
            assertThat(db.queryValue("select count(*) from pg_auth_members m join pg_roles r on r.oid = m.member"
                            + " where r.rolname = '" + crafted.replace("'", "''") + "'"))
                    .isEqualTo(1L);
            assertThat(db.queryValue(
                            "select pg_has_role('" + crafted.replace("'", "''") + "', 'ragline_worker', 'member')"))
                    .isEqualTo(false);
        } finally {
            db.execute("drop role \"" + crafted.replace("\"", "\"\"") + "\"");
        }
    }

    @Test
    void migrateGrantsItsWorkerAndReaderLoginsTheirRolesOnEveryRun() throws Exception {
        String worker = PostgresSchema.newLogin();
        String reader = PostgresSchema.newLogin();
        assertThatThrownBy(() -> count(reader)).isInstanceOf(SQLException.class);

        for (int run = 1; run <= 2; run++) {
            JavaProcess migrate = CliProcess.start(
                    owner(), "migrate", "--worker-login", user(worker), "--reader-login", user(reader));
            assertThat(migrate.waitFor(120)).as(migrate.stderr()).isZero();
            assertThat(migrate.stdout())
                    .as("run %d", run)
                    .contains("schema " + db.schema() + " is up to date at version ")
                    .contains("granted ragline_worker to " + user(worker))
                    .contains("granted ragline_reader to " + user(reader));
        }

        assertThat(count(reader)).isZero();
        assertThat(db.queryValue("select pg_has_role('" + user(reader) + "', 'ragline_worker', 'member')"))
                .isEqualTo(false);
        assertThat(db.queryValue("select pg_has_role('" + user(worker) + "', 'ragline_worker', 'member')"))
                .isEqualTo(true);
        JavaProcess status =
                CliProcess.start(Map.of("DATABASE_URL", worker, "RAGLINE_DB_SCHEMA", db.schema()), "status");
        assertThat(status.waitFor(60)).as(status.stderr()).isZero();
    }

    @Test
    void migrateWithALoginThatDoesNotExistMigratesThenFailsNamingTheLogin() throws Exception {
        JavaProcess migrate = CliProcess.start(owner(), "migrate", "--worker-login", "no_such_login_y");

        assertThat(migrate.waitFor(120)).isEqualTo(1);
        assertThat(migrate.stdout()).contains("schema " + db.schema() + " is up to date");
        assertThat(migrate.stderr())
                .contains("ragline migrate: no role named 'no_such_login_y': create the login first");

        JavaProcess group = CliProcess.start(owner(), "migrate", "--reader-login", "ragline_worker");
        assertThat(group.waitFor(120)).isEqualTo(1);
        assertThat(group.stderr()).contains("ragline migrate: 'ragline_worker' is one of Ragline's own roles");
    }

    private static Map<String, String> owner() {
        return Map.of("DATABASE_URL", db.ownerDatabaseUrl(), "RAGLINE_DB_SCHEMA", db.schema());
    }

    private static String user(String libpqUrl) {
        return URI.create(libpqUrl).getUserInfo().split(":", 2)[0];
    }

    /** Counts the documents as {@code libpqUrl}'s login. */
    private static long count(String libpqUrl) throws SQLException {
        URI uri = URI.create(libpqUrl);
        String[] credentials = uri.getUserInfo().split(":", 2);
        String jdbc = "jdbc:postgresql://" + uri.getHost() + ":" + uri.getPort() + uri.getPath();
        try (var c = DriverManager.getConnection(jdbc, credentials[0], credentials[1]);
                var s = c.createStatement();
                var rs = s.executeQuery("select count(*) from " + db.schema() + ".documents")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
