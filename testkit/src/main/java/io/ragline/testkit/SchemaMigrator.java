package io.ragline.testkit;

/**
 * How {@link PostgresSchema} brings a test schema to the product's current version as its owner,
 * before a worker login is handed to the code under test. The testkit cannot depend on the
 * product (the product's tests depend on the testkit), so the product's test class path provides
 * the one implementation as a {@link java.util.ServiceLoader} service (core's test jar).
 */
public interface SchemaMigrator {
    /** Migrates {@code schema} of {@code ownerDatabaseUrl} (a libpq URL), as that URL's user. */
    void migrate(String ownerDatabaseUrl, String schema) throws Exception;
}
