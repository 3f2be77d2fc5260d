package io.ragline.core.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What a process that does not migrate checks at start-up: the schema exists and is current, and
 * its login holds every privilege of {@code ragline_worker} (the grants of {@code
 * grants.sql}): DML on each table (not DELETE on collections; on the append-only audit_log INSERT and SELECT, and UPDATE of its outcome only), SELECT on the migration history, USAGE on each
 * sequence, EXECUTE on each function. Each problem says who must do what, and never holds a secret.
 */
public final class SchemaAccess {
    /** The role of the worker processes; {@code ragline roles grant LOGIN worker} attaches a login. */
    public static final String WORKER_ROLE = "ragline_worker";
    /** The role of read-only users: SELECT and the search function. */
    public static final String READER_ROLE = "ragline_reader";
    /** At most this many missing privileges are named in the message (then a count). */
    private static final int NAMED = 5;

    private static final String MISSING = "select priv || ' on ' || what from ("
            + " select format('%I.%I', n.nspname, c.relname) as what, p.priv, c.relname = ? as history,"
            + "        c.relname = 'collections' as collections, c.relname = 'audit_log' as audit"
            + "   from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            + "   cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE']) p(priv)"
            + "  where n.nspname = ? and c.relkind in ('r', 'p') and not has_table_privilege(c.oid, p.priv)"
            + " union all"
            + " select format('sequence %I.%I', n.nspname, c.relname), 'USAGE', false, false, false"
            + "   from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            + "  where n.nspname = ? and c.relkind = 'S'"
            // A CASE: a plain AND may call the function on rows that are not sequences.
            + "    and case when c.relkind = 'S' then not has_sequence_privilege(c.oid, 'USAGE') else false end"
            + " union all"
            + " select format('function %I.%I(%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)),"
            + "        'EXECUTE', false, false, false"
            + "   from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
            + "  where n.nspname = ? and p.prokind = 'f' and not has_function_privilege(p.oid, 'EXECUTE')"
            + " ) m where not (history and priv <> 'SELECT') and not (collections and priv = 'DELETE') and not (audit and priv in ('UPDATE', 'DELETE'))"
            + " order by what, priv";

    private SchemaAccess() {}

    /**
     * The problems that stop a worker that does not migrate from starting; empty when there are
     * none. {@code c} is a connection of the worker's own login.
     */
    public static List<String> workerProblems(Connection c, String schema, Migrations migrations) throws SQLException {
        String user;
        boolean exists;
        boolean usage;
        try (PreparedStatement s = c.prepareStatement("select current_user, n.oid is not null,"
                + " coalesce(has_schema_privilege(n.oid, 'USAGE'), false)"
                + " from (select 1) one left join pg_namespace n on n.nspname = ?")) {
            s.setString(1, schema);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                user = rs.getString(1);
                exists = rs.getBoolean(2);
                usage = rs.getBoolean(3);
            }
        }
        if (!exists) {
            return List.of("schema " + schema + " does not exist: run `ragline migrate` as the owner");
        }
        if (!usage) {
            return List.of("user " + user + " lacks USAGE on schema " + schema + ": " + grantHint(c, user));
        }
        // Before Flyway reads the history: without SELECT on it Flyway throws (exit 1, a stack trace).
        if (!historyReadable(c, schema)) {
            return List.of("user " + user + " lacks SELECT on " + schema + "." + Migrations.HISTORY_TABLE + ": "
                    + grantHint(c, user));
        }
        Optional<String> pending = migrations.pendingProblem();
        if (pending.isPresent()) {
            return List.of(pending.get());
        }
        List<String> missing = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(MISSING)) {
            s.setString(1, Migrations.HISTORY_TABLE);
            s.setString(2, schema);
            s.setString(3, schema);
            s.setString(4, schema);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    missing.add(rs.getString(1));
                }
            }
        }
        if (missing.isEmpty()) {
            return List.of();
        }
        String named = String.join(", ", missing.subList(0, Math.min(NAMED, missing.size())));
        String more = missing.size() > NAMED ? " (and " + (missing.size() - NAMED) + " more)" : "";
        return List.of("user " + user + " lacks " + named + more + ": " + grantHint(c, user));
    }

    /** Whether the migration history is missing (pending migrations say so) or readable. */
    private static boolean historyReadable(Connection c, String schema) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select coalesce(has_table_privilege(c.oid, 'SELECT'), true)"
                + " from (select 1) one left join (pg_class c join pg_namespace n on n.oid = c.relnamespace)"
                + " on n.nspname = ? and c.relname = ?")) {
            s.setString(1, schema);
            s.setString(2, Migrations.HISTORY_TABLE);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }

    /** How to give {@code user} the worker's privileges: the role, or first the migration that creates it. */
    private static String grantHint(Connection c, String user) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("select 1 from pg_roles where rolname = ?")) {
            s.setString(1, WORKER_ROLE);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return "the role " + WORKER_ROLE + " does not exist: run `ragline migrate` as the owner, then"
                            + " `ragline roles grant " + user + " worker`";
                }
            }
        }
        return "run `ragline roles grant " + user + " worker` as the owner";
    }
}
