package io.ragline.contracts.pipeline;

import java.util.Arrays;
import java.util.Optional;

/**
 * {@code collection.migrated}: collection {@code collection} is searched through embedding
 * generation {@code generation} (its model {@code model}) from now on, instead of {@code
 * fromGeneration} ({@code fromModel}), kept until pruned. Written in the transaction of the switch.
 *
 * @param reason {@link Reason#SWITCH} when a migration completed, {@link Reason#ROLLBACK} when a
 *     rollback switched back
 */
public record CollectionEvent(
        String collection,
        int generation,
        String model,
        int dimensions,
        int fromGeneration,
        String fromModel,
        Reason reason)
        implements PipelineEvent {

    /** Why the serving generation changed. */
    public enum Reason {
        SWITCH("switch"),
        ROLLBACK("rollback");

        private final String json;

        Reason(String json) {
            this.json = json;
        }

        public String json() {
            return json;
        }

        public static Optional<Reason> of(String json) {
            return Arrays.stream(values()).filter(r -> r.json.equals(json)).findFirst();
        }
    }

    @Override
    public Type type() {
        return Type.COLLECTION_MIGRATED;
    }

    @Override
    public String key() {
        return collection;
    }
}
