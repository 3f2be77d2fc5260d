package io.ragline.testkit;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A database of its own on the test server, for a test that needs more than a schema (a dump
 * restored into a second database): created by the test server's user, or for another owner,
 * and dropped, with whatever is still connected to it, by {@link #drop()}. Statements that are
 * the server's rather than a database's (roles) go through {@link #onServer(String)}.
 */
public final class ScratchDatabase {
    private final String name;

    private ScratchDatabase(String name) {
        this.name = name;
    }

    /** A new database named {@code <prefix>_<random>}, owned by the test server's user. */
    public static ScratchDatabase create(String prefix) throws SQLException {
        return createOwnedBy(prefix, null);
    }

    /** A new database named {@code <prefix>_<random>}, owned by {@code owner} (null: the test server's user). */
    public static ScratchDatabase createOwnedBy(String prefix, String owner) throws SQLException {
        String name = prefix + "_" + Long.toString(ThreadLocalRandom.current().nextLong(Long.MAX_VALUE), 36);
        onServer("create database " + name + (owner == null ? "" : " owner " + owner));
        return new ScratchDatabase(name);
    }

    /** Runs one statement as the test server's user in its own database (roles, databases). */
    public static void onServer(String sql) throws SQLException {
        try (Connection c = connectTo(TestServices.get().databaseUrl());
                Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    public String name() {
        return name;
    }

    /** The libpq URL of the test server's user (a superuser on the dev server) in this database. */
    public String serverUserUrl() {
        return LibpqUrl.inDatabase(TestServices.get().databaseUrl(), name);
    }

    /** {@code url} (a login's, such as {@link PostgresSchema#newLogin}'s) pointed at this database. */
    public String urlOf(String url) {
        return LibpqUrl.inDatabase(url, name);
    }

    /** This database's URL for {@code user} with {@code password}. */
    public String urlAs(String user, String password) {
        return LibpqUrl.inDatabase(LibpqUrl.withLogin(TestServices.get().databaseUrl(), user, password), name);
    }

    /** A connection as the test server's user, whose search path is {@code schema}, then public. */
    public Connection connect(String schema) throws SQLException {
        Connection c = connectTo(serverUserUrl());
        try (Statement s = c.createStatement()) {
            s.execute("set search_path = " + schema + ", public");
        }
        return c;
    }

    /** Runs one statement as the test server's user; the first column of the first row, or null. */
    public Object queryValue(String sql) throws SQLException {
        try (Connection c = connectTo(serverUserUrl());
                Statement s = c.createStatement()) {
            if (!s.execute(sql)) {
                return null;
            }
            try (ResultSet rs = s.getResultSet()) {
                return rs.next() ? rs.getObject(1) : null;
            }
        }
    }

    /** Drops the database, ending the sessions still connected to it. */
    public void drop() throws SQLException {
        onServer("drop database if exists " + name + " with (force)");
    }

    /** {@code url} without its password: for a client tool's argv, which other users can read. */
    public static String withoutPassword(String url) {
        return LibpqUrl.withoutPassword(url);
    }

    /** The password of {@code url} (empty when it has none): for a client tool's PGPASSWORD. */
    public static String passwordOf(String url) {
        return LibpqUrl.parse(url).password();
    }

    private static Connection connectTo(String url) throws SQLException {
        LibpqUrl u = LibpqUrl.parse(url);
        Properties props = new Properties();
        props.setProperty("user", u.user());
        props.setProperty("password", u.password());
        return DriverManager.getConnection(u.jdbcUrl(), props);
    }
}
