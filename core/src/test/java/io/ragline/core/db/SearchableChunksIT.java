package io.ragline.core.db;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What {@code search_documents} finds is the same in every mode (V24): a chunk whose vector of the
 * collection is stored, of a document that is not deleted. The states are written as the
 * ingest-worker writes them: an update deletes the chunks whose text is gone and inserts the new
 * ones without a vector (the embedding-worker adds it later); a delete removes the chunks and marks
 * the document deleted.
 */
class SearchableChunksIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @BeforeAll
    static void documentsInEveryState() throws SQLException {
        db.execute("insert into collections (name, dimensions) values ('live', 2)");
        // Embedded: found.
        db.execute(document("stable", "embedded"));
        db.execute(chunk("stable", 0, "pelican stable", true));
        // Being replaced: its first chunk kept (with its vector), its old second chunk gone, a new
        // one written at ingest and not embedded yet.
        db.execute(document("replaced", "chunked"));
        db.execute(chunk("replaced", 0, "pelican kept", true));
        db.execute(chunk("replaced", 1, "pelican walrus", false));
        // Deleted: status deleted, its chunks (and so their vectors) deleted with it.
        db.execute(document("deleted", "embedded"));
        db.execute(chunk("deleted", 0, "pelican heron", true));
        db.execute("delete from chunks where document_id = (select id from documents where external_id = 'deleted')");
        db.execute("update documents set status = 'deleted', deleted_at = now() where external_id = 'deleted'");
        // Received, never chunked yet: nothing to find.
        db.execute(document("received", "received"));
    }

    private static String document(String id, String status) {
        return "insert into documents (collection_id, external_id, title, status) select id, '" + id + "', 'Title " + id
                + "', '" + status + "' from collections where name = 'live'";
    }

    private static String chunk(String document, int seq, String content, boolean embedded) {
        String insert = "insert into chunks (document_id, collection_id, document_version, seq, content, token_count)"
                + " select d.id, d.collection_id, 0, " + seq + ", '" + content + "', 2 from documents d"
                + " where d.external_id = '" + document + "' returning id, collection_id";
        return embedded
                ? "with ch as (" + insert + ") insert into chunk_embeddings (chunk_id, collection_id, embedding,"
                        + " model) select id, collection_id, '[1,0]', 'm' from ch"
                : insert;
    }

    /** document_id:seq:content of every chunk the search answers, and the context of each. */
    private static List<String> found(String mode, String words) throws SQLException {
        try (Connection c = db.connect();
                PreparedStatement s = c.prepareStatement("select document_id, seq, content, context::text"
                        + " from search_documents(?::vector, 50, 'live', '{}', mode => ?, query_text => ?,"
                        + " group_by_document => false, context_chunks => 2) order by 1, 2")) {
            s.setString(1, mode.equals("text") ? null : "[1,0]");
            s.setString(2, mode);
            s.setString(3, mode.equals("vector") ? null : words);
            List<String> rows = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    rows.add(rs.getString(1) + ":" + rs.getInt(2) + ":" + rs.getString(3) + " " + rs.getString(4));
                }
            }
            return rows;
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"vector", "text", "hybrid"})
    void everyModeFindsOnlyEmbeddedChunksOfDocumentsNotDeleted(String mode) throws SQLException {
        assertThat(found(mode, "pelican")).containsExactly("replaced:0:pelican kept []", "stable:0:pelican stable []");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"text", "hybrid"})
    void theNewTextOfADocumentBeingReplacedIsNotFoundBeforeItIsEmbedded(String mode) throws SQLException {
        // hybrid also answers the vector ranking's chunks, which these words do not change
        assertThat(found(mode, "walrus")).noneMatch(row -> row.contains("walrus"));
        assertThat(found(mode, "heron")).noneMatch(row -> row.contains("heron"));
    }
}
