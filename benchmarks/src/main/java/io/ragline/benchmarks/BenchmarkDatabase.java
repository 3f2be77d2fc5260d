package io.ragline.benchmarks;

import io.ragline.core.config.DatabaseUrl;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Properties;

/** Plain JDBC for the benchmarks' own bookkeeping (schemas, counts), outside what they measure. */
final class BenchmarkDatabase {
    private BenchmarkDatabase() {}

    static Connection connect(DatabaseUrl url) throws Exception {
        Properties p = new Properties();
        p.setProperty("user", url.user());
        p.setProperty("password", url.password().reveal());
        return DriverManager.getConnection(url.jdbcUrl(), p);
    }

    static void execute(DatabaseUrl url, String sql) throws Exception {
        try (Connection c = connect(url);
                Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    static long count(DatabaseUrl url, String sql) throws Exception {
        try (Connection c = connect(url);
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
