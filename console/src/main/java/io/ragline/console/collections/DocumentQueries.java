package io.ragline.console.collections;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.contracts.status.DocumentStatus;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * What the documents endpoints read: a page of documents (newest first, by id) filtered by
 * collection, status and text, and one document with its chunks (the serving chunking's) and whether
 * each has a vector.
 */
final class DocumentQueries {
    // chunk_count: the serving chunking's chunks, counted (documents.chunk_count is what the ingest-worker
    // cut for the chunking serving then, which a migration to another chunk size leaves behind).
    private static final String ITEM = "select d.id, k.name, d.external_id, d.title, d.status, d.version,"
            + " (select count(*) from chunks ch where ch.document_id = d.id and ch.chunking ="
            + " serving_chunking(d.collection_id))::integer, d.error, d.updated_at, d.source, d.metadata::text from"
            + " documents d join collections k on k.id = d.collection_id";

    private final ObjectMapper json;

    DocumentQueries(ObjectMapper json) {
        this.json = json;
    }

    /** What a list asks for; null fields do not filter. {@code text} matches the external id or title. */
    record Filter(String collection, DocumentStatus status, String text) {}

    /** At most {@code limit} documents with ids below {@code beforeId} (null: from the newest). */
    List<ObjectNode> list(Connection c, Filter f, Long beforeId, int limit) throws SQLException {
        List<ObjectNode> items = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(ITEM + " where (?::text is null or k.name = ?)"
                + " and (?::text is null or d.status = ?) and (?::text is null or d.external_id ilike ? escape '\\'"
                + " or d.title ilike ? escape '\\') and (?::bigint is null or d.id < ?) order by d.id desc limit ?")) {
            String status = f.status() == null ? null : f.status().stored();
            String pattern = f.text() == null ? null : "%" + likeEscaped(f.text()) + "%";
            s.setString(1, f.collection());
            s.setString(2, f.collection());
            s.setString(3, status);
            s.setString(4, status);
            s.setString(5, pattern);
            s.setString(6, pattern);
            s.setString(7, pattern);
            s.setObject(8, beforeId, java.sql.Types.BIGINT);
            s.setObject(9, beforeId, java.sql.Types.BIGINT);
            s.setInt(10, limit);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    items.add(item(rs));
                }
            }
        }
        return items;
    }

    /** Document {@code id} with its source, metadata and chunks, or empty. */
    Optional<ObjectNode> get(Connection c, long id) throws SQLException {
        ObjectNode doc;
        try (PreparedStatement s = c.prepareStatement(ITEM + " where d.id = ?")) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                doc = item(rs);
                doc.put("source", rs.getString(10));
                doc.set("metadata", tree(rs.getString(11)));
            }
        }
        ArrayNode chunks = doc.putArray("chunks");
        try (PreparedStatement s = c.prepareStatement("select ch.seq, ch.content, ch.token_count, e.chunk_id is not"
                + " null, e.model from chunks ch left join chunk_embeddings e on e.chunk_id = ch.id and e.generation ="
                + " serving_generation(ch.collection_id) where"
                + " ch.document_id = ? and ch.chunking = serving_chunking(ch.collection_id) order by ch.seq")) {
            s.setLong(1, id);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    ObjectNode chunk = chunks.addObject();
                    chunk.put("seq", rs.getInt(1));
                    chunk.put("content", rs.getString(2));
                    chunk.put("token_count", rs.getInt(3));
                    chunk.put("embedded", rs.getBoolean(4));
                    chunk.put("model", rs.getString(5));
                }
            }
        }
        return Optional.of(doc);
    }

    private ObjectNode item(ResultSet rs) throws SQLException {
        ObjectNode item = json.createObjectNode();
        item.put("id", rs.getLong(1));
        item.put("collection", rs.getString(2));
        item.put("external_id", rs.getString(3));
        item.put("title", rs.getString(4));
        item.put("status", rs.getString(5));
        item.put("version", rs.getLong(6));
        item.put("chunk_count", rs.getInt(7));
        item.put("error", rs.getString(8));
        item.put("updated_at", iso(rs.getTimestamp(9)));
        return item;
    }

    static String iso(Timestamp t) {
        return t == null ? null : t.toInstant().toString();
    }

    private JsonNode tree(String text) {
        try {
            return text == null ? json.nullNode() : json.readTree(text);
        } catch (IOException e) {
            return json.nullNode();
        }
    }

    /** {@code text} with LIKE's wildcards and escape character taken literally. */
    static String likeEscaped(String text) {
        return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
    }
}
