package io.ragline.core.db;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.testkit.SchemaMigrator;

/**
 * The testkit's way to migrate a test schema as its owner, with the product's own {@link
 * Migrations}: shipped in core's test jar so that every module's tests use it.
 */
public final class OwnerMigration implements SchemaMigrator {
    @Override
    public void migrate(String ownerDatabaseUrl, String schema) throws Exception {
        DatabaseUrl url = DatabaseUrl.parse(ownerDatabaseUrl)
                .url()
                .orElseThrow(() -> new IllegalArgumentException("the test database URL is not a libpq URL"));
        new Migrations(url, schema, "testkit-migrate").migrate();
    }
}
