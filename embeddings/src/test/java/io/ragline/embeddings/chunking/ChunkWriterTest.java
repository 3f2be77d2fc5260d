package io.ragline.embeddings.chunking;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.embeddings.chunking.ChunkWriter.Plan;
import io.ragline.embeddings.chunking.ChunkWriter.Stored;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChunkWriterTest {
    @Test
    void anUnchangedCutKeepsEveryRowWhereItIs() {
        Plan plan = ChunkWriter.plan(stored("a", "b", "c"), hashes("a", "b", "c"));

        assertThat(plan.kept()).isEqualTo(3);
        assertThat(plan.deleted()).isEmpty();
        assertThat(plan.moved()).isEmpty();
        assertThat(plan.inserted()).isEmpty();
    }

    @Test
    void aChangedChunkIsDeletedAndInsertedAndTheOthersStay() {
        Plan plan = ChunkWriter.plan(stored("a", "b", "c"), hashes("a", "B", "c"));

        assertThat(plan.deleted()).containsExactly(101L);
        assertThat(plan.inserted()).containsExactly(1);
        assertThat(plan.moved()).isEmpty();
        assertThat(plan.kept()).isEqualTo(2);
    }

    @Test
    void aChunkInsertedEarlyMovesTheRowsAfterItToTheirNewSeq() {
        Plan plan = ChunkWriter.plan(stored("a", "b", "c"), hashes("a", "new", "b", "c"));

        assertThat(plan.inserted()).containsExactly(1);
        assertThat(plan.moved()).containsExactly(101L, 102L);
        assertThat(plan.movedTo()).containsExactly(2, 3);
        assertThat(plan.deleted()).isEmpty();
    }

    @Test
    void aTextTwiceInTheNewCutKeepsOnlyAsManyRowsAsHeldItBefore() {
        Plan plan = ChunkWriter.plan(stored("x", "a", "x"), hashes("x", "x", "x", "a"));

        assertThat(plan.kept()).isEqualTo(3);
        assertThat(plan.moved()).containsExactly(102L, 101L);
        assertThat(plan.movedTo()).containsExactly(1, 3);
        assertThat(plan.inserted()).containsExactly(2);
        assertThat(plan.deleted()).isEmpty();
    }

    @Test
    void aTextThatCameFewerTimesDeletesTheRowsLeftOverAndSwappedRowsBothMove() {
        Plan plan = ChunkWriter.plan(stored("x", "x", "a", "b"), hashes("b", "a", "x"));

        assertThat(plan.moved()).containsExactly(103L, 102L, 100L);
        assertThat(plan.movedTo()).containsExactly(0, 1, 2);
        assertThat(plan.deleted()).containsExactly(101L);
        assertThat(plan.inserted()).isEmpty();
    }

    @Test
    void aRowWithoutAHashMatchesNothing() {
        List<Stored> stored = new ArrayList<>(stored("a"));
        stored.add(new Stored(200, 1, null));

        Plan plan = ChunkWriter.plan(stored, hashes("a", "b"));

        assertThat(plan.deleted()).containsExactly(200L);
        assertThat(plan.inserted()).containsExactly(1);
    }

    /** Rows with ids 100, 101, ... at seq 0, 1, ..., holding the given texts. */
    private static List<Stored> stored(String... texts) {
        List<Stored> out = new ArrayList<>();
        for (int i = 0; i < texts.length; i++) {
            out.add(new Stored(100 + i, i, ChunkWriter.sha256(texts[i])));
        }
        return out;
    }

    private static List<byte[]> hashes(String... texts) {
        List<byte[]> out = new ArrayList<>();
        for (String t : texts) {
            out.add(ChunkWriter.sha256(t));
        }
        return out;
    }
}
