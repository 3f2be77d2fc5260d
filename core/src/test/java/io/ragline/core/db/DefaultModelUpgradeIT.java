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
    /** A schema of its own for each test, each starting from nothing. */
    @RegisterExtension
    static final PostgresSchema db = PostgresSchema.unmigratedPerTest();

    /** The version before the int8 default: an installation of the previous release. */
    private static final String BEFORE = "29";

    @Test
    void aNewInstallationsDefaultCollectionAndCollectionsMadeWithoutAModelUseTheInt8Model() throws Exception {
        UpgradeTests.migrations(db, "default-model-it").migrate();

        assertThat(db.queryValue("select embedding_model from collections where name = 'default'"))
                .isEqualTo("all-MiniLM-L6-v2-q");
        db.execute("insert into collections (name) values ('plain')");
        assertThat(db.queryValue("select embedding_model || '/' || dimensions from collections where name = 'plain'"))
                .isEqualTo("all-MiniLM-L6-v2-q/384");
    }

    @Test
    void aDefaultCollectionThatHoldsDocumentsKeepsItsModel() throws Exception {
        Migrations migrations = UpgradeTests.migrations(db, "default-model-it");
        assertThat(migrations.migrate(BEFORE).version()).isEqualTo(BEFORE);
        db.execute("insert into documents (collection_id, external_id, title, status, version) values"
                + " ((select id from collections where name = 'default'), 'kept', 'Kept', 'chunked', 1)");
        db.execute("insert into collections (name) values ('older')");

        assertThat(migrations.migrate().applied()).isPositive();

        assertThat(db.queryValue(
                        "select string_agg(name || ':' || embedding_model, ' ' order by name)" + " from collections"))
                .as("collections made before the change keep their model")
                .isEqualTo("default:all-MiniLM-L6-v2 older:all-MiniLM-L6-v2");
    }

    @Test
    void anEmptyDefaultCollectionTakesTheNewDefaultWhileOtherCollectionsKeepTheirs() throws Exception {
        Migrations migrations = UpgradeTests.migrations(db, "default-model-it");
        migrations.migrate(BEFORE);
        db.execute("insert into collections (name) values ('older')");
        db.execute("insert into documents (collection_id, external_id, title, status, version) values"
                + " ((select id from collections where name = 'older'), 'd', 'D', 'chunked', 1)");

        migrations.migrate();

        assertThat(db.queryValue(
                        "select string_agg(name || ':' || embedding_model, ' ' order by name)" + " from collections"))
                .isEqualTo("default:all-MiniLM-L6-v2-q older:all-MiniLM-L6-v2");
    }

    @Test
    void aDefaultCollectionAClassifierWasTrainedOnKeepsItsModelEvenWithoutDocuments() throws Exception {
        Migrations migrations = UpgradeTests.migrations(db, "default-model-it");
        migrations.migrate(BEFORE);
        db.execute("insert into models (project, backend, algorithm, collection_id, deployed) values"
                + " ('topics', 'builtin', 'nearest-centroid', (select id from collections where name = 'default'),"
                + " true)");

        migrations.migrate();

        assertThat(db.queryValue("select embedding_model from collections where name = 'default'"))
                .isEqualTo("all-MiniLM-L6-v2");
    }
}
