package io.ragline.cli;

import java.sql.SQLException;
import java.sql.Statement;

/**
 * A labelled corpus for training tests, written straight into the tables: collection
 * {@code blobs} with 60 embedded documents of two kinds ({@code kind} = {@code even} or
 * {@code odd}), one chunk each, whose 384-dimension embeddings differ in their first half.
 */
final class TwoKindsCorpus {
    private TwoKindsCorpus() {}

    static void insert(Statement s) throws SQLException {
        s.execute("insert into collections (name) values ('blobs')");
        s.execute("insert into documents (collection_id, external_id, metadata, version, status)"
                + " select (select id from collections where name = 'blobs'), 'd' || i,"
                + " jsonb_build_object('kind', case when i % 2 = 0 then 'even' else 'odd' end), 1, 'embedded'"
                + " from generate_series(1, 60) i");
        s.execute("insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                + " select d.id, d.collection_id, 1, 0, 'x', 1 from documents d"
                + " join collections c on c.id = d.collection_id where c.name = 'blobs'");
        s.execute("insert into chunk_embeddings (chunk_id, collection_id, embedding, model)"
                + " select ch.id, ch.collection_id, (select array_agg(random() + case when d.metadata->>'kind' = 'even'"
                + " and j <= 192 then 1 else 0 end)::vector from generate_series(1, 384) j), 'test'"
                + " from chunks ch join documents d on d.id = ch.document_id"
                + " join collections c on c.id = d.collection_id where c.name = 'blobs'");
    }
}
