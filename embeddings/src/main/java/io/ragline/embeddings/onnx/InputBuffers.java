package io.ragline.embeddings.onnx;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;

/**
 * Direct buffers of {@link OnnxEmbeddingModel}'s inputs (token ids, attention mask, token types),
 * reused by one thread across batches, so ONNX Runtime reads them without a copy.
 */
final class InputBuffers {
    private final LongBuffer ids;
    private final LongBuffer mask;
    private final LongBuffer zeros;

    InputBuffers(int capacity) {
        ids = direct(capacity);
        mask = direct(capacity);
        zeros = direct(capacity);
    }

    private static LongBuffer direct(int capacity) {
        return ByteBuffer.allocateDirect(capacity * Long.BYTES)
                .order(ByteOrder.nativeOrder())
                .asLongBuffer();
    }

    LongBuffer inputIds(int size) {
        return ids.clear().limit(size);
    }

    LongBuffer mask(int size) {
        return mask.clear().limit(size);
    }

    LongBuffer zeros(int size) {
        return zeros.clear().limit(size);
    }
}
