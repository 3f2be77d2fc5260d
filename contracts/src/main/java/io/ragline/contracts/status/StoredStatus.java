package io.ragline.contracts.status;

import java.util.Arrays;
import java.util.Locale;
import java.util.Set;

/**
 * A status stored as text in a table's {@code status} column, with the transitions the code may
 * make. The text is the constant's name in lower case, as the column's CHECK constraint lists it.
 */
public interface StoredStatus<S extends Enum<S> & StoredStatus<S>> {

    /** The statuses this one may change to. */
    Set<S> next();

    /** No transition leaves it (until an operator acts: a replay, a new version). */
    boolean isFinal();

    /** The text the column stores. */
    default String stored() {
        return ((Enum<?>) this).name().toLowerCase(Locale.ROOT);
    }

    default boolean canMoveTo(S target) {
        return next().contains(target);
    }

    /**
     * {@code target}, when the change is allowed.
     *
     * @throws IllegalStateException naming both statuses, when it is not
     */
    default S moveTo(S target) {
        if (!canMoveTo(target)) {
            throw new IllegalStateException(
                    kind() + " status cannot change from " + stored() + " to " + target.stored() + " (allowed: "
                            + next().stream().map(StoredStatus::stored).sorted().toList() + ")");
        }
        return target;
    }

    /** What the status is of, for messages: "document", "claude_events", "training job". */
    String kind();

    /**
     * The constant stored as {@code text}.
     *
     * @throws IllegalArgumentException for text that is no status of {@code type}: a row the code
     *     does not know how to handle is a bug or a schema drift, never something to guess past
     */
    static <S extends Enum<S> & StoredStatus<S>> S fromStored(Class<S> type, String text) {
        for (S s : type.getEnumConstants()) {
            if (s.stored().equals(text)) {
                return s;
            }
        }
        S any = type.getEnumConstants()[0];
        throw new IllegalArgumentException("unknown " + any.kind() + " status '" + text + "' (known: "
                + Arrays.stream(type.getEnumConstants())
                        .map(StoredStatus::stored)
                        .toList() + ")");
    }
}
