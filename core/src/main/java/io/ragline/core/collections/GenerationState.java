package io.ragline.core.collections;

/**
 * The lifecycle of an embedding generation ({@code collection_generations.state}, V25): {@code
 * building} while a migration writes its vectors, {@code serving} while searches use it, {@code
 * kept} after a switch away from it (its vectors and index stay so a rollback can switch back)
 * until pruned (its row is deleted). The transitions are made by the SQL functions of V26 alone
 * (docs/architecture.md, "Embedding generations").
 */
public enum GenerationState {
    BUILDING,
    SERVING,
    KEPT;

    /** The value of the {@code state} column. */
    public String stored() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The state stored as {@code value}. */
    public static GenerationState fromStored(String value) {
        for (GenerationState s : values()) {
            if (s.stored().equals(value)) {
                return s;
            }
        }
        throw new IllegalArgumentException("unknown generation state '" + value + "'");
    }
}
