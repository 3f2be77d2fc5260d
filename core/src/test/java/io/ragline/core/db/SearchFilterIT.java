package io.ragline.core.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.ragline.testkit.PostgresSchema;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The filter language of {@code search_documents} (V19), evaluated in SQL: each operator, and /
 * or / not, and the bad filters refused with SQLSTATE 22023 naming their path.
 */
class SearchFilterIT {
    @RegisterExtension
    static final PostgresSchema db = new PostgresSchema(false);

    @BeforeAll
    static void fiveDocuments() throws SQLException {
        db.execute("insert into collections (name, dimensions) values ('f', 2)");
        document("a", "{\"lang\": \"en\", \"year\": 2019, \"tags\": [\"x\", \"y\"], \"draft\": true}");
        document("b", "{\"lang\": \"en\", \"year\": 2021, \"tags\": [\"y\"]}");
        document("c", "{\"lang\": \"de\", \"year\": 2023}");
        document("d", "{\"lang\": \"fr\", \"year\": \"2022\", \"source\": {\"kind\": \"web\"}}");
        document("e", "{}");
        db.execute("insert into collections (name, dimensions) values ('g', 2)");
        document("g", "s", "{\"tag\": \"x\", \"n\": 5}");
        document("g", "t", "{\"tag\": [\"x\", \"y\"], \"n\": [1, 9]}");
        document("g", "u", "{\"tag\": [\"y\"], \"n\": [2]}");
        document("g", "v", "{}");
        document("g", "w", "{\"tag\": \"z\", \"n\": [7]}");
    }

    private static void document(String id, String metadata) throws SQLException {
        document("f", id, metadata);
    }

    private static void document(String collection, String id, String metadata) throws SQLException {
        try (Connection c = db.connect()) {
            try (PreparedStatement s = c.prepareStatement("insert into documents (collection_id, external_id, title,"
                    + " metadata, status) select id, ?, ?, ?::jsonb, 'embedded' from collections where name = ?")) {
                s.setString(1, id);
                s.setString(2, "Title " + id);
                s.setString(3, metadata);
                s.setString(4, collection);
                s.execute();
            }
            try (PreparedStatement s = c.prepareStatement("with ch as (insert into chunks (document_id,"
                    + " collection_id, document_version, seq, content, token_count) select d.id, d.collection_id, 0,"
                    + " 0, 'text of ' || d.external_id, 3 from documents d where d.external_id = ? returning id,"
                    + " collection_id) insert into chunk_embeddings (chunk_id, collection_id, embedding, model)"
                    + " select id, collection_id, '[1,0]', 'm' from ch")) {
                s.setString(1, id);
                s.execute();
            }
        }
    }

    /** The documents {@code filter} keeps, sorted. */
    private static List<String> matching(String filter) throws SQLException {
        return matching("f", filter);
    }

    private static List<String> matching(String collection, String filter) throws SQLException {
        try (Connection c = db.connect();
                PreparedStatement s = c.prepareStatement(
                        "select document_id from search_documents('[1,0]', 10, ?, ?::jsonb) order by 1")) {
            s.setString(1, collection);
            s.setString(2, filter);
            List<String> ids = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
            return ids;
        }
    }

    @ParameterizedTest(name = "{0} keeps {1}")
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '`',
            value = {
                "{}|a b c d e",
                "{\"lang\": \"en\"}|a b",
                "{\"tags\": [\"y\"]}|a b",
                "{\"source\": {\"kind\": \"web\"}}|d",
                "{\"lang\": \"en\", \"year\": 2021}|b",
                "{\"lang\": {\"$eq\": \"de\"}}|c",
                "{\"lang\": {\"$ne\": \"en\"}}|c d e",
                "{\"year\": {\"$gt\": 2019}}|b c",
                "{\"year\": {\"$gte\": 2019, \"$lt\": 2023}}|a b",
                "{\"year\": {\"$lte\": 2021}}|a b",
                "{\"year\": {\"$gte\": \"2020\"}}|d",
                "{\"lang\": {\"$in\": [\"de\", \"fr\"]}}|c d",
                "{\"tags\": {\"$in\": [\"x\"]}}|a",
                "{\"lang\": {\"$nin\": [\"de\", \"fr\"]}}|a b e",
                "{\"draft\": {\"$exists\": true}}|a",
                "{\"year\": {\"$exists\": false}}|e",
                "{\"$or\": [{\"lang\": \"de\"}, {\"year\": {\"$lt\": 2020}}]}|a c",
                "{\"$and\": [{\"lang\": \"en\"}, {\"$not\": {\"draft\": true}}]}|b",
                "{\"$not\": {\"$or\": [{\"lang\": \"en\"}, {\"lang\": \"de\"}]}}|d e",
                "{\"lang\": \"en\", \"$or\": [{\"year\": 2019}, {\"year\": 2023}]}|a",
                "{\"x'); drop table documents; --\": 1}|",
                "{\"x'); drop table documents; --\": {\"$exists\": false}}|a b c d e"
            })
    void aFilterKeepsTheDocumentsItDescribes(String filter, String expected) throws SQLException {
        assertThat(matching(filter))
                .containsExactly(expected == null || expected.isBlank() ? new String[0] : expected.split(" "));
        assertThat(db.queryValue("select count(*) from documents")).isEqualTo(10L);
    }

    /**
     * Documents s {tag: "x", n: 5}, t {tag: ["x", "y"], n: [1, 9]}, u {tag: ["y"], n: [2]}, v {} and w
     * {tag: "z", n: [7]}:
     * an array field matches a key's condition when one of its elements does, for every operator.
     */
    @ParameterizedTest(name = "{0} keeps {1}")
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '`',
            value = {
                "{\"tag\": \"x\"}|s t",
                "{\"tag\": {\"$eq\": \"x\"}}|s t",
                "{\"tag\": {\"$ne\": \"x\"}}|u v w",
                "{\"tag\": {\"$in\": [\"x\", \"z\"]}}|s t w",
                "{\"tag\": {\"$nin\": [\"x\", \"z\"]}}|u v",
                "{\"n\": {\"$gt\": 4}}|s t w",
                "{\"n\": {\"$gte\": 9}}|t",
                "{\"n\": {\"$lt\": 2}}|t",
                "{\"n\": {\"$lte\": 2}}|t u",
                "{\"n\": {\"$gt\": 1, \"$lt\": 3}}|t u",
                "{\"tag\": {\"$exists\": true}}|s t u w",
                "{\"$not\": {\"tag\": \"y\"}}|s v w",
                "{\"tag\": [\"x\", \"y\"]}|t",
                "{\"tag\": [\"y\"]}|t u",
                "{\"tag\": \"x\", \"n\": 5}|s",
                "{\"tag\": \"y\", \"n\": 2}|u",
                "{\"tag\": \"z\", \"n\": 7}|w",
                "{\"tag\": \"x\", \"n\": 7}|"
            })
    void everyOperatorMatchesAnArrayFieldWhenOneOfItsElementsMatches(String filter, String expected)
            throws SQLException {
        assertThat(matching("g", filter))
                .containsExactly(expected == null || expected.isBlank() ? new String[0] : expected.split(" "));
    }

    @ParameterizedTest(name = "{0} is refused at {1}")
    @CsvSource(
            delimiter = '|',
            quoteCharacter = '`',
            value = {
                "{\"lang\": {\"$like\": \"e%\"}}|filter.lang.$like: unknown operator",
                "{\"$nor\": [{\"lang\": \"en\"}]}|filter.$nor: unknown operator",
                "{\"lang\": {\"$in\": \"en\"}}|filter.lang.$in: takes an array of values, not string",
                "{\"lang\": {\"$nin\": {\"a\": 1}}}|filter.lang.$nin: takes an array of values, not object",
                "{\"year\": {\"$gt\": [2020]}}|filter.year.$gt: a range compares with a number, a string or a boolean, not array",
                "{\"year\": {\"$lte\": null}}|filter.year.$lte: a range compares with a number, a string or a boolean, not null",
                "{\"year\": {\"$exists\": 1}}|filter.year.$exists: takes true or false, not number",
                "{\"$or\": []}|filter.$or: takes a non-empty array of filters, not an empty one",
                "{\"$and\": {\"lang\": \"en\"}}|filter.$and: takes a non-empty array of filters, not object",
                "{\"$or\": [{\"lang\": \"en\"}, 3]}|filter.$or[1]: a filter is a JSON object, not number",
                "{\"$not\": {\"year\": {\"$in\": 1}}}|filter.$not.year.$in: takes an array of values, not number",
                "{\"price\": {\"$eq\": {\"$lt\": 3}}}|filter.price.$eq: takes a string, a number, a boolean or null, not an operator",
                "{\"price\": {\"$ne\": [3]}}|filter.price.$ne: takes a string, a number, a boolean or null, not array",
                "{\"price\": {\"$eq\": {\"amount\": 3}}}|filter.price.$eq: takes a string, a number, a boolean or null, not object",
                "{\"price\": {\"$gte\": {\"$lt\": 3}}}|filter.price.$gte: a range compares with a number, a string or a boolean, not object",
                "{\"lang\": {\"$in\": [\"en\", {\"$ne\": \"de\"}]}}|filter.lang.$in[1]: an element is a string, a number, a boolean or null, not object",
                "{\"lang\": {\"$nin\": [[\"en\"]]}}|filter.lang.$nin[0]: an element is a string, a number, a boolean or null, not array",
                "{\"lang\": {\"$eq\": \"en\", \"fallback\": \"de\"}}|filter.lang.fallback: a key's operators cannot be mixed with plain keys",
                "{\"source\": {\"kind\": {\"$eq\": \"web\"}}}|filter.source: $eq inside a plain value",
                "{\"tags\": [\"x\", {\"$in\": [\"y\"]}]}|filter.tags: $in inside a plain value",
                "{\"$or\": [{\"lang\": {\"$exists\": \"yes\"}}]}|filter.$or[0].lang.$exists: takes true or false, not string",
                "{\"lang\": {\"$regex\": \".*\"}}|filter.lang.$regex: unknown operator",
                "{\"lang\": {\"$eq'); drop table documents; --\": \"en\"}}|filter.lang.$eq'); drop table documents; --: unknown operator",
                "{\"$where\": \"1 = 1\"}|filter.$where: unknown operator"
            })
    void aBadFilterIsRefusedWithInvalidParameterValueNamingItsPath(String filter, String message) {
        assertThatThrownBy(() -> matching(filter))
                .isInstanceOfSatisfying(
                        SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("22023"))
                .hasMessageContaining(message);
    }

    @Test
    void aFilterNestedDeeperThan32LevelsIsRefused() {
        String filter = "{\"lang\": \"en\"}";
        for (int i = 0; i < 32; i++) {
            filter = "{\"$not\": " + filter + "}";
        }
        String deep = filter;
        assertThatThrownBy(() -> matching(deep))
                .isInstanceOfSatisfying(
                        SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("22023"))
                .hasMessageContaining("a filter may nest at most 32 levels");
    }

    @Test
    void aFilterOf32LevelsIsEvaluated() throws SQLException {
        String filter = "{\"lang\": \"en\"}";
        for (int i = 0; i < 31; i++) {
            filter = "{\"$not\": " + filter + "}";
        }
        assertThat(matching(filter)).containsExactly("c", "d", "e"); // the innermost object is the 32nd level
    }
}
