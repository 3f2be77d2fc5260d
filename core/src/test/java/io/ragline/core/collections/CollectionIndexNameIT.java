package io.ragline.core.collections;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.testkit.PostgresSchema;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The name of a collection's vector index has one home, {@code collection_index_name} (V24): the
 * index the create trigger builds has that name, and deleting the collection, from any client,
 * drops it.
 */
class CollectionIndexNameIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @Test
    void theIndexBuiltAtCreateIsTheOneNamedAndADeleteByHandDropsIt() throws SQLException {
        db.execute("insert into collections (name, dimensions) values ('named', 3)");
        Object id = db.queryValue("select id from collections where name = 'named'");
        String name = (String) db.queryValue("select collection_index_name(" + id + ")");
        assertThat(db.queryValue("select indexdef from pg_indexes where schemaname = current_schema()"
                        + " and indexname = '" + name + "'"))
                .asString()
                .contains("ON " + db.schema() + ".chunk_embeddings USING hnsw")
                .contains("WHERE ((collection_id = " + id + ") AND (generation = 1))");

        db.execute("delete from collections where name = 'named'"); // as psql would, not through the registry

        assertThat(db.queryValue("select count(*) from pg_indexes where schemaname = current_schema()"
                        + " and indexname = '" + name + "'"))
                .isEqualTo(0L);
    }
}
