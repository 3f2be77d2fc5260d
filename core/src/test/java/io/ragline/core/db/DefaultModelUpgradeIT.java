package io.ragline.core.db;

import static org.assertj.core.api.Assertions.assertThat;

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

    @RegisterExtension
    static final PostgresSchema emptyDefault = PostgresSchema.unmigrated();

    @RegisterExtension
    static final PostgresSchema trained = PostgresSchema.unmigrated();

    /** The version before the int8 default: an installation of the previous release. */
    private static final String BEFORE = "29";

    @Test
    void aNewInstallationsDefaultCollectionAndCollectionsMadeWithoutAModelUseTheInt8Model() throws Exception {
        UpgradeTests.migrations(fresh, "default-model-it").migrate();

        assertThat(fresh.queryValue("select embedding_model from collections where name = 'default'"))
                .isEqualTo("all-MiniLM-L6-v2-q");
        fresh.execute("insert into collections (name) values ('plain')");
        assertThat(fresh.queryValue(
                        "select embedding_model || '/' || dimensions from collections where name = 'plain'"))
                .isEqualTo("all-MiniLM-L6-v2-q/384");
    }

    @Test
    void aDefaultCollectionThatHoldsDocumentsKeepsItsModel() throws Exception {
        Migrations migrations = UpgradeTests.migrations(upgraded, "default-model-it");
        assertThat(migrations.migrate(BEFORE).version()).isEqualTo(BEFORE);
        upgraded.execute("insert into documents (collection_id, external_id, title, status, version) values"
                + " ((select id from collections where name = 'default'), 'kept', 'Kept', 'chunked', 1)");
        upgraded.execute("insert into collections (name) values ('older')");

        assertThat(migrations.migrate().applied()).isPositive();

        assertThat(upgraded.queryValue(
                        "select string_agg(name || ':' || embedding_model, ' ' order by name)" + " from collections"))
                .as("collections made before the change keep their model")
                .isEqualTo("default:all-MiniLM-L6-v2 older:all-MiniLM-L6-v2");
    }

    @Test
    void anEmptyDefaultCollectionTakesTheNewDefaultWhileOtherCollectionsKeepTheirs() throws Exception {
        Migrations migrations = UpgradeTests.migrations(emptyDefault, "default-model-it");
        migrations.migrate(BEFORE);
        emptyDefault.execute("insert into collections (name) values ('older')");
        emptyDefault.execute("insert into documents (collection_id, external_id, title, status, version) values"
                + " ((select id from collections where name = 'older'), 'd', 'D', 'chunked', 1)");

        migrations.migrate();

        assertThat(emptyDefault.queryValue(
                        "select string_agg(name || ':' || embedding_model, ' ' order by name)" + " from collections"))
                .isEqualTo("default:all-MiniLM-L6-v2-q older:all-MiniLM-L6-v2");
    }

    @Test
    void aDefaultCollectionAClassifierWasTrainedOnKeepsItsModelEvenWithoutDocuments() throws Exception {
        Migrations migrations = UpgradeTests.migrations(trained, "default-model-it");
        migrations.migrate(BEFORE);
        trained.execute("insert into models (project, backend, algorithm, collection_id, deployed) values"
                + " ('topics', 'builtin', 'nearest-centroid', (select id from collections where name = 'default'),"
                + " true)");

        migrations.migrate();

        assertThat(trained.queryValue("select embedding_model from collections where name = 'default'"))
                .isEqualTo("all-MiniLM-L6-v2");
    }
}
