package io.ragline.benchmarks.filtered;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class ClusteredVectorsTest {
    private final ClusteredVectors vectors = new ClusteredVectors(384, 50, 20, 19);

    private static double cosine(float[] a, float[] b) {
        double dot = 0;
        for (int d = 0; d < a.length; d++) {
            dot += a[d] * b[d];
        }
        return dot; // both unit vectors
    }

    @Test
    void everyVectorIsAUnitVectorOfTheAskedDimensions() {
        for (float[] v : new float[][] {vectors.chunk(0, 0), vectors.chunk(12345, 3), vectors.query(7)}) {
            assertThat(v).hasSize(384);
            assertThat(cosine(v, v)).isCloseTo(1.0, within(1e-5));
        }
    }

    @Test
    void theSameSeedAndPositionGiveTheSameVectorWhateverTheOrder() {
        ClusteredVectors again = new ClusteredVectors(384, 50, 20, 19);

        float[] later = again.chunk(999, 2);
        assertThat(again.chunk(3, 1)).isEqualTo(vectors.chunk(3, 1));
        assertThat(later).isEqualTo(vectors.chunk(999, 2));
        assertThat(new ClusteredVectors(384, 50, 20, 20).chunk(3, 1)).isNotEqualTo(vectors.chunk(3, 1));
    }

    @Test
    void chunksOfOneDocumentAreCloserThanChunksOfUnrelatedDocuments() {
        double sameDocument = 0;
        double unrelated = 0;
        int pairs = 0;
        for (long d = 0; d < 400 && pairs < 100; d++) {
            long other = d + 1;
            while (vectors.clusterOf(other) / 20 == vectors.clusterOf(d) / 20) { // another topic
                other++;
            }
            sameDocument += cosine(vectors.chunk(d, 0), vectors.chunk(d, 1));
            unrelated += cosine(vectors.chunk(d, 0), vectors.chunk(other, 0));
            pairs++;
        }

        assertThat(sameDocument / pairs).isBetween(0.5, 0.7);
        assertThat(unrelated / pairs).isBetween(0.0, 0.25);
    }

    @Test
    void aQueryIsNeverOneOfTheStoredVectors() {
        float[] q = vectors.query(0);
        for (long d = 0; d < 1000; d++) {
            assertThat(cosine(q, vectors.chunk(d, 0))).isLessThan(0.99);
        }
    }
}
