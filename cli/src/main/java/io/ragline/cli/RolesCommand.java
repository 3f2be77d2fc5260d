package io.ragline.cli;

import io.ragline.core.config.Env;
import io.ragline.core.db.SchemaAccess;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code ragline roles grant|revoke|list}: attaches a login to one of the NOLOGIN roles that the
 * migrations create ({@code ragline_worker}, {@code ragline_reader}), as the owner that runs {@code
 * ragline migrate}. Exit 0, 1 when the database refuses (no such login, not allowed) or the role is
 * no login (a group role, one of Ragline's own), 2 on bad
 * settings or arguments.
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
    /** The kinds a login can be given, each a role of grants.sql (lower case: as typed). */
    enum Kind {
        worker(SchemaAccess.WORKER_ROLE),
        reader(SchemaAccess.READER_ROLE);

        final String role;

        Kind(String role) {
            this.role = role;
        }
    }

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
        Kind kind;

        @Override
        public Integer call() {
            return change("roles grant", login, kind, "grant %s to %s", "granted %s to %s");
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
        Kind kind;

        @Override
        public Integer call() {
            return change("roles revoke", login, kind, "revoke %s from %s", "revoked %s from %s");
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

    private static int change(String command, String login, Kind kind, String sql, String done) {
        return CollectionsCommand.withConnection(command, Env.load(), c -> {
            if (!exists(c, kind.role)) {
                System.err.println("ragline " + command + ": the role " + kind.role + " does not exist: run"
                        + " `ragline migrate` as the owner first");
                return 1;
            }
            if (!exists(c, login)) {
                System.err.println("ragline " + command + ": no role named '" + login + "': create the login first"
                        + " (CREATE ROLE " + quote(c, login) + " LOGIN PASSWORD '...')");
                return 1;
            }
            if (command.equals("roles grant") && !canLogIn(c, login)) {
                // A group role would hand the role to every member: `grant ragline_reader worker` makes
                // every reader a worker.
                System.err.println("ragline " + command + ": '" + login + "' is "
                        + (login.startsWith("ragline_") ? "one of Ragline's own roles" : "a role without LOGIN")
                        + ": grant " + kind.role + " only to a login (CREATE ROLE name LOGIN PASSWORD '...'), so that"
                        + " no group of users receives it");
                return 1;
            }
            try (Statement s = c.createStatement()) {
                s.execute(String.format(Locale.ROOT, sql, kind.role, quote(c, login)));
            } catch (SQLException e) {
                if ("42501".equals(e.getSQLState())) {
                    System.err.println("ragline " + command + ": not allowed: " + e.getMessage() + " (run it as the"
                            + " owner that migrated, with CREATEROLE or ADMIN OPTION on " + kind.role + ")");
                    return 1;
                }
                throw e;
            }
            System.out.println(String.format(Locale.ROOT, done, kind.role, login));
            return 0;
        });
    }

    private static boolean exists(Connection c, String role) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select 1 from pg_roles where rolname = ?")) {
            s.setString(1, role);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next();
            }
        }
    }

    /** Whether {@code role} is a login of its own: not one of Ragline's roles, and has LOGIN. */
    private static boolean canLogIn(Connection c, String role) throws SQLException {
        if (role.startsWith("ragline_")) {
            return false;
        }
        try (PreparedStatement s = c.prepareStatement("select rolcanlogin from pg_roles where rolname = ?")) {
            s.setString(1, role);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    private static String quote(Connection c, String identifier) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select quote_ident(?)")) {
            s.setString(1, identifier);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }
}
