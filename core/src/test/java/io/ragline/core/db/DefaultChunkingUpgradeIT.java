package io.ragline.core.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.collections.CollectionSettings;
import io.ragline.testkit.PostgresSchema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The default chunking became 128 tokens with 16 of overlap (V33, issue 17): a new installation's
 * collection 'default' and collections made without a chunking get it; a 'default' collection that
 * already holds documents keeps the chunking its chunks were cut with.
 */
class DefaultChunkingUpgradeIT {
    /** A schema of its own for each test, each starting from nothing. */
    @RegisterExtension
    static final PostgresSchema db = PostgresSchema.unmigratedPerTest();

    /** The version before the change: an installation of the previous release. */
    private static final String BEFORE = "32";

    private static final String CHUNKINGS = "select string_agg(name || ':' || chunk_size_tokens || '/' ||"
            + " chunk_overlap_tokens, ' ' order by name) from collections";

    @Test
    void aNewInstallationsDefaultCollectionAndCollectionsMadeWithoutAChunkingUseTheNewOne() throws Exception {
        UpgradeTests.migrations(db, "chunking-it").migrate();
        db.execute("insert into collections (name) values ('plain')");

        assertThat(db.queryValue(CHUNKINGS)).isEqualTo("default:128/16 plain:128/16");
        assertThat(CollectionSettings.DEFAULT_CHUNK_SIZE_TOKENS + "/" + CollectionSettings.DEFAULT_CHUNK_OVERLAP_TOKENS)
                .as("the registry's defaults are the table's")
                .isEqualTo("128/16");
    }

    @Test
    void aDefaultCollectionThatHoldsDocumentsKeepsItsChunking() throws Exception {
        Migrations migrations = UpgradeTests.migrations(db, "chunking-it");
        assertThat(migrations.migrate(BEFORE).version()).isEqualTo(BEFORE);
        db.execute("insert into documents (collection_id, external_id, title, status, version) values"
                + " ((select id from collections where name = 'default'), 'kept', 'Kept', 'chunked', 1)");
        db.execute("insert into collections (name) values ('older')");

        assertThat(migrations.migrate().applied()).isPositive();

        assertThat(db.queryValue(CHUNKINGS))
                .as("collections made before the change keep their chunking")
                .isEqualTo("default:256/32 older:256/32");
    }

    @Test
    void anEmptyDefaultCollectionTakesTheNewChunkingWhileOtherCollectionsKeepTheirs() throws Exception {
        Migrations migrations = UpgradeTests.migrations(db, "chunking-it");
        migrations.migrate(BEFORE);
        db.execute("insert into collections (name) values ('older')");
        db.execute("insert into collections (name, chunk_size_tokens, chunk_overlap_tokens) values"
                + " ('chosen', 512, 0)");

        migrations.migrate();

        assertThat(db.queryValue(CHUNKINGS)).isEqualTo("chosen:512/0 default:128/16 older:256/32");
    }

    @Test
    void aDefaultCollectionAClassifierWasTrainedOnKeepsItsChunkingEvenWithoutDocuments() throws Exception {
        Migrations migrations = UpgradeTests.migrations(db, "chunking-it");
        migrations.migrate(BEFORE);
        db.execute("insert into models (project, backend, algorithm, collection_id, deployed) values"
                + " ('topics', 'builtin', 'nearest-centroid', (select id from collections where name = 'default'),"
                + " true)");

        migrations.migrate();

        assertThat(db.queryValue(CHUNKINGS)).isEqualTo("default:256/32");
    }

    @Test
    void anEmptyDefaultCollectionWhoseChunkingAnOperatorChoseKeepsIt() throws Exception {
        Migrations migrations = UpgradeTests.migrations(db, "chunking-it");
        migrations.migrate(BEFORE);
        db.execute("update collections set chunk_size_tokens = 200, chunk_overlap_tokens = 32"
                + " where name = 'default'");

        migrations.migrate();

        assertThat(db.queryValue(CHUNKINGS)).isEqualTo("default:200/32");
    }
}
