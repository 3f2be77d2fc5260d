package io.ragline.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import io.ragline.embeddings.EmbeddingException;
import org.junit.jupiter.api.Test;

/** The sorting of provider failures by their status; ModelRefusalIT checks it against the real openai provider. */
class ProviderFailureTest {
    private static final String URL = "http://127.0.0.1:8080/v1/embeddings";

    @Test
    void statusesThatBlameTheInputRefuseTheInput() {
        for (int status : new int[] {400, 413, 422}) {
            assertThat(ProviderFailure.of(refused(status))).isEqualTo(ProviderFailure.INPUT_REFUSED);
        }
    }

    @Test
    void statusesThatBlameTheWorkerAreConfiguration() {
        for (int status : new int[] {301, 401, 402, 403, 404, 405, 407, 410, 415}) {
            assertThat(ProviderFailure.of(refused(status)))
                    .as("HTTP %d", status)
                    .isEqualTo(ProviderFailure.MISCONFIGURED);
        }
        assertThat(ProviderFailure.of(
                        new EmbeddingException("POST " + URL + " answered 401 (model m); not retried", false)))
                .as("a message naming a status is not a status")
                .isEqualTo(ProviderFailure.INPUT_REFUSED);
    }

    @Test
    void retryableIsUnavailableWhateverItsMessage() {
        assertThat(ProviderFailure.of(
                        new EmbeddingException("POST " + URL + " failed 5 times, last: answered 401: no", true)))
                .isEqualTo(ProviderFailure.UNAVAILABLE);
    }

    @Test
    void failuresWithoutARefusingStatusRefuseTheInput() {
        assertThat(ProviderFailure.of(
                        new EmbeddingException("POST " + URL + " answered 200 with a body that is not JSON", false)))
                .isEqualTo(ProviderFailure.INPUT_REFUSED);
        assertThat(ProviderFailure.of(
                        new EmbeddingException("POST " + URL + " answered 100 embeddings for 101 inputs", false)))
                .isEqualTo(ProviderFailure.INPUT_REFUSED);
        assertThat(ProviderFailure.of(new EmbeddingException("embedding run failed on model m: boom", false)))
                .isEqualTo(ProviderFailure.INPUT_REFUSED);
        assertThat(ProviderFailure.httpStatus(new EmbeddingException(null, false)))
                .isEmpty();
    }

    private static EmbeddingException refused(int status) {
        return new EmbeddingException(
                "POST " + URL + " answered " + status + ": the server says no (model m); not retried", false, status);
    }
}
