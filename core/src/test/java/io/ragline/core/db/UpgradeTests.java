package io.ragline.core.db;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.testkit.PostgresSchema;

/** What the upgrade tests share: the migrations of an unmigrated test schema, to run to a version and then on. */
final class UpgradeTests {
    private UpgradeTests() {}

    /** Flyway's migrations of {@code schema}, as {@code ragline migrate} runs them, under {@code applicationName}. */
    static Migrations migrations(PostgresSchema schema, String applicationName) {
        return new Migrations(
                DatabaseUrl.parse(schema.databaseUrl()).url().orElseThrow(), schema.schema(), applicationName);
    }
}
