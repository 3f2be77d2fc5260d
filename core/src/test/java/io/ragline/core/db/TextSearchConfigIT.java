package io.ragline.core.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.core.config.DatabaseUrl;
import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * V23: a collection's text search configuration is text, not regconfig, so pg_upgrade accepts the
 * schema; the chunks stored before it keep their tsvectors (no rewrite), and each chunk's tsv is
 * still its content under its collection's configuration, computed by a trigger.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TextSearchConfigIT {
    @RegisterExtension
    static final PostgresSchema db = PostgresSchema.unmigrated();

    @RegisterExtension
    static final PostgresSchema broken = PostgresSchema.unmigrated();

    /** The reg* types pg_upgrade refuses in user tables (its check_for_reg_data_type_usage). */
    private static final String REFUSED_BY_PG_UPGRADE = "'regcollation', 'regconfig', 'regdictionary',"
            + " 'regnamespace', 'regoper', 'regoperator', 'regproc', 'regprocedure'";

    @Test
    @Order(1)
    void chunksStoredBeforeTheUpgradeKeepTheirTsvectorsWithoutARewriteAndStaySearchable() throws Exception {
        Migrations migrations =
                new Migrations(DatabaseUrl.parse(db.databaseUrl()).url().orElseThrow(), db.schema(), "upgrade-it");
        assertThat(migrations.migrate("22").version()).isEqualTo("22");
        db.execute("insert into collections (name, dimensions, text_search_config) values ('plain', 4, 'simple')");
        chunk("plain", "before", "Foxes were running");
        Object heap = db.queryValue("select pg_relation_filenode('chunks')");
        assertThat(refusedColumns()).isPositive(); // what V23 is for

        assertThat(migrations.migrate().applied()).isPositive();

        assertThat(refusedColumns()).as("columns pg_upgrade refuses").isZero();
        assertThat(db.queryValue("select pg_relation_filenode('chunks')"))
                .as("chunks was not rewritten")
                .isEqualTo(heap);
        assertThat(db.queryValue("select text_search_config from collections where name = 'plain'"))
                .isEqualTo("simple");
        assertThat(db.queryValue("select tsv = to_tsvector('simple', content) from chunks where content ~ 'Foxes'"))
                .isEqualTo(true);
        chunk("plain", "after", "Foxes were jumping");
        assertThat(db.queryValue("select string_agg(d.external_id, ',' order by d.external_id)"
                        + " from search_documents(null, 5, 'plain', mode => 'text', query_text => 'were foxes') r"
                        + " join documents d on d.external_id = r.document_id"))
                .isEqualTo("after,before");
        // 'simple' neither stems nor drops stop words, as before the upgrade
        assertThat(db.queryValue("select count(*) from search_documents(null, 5, 'plain', mode => 'text',"
                        + " query_text => 'fox')"))
                .isEqualTo(0L);
    }

    @Test
    @Order(2)
    void anUpgradeStopsNamingACollectionWhoseConfigurationWasDroppedSince() throws Exception {
        Migrations migrations = new Migrations(
                DatabaseUrl.parse(broken.databaseUrl()).url().orElseThrow(), broken.schema(), "upgrade-it");
        migrations.migrate("22");
        broken.execute("create text search configuration gone (copy = simple)");
        broken.execute("insert into collections (name, dimensions, text_search_config) values ('orphan', 4, 'gone')");
        broken.execute("drop text search configuration gone"); // a regconfig column does not hold it

        assertThatThrownBy(migrations::migrate)
                .hasStackTraceContaining("the text search configuration of collection(s) \"orphan\" (")
                .hasStackTraceContaining("no longer exists");
        assertThat(migrations.currentVersion()).isEqualTo("22");

        // The remedy the hint and docs/operations.md give: point it at one that exists, migrate again.
        broken.execute("alter table collections disable trigger collection_text_search_config_fixed");
        broken.execute("update collections set text_search_config = 'english' where name = 'orphan'");
        broken.execute("alter table collections enable trigger collection_text_search_config_fixed");
        migrations.migrate();
        assertThat(broken.queryValue("select text_search_config from collections where name = 'orphan'"))
                .isEqualTo("english");
    }

    @Test
    @Order(3)
    void aConfigurationIsStoredByAnUnambiguousNameAndAnUnknownOneIsRefusedNamingIt() throws Exception {
        db.execute("insert into collections (name, dimensions, text_search_config) values ('upper', 4, 'English')");
        assertThat(db.queryValue("select text_search_config from collections where name = 'upper'"))
                .isEqualTo("english");
        // One of Ragline's schema is stored qualified: it resolves the same under any search_path
        // (pg_dump restores with an empty one).
        db.execute("create text search configuration plain_copy (copy = simple)");
        db.execute("insert into collections (name, dimensions, text_search_config) values ('own', 4, 'plain_copy')");
        assertThat(db.queryValue("select text_search_config from collections where name = 'own'"))
                .isEqualTo(db.schema() + ".plain_copy");
        chunk("own", "d", "Foxes were running");
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            s.execute("set search_path = ''");
            try (ResultSet rs = s.executeQuery("select count(*) from " + db.schema() + ".chunks ch join "
                    + db.schema() + ".collections k on k.id = ch.collection_id where k.name = 'own'"
                    + " and ch.tsv = to_tsvector(k.text_search_config::regconfig, ch.content)")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(1);
            }
        }

        assertThatThrownBy(() -> db.execute(
                        "insert into collections (name, dimensions, text_search_config) values ('bad', 4, 'klingon')"))
                .isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getSQLState()).isEqualTo("22023");
                    assertThat(e.getMessage())
                            .contains("collection \"bad\": text_search_config \"klingon\" is not a text search"
                                    + " configuration of this database");
                });
        // The CHECK holds an update too, the refusing trigger aside
        try (Connection c = db.connect();
                Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute("alter table collections disable trigger collection_text_search_config_fixed");
            assertThatThrownBy(
                            () -> s.execute("update collections set text_search_config = 'klingon' where name = 'own'"))
                    .isInstanceOfSatisfying(
                            SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("23514"));
            c.rollback();
        }
        assertThatThrownBy(() -> db.execute("update collections set text_search_config = 'english' where name = 'own'"))
                .hasMessageContaining(
                        "text_search_config of collection \"own\" is changeable only through a migration");
    }

    @Test
    @Order(4)
    void aChunksTsvIsItsContentUnderItsCollectionsConfigurationWhateverTheWriterGives() throws Exception {
        chunk("plain", "given", "Foxes were running");
        db.execute(
                "update chunks set tsv = to_tsvector('english', 'nothing alike') where content = 'Foxes were running'");
        db.execute("update chunks set content = 'Wolves were running' where content = 'Foxes were jumping'");
        assertThat(db.queryValue("select bool_and(ch.tsv = to_tsvector('simple', ch.content)) from chunks ch"
                        + " join collections k on k.id = ch.collection_id where k.name = 'plain'"))
                .isEqualTo(true);
        assertThat(db.queryValue("select tsv::text from chunks where content = 'Wolves were running'"))
                .isEqualTo("'running':3 'were':2 'wolves':1");
    }

    private static long refusedColumns() throws SQLException {
        return (Long) db.queryValue("select count(*) from pg_attribute a join pg_class c on c.oid = a.attrelid"
                + " join pg_namespace n on n.oid = c.relnamespace where n.nspname = '" + db.schema() + "'"
                + " and c.relkind in ('r', 'p', 'm') and a.attnum > 0 and not a.attisdropped"
                + " and a.atttypid in (select oid from pg_type where typname in (" + REFUSED_BY_PG_UPGRADE + "))");
    }

    /** A document {@code id} of {@code collection} with one chunk of {@code content} (and no vector). */
    /** A document of one chunk, embedded (with a vector: only embedded chunks are searchable, V24). */
    private static void chunk(String collection, String id, String content) throws SQLException {
        db.execute("insert into documents (collection_id, external_id, title, status) select id, '" + id + "', '" + id
                + "', 'embedded' from collections where name = '" + collection + "'");
        db.execute("with ch as (insert into chunks (document_id, collection_id, document_version, seq, content,"
                + " token_count) select d.id, d.collection_id, 1, 0, '" + content + "', 3 from documents d"
                + " join collections k on k.id = d.collection_id where k.name = '" + collection + "'"
                + " and d.external_id = '" + id + "' returning id, collection_id)"
                + " insert into chunk_embeddings (chunk_id, collection_id, embedding, model)"
                + " select ch.id, ch.collection_id, array_fill(1::real, array[k.dimensions])::vector, 'm'"
                + " from ch join collections k on k.id = ch.collection_id");
    }
}
