package io.ragline.cli;

import io.ragline.core.db.SchemaAccess;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Optional;

/**
 * Attaching a login to one of the NOLOGIN roles the migrations create, or detaching it: the one home
 * of {@code ragline roles grant|revoke} and {@code ragline migrate --worker-login|--reader-login}.
 * Each call prints one line (what was done on stdout, why not on stderr, prefixed with {@code ragline
 * <command>:}) and returns the command's exit status: 0, or 1 when the database refuses (no such
 * login, not allowed) or the login is no login of its own (a role without LOGIN or with members, one of
 * Ragline's roles).
 */
final class LoginGrants {
    /** The kinds a login can be given, each a role of grants.sql (lower case: as typed). */
    enum Kind {
        worker(SchemaAccess.WORKER_ROLE),
        reader(SchemaAccess.READER_ROLE);

        final String role;

        Kind(String role) {
            this.role = role;
        }
    }

    private LoginGrants() {}

    /**
     * Whether {@code name} is in the namespace of Ragline's own roles ({@code ragline_*}), which are
     * never given to anyone: a login must be named otherwise (deployments use {@code ragworker}).
     */
    static boolean isRaglineRole(String name) {
        return name.startsWith("ragline_");
    }

    /** {@code GRANT <kind's role> TO login}; granting it again changes nothing. */
    static int grant(Connection c, String command, String login, Kind kind) throws SQLException {
        return change(c, command, login, kind, true);
    }

    /** {@code REVOKE <kind's role> FROM login}. */
    static int revoke(Connection c, String command, String login, Kind kind) throws SQLException {
        return change(c, command, login, kind, false);
    }

    private static int change(Connection c, String command, String login, Kind kind, boolean grant)
            throws SQLException {
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
        Optional<String> notALogin = grant ? notALoginOfItsOwn(c, login) : Optional.empty();
        if (notALogin.isPresent()) {
            // A group role would hand the role to every member: `grant ragline_reader worker` makes
            // every reader a worker; so would a login that others are members of.
            System.err.println("ragline " + command + ": '" + login + "' is " + notALogin.get() + ": grant "
                    + kind.role + " only to a login (CREATE ROLE name LOGIN PASSWORD '...'), so that no group"
                    + " of users receives it");
            return 1;
        }
        String sql = grant ? "grant %s to %s" : "revoke %s from %s";
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
        System.out.println((grant ? "granted " + kind.role + " to " : "revoked " + kind.role + " from ") + login);
        return 0;
    }

    private static boolean exists(Connection c, String role) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select 1 from pg_roles where rolname = ?")) {
            s.setString(1, role);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next();
            }
        }
    }

    /**
     * Why {@code role} is no login of its own, or empty when it is one: one of Ragline's roles, a role
     * without LOGIN, or a role that has members (every member would receive what it is granted).
     */
    private static Optional<String> notALoginOfItsOwn(Connection c, String role) throws SQLException {
        if (role.startsWith("ragline_")) {
            return Optional.of("one of Ragline's own roles");
        }
        // A member that neither inherits nor may SET ROLE receives nothing: PostgreSQL 16 records such a
        // membership (ADMIN only) for the CREATEROLE user that created the login. Before 16 there are no
        // such columns, and every member receives the role's privileges.
        try (PreparedStatement s = c.prepareStatement("select r.rolcanlogin, exists (select from pg_auth_members m"
                + " where m.roleid = r.oid and coalesce((to_jsonb(m) ->> 'inherit_option')::boolean"
                + " or (to_jsonb(m) ->> 'set_option')::boolean, true)) from pg_roles r where r.rolname = ?")) {
            s.setString(1, role);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next() || !rs.getBoolean(1)) {
                    return Optional.of("a role without LOGIN");
                }
                return rs.getBoolean(2) ? Optional.of("a role with members") : Optional.empty();
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
