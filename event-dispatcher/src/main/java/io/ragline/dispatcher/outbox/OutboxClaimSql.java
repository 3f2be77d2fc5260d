package io.ragline.dispatcher.outbox;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The text of the outbox claims ({@link OutboxStore#next}) and the binding of what is held back to
 * their parameters: the conditions and their values in one order, kept together.
 */
public final class OutboxClaimSql {
    private OutboxClaimSql() {}

    /**
     * Whether any waiting row that is not held back has a priority other than 0: a walk of V36's
     * partial index in priority order, which no other index can give (asked as {@code exists}, with
     * statistics from a time when many rows were urgent, the planner expected an urgent row in the
     * first page and chose a sequential scan of the whole outbox: OutboxClaimPlanIT). {@code %s} is
     * {@link #free} of what is held back: an urgent row of a topic, key or row held back after a
     * failure, or of the batch committing, is not among the rows {@link #RANKED} ranks, so it does
     * not make the claims rank. The walk stops at {@value #URGENT_WALK} urgent rows and then answers
     * yes (ranking is always a right answer), so many urgent rows held back cost each claim a bounded
     * walk, not one as long as they are.
     */
    private static final String URGENT =
            "(select coalesce(bool_or(%s), false) or count(*) = " + OutboxClaimSql.URGENT_WALK
                    + " from (select u.id, u.topic, u.key from outbox u where u.priority <> 0 order by u.priority limit "
                    + OutboxClaimSql.URGENT_WALK + ") u)";

    /** The most urgent rows the probe looks at before it answers that the claim must rank. */
    public static final int URGENT_WALK = 1000;

    /**
     * The claim in id order: the oldest rows with their payloads, in one scan of the primary key's
     * index, and in every row whether any waiting row not held back is {@link #URGENT}, evaluated
     * once, in the same snapshot. While none is, every effective priority of {@link #RANKED} is 0
     * and its order is id order, so these rows are its claim, read at about half its
     * cost for 5,000 rows (docs/benchmarks.md, "The claim in id order"). Formatted by {@link
     * #inOrder}.
     */
    static final String IN_ORDER = "select o.id, o.topic, o.key, o.payload::text, o.headers::text, o.created_at,"
            + " o.attempts, extract(epoch from clock_timestamp() - o.created_at),"
            + " " + URGENT + " from outbox o%s order by o.id limit ?";

    /** {@link #IN_ORDER} leaving out what is held back: {@link #free} and {@link #where} of the same lists. */
    static String inOrder(boolean keys, boolean topics, boolean ids) {
        return IN_ORDER.formatted(free(keys, topics, ids), where(keys, topics, ids));
    }

    /** {@link #RANKED} leaving out what is held back. */
    static String ranked(boolean keys, boolean topics, boolean ids) {
        return RANKED.formatted(where(keys, topics, ids), free(keys, topics, ids));
    }

    /**
     * The claim when a row is urgent. Among the oldest {@code lookahead} rows (leaving out the
     * topics, keys and rows held back after a failure), a row's effective priority is the highest
     * priority of itself and every later row of the same topic and key. Sorting by it (then id) lets
     * an urgent row overtake other keys' waiting rows while the rows of one key stay in id order,
     * which the insert trigger makes commit order. Only ids and priorities are ranked; payloads are
     * read for the chosen rows alone, each by its primary key ({@code lateral ... offset 0} keeps the
     * planner from turning that into a hash join over the whole table: with statistics that still
     * count rows deleted since the last analyse, a busy outbox's usual state, it chose a sequential
     * scan of the bloated heap, which doubled a 5,000-row claim; docs/benchmarks.md, "Second quiet
     * run"). The order names {@code c.id}, which the nested loop already delivers in order, so no
     * sort of the payloads follows. Its rows too say whether a row is {@link #URGENT}. Formatted by
     * {@link #ranked}.
     */
    static final String RANKED = "with oldest as (select id, topic, key, priority from outbox o%s order by id"
            + " limit ?), ranked as (select id, max(priority) over (partition by topic, key order by id desc rows"
            + " unbounded preceding) as effective from oldest), chosen as (select id, effective from ranked order"
            + " by effective desc, id limit ?) select o.id, o.topic, o.key, o.payload::text, o.headers::text,"
            + " o.created_at, o.attempts, extract(epoch from clock_timestamp() - o.created_at), " + URGENT
            + " from chosen c"
            + " cross join lateral (select * from outbox x where x.id = c.id offset 0) o"
            + " order by c.effective desc, c.id";

    /**
     * The {@code where} clause that leaves out what is held back (of the rows {@code o}), with only
     * the conditions whose lists are not empty: tested against empty lists they cost about 0.75 µs a
     * row (the held keys' anti-join runs a function scan per row), most of the scan of a claim's
     * oldest rows.
     */
    static String where(boolean keys, boolean topics, boolean ids) {
        List<String> conditions = conditions("o", keys, topics, ids);
        return conditions.isEmpty() ? "" : " where " + String.join(" and ", conditions);
    }

    /** The same conditions on an urgent row {@code u}: it is free, not held back. */
    static String free(boolean keys, boolean topics, boolean ids) {
        List<String> conditions = conditions("u", keys, topics, ids);
        return conditions.isEmpty() ? "true" : String.join(" and ", conditions);
    }

    /** In {@link Held#bind}'s order: the held keys (two lists), the held topics, the held ids. */
    private static List<String> conditions(String rows, boolean keys, boolean topics, boolean ids) {
        List<String> conditions = new ArrayList<>(3);
        if (keys) {
            conditions.add("not exists (select 1 from unnest(?::text[], ?::text[]) h(topic, key)" + " where h.topic = "
                    + rows + ".topic and h.key = " + rows + ".key)");
        }
        if (topics) {
            conditions.add(rows + ".topic <> all(?::text[])");
        }
        if (ids) {
            conditions.add(rows + ".id <> all(?::bigint[])");
        }
        return conditions;
    }

    /** The lists of what is held back, bound to a claim's parameters in {@link #conditions}' order. */
    record Held(Array keyTopics, Array keyKeys, Array topics, Array ids) {
        Held(Connection c, Collection<String> heldKeys, Collection<String> heldTopics, Collection<Long> heldIds)
                throws SQLException {
            this(
                    heldKeys.isEmpty() ? null : c.createArrayOf("text", split(heldKeys, true)),
                    heldKeys.isEmpty() ? null : c.createArrayOf("text", split(heldKeys, false)),
                    heldTopics.isEmpty() ? null : c.createArrayOf("text", heldTopics.toArray()),
                    heldIds.isEmpty() ? null : c.createArrayOf("bigint", heldIds.toArray()));
        }

        /** Each held key's topic or key ({@link OutboxRow#orderKey()}: topic, NUL, key). */
        private static Object[] split(Collection<String> heldKeys, boolean topic) {
            return heldKeys.stream()
                    .map(held -> {
                        int cut = held.indexOf('\u0000');
                        return topic ? held.substring(0, cut) : held.substring(cut + 1);
                    })
                    .toArray();
        }

        int bind(PreparedStatement s, int at) throws SQLException {
            for (Array list : new Array[] {keyTopics, keyKeys, topics, ids}) {
                if (list != null) {
                    s.setArray(++at, list);
                }
            }
            return at;
        }
    }
}
