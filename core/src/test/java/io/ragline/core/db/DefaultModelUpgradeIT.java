package io.ragline.core.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.testkit.PostgresSchema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The default model became the int8 MiniLM (issue 17): a new installation's collection 'default'
 * and collections made without a model get it; a 'default' collection that already holds
 * documents keeps the model its vectors were made with.
 */
class DefaultModelUpgradeIT {
    @RegisterExtension
    static final PostgresSchema fresh = PostgresSchema.unmigrated();

    @RegisterExtension
    static final PostgresSchema upgraded = PostgresSchema.unmigrated();

    @Test
    void aNewInstallationsDefaultCollectionAndCollectionsMadeWithoutAModelUseTheInt8Model() throws Exception {
        new Migrations(DatabaseUrl.parse(fresh.databaseUrl()).url().orElseThrow(), fresh.schema(), "default-model-it")
                .migrate();

        assertThat(fresh.queryValue("select embedding_model from collections where name = 'default'"))
                .isEqualTo("all-MiniLM-L6-v2-q");
        fresh.execute("insert into collections (name) values ('plain')");
        assertThat(fresh.queryValue(
                        "select embedding_model || '/' || dimensions from collections where name = 'plain'"))
                .isEqualTo("all-MiniLM-L6-v2-q/384");
    }

    @Test
    void aDefaultCollectionThatHoldsDocumentsKeepsItsModel() throws Exception {
        Migrations migrations = new Migrations(
                DatabaseUrl.parse(upgraded.databaseUrl()).url().orElseThrow(), upgraded.schema(), "default-model-it");
        assertThat(migrations.migrate("24").version()).isEqualTo("24");
        upgraded.execute("insert into documents (collection_id, external_id, title, status, version) values"
                + " ((select id from collections where name = 'default'), 'kept', 'Kept', 'chunked', 1)");
        upgraded.execute("insert into collections (name) values ('older')");

        assertThat(migrations.migrate().applied()).isPositive();

        assertThat(upgraded.queryValue(
                        "select string_agg(name || ':' || embedding_model, ' ' order by name)" + " from collections"))
                .as("collections made before the change keep their model")
                .isEqualTo("default:all-MiniLM-L6-v2 older:all-MiniLM-L6-v2");
    }
}
