package io.ragline.console.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * Keyset pagination, bounded: a list answers {@code {"items": [...], "next": cursor | null}}, and
 * the next page is asked for with {@code after=<cursor>}. The cursor is opaque to clients (base64url
 * of what the handler needs to continue, typically the last item's sort key), so a handler may
 * change what it holds without breaking anyone who only passes it back.
 */
public final class Page {
    public static final int DEFAULT_LIMIT = 50;
    public static final int MAX_LIMIT = 500;

    private Page() {}

    /** The page asked for: {@code limit} items (1 to 500, default 50) after {@code after}. */
    public record Request(int limit, Optional<String> after) {
        /** Asks the handler for one item more than {@link #limit}, to know whether a next page exists. */
        public int fetchSize() {
            return limit + 1;
        }

        /** {@link #after} as a number: the usual cursor, the last id of the page before. */
        public Optional<Long> afterId() {
            return after.map(a -> {
                try {
                    return Long.parseLong(a);
                } catch (NumberFormatException e) {
                    throw ApiProblem.badRequest("after: not a cursor this list gave");
                }
            });
        }
    }

    static Request request(Optional<String> limit, Optional<String> after) {
        int n = DEFAULT_LIMIT;
        if (limit.isPresent()) {
            try {
                n = Integer.parseInt(limit.get());
            } catch (NumberFormatException e) {
                throw ApiProblem.badRequest("limit: not a whole number: " + Quote.of(limit.get()));
            }
            if (n < 1 || n > MAX_LIMIT) {
                throw ApiProblem.badRequest("limit: must be 1 to " + MAX_LIMIT + ", was " + n);
            }
        }
        return new Request(n, after.map(Page::decode));
    }

    /**
     * The answer for {@code rows}, fetched with {@link Request#fetchSize}: at most {@code limit}
     * items, and a cursor made by {@code cursorOf} from the last one shown when more rows exist.
     */
    public static ObjectNode of(Request request, List<ObjectNode> rows, Function<ObjectNode, String> cursorOf) {
        ObjectNode page = Json.object();
        ArrayNode items = page.putArray("items");
        int shown = Math.min(rows.size(), request.limit());
        for (int i = 0; i < shown; i++) {
            items.add(rows.get(i));
        }
        if (rows.size() > request.limit()) {
            page.put("next", encode(cursorOf.apply(rows.get(shown - 1))));
        } else {
            page.putNull("next");
        }
        return page;
    }

    static String encode(String cursor) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(cursor.getBytes(StandardCharsets.UTF_8));
    }

    static String decode(String cursor) {
        try {
            return new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw ApiProblem.badRequest("after: not a cursor this list gave");
        }
    }
}
