package io.ragline.console.collections;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.ragline.console.api.ApiProblem;
import io.ragline.core.collections.CollectionException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Iterator;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;

/**
 * What the collections and documents endpoints share: one transaction per request on the
 * console's pool, the registry's refusals as problems, and the checks of a JSON body's fields.
 */
final class Registry {
    /** {@code insufficient_privilege}: DDL (a collection's index) asked of a login that may not. */
    private static final String INSUFFICIENT_PRIVILEGE = "42501";

    private Registry() {}

    /** Work on one connection, in one transaction. */
    @FunctionalInterface
    interface Work<T> {
        T run(Connection c) throws SQLException, CollectionException;
    }

    /**
     * Runs {@code work} in one transaction, committed when it returns, rolled back when it throws;
     * a {@link CollectionException} becomes its problem (404, 409 or 422).
     */
    static <T> T inTransaction(DataSource database, Work<T> work) throws SQLException {
        try (Connection c = database.getConnection()) {
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (CollectionException e) {
                c.rollback();
                throw problem(e);
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                if (e instanceof SQLException s && INSUFFICIENT_PRIVILEGE.equals(s.getSQLState())) {
                    throw ApiProblem.forbidden("the console's database login may not do this (creating and deleting"
                            + " a collection is DDL, the schema owner's): run the console as the owner for it");
                }
                throw e;
            }
        }
    }

    static ApiProblem problem(CollectionException e) {
        return switch (e.reason()) {
            case NOT_FOUND -> ApiProblem.notFound(e.getMessage());
            case EXISTS, CONFLICT -> ApiProblem.conflict(e.getMessage());
            case INVALID -> ApiProblem.unprocessable(e.getMessage(), e.fieldErrors());
        };
    }

    /** 422 naming every field of {@code body} not in {@code known}. */
    static void onlyFields(ObjectNode body, Set<String> known, Map<String, String> errors) {
        for (Iterator<String> names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!known.contains(name)) {
                errors.put(
                        name,
                        "is not a field of this request (known: " + String.join(", ", new java.util.TreeSet<>(known))
                                + ")");
            }
        }
    }

    /** The string {@code field}, or null when it is absent or null; a value of another type is an error. */
    static String text(ObjectNode body, String field, Map<String, String> errors) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            errors.put(field, "must be a string, not " + kind(v));
            return null;
        }
        return v.asText();
    }

    /** The whole number {@code field}, or null when it is absent or null; anything else is an error. */
    static Integer integer(ObjectNode body, String field, Map<String, String> errors) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            errors.put(field, "must be a whole number, not " + (v.isNumber() ? v.toString() : kind(v)));
            return null;
        }
        return v.intValue();
    }

    /** The boolean {@code field}, or null when it is absent or null; anything else is an error. */
    static Boolean bool(ObjectNode body, String field, Map<String, String> errors) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isBoolean()) {
            errors.put(field, "must be true or false, not " + kind(v));
            return null;
        }
        return v.booleanValue();
    }

    /** 422 when {@code errors} holds any. */
    static void refuseIfAny(Map<String, String> errors) {
        if (!errors.isEmpty()) {
            throw ApiProblem.unprocessable(
                    "the body breaks the rules of its fields: " + String.join(", ", errors.keySet()), errors);
        }
    }

    private static String kind(JsonNode v) {
        return v.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
    }
}
