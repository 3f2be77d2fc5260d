package io.ragline.embedding.search;

import java.sql.SQLException;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A search the database refused for a value of the request, answered 400 by every HTTP surface
 * ({@code POST /search} and the console's {@code POST /api/v1/search}) as a problem whose {@code
 * errors} names the field. Only the data exceptions a request's value causes count ({@link
 * #REQUEST_STATES}: a parameter {@code search_documents} checks, a filter's path, text the
 * database cannot take); the rest of class 22 is the server's (22000 when the model's vector does
 * not fit the collection, 22003 when a model's value overflows a halfvec) and stays a 500.
 *
 * <p>The filter is named when the message begins with its path ({@code search_filter_check}'s
 * 22023: {@code filter.year.$gt: ...}) or the value is the filter's JSON that the database cannot
 * store (22P05, an escaped NUL character: the filter is the search's one {@code jsonb} argument).
 *
 * @param field the request's field at fault, or {@code request} when the database does not say
 * @param message the database's message, first line
 */
public record SearchRefusal(String field, String message) {
    private static final String UNTRANSLATABLE_CHARACTER = "22P05";

    /**
     * The SQLSTATEs a request's value causes: invalid_parameter_value (22023, what {@code
     * search_documents} and {@code search_filter_check} raise), untranslatable_character (22P05, a
     * NUL), invalid_text_representation (22P02), character_not_in_repertoire (22021),
     * invalid_escape_sequence (22025).
     */
    static final Set<String> REQUEST_STATES = Set.of("22023", UNTRANSLATABLE_CHARACTER, "22P02", "22021", "22025");

    /** The refusal {@code e} is, or empty when it is not the request's fault. */
    public static Optional<SearchRefusal> of(SQLException e) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        if (!REQUEST_STATES.contains(state)) {
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
