package io.ragline.embedding.search;

import java.sql.SQLException;
import java.util.Map;
import java.util.Optional;

/**
 * A search the database refused for a value of the request: SQLSTATE class 22 (data exception),
 * the client's, answered 400 by every HTTP surface ({@code POST /search} and the console's
 * {@code POST /api/v1/search}) as a problem whose {@code errors} names the field. Not 22000
 * itself, which {@code search_documents} raises when the model's vector does not fit the
 * collection: a configuration fault, not the request's.
 *
 * <p>The filter is named when the message begins with its path ({@code search_filter_check}'s
 * 22023: {@code filter.year.$gt: ...}) or the value is the filter's JSON that the database cannot
 * store (22P05, an escaped NUL character: the filter is the search's one {@code jsonb} argument).
 *
 * @param field the request's field at fault, or {@code request} when the database does not say
 * @param message the database's message, first line
 */
public record SearchRefusal(String field, String message) {
    private static final String DATA_EXCEPTION_CLASS = "22";
    private static final String CONFIGURATION = "22000";
    private static final String UNTRANSLATABLE_CHARACTER = "22P05";

    /** The refusal {@code e} is, or empty when it is not the request's fault. */
    public static Optional<SearchRefusal> of(SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (!state.startsWith(DATA_EXCEPTION_CLASS) || state.equals(CONFIGURATION)) {
            return Optional.empty();
        }
        String message = firstLine(e.getMessage());
        boolean filter = message.startsWith("filter") || state.equals(UNTRANSLATABLE_CHARACTER);
        String detail = message.startsWith("filter") ? message : "SQLSTATE " + state + ": " + message;
        return Optional.of(new SearchRefusal(filter ? "filter" : "request", detail));
    }

    /** {@code errors} of the problem: the field and what is wrong with it. */
    public Map<String, String> errors() {
        return Map.of(field, message);
    }

    /** The problem's {@code detail}. */
    public String detail() {
        return "the database refused the " + field + ": " + message;
    }

    private static String firstLine(String message) {
        String line = message == null ? "" : message.lines().findFirst().orElse("");
        return line.replaceFirst("^ERROR: ", "").strip();
    }
}
