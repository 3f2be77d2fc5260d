package io.ragline.core.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * V25 upgrades data in place (review finding 9): a schema at V24 with embedded documents and a
 * collection's vector index, migrated to V27, keeps every vector as generation 1 of its collection,
 * serving, with the collection's model; the index is rebuilt with the generation in its predicate,
 * valid and used by a search; and a search returns what it returned before the upgrade.
 */
class GenerationsUpgradeIT {
    @RegisterExtension
    static final PostgresSchema db = PostgresSchema.unmigrated();

    private static final String SEARCH = "select string_agg(document_id || ':' || round(similarity::numeric, 6), ','"
            + " order by similarity desc, document_id) from search_documents('[1,0.5,0]'::vector, 5, 'old', mode =>"
            + " 'vector')";

    @Test
    void vectorsStoredBeforeV25BecomeGenerationOneWithAWorkingIndexAndTheSameSearchResults() throws Exception {
        Migrations migrations =
                new Migrations(DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow(), db.schema(), "upgrade-it");
        assertThat(migrations.migrate("24").version()).isEqualTo("24");
        db.execute("insert into collections (name, dimensions) values ('old', 3)");
        int collection = ((Number) db.queryValue("select id from collections where name = 'old'")).intValue();
        db.execute("select ensure_collection_index(" + collection + ")");
        for (int i = 0; i < 20; i++) {
            db.execute("insert into documents (collection_id, external_id, title, status) values (" + collection
                    + ", 'd" + i + "', 'T', 'embedded')");
            db.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                    + " select id, collection_id, 0, 0, 'text " + i + "', 2 from documents where external_id = 'd" + i
                    + "'");
            db.execute("insert into chunk_embeddings (chunk_id, collection_id, embedding, model) select ch.id, "
                    + collection + ", '[" + Math.cos(i * 0.3) + "," + Math.sin(i * 0.3) + "," + (i % 3) * 0.1
                    + "]', 'all-MiniLM-L6-v2' from chunks ch where ch.content = 'text " + i + "'");
        }
        String index = "chunk_embeddings_c" + collection + "_idx";
        assertThat(db.queryValue("select to_regclass('" + index + "') is not null"))
                .isEqualTo(true);
        Object before = db.queryValue(SEARCH);
        assertThat(before).asString().contains("d0:");

        assertThat(migrations.migrate("27").version()).isEqualTo("27");

        assertThat(db.queryValue("select generation || ' ' || state || ' ' || embedding_model || ' ' || dimensions"
                        + " from collection_generations where collection_id = " + collection))
                .isEqualTo("1 serving all-MiniLM-L6-v2 3");
        assertThat(db.queryValue("select count(*) filter (where generation = 1) || ' of ' || count(*) from"
                        + " chunk_embeddings"))
                .as("every stored vector is generation 1")
                .isEqualTo("20 of 20");
        assertThat(db.queryValue("select pg_get_indexdef('" + index + "'::regclass)"))
                .asString()
                .contains("generation = 1")
                .contains("collection_id = " + collection);
        assertThat(db.queryValue(
                        "select indisvalid and indisready from pg_index where indexrelid = '" + index + "'::regclass"))
                .isEqualTo(true);
        assertThat(db.queryValue(SEARCH))
                .as("the same results as before the upgrade")
                .isEqualTo(before);
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("set local enable_seqscan = off");
            try (ResultSet rs = s.executeQuery(SEARCH)) {
                rs.next();
                assertThat(rs.getString(1)).isEqualTo(before);
            }
            try (ResultSet rs = s.executeQuery("select pg_stat_get_xact_numscans('" + index + "'::regclass)")) {
                rs.next();
                assertThat(rs.getLong(1))
                        .as("the search used the rebuilt index")
                        .isPositive();
            }
            c.rollback();
        }
    }
}
