package io.ragline.cli;

import io.ragline.core.config.Env;
import io.ragline.core.db.SchemaAccess;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code ragline roles grant|revoke|list}: attaches a login to one of the NOLOGIN roles that the
 * migrations create ({@code ragline_worker}, {@code ragline_reader}), as the owner that runs {@code
 * ragline migrate}, through {@link LoginGrants} ({@code ragline migrate --worker-login} grants the same
 * way). Exit 0, 1 when the database refuses (no such login, not allowed) or the role is no login (a
 * group role, one of Ragline's own), 2 on bad settings or arguments.
 */
@Command(
        name = "roles",
        mixinStandardHelpOptions = true,
        description = {
            "Attach logins to Ragline's roles: worker (ragline_worker: the worker processes' DML, no DDL)",
            "or reader (ragline_reader: SELECT and search_documents). Run as the owner (DATABASE_URL)."
        },
        subcommands = {RolesCommand.Grant.class, RolesCommand.Revoke.class, RolesCommand.List.class})
final class RolesCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }

    @Command(
            name = "grant",
            mixinStandardHelpOptions = true,
            description = "GRANT ragline_worker (worker) or ragline_reader (reader) TO LOGIN_ROLE.")
    static final class Grant implements Callable<Integer> {
        @Parameters(
                index = "0",
                paramLabel = "LOGIN_ROLE",
                description = "An existing role (CREATE ROLE bob LOGIN ...).")
        String login;

        @Parameters(index = "1", paramLabel = "worker|reader", description = "Valid values: ${COMPLETION-CANDIDATES}.")
        LoginGrants.Kind kind;

        @Override
        public Integer call() {
            return CollectionsCommand.withConnection(
                    "roles grant", Env.load(), c -> LoginGrants.grant(c, "roles grant", login, kind));
        }
    }

    @Command(
            name = "revoke",
            mixinStandardHelpOptions = true,
            description = "REVOKE ragline_worker (worker) or ragline_reader (reader) FROM LOGIN_ROLE.")
    static final class Revoke implements Callable<Integer> {
        @Parameters(index = "0", paramLabel = "LOGIN_ROLE", description = "A role granted worker or reader.")
        String login;

        @Parameters(index = "1", paramLabel = "worker|reader", description = "Valid values: ${COMPLETION-CANDIDATES}.")
        LoginGrants.Kind kind;

        @Override
        public Integer call() {
            return CollectionsCommand.withConnection(
                    "roles revoke", Env.load(), c -> LoginGrants.revoke(c, "roles revoke", login, kind));
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            description = "Every role that is a member of ragline_worker or ragline_reader.")
    static final class List implements Callable<Integer> {
        @Override
        public Integer call() {
            return CollectionsCommand.withConnection("roles list", Env.load(), c -> {
                try (PreparedStatement s = c.prepareStatement("select r.rolname, m.rolname, r.rolcanlogin from"
                                + " pg_auth_members a join pg_roles r on r.oid = a.member join pg_roles m on m.oid ="
                                + " a.roleid where m.rolname in (?, ?) order by 1, 2");
                        ResultSet rs = query(s)) {
                    System.out.printf(Locale.ROOT, "%-32s %-16s %s%n", "ROLE", "GRANTED", "LOGIN");
                    while (rs.next()) {
                        System.out.printf(
                                Locale.ROOT,
                                "%-32s %-16s %s%n",
                                rs.getString(1),
                                rs.getString(2),
                                rs.getBoolean(3) ? "yes" : "no");
                    }
                }
                return 0;
            });
        }

        private static ResultSet query(PreparedStatement s) throws SQLException {
            s.setString(1, SchemaAccess.WORKER_ROLE);
            s.setString(2, SchemaAccess.READER_ROLE);
            return s.executeQuery();
        }
    }
}
